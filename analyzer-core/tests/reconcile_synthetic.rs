//! Reconciliation of synthetic deliveries whose answer is known: injected delays, gains,
//! polarity flips, mono stems in a stereo mix, silent and unrelated stems.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use analyzer_core::profile::MASTERING;
use analyzer_core::reconcile::synth::Song;
use analyzer_core::reconcile::{ReconcileOptions, ReconcileResult, reconcile_sources};
use analyzer_core::report::{FindingCode, Polarity, Severity};
use analyzer_core::source::{FrameSource, MemorySource};

mod common;
use common::song::{offsets, reconcile as run};

const SR: u32 = 48_000;

fn codes(r: &ReconcileResult) -> Vec<FindingCode> {
    r.findings.iter().map(|f| f.code).collect()
}

#[test]
fn clean_delivery_nulls_with_no_faults() {
    let song = Song::new(SR, 12.0, 6, 1);
    let mix = song.mix();
    let r = run(&song, &mix);
    assert_eq!(offsets(&r), vec![0; 6]);
    for f in r.stems.iter().flatten() {
        assert!(f.active);
        assert!(f.gain_db.abs() < 1e-3, "{f:?}");
        assert_eq!(f.polarity, Polarity::Normal);
    }
    let n = r.reconciliation.null_depth_db.unwrap();
    assert!(n < -100.0, "float set nulls: {n}");
    assert!(r.reconciliation.fitted_null_depth_db.unwrap() < -100.0);
    assert_eq!(r.reconciliation.lag_samples, 0);
    assert_eq!(codes(&r), vec![FindingCode::SumMatchesMix]);
    assert_eq!(r.findings[0].severity, Severity::Info);
}

#[test]
fn the_headline_is_the_null_as_delivered() {
    // One stem 480 samples late: with every stem at its own offset the sum nulls, but as
    // delivered (one common lag) it does not; the headline says so, the corrected null says
    // what the correction gives, and there is no `sum_matches_mix`.
    let mut song = Song::new(SR, 12.0, 6, 11);
    let mix = song.mix();
    song.stems[2].shift(480);
    let r = run(&song, &mix);
    let rec = &r.reconciliation;
    assert_eq!(rec.lag_samples, 0);
    let delivered = rec.null_depth_db.unwrap();
    assert!(delivered > -20.0, "as delivered: {delivered}");
    assert!(rec.corrected_null_depth_db.unwrap() < -100.0, "{rec:?}");
    assert!(r.aligned_null_depth_db.unwrap() < -100.0);
    assert!(
        !codes(&r).contains(&FindingCode::SumMatchesMix),
        "{:?}",
        codes(&r)
    );
    let start = r
        .findings
        .iter()
        .find(|f| f.code == FindingCode::StartOffset)
        .unwrap();
    assert_eq!(start.severity, Severity::Error);
    assert!(
        start
            .message
            .contains("As delivered the stems null to only"),
        "{}",
        start.message
    );
    assert!(start.measured["null_depth_db"].as_f64().unwrap() > -20.0);
}

#[test]
fn a_bit_exact_null_says_so() {
    // Stereo stems on a coarse grid: their sum is exact in f32, so the residual is zero.
    let mut song = Song::new(SR, 8.0, 4, 12);
    for s in &mut song.stems {
        if s.channels == 1 {
            let pan = s.pan;
            s.samples = s
                .samples
                .iter()
                .flat_map(|&x| [x * pan[0], x * pan[1]])
                .collect();
            s.channels = 2;
        }
        s.samples
            .iter_mut()
            .for_each(|x| *x = (*x * 4096.0).round() / 4096.0);
    }
    let mix = song.mix();
    let r = run(&song, &mix);
    assert!(r.delivered_bit_exact);
    assert_eq!(r.reconciliation.null_depth_db, Some(-200.0));
    let sum = r
        .findings
        .iter()
        .find(|f| f.code == FindingCode::SumMatchesMix)
        .unwrap();
    assert!(sum.message.contains("bit-exact"), "{}", sum.message);
    assert_eq!(sum.measured["bit_exact"], true);
}

