//! The plugin driven through nice-plug's `Plugin` trait, as a host would: parameters of the
//! report contract, bit-exact pass-through, `reset()` mid-bounce, and the real-time rules
//! (no allocation in `process()`/`reset()`) enforced with nice-plug's `assert_process_allocs`.

mod common;

use std::sync::atomic::Ordering;

use analyzer_core::capture::{CaptureState, list_bounces};
use common::{bits, interleave, signal};
use nice_plug::context::process::SendEventError;
use nice_plug::prelude::*;
use stemcheck_plugin::StemCheck;

struct HostCtx {
    transport: Transport,
}

impl ActivateContext<StemCheck> for HostCtx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: ()) {}
    fn set_latency_samples(&self, samples: u32) {
        assert_eq!(samples, 0, "StemCheck must report latency 0");
    }
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
    fn set_latency_samples(&self, samples: u32) {
        assert_eq!(samples, 0);
    }
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

/// Runs `process()` on `planar` in place, in blocks of `block`, with the transport playing
/// from `start` (or stopped when `start` is `None`); calls `reset()` before block `reset_at`.
fn run(
    plugin: &mut StemCheck,
    ctx: &mut HostCtx,
    planar: &mut [Vec<f32>],
    block: usize,
    start: Option<i64>,
    reset_at: Option<usize>,
) {
    let frames = planar[0].len();
    let mut offset = 0;
    let mut k = 0;
    let (left, right) = planar.split_at_mut(1);
    let (left, right) = (&mut left[0], &mut right[0]);
    while offset < frames {
        let n = block.min(frames - offset);
        ctx.transport.playing = start.is_some();
        ctx.transport.pos_samples = start.map(|s| s + offset as i64);
        if reset_at == Some(k) {
            plugin.reset();
        }
        // The host's buffer objects are set up outside the real-time rules (they are the
        // host's); only `process()` itself runs under `assert_no_alloc`.
        let (mut buffer, mut aux_in, mut aux_out) = nice_assert_no_alloc::permit_alloc(|| {
            let mut b = Buffer::default();
            // SAFETY: zero samples, no slices yet.
            unsafe { b.set_slices(0, |s| s.reserve(2)) };
            (b, Vec::<Buffer>::new(), Vec::<Buffer>::new())
        });
        let mut aux = AuxiliaryBuffers {
            inputs: &mut aux_in,
            outputs: &mut aux_out,
        };
        let l = &mut left[offset..offset + n];
        let r = &mut right[offset..offset + n];
        // SAFETY: both slices are `n` samples long and outlive the buffer.
        unsafe {
            buffer.set_slices(n, |slices| {
                slices.clear();
                slices.push(l);
                slices.push(r);
            });
        }
        assert_eq!(
            plugin.process(&mut buffer, &mut aux, ctx),
            ProcessStatus::Normal
        );
        nice_assert_no_alloc::permit_alloc(|| drop(buffer));
        offset += n;
        k += 1;
    }
}

fn activate(plugin: &mut StemCheck, ctx: &mut HostCtx, max_block: u32) {
    let layout = StemCheck::AUDIO_IO_LAYOUTS[0];
    let config = BufferConfig {
        sample_rate: 48_000.0,
        min_buffer_size: None,
        max_buffer_size: max_block,
        process_mode: ProcessMode::Realtime,
    };
    assert!(plugin.activate(&layout, &config, ctx));
    plugin.reset();
}

#[test]
fn role_is_a_two_step_parameter_with_the_contract_id() {
    let plugin = StemCheck::default();
    let params = plugin.params();
    let map = params.param_map();
    let (_, role, _) = map
        .iter()
        .find(|(id, _, _)| id == "role")
        .expect("parameter id `role`");
    // SAFETY: the pointer comes from the live `params` object above.
    unsafe {
        assert_eq!(role.step_count(), Some(1), "values 0 = stem, 1 = mix");
        assert_eq!(role.unmodulated_plain_value(), 0.0);
        assert_eq!(role.normalized_value_to_string(1.0, false), "Mix");
        assert!(role._internal_set_normalized_value(1.0));
        assert_eq!(role.unmodulated_plain_value(), 1.0);
    }
    assert!(map.iter().any(|(id, _, _)| id == "auto_arm"));
    // Label and host track name persist with the project.
    let fields = params.serialize_fields();
    assert!(fields.contains_key("label") && fields.contains_key("host_track_name"));
}

#[test]
fn audio_passes_bit_exact_capture_survives_reset_and_process_never_allocates() {
    let root = tempfile::tempdir().unwrap();
    // SAFETY: the only test in this binary that reads the variable; set before any plugin
    // activates and never changed afterwards.
    unsafe { std::env::set_var("STEMCHECK_CAPTURE_DIR", root.path()) };
    let mut plugin = StemCheck::default();
    let mut ctx = HostCtx {
        transport: Transport::new(48_000.0),
    };
    activate(&mut plugin, &mut ctx, 1024);

    let original = signal(40, 2, 30_000);
    let mut audio = original.clone();
    let mut silence = vec![vec![0.0f32; 4096]; 2];
    let mut second = signal(41, 2, 5_000);
    let second_original = second.clone();
    #[cfg(debug_assertions)]
    nice_assert_no_alloc::reset_violation_count();
    nice_assert_no_alloc::assert_no_alloc(|| {
        // Stopped: silence processed, nothing captured.
        run(&mut plugin, &mut ctx, &mut silence, 512, None, None);
        // Playing from 0 with a reset() in the middle of the bounce.
        run(&mut plugin, &mut ctx, &mut audio, 1024, Some(0), Some(7));
        // Stop, then a second take from a different position.
        run(&mut plugin, &mut ctx, &mut silence, 512, None, None);
        run(&mut plugin, &mut ctx, &mut second, 333, Some(96_000), None);
    });
    #[cfg(debug_assertions)]
    assert_eq!(
        nice_assert_no_alloc::violation_count(),
        0,
        "process()/reset() allocated"
    );

    // Output is the input, bit for bit.
    assert_eq!(bits(&interleave(&audio)), bits(&interleave(&original)));
    assert_eq!(
        bits(&interleave(&second)),
        bits(&interleave(&second_original))
    );
    assert!(silence.iter().flatten().all(|&x| x == 0.0));

    plugin.deactivate();
    let bounces = list_bounces(root.path());
    assert_eq!(bounces.len(), 2, "{bounces:#?}");
    let first = bounces
        .iter()
        .find(|b| b.captures[0].sidecar.timeline_start_samples == 0)
        .unwrap();
    let c = &first.captures[0];
    assert_eq!(c.sidecar.state, CaptureState::Complete);
    assert_eq!(c.sidecar.host, "clap");
    assert!(
        c.sidecar.label.starts_with("instance-"),
        "{}",
        c.sidecar.label
    );
    assert_eq!(
        bits(&common::read_wav(&c.wav_path).1),
        bits(&interleave(&original)),
        "reset() mid-bounce must not disturb the capture"
    );
    assert_eq!(
        plugin
            .shared()
            .capture
            .dropped_frames
            .load(Ordering::Relaxed),
        0
    );
}

/// Proves the guard above can fail: an allocation under `assert_no_alloc` is counted.
#[cfg(debug_assertions)]
#[test]
fn the_allocation_guard_is_live() {
    nice_assert_no_alloc::reset_violation_count();
    nice_assert_no_alloc::assert_no_alloc(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert!(nice_assert_no_alloc::violation_count() > 0);
}
