//! Meter throughput per stage, named by stage, sample rate and channel count. Throughput is in
//! frames: criterion's "elem/s" is frames per second, so ns per frame = 1e9 / that.
//!
//! `true_peak_worst` takes the peak after every 512-frame block (as a GUI-polled plugin does),
//! which defeats the filter-skipping bound and shows the cost of the full 4x polyphase FIR.

use analyzer_core::meter::{FileMeter, Loudness, SamplePeak, TruePeak, meter_file};
use analyzer_core::synth::{Rng, WavFormat, write_wav};
use analyzer_core::wav::WavReader;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// One second of a music-like programme: partials with a moving level plus a noise bed.
fn programme(rate: u32, channels: usize) -> Vec<f32> {
    let mut rng = Rng::from_state(0x2545_f491_4f6c_dd1d);
    let frames = rate as usize;
    let mut v = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        let t = i as f64 / f64::from(rate);
        let level = 0.1 + 0.4 * (0.5 + 0.5 * (2.0 * std::f64::consts::PI * 2.0 * t).sin());
        for c in 0..channels {
            let n = rng.next_f64();
            let s = (2.0 * std::f64::consts::PI * 220.0 * t + c as f64).sin()
                + 0.5 * (2.0 * std::f64::consts::PI * 3300.0 * t).sin()
                + 0.3 * n;
            v.push((level * s * 0.5) as f32);
        }
    }
    v
}

const BLOCK_FRAMES: usize = 8192;

fn stages(c: &mut Criterion) {
    for (rate, ch) in [(48_000u32, 2usize), (44_100, 2), (96_000, 2), (48_000, 1)] {
        let x = programme(rate, ch);
        let frames = x.len() / ch;
        let id = format!("{rate}Hz/{ch}ch");
        let mut g = c.benchmark_group("meter");
        g.throughput(Throughput::Elements(frames as u64));
        g.bench_function(BenchmarkId::new("sample_peak", &id), |b| {
            let mut m = SamplePeak::new(ch, rate);
            b.iter(|| {
                for blk in x.chunks(BLOCK_FRAMES * ch) {
                    m.process(blk);
                }
            })
        });
        g.bench_function(BenchmarkId::new("true_peak", &id), |b| {
            let mut m = TruePeak::new(ch, rate);
            b.iter(|| {
                for blk in x.chunks(BLOCK_FRAMES * ch) {
                    m.process(blk);
                }
            })
        });
        g.bench_function(BenchmarkId::new("true_peak_worst", &id), |b| {
            let mut m = TruePeak::new(ch, rate);
            b.iter(|| {
                for blk in x.chunks(512 * ch) {
                    m.process(blk);
                    std::hint::black_box(m.take_max_peak());
                }
            })
        });
        g.bench_function(BenchmarkId::new("loudness", &id), |b| {
            let mut m = Loudness::new(ch, rate);
            b.iter(|| {
                for blk in x.chunks(BLOCK_FRAMES * ch) {
                    m.process(blk);
                }
            })
        });
        g.bench_function(BenchmarkId::new("file_meter", &id), |b| {
            let mut m = FileMeter::new(ch, rate);
            b.iter(|| {
                m.reset();
                for blk in x.chunks(BLOCK_FRAMES * ch) {
                    m.process(blk);
                }
            })
        });
        g.finish();
    }
}

/// Reading and metering a 24-bit stereo WAV file from disk (30 s at 48 kHz), the CLI's per-file
/// cost: `wav_read` is decoding alone, `meter_file` decoding plus every meter.
fn files(c: &mut Criterion) {
    let rate = 48_000u32;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stem.wav");
    let thirty_seconds = programme(rate, 2).repeat(30);
    write_wav(&path, 2, rate, WavFormat::Int24, &thirty_seconds).expect("write");
    let frames = 30 * u64::from(rate);

    let mut g = c.benchmark_group("file");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("wav_read", "48000Hz/2ch/24bit"), |b| {
        let mut buf = vec![0f32; BLOCK_FRAMES * 2];
        b.iter(|| {
            let mut r = WavReader::open(&path).expect("open");
            while r.read_frames(&mut buf).expect("read") > 0 {}
        })
    });
    g.bench_function(BenchmarkId::new("meter_file", "48000Hz/2ch/24bit"), |b| {
        b.iter(|| meter_file(&path, &|_| {}).expect("meter"))
    });
    g.finish();
}

criterion_group!(benches, stages, files);
criterion_main!(benches);
