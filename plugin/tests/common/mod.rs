//! Shared helpers for the plugin's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use analyzer_core::capture::{self, BounceInfo, ProcessMode};
use stemcheck_plugin::capture::StreamFormat;
use stemcheck_plugin::capture::engine::BlockInfo;
use stemcheck_plugin::engine::{ActivateConfig, Engine};
use stemcheck_plugin::params::StemCheckParams;
use stemcheck_plugin::reconcile::AnalyzeFn;
use stemcheck_plugin::shared::Shared;

pub const RATE: u32 = 48_000;

/// Deterministic test signal: noise plus a sine, different per seed and channel, with a few
/// special values (denormal, negative zero) whose bits must survive the capture.
pub fn signal(seed: u64, channels: usize, frames: usize) -> Vec<Vec<f32>> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..channels)
        .map(|c| {
            (0..frames)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                    let sine = (i as f32 * 0.01 * (c + 1) as f32 + seed as f32).sin();
                    match i % 9973 {
                        17 => 1e-42,
                        18 => -0.0,
                        _ => 0.05 * noise + 0.1 * sine,
                    }
                })
                .collect()
        })
        .collect()
}

pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Interleaves planar channels.
pub fn interleave(planar: &[Vec<f32>]) -> Vec<f32> {
    let frames = planar[0].len();
    (0..frames)
        .flat_map(|f| planar.iter().map(move |ch| ch[f]))
        .collect()
}

pub fn read_wav(path: &Path) -> (u16, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ch = r.spec().channels;
    (ch, r.samples::<f32>().map(|s| s.unwrap()).collect())
}

pub fn engine(
    root: &Path,
    label: &str,
    channels: u16,
    mode: ProcessMode,
    max_block: usize,
) -> Engine {
    engine_with(root, label, channels, mode, max_block, |_, _| {
        Err(analyzer_core::Error::InvalidInput(
            "analysis not part of this test".into(),
        ))
    })
}

pub fn engine_with(
    root: &Path,
    label: &str,
    channels: u16,
    mode: ProcessMode,
    max_block: usize,
    analyze: AnalyzeFn,
) -> Engine {
    let params = StemCheckParams::default();
    let mut engine = Engine::new(Arc::new(Shared::default()), params.editor_state.clone());
    engine.set_analyze(analyze);
    let label = label.to_string();
    engine
        .activate(ActivateConfig {
            format: StreamFormat {
                sample_rate: RATE,
                channels,
            },
            max_block_frames: max_block,
            process_mode: mode,
            capture_root: Some(root.to_path_buf()),
            instance_id: stemcheck_plugin::new_instance_id(),
            host: "test".into(),
            label: Box::new(move || label.clone()),
            arms_session: Box::new(|| false),
            retention: Box::new(|| StemCheckParams::default().retention()),
        })
        .unwrap();
    engine
}

/// Arms real-time capture for the session in `root` (what the mix's "Arm playback capture"
/// does), as every writer polling `root` and the audio thread of `status` see it.
pub fn arm_session(root: &Path, status: &stemcheck_plugin::shared::CaptureStatus) {
    stemcheck_plugin::capture::session_arm::arm(root, "test-arm").unwrap();
    status
        .session_armed
        .store(true, std::sync::atomic::Ordering::Relaxed);
}

/// [`engine`] with real-time playback capture armed for the session.
pub fn armed_engine(
    root: &Path,
    label: &str,
    channels: u16,
    mode: ProcessMode,
    max_block: usize,
) -> Engine {
    let e = engine(root, label, channels, mode, max_block);
    arm_session(root, &e.shared().capture);
    e
}

pub fn stem_block(playing: bool, position: Option<i64>) -> BlockInfo {
    BlockInfo {
        playing,
        position_samples: position,
        role: Some(analyzer_core::capture::CaptureRole::Stem),
        auto_arm: true,
        manual_arm: false,
        arm_playback: false,
    }
}

/// Feeds `planar` in blocks of the given sizes (cycled), positions from `start`.
pub fn feed(
    engine: &mut Engine,
    planar: &[Vec<f32>],
    sizes: &[usize],
    start: i64,
    info: BlockInfo,
) {
    let frames = planar[0].len();
    let mut offset = 0;
    let mut i = 0;
    while offset < frames {
        let n = sizes[i % sizes.len()].min(frames - offset);
        let block: Vec<&[f32]> = planar.iter().map(|c| &c[offset..offset + n]).collect();
        engine.process(
            &block,
            n,
            BlockInfo {
                position_samples: Some(start + offset as i64),
                ..info
            },
        );
        offset += n;
        i += 1;
    }
}

pub fn bounces(root: &Path) -> Vec<BounceInfo> {
    let mut b = capture::list_bounces(root);
    b.reverse(); // oldest first
    b
}

pub fn only_wav(bounce: &BounceInfo) -> PathBuf {
    assert_eq!(bounce.captures.len(), 1, "{bounce:#?}");
    bounce.captures[0].wav_path.clone()
}