#[test]
fn injected_delays_are_recovered_exactly() {
    let range = 2 * SR as i64;
    let delays = [1, 37, 480, -range + 1, range - 1, 0, -37];
    let mut song = Song::new(SR, 14.0, delays.len(), 2);
    let mix = song.mix();
    for (s, &d) in song.stems.iter_mut().zip(&delays) {
        s.shift(d);
    }
    let r = run(&song, &mix);
    assert_eq!(offsets(&r), delays);
    let starts: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::StartOffset)
        .collect();
    assert_eq!(starts.len(), 6, "one finding per distinct nonzero offset");
    assert!(starts.iter().all(|f| f.severity == Severity::Error));
    assert!(
        r.reconciliation.fitted_null_depth_db.unwrap() < -100.0,
        "{:?}",
        r.reconciliation
    );
}

#[test]
fn a_few_wrong_stems_among_right_ones() {
    let mut song = Song::new(SR, 12.0, 10, 3);
    let mix = song.mix();
    song.stems[1].shift(37); // keys: correlated with the bass
    song.stems[6].shift(-480);
    let r = run(&song, &mix);
    let mut want = vec![0; 10];
    want[1] = 37;
    want[6] = -480;
    assert_eq!(offsets(&r), want);
    assert_eq!(
        r.reconciliation.lag_samples, 0,
        "the sum as a whole is aligned"
    );
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::StartOffset)
        .collect();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].measured["offset_samples"], -480);
    assert_eq!(f[0].files, vec![song.stems[6].name.clone()]);
}

#[test]
fn correlated_lines_shifted_by_one_sample() {
    // Bass and keys play the same notes an octave apart; shifting one by a single sample must
    // not be absorbed by the other.
    for (stem, d) in [(0usize, 1i64), (1, 1), (1, -1), (0, -2)] {
        let mut song = Song::new(SR, 10.0, 3, 4);
        let mix = song.mix();
        song.stems[stem].shift(d);
        let r = run(&song, &mix);
        let mut want = vec![0; 3];
        want[stem] = d;
        assert_eq!(offsets(&r), want, "stem {stem} shifted by {d}");
    }
}

#[test]
fn gains_and_polarity_are_fitted() {
    let mut song = Song::new(SR, 12.0, 6, 5);
    let mix = song.mix();
    // Delivered stem = mix part / g, so the gain to apply is +g dB.
    song.stems[0].scale_db(-2.0);
    song.stems[2].scale_db(6.0);
    song.stems[3].invert();
    song.stems[4].scale_db(-0.2); // inside the 0.5 dB tolerance
    let r = run(&song, &mix);
    let fit = |i: usize| r.stems[i].as_ref().unwrap();
    assert!((fit(0).gain_db - 2.0).abs() < 1e-3, "{:?}", fit(0));
    assert!((fit(2).gain_db + 6.0).abs() < 1e-3, "{:?}", fit(2));
    assert!(fit(3).gain_db.abs() < 1e-3);
    assert_eq!(fit(3).polarity, Polarity::Inverted);
    assert!((fit(4).gain_db - 0.2).abs() < 1e-3);
    let gm: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::GainMismatch)
        .map(|f| (f.files[0].clone(), f.severity))
        .collect();
    assert_eq!(
        gm,
        vec![
            // 2 dB off on the bass alone leaves a residual far above the profile's null: it
            // stops the stems summing back to the mix, an error (severity by consequence).
            (song.stems[0].name.clone(), Severity::Error),
            (song.stems[2].name.clone(), Severity::Error),
        ]
    );
    let pol: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::PolarityInverted)
        .collect();
    assert_eq!(pol.len(), 1);
    assert_eq!(pol[0].files, vec![song.stems[3].name.clone()]);
    assert!(
        r.reconciliation.null_depth_db.unwrap() > -20.0,
        "as delivered it does not null"
    );
    assert!(r.reconciliation.fitted_null_depth_db.unwrap() < -100.0);
}

