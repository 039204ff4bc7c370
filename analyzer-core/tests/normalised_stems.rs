//! Stems each normalised on export to one sample peak: one set-level `gain_mismatch` that
//! names the normalisation and lists every stem's gain, through the check's own path.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use analyzer_core::FindingCode;
use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::reconcile::synth::Song;
use analyzer_core::report::Severity;
use analyzer_core::synth::{WavFormat, write_wav};

#[test]
fn normalised_stems_are_one_gain_finding() {
    let dir = tempfile::tempdir().unwrap();
    let song = Song::new(48_000, 8.0, 5, 21);
    let mix = song.mix();
    write_wav(
        &dir.path().join("Song_Mix.wav"),
        2,
        48_000,
        WavFormat::Float32,
        &mix,
    )
    .unwrap();
    let target = 10f32.powf(-1.0 / 20.0); // -1 dBFS
    for s in &song.stems {
        let peak = s.samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let norm: Vec<f32> = s.samples.iter().map(|x| x * target / peak).collect();
        let path = dir.path().join(format!("Song_{}.wav", s.name));
        write_wav(&path, s.channels as u16, 48_000, WavFormat::Float32, &norm).unwrap();
    }
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    let report = check_paths(&[dir.path().to_path_buf()], &opts).unwrap();
    let gm: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::GainMismatch)
        .collect();
    assert_eq!(gm.len(), 1, "{:#?}", report.findings);
    assert!(gm[0].files.len() >= 3, "{:?}", gm[0]);
    assert_eq!(gm[0].severity, Severity::Error);
    assert!(gm[0].message.contains("normalised"), "{}", gm[0].message);
    let peak = gm[0].measured["normalised_peak_dbfs"].as_f64().unwrap();
    assert!((peak + 1.0).abs() < 0.05, "{peak}");
    assert_eq!(
        gm[0].measured["gains_db"].as_object().unwrap().len(),
        gm[0].files.len()
    );
}
