//! WAV files on disk through `WavReader` and `meter_file`: every sample format reads back the
//! written samples and meters like the same samples in memory.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use analyzer_core::Error;
use analyzer_core::FindingCode;
use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::meter::{FileMeter, meter_file};
use analyzer_core::report::SampleFormat;
use analyzer_core::synth::{WavFormat, write_wav};
use analyzer_core::units::amp_to_db;
use analyzer_core::wav::WavReader;

fn tone(frames: usize, channels: usize) -> Vec<f32> {
    (0..frames * channels)
        .map(|i| (0.7 * ((i / channels) as f64 * 0.031 + (i % channels) as f64).sin()) as f32)
        .collect()
}

#[test]
fn meter_file_equals_in_memory_metering() {
    let dir = tempfile::tempdir().unwrap();
    for (format, bits, float) in [
        (WavFormat::Int16, 16, false),
        (WavFormat::Int24, 24, false),
        (WavFormat::Int32, 32, false),
        (WavFormat::Float32, 32, true),
    ] {
        for channels in [1u16, 2] {
            let frames = 48_000 * 3 + 77;
            let x = tone(frames, channels as usize);
            let p = dir.path().join(format!("t{bits}{float}{channels}.wav"));
            write_wav(&p, channels, 48_000, format, &x).unwrap();

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

            let (info, metrics) = meter_file(&p, &|_| {}).unwrap();
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
            assert!((peak - amp_to_db(0.7)).abs() < 0.01, "{peak}");
        }
    }
}

#[test]
fn meter_file_names_the_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.wav");
    std::fs::write(&p, b"just some text, certainly not RIFF").unwrap();
    let e = meter_file(&p, &|_| {}).unwrap_err();
    assert!(matches!(e, Error::Format { .. }));
    assert!(e.to_string().contains("notes.wav"), "{e}");
}

#[test]
fn truncated_file_meters_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.wav");
    write_wav(&p, 2, 48_000, WavFormat::Int24, &tone(48_000, 2)).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2 + 1]).unwrap();
    let (info, metrics) = meter_file(&p, &|_| {}).unwrap();
    assert!(info.truncated);
    assert_eq!(info.declared_frames, 48_000);
    assert!(info.frames < 48_000 && info.frames > 23_000);
    assert_eq!(metrics.frames, info.frames);
}

/// An 8-bit file reaches only 127/128, so runs there are clipping. The CLI's check meters
/// through `meter_file` like the tests do; this goes through the shipped entry point and reads
/// the finding off the report.
#[test]
fn eight_bit_full_scale_runs_are_reported_as_clipping() {
    let dir = tempfile::tempdir().unwrap();
    // A quiet tone with four flat-topped runs of 10 samples at full scale (1.0 is stored as
    // the largest 8-bit code, 127/128).
    let mut x: Vec<f32> = tone(48_000, 1).iter().map(|v| 0.3 * v).collect();
    for run in 0..4 {
        let start = 5_000 + run * 10_000;
        x[start..start + 10].fill(1.0);
    }
    let p = dir.path().join("Song_Drums.wav");
    write_wav(&p, 1, 48_000, WavFormat::Int8, &x).unwrap();

    let (info, metrics) = meter_file(&p, &|_| {}).unwrap();
    assert_eq!(info.bits_per_sample, 8);
    assert_eq!(
        (metrics.clipped_runs, metrics.longest_clip_run_samples),
        (4, 10)
    );

    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    let report = check_paths(&[p], &opts).unwrap();
    let clipping: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::Clipping)
        .collect();
    assert_eq!(clipping.len(), 1, "{:#?}", report.findings);
    assert_eq!(clipping[0].files, ["Song_Drums.wav"]);
    assert_eq!(clipping[0].measured["clipped_runs"], 4);
    assert_eq!(clipping[0].measured["longest_run_samples"], 10);
}
