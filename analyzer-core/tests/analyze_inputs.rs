//! What enters the stem sum, through the whole check ([`check_paths`], what the CLI and the
//! plugin run): a stem at another sample rate is resampled for the reconciliation and
//! reconciles (still a `sample_rate_mismatch`); a stem that cannot be read is
//! `reconciliation_incomplete`, and what the sum misses may be its part.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::resample::ResampledSource;
use analyzer_core::source::{FrameSource, MemorySource};
use analyzer_core::synth::{self, SynthStem, WavFormat};
use analyzer_core::{FindingCode, Report, Severity};

const RATE: u32 = 48_000;

fn check(dir: &Path) -> Report {
    let opts = Options {
        threads: 2,
        ..Options::default()
    };
    check_paths(&[dir.to_path_buf()], &opts).unwrap()
}

fn codes(report: &Report) -> Vec<(FindingCode, Severity, Vec<String>)> {
    report
        .findings
        .iter()
        .map(|f| (f.code, f.severity, f.files.clone()))
        .collect()
}

/// `stem` rendered at `rate` (resampled with the analyzer's own rubato adapter).
fn at_rate(stem: &SynthStem, rate: u32) -> Vec<f32> {
    let ch = stem.channels as usize;
    let src = MemorySource::new("s", ch, RATE, stem.samples.clone()).unwrap();
    let mut src = ResampledSource::new(Box::new(src), rate).unwrap();
    let mut out = vec![0.0f32; src.frames() as usize * ch];
    src.read_window(0, &mut out).unwrap();
    out
}

/// The demo song's stems and mix in `dir`, the stem named `odd` written at `odd_rate`.
fn delivery(dir: &Path, odd: &str, odd_rate: u32) {
    let stems = synth::demo_song(RATE, 8.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join("Song_Mix.wav"), 2, RATE, WavFormat::Float32, &mix).unwrap();
    for s in &stems {
        let path = dir.join(format!("Song_{}.wav", s.name));
        if s.name == odd {
            let samples = at_rate(s, odd_rate);
            synth::write_wav(&path, s.channels, odd_rate, WavFormat::Float32, &samples).unwrap();
        } else {
            synth::write_wav(&path, s.channels, RATE, WavFormat::Float32, &s.samples).unwrap();
        }
    }
}

/// A correct stem delivered at 44.1 kHz beside a 48 kHz mix enters the sum resampled: the
/// stems reconcile (no offset, gain or missing part invented), and the other rate is still
/// reported.
#[test]
fn a_stem_at_another_rate_is_resampled_into_the_sum() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), "Keys", 44_100);
    let report = check(dir.path());
    let found = codes(&report);
    eprintln!(
        "{found:#?}\n{:?}",
        report.reconciliation.as_ref().map(|r| r.null_depth_db)
    );
    assert!(
        found
            .iter()
            .any(|(c, _, files)| *c == FindingCode::SampleRateMismatch
                && files.iter().any(|f| f == "Song_Keys.wav")),
        "{found:?}"
    );
    for bad in [
        FindingCode::StartOffset,
        FindingCode::GainMismatch,
        FindingCode::MissingElement,
        FindingCode::PolarityInverted,
        FindingCode::UnexplainedResidual,
    ] {
        assert!(
            found.iter().all(|(c, _, _)| *c != bad),
            "{bad:?}: {found:?}"
        );
    }
    let rec = report.reconciliation.as_ref().expect("reconciled");
    let null = rec.null_depth_db.expect("a null depth");
    assert!(null < -40.0, "null {null:.1} dB");
    let keys = report
        .files
        .iter()
        .find(|f| f.path == "Song_Keys.wav")
        .unwrap();
    assert_eq!(keys.offset_samples, Some(0));
    assert!(
        keys.gain_db.is_some_and(|g| g.abs() < 0.05),
        "{:?}",
        keys.gain_db
    );
}

/// A stem that cannot be read is left out of the sum and said so: `reconciliation_incomplete`
/// and `excluded_files` name it, the missing content it leaves may be its part, and the other
/// stems are not blamed for its absence.
#[test]
fn an_unreadable_stem_is_an_incomplete_reconciliation() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), "", RATE);
    std::fs::write(
        dir.path().join("Song_Keys.wav"),
        b"RIFF\x10\0\0\0WAVEjunk not audio",
    )
    .unwrap();
    let report = check(dir.path());
    let found = codes(&report);
    let rec = report.reconciliation.as_ref().expect("reconciled");
    assert_eq!(rec.excluded_files.len(), 1, "{:?}", rec.excluded_files);
    assert_eq!(rec.excluded_files[0].path, "Song_Keys.wav");
    assert!(rec.excluded_files[0].reason.starts_with("unreadable"));
    let incomplete = report
        .findings
        .iter()
        .find(|f| f.code == FindingCode::ReconciliationIncomplete)
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(incomplete.severity, Severity::Warning);
    assert_eq!(incomplete.files, vec!["Song_Keys.wav".to_owned()]);
    let missing: Vec<_> = report
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.code,
                FindingCode::MissingElement
                    | FindingCode::MissingFxReturn
                    | FindingCode::UnexplainedResidual
            )
        })
        .collect();
    assert!(
        !missing.is_empty(),
        "the keys are missing from the sum: {found:?}"
    );
    for f in missing {
        assert!(f.message.contains("Song_Keys.wav"), "{}", f.message);
        assert_eq!(
            f.measured["may_be_excluded"],
            serde_json::json!(["Song_Keys.wav"])
        );
    }
    for (code, severity, files) in &found {
        if matches!(code, FindingCode::GainMismatch | FindingCode::StartOffset) {
            assert!(*severity < Severity::Error, "{code:?} {files:?}: {found:?}");
        }
    }
}
