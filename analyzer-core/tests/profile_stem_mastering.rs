//! The `stem-mastering` profile: stems without the mix-bus processing the reference mix has
//! are what the profile asks for, so the bus compression is info (gain reduction measured);
//! under `mastering` the same delivery fails.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use analyzer_core::FindingCode;
use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::profile::{MASTERING, Profile, STEM_MASTERING};
use analyzer_core::report::{Severity, Verdict};
use analyzer_core::synth::{WavFormat, demo_song, mix_down, write_wav};

const SR: u32 = 48_000;

/// A feed-forward compressor (5 ms attack, 150 ms release, 4:1 over -24 dBFS), the mix bus.
fn compress(x: &[f32]) -> Vec<f32> {
    let a_att = (-1.0 / (0.005 * SR as f32)).exp();
    let a_rel = (-1.0 / (0.150 * SR as f32)).exp();
    let mut env = 0.0f32;
    let mut out = vec![0.0; x.len()];
    for (i, fr) in x.chunks_exact(2).enumerate() {
        let p = fr[0].abs().max(fr[1].abs());
        let a = if p > env { a_att } else { a_rel };
        env = a * env + (1.0 - a) * p;
        let over = (20.0 * env.max(1e-9).log10() + 24.0).max(0.0);
        let g = 10f32.powf(-over * 0.75 / 20.0);
        out[i * 2] = fr[0] * g;
        out[i * 2 + 1] = fr[1] * g;
    }
    out
}

fn check(profile: &'static Profile) -> analyzer_core::report::Report {
    let dir = tempfile::tempdir().unwrap();
    let stems = demo_song(SR, 16.0);
    for s in &stems {
        let p = dir.path().join(format!("Demo_{}.wav", s.name));
        write_wav(&p, s.channels, SR, WavFormat::Float32, &s.samples).unwrap();
    }
    let mix = compress(&mix_down(&stems, 2));
    write_wav(
        &dir.path().join("Demo_Mix.wav"),
        2,
        SR,
        WavFormat::Float32,
        &mix,
    )
    .unwrap();
    let opts = Options {
        profile,
        threads: 1,
        ..Options::default()
    };
    check_paths(&[dir.path().to_path_buf()], &opts).unwrap()
}

#[test]
fn bus_processing_is_expected_under_stem_mastering() {
    let r = check(&STEM_MASTERING);
    let bus = r
        .findings
        .iter()
        .find(|f| f.code == FindingCode::MissingBusProcessing)
        .unwrap_or_else(|| panic!("{:#?}", r.findings));
    assert_eq!(bus.severity, Severity::Info);
    assert_eq!(bus.measured["expected_by_profile"], true);
    assert!(bus.measured["gain_reduction_typical_db"].as_f64().unwrap() > 1.0);
    assert!(
        r.findings.iter().all(|f| f.severity != Severity::Error),
        "{:#?}",
        r.findings
    );

    let r = check(&MASTERING);
    let bus = r
        .findings
        .iter()
        .find(|f| f.code == FindingCode::MissingBusProcessing)
        .unwrap();
    assert_eq!(bus.severity, Severity::Error);
    assert_eq!(r.verdict, Verdict::Fail);
}
