//! The plugin driven through nice-plug's `Plugin` trait, as a host would: parameters of the
//! report contract, bit-exact pass-through, `reset()` mid-bounce, and the real-time rules
//! (no allocation in `process()`/`reset()`) enforced with nice-plug's `assert_process_allocs`.
//!
//! The allocation checks need `debug_assertions`: nice-plug installs its counting allocator
//! (`nice_assert_no_alloc::AllocDisabler`) only in debug builds with `assert_process_allocs`
//! on, and `nice_assert_no_alloc` compiles to a no-op in release. So they run with
//! `cargo test -p stemcheck-plugin` (debug profile), not with `--release`;
//! `a_process_that_allocates_is_caught` proves the check is live in that run.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use analyzer_core::capture::{CaptureEntry, CaptureState, list_bounces};
use common::{bits, interleave, signal};
use nice_plug::context::process::SendEventError;
use nice_plug::prelude::*;
use stemcheck_plugin::StemCheck;

struct HostCtx {
    transport: Transport,
}

impl<P: Plugin> ActivateContext<P> for HostCtx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: P::BackgroundTask) {}
    fn set_latency_samples(&self, samples: u32) {
        assert_eq!(samples, 0, "StemCheck must report latency 0");
    }
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

impl<P: Plugin> ProcessContext<P> for HostCtx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute_background(&self, _task: P::BackgroundTask) {}
    fn execute_gui(&self, _task: P::BackgroundTask) {}
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn next_event(&mut self) -> Option<PluginNoteEvent<P>> {
        None
    }
    fn try_send_event(
        &mut self,
        event: PluginNoteEvent<P>,
    ) -> Result<(), (PluginNoteEvent<P>, SendEventError)> {
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
fn run<P: Plugin>(
    plugin: &mut P,
    ctx: &mut HostCtx,
    planar: &mut [Vec<f32>],
    block: usize,
    start: Option<i64>,
    reset_at: Option<usize>,
) {
    run_at(plugin, ctx, planar, block, start, start.is_some(), reset_at);
}

/// [`run`] with the playing flag given separately: a stopped transport parked at `start`
/// (`playing` false, the position repeated every block) when `start` is set.
fn run_at<P: Plugin>(
    plugin: &mut P,
    ctx: &mut HostCtx,
    planar: &mut [Vec<f32>],
    block: usize,
    start: Option<i64>,
    playing: bool,
    reset_at: Option<usize>,
) {
    let frames = planar[0].len();
    let mut offset = 0;
    let mut k = 0;
    let (left, right) = planar.split_at_mut(1);
    let (left, right) = (&mut left[0], &mut right[0]);
    while offset < frames {
        let n = block.min(frames - offset);
        ctx.transport.playing = playing;
        ctx.transport.pos_samples = if playing {
            start.map(|s| s + offset as i64)
        } else {
            start
        };
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

fn activate<P: Plugin>(plugin: &mut P, ctx: &mut HostCtx, max_block: u32, mode: ProcessMode) {
    let layout = P::AUDIO_IO_LAYOUTS[0];
    let config = BufferConfig {
        sample_rate: 48_000.0,
        min_buffer_size: None,
        max_buffer_size: max_block,
        process_mode: mode,
    };
    assert!(plugin.activate(&layout, &config, ctx));
    plugin.reset();
}

/// The capture root of every plugin in this test binary: `STEMCHECK_CAPTURE_DIR` is read at
/// activation, so it is set once, before any plugin activates, and never changed.
fn capture_root() -> &'static Path {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: set once under the `OnceLock`, before any reader in this binary.
        unsafe { std::env::set_var("STEMCHECK_CAPTURE_DIR", dir.path()) };
        dir
    })
    .path()
}

/// Turns on "Arm playback capture": real-time passes are kept (unarmed real-time playback is
/// kept only when it proves to be a render, which these short passes cannot).
fn arm_playback(plugin: &StemCheck) {
    let params = plugin.params();
    let map = params.param_map();
    let (_, arm, _) = map
        .iter()
        .find(|(id, _, _)| id == "arm_playback")
        .expect("parameter id `arm_playback`");
    // SAFETY: the pointer comes from the live `params` object above.
    assert!(unsafe { arm._internal_set_normalized_value(1.0) });
}

/// The captures `plugin` made, one per bounce. Tests run in parallel and share the capture
/// root, so two of them bouncing from the same position at once share a bounce folder.
fn captures_of(plugin: &StemCheck) -> Vec<CaptureEntry> {
    list_bounces(capture_root())
        .into_iter()
        .flat_map(|b| b.captures)
        .filter(|c| c.sidecar.instance_id == plugin.instance_id())
        .collect()
}

