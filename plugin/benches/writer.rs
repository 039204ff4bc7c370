//! Issue 20, target 2: the capture writers against the floor of writing the same bytes.
//!
//! Thirteen instances (12 stem buses and the mix) capture an offline bounce of `SECONDS` of
//! stereo 48 kHz audio into one folder: each instance's "audio thread" pushes host blocks of
//! 512 frames through `CaptureEngine::process` (offline: a full ring waits for the writer, so
//! no frame is lost) as fast as it can, and its writer thread drains the ring into a tagged
//! float WAV. The floor, in the same run and the same folder: thirteen threads writing the same
//! interleaved bytes with one `write` per host block (512 frames, 4 KB) to thirteen plain
//! files, and again with one `write` per 8192 frames (64 KB, the writer's own chunk: the
//! fewest system calls a writer fed in such chunks could make). The target is the capture's
//! throughput >= 0.8x the floor's.
//!
//! The meters are left out on purpose (they are the audio thread's cost, measured by the
//! `process` bench): this measures what a capture costs on top of the audio, which is what
//! stands between a host's render and the disk.
//!
//! `cargo bench -p stemcheck-plugin --bench writer`; environment: `STEMCHECK_WRITER_BENCH_S`
//! (seconds of audio per instance, default 180), `STEMCHECK_WRITER_BENCH_DIR` (the folder;
//! default a temporary folder under `target/`, i.e. the disk the workspace is on),
//! `STEMCHECK_WRITER_BENCH_RUNS` (default 3; the median is reported).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use analyzer_core::capture::{CaptureRole, ProcessMode};
use stemcheck_plugin::capture::StreamFormat;
use stemcheck_plugin::capture::engine::{BlockInfo, CaptureEngine};
use stemcheck_plugin::capture::writer::{Writer, WriterConfig};
use stemcheck_plugin::shared::CaptureStatus;

const RATE: u32 = 48_000;
const CHANNELS: usize = 2;
const INSTANCES: usize = 13;
const BLOCK_FRAMES: usize = 512;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One second of a planar stereo programme (noise, so nothing compresses or repeats within a
/// block), looped by both cases.
fn programme() -> Vec<Vec<f32>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..CHANNELS)
        .map(|_| {
            (0..RATE as usize)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.5
                })
                .collect()
        })
        .collect()
}

fn info(playing: bool, position: i64) -> BlockInfo {
    BlockInfo {
        playing,
        position_samples: Some(position),
        role: Some(CaptureRole::Stem),
        auto_arm: true,
        manual_arm: false,
        arm_playback: false,
    }
}

/// One instance's bounce of `frames` frames into `root`; returns the frames its writer reports
/// written and the frames dropped.
fn capture_instance(root: &Path, index: usize, frames: usize, prog: &[Vec<f32>]) -> (u64, u64) {
    let status = Arc::new(CaptureStatus::default());
    let mut engine = CaptureEngine::inactive(status.clone());
    let format = StreamFormat {
        sample_rate: RATE,
        channels: CHANNELS as u16,
    };
    let ends = engine.activate(format, BLOCK_FRAMES, ProcessMode::Offline);
    let label = format!("Bus {index:02}");
    let writer = Writer::new(
        ends,
        WriterConfig::new(
            Some(root.to_owned()),
            stemcheck_plugin::new_instance_id(),
            "bench".into(),
            Box::new(move || label.clone()),
            status.clone(),
        ),
    )
    .spawn()
    .expect("writer thread");
    let mut done = 0usize;
    let prog_len = prog[0].len();
    while done < frames {
        let n = BLOCK_FRAMES.min(frames - done);
        let at = done % prog_len;
        let n = n.min(prog_len - at);
        let block: Vec<&[f32]> = prog.iter().map(|c| &c[at..at + n]).collect();
        engine.process(&block, n, info(true, done as i64));
        done += n;
    }
    // Transport stops: the capture ends; then the host deactivates.
    let silence = vec![vec![0.0f32; BLOCK_FRAMES]; CHANNELS];
    engine.process(&silence, BLOCK_FRAMES, info(false, done as i64));
    engine.deactivate();
    writer.join().expect("writer thread panicked");
    (
        status.frames_written.load(Ordering::Relaxed),
        status.dropped_frames.load(Ordering::Relaxed),
    )
}

