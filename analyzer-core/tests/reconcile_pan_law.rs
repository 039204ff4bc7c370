//! Mono stems in a stereo mix mixed at each common centre pan law (0, -2.5, -3, -4.5 and
//! -6 dB): the law is inferred from the mono stems together, no stem at the session's law is
//! a `gain_mismatch`, and a single hot mono stem among them still is.

// Test code may unwrap: a panic is the failure report (clippy.toml allows it in #[test]
// functions; this covers the helpers of this test crate too).
#![allow(clippy::unwrap_used)]

use analyzer_core::reconcile::ReconcileResult;
use analyzer_core::reconcile::pan_law::{PAN_LAWS_DB, display_db};
use analyzer_core::reconcile::synth::Song;
use analyzer_core::report::{FindingCode, Polarity};

mod common;
use common::song::reconcile as run;

const SR: u32 = 48_000;

/// Eight stems: bass, lead and two percussion stems are mono; keys, drums, pad and a synth
/// stereo. Every mono stem is centred at `law_db` per channel.
fn song_at(law_db: f64) -> Song {
    let mut song = Song::new(SR, 10.0, 8, 11);
    let g = analyzer_core::units::db_to_amp(law_db) as f32;
    for s in song.stems.iter_mut().filter(|s| s.channels == 1) {
        s.pan = [g, g];
    }
    song
}

fn gain_findings(r: &ReconcileResult) -> Vec<(Vec<String>, f64)> {
    r.findings
        .iter()
        .filter(|f| f.code == FindingCode::GainMismatch)
        .map(|f| (f.files.clone(), f.measured["gain_db"].as_f64().unwrap()))
        .collect()
}

#[test]
fn every_common_pan_law_is_inferred_and_not_a_gain_error() {
    for law in PAN_LAWS_DB {
        let song = song_at(law);
        assert_eq!(song.stems.iter().filter(|s| s.channels == 1).count(), 4);
        let mix = song.mix();
        let r = run(&song, &mix);
        let why = format!("law {law:.2} dB: {:?}", gain_findings(&r));
        assert_eq!(r.reconciliation.pan_law_db, Some(display_db(law)), "{why}");
        for f in r.stems.iter().flatten() {
            assert!(f.active, "{why}");
            assert_eq!(f.offset_samples, 0, "{why}");
            assert!(f.gain_db.abs() < 0.01, "{why}: {f:?}");
            assert_eq!(f.polarity, Polarity::Normal, "{why}");
        }
        assert!(gain_findings(&r).is_empty(), "{why}");
        // The plain sum uses the law, so the set nulls as delivered.
        let n = r.reconciliation.null_depth_db.unwrap();
        assert!(n < -100.0, "{why}: null {n}");
        let ok = r
            .findings
            .iter()
            .find(|f| f.code == FindingCode::SumMatchesMix)
            .expect("sum matches");
        assert_eq!(ok.measured["pan_law_db"].as_f64(), Some(display_db(law)));
    }
}

#[test]
fn a_hot_mono_stem_is_flagged_at_every_law() {
    for law in PAN_LAWS_DB {
        let mut song = song_at(law);
        let mix = song.mix();
        // The lead (mono) delivered 3 dB hot: it needs -3 dB to match the mix.
        let lead = song.stems.iter().position(|s| s.name == "lead").unwrap();
        song.stems[lead].scale_db(3.0);
        let r = run(&song, &mix);
        let found = gain_findings(&r);
        let why = format!("law {law:.2} dB: {found:?}");
        assert_eq!(r.reconciliation.pan_law_db, Some(display_db(law)), "{why}");
        assert_eq!(found.len(), 1, "{why}");
        assert_eq!(found[0].0, vec!["lead".to_owned()], "{why}");
        assert!((found[0].1 + 3.0).abs() < 0.05, "{why}");
        let f = r
            .findings
            .iter()
            .find(|f| f.code == FindingCode::GainMismatch)
            .unwrap();
        assert_eq!(f.measured["pan_law_db"].as_f64(), Some(display_db(law)));
        assert!(f.message.contains("pan law"), "{}", f.message);
    }
}

#[test]
fn master_fader_change_is_a_set_gain_not_a_pan_law() {
    // Every stem 2 dB quieter in the mix, mono stems at the -3 dB law: one set-level finding.
    let mut song = song_at(-3.010_299_956_639_812);
    for s in &mut song.stems {
        s.scale_db(-2.0);
    }
    let mix = song.mix();
    for s in &mut song.stems {
        s.scale_db(2.0);
    }
    let r = run(&song, &mix);
    let found = gain_findings(&r);
    assert_eq!(r.reconciliation.pan_law_db, Some(-3.0), "{found:?}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.is_empty(), "the whole set: {found:?}");
    assert!((found[0].1 + 2.0).abs() < 0.05, "{found:?}");
}
