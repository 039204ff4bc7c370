//! Channel faults of wide stereo stems, fitted per channel: swapped channels and one inverted
//! channel are named as such, and the stem read corrected leaves no gain, offset or polarity
//! side effects.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use analyzer_core::profile::MASTERING;
use analyzer_core::reconcile::synth::{Song, Stem};
use analyzer_core::reconcile::{ReconcileOptions, ReconcileResult, reconcile_sources};
use analyzer_core::report::{FindingCode, Severity};

const SR: u32 = 48_000;

/// A song of six stems plus a wide stereo stem (left and right carry different parts).
fn song_with_wide_stem() -> Song {
    let mut song = Song::new(SR, 12.0, 6, 1);
    let other = Song::new(SR, 12.0, 6, 2);
    let (l, r) = (&other.stems[0].samples, &other.stems[4].samples);
    let samples = l.iter().zip(r).flat_map(|(&a, &b)| [a, b]).collect();
    song.stems.push(Stem {
        name: "wide".into(),
        channels: 2,
        samples,
        pan: [1.0, 1.0],
    });
    song
}

/// Reconciles `song`'s mix against its stems with the wide stem (the last) changed by `fault`
/// (interleaved stereo frames).
fn run_with(song: &Song, fault: impl Fn(&mut [f32])) -> ReconcileResult {
    let mix = song.mix();
    let mut delivered = song.clone();
    let wide = delivered.stems.last_mut().unwrap();
    wide.samples.chunks_exact_mut(2).for_each(fault);
    let (m, stems) = delivered.sources(&mix).unwrap();
    reconcile_sources(
        m,
        stems,
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .unwrap()
}

fn check_named(r: &ReconcileResult, code: FindingCode) -> &analyzer_core::report::Finding {
    let hits: Vec<_> = r.findings.iter().filter(|f| f.code == code).collect();
    assert_eq!(hits.len(), 1, "{:#?}", r.findings);
    assert_eq!(hits[0].severity, Severity::Error);
    assert_eq!(hits[0].files, ["wide"]);
    for f in &r.findings {
        assert!(
            !matches!(
                f.code,
                FindingCode::GainMismatch
                    | FindingCode::StartOffset
                    | FindingCode::PolarityInverted
            ),
            "no side effects: {:#?}",
            r.findings
        );
    }
    // As delivered the stems do not sum to the mix: the headline says so.
    assert!(
        !r.findings
            .iter()
            .any(|f| f.code == FindingCode::SumMatchesMix)
    );
    let delivered = r.reconciliation.null_depth_db.unwrap();
    assert!(delivered > -20.0, "as delivered: {delivered}");
    let corrected = r.reconciliation.fitted_null_depth_db.unwrap();
    assert!(
        corrected < -60.0,
        "read corrected, the stems null: {corrected}"
    );
    for s in r.stems.iter().flatten() {
        assert_eq!(s.offset_samples, 0, "{:?}", r.stems);
    }
    hits[0]
}

#[test]
fn swapped_channels_of_a_wide_stem_are_named() {
    let r = run_with(&song_with_wide_stem(), |f| f.swap(0, 1));
    let f = check_named(&r, FindingCode::ChannelsSwapped);
    assert!(
        f.message.contains("left and right swapped"),
        "{}",
        f.message
    );
}

#[test]
fn one_inverted_channel_is_named_with_its_side() {
    for (i, side) in [(0usize, "left"), (1, "right")] {
        let r = run_with(&song_with_wide_stem(), |f| f[i] = -f[i]);
        let f = check_named(&r, FindingCode::ChannelPolarityInverted);
        assert_eq!(f.measured["channel"], side, "{f:#?}");
    }
}

#[test]
fn a_correct_wide_stem_and_a_swapped_near_mono_stem_have_no_channel_fault() {
    let song = song_with_wide_stem();
    let r = run_with(&song, |_| {});
    assert!(
        !r.findings.iter().any(|f| matches!(
            f.code,
            FindingCode::ChannelsSwapped | FindingCode::ChannelPolarityInverted
        )),
        "{:#?}",
        r.findings
    );
    // A stem whose channels are equal reads the same swapped: nothing to claim.
    let mut mono = song.clone();
    let wide = mono.stems.last_mut().unwrap();
    wide.samples.chunks_exact_mut(2).for_each(|f| f[1] = f[0]);
    let r = run_with(&mono, |f| f.swap(0, 1));
    assert!(
        !r.findings
            .iter()
            .any(|f| f.code == FindingCode::ChannelsSwapped),
        "{:#?}",
        r.findings
    );
}
