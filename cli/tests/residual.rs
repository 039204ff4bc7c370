//! `--residual FILE.wav`: the residual as delivered and corrected, as 32-bit float WAV at the
//! mix's rate and channels; a missing stem is what the delivered residual holds, a shifted
//! stem vanishes from the corrected one; an output that cannot be written is exit 2 naming
//! it, with the report still written.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::synth::{self, SynthStem, WavFormat};

mod common;
use common::{p, stemcheck};

const SR: u32 = 48_000;

/// The demo song's mix and stems in `dir`, each stem through `change` (`None`: left out).
fn delivery(dir: &Path, change: impl Fn(&SynthStem) -> Option<Vec<f32>>) -> Vec<SynthStem> {
    let stems = synth::demo_song(SR, 6.0);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join("Song_Mix.wav"), 2, SR, WavFormat::Float32, &mix).unwrap();
    for s in &stems {
        if let Some(samples) = change(s) {
            let path = dir.join(format!("Song_{}.wav", s.name));
            let channels = (samples.len() / s.frames()) as u16;
            synth::write_wav(&path, channels, SR, WavFormat::Float32, &samples).unwrap();
        }
    }
    stems
}

/// A WAV written by `--residual`: checked to be 32-bit float stereo at 48 kHz.
fn read_residual(path: &Path) -> Vec<f32> {
    let reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.sample_format, hound::SampleFormat::Float, "{spec:?}");
    assert_eq!(spec.bits_per_sample, 32, "{spec:?}");
    assert_eq!(spec.channels, 2, "{spec:?}");
    assert_eq!(spec.sample_rate, SR, "{spec:?}");
    reader.into_samples::<f32>().map(Result::unwrap).collect()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// `s` as stereo the way the mix holds it (a mono stem at the centre, constant power).
fn as_mixed(s: &SynthStem) -> Vec<f32> {
    if s.channels == 2 {
        return s.samples.clone();
    }
    let g = std::f32::consts::FRAC_1_SQRT_2;
    s.samples.iter().flat_map(|&x| [g * x, g * x]).collect()
}

/// Every stem delivered as stereo as the mix holds it, so that each enters the sum as
/// delivered at unity gain: the residual is then exactly what is missing. (A mono stem enters
/// it at the pan position the fit finds, which a missing part correlated with it moves by a
/// hair: -60 dB or so, not float rounding.)
#[test]
fn a_missing_stem_is_the_delivered_residual() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let stems = delivery(dir.path(), |s| (s.name != "Keys").then(|| as_mixed(s)));
    let keys = stems.iter().find(|s| s.name == "Keys").unwrap();
    assert_eq!(keys.channels, 2);
    let res = out.path().join("res.wav");
    let run = stemcheck(&["check", p(dir.path()), "--residual", p(&res)]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let delivered = read_residual(&res);
    assert_eq!(delivered.len(), keys.samples.len());
    let worst = delivered
        .iter()
        .zip(&keys.samples)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst < 1e-5,
        "residual differs from the missing stem by {worst}"
    );
    assert!(rms(&keys.samples) > 0.01);
    // The corrected residual is written beside it, in the same format.
    let corrected = read_residual(&out.path().join("res.corrected.wav"));
    assert_eq!(corrected.len(), delivered.len());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("res.corrected.wav"), "{stderr}");
}

#[test]
fn a_shifted_stem_is_gone_from_the_corrected_residual_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // Keys 480 samples late, whole (the file is longer): nothing of it is cut off.
    let stems = delivery(dir.path(), |s| {
        Some(if s.name == "Keys" {
            let mut late = vec![0.0f32; 480 * s.channels as usize];
            late.extend_from_slice(&s.samples);
            late
        } else {
            s.samples.clone()
        })
    });
    let mix = synth::mix_down(&stems, 2);
    let res = out.path().join("shifted.wav");
    let run = stemcheck(&["check", p(dir.path()), "--residual", p(&res), "--json", "-"]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "start_offset"),
        "{report:#}"
    );
    let delivered = read_residual(&res);
    let corrected = read_residual(&out.path().join("shifted.corrected.wav"));
    let (mix_rms, d, c) = (rms(&mix), rms(&delivered), rms(&corrected));
    let db = |x: f64| 20.0 * (x / mix_rms).log10();
    assert!(db(d) > -30.0, "delivered residual {:.1} dB re mix", db(d));
    assert!(db(c) < -80.0, "corrected residual {:.1} dB re mix", db(c));
    // The null depths the report gives are the residuals written.
    let rec = &report["reconciliation"];
    let null = rec["null_depth_db"].as_f64().unwrap();
    assert!((db(d) - null).abs() < 1.0, "{} vs {null}", db(d));
}

#[test]
fn an_unwritable_residual_is_exit_two_and_the_report_stands() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    delivery(dir.path(), |s| Some(s.samples.clone()));
    let json = out.path().join("report.json");
    let bad = out.path().join("no such folder").join("res.wav");
    let run = stemcheck(&[
        "check",
        p(dir.path()),
        "--json",
        p(&json),
        "--residual",
        p(&bad),
    ]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains(p(&bad)), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["verdict"], "pass", "{report:#}");
    // Never written over a file checked.
    let mix = dir.path().join("Song_Mix.wav");
    let before = std::fs::read(&mix).unwrap();
    let run = stemcheck(&["check", p(dir.path()), "--residual", p(&mix)]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(String::from_utf8_lossy(&run.stderr).contains("the mix or one of the stems checked"));
    assert_eq!(std::fs::read(&mix).unwrap(), before);
}

/// Decodes standard base64 (the test's own, independent of the writer's).
fn unbase64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::new();
    for quad in text.as_bytes().chunks(4) {
        let pad = quad.iter().filter(|&&c| c == b'=').count();
        let n = quad
            .iter()
            .map(|&c| if c == b'=' { 0 } else { u32::from(value(c)) })
            .fold(0u32, |n, v| n << 6 | v);
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    out
}

#[test]
fn the_report_embeds_a_short_loud_excerpt_of_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    delivery(dir.path(), |s| (s.name != "Keys").then(|| as_mixed(s)));
    let html = out.path().join("report.html");
    let run = stemcheck(&[
        "check",
        p(dir.path()),
        "--report",
        p(&html),
        "--embed-residual",
    ]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    let at = page.find("<audio").expect("an audio element");
    let src = &page[at..];
    let start = src.find("data:audio/wav;base64,").unwrap() + "data:audio/wav;base64,".len();
    let data = &src[start..start + src[start..].find('"').unwrap()];
    assert!(
        data.len() <= (1 << 20) * 4 / 3 + 4,
        "{} base64 bytes",
        data.len()
    );
    let wav = unbase64(data);
    let reader = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.bits_per_sample, spec.sample_rate),
        (1, 16, SR)
    );
    let seconds = reader.duration() as f64 / f64::from(SR);
    assert!((1.0..=10.0).contains(&seconds), "{seconds} s");
    let samples: Vec<i16> = reader.into_samples::<i16>().map(Result::unwrap).collect();
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak > 20_000, "raised to be heard: peak {peak}");
    // Without --report there is nothing to embed it in.
    let run = stemcheck(&["check", p(dir.path()), "--embed-residual"]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
}
