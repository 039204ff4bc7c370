//! Audio-thread cost of one plugin instance, stereo at 48 kHz, for host blocks of 64, 512 and
//! 4096 frames (issue 6: at most 25 ns per stereo frame with everything on).
//!
//! Every iteration feeds 4096 frames (64 x 64, 8 x 512 or 1 x 4096), so criterion's time per
//! iteration divided by 4096 is the cost per frame, and its "elem/s" is frames per second.
//!
//! - `meters`: `AudioMeters::process` alone (sample peak, true peak, momentary / short-term
//!   loudness), the part that runs whether or not anything else does; `meters_gui_60hz`: the
//!   same with the editor taking the reading at 60 Hz.
//! - `meters_subnormal_input`: `meters` fed noise that is subnormal in every sample (what
//!   clap-validator's `process-audio-denormals` feeds); it should cost what `meters` does.
//! - `editor_closed`: `Engine::process` with meters and capture on (offline bounce, auto-arm):
//!   exactly what the plugin's `process()` runs while the editor is closed.
//! - `editor_open`: the same plus the spectrum feed (`SpectrumInput::push`), which is the one
//!   thing `Engine::process` adds while the editor is open (the editor's open flag cannot be
//!   set from outside a host window, so the bench calls the feed itself, on the same block),
//!   and the GUI taking the meter reading at 60 Hz (every 800 frames) as the editor does
//!   (`take_levels` and `TruePeakDisplay::update`, which leaves the true-peak meter the floor
//!   below which it may skip the interpolation).
//!
//! With `STEMCHECK_BENCH_CLOCK=thread-cpu`, each sample is timed by the CPU time of the bench
//! thread (`CLOCK_THREAD_CPUTIME_ID`) instead of the wall clock: on a shared, loaded machine the
//! wall clock also counts the time the thread waits for a core (and, in the capture cases, the
//! time it yields to the writer thread when the ring is full), the CPU time only what the audio
//! thread itself spends.
//!
//! Captures are written to a temporary folder in /dev/shm when it exists (the writer thread
//! should not be bounded by a disk); each case prints how often the audio thread had to wait
//! for the writer, which would mean the number measures the writer and not the audio thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use analyzer_core::capture::{CaptureRole, ProcessMode};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use stemcheck_plugin::capture::StreamFormat;
use stemcheck_plugin::capture::engine::BlockInfo;
use stemcheck_plugin::editor::meter_reading::{TruePeakDisplay, take_levels};
use stemcheck_plugin::engine::{ActivateConfig, Engine};
use stemcheck_plugin::meters::AudioMeters;
use stemcheck_plugin::params::StemCheckParams;
use stemcheck_plugin::shared::{MeterShared, Shared};
use stemcheck_plugin::spectrum::SpectrumInput;

const RATE: u32 = 48_000;
const CHANNELS: usize = 2;
/// Frames per iteration, whatever the block size.
const FRAMES_PER_ITER: usize = 4096;
/// Frames between two editor frames at 60 Hz.
const GUI_FRAME_FRAMES: usize = RATE as usize / 60;

/// A music-like stereo programme long enough not to sit in L1: partials, a level that moves,
/// a noise bed. Planar.
fn programme(frames: usize) -> Vec<Vec<f32>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut out: Vec<Vec<f32>> = (0..CHANNELS).map(|_| Vec::with_capacity(frames)).collect();
    for i in 0..frames {
        let t = i as f32 / RATE as f32;
        let level = 0.1 + 0.4 * (0.5 + 0.5 * (std::f32::consts::TAU * 2.0 * t).sin());
        for (c, ch) in out.iter_mut().enumerate() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
            let s = (std::f32::consts::TAU * 220.0 * t + c as f32).sin()
                + 0.5 * (std::f32::consts::TAU * 3300.0 * t).sin()
                + 0.3 * n;
            ch.push(level * s * 0.5);
        }
    }
    out
}

/// Planar stereo noise in (-f32::MIN_POSITIVE, f32::MIN_POSITIVE): every sample subnormal.
fn subnormal_noise(frames: usize) -> Vec<Vec<f32>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..CHANNELS)
        .map(|_| {
            (0..frames)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let n = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                    n * f32::MIN_POSITIVE
                })
                .collect()
        })
        .collect()
}

fn capture_root() -> tempfile::TempDir {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("stemcheck-bench-")
            .tempdir_in(shm)
            .expect("temp dir in /dev/shm")
    } else {
        tempfile::tempdir().expect("temp dir")
    }
}

fn engine(root: &std::path::Path, max_block: usize) -> Engine {
    let params = StemCheckParams::default();
    let mut e = Engine::new(Arc::new(Shared::default()), params.editor_state.clone());
    e.set_analyze(|_, _| {
        Err(analyzer_core::Error::InvalidInput(
            "no analysis in the bench".into(),
        ))
    });
    e.activate(ActivateConfig {
        format: StreamFormat {
            sample_rate: RATE,
            channels: CHANNELS as u16,
        },
        max_block_frames: max_block,
        process_mode: ProcessMode::Offline,
        capture_root: Some(root.to_owned()),
        instance_id: stemcheck_plugin::new_instance_id(),
        host: "bench".into(),
        label: Box::new(|| "Bench".into()),
        arms_session: Box::new(|| false),
        retention: Box::new(|| StemCheckParams::default().retention()),
    })
    .expect("activate");
    e
}