#[test]
fn a_gain_that_leaves_the_sum_intact_is_a_warning() {
    // A stem 60 dB under the rest, delivered 1 dB cold: its gain is off, but the delivered
    // sum still nulls past the profile, so it is a warning and the sum matches.
    let mut song = Song::new(SR, 10.0, 5, 13);
    song.stems[4].scale_db(-60.0);
    let mix = song.mix();
    song.stems[4].scale_db(-1.0);
    let r = run(&song, &mix);
    assert!(r.reconciliation.null_depth_db.unwrap() < MASTERING.null_pass_db);
    let gm: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::GainMismatch)
        .collect();
    assert_eq!(gm.len(), 1, "{:?}", r.findings);
    assert_eq!(gm[0].severity, Severity::Warning);
    assert!(codes(&r).contains(&FindingCode::SumMatchesMix));
}

#[test]
fn stems_each_at_their_own_gain_are_one_finding() {
    let mut song = Song::new(SR, 10.0, 6, 14);
    let mix = song.mix();
    // The stereo stems (the mono ones are judged at the session's pan law, which gains on
    // them would move).
    let stereo: Vec<usize> = (0..6).filter(|&i| song.stems[i].channels == 2).collect();
    assert!(stereo.len() >= 3);
    for (&i, g) in stereo.iter().zip([-3.0, 2.0, 4.0]) {
        song.stems[i].scale_db(g);
    }
    let r = run(&song, &mix);
    let gm: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::GainMismatch)
        .collect();
    assert_eq!(gm.len(), 1, "{:?}", r.findings);
    assert_eq!(gm[0].severity, Severity::Error);
    assert_eq!(gm[0].files.len(), 3, "{:?}", gm[0]);
    let gains = gm[0].measured["gains_db"].as_object().unwrap();
    let last = &song.stems[stereo[2]].name;
    assert!(
        (gains[last].as_f64().unwrap() + 4.0).abs() < 0.01,
        "{gains:?}"
    );
}

#[test]
fn whole_set_gain_is_one_finding() {
    let mut song = Song::new(SR, 10.0, 5, 6);
    let mix = song.mix();
    for s in &mut song.stems {
        s.scale_db(6.0);
    }
    let r = run(&song, &mix);
    let gm: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::GainMismatch)
        .collect();
    assert_eq!(gm.len(), 1);
    assert!(gm[0].files.is_empty());
    assert_eq!(gm[0].severity, Severity::Error);
    assert!((gm[0].measured["gain_db"].as_f64().unwrap() + 6.0).abs() < 0.01);
}

#[test]
fn mono_stems_panned_in_a_stereo_mix() {
    let mut song = Song::new(SR, 10.0, 6, 7);
    song.stems[0].pan = [1.0, 0.0]; // hard left
    song.stems[4].pan = [0.6, 0.8];
    let mix = song.mix();
    song.stems[4].shift(480);
    let r = run(&song, &mix);
    assert_eq!(song.stems[0].channels, 1);
    let bass = r.stems[0].as_ref().unwrap();
    assert!(
        bass.gain_db.abs() < 1e-3,
        "constant-power gain reads 0 dB: {bass:?}"
    );
    assert!((bass.channel_gains[0] - 1.0).abs() < 1e-4 && bass.channel_gains[1].abs() < 1e-4);
    let lead = r.stems[4].as_ref().unwrap();
    assert_eq!(lead.offset_samples, 480);
    assert!((lead.channel_gains[1] - 0.8).abs() < 1e-4, "{lead:?}");
    assert!(r.reconciliation.fitted_null_depth_db.unwrap() < -100.0);
}

