//! Meter throughput per stage, named by stage, sample rate and channel count. Throughput is in
//! frames: criterion's "elem/s" is frames per second, so ns per frame = 1e9 / that.
//!
//! `true_peak_worst` takes the peak after every 512-frame block (as a GUI-polled plugin does),
//! which defeats the filter-skipping bound and shows the cost of the full 4x polyphase FIR.

use analyzer_core::meter::{FileMeter, Loudness, SamplePeak, TruePeak, meter_file};
use analyzer_core::wav::WavReader;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// One second of a music-like programme: partials with a moving level plus a noise bed.
fn programme(rate: u32, channels: usize) -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let frames = rate as usize;
    let mut v = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        let t = i as f64 / f64::from(rate);
        let level = 0.1 + 0.4 * (0.5 + 0.5 * (2.0 * std::f64::consts::PI * 2.0 * t).sin());
        for c in 0..channels {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = ((state >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0;
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
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let one_second = programme(rate, 2);
    let mut w = hound::WavWriter::create(&path, spec).expect("create");
    for _ in 0..30 {
        for &s in &one_second {
            w.write_sample((s * 8_388_607.0) as i32).expect("write");
        }
    }
    w.finalize().expect("finalize");
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
        b.iter(|| meter_file(&path).expect("meter"))
    });
    g.finish();
}

criterion_group!(benches, stages, files);
criterion_main!(benches);
