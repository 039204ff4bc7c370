//! Delivery checks through the shipped entry point (`analyze::check_paths`), on synthetic WAV
//! files: what a float file above full scale, a clipped file, a NaN, a dual-mono stem and
//! lengths at other rates are reported as.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::report::{Finding, Report};
use analyzer_core::synth::{WavFormat, write_wav};
use analyzer_core::{FindingCode, Severity};

const RATE: u32 = 48_000;

/// A sine of `amp` (linear) at 997 Hz, `seconds` long, on `channels` identical channels but
/// for a small per-channel phase step (so stereo files are not dual mono by accident).
fn sine(amp: f32, seconds: f32, channels: usize) -> Vec<f32> {
    let frames = (seconds * RATE as f32) as usize;
    (0..frames * channels)
        .map(|i| {
            let (n, c) = (i / channels, i % channels);
            amp * (2.0 * std::f32::consts::PI * 997.0 * n as f32 / RATE as f32 + c as f32 * 0.3)
                .sin()
        })
        .collect()
}

fn write(dir: &Path, name: &str, channels: u16, format: WavFormat, x: &[f32]) -> PathBuf {
    let p = dir.join(name);
    write_wav(&p, channels, RATE, format, x).unwrap();
    p
}

fn check(paths: &[PathBuf]) -> Report {
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    check_paths(paths, &opts).unwrap()
}

fn with_code(report: &Report, code: FindingCode) -> Vec<&Finding> {
    report.findings.iter().filter(|f| f.code == code).collect()
}

#[test]
fn a_float_file_above_full_scale_is_a_float_over_not_clipping() {
    let dir = tempfile::tempdir().unwrap();
    // +6 dBFS, a clean sine: nothing is flat-topped.
    let p = write(
        dir.path(),
        "Song_Synth.wav",
        1,
        WavFormat::Float32,
        &sine(2.0, 2.0, 1),
    );
    let report = check(&[p]);
    assert!(
        with_code(&report, FindingCode::Clipping).is_empty(),
        "{:#?}",
        report.findings
    );
    let over = with_code(&report, FindingCode::FloatOver);
    assert_eq!(over.len(), 1, "{:#?}", report.findings);
    assert_eq!(over[0].severity, Severity::Warning);
    assert_eq!(over[0].files, ["Song_Synth.wav"]);
    assert!(over[0].fix.contains("keeps float"), "{}", over[0].fix);
}

#[test]
fn a_flat_topped_float_file_is_clipping_at_whatever_level() {
    let dir = tempfile::tempdir().unwrap();
    // Hard-clipped at 0.5 (-6 dBFS): flat tops well under full scale.
    let x: Vec<f32> = sine(1.0, 2.0, 1)
        .iter()
        .map(|v| v.clamp(-0.5, 0.5))
        .collect();
    let p = write(dir.path(), "Song_Synth.wav", 1, WavFormat::Float32, &x);
    let report = check(&[p]);
    let clipping = with_code(&report, FindingCode::Clipping);
    assert_eq!(clipping.len(), 1, "{:#?}", report.findings);
    assert!(clipping[0].measured["clipped_runs"].as_u64().unwrap() > 1000);
    assert!(with_code(&report, FindingCode::FloatOver).is_empty());
}

/// Two stems (a tone and a noisy tone) and their sum as the mix, `seconds` long.
fn stems_and_mix(seconds: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let frames = (seconds * RATE as f32) as usize;
    let mut rng = analyzer_core::synth::Rng::new(7);
    let a: Vec<f32> = (0..frames * 2)
        .map(|i| 0.2 * (2.0 * std::f32::consts::PI * 220.0 * (i / 2) as f32 / RATE as f32).sin())
        .collect();
    let b: Vec<f32> = (0..frames * 2)
        .map(|_| 0.1 * (rng.next_f32() * 2.0 - 1.0))
        .collect();
    let mix: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    (a, b, mix)
}

