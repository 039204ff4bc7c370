//! Deliveries in the containers and states engineers send: RF64/BW64, WAVs written through a
//! pipe (header sizes never finalised), BWF time stamps that agree or disagree with the audio.
//! Every file is written here, byte by byte.

mod common;

use std::path::Path;

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::report::Container;
use analyzer_core::{FindingCode, Report, Severity};
use common::*;

const RATE: u32 = 48_000;
const FRAMES: usize = 48_000;
const HOUR: u64 = 3600 * RATE as u64;

/// Drums, bass and their sum as the mix (interleaved stereo).
fn parts() -> [(&'static str, Vec<f32>); 3] {
    let drums = tone(1, 2, FRAMES, RATE);
    let bass = tone(2, 2, FRAMES, RATE);
    let mix: Vec<f32> = drums.iter().zip(&bass).map(|(a, b)| a + b).collect();
    [
        ("Song_Drums.wav", drums),
        ("Song_Bass.wav", bass),
        ("Song_Mix.wav", mix),
    ]
}

fn check(dir: &Path) -> Report {
    let opts = Options {
        threads: 2,
        ..Options::default()
    };
    check_paths(&[dir.to_path_buf()], &opts).expect("a delivery of readable files always runs")
}

/// A `bext` chunk whose TimeReference is `stamp`.
fn bext(stamp: u64) -> Chunk {
    let mut body = vec![0u8; 602];
    body[338..346].copy_from_slice(&stamp.to_le_bytes());
    Chunk::new(b"bext", body)
}

/// A float stereo WAV with a `bext` after its data (where many BWF writers put it).
fn stamped(samples: &[f32], stamp: u64) -> Vec<u8> {
    riff(&[
        Chunk::new(b"fmt ", fmt_body(3, 2, RATE, 32)),
        Chunk::new(b"data", f32_bytes(samples)),
        bext(stamp),
    ])
}

/// The same audio as RF64 (or BW64): sizes in ds64, all-ones in the 32-bit fields.
fn rf64(magic: &[u8; 4], samples: &[f32], stamp: Option<u64>) -> Vec<u8> {
    let data = f32_bytes(samples);
    let fmt = fmt_body(3, 2, RATE, 32);
    let mut v = magic.to_vec();
    v.extend_from_slice(&u32::MAX.to_le_bytes());
    v.extend_from_slice(b"WAVE");
    v.extend_from_slice(b"ds64");
    v.extend_from_slice(&28u32.to_le_bytes());
    let riff_at = v.len();
    v.extend_from_slice(&0u64.to_le_bytes());
    v.extend_from_slice(&(data.len() as u64).to_le_bytes());
    v.extend_from_slice(&(samples.len() as u64 / 2).to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(b"fmt ");
    v.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    v.extend_from_slice(&fmt);
    v.extend_from_slice(b"data");
    v.extend_from_slice(&u32::MAX.to_le_bytes());
    v.extend_from_slice(&data);
    if let Some(stamp) = stamp {
        let b = bext(stamp);
        v.extend_from_slice(&b.id);
        v.extend_from_slice(&b.size.to_le_bytes());
        v.extend_from_slice(&b.body);
    }
    let riff_bytes = v.len() as u64 - 8;
    v[riff_at..riff_at + 8].copy_from_slice(&riff_bytes.to_le_bytes());
    v
}

/// As a writer into a pipe leaves it: RIFF and data sizes `size` (0xFFFFFFFF or 0).
fn piped(samples: &[f32], size: u32) -> Vec<u8> {
    let mut v = riff(&[
        Chunk::new(b"fmt ", fmt_body(3, 2, RATE, 32)),
        Chunk::lying(b"data", size, f32_bytes(samples)),
    ]);
    v[4..8].copy_from_slice(&size.to_le_bytes());
    v
}

fn codes(report: &Report, code: FindingCode) -> Vec<&analyzer_core::report::Finding> {
    report.findings_with(code).collect()
}

#[test]
fn piped_delivery_is_read_whole_with_one_note() {
    let dir = tempfile::tempdir().unwrap();
    for ((name, s), size) in parts().iter().zip([u32::MAX, 0, u32::MAX]) {
        std::fs::write(dir.path().join(name), piped(s, size)).unwrap();
    }
    let report = check(dir.path());
    assert!(
        codes(&report, FindingCode::UnreadableFile).is_empty(),
        "{:#?}",
        report.findings
    );
    let notes = codes(&report, FindingCode::UnfinalisedHeader);
    assert_eq!(notes.len(), 1, "{:#?}", report.findings);
    assert_eq!(notes[0].severity, Severity::Info);
    assert_eq!(notes[0].files.len(), 3, "{:?}", notes[0].files);
    assert!(notes[0].message.contains("never finalised"));
    for f in &report.files {
        assert_eq!(f.frames, Some(FRAMES as u64), "{}", f.path);
    }
    assert_eq!(codes(&report, FindingCode::SumMatchesMix).len(), 1);
    assert!(
        report
            .to_json()
            .contains("\"code\": \"unfinalised_header\"")
    );
}

#[test]
fn rf64_and_bw64_deliveries_reconcile_and_say_their_container() {
    let dir = tempfile::tempdir().unwrap();
    let [drums, bass, mix] = parts();
    std::fs::write(dir.path().join(drums.0), rf64(b"RF64", &drums.1, None)).unwrap();
    std::fs::write(dir.path().join(bass.0), rf64(b"BW64", &bass.1, None)).unwrap();
    std::fs::write(dir.path().join(mix.0), float_stereo(RATE, &mix.1)).unwrap();
    let report = check(dir.path());
    let container = |name: &str| {
        report
            .files
            .iter()
            .find(|f| f.path == name)
            .and_then(|f| f.container)
    };
    assert_eq!(container(drums.0), Some(Container::Rf64));
    assert_eq!(container(bass.0), Some(Container::Bw64));
    assert_eq!(container(mix.0), Some(Container::Wav));
    assert!(
        codes(&report, FindingCode::UnreadableFile).is_empty()
            && codes(&report, FindingCode::UnfinalisedHeader).is_empty(),
        "{:#?}",
        report.findings
    );
    assert_eq!(codes(&report, FindingCode::SumMatchesMix).len(), 1);
    assert!(report.to_json().contains("\"container\": \"rf64\""));
}

/// A stem stamped a second after the mix whose audio lines up with the mix from the file
/// start: spotted to timecode it lands a second late.
#[test]
fn stem_stamped_late_but_aligned_is_a_timecode_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let [drums, bass, mix] = parts();
    std::fs::write(dir.path().join(drums.0), stamped(&drums.1, HOUR + 48_000)).unwrap();
    std::fs::write(dir.path().join(bass.0), rf64(b"RF64", &bass.1, Some(HOUR))).unwrap();
    std::fs::write(dir.path().join(mix.0), stamped(&mix.1, HOUR)).unwrap();
    let report = check(dir.path());
    let found = codes(&report, FindingCode::TimecodeMismatch);
    assert_eq!(found.len(), 1, "{:#?}", report.findings);
    let f = found[0];
    assert_eq!(f.files, [drums.0]);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.measured["misplacement_samples"], 48_000);
    assert!(f.message.contains("1.000 s late"), "{}", f.message);
    let stamp = |name: &str| {
        report
            .files
            .iter()
            .find(|f| f.path == name)
            .and_then(|f| f.time_reference_samples)
    };
    assert_eq!(stamp(drums.0), Some(HOUR + 48_000));
    assert_eq!(stamp(bass.0), Some(HOUR));
    // The stamps are all there is against it: the audio sums as delivered.
    assert_eq!(codes(&report, FindingCode::SumMatchesMix).len(), 1);
}

#[test]
fn unstamped_and_agreeing_deliveries_have_no_timecode_finding() {
    let dir = tempfile::tempdir().unwrap();
    for (name, s) in parts() {
        std::fs::write(dir.path().join(name), float_stereo(RATE, &s)).unwrap();
    }
    let report = check(dir.path());
    assert!(codes(&report, FindingCode::TimecodeMismatch).is_empty());
    assert!(
        report
            .files
            .iter()
            .all(|f| f.time_reference_samples.is_none())
    );
    assert!(
        report
            .to_json()
            .contains("\"time_reference_samples\": null")
    );

    for (name, s) in parts() {
        std::fs::write(dir.path().join(name), stamped(&s, HOUR)).unwrap();
    }
    let report = check(dir.path());
    assert!(
        codes(&report, FindingCode::TimecodeMismatch).is_empty(),
        "{:#?}",
        report.findings
    );
}
