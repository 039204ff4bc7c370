//! Drives the StemCheck plugin in this process through nice-plug's `Plugin` trait, as a host's
//! wrapper does, but with full control over what a well-behaved wrapper would never do: zero
//! frame blocks, blocks longer than announced, `reset()` anywhere, timeline jumps, several
//! activations at different sample rates. The fault scenarios ([`crate::faults`]) use it; the
//! built bundles are tested through real hosts elsewhere in this crate.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use nice_plug::context::process::SendEventError;
use nice_plug::prelude::*;
use stemcheck_plugin::StemCheck;

use crate::signals::Planar;

/// The plugin reads `STEMCHECK_CAPTURE_DIR` in `activate()`: activations that set it are
/// serialised so each instance gets the root it was given, even from parallel tests.
static ENV: Mutex<()> = Mutex::new(());

struct HostCtx {
    transport: Transport,
}

impl ActivateContext<StemCheck> for HostCtx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: ()) {}
    fn set_latency_samples(&self, _samples: u32) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

impl ProcessContext<StemCheck> for HostCtx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute_background(&self, _task: ()) {}
    fn execute_gui(&self, _task: ()) {}
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn next_event(&mut self) -> Option<PluginNoteEvent<StemCheck>> {
        None
    }
    fn try_send_event(
        &mut self,
        event: PluginNoteEvent<StemCheck>,
    ) -> Result<(), (PluginNoteEvent<StemCheck>, SendEventError)> {
        Err((event, SendEventError::NoOutputBuffer))
    }
    fn set_latency_samples(&self, _samples: u32) {}
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

/// One stereo StemCheck instance and the host state around it.
pub struct Driven {
    pub plugin: StemCheck,
    ctx: HostCtx,
    /// Samples of the plugin's output that differed from its input, over all blocks.
    pub altered_samples: u64,
}

impl Driven {
    /// A new instance, armed for playback capture ([`Self::arm_playback`]); `label` is restored as a project would restore it (the persisted
    /// `label` field).
    pub fn new(label: Option<&str>) -> Self {
        let plugin = StemCheck::default();
        if let Some(label) = label {
            let mut fields = BTreeMap::new();
            fields.insert(
                "label".to_string(),
                serde_json::to_string(label).expect("a string serialises"),
            );
            plugin.params().deserialize_fields(&fields);
        }
        let mut driven = Self {
            plugin,
            ctx: HostCtx {
                transport: Transport::new(48_000.0),
            },
            altered_samples: 0,
        };
        driven.arm_playback();
        driven
    }

    /// Activates for `rate` and blocks of at most `max_block` frames with captures going to
    /// `root` (`None`: the variable set but empty, so the plugin falls back to its default).
    pub fn activate(&mut self, root: &Path, rate: u32, max_block: u32, mode: ProcessMode) {
        let config = BufferConfig {
            sample_rate: rate as f32,
            min_buffer_size: None,
            max_buffer_size: max_block,
            process_mode: mode,
        };
        self.ctx.transport = Transport::new(rate as f32);
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: every writer of the variable in this process holds `ENV`; the plugin reads
        // it in `activate()` below, under the same lock.
        unsafe { std::env::set_var("STEMCHECK_CAPTURE_DIR", root) };
        let layout = StemCheck::AUDIO_IO_LAYOUTS[0];
        assert!(self.plugin.activate(&layout, &config, &mut self.ctx));
        self.plugin.reset();
    }

    /// Turns on "Arm playback capture": real-time passes are kept from their first block (the
    /// fault scenarios are bounces; unarmed real-time playback is not kept at all).
    pub fn arm_playback(&mut self) {
        let params = self.plugin.params();
        let map = params.param_map();
        let (_, arm, _) = map
            .iter()
            .find(|(id, _, _)| id == "arm_playback")
            .expect("parameter id `arm_playback`");
        // SAFETY: the pointer comes from the live `params` object above.
        let set = unsafe { arm._internal_set_normalized_value(1.0) };
        assert!(set, "arm_playback accepts 1.0");
    }

    pub fn deactivate(&mut self) {
        self.plugin.deactivate();
    }

    /// One `process()` call on `frames` frames of `audio` from `offset` (in place, as hosts
    /// do), with the transport as given. Counts output samples that differ from the input.
    pub fn block(
        &mut self,
        audio: &mut Planar,
        offset: usize,
        frames: usize,
        playing: bool,
        position_samples: Option<i64>,
    ) {
        self.ctx.transport.playing = playing;
        self.ctx.transport.pos_samples = position_samples;
        let before: Vec<u32> = audio
            .iter()
            .flat_map(|c| c[offset..offset + frames].iter().map(|x| x.to_bits()))
            .collect();
        let (left, right) = audio.split_at_mut(1);
        let l = &mut left[0][offset..offset + frames];
        let r = &mut right[0][offset..offset + frames];
        let mut buffer = Buffer::default();
        // SAFETY: both slices are `frames` samples long and outlive `buffer`.
        unsafe {
            buffer.set_slices(frames, |slices| {
                slices.clear();
                slices.push(l);
                slices.push(r);
            });
        }
        let mut aux_in: Vec<Buffer> = Vec::new();
        let mut aux_out: Vec<Buffer> = Vec::new();
        let mut aux = AuxiliaryBuffers {
            inputs: &mut aux_in,
            outputs: &mut aux_out,
        };
        let status = self.plugin.process(&mut buffer, &mut aux, &mut self.ctx);
        drop(buffer);
        assert!(matches!(status, ProcessStatus::Normal), "{status:?}");
        let after = audio
            .iter()
            .flat_map(|c| c[offset..offset + frames].iter().map(|x| x.to_bits()));
        self.altered_samples += before.iter().zip(after).filter(|(a, b)| **a != *b).count() as u64;
    }

    /// Plays all of `audio` in blocks of `sizes` (cycled), the transport playing from
    /// `start_samples`. `between` runs before every block (a host's extra calls).
    pub fn play(
        &mut self,
        audio: &mut Planar,
        sizes: &[usize],
        start_samples: i64,
        mut between: impl FnMut(&mut Self, usize),
    ) {
        let frames = audio[0].len();
        let mut offset = 0;
        let mut k = 0;
        while offset < frames {
            between(self, k);
            let n = sizes[k % sizes.len()].min(frames - offset);
            self.block(audio, offset, n, true, Some(start_samples + offset as i64));
            offset += n;
            k += 1;
        }
    }

    /// The error the editor shows (the capture status it reads).
    pub fn editor_error(&self) -> Option<String> {
        self.plugin.shared().capture.info.lock().last_error.clone()
    }
}