#[test]
fn a_nan_is_named_and_read_as_silence_everywhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, b, mix) = stems_and_mix(4.0);
    // One NaN at 1.5 s in the left channel, one infinity a bit later.
    a[2 * 72_000] = f32::NAN;
    a[2 * 72_010 + 1] = f32::INFINITY;
    let paths = [
        write(dir.path(), "Song_Keys.wav", 2, WavFormat::Float32, &a),
        write(dir.path(), "Song_Noise.wav", 2, WavFormat::Float32, &b),
        write(dir.path(), "Song_Mix.wav", 2, WavFormat::Float32, &mix),
    ];
    let report = check(&paths);
    let nf = with_code(&report, FindingCode::NonFiniteSamples);
    assert_eq!(nf.len(), 1, "{:#?}", report.findings);
    assert_eq!(nf[0].severity, Severity::Error);
    assert_eq!(nf[0].files, ["Song_Keys.wav"]);
    assert_eq!(nf[0].measured["non_finite_samples"], 2);
    assert!(
        nf[0]
            .message
            .contains("2 NaN or infinite samples, the first at 1.500 s"),
        "{}",
        nf[0].message
    );
    // The rest of the report is as if those samples were silence: the stems still sum to the
    // mix, no gain or level is poisoned.
    let keys = report
        .files
        .iter()
        .find(|f| f.path == "Song_Keys.wav")
        .unwrap();
    assert!(keys.sample_peak_dbfs.unwrap() < -13.0, "{keys:?}");
    assert!(keys.gain_db.unwrap().abs() < 0.01, "{keys:?}");
    assert!(
        with_code(&report, FindingCode::GainMismatch).is_empty(),
        "{:#?}",
        report.findings
    );
    let null = report
        .reconciliation
        .as_ref()
        .unwrap()
        .null_depth_db
        .unwrap();
    assert!(null < -50.0, "{null}");
}

#[test]
fn a_stereo_stem_with_identical_channels_is_dual_mono() {
    let dir = tempfile::tempdir().unwrap();
    let mono = sine(0.3, 1.0, 1);
    let dual: Vec<f32> = mono.iter().flat_map(|&v| [v, v]).collect();
    let paths = [
        write(dir.path(), "Song_Bass.wav", 2, WavFormat::Int24, &dual),
        write(
            dir.path(),
            "Song_Keys.wav",
            2,
            WavFormat::Int24,
            &sine(0.3, 1.0, 2),
        ),
    ];
    let report = check(&paths);
    let dm = with_code(&report, FindingCode::DualMono);
    assert_eq!(dm.len(), 1, "{:#?}", report.findings);
    assert_eq!(dm[0].severity, Severity::Info);
    assert_eq!(dm[0].files, ["Song_Bass.wav"]);
}

#[test]
fn lengths_compare_in_time_and_a_trimmed_silent_tail_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // 2 s of tone, then 1 s of silence.
    let mut tone = sine(0.3, 2.0, 2);
    tone.extend(vec![0.0; 2 * RATE as usize]);
    let mut trimmed = tone.clone();
    trimmed.truncate(2 * (RATE as usize * 5 / 2));
    let other_rate: Vec<f32> = vec![0.1; 2 * 3 * 44_100];
    let p44 = dir.path().join("Song_Pad.wav");
    write_wav(&p44, 2, 44_100, WavFormat::Int24, &other_rate).unwrap();
    let paths = [
        write(dir.path(), "Song_Keys.wav", 2, WavFormat::Int24, &tone),
        write(dir.path(), "Song_Lead.wav", 2, WavFormat::Int24, &tone),
        write(dir.path(), "Song_Vox.wav", 2, WavFormat::Int24, &trimmed),
        p44,
    ];
    let report = check(&paths);
    let len = with_code(&report, FindingCode::LengthMismatch);
    assert_eq!(len.len(), 1, "{:#?}", report.findings);
    // The 44.1 kHz file of 3.000 s is not a length mismatch (its rate is reported apart).
    assert_eq!(len[0].files, ["Song_Vox.wav"]);
    assert_eq!(len[0].severity, Severity::Warning, "{}", len[0].message);
    assert_eq!(with_code(&report, FindingCode::SampleRateMismatch).len(), 1);
}
