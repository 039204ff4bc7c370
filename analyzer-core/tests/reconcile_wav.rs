//! Reconciliation of real WAV files written to a temporary folder.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use analyzer_core::profile::MASTERING;
use analyzer_core::reconcile::reconcile;
use analyzer_core::reconcile::synth::Song;
use analyzer_core::report::{FindingCode, Polarity};
use analyzer_core::synth::{WavFormat, write_wav};

fn delivery(dir: &Path, song: &Song, mix: &[f32], int24: bool) -> (PathBuf, Vec<PathBuf>) {
    let format = if int24 {
        WavFormat::Int24
    } else {
        WavFormat::Float32
    };
    let mix_path = dir.join("mix.wav");
    write_wav(&mix_path, 2, song.sample_rate, format, mix).unwrap();
    let stems = song
        .stems
        .iter()
        .map(|s| {
            let p = dir.join(format!("{}.wav", s.name));
            write_wav(&p, s.channels as u16, song.sample_rate, format, &s.samples).unwrap();
            p
        })
        .collect();
    (mix_path, stems)
}

#[test]
fn float_files_with_faults() {
    let dir = tempfile::tempdir().unwrap();
    let mut song = Song::new(48_000, 10.0, 6, 21);
    let mix = song.mix();
    song.stems[1].shift(37);
    song.stems[2].invert();
    song.stems[4].scale_db(-3.5);
    let (mix_path, stems) = delivery(dir.path(), &song, &mix, false);
    let refs: Vec<&Path> = stems.iter().map(PathBuf::as_path).collect();
    let last = std::cell::Cell::new(0u64);
    let r = reconcile(&mix_path, &refs, &MASTERING, &|n| last.set(n)).unwrap();
    assert_eq!(last.get(), song.frames as u64, "progress reaches the end");
    let fits: Vec<_> = r.stems.iter().map(|f| f.clone().unwrap()).collect();
    assert_eq!(
        fits.iter().map(|f| f.offset_samples).collect::<Vec<_>>(),
        [0, 37, 0, 0, 0, 0]
    );
    assert_eq!(fits[2].polarity, Polarity::Inverted);
    assert!((fits[4].gain_db - 3.5).abs() < 1e-3);
    assert!(r.reconciliation.fitted_null_depth_db.unwrap() < -100.0);
    let has = |code, file: &Path| {
        r.findings
            .iter()
            .any(|f| f.code == code && f.files.contains(&file.display().to_string()))
    };
    assert!(has(FindingCode::StartOffset, &stems[1]));
    assert!(has(FindingCode::PolarityInverted, &stems[2]));
    assert!(has(FindingCode::GainMismatch, &stems[4]));
    assert_eq!(
        r.reconciliation.mix.as_deref(),
        Some(mix_path.display().to_string().as_str())
    );
}

#[test]
fn clean_24_bit_files_null_and_unreadable_stems_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let song = Song::new(48_000, 8.0, 5, 22);
    let mix = song.mix();
    let (mix_path, mut stems) = delivery(dir.path(), &song, &mix, true);
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"RIFF....not a wave file").unwrap();
    stems.insert(2, junk);
    let refs: Vec<&Path> = stems.iter().map(PathBuf::as_path).collect();
    let r = reconcile(&mix_path, &refs, &MASTERING, &|_| {}).unwrap();
    assert_eq!(r.stems.len(), 6);
    assert!(r.stems[2].is_none(), "the unreadable file has no fit");
    for f in r.stems.iter().flatten() {
        assert_eq!(f.offset_samples, 0);
        assert!(f.gain_db.abs() < 0.01, "{f:?}");
    }
    let null = r.reconciliation.null_depth_db.unwrap();
    assert!(null < -80.0, "24-bit null floor: {null}");
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == FindingCode::SumMatchesMix)
    );
}

#[test]
fn unreadable_mix_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mix = dir.path().join("mix.wav");
    std::fs::write(&mix, b"nope").unwrap();
    let err = reconcile(&mix, &[], &MASTERING, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("mix.wav"), "{err}");
}
