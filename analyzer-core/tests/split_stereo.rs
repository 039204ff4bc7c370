//! Stereo stems delivered as two mono files each (a multi-mono export, `Bass.L.wav` and
//! `Bass.R.wav`): read as one stereo stem per pair through the check's own path, so a correct
//! delivery passes and a fault of a pair is one finding naming both its files.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::FindingCode;
use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::reconcile::synth::Song;
use analyzer_core::report::{Report, Severity, Verdict};
use analyzer_core::synth::{WavFormat, write_wav};

const RATE: u32 = 48_000;

/// How the pairs are delivered.
#[derive(Clone, Copy)]
enum Fault {
    None,
    /// The first stereo stem's two files start `n` samples late.
    LatePair(usize),
    /// The first stereo stem's files named the wrong way round.
    SwappedNames,
}

/// Writes the song's mix and its stems into `dir`, every stereo stem as `<name>.L.wav` and
/// `<name>.R.wav`; returns the first stereo stem's name.
fn write_split(dir: &Path, song: &Song, fault: Fault) -> String {
    write_mix(dir, song);
    let mut first = None;
    for s in &song.stems {
        if s.channels != 2 {
            let path = dir.join(format!("Song_{}.wav", s.name));
            write_wav(&path, 1, RATE, WavFormat::Float32, &s.samples).unwrap();
            continue;
        }
        let is_first = first.is_none();
        first.get_or_insert_with(|| s.name.clone());
        let mut halves: Vec<Vec<f32>> = (0..2)
            .map(|c| s.samples.iter().skip(c).step_by(2).copied().collect())
            .collect();
        match fault {
            Fault::LatePair(n) if is_first => {
                for h in &mut halves {
                    h.splice(0..0, std::iter::repeat_n(0.0, n));
                    h.truncate(h.len() - n);
                }
            }
            Fault::SwappedNames if is_first => halves.swap(0, 1),
            _ => {}
        }
        for (side, h) in ["L", "R"].iter().zip(&halves) {
            let path = dir.join(format!("Song_{}.{side}.wav", s.name));
            write_wav(&path, 1, RATE, WavFormat::Float32, h).unwrap();
        }
    }
    first.expect("the song has a stereo stem")
}

fn check(fault: Fault) -> (Report, String) {
    let dir = tempfile::tempdir().unwrap();
    let song = Song::new(RATE, 8.0, 5, 21);
    let first = write_split(dir.path(), &song, fault);
    (check_dir(dir.path()), first)
}

fn write_mix(dir: &Path, song: &Song) {
    let mix = song.mix();
    write_wav(&dir.join("Song_Mix.wav"), 2, RATE, WavFormat::Float32, &mix).unwrap();
}

/// `check` of the delivery folder `dir`, on one thread.
fn check_dir(dir: &Path) -> Report {
    let opts = Options {
        threads: 1,
        ..Options::default()
    };
    check_paths(&[dir.to_path_buf()], &opts).unwrap()
}

fn pair_files(name: &str) -> Vec<String> {
    vec![format!("Song_{name}.L.wav"), format!("Song_{name}.R.wav")]
}

#[test]
fn a_correct_multi_mono_export_passes() {
    let (report, first) = check(Fault::None);
    assert_eq!(report.verdict, Verdict::Pass, "{:#?}", report.findings);
    let null = report
        .reconciliation
        .as_ref()
        .unwrap()
        .null_depth_db
        .unwrap();
    assert!(null < -60.0, "{null}");
    let split: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::SplitStereo)
        .collect();
    assert_eq!(split.len(), 1, "{:#?}", report.findings);
    assert_eq!(split[0].severity, Severity::Info);
    for f in pair_files(&first) {
        assert!(split[0].files.contains(&f), "{:?}", split[0].files);
        // Both files get the pair's fit.
        let file = report.files.iter().find(|r| r.path == f).unwrap();
        assert_eq!(file.offset_samples, Some(0), "{f}");
        assert!(file.gain_db.unwrap().abs() < 0.1, "{f}: {:?}", file.gain_db);
    }
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.code != FindingCode::DuplicateStem && f.severity < Severity::Warning),
        "{:#?}",
        report.findings
    );
}

#[test]
fn a_late_pair_is_one_offset_naming_both_files() {
    let (report, first) = check(Fault::LatePair(37));
    let offsets: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::StartOffset)
        .collect();
    assert_eq!(offsets.len(), 1, "{:#?}", report.findings);
    assert_eq!(offsets[0].files, pair_files(&first));
    assert_eq!(offsets[0].measured["offset_samples"].as_i64(), Some(37));
    assert!(
        offsets[0].fix.contains("each of these files"),
        "{}",
        offsets[0].fix
    );
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning && f.code != FindingCode::StartOffset)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn a_pair_named_the_wrong_way_round_is_swapped_channels() {
    let (report, first) = check(Fault::SwappedNames);
    let swapped: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ChannelsSwapped)
        .collect();
    assert_eq!(swapped.len(), 1, "{:#?}", report.findings);
    assert_eq!(swapped[0].files, pair_files(&first));
    assert!(
        swapped[0].fix.contains("two files' names"),
        "{}",
        swapped[0].fix
    );
}

/// Two mono stems whose names only look like a pair (`Gtr L.wav`, `Gtr R.wav`: two parts,
/// each panned part-way) null far deeper read as stems of their own than as one stereo stem:
/// the pairing is refuted and the report reads them as the mono stems they are.
#[test]
fn names_that_only_look_like_a_pair_are_read_as_mono_stems() {
    let dir = tempfile::tempdir().unwrap();
    let song = Song::new(RATE, 8.0, 5, 21);
    write_mix(dir.path(), &song);
    let mut sides = ["L", "R"].iter();
    for s in &song.stems {
        let name = match (s.channels, s.pan[0].min(s.pan[1]) > 0.2) {
            // Panned part-way: named as if one side of a pair.
            (1, true) => match sides.next() {
                Some(side) => format!("Song_Gtr {side}.wav"),
                None => format!("Song_{}.wav", s.name),
            },
            _ => format!("Song_{}.wav", s.name),
        };
        let path = dir.path().join(name);
        write_wav(
            &path,
            s.channels as u16,
            RATE,
            WavFormat::Float32,
            &s.samples,
        )
        .unwrap();
    }
    assert!(
        sides.next().is_none(),
        "the song has two mono stems panned part-way"
    );
    let report = check_dir(dir.path());
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.code != FindingCode::SplitStereo && f.severity < Severity::Error),
        "{:#?}",
        report.findings
    );
    let corrected = report
        .reconciliation
        .as_ref()
        .unwrap()
        .corrected_null_depth_db
        .unwrap();
    assert!(corrected < -60.0, "{corrected}");
}