/// Runs `f` under `assert_no_alloc` and returns how many (de)allocations it attempted
/// (`nice_assert_no_alloc`'s warn mode counts them instead of aborting, so a failure names
/// the test). `None` in release builds, where the check is compiled out (module docs).
fn allocations_in(f: impl FnOnce()) -> Option<u32> {
    #[cfg(debug_assertions)]
    {
        nice_assert_no_alloc::reset_violation_count();
        nice_assert_no_alloc::assert_no_alloc(f);
        Some(nice_assert_no_alloc::violation_count())
    }
    #[cfg(not(debug_assertions))]
    {
        f();
        None
    }
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
    // VST3 hosts index parameters in declaration order: `role` stays the first.
    assert_eq!(map[0].0, "role");
    for id in ["ceiling", "target", "meter_reset"] {
        assert!(map.iter().any(|(i, _, _)| i == id), "parameter {id}");
    }
    // Label and host track name persist with the project.
    let fields = params.serialize_fields();
    assert!(fields.contains_key("label") && fields.contains_key("host_track_name"));
}

#[test]
fn analyser_settings_are_kept_with_the_project() {
    use stemcheck_plugin::params::{AnalyserPrefs, PeakHoldPref, StemCheckParams};
    use stemcheck_plugin::spectrum::ChannelView;

    let saved = StemCheckParams::default();
    let chosen = AnalyserPrefs {
        view: ChannelView::Side,
        octave_fraction: 24.0,
        tilt_db_per_octave: 4.5,
        hold: PeakHoldPref::UntilCleared,
    };
    *saved.analyser.write() = chosen;
    let fields = saved.serialize_fields();
    let stored = fields
        .get("analyser")
        .expect("analyser settings are persisted");
    assert!(
        stored.contains("\"side\"") && stored.contains("until_cleared"),
        "{stored}"
    );

    let loaded = StemCheckParams::default();
    assert_eq!(*loaded.analyser.read(), AnalyserPrefs::default());
    loaded.deserialize_fields(&fields);
    assert_eq!(*loaded.analyser.read(), chosen);

    // A project from before the field, or a damaged value, falls back to sane settings.
    let mut partial = std::collections::BTreeMap::new();
    partial.insert(
        "analyser".to_string(),
        r#"{"view":"left_right","octave_fraction":-3,"tilt_db_per_octave":99}"#.to_string(),
    );
    let old = StemCheckParams::default();
    old.deserialize_fields(&partial);
    assert_eq!(
        old.analyser.read().tilt_db_per_octave,
        99.0,
        "the stored value is read"
    );
    let restored = old.analyser.read().sanitized();
    assert_eq!(
        restored.tilt_db_per_octave,
        AnalyserPrefs::default().tilt_db_per_octave
    );
    assert_eq!(
        restored.octave_fraction,
        AnalyserPrefs::default().octave_fraction
    );
    assert_eq!(restored.view, ChannelView::LeftRight);
    let mut older = std::collections::BTreeMap::new();
    older.insert(
        "analyser".to_string(),
        r#"{"view":"left_right"}"#.to_string(),
    );
    let old = StemCheckParams::default();
    old.deserialize_fields(&older);
    let restored = *old.analyser.read();
    assert_eq!(restored.view, ChannelView::LeftRight);
    assert_eq!(restored.hold, PeakHoldPref::TwoSeconds);
}

