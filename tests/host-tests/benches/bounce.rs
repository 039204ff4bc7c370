//! Offline bounce of 12 stereo stems + the master in the CLAP harness (issue 6): every track
//! with a StemCheck (stems: role stem, master: role mix, all capturing) against the same
//! harness with the plain pass-through plugin (`tests/passthrough-plugin`). Target: at most
//! 1.3x the pass-through wall time, and no frame lost.
//!
//! One iteration is one whole bounce as `run_in_process` plays it: 13 instances created and
//! activated, each processed on its own thread with varying block sizes (1..8192, offline
//! render mode), deactivated (which waits for StemCheck's writers to finish their files).
//! Before timing, one StemCheck bounce is checked capture by capture (`verify_bounce`: complete,
//! nothing dropped, bit-identical to the input, right length and start) and the bench stops
//! if anything is wrong.
//!
//! Two pairs: `passthrough` / `stemcheck`, where the host keeps the rendered tracks in memory
//! (the harness alone costs almost nothing per frame, so this ratio is the plugin's full cost
//! against a near-empty bounce), and `passthrough_export` / `stemcheck_export`, where the host
//! also writes every rendered track to its own WAV while rendering, as a DAW's stem export
//! does: the bounce an engineer waits for.
//!
//! Needs both bundles: `cargo xtask bundle stemcheck-plugin --release` and
//! `cargo xtask bundle stemcheck-passthrough --release` (or STEMCHECK_CLAP /
//! STEMCHECK_PASSTHROUGH_CLAP), then `cargo bench -p host-tests --bench bounce`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clack_extensions::render::RenderMode;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use host_tests::captures::wait_finished;
use host_tests::clap_host::Bundle;
use host_tests::paths;
use host_tests::render::RenderPlan;
use host_tests::scenario::{Role, Track, run_in_process, verify_bounce};
use host_tests::signals::{Planar, bench_song_tracks, sum};

const RATE: u32 = 48_000;
const STEMS: usize = 12;
/// Length of the bounce.
const SECONDS: f64 = 30.0;

fn tracks() -> Vec<Track> {
    let stems = bench_song_tracks(RATE, SECONDS, STEMS);
    let refs: Vec<&Planar> = stems.iter().map(|s| &s.audio).collect();
    let mix = sum(&refs);
    let mut out: Vec<Track> = stems
        .into_iter()
        .map(|s| Track {
            name: format!("Bench {}", s.name),
            role: Role::Stem,
            input: s.audio,
        })
        .collect();
    out.push(Track {
        name: "Master".into(),
        role: Role::Mix,
        input: mix,
    });
    out
}

fn plan(i: usize, _bounce: usize) -> RenderPlan {
    RenderPlan::bounce(RATE, 1 + i as u64 * 7)
}

fn passthrough_bundle() -> PathBuf {
    std::env::var_os("STEMCHECK_PASSTHROUGH_CLAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            paths::target_dir()
                .expect("target dir")
                .join("bundled")
                .join("StemCheckPassthrough.clap")
        })
}

/// What the host does with the rendered tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostOutput {
    /// Keeps them in memory: the harness alone, nearly free per frame.
    Memory,
    /// Also writes each track to its own float WAV while rendering, as a DAW's stem export
    /// does: the bounce an engineer actually waits for.
    Export,
}

/// One bounce into a fresh capture folder; returns its wall time and the folder.
fn bounce(bundle: &Bundle, tracks: &[Track], output: HostOutput) -> (Duration, tempfile::TempDir) {
    let root = tempfile::Builder::new()
        .prefix("stemcheck-bounce-bench-")
        .tempdir()
        .expect("temp dir");
    let exports = root.path().join("host-export");
    std::fs::create_dir_all(&exports).expect("export folder");
    // SAFETY: the bench is single-threaded here; the plugin reads the variable in activate(),
    // which run_in_process calls on this thread.
    unsafe { std::env::set_var("STEMCHECK_CAPTURE_DIR", root.path().join("captures")) };
    let plan = |i: usize, b: usize| match output {
        HostOutput::Memory => plan(i, b),
        HostOutput::Export => plan(i, b).exporting_to(exports.join(format!("track-{i}.wav"))),
    };
    let t = Instant::now();
    run_in_process(bundle, tracks, RenderMode::Offline, 1, &plan).unwrap_or_else(|e| panic!("{e}"));
    (t.elapsed(), root)
}

fn bench(c: &mut Criterion) {
    let tracks = tracks();
    let stemcheck_path = paths::clap_bundle().unwrap_or_else(|e| panic!("{e}"));
    let stemcheck =
        Bundle::load(&stemcheck_path, paths::BUNDLE_NAME).unwrap_or_else(|e| panic!("{e}"));
    let passthrough =
        Bundle::load(&passthrough_bundle(), "StemCheck Passthrough").unwrap_or_else(|e| {
            panic!("{e} (build it: cargo xtask bundle stemcheck-passthrough --release)")
        });

    // No frame lost: one StemCheck bounce checked capture by capture.
    let (wall, root) = bounce(&stemcheck, &tracks, HostOutput::Export);
    let bounces = wait_finished(&root.path().join("captures"), Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bounces.len(), 1, "one bounce folder expected");
    let problems = verify_bounce(&bounces[0], &tracks, 0, "clap");
    assert!(
        problems.is_empty(),
        "captures are not exact:\n  {}",
        problems.join("\n  ")
    );
    eprintln!(
        "checked bounce: {} captures complete, bit-exact, none dropped ({:.2} s)",
        bounces[0].captures.len(),
        wall.as_secs_f64()
    );
    drop(root);

    let frames = (SECONDS * f64::from(RATE)) as u64 * tracks.len() as u64;
    let mut g = c.benchmark_group("bounce_13_instances_30s_48k_stereo");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    // Throughput in frames summed over the 13 tracks.
    g.throughput(Throughput::Elements(frames));
    for (output, suffix) in [(HostOutput::Memory, ""), (HostOutput::Export, "_export")] {
        for (name, bundle) in [("passthrough", &passthrough), ("stemcheck", &stemcheck)] {
            g.bench_function(format!("{name}{suffix}"), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| bounce(bundle, &tracks, output).0).sum());
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
