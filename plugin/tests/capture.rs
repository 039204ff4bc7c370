//! The capture path end to end: engine -> rings -> writer -> WAV + sidecar on disk.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use analyzer_core::capture::{
    CaptureRole, CaptureState, DiscontinuityAction, ProcessMode, read_sidecar,
};
use common::*;
use stemcheck_plugin::capture::StreamFormat;
use stemcheck_plugin::capture::engine::CaptureEngine;
use stemcheck_plugin::capture::writer::{Writer, WriterConfig};
use stemcheck_plugin::shared::CaptureStatus;

#[test]
fn every_block_size_from_1_to_16384_is_captured_bit_exact() {
    let root = tempfile::tempdir().unwrap();
    let sizes: [&[usize]; 7] = [
        &[1],
        &[7],
        &[64],
        &[511],
        &[8192],
        &[16384],
        &[1, 16384, 3, 4096, 100, 8191, 2],
    ];
    for (i, sizes) in sizes.iter().enumerate() {
        let dir = root.path().join(format!("run{i}"));
        let frames = if sizes == &[1] { 6_000 } else { 40_000 };
        let input = signal(i as u64, 2, frames);
        let mut e = engine(&dir, "Drums", 2, ProcessMode::Offline, 16_384);
        feed(&mut e, &input, sizes, 0, stem_block(false, None));
        e.deactivate();
        let b = bounces(&dir);
        assert_eq!(b.len(), 1, "sizes {sizes:?}");
        let (ch, got) = read_wav(&only_wav(&b[0]));
        assert_eq!(ch, 2);
        assert_eq!(bits(&got), bits(&interleave(&input)), "sizes {sizes:?}");
        let s = &b[0].captures[0].sidecar;
        assert_eq!(s.state, CaptureState::Complete);
        assert_eq!(s.length_frames, frames as u64);
        assert_eq!(s.dropped_frames, 0);
        assert!(s.discontinuities.is_empty());
        assert_eq!(s.timeline_start_samples, 0);
        assert_eq!(s.process_mode, ProcessMode::Offline);
    }
}

#[test]
fn stopped_transport_is_not_captured_and_a_second_bounce_gets_its_own_folder() {
    let root = tempfile::tempdir().unwrap();
    let mut e = armed_engine(root.path(), "Bass", 1, ProcessMode::Realtime, 512);
    let silence = vec![vec![0.0f32; 2048]];
    // Hosts process silence while stopped: nothing is written.
    feed(&mut e, &silence, &[512], 0, stem_block(false, None));
    let first = signal(1, 1, 10_000);
    let second = signal(2, 1, 7_000);
    feed(&mut e, &first, &[512], 0, stem_block(true, None));
    feed(&mut e, &silence, &[512], 0, stem_block(false, None));
    feed(&mut e, &second, &[512], 0, stem_block(true, None));
    e.deactivate();
    let b = bounces(root.path());
    assert_eq!(b.len(), 2, "{b:#?}");
    assert_ne!(b[0].path, b[1].path);
    assert_eq!(bits(&read_wav(&only_wav(&b[0])).1), bits(&first[0]));
    assert_eq!(bits(&read_wav(&only_wav(&b[1])).1), bits(&second[0]));
}

#[test]
fn short_forward_jump_is_padded_and_recorded() {
    let root = tempfile::tempdir().unwrap();
    let mut e = engine(root.path(), "Keys", 2, ProcessMode::Offline, 1024);
    let a = signal(3, 2, 4_096);
    let c = signal(4, 2, 4_096);
    feed(&mut e, &a, &[1024], 1_000, stem_block(true, None));
    // The host skips 300 samples (a seek within MAX_PAD_SECONDS).
    feed(
        &mut e,
        &c,
        &[1024],
        1_000 + 4_096 + 300,
        stem_block(true, None),
    );
    e.deactivate();
    let b = bounces(root.path());
    assert_eq!(b.len(), 1);
    let (_, got) = read_wav(&only_wav(&b[0]));
    let mut want = interleave(&a);
    want.extend(std::iter::repeat_n(0.0, 300 * 2));
    want.extend(interleave(&c));
    assert_eq!(bits(&got), bits(&want));
    let s = &b[0].captures[0].sidecar;
    assert_eq!(s.timeline_start_samples, 1_000);
    assert_eq!(s.discontinuities.len(), 1);
    let d = &s.discontinuities[0];
    assert_eq!(d.action, DiscontinuityAction::PaddedWithSilence);
    assert_eq!(
        (
            d.file_frame,
            d.expected_position_samples,
            d.position_samples,
            d.length_frames
        ),
        (4_096, 5_096, 5_396, 300)
    );
}

