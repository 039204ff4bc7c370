//! Reconciliation of the demo song (`synth::demo_song`, what `stemcheck demo` writes): strictly
//! periodic material (a 120 bpm loop, keys that repeat every beat, a reverb return smearing
//! both) whose correlation with the mix peaks one beat away almost as high as at the true lag.
//! The clean song must align at lag 0 with unity gains at every length, and an injected offset
//! or polarity flip must be the only thing reported.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use analyzer_core::profile::MASTERING;
use analyzer_core::reconcile::{ReconcileOptions, ReconcileResult, reconcile_sources};
use analyzer_core::report::{FindingCode, Polarity};
use analyzer_core::source::{FrameSource, MemorySource};
use analyzer_core::synth::{SynthStem, demo_song, mix_down};

const SR: u32 = 48_000;

fn run(stems: &[SynthStem], mix: &[f32]) -> ReconcileResult {
    let m = MemorySource::new("mix", 2, SR, mix.to_vec()).unwrap();
    let sources: Vec<Box<dyn FrameSource>> = stems
        .iter()
        .map(|s| {
            Box::new(
                MemorySource::new(s.name.clone(), s.channels as usize, SR, s.samples.clone())
                    .unwrap(),
            ) as Box<dyn FrameSource>
        })
        .collect();
    reconcile_sources(
        Box::new(m),
        sources,
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .unwrap()
}

fn summary(r: &ReconcileResult) -> String {
    let fits: Vec<String> = r
        .stems
        .iter()
        .flatten()
        .map(|f| format!("{}@{:.2}dB{:?}", f.offset_samples, f.gain_db, f.polarity))
        .collect();
    let codes: Vec<String> = r
        .findings
        .iter()
        .map(|f| format!("{:?}{:?}", f.code, f.files))
        .collect();
    format!("fits {fits:?} findings {codes:?}")
}

/// Moves a stem's content `d` frames later (earlier when negative), keeping its length.
fn shift(s: &mut SynthStem, d: i64) {
    let ch = s.channels as usize;
    let n = s.samples.len();
    let m = d.unsigned_abs() as usize * ch;
    if d >= 0 {
        s.samples.copy_within(0..n - m, m);
        s.samples[..m].fill(0.0);
    } else {
        s.samples.copy_within(m..n, 0);
        s.samples[n - m..].fill(0.0);
    }
}

/// Findings about how stems enter the mix (the ones a fault in one stem may wrongly raise on
/// another).
const ALIGNMENT_CODES: [FindingCode; 4] = [
    FindingCode::StartOffset,
    FindingCode::PolarityInverted,
    FindingCode::GainMismatch,
    FindingCode::LengthMismatch,
];

/// Checks every fit (offset, polarity, unity gain) and that the only alignment finding is
/// `expected` on `file` (none when `expected` is `None`, and then `sum_matches_mix`).
fn verify(
    r: &ReconcileResult,
    names: &[String],
    want_offsets: &[i64],
    want_inverted: Option<usize>,
    expected: Option<(FindingCode, &str)>,
) -> std::result::Result<(), String> {
    let why = || summary(r);
    for (i, f) in r.stems.iter().enumerate() {
        let f = f
            .as_ref()
            .ok_or_else(|| format!("{}: no fit; {}", names[i], why()))?;
        if !f.active {
            // Known limit, not asserted: a stem may be left inactive (no findings about it)
            // when it sounds only briefly, as the lead does in the last 1.5 s of the 6 s song
            // with the keys shifted; it must still sit at the right offset if it has one.
            if f.offset_samples != 0 {
                return Err(format!("{} inactive at an offset: {}", names[i], why()));
            }
            continue;
        }
        let polarity = if want_inverted == Some(i) {
            Polarity::Inverted
        } else {
            Polarity::Normal
        };
        if f.offset_samples != want_offsets[i] || f.polarity != polarity || f.gain_db.abs() > 0.01 {
            return Err(format!("{}: {}", names[i], why()));
        }
    }
    let reported: Vec<_> = r
        .findings
        .iter()
        .filter(|f| ALIGNMENT_CODES.contains(&f.code))
        // Content moved later is cut at the end of its file: that stem is short, rightly.
        .filter(|f| {
            !(f.code == FindingCode::LengthMismatch
                && expected.is_some_and(|(c, file)| {
                    c == FindingCode::StartOffset && f.files == vec![file]
                }))
        })
        .collect();
    let ok = match expected {
        None => {
            r.reconciliation.lag_samples == 0
                && reported.is_empty()
                && r.findings
                    .iter()
                    .any(|f| f.code == FindingCode::SumMatchesMix)
        }
        Some((code, file)) => {
            reported.len() == 1 && reported[0].code == code && reported[0].files == vec![file]
        }
    };
    if ok { Ok(()) } else { Err(why()) }
}

/// The clean song (stems sum exactly to the mix) aligns at 0, unity gain, no flips, at every
/// length from 3 to 24 s. Before the joint-null arbitration the FX return landed a comb delay
/// away (-4015 samples, inverted) at 6 s and the keys and lead a sample or two off.
#[test]
fn clean_demo_song_aligns_at_every_length() {
    let mut failures = Vec::new();
    for seconds in 3..=24 {
        let stems = demo_song(SR, seconds as f32);
        let mix = mix_down(&stems, 2);
        let names: Vec<String> = stems.iter().map(|s| s.name.clone()).collect();
        let r = run(&stems, &mix);
        if let Err(e) = verify(&r, &names, &[0; 5], None, None) {
            failures.push(format!("{seconds} s: {e}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One stem exported early or late, at the lengths where the clean song used to fail: that
/// stem's offset is found exactly and it is the only one reported.
#[test]
fn one_shifted_demo_stem_is_found_exactly() {
    let shifts = [37i64, -480, 480, -37, 960];
    let mut failures = Vec::new();
    for (n, seconds) in [6.0f32, 10.0, 16.0, 20.0].into_iter().enumerate() {
        let clean = demo_song(SR, seconds);
        let mix = mix_down(&clean, 2);
        let names: Vec<String> = clean.iter().map(|s| s.name.clone()).collect();
        for which in 0..clean.len() {
            if clean[which].samples.iter().all(|&x| x == 0.0) {
                continue;
            }
            let d = shifts[(which + n) % shifts.len()];
            let mut stems = clean.clone();
            shift(&mut stems[which], d);
            let mut want = [0i64; 5];
            want[which] = d;
            let r = run(&stems, &mix);
            let expected = Some((FindingCode::StartOffset, names[which].as_str()));
            if let Err(e) = verify(&r, &names, &want, None, expected) {
                failures.push(format!("{seconds} s, {} {d:+}: {e}", names[which]));
            } else if r
                .findings
                .iter()
                .any(|f| f.code == FindingCode::StartOffset && f.measured["offset_samples"] != d)
            {
                failures.push(format!(
                    "{seconds} s, {}: measured {}",
                    names[which],
                    summary(&r)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One stem exported inverted: found at offset 0 with inverted polarity, the only finding.
#[test]
fn one_inverted_demo_stem_is_found() {
    let mut failures = Vec::new();
    for seconds in [6.0f32, 10.0, 16.0, 20.0] {
        let clean = demo_song(SR, seconds);
        let mix = mix_down(&clean, 2);
        let names: Vec<String> = clean.iter().map(|s| s.name.clone()).collect();
        for which in 0..clean.len() {
            let mut stems = clean.clone();
            for x in &mut stems[which].samples {
                *x = -*x;
            }
            let r = run(&stems, &mix);
            let expected = Some((FindingCode::PolarityInverted, names[which].as_str()));
            if let Err(e) = verify(&r, &names, &[0; 5], Some(which), expected) {
                failures.push(format!("{seconds} s, {} inverted: {e}", names[which]));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
