//! "Write repaired set" (the reconciliation panel's button): analyzer-core's fix of a bounce
//! folder into `<bounce>-repaired` beside it, with the change log; an earlier repaired set is
//! never overwritten, the bounce is never touched, and a refusal writes nothing.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::fix::FixOptions;
use analyzer_core::report::Verdict;
use analyzer_core::synth::{self, SynthStem, WavFormat};
use stemcheck_plugin::reconcile::{
    CHANGE_LOG_JSON, CHANGE_LOG_TEXT, analyze_folder, repaired_folder, write_repaired,
};

const SR: u32 = 48_000;

/// The demo song as a delivery folder, the "Lead" stem written through `lead`.
fn delivery(dir: &Path, lead: impl Fn(&[f32]) -> Vec<f32>) {
    std::fs::create_dir_all(dir).unwrap();
    let stems = synth::demo_song(SR, 6.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join("Song_Mix.wav"), 2, SR, WavFormat::Int24, &mix).unwrap();
    for s in &stems {
        let samples: Vec<f32> = if s.name == "Lead" {
            lead(&s.samples)
        } else {
            s.samples.clone()
        };
        write_stem(dir, s, &samples);
    }
}

fn write_stem(dir: &Path, s: &SynthStem, samples: &[f32]) {
    let path = dir.join(format!("Song_{}.wav", s.name));
    synth::write_wav(&path, s.channels, SR, WavFormat::Int24, samples).unwrap();
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_inverted_stem_is_repaired_beside_the_bounce_and_the_repaired_set_passes() {
    let root = tempfile::tempdir().unwrap();
    let bounce = root.path().join("bounce-1");
    delivery(&bounce, |x| x.iter().map(|s| -s).collect());
    let before = listing(&bounce);
    assert_eq!(
        analyze_folder(&bounce, &Default::default())
            .unwrap()
            .verdict,
        Verdict::Fail
    );

    let repaired = write_repaired(&bounce, FixOptions::default()).unwrap();
    assert_eq!(repaired.folder, root.path().join("bounce-1-repaired"));
    assert!(
        repaired.log_text.contains("Song_Lead.wav"),
        "{}",
        repaired.log_text
    );
    assert!(repaired.folder.join(CHANGE_LOG_JSON).is_file());
    let text = std::fs::read_to_string(repaired.folder.join(CHANGE_LOG_TEXT)).unwrap();
    assert_eq!(text, repaired.log_text);
    let report = analyze_folder(&repaired.folder, &Default::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Pass, "{:#?}", report.findings);
    // The bounce is untouched, and nothing else was left beside it.
    assert_eq!(listing(&bounce), before);
    let mut names: Vec<String> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["bounce-1", "bounce-1-repaired"]);

    // A second repair goes next to the first, never over it.
    assert_eq!(
        repaired_folder(&bounce).unwrap(),
        root.path().join("bounce-1-repaired-2")
    );
    let second = write_repaired(&bounce, FixOptions::default()).unwrap();
    assert_eq!(second.folder, root.path().join("bounce-1-repaired-2"));
    assert_eq!(
        listing(&repaired.folder).len(),
        listing(&second.folder).len()
    );
}

#[test]
fn a_refused_repair_writes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let bounce = root.path().join("bounce-2");
    // The lead 6 dB down: a gain finding, which the fix acts on only with match_gains.
    delivery(&bounce, |x| x.iter().map(|s| s * 0.5).collect());
    let err = write_repaired(&bounce, FixOptions::default()).unwrap_err();
    assert!(err.is_refusal(), "{err}");
    let names: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "only the bounce itself remains");
}
