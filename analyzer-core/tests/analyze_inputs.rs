//! What enters the stem sum, through the whole check ([`check_paths`], what the CLI and the
//! plugin run): a stem at another sample rate is resampled for the reconciliation and
//! reconciles (still a `sample_rate_mismatch`); a stem that cannot be read is
//! `reconciliation_incomplete`, and what the sum misses may be its part; among several files
//! that could be the mix, the one the stems sum to is the mix and the others are references.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::report::Role;
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
    delivery_named(
        dir,
        "Song_Mix.wav",
        |name| format!("Song_{name}.wav"),
        odd,
        odd_rate,
    );
}

/// [`delivery`] with the mix's file name and the stems' naming given; returns the mix.
fn delivery_named(
    dir: &Path,
    mix_name: &str,
    stem_name: impl Fn(&str) -> String,
    odd: &str,
    odd_rate: u32,
) -> Vec<f32> {
    let stems = synth::demo_song(RATE, 8.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join(mix_name), 2, RATE, WavFormat::Float32, &mix).unwrap();
    for s in &stems {
        let path = dir.join(stem_name(&s.name));
        if s.name == odd {
            let samples = at_rate(s, odd_rate);
            synth::write_wav(&path, s.channels, odd_rate, WavFormat::Float32, &samples).unwrap();
        } else {
            synth::write_wav(&path, s.channels, RATE, WavFormat::Float32, &s.samples).unwrap();
        }
    }
    mix
}

/// The mix mastered: 3 dB louder through a soft clipper.
fn master(dir: &Path, name: &str, mix: &[f32]) {
    let gain = 10f32.powf(3.0 / 20.0);
    let mastered: Vec<f32> = mix.iter().map(|&x| (gain * x).tanh()).collect();
    synth::write_wav(&dir.join(name), 2, RATE, WavFormat::Float32, &mastered).unwrap();
}

fn role_of(report: &Report, name: &str) -> Option<Role> {
    report
        .files
        .iter()
        .find(|f| f.path == name)
        .and_then(|f| f.role)
}

/// The stems reconcile against the mix: no finding about the sum above info.
fn assert_sum_matches(report: &Report, mix: &str) {
    let found = codes(report);
    let rec = report.reconciliation.as_ref().expect("reconciled");
    assert_eq!(rec.mix.as_deref(), Some(mix), "{found:?}");
    assert!(
        rec.null_depth_db.is_some_and(|n| n < -60.0),
        "{:?}",
        rec.null_depth_db
    );
    assert!(
        found
            .iter()
            .any(|(c, _, _)| *c == FindingCode::SumMatchesMix),
        "{found:?}"
    );
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

/// A mastered reference beside the mix is a reference: metered, not a stem, not in the sum,
/// not a duplicate or a length or an offset of the stems; one `mix_candidates` says which is
/// which and why.
#[test]
fn a_master_beside_the_mix_is_a_reference() {
    let dir = tempfile::tempdir().unwrap();
    let mix = delivery_named(
        dir.path(),
        "Song_Mix.wav",
        |n| format!("Song_{n}.wav"),
        "",
        RATE,
    );
    master(dir.path(), "Song_Master.wav", &mix);
    let report = check(dir.path());
    let found = codes(&report);
    assert_eq!(role_of(&report, "Song_Mix.wav"), Some(Role::Mix));
    assert_eq!(role_of(&report, "Song_Master.wav"), Some(Role::Reference));
    let reference = report
        .files
        .iter()
        .find(|f| f.path == "Song_Master.wav")
        .unwrap();
    assert!(
        reference.integrated_lufs.is_some(),
        "a reference is metered"
    );
    assert_eq!((reference.offset_samples, reference.gain_db), (None, None));
    assert_sum_matches(&report, "Song_Mix.wav");
    let candidates: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::MixCandidates)
        .collect();
    assert_eq!(candidates.len(), 1, "{found:?}");
    assert_eq!(candidates[0].severity, Severity::Info);
    assert_eq!(candidates[0].measured["chosen_by"], "content");
    assert!(
        candidates[0]
            .message
            .contains("Song_Master.wav is a reference")
    );
    for (code, severity, files) in &found {
        if *code != FindingCode::MixCandidates && files.iter().any(|f| f == "Song_Master.wav") {
            assert!(
                !matches!(
                    code,
                    FindingCode::DuplicateStem
                        | FindingCode::LengthMismatch
                        | FindingCode::StartOffset
                        | FindingCode::GainMismatch
                        | FindingCode::PolarityInverted
                ),
                "{code:?} {severity:?} names the reference: {found:?}"
            );
        }
    }
}

/// When the names would pick the master, the content picks the mix.
#[test]
fn the_mix_is_the_candidate_the_stems_sum_to() {
    let dir = tempfile::tempdir().unwrap();
    let mix = delivery_named(
        dir.path(),
        "Song_Mixdown.wav",
        |n| format!("Song_{n}.wav"),
        "",
        RATE,
    );
    // Shorter than the mix's name, so the name rule alone would take it.
    master(dir.path(), "Mix_Master.wav", &mix);
    let report = check(dir.path());
    assert_eq!(role_of(&report, "Song_Mixdown.wav"), Some(Role::Mix));
    assert_eq!(role_of(&report, "Mix_Master.wav"), Some(Role::Reference));
    assert_sum_matches(&report, "Song_Mixdown.wav");
}

/// A stem whose name says mix (a drum submix) is part of the sum, so it stays a stem.
#[test]
fn a_stem_named_like_a_mix_stays_a_stem() {
    let dir = tempfile::tempdir().unwrap();
    delivery_named(
        dir.path(),
        "Song_Mix.wav",
        |n| {
            if n == "Drums" {
                "Song_Drum_Mix.wav".to_owned()
            } else {
                format!("Song_{n}.wav")
            }
        },
        "",
        RATE,
    );
    let report = check(dir.path());
    let found = codes(&report);
    assert_eq!(
        role_of(&report, "Song_Drum_Mix.wav"),
        Some(Role::Stem),
        "{found:?}"
    );
    assert_sum_matches(&report, "Song_Mix.wav");
}
