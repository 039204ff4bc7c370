//! WAV files on disk through `WavReader` and `meter_file`: every sample format reads back the
//! written samples and meters like the same samples in memory.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use analyzer_core::Error;
use analyzer_core::meter::{FileMeter, meter_file};
use analyzer_core::report::SampleFormat;
use analyzer_core::wav::WavReader;

fn tone(frames: usize, channels: usize) -> Vec<f64> {
    (0..frames * channels)
        .map(|i| 0.7 * ((i / channels) as f64 * 0.031 + (i % channels) as f64).sin())
        .collect()
}

fn write(path: &std::path::Path, bits: u16, float: bool, channels: u16, x: &[f64]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: 48_000,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in x {
        match (float, bits) {
            (true, _) => w.write_sample(s as f32).unwrap(),
            (false, 16) => w.write_sample((s * 32767.0).round() as i16).unwrap(),
            (false, 24) => w.write_sample((s * 8_388_607.0).round() as i32).unwrap(),
            (false, _) => w
                .write_sample((s * 2_147_483_647.0).round() as i32)
                .unwrap(),
        }
    }
    w.finalize().unwrap();
}

#[test]
fn meter_file_equals_in_memory_metering() {
    let dir = tempfile::tempdir().unwrap();
    for (bits, float) in [(16, false), (24, false), (32, false), (32, true)] {
        for channels in [1u16, 2] {
            let frames = 48_000 * 3 + 77;
            let x = tone(frames, channels as usize);
            let p = dir.path().join(format!("t{bits}{float}{channels}.wav"));
            write(&p, bits, float, channels, &x);

            let mut r = WavReader::open(&p).unwrap();
            let mut samples = vec![0f32; frames * channels as usize];
            let mut got = 0;
            while got < samples.len() {
                let n = r.read_frames(&mut samples[got..]).unwrap();
                assert!(n > 0);
                got += n * channels as usize;
            }
            let mut m = FileMeter::new(channels as usize, 48_000);
            m.process(&samples);
            let expected = m.finish();

            let (info, metrics) = meter_file(&p).unwrap();
            assert_eq!(info.frames, frames as u64);
            assert_eq!(info.bits_per_sample, bits);
            let fmt = if float {
                SampleFormat::Float
            } else {
                SampleFormat::Int
            };
            assert_eq!(info.sample_format, fmt);
            assert_eq!(metrics, expected, "{bits} bit float={float} {channels} ch");
            let peak = metrics.sample_peak_dbfs.unwrap();
            assert!((peak - 20.0 * 0.7f64.log10()).abs() < 0.01, "{peak}");
        }
    }
}

#[test]
fn meter_file_names_the_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.wav");
    std::fs::write(&p, b"just some text, certainly not RIFF").unwrap();
    let e = meter_file(&p).unwrap_err();
    assert!(matches!(e, Error::Format { .. }));
    assert!(e.to_string().contains("notes.wav"), "{e}");
}

#[test]
fn truncated_file_meters_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.wav");
    write(&p, 24, false, 2, &tone(48_000, 2));
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2 + 1]).unwrap();
    let (info, metrics) = meter_file(&p).unwrap();
    assert!(info.truncated);
    assert_eq!(info.declared_frames, 48_000);
    assert!(info.frames < 48_000 && info.frames > 23_000);
    assert_eq!(metrics.frames, info.frames);
}