#[test]
fn silent_and_unrelated_stems_are_inactive() {
    let mut song = Song::new(SR, 10.0, 5, 8);
    let mix = song.mix();
    let frames = song.frames;
    let (m, mut stems) = song.sources(&mix).unwrap();
    stems.push(Box::new(
        MemorySource::new("silent", 2, SR, vec![0.0; frames * 2]).unwrap(),
    ));
    // Another song's stem: plays, but not in this mix.
    let other = Song::new(SR, 10.0, 3, 99);
    song.stems.push(other.stems[2].clone());
    let s = &other.stems[2];
    stems.push(Box::new(
        MemorySource::new("other", s.channels, SR, s.samples.clone()).unwrap(),
    ));
    let r = reconcile_sources(
        m,
        stems,
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .unwrap();
    let silent = r.stems[5].as_ref().unwrap();
    let other = r.stems[6].as_ref().unwrap();
    assert!(!silent.active && silent.offset_samples == 0);
    assert!(!other.active && other.offset_samples == 0, "{other:?}");
    assert!(r.stems[..5].iter().flatten().all(|f| f.active));
    assert!(
        r.findings
            .iter()
            .all(|f| !f.files.iter().any(|n| n == "silent" || n == "other")),
        "{:?}",
        r.findings
    );
}

#[test]
fn whole_delivery_shifted_reports_the_sum_lag() {
    let mut song = Song::new(SR, 10.0, 4, 9);
    let mix = song.mix();
    for s in &mut song.stems {
        s.shift(-480);
    }
    let r = run(&song, &mix);
    assert_eq!(r.reconciliation.lag_samples, -480);
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::StartOffset)
        .collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].files.len(), 4);
    assert!(f[0].message.starts_with("All stems"), "{}", f[0].message);
    // Content before the mix start was cut away from the stems: the head is missing only if
    // the stems had audio at their start, which the song's silent intro prevents.
    assert!(
        !r.findings
            .iter()
            .any(|f| f.code == FindingCode::LengthMismatch)
    );
}

#[test]
fn content_cut_by_a_shift_is_a_length_mismatch() {
    let mut song = Song::new(SR, 8.0, 4, 10);
    // The pad plays to the very end; delayed, its tail falls off the end of the file.
    let mix = song.mix();
    song.stems[3].shift(4_800);
    let r = run(&song, &mix);
    assert_eq!(r.stems[3].as_ref().unwrap().offset_samples, 4_800);
    let lm: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::LengthMismatch)
        .collect();
    assert_eq!(lm.len(), 1, "{:?}", r.findings);
    assert_eq!(lm[0].measured["missing_frames"], 4_800);
    let span = r.reconciliation.judged_span_frames.unwrap();
    assert_eq!(span, [0, song.frames as u64 - 4_800]);
}

#[test]
fn sixteen_bit_and_dithered_24_bit_sets_still_null() {
    for bits in [16u32, 24] {
        let mut song = Song::new(SR, 8.0, 5, 11);
        let q = |x: &mut Vec<f32>, seed: u64| {
            let step = 1.0 / (1u64 << (bits - 1)) as f64;
            let mut s = seed | 1;
            for v in x.iter_mut() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u1 = (s >> 11) as f64 / (1u64 << 53) as f64;
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u2 = (s >> 11) as f64 / (1u64 << 53) as f64;
                let d = if bits == 24 { (u1 - u2) * step } else { 0.0 };
                *v = ((f64::from(*v) + d) / step).round() as f32 * step as f32;
            }
        };
        let mut mix = song.mix();
        q(&mut mix, 1);
        for (i, s) in song.stems.iter_mut().enumerate() {
            q(&mut s.samples, i as u64 + 2);
        }
        let r = run(&song, &mix);
        assert_eq!(offsets(&r), vec![0; 5], "{bits} bit");
        let n = r.reconciliation.null_depth_db.unwrap();
        assert!(n < -60.0 && n > -160.0, "{bits} bit: {n}");
        assert!(
            codes(&r).contains(&FindingCode::SumMatchesMix),
            "{bits} bit: {:?}",
            r.findings
        );
        assert!(!codes(&r).contains(&FindingCode::GainMismatch));
    }
}

#[test]
fn block_stats_cover_the_mix_and_match_the_null() {
    let mut song = Song::new(SR, 6.0, 4, 12);
    let mix = song.mix();
    song.stems[1].invert();
    let r = run(&song, &mix);
    let b = &r.blocks;
    assert_eq!(b.block_frames, 480);
    assert_eq!(b.mix.len(), song.frames.div_ceil(480));
    let e_mix: f64 = b.mix.iter().map(|&x| f64::from(x)).sum();
    let e_res: f64 = b.residual.iter().map(|&x| f64::from(x)).sum();
    let null = 10.0 * (e_res / e_mix).log10();
    assert!((null - r.reconciliation.null_depth_db.unwrap()).abs() < 0.01);
    let one_s = b.aggregate(100);
    assert_eq!(one_s.block_frames, 48_000);
    assert_eq!(one_s.mix.len(), 6);
}

