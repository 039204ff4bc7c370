//! Reconciliation of 12 stereo stems against a stereo mix at 48 kHz: in memory (the algorithm
//! alone) and from 24-bit WAV files (reading and decoding included), 30 s and 3 min.
//!
//! The speed target: reconciling 12+1 files of 3 min should cost about one read of the files.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use analyzer_core::profile::MASTERING;
use analyzer_core::reconcile::synth::Song;
use analyzer_core::reconcile::{ReconcileOptions, reconcile, reconcile_sources};
use analyzer_core::source::{FrameSource, MemorySource};
use analyzer_core::synth::{WavFormat, write_wav};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SR: u32 = 48_000;

/// A song of 12 stereo stems (mono parts are panned into stereo files) and its mix.
fn song(seconds: f64) -> (Vec<Vec<f32>>, Vec<f32>) {
    let song = Song::new(SR, seconds, 12, 7);
    let mix = song.mix();
    let stems = song
        .stems
        .iter()
        .map(|s| {
            if s.channels == 2 {
                s.samples.clone()
            } else {
                s.samples
                    .iter()
                    .flat_map(|&x| [x * s.pan[0], x * s.pan[1]])
                    .collect()
            }
        })
        .collect();
    (stems, mix)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("reconcile");
    g.sample_size(10);
    for seconds in [30.0, 180.0] {
        let (stems, mix) = song(seconds);
        let frames = (mix.len() / 2) as u64;
        // Throughput in frames of audio per file set.
        g.throughput(Throughput::Elements(frames));
        let label = format!("12x_stereo_{seconds}s_48k");
        g.bench_function(BenchmarkId::new("memory", &label), |b| {
            let mix_src = MemorySource::new("mix", 2, SR, mix.clone()).unwrap();
            let stem_srcs: Vec<MemorySource> = stems
                .iter()
                .enumerate()
                .map(|(i, s)| MemorySource::new(format!("s{i}"), 2, SR, s.clone()).unwrap())
                .collect();
            b.iter(|| {
                let st: Vec<Box<dyn FrameSource>> = stem_srcs
                    .iter()
                    .map(|s| Box::new(s.clone()) as Box<dyn FrameSource>)
                    .collect();
                let r = reconcile_sources(
                    Box::new(mix_src.clone()),
                    st,
                    &MASTERING,
                    &ReconcileOptions::default(),
                    None,
                    &|_| {},
                )
                .unwrap();
                assert!(r.reconciliation.fitted_null_depth_db.unwrap() < -100.0);
                r
            });
        });
        let dir = tempfile::tempdir().unwrap();
        let mix_path = dir.path().join("mix.wav");
        write_wav(&mix_path, 2, SR, WavFormat::Int24, &mix).expect("write mix");
        let paths: Vec<PathBuf> = stems
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = dir.path().join(format!("stem{i:02}.wav"));
                write_wav(&p, 2, SR, WavFormat::Int24, s).expect("write stem");
                p
            })
            .collect();
        drop(stems);
        drop(mix);
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        g.bench_function(BenchmarkId::new("wav24", &label), |b| {
            b.iter(|| {
                let r = reconcile(&mix_path, &refs, &MASTERING, &|_| {}).unwrap();
                assert!(r.reconciliation.fitted_null_depth_db.unwrap() < -80.0);
                r
            });
        });
        // One plain read of the 13 files, for comparison: what "one read" costs.
        g.bench_function(BenchmarkId::new("wav24_read_only", &label), |b| {
            b.iter(|| {
                let mut buf = vec![0.0f32; 2 * 9_600];
                let mut total = 0.0f32;
                for p in std::iter::once(mix_path.as_path()).chain(refs.iter().copied()) {
                    let mut r = analyzer_core::wav::WavReader::open(p).unwrap();
                    while r.read_frames(&mut buf).unwrap() > 0 {
                        total += buf[0];
                    }
                }
                total
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