#[test]
fn audio_passes_bit_exact_capture_survives_reset_and_process_never_allocates() {
    capture_root();
    let mut plugin = StemCheck::default();
    let mut ctx = HostCtx {
        transport: Transport::new(48_000.0),
    };
    arm_playback(&plugin);
    activate(&mut plugin, &mut ctx, 1024, ProcessMode::Realtime);

    let original = signal(40, 2, 30_000);
    let mut audio = original.clone();
    let mut silence = vec![vec![0.0f32; 4096]; 2];
    let mut second = signal(41, 2, 5_000);
    let second_original = second.clone();
    let bounce = || {
        // Stopped: silence processed, nothing captured.
        run(&mut plugin, &mut ctx, &mut silence, 512, None, None);
        // Playing from 0 with a reset() in the middle of the bounce.
        run(&mut plugin, &mut ctx, &mut audio, 1024, Some(0), Some(7));
        // Stop, then a second take from a different position.
        run(&mut plugin, &mut ctx, &mut silence, 512, None, None);
        run(&mut plugin, &mut ctx, &mut second, 333, Some(96_000), None);
    };
    let allocations = allocations_in(bounce);
    assert_eq!(allocations.unwrap_or(0), 0, "process()/reset() allocated");

    // Output is the input, bit for bit.
    assert_eq!(bits(&interleave(&audio)), bits(&interleave(&original)));
    assert_eq!(
        bits(&interleave(&second)),
        bits(&interleave(&second_original))
    );
    assert!(silence.iter().flatten().all(|&x| x == 0.0));

    plugin.deactivate();
    let captures = captures_of(&plugin);
    assert_eq!(captures.len(), 2, "{captures:#?}");
    assert_ne!(captures[0].sidecar.bounce_id, captures[1].sidecar.bounce_id);
    let c = captures
        .iter()
        .find(|c| c.sidecar.timeline_start_samples == 0)
        .unwrap();
    assert_eq!(c.sidecar.state, CaptureState::Complete);
    assert_eq!(c.sidecar.host, "clap");
    assert!(
        c.sidecar.label.starts_with("instance-"),
        "{}",
        c.sidecar.label
    );
    assert!(
        bits(&common::read_wav(&c.wav_path).1) == bits(&interleave(&original)),
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

/// An offline render through the plugin API with the stopped-transport calls around it (the
/// hold buffer path of the capture engine): one exact capture, and no allocation in
/// `process()` on any path, including the offline wait for the writer.
#[test]
fn offline_render_with_stopped_calls_is_captured_exactly_without_allocating() {
    capture_root();
    let mut plugin = StemCheck::default();
    let mut ctx = HostCtx {
        transport: Transport::new(48_000.0),
    };
    activate(&mut plugin, &mut ctx, 2048, ProcessMode::Offline);
    let original = signal(42, 2, 40_000);
    let mut audio = original.clone();
    let mut parked = signal(43, 2, 4_096);
    let parked_original = parked.clone();
    let render = || {
        run_at(
            &mut plugin,
            &mut ctx,
            &mut parked,
            512,
            Some(0),
            false,
            None,
        );
        run(&mut plugin, &mut ctx, &mut audio, 2048, Some(0), None);
        run_at(
            &mut plugin,
            &mut ctx,
            &mut parked,
            512,
            Some(0),
            false,
            None,
        );
    };
    let allocations = allocations_in(render);
    assert_eq!(allocations.unwrap_or(0), 0, "process() allocated offline");
    assert_eq!(bits(&interleave(&audio)), bits(&interleave(&original)));
    assert_eq!(
        bits(&interleave(&parked)),
        bits(&interleave(&parked_original))
    );
    plugin.deactivate();
    let captures = captures_of(&plugin);
    assert_eq!(captures.len(), 1, "{captures:#?}");
    let c = &captures[0];
    assert_eq!(c.sidecar.state, CaptureState::Complete);
    let got = bits(&common::read_wav(&c.wav_path).1);
    let want = bits(&interleave(&original));
    assert_eq!(got.len(), want.len(), "exactly the rendered frames");
    let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "first differing sample");
}

/// One `process()` call with zero frames at `position` (playing), as some hosts send.
fn run_zero_frames<P: Plugin>(plugin: &mut P, ctx: &mut HostCtx, position: i64) {
    ctx.transport.playing = true;
    ctx.transport.pos_samples = Some(position);
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
    let (mut l, mut r) = ([0.0f32; 0], [0.0f32; 0]);
    // SAFETY: both slices are zero samples long, as the buffer says, and outlive it.
    unsafe {
        buffer.set_slices(0, |slices| {
            slices.clear();
            slices.push(&mut l);
            slices.push(&mut r);
        });
    }
    assert_eq!(
        plugin.process(&mut buffer, &mut aux, ctx),
        ProcessStatus::Normal
    );
    nice_assert_no_alloc::permit_alloc(|| drop(buffer));
}

/// Host misuse under the real-time rules, in both process modes: zero-frame calls, blocks 16
/// times longer than the announced maximum and a `reset()` mid-bounce never allocate in
/// `process()`, the audio passes bit for bit and the capture holds every frame.
#[test]
fn misbehaving_host_calls_never_allocate_and_lose_nothing() {
    capture_root();
    for (i, mode) in [ProcessMode::Realtime, ProcessMode::Offline]
        .into_iter()
        .enumerate()
    {
        let mut plugin = StemCheck::default();
        let mut ctx = HostCtx {
            transport: Transport::new(48_000.0),
        };
        arm_playback(&plugin);
        activate(&mut plugin, &mut ctx, 256, mode);
        let original = signal(46 + i as u64, 2, 20_000);
        let mut audio = original.clone();
        // A position no other test of this binary starts at (they share the capture root).
        let start = 7_000_000 + i as i64 * 1_000_000;
        let misuse = || {
            run_zero_frames(&mut plugin, &mut ctx, start);
            run(
                &mut plugin,
                &mut ctx,
                &mut audio,
                4096,
                Some(start),
                Some(2),
            );
            run_zero_frames(&mut plugin, &mut ctx, start + 20_000);
        };
        let allocations = allocations_in(misuse);
        assert_eq!(allocations.unwrap_or(0), 0, "{mode:?}: process() allocated");
        assert_eq!(bits(&interleave(&audio)), bits(&interleave(&original)));
        plugin.deactivate();
        let captures = captures_of(&plugin);
        assert_eq!(captures.len(), 1, "{mode:?}: {captures:#?}");
        let c = &captures[0];
        assert_eq!(c.sidecar.state, CaptureState::Complete);
        assert_eq!(c.sidecar.timeline_start_samples, start);
        assert_eq!(
            bits(&common::read_wav(&c.wav_path).1),
            bits(&interleave(&original)),
            "{mode:?}"
        );
    }
}

/// A test-only plugin whose `process()` allocates, like a careless `Vec::new()` on the audio
/// thread would. Debug builds only, like the check that catches it.
#[cfg(debug_assertions)]
#[derive(Default)]
struct Allocating {
    params: std::sync::Arc<NoParams>,
}

#[cfg(debug_assertions)]
#[derive(Params, Default)]
struct NoParams {}

#[cfg(debug_assertions)]
impl Plugin for Allocating {
    const NAME: &'static str = "Allocating";
    const VENDOR: &'static str = "test";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = "0";
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = StemCheck::AUDIO_IO_LAYOUTS;
    type SysExMessage = ();
    type BackgroundTask = ();
    type Editor = ();

    fn params(&self) -> std::sync::Arc<dyn Params> {
        self.params.clone()
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let copy: Vec<f32> = buffer.as_slice_immutable()[0].to_vec();
        std::hint::black_box(copy);
        ProcessStatus::Normal
    }
}

/// Proves the check above is live in this build: the same harness, guard and counting
/// allocator catch a `process()` that allocates.
#[cfg(debug_assertions)]
#[test]
fn a_process_that_allocates_is_caught() {
    let mut plugin = Allocating::default();
    let mut ctx = HostCtx {
        transport: Transport::new(48_000.0),
    };
    activate(&mut plugin, &mut ctx, 512, ProcessMode::Realtime);
    let mut audio = signal(44, 2, 2_048);
    let allocations = allocations_in(|| {
        run(&mut plugin, &mut ctx, &mut audio, 512, Some(0), None);
    });
    // One allocation and one free per block.
    assert_eq!(allocations, Some(8));
}

/// The meter parameters a host automates: the ceiling is a continuous dBTP value with the
/// `mastering` profile's default, and each rise of `meter_reset` during `process()` reaches the
/// editor's side (a counter and a marker in the loudness blocks), without allocating.
#[test]
fn meter_parameters_are_automatable_and_reset_edges_reach_the_editor() {
    capture_root();
    let mut plugin = StemCheck::default();
    let params = plugin.params();
    let map = params.param_map();
    let find = |id: &str| map.iter().find(|(i, _, _)| i == id).unwrap().1;
    let (ceiling, reset) = (find("ceiling"), find("meter_reset"));
    // SAFETY: the pointers come from the live `params` object above.
    unsafe {
        assert_eq!(ceiling.step_count(), None, "a continuous parameter");
        assert_eq!(ceiling.unmodulated_plain_value(), -1.0);
        for p in [ceiling, reset] {
            assert!(!p.flags().contains(ParamFlags::NON_AUTOMATABLE));
        }
    }
    let mut ctx = HostCtx {
        transport: Transport::new(48_000.0),
    };
    activate(&mut plugin, &mut ctx, 512, ProcessMode::Realtime);
    let mut audio = signal(7, 2, 4_800);
    let shared = plugin.shared().clone();
    let allocations = allocations_in(|| {
        run(&mut plugin, &mut ctx, &mut audio, 512, None, None);
        // SAFETY: as above; a host sets parameters between blocks.
        unsafe { reset._internal_set_normalized_value(1.0) };
        run(&mut plugin, &mut ctx, &mut audio, 512, None, None);
        // Held on: no further edge.
        run(&mut plugin, &mut ctx, &mut audio, 512, None, None);
        unsafe { reset._internal_set_normalized_value(0.0) };
        run(&mut plugin, &mut ctx, &mut audio, 512, None, None);
        unsafe { reset._internal_set_normalized_value(1.0) };
        run(&mut plugin, &mut ctx, &mut audio, 512, None, None);
    });
    assert_eq!(allocations.unwrap_or(0), 0, "process() allocated");
    assert_eq!(shared.meters.reset_requests.load(Ordering::Acquire), 2);
    let mut ring = shared.loudness_blocks.lock();
    let consumer = ring.as_mut().unwrap();
    let mut resets = 0;
    let mut steps = 0;
    while let Ok(block) = consumer.pop() {
        match block {
            stemcheck_plugin::shared::LoudnessBlock::Reset => resets += 1,
            stemcheck_plugin::shared::LoudnessBlock::Step { .. } => steps += 1,
        }
    }
    // 5 x 4800 frames at 48 kHz: five 100 ms steps.
    assert_eq!((resets, steps), (2, 5));
}