#[test]
fn mix_shorter_than_a_window_and_empty_inputs_do_not_panic() {
    let song = Song::new(SR, 0.3, 2, 13);
    let mix = song.mix();
    let r = run(&song, &mix);
    assert_eq!(r.stems.len(), 2);
    let empty: Box<dyn FrameSource> =
        Box::new(MemorySource::new("mix", 2, SR, Vec::new()).unwrap());
    let stem: Box<dyn FrameSource> =
        Box::new(MemorySource::new("s", 2, SR, vec![0.1; 100]).unwrap());
    let r = reconcile_sources(
        empty,
        vec![stem],
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .unwrap();
    assert!(r.reconciliation.null_depth_db.is_none());
    let other_rate: Box<dyn FrameSource> =
        Box::new(MemorySource::new("r", 2, 44_100, vec![0.1; 100]).unwrap());
    let (m, _) = song.sources(&mix).unwrap();
    let r = reconcile_sources(
        m,
        vec![other_rate],
        &MASTERING,
        &ReconcileOptions::default(),
        None,
        &|_| {},
    )
    .unwrap();
    assert!(r.stems[0].is_none());
}

#[test]
fn residual_loudness_is_bs1770_of_the_missing_part() {
    // Leave the drums out of a delivery of stereo stems: the residual of the plain sum is
    // exactly the drums.
    let mut song = Song::new(SR, 12.0, 5, 14);
    song.stems.retain(|s| s.channels == 2);
    let mix = song.mix();
    let drums = &song.stems[1];
    assert_eq!(drums.channels, 2);
    let mut meter = analyzer_core::meter::Loudness::new(2, SR);
    meter.process(&drums.samples);
    let want = meter.integrated_lufs();
    for threads in [1, 2] {
        let (m, mut stems) = song.sources(&mix).unwrap();
        stems.remove(1);
        let opts = ReconcileOptions {
            threads,
            ..ReconcileOptions::default()
        };
        let r = reconcile_sources(m, stems, &MASTERING, &opts, None, &|_| {}).unwrap();
        let got = r.reconciliation.residual_lufs.unwrap();
        assert!(
            (got - want).abs() < 0.05,
            "{threads} threads: {got} vs {want}"
        );
        assert!(r.reconciliation.null_depth_db.unwrap() > -30.0);
        assert!(
            !r.findings
                .iter()
                .any(|f| f.code == FindingCode::SumMatchesMix)
        );
    }
}

/// `song` with stem `carrier` also carrying stem `part` at linear gain `a` (a send or a second
/// output routed to the carrier's bus), reconciled against the mix of the song as it was.
fn with_bleed(carrier: usize, part: usize, a: f32) -> (Song, ReconcileResult) {
    let mut song = Song::new(SR, 12.0, 6, 21);
    let mix = song.mix();
    let (c, p) = (&song.stems[carrier], &song.stems[part]);
    assert_eq!(c.channels, p.channels, "one gain per stem on both");
    let added: Vec<f32> = c
        .samples
        .iter()
        .zip(&p.samples)
        .map(|(x, y)| x + a * y)
        .collect();
    song.stems[carrier].samples = added;
    let r = run(&song, &mix);
    (song, r)
}

#[test]
fn a_stem_that_also_carries_another_is_a_duplicate_not_a_gain() {
    // Drums carry the keys whole: the fit takes the keys out of the sum (they are in the mix
    // once, through the drums), and without this check nothing was reported but a residual.
    // At -6 dB the fit read the keys 6 dB cold: a gain error on the stem that is right.
    for (a, fitted_db) in [(1.0f32, None), (0.5, Some(-6.02))] {
        let (song, r) = with_bleed(2, 1, a);
        let dup: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::DuplicateStem)
            .collect();
        assert_eq!(dup.len(), 1, "a = {a}: {:?}", codes(&r));
        let d = dup[0];
        assert_eq!(
            d.files,
            vec![song.stems[2].name.clone(), song.stems[1].name.clone()]
        );
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.measured["kind"], "contained");
        let level = d.measured["contained_gain_db"].as_f64().unwrap();
        assert!((level - 20.0 * f64::from(a).log10()).abs() < 0.3, "{level}");
        match fitted_db {
            None => assert!(d.measured["fitted_gain_db"].is_null(), "{d:?}"),
            Some(g) => {
                let got = d.measured["fitted_gain_db"].as_f64().unwrap();
                assert!((got - g).abs() < 0.3, "{got}");
            }
        }
        assert!(
            !r.findings
                .iter()
                .any(|f| f.code == FindingCode::GainMismatch
                    || f.code == FindingCode::UnexplainedResidual),
            "the keys' level is right: {:?}",
            codes(&r)
        );
    }
}

