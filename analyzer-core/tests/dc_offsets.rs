//! DC offsets through the check's own path: a stem's offset the mix does not carry is one
//! `dc_offset` error that names the stem and says what it does to the sum (not an unexplained
//! residual and gain errors); the same offset carried into the mix is one warning naming both;
//! an offset of the mix's own names the mix.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::reconcile::synth::Song;
use analyzer_core::report::Severity;
use analyzer_core::synth::{WavFormat, write_wav};
use analyzer_core::{FindingCode, Report};

const SR: u32 = 48_000;

/// Writes the song's stems (`dc` added to stem `shifted`) and `mix` as float files, checks the
/// folder.
fn check(song: &Song, shifted: usize, dc: f32, mix: &[f32]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Song_Mix.wav", 2, mix);
    for (i, s) in song.stems.iter().enumerate() {
        let add = if i == shifted { dc } else { 0.0 };
        let samples: Vec<f32> = s.samples.iter().map(|x| x + add).collect();
        write(
            dir.path(),
            &format!("Song_{}.wav", s.name),
            s.channels as u16,
            &samples,
        );
    }
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    check_paths(&[dir.path().to_path_buf()], &opts).unwrap()
}

fn write(dir: &Path, name: &str, channels: u16, samples: &[f32]) {
    write_wav(&dir.join(name), channels, SR, WavFormat::Float32, samples).unwrap();
}

fn names(files: &[String]) -> Vec<&str> {
    files
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .collect()
}

/// The only finding at warning or above is one `dc_offset`; returns it.
fn only_dc(r: &Report) -> &analyzer_core::Finding {
    let loud: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    assert_eq!(loud.len(), 1, "{:#?}", r.findings);
    assert_eq!(loud[0].code, FindingCode::DcOffset, "{:#?}", r.findings);
    loud[0]
}

#[test]
fn a_stem_offset_the_mix_lacks_is_named_as_what_breaks_the_sum() {
    let song = Song::new(SR, 8.0, 5, 33);
    let bass = 1;
    // -50 dBFS: under the mastering profile's dc_offset limit, so only the sum shows it.
    let r = check(&song, bass, 0.003, &song.mix());
    let f = only_dc(&r);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(
        names(&f.files),
        vec![format!("Song_{}.wav", song.stems[bass].name)]
    );
    assert!(f.message.contains("the mix does not"), "{}", f.message);
    let rec = r.reconciliation.as_ref().unwrap();
    let delivered = rec.null_depth_db.unwrap();
    let corrected = rec.corrected_null_depth_db.unwrap();
    // As delivered the constant keeps the sum from nulling; without it the stems do.
    assert!(delivered > -40.0, "{delivered}");
    assert!(corrected < -60.0, "{corrected}");
    assert_eq!(
        f.measured["null_depth_db"].as_f64().unwrap().round(),
        delivered.round()
    );
    let residual_dc = f.measured["residual_dc_dbfs"].as_f64().unwrap();
    assert!(
        (residual_dc - 20.0 * 0.003f64.log10()).abs() < 0.1,
        "{residual_dc}"
    );
    // The per-stem fit is the music's, not bent by the constant.
    for s in &r.files {
        if let Some(g) = s.gain_db {
            assert!(g.abs() < 0.05, "{}: {g}", s.path);
        }
    }
}

#[test]
fn a_stem_offset_the_mix_carries_is_one_finding_for_both() {
    let song = Song::new(SR, 8.0, 5, 34);
    let bass = 1;
    let mix: Vec<f32> = song.mix().iter().map(|x| x + 0.02).collect();
    let r = check(&song, bass, 0.02, &mix);
    let f = only_dc(&r);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        names(&f.files),
        vec![
            format!("Song_{}.wav", song.stems[bass].name),
            "Song_Mix.wav".to_owned()
        ]
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.code == FindingCode::SumMatchesMix)
    );
}

#[test]
fn an_offset_of_the_mix_alone_names_the_mix() {
    let song = Song::new(SR, 8.0, 5, 35);
    let mix: Vec<f32> = song.mix().iter().map(|x| x - 0.003).collect();
    let r = check(&song, 0, 0.0, &mix);
    let f = only_dc(&r);
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(names(&f.files), vec!["Song_Mix.wav"]);
    assert!(f.fix.contains("mix bus"), "{}", f.fix);
}