/// The floor for one instance: the same interleaved bytes, one `write` per `block_frames`.
fn floor_instance(path: &Path, frames: usize, prog: &[Vec<f32>], block_frames: usize) -> u64 {
    let mut file = File::create(path).expect("floor file");
    let prog_len = prog[0].len();
    let mut block = vec![0u8; block_frames * CHANNELS * 4];
    let mut done = 0usize;
    let mut bytes = 0u64;
    while done < frames {
        let at = done % prog_len;
        let n = block_frames.min(frames - done).min(prog_len - at);
        for i in 0..n {
            for (c, ch) in prog.iter().enumerate() {
                let o = (i * CHANNELS + c) * 4;
                block[o..o + 4].copy_from_slice(&ch[at + i].to_le_bytes());
            }
        }
        let len = n * CHANNELS * 4;
        file.write_all(&block[..len]).expect("floor write");
        bytes += len as u64;
        done += n;
    }
    bytes
}

fn timed<F: Fn() + Sync>(f: F) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let seconds: usize = env_or("STEMCHECK_WRITER_BENCH_S", 180);
    let runs: usize = env_or::<usize>("STEMCHECK_WRITER_BENCH_RUNS", 3).max(1);
    let base = std::env::var_os("STEMCHECK_WRITER_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    std::fs::create_dir_all(&base).expect("bench folder");
    let frames = seconds * RATE as usize;
    let prog = programme();
    let bytes_per_instance = (frames * CHANNELS * 4) as f64;
    let total_mb = bytes_per_instance * INSTANCES as f64 / 1e6;
    println!(
        "writer bench: {INSTANCES} instances x {seconds} s stereo float at {RATE} Hz \
         ({total_mb:.0} MB), blocks of {BLOCK_FRAMES}, folder {}",
        base.display()
    );
    const FLOOR_BLOCKS: [usize; 2] = [BLOCK_FRAMES, 8192];
    let mut capture_times = Vec::new();
    let mut floor_times = [Vec::new(), Vec::new()];
    for run in 0..runs {
        // Rotate the order so no case always meets a dirtier page cache.
        let mut order = [0, 1, 2];
        order.rotate_left(run % 3);
        for case in order {
            let dir = tempfile::Builder::new()
                .prefix("stemcheck-writer-bench-")
                .tempdir_in(&base)
                .expect("temp dir");
            if case == 0 {
                let results = std::sync::Mutex::new(Vec::new());
                let t = timed(|| {
                    std::thread::scope(|s| {
                        for i in 0..INSTANCES {
                            let (root, prog, results) = (dir.path(), &prog, &results);
                            s.spawn(move || {
                                let r = capture_instance(root, i, frames, prog);
                                results.lock().expect("results lock").push(r);
                            });
                        }
                    })
                });
                for (written, dropped) in results.into_inner().expect("results lock") {
                    assert_eq!(dropped, 0, "an offline capture dropped frames");
                    assert_eq!(written, frames as u64, "a capture lost frames");
                }
                capture_times.push(t);
            } else {
                let block_frames = FLOOR_BLOCKS[case - 1];
                let t = timed(|| {
                    std::thread::scope(|s| {
                        for i in 0..INSTANCES {
                            let path = dir.path().join(format!("floor-{i:02}.raw"));
                            let prog = &prog;
                            s.spawn(move || floor_instance(&path, frames, prog, block_frames));
                        }
                    })
                });
                floor_times[case - 1].push(t);
            }
        }
    }
    let capture = median(capture_times.clone());
    let mbps = |d: Duration| total_mb / d.as_secs_f64();
    println!(
        "capture (13 writers): median {:.2} s, {:.0} MB/s  (runs: {:?})",
        capture.as_secs_f64(),
        mbps(capture),
        capture_times
    );
    for (times, block_frames) in floor_times.iter().zip(FLOOR_BLOCKS) {
        let floor = median(times.clone());
        println!(
            "floor, one write per {block_frames} frames: median {:.2} s, {:.0} MB/s  (runs: {:?}); \
             capture / floor throughput {:.2}x (target >= 0.8x)",
            floor.as_secs_f64(),
            mbps(floor),
            times,
            floor.as_secs_f64() / capture.as_secs_f64()
        );
    }
}