#[test]
fn a_hot_stem_is_a_gain_not_a_duplicate() {
    // The same fitted gain as a stem carried at -6 dB, but no stem carries this one: a gain.
    let mut song = Song::new(SR, 12.0, 6, 21);
    let mix = song.mix();
    song.stems[1].scale_db(6.02);
    let r = run(&song, &mix);
    assert!(
        codes(&r).contains(&FindingCode::GainMismatch),
        "{:?}",
        codes(&r)
    );
    assert!(
        !codes(&r).contains(&FindingCode::DuplicateStem),
        "{:?}",
        codes(&r)
    );
}

#[test]
fn a_gap_in_a_stems_export_is_a_dropout_not_a_missing_part() {
    // 30 ms of the pad lost mid-note (a real-time bounce that glitched), and 5 ms 3 s later.
    let mut song = Song::new(SR, 12.0, 6, 31);
    let mix = song.mix();
    let pad = &mut song.stems[3];
    let ch = pad.channels;
    // The synthetic pad holds a chord through the second half of the song.
    let gaps_in = [(7.3, 0.03), (9.7, 0.005)];
    for (at_s, len_s) in gaps_in {
        let start = (at_s * f64::from(SR)) as usize * ch;
        let len = (len_s * f64::from(SR)) as usize * ch;
        pad.samples[start..start + len].fill(0.0);
    }
    let r = run(&song, &mix);
    let d: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::Dropout)
        .collect();
    assert_eq!(d.len(), 1, "{:?}", codes(&r));
    assert_eq!(d[0].files, vec![song.stems[3].name.clone()]);
    assert_eq!(d[0].severity, Severity::Error);
    let gaps = d[0].measured["gaps_s"].as_array().unwrap();
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    for (g, (at_s, len_s)) in gaps.iter().zip(gaps_in) {
        let (at, len) = (g[0].as_f64().unwrap(), g[1].as_f64().unwrap());
        // Exact to the sample (rounded to 0.1 ms in the report).
        assert!(
            (at - at_s).abs() < 2e-4 && (len - len_s).abs() < 2e-4,
            "{at} {len}"
        );
    }
    assert!(
        !codes(&r).contains(&FindingCode::SumMatchesMix),
        "{:?}",
        codes(&r)
    );
}

#[test]
fn the_same_stem_twice_is_not_one_carrying_the_other() {
    // A stem delivered twice under two names (the delivery check's duplicate_stem names the
    // pair): neither carries the other's part beside its own.
    let mut song = Song::new(SR, 12.0, 6, 21);
    let mix = song.mix();
    let mut copy = song.stems[1].clone();
    copy.name = format!("{}_copy", copy.name);
    song.stems.push(copy);
    let r = run(&song, &mix);
    assert!(
        !r.findings
            .iter()
            .any(|f| f.measured.get("kind").is_some_and(|k| k == "contained")),
        "{:?}",
        codes(&r)
    );
}