fn block_info(position: i64) -> BlockInfo {
    BlockInfo {
        playing: true,
        position_samples: Some(position),
        role: Some(CaptureRole::Stem),
        auto_arm: true,
        manual_arm: false,
        arm_playback: false,
    }
}

/// What the editor takes from the meters each frame (`StemCheckEditor::update_meters`): the
/// levels, and the true peak through its display.
fn gui_frame(shared: &MeterShared, display: &mut TruePeakDisplay) {
    std::hint::black_box(take_levels(shared));
    display.update(shared, 1.0 / 60.0);
    std::hint::black_box((display.bar_db(), display.max_db()));
}

/// CPU time of the calling thread, nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Runs `body` criterion's number of times, timed by the wall clock or (see the module docs)
/// the thread's CPU time.
fn run<F: FnMut()>(b: &mut criterion::Bencher<'_>, cpu: bool, mut body: F) {
    if cpu {
        b.iter_custom(|iters| {
            let start = thread_cpu_ns();
            for _ in 0..iters {
                body();
            }
            Duration::from_nanos(thread_cpu_ns() - start)
        });
    } else {
        b.iter(body);
    }
}

fn bench(c: &mut Criterion) {
    let cpu = std::env::var("STEMCHECK_BENCH_CLOCK").is_ok_and(|v| v == "thread-cpu");
    // Ten seconds of programme, read round-robin so the input is not always the same block.
    let x = programme(10 * RATE as usize);
    let len = x[0].len();
    let mut g = c.benchmark_group("plugin_process_48k_stereo");
    g.throughput(Throughput::Elements(FRAMES_PER_ITER as u64));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    for block in [64usize, 512, 4096] {
        let blocks_per_iter = FRAMES_PER_ITER / block;

        for gui in [false, true] {
            let name = if gui { "meters_gui_60hz" } else { "meters" };
            g.bench_function(BenchmarkId::new(name, block), |b| {
                let shared = MeterShared::default();
                let mut m = AudioMeters::new(CHANNELS, RATE);
                let mut display = TruePeakDisplay::new();
                let mut pos = 0usize;
                let mut timeline = 0usize;
                run(b, cpu, || {
                    for _ in 0..blocks_per_iter {
                        if pos + block > len {
                            pos = 0;
                        }
                        let blk = [&x[0][pos..pos + block], &x[1][pos..pos + block]];
                        m.process(&blk, block, &shared);
                        pos += block;
                        timeline += block;
                        if gui && timeline % GUI_FRAME_FRAMES < block {
                            gui_frame(&shared, &mut display);
                        }
                    }
                });
            });
        }

        // clap-validator's `process-audio-denormals` input: noise entirely in the subnormal
        // range (the meters must not run their filters on subnormal operands; see
        // `meters::flush_subnormals`). Compare with `meters` at the same block size.
        g.bench_function(BenchmarkId::new("meters_subnormal_input", block), |b| {
            let tiny = subnormal_noise(len);
            let shared = MeterShared::default();
            let mut m = AudioMeters::new(CHANNELS, RATE);
            let mut pos = 0usize;
            run(b, cpu, || {
                for _ in 0..blocks_per_iter {
                    if pos + block > len {
                        pos = 0;
                    }
                    let blk = [&tiny[0][pos..pos + block], &tiny[1][pos..pos + block]];
                    m.process(&blk, block, &shared);
                    pos += block;
                }
            });
        });

        for open in [false, true] {
            let name = if open { "editor_open" } else { "editor_closed" };
            let root = capture_root();
            let mut e = engine(root.path(), block);
            let (mut spectrum, mut consumer) = SpectrumInput::new(CHANNELS);
            let mut display = TruePeakDisplay::new();
            let mut timeline = 0i64;
            let mut pos = 0usize;
            g.bench_function(BenchmarkId::new(name, block), |b| {
                run(b, cpu, || {
                    for _ in 0..blocks_per_iter {
                        if pos + block > len {
                            pos = 0;
                        }
                        let blk = [&x[0][pos..pos + block], &x[1][pos..pos + block]];
                        e.process(&blk, block, block_info(timeline));
                        if open {
                            spectrum.push(&blk, block);
                        }
                        pos += block;
                        timeline += block as i64;
                        // The editor's frame (GUI thread; two swaps and a few loads).
                        if open && timeline as usize % GUI_FRAME_FRAMES < block {
                            gui_frame(&e.shared().meters, &mut display);
                        }
                    }
                    // The GUI drains the spectrum ring at its frame rate; here, every
                    // iteration (outside the audio thread's work, but cheap).
                    if open && let Ok(chunk) = consumer.read_chunk(consumer.slots()) {
                        chunk.commit_all();
                    }
                });
            });
            let status = &e.shared().capture;
            eprintln!(
                "    {name}/{block}: captured {} frames, writer waits {}, dropped {}",
                status.frames_written.load(Ordering::Relaxed),
                status.writer_waits.load(Ordering::Relaxed),
                status.dropped_frames.load(Ordering::Relaxed)
            );
            drop(e);
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