#[test]
fn loop_back_ends_the_capture_and_starts_a_new_bounce() {
    let root = tempfile::tempdir().unwrap();
    let mut e = armed_engine(root.path(), "Vox", 2, ProcessMode::Realtime, 256);
    let pass1 = signal(5, 2, 3_000);
    let pass2 = signal(6, 2, 3_000);
    feed(&mut e, &pass1, &[256], 48_000, stem_block(true, None));
    feed(&mut e, &pass2, &[256], 48_000, stem_block(true, None));
    e.deactivate();
    let b = bounces(root.path());
    assert_eq!(b.len(), 2);
    assert_eq!(
        bits(&read_wav(&only_wav(&b[0])).1),
        bits(&interleave(&pass1))
    );
    assert_eq!(
        bits(&read_wav(&only_wav(&b[1])).1),
        bits(&interleave(&pass2))
    );
    let s = &b[0].captures[0].sidecar;
    assert_eq!(s.discontinuities.len(), 1);
    assert_eq!(
        s.discontinuities[0].action,
        DiscontinuityAction::EndedCapture
    );
    assert_eq!(s.discontinuities[0].expected_position_samples, 51_000);
    assert_eq!(s.discontinuities[0].position_samples, 48_000);
}

#[test]
fn stalled_realtime_transport_ends_the_capture() {
    let root = tempfile::tempdir().unwrap();
    let mut e = armed_engine(root.path(), "Gtr", 1, ProcessMode::Realtime, 256);
    let a = signal(7, 1, 1_024);
    feed(&mut e, &a, &[256], 0, stem_block(true, None));
    // Playing, but the position is stuck at the last block's start: not a bounce.
    let stuck = signal(8, 1, 256);
    for _ in 0..4 {
        let block: Vec<&[f32]> = stuck.iter().map(|c| &c[..]).collect();
        e.process(&block, 256, stem_block(true, Some(768)));
    }
    assert!(!e.is_capturing());
    e.deactivate();
    let b = bounces(root.path());
    assert_eq!(b.len(), 1);
    assert_eq!(bits(&read_wav(&only_wav(&b[0])).1), bits(&a[0]));
    assert_eq!(b[0].captures[0].sidecar.state, CaptureState::Complete);
}