/// Song with stem `k` raised so that it peaks at `over_db` dBFS; returns the mix (float, with
/// those peaks) and the song with that stem cut at full scale as a 24-bit export cuts it.
fn clipped_export(seed: u64, k: usize, over_db: f64) -> (Song, Vec<f32>) {
    let mut song = Song::new(SR, 12.0, 6, seed);
    let peak = song.stems[k]
        .samples
        .iter()
        .fold(0.0f32, |a, &x| a.max(x.abs()));
    song.stems[k].scale_db(over_db - 20.0 * f64::from(peak).log10());
    let mix = song.mix();
    let top = 8_388_607.0 / 8_388_608.0;
    for x in &mut song.stems[k].samples {
        *x = x.clamp(-1.0, top);
    }
    (song, mix)
}

#[test]
fn a_stem_clipped_in_its_export_is_its_clipping_not_a_gain_or_a_missing_part() {
    // A stem bus 3 dB over full scale exported to 24 bits: the mix (float) kept the peaks.
    for (seed, k) in [(41, 0), (42, 1), (43, 3)] {
        let (song, mix) = clipped_export(seed, k, 3.0);
        let r = run(&song, &mix);
        let clip: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::Clipping)
            .collect();
        assert_eq!(clip.len(), 1, "seed {seed}: {:?}", codes(&r));
        let f = clip[0];
        assert_eq!(f.files, vec![song.stems[k].name.clone()]);
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.measured["clipped_in_export"], true);
        let peak = f.measured["peak_in_mix_dbfs"].as_f64().unwrap();
        assert!((peak - 3.0).abs() < 0.05, "seed {seed}: peak {peak}");
        assert!(f.measured["residual_share"].as_f64().unwrap() > 0.95);
        // The gain the fit leans on the stem with is the clipping's, not a fader's.
        for g in r
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::GainMismatch)
        {
            assert_eq!(g.severity, Severity::Info, "seed {seed}: {g:?}");
        }
        assert!(!codes(&r).contains(&FindingCode::SumMatchesMix));
    }
}

#[test]
fn a_stem_clipped_as_the_mix_has_it_is_not_a_clipped_export() {
    // The same stem at full scale, but the mix built from the clipped stem (a clipper on its
    // bus): the set nulls, and the delivery check alone reports the clipping.
    let (song, _) = clipped_export(41, 0, 3.0);
    let mix = song.mix();
    let r = run(&song, &mix);
    assert_eq!(
        codes(&r),
        vec![FindingCode::SumMatchesMix],
        "{:?}",
        r.findings
    );
    // A float stem over full scale, carried by the mix as it is: nothing either.
    let mut song = Song::new(SR, 12.0, 6, 44);
    song.stems[2].scale_db(30.0);
    let mix = song.mix();
    let r = run(&song, &mix);
    assert_eq!(
        codes(&r),
        vec![FindingCode::SumMatchesMix],
        "{:?}",
        r.findings
    );
}

/// The gain a sidechain compressor keyed from `key` (interleaved, `ch` channels) applies per
/// frame: an envelope follower (5 ms attack, 150 ms release) and up to `depth` of reduction.
fn sidechain_gain(key: &[f32], ch: usize, depth: f32) -> Vec<f32> {
    let (att, rel) = (
        (-1.0 / (0.005 * SR as f32)).exp(),
        (-1.0 / (0.15 * SR as f32)).exp(),
    );
    let mut env = 0.0f32;
    key.chunks_exact(ch)
        .map(|f| {
            let x = f.iter().fold(0.0f32, |a, v| a.max(v.abs()));
            let c = if x > env { att } else { rel };
            env = c * env + (1.0 - c) * x;
            1.0 - depth * (env / 0.1).min(1.0)
        })
        .collect()
}

#[test]
fn a_stem_compressed_on_its_own_bus_in_the_mix_only_is_named() {
    // The bass through a compressor keyed from itself in the mix, exported pre-insert.
    let song = Song::new(SR, 24.0, 6, 52);
    let gain = sidechain_gain(&song.stems[0].samples, 1, 0.6);
    let mut compressed = song.clone();
    for (x, g) in compressed.stems[0].samples.iter_mut().zip(&gain) {
        *x *= g;
    }
    let r = run(&song, &compressed.mix());
    let d: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::MissingBusProcessing)
        .collect();
    assert_eq!(d.len(), 1, "{:?}", r.findings);
    assert_eq!(d[0].measured["kind"], "stem_compression", "{:?}", d[0]);
    assert_eq!(d[0].files, vec![song.stems[0].name.clone()]);
    assert_eq!(d[0].severity, Severity::Error);
    // Its level in the mix is the compressor's, not a fader's: no gain error beside it.
    for f in r
        .findings
        .iter()
        .filter(|f| f.code != FindingCode::MissingBusProcessing)
    {
        assert!(f.severity < Severity::Warning, "{f:?}");
    }
}

#[test]
fn a_stem_ducked_by_another_in_the_mix_only_is_a_lost_sidechain() {
    // The pad (a sustained chord through the second half) ducked by the drums in the mix (a
    // drum-keyed compressor), exported unducked.
    let song = Song::new(SR, 24.0, 6, 51);
    let gain = sidechain_gain(&song.stems[2].samples, 2, 0.6);
    let mut ducked = song.clone();
    for (f, g) in ducked.stems[3].samples.chunks_exact_mut(2).zip(&gain) {
        f.iter_mut().for_each(|x| *x *= g);
    }
    let r = run(&song, &ducked.mix());
    let d: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::MissingBusProcessing)
        .collect();
    assert_eq!(d.len(), 1, "{:?}", codes(&r));
    assert_eq!(d[0].measured["kind"], "sidechain");
    assert_eq!(d[0].measured["keyed_by"], song.stems[2].name.as_str());
    assert_eq!(d[0].files[0], song.stems[3].name);
    assert_eq!(d[0].severity, Severity::Error);
    for f in r
        .findings
        .iter()
        .filter(|f| f.code != FindingCode::MissingBusProcessing)
    {
        assert!(f.severity < Severity::Warning, "{f:?}");
    }

    // The same gain on the whole mix (a bus compressor keyed from the drums): every stem
    // dips, which is no one stem's lost sidechain.
    let mut bus = song.mix();
    for (f, g) in bus.chunks_exact_mut(2).zip(&gain) {
        f.iter_mut().for_each(|x| *x *= g);
    }
    let r = run(&song, &bus);
    assert!(
        !r.findings.iter().any(|f| f
            .measured
            .get("kind")
            .is_some_and(|k| k == "sidechain" || k == "stem_compression")),
        "{:?}",
        r.findings
    );
}

#[test]
fn a_stereo_stem_exported_as_mono_is_named_not_an_effect_return() {
    // The pad (a stereo chord, its channels detuned apart) bounced to a mono file: the mix has
    // it in stereo. (The keys would not do: a panned mono source loses only its pan.)
    let song = Song::new(SR, 12.0, 6, 61);
    let mix = song.mix();
    let mut folded = song.clone();
    let pad = &mut folded.stems[3];
    pad.samples = pad
        .samples
        .chunks_exact(2)
        .map(|f| 0.5 * (f[0] + f[1]))
        .collect();
    pad.channels = 1;
    pad.pan = [std::f32::consts::FRAC_1_SQRT_2; 2];
    let r = run(&folded, &mix);
    let f: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ChannelLayout)
        .collect();
    assert_eq!(f.len(), 1, "{:?}", codes(&r));
    assert_eq!(f[0].measured["kind"], "folded_to_mono");
    assert_eq!(f[0].files, vec![song.stems[3].name.clone()]);
    assert_eq!(f[0].severity, Severity::Error);
    for other in r
        .findings
        .iter()
        .filter(|f| f.code != FindingCode::ChannelLayout)
    {
        assert!(other.severity < Severity::Warning, "{other:?}");
    }
    // The same mono file, mixed as it is (centred): it sums, nothing to say.
    let r = run(&folded, &folded.mix());
    assert_eq!(
        codes(&r),
        vec![FindingCode::SumMatchesMix],
        "{:?}",
        r.findings
    );
}