/// Ardour-style export: real-time mode, negative pre-roll, 8192-frame blocks, faster than real
/// time; plus REAPER-style parallel instances on their own threads, and a mix instance.
#[test]
fn parallel_instances_share_one_bounce_and_each_is_bit_exact() {
    let root = tempfile::tempdir().unwrap();
    let frames = 3 * RATE as usize;
    let stems: Vec<Vec<Vec<f32>>> = (0..3).map(|i| signal(10 + i, 2, frames)).collect();
    let mix: Vec<Vec<f32>> = (0..2)
        .map(|c| {
            (0..frames)
                .map(|f| stems.iter().map(|s| s[c][f]).sum())
                .collect()
        })
        .collect();
    let labels = ["Drums", "Drums", "Bass", "Mix bus"];
    let mut inputs = stems.clone();
    inputs.push(mix);
    let threads: Vec<_> = inputs
        .iter()
        .cloned()
        .zip(labels)
        .enumerate()
        .map(|(i, (input, label))| {
            let root = root.path().to_path_buf();
            std::thread::spawn(move || {
                let mut e = armed_engine(&root, label, 2, ProcessMode::Realtime, 8192);
                let mut info = stem_block(true, None);
                if i == 3 {
                    info.role = Some(CaptureRole::Mix);
                }
                feed(&mut e, &input, &[8192, 4000, 8192], -1776, info);
                e.deactivate();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let b = bounces(root.path());
    assert_eq!(b.len(), 1, "{b:#?}");
    let bounce = &b[0];
    assert_eq!(bounce.captures.len(), 4);
    let mut names: Vec<_> = bounce
        .captures
        .iter()
        .map(|c| c.sidecar.wav_file.clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Bass.wav", "Drums-2.wav", "Drums.wav", "Mix_bus.wav"]
    );
    for c in &bounce.captures {
        assert_eq!(c.sidecar.state, CaptureState::Complete);
        assert_eq!(c.sidecar.timeline_start_samples, -1776);
        assert_eq!(c.sidecar.dropped_frames, 0);
        assert_eq!(c.sidecar.bounce_id, bounce.bounce_id);
        let got = bits(&read_wav(&c.wav_path).1);
        // Each capture equals exactly one of the inputs fed (labels repeat, so match by data).
        assert!(
            inputs.iter().any(|i| bits(&interleave(i)) == got),
            "{} matches no input",
            c.sidecar.wav_file
        );
    }
    assert_eq!(bounce.mix().unwrap().sidecar.label, "Mix bus");
}

fn writer_config(root: &std::path::Path, status: &Arc<CaptureStatus>) -> WriterConfig {
    WriterConfig::new(
        Some(root.to_path_buf()),
        "drop-test".into(),
        "test".into(),
        Box::new(|| "Drop".into()),
        status.clone(),
    )
}

#[test]
fn realtime_overflow_is_counted_reported_and_keeps_the_timeline() {
    let root = tempfile::tempdir().unwrap();
    let status = Arc::new(CaptureStatus::default());
    let mut engine = CaptureEngine::inactive(status.clone());
    let format = StreamFormat {
        sample_rate: RATE,
        channels: 1,
    };
    let ends = engine.activate_with_capacity(format, 1_024, ProcessMode::Realtime);
    arm_session(root.path(), &status);
    let input = signal(20, 1, 4_096);
    // No writer is draining yet: the first 1024 frames fit, the rest overflow.
    for (k, block) in input[0].chunks(256).enumerate() {
        engine.process(
            &[block],
            block.len(),
            stem_block(true, Some(k as i64 * 256)),
        );
    }
    let dropped = status
        .dropped_frames
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(dropped, 3_072);
    engine.deactivate();
    Writer::new(ends, writer_config(root.path(), &status)).run();

    let b = bounces(root.path());
    let s = &b[0].captures[0].sidecar;
    assert_eq!(s.dropped_frames, 3_072);
    assert_eq!(s.length_frames, 4_096, "dropped frames are kept as silence");
    assert_eq!(s.discontinuities.len(), 1);
    assert_eq!(
        s.discontinuities[0].action,
        DiscontinuityAction::DroppedFrames
    );
    assert_eq!(s.discontinuities[0].file_frame, 1_024);
    let got = read_wav(&only_wav(&b[0])).1;
    assert_eq!(bits(&got[..1_024]), bits(&input[0][..1_024]));
    assert!(got[1_024..].iter().all(|&x| x == 0.0));
    assert!(s.is_incomplete(analyzer_core::capture::now_unix_ms()));
}

#[test]
fn offline_never_drops_even_with_a_tiny_ring_and_huge_blocks() {
    let root = tempfile::tempdir().unwrap();
    let status = Arc::new(CaptureStatus::default());
    let mut engine = CaptureEngine::inactive(status.clone());
    let format = StreamFormat {
        sample_rate: RATE,
        channels: 2,
    };
    let ends = engine.activate_with_capacity(format, 300, ProcessMode::Offline);
    let writer = Writer::new(ends, writer_config(root.path(), &status))
        .spawn()
        .unwrap();
    let input = signal(21, 2, 50_000);
    let mut offset = 0;
    for n in [16_384usize, 1, 9_999, 16_384].iter().cycle() {
        if offset >= 50_000 {
            break;
        }
        let n = (*n).min(50_000 - offset);
        let block: Vec<&[f32]> = input.iter().map(|c| &c[offset..offset + n]).collect();
        engine.process(&block, n, stem_block(false, Some(offset as i64)));
        offset += n;
    }
    engine.deactivate();
    drop(engine);
    writer.join().unwrap();
    let b = bounces(root.path());
    assert_eq!(
        bits(&read_wav(&only_wav(&b[0])).1),
        bits(&interleave(&input))
    );
    assert_eq!(b[0].captures[0].sidecar.dropped_frames, 0);
    assert!(
        status
            .writer_waits
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
}

#[test]
fn unwritable_capture_root_never_disturbs_audio_and_reports_the_error() {
    let root = tempfile::tempdir().unwrap();
    // A file where the capture folder should be: nothing can be created under it.
    let blocked = root.path().join("blocked");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let mut e = engine(&blocked, "Drums", 2, ProcessMode::Offline, 512);
    let input = signal(30, 2, 10_000);
    feed(&mut e, &input, &[512], 0, stem_block(false, None));
    e.deactivate();
    // The engine kept running; the error is where the editor reads it.
    let err = e.shared().capture.info.lock().last_error.clone().unwrap();
    assert!(err.contains("blocked"), "{err}");
    assert_eq!(std::fs::read(&blocked).unwrap(), b"not a folder");
}

#[test]
fn crash_mid_bounce_leaves_a_readable_wav_and_a_recording_sidecar() {
    let root = tempfile::tempdir().unwrap();
    let status = Arc::new(CaptureStatus::default());
    let mut engine = CaptureEngine::inactive(status.clone());
    let format = StreamFormat {
        sample_rate: RATE,
        channels: 2,
    };
    let ends = engine.activate_with_capacity(format, 48_000, ProcessMode::Offline);
    let mut writer = Writer::new(ends, writer_config(root.path(), &status));
    let input = signal(31, 2, 24_000);
    let block: Vec<&[f32]> = input.iter().map(|c| &c[..]).collect();
    engine.process(&block, 24_000, stem_block(false, Some(0)));
    // Let the writer work past one header sync (but not into its idle finalize), then
    // "crash": drop it without finishing.
    let wait =
        stemcheck_plugin::capture::writer::SYNC_INTERVAL + std::time::Duration::from_millis(150);
    let t = std::time::Instant::now();
    while t.elapsed() < wait {
        writer.step();
    }
    std::mem::forget(writer);
    std::mem::forget(engine);

    let b = bounces(root.path());
    let c = &b[0].captures[0];
    let got = read_wav(&c.wav_path).1;
    assert_eq!(bits(&got), bits(&interleave(&input)));
    let s = read_sidecar(&c.sidecar_path).unwrap();
    assert_eq!(s.state, CaptureState::Recording);
    assert!(s.is_incomplete(s.updated_unix_ms + analyzer_core::capture::STALE_AFTER_MS + 1));
}

#[test]
fn offline_render_that_stalls_then_continues_stays_one_capture() {
    let root = tempfile::tempdir().unwrap();
    let mut e = engine(root.path(), "Pad", 2, ProcessMode::Offline, 1024);
    let a = signal(60, 2, 4_096);
    let b = signal(61, 2, 4_096);
    feed(&mut e, &a, &[1024], 0, stem_block(false, None));
    // Longer than both the audio-side idle end and the writer's idle finalize.
    std::thread::sleep(std::time::Duration::from_millis(
        stemcheck_plugin::capture::BOUNCE_IDLE_END_MS + 300,
    ));
    feed(&mut e, &b, &[1024], 4_096, stem_block(false, None));
    e.deactivate();
    let bounces = bounces(root.path());
    assert_eq!(bounces.len(), 1);
    let mut want = interleave(&a);
    want.extend(interleave(&b));
    assert_eq!(bits(&read_wav(&only_wav(&bounces[0])).1), bits(&want));
    assert_eq!(bounces[0].captures[0].sidecar.state, CaptureState::Complete);
}

#[test]
fn realtime_pause_ends_the_bounce() {
    let root = tempfile::tempdir().unwrap();
    let mut e = armed_engine(root.path(), "Pad", 1, ProcessMode::Realtime, 1024);
    let a = signal(62, 1, 2_048);
    let b = signal(63, 1, 2_048);
    feed(&mut e, &a, &[1024], 0, stem_block(true, None));
    std::thread::sleep(std::time::Duration::from_millis(
        stemcheck_plugin::capture::BOUNCE_IDLE_END_MS + 300,
    ));
    feed(&mut e, &b, &[1024], 2_048, stem_block(true, None));
    e.deactivate();
    let bounces = bounces(root.path());
    assert_eq!(bounces.len(), 2, "{bounces:#?}");
    assert_eq!(bits(&read_wav(&only_wav(&bounces[0])).1), bits(&a[0]));
    assert_eq!(bits(&read_wav(&only_wav(&bounces[1])).1), bits(&b[0]));
}

/// Offline render with the silent stopped-transport calls hosts make around it: before the
/// render (playhead parked at the start), during a stall (playhead parked where the render
/// paused, longer than every idle timeout) and after it (playhead back at the start, then
/// left at the end). The stopped calls repeat one position; none of them is render audio.
#[test]
fn offline_render_with_stopped_calls_before_during_and_after_is_one_exact_capture() {
    let root = tempfile::tempdir().unwrap();
    let mut e = engine(root.path(), "Lead", 2, ProcessMode::Offline, 8192);
    let start = 96_000;
    let part1 = signal(70, 2, 20_000);
    let part2 = signal(71, 2, 13_333);
    // Stopped calls carry what the input holds while stopped; noise here, so a stopped
    // block that leaked into the capture changes the bits.
    let stopped = signal(72, 2, 512);
    let stopped_at = |e: &mut stemcheck_plugin::engine::Engine, position: i64, calls: usize| {
        for _ in 0..calls {
            let block: Vec<&[f32]> = stopped.iter().map(|c| &c[..]).collect();
            e.process(&block, 512, stem_block(false, Some(position)));
        }
    };
    stopped_at(&mut e, start, 6);
    feed(
        &mut e,
        &part1,
        &[4096, 1, 777, 8192],
        start,
        stem_block(true, None),
    );
    let paused = start + 20_000;
    stopped_at(&mut e, paused, 3);
    // A stall longer than the audio-side idle end and the writer's idle finalize.
    std::thread::sleep(std::time::Duration::from_millis(
        stemcheck_plugin::capture::BOUNCE_IDLE_END_MS + 300,
    ));
    stopped_at(&mut e, paused, 3);
    feed(
        &mut e,
        &part2,
        &[512, 8192, 3],
        paused,
        stem_block(true, None),
    );
    stopped_at(&mut e, start, 5);
    stopped_at(&mut e, paused + 13_333, 5);
    e.deactivate();

    let b = bounces(root.path());
    assert_eq!(b.len(), 1, "one render, one bounce folder: {b:#?}");
    let mut want = interleave(&part1);
    want.extend(interleave(&part2));
    let (ch, got) = read_wav(&only_wav(&b[0]));
    assert_eq!(ch, 2);
    assert_eq!(got.len(), want.len(), "exactly the rendered frames");
    assert_eq!(bits(&got), bits(&want));
    let s = &b[0].captures[0].sidecar;
    assert_eq!(s.state, CaptureState::Complete);
    assert_eq!(s.timeline_start_samples, start);
    assert_eq!(s.length_frames, 33_333);
    assert!(s.discontinuities.is_empty(), "{:?}", s.discontinuities);
}

/// A host that renders offline without setting the playing flag still advances the position:
/// those blocks are captured, including the first (held until the second shows the position
/// moves), while the stopped calls before and after are not.
#[test]
fn offline_render_without_the_playing_flag_is_captured_from_its_first_block() {
    let root = tempfile::tempdir().unwrap();
    let mut e = engine(root.path(), "Choir", 1, ProcessMode::Offline, 1024);
    let stopped = signal(73, 1, 256);
    let input = signal(74, 1, 9_000);
    for _ in 0..4 {
        e.process(&[&stopped[0][..]], 256, stem_block(false, Some(0)));
    }
    feed(&mut e, &input, &[1024, 100, 1], 0, stem_block(false, None));
    for _ in 0..4 {
        e.process(&[&stopped[0][..]], 256, stem_block(false, Some(0)));
    }
    e.deactivate();
    let b = bounces(root.path());
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(bits(&read_wav(&only_wav(&b[0])).1), bits(&input[0]));
    assert_eq!(b[0].captures[0].sidecar.timeline_start_samples, 0);
}

/// Unarmed real-time playback at real-time pace: held in memory, never written, not kept; the
/// capture root gets no folder at all.
#[test]
fn unarmed_realtime_playback_never_touches_the_disk() {
    let root = tempfile::tempdir().unwrap();
    let mut e = engine(root.path(), "Keys", 2, ProcessMode::Realtime, 512);
    let input = signal(31, 2, 9_600);
    let began = std::time::Instant::now();
    let mut offset = 0;
    while offset < 9_600 {
        let block: Vec<&[f32]> = input.iter().map(|c| &c[offset..offset + 480]).collect();
        e.process(&block, 480, stem_block(true, Some(offset as i64)));
        offset += 480;
        // 10 ms per 10 ms of audio: real time.
        let due = std::time::Duration::from_millis(offset as u64 / 48);
        std::thread::sleep(due.saturating_sub(began.elapsed()));
    }
    assert!(
        e.shared()
            .capture
            .pending
            .load(std::sync::atomic::Ordering::Relaxed)
            || {
                // The writer may not have seen the start yet; give it a moment.
                std::thread::sleep(std::time::Duration::from_millis(50));
                e.shared()
                    .capture
                    .pending
                    .load(std::sync::atomic::Ordering::Relaxed)
            }
    );
    feed(
        &mut e,
        &[vec![0.0; 512], vec![0.0; 512]],
        &[512],
        0,
        stem_block(false, Some(0)),
    );
    e.deactivate();
    let entries: Vec<_> = std::fs::read_dir(root.path())
        .map_or(Vec::new(), |d| d.flatten().map(|e| e.file_name()).collect());
    assert!(entries.is_empty(), "{entries:?}");
    let c = &e.shared().capture;
    assert_eq!(
        c.passes_not_kept.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(!c.recording.load(std::sync::atomic::Ordering::Relaxed));
}

/// Playback that proves to be a render (faster than real time, unarmed) is written from its
/// first frame, bit for bit, with a padded gap that arrived while it was held.
#[test]
fn a_render_detected_late_is_written_from_its_first_frame_with_its_gaps() {
    let root = tempfile::tempdir().unwrap();
    let mut e = engine(root.path(), "Drums", 2, ProcessMode::Realtime, 1024);
    let first = signal(32, 2, 24_000);
    let second = signal(33, 2, 3 * RATE as usize);
    feed(&mut e, &first, &[1024], 0, stem_block(true, None));
    // A 100-frame forward jump (padded with silence) while the capture is still held.
    feed(&mut e, &second, &[1024], 24_100, stem_block(true, None));
    feed(
        &mut e,
        &[vec![0.0; 512], vec![0.0; 512]],
        &[512],
        0,
        stem_block(false, Some(0)),
    );
    e.deactivate();
    let b = bounces(root.path());
    assert_eq!(b.len(), 1, "{b:#?}");
    let s = &b[0].captures[0].sidecar;
    assert_eq!(s.state, CaptureState::Complete);
    assert_eq!(s.discontinuities.len(), 1);
    assert_eq!(s.discontinuities[0].file_frame, 24_000);
    assert_eq!(
        s.discontinuities[0].action,
        DiscontinuityAction::PaddedWithSilence
    );
    let mut expected = interleave(&first);
    expected.extend(std::iter::repeat_n(0.0, 200));
    expected.extend(interleave(&second));
    assert_eq!(bits(&read_wav(&only_wav(&b[0])).1), bits(&expected));
}

/// The arm reaches instances through the capture root: an engine whose writer polls a root
/// with a fresh marker keeps real-time playback from the first block.
#[test]
fn the_session_arm_reaches_another_instance_through_the_capture_root() {
    let root = tempfile::tempdir().unwrap();
    stemcheck_plugin::capture::session_arm::arm(root.path(), "the-mix").unwrap();
    let mut e = engine(root.path(), "Bass", 1, ProcessMode::Realtime, 512);
    let armed = |e: &stemcheck_plugin::engine::Engine| {
        e.shared()
            .capture
            .session_armed
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let began = std::time::Instant::now();
    while !armed(&e) && began.elapsed() < std::time::Duration::from_secs(2) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(armed(&e), "the writer did not pick up the marker");
    let input = signal(34, 1, 4_800);
    feed(&mut e, &input, &[480], 0, stem_block(true, None));
    e.deactivate();
    let b = bounces(root.path());
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_eq!(bits(&read_wav(&only_wav(&b[0])).1), bits(&input[0]));
}
