//! Fader automation the stem export did not print ([`Cause::LevelRide`]).
//!
//! A stem exported pre-fader (or with its volume automation bypassed) enters the mix at a level
//! that moves over time. Against the plain stem sum that is a time-varying gain on part of the
//! mix, so the whole-mix dynamics model lowers the residual and the diagnosis reads it as bus
//! compression. The reconciliation's windowed fits tell the two apart: a bus compressor moves
//! every stem's gain with the programme level, all together (on the corpus every stem's window
//! gains range over 1.5-6.5 dB), a fader ride moves the ridden stem's gain by the whole ride in
//! the windows it covers and leaves the others where they are (within 0.1-0.7 dB).

use crate::cause::{Cause, LevelRide, RiddenStem, StemGain};
use crate::reconcile::StemFit;
use crate::report::Severity;

/// A stem whose gain, fitted window by window, ranges over this much (dB) may ride in the mix.
pub const RIDE_RANGE_DB: f64 = 3.0;
/// Every other measured stem must hold its window gains within this range (dB): the residual is
/// then one stem's doing, not the whole mix's (bus dynamics move every stem's gain).
pub const STEADY_RANGE_DB: f64 = 1.0;
/// A gain of the stem's own in every window must lower the windows' residual by this much
/// (dB): the residual is then that stem's ride. On the corpus: rides and a mute -7 to -22 dB,
/// bus dynamics, EQ, FX returns, missing parts and drifting stems -2.9 dB at most.
pub const RIDE_OWN_GAIN_DB: f64 = -6.0;

/// Replaces the whole-mix cause the diagnosis named for the residual (`explained`: its
/// causes, strongest first) with [`Cause::LevelRide`] when the windowed fits (`fits`) show one
/// or more stems riding (their window gains range over [`RIDE_RANGE_DB`] and a gain of their
/// own per window removes most of the windows' residual, [`RIDE_OWN_GAIN_DB`]) while every
/// other stem holds its gain; the ridden stems' own gain causes in `causes` (the
/// reconciliation's) are the ride's and are removed. The residual the diagnosis gave to bus
/// dynamics, to content no stem carries (a stem muted for a passage leaves the stem's own
/// part as residual) or to nothing is taken; an EQ keeps its explanation, and a stem with a
/// channel fault, a clock drift or an offset of its own is not judged on its gains. Returns
/// whether it replaced anything.
pub(super) fn name_level_rides(
    explained: &mut Vec<Cause>,
    fits: &[Option<StemFit>],
    causes: &mut Vec<Cause>,
) -> bool {
    let range = |f: &StemFit| f.window_gain_range_db.unwrap_or(0.0);
    let measured: Vec<&StemFit> = fits
        .iter()
        .flatten()
        .filter(|f| f.active && f.window_gain_range_db.is_some_and(f64::is_finite))
        .collect();
    let (ridden, others): (Vec<&StemFit>, Vec<&StemFit>) = measured.iter().partition(|f| {
        range(f) >= RIDE_RANGE_DB && f.window_own_gain_db.is_some_and(|g| g <= RIDE_OWN_GAIN_DB)
    });
    if ridden.is_empty() || others.is_empty() {
        return false;
    }
    let steady_range_db = others.iter().map(|f| range(f)).fold(0.0, f64::max);
    if steady_range_db > STEADY_RANGE_DB {
        return false;
    }
    let judged_otherwise = |name: &str| {
        causes.iter().any(|c| match c {
            Cause::ClockDrift(d) => d.file == name || d.stems.iter().any(|s| s == name),
            Cause::ChannelFault(f) => f.file == name,
            Cause::StartOffset(s) => s.files.iter().any(|f| f == name),
            _ => false,
        })
    };
    if ridden.iter().any(|f| judged_otherwise(&f.name)) {
        return false;
    }
    // The residual the ride leaves reads as whole-mix dynamics, as nothing, or (a stem muted
    // for a passage) as content no stem carries.
    let whole_mix = |c: &Cause| {
        matches!(
            c,
            Cause::MissingBusProcessing(_)
                | Cause::MasterRide(_)
                | Cause::UnexplainedResidual { .. }
                | Cause::AddedContent(_)
        )
    };
    let Some(primary) = explained.iter().find(|c| c.severity() >= Severity::Warning) else {
        return false;
    };
    if !whole_mix(primary) {
        return false;
    }
    // Master automation is the time-varying gain model's reading of the whole mix, as bus
    // dynamics are: say so under the code the residual alone is reported as.
    let replaced = Some(match primary {
        Cause::MasterRide(_) => crate::report::FindingCode::MissingBusProcessing,
        c => c.code(),
    });
    let residual_db = primary.residual_share_db();
    explained.retain(|c| !whole_mix(c));
    let names: Vec<&str> = ridden.iter().map(|f| f.name.as_str()).collect();
    explained.insert(
        0,
        Cause::LevelRide(LevelRide {
            stems: ridden
                .iter()
                .map(|f| RiddenStem {
                    file: f.name.clone(),
                    gain_db: f.gain_db,
                    window_gain_range_db: range(f),
                })
                .collect(),
            steady_range_db,
            residual_db,
            replaced,
            sum: Default::default(),
        }),
    );
    // A ridden stem's fitted gain is a level somewhere between the ride's extremes: the
    // ride's, not a gain error of its own.
    let ride_gain = |g: &StemGain| names.contains(&g.file.as_str());
    causes.retain(|c| !matches!(c, Cause::StemGain(g) if ride_gain(g)));
    for c in causes.iter_mut() {
        if let Cause::StemGains(g) = c {
            g.stems.retain(|s| !ride_gain(s));
        }
    }
    causes.retain(|c| !matches!(c, Cause::StemGains(g) if g.stems.is_empty()));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::SumImpact;
    use crate::report::{FindingCode, Polarity};

    fn fit(name: &str, gain_db: f64, range_db: f64, own_db: f64) -> Option<StemFit> {
        Some(StemFit {
            name: name.into(),
            offset_samples: 0,
            gain_db,
            polarity: Polarity::Normal,
            confidence: 0.99,
            active: true,
            channel_gains: vec![1.0, 1.0],
            peak_to_sidelobe: 100.0,
            window_gain_spread_db: None,
            window_gain_range_db: Some(range_db),
            window_own_gain_db: Some(own_db),
        })
    }

    fn compression() -> Cause {
        crate::cause::fixtures::bus_compression(8.0)
    }

    fn gain(file: &str, gain_db: f64) -> Cause {
        crate::cause::fixtures::stem_gain(file, gain_db, None)
    }

    /// One stem's gain rides over 8 dB while the others hold theirs: the "bus compression" is
    /// that stem's automation, and its own gain finding is the ride's.
    #[test]
    fn one_stem_riding_while_the_others_hold_is_automation() {
        let mut explained = vec![compression()];
        let fits = [
            fit("bass", 0.0, 0.06, 0.0),
            fit("drums", 0.0, 0.72, 0.0),
            fit("keys", -3.8, 8.0, -11.7),
        ];
        let mut causes = vec![gain("keys", -3.8)];
        assert!(name_level_rides(&mut explained, &fits, &mut causes));
        assert!(causes.is_empty(), "{causes:?}");
        let [Cause::LevelRide(r)] = &explained[..] else {
            panic!("{explained:?}");
        };
        assert_eq!(r.stems.len(), 1);
        assert_eq!(r.stems[0].file, "keys");
        assert_eq!(r.replaced, Some(FindingCode::MissingBusProcessing));
        assert_eq!(r.residual_db, Some(-20.0));
        let f = explained[0].to_finding();
        assert_eq!(f.code, FindingCode::GainMismatch);
        assert_eq!(f.files, ["keys"]);
        assert!(f.message.contains("automation"), "{}", f.message);
    }

    /// Bus compression moves every stem's gain (the corpus: window gains over 1.5-6.5 dB, a
    /// gain of each stem's own per window removes 2.9 dB of the residual at most), added
    /// content pulls one stem's, a drifting stem loses level as it slips: none is a ride.
    #[test]
    fn compression_added_content_and_other_faults_are_not_rides() {
        let fits = [
            fit("bass", -6.0, 3.7, -2.9),
            fit("drums", -6.0, 1.5, -0.1),
            fit("keys", -5.0, 3.3, -0.1),
        ];
        let mut explained = vec![compression()];
        assert!(!name_level_rides(&mut explained, &fits, &mut Vec::new()));
        // Another stem not steady enough: not one stem's doing.
        let fits = [fit("bass", 0.0, 1.5, 0.0), fit("keys", -3.8, 8.0, -11.7)];
        assert!(!name_level_rides(&mut explained, &fits, &mut Vec::new()));
        // Every stem rides: a whole-mix cause.
        let fits = [fit("bass", 0.0, 4.0, -8.0), fit("keys", -3.8, 8.0, -11.7)];
        assert!(!name_level_rides(&mut explained, &fits, &mut Vec::new()));
        // A drifting stem is not judged on its gains.
        let mut unexplained = vec![Cause::UnexplainedResidual {
            residual_db: -10.0,
            null_gain_with_dynamics_db: 0.0,
            null_gain_with_eq_db: 0.0,
            may_be_excluded: Vec::new(),
            sum: SumImpact::default(),
        }];
        let fits = [fit("bass", 0.0, 0.0, 0.0), fit("keys", -3.8, 8.0, -11.7)];
        let mut drift = vec![Cause::ClockDrift(crate::cause::ClockDrift {
            file: "keys".into(),
            stems: Vec::new(),
            ppm: 100.0,
            offset_start_samples: 0.0,
            offset_end_samples: 150.0,
            sample_rate: 48_000,
            windows: 8,
        })];
        assert!(!name_level_rides(
            &mut unexplained.clone(),
            &fits,
            &mut drift
        ));
        let mut fx = vec![crate::cause::fixtures::added_part(true)];
        // A return the fit leans on where the missing part plays: its window gains range
        // widely, but a gain of its own per window leaves the part's residual where it was.
        let leaning = [fit("bass", 0.0, 0.1, 0.0), fit("return", 0.0, 11.1, -0.1)];
        assert!(!name_level_rides(
            &mut fx.clone(),
            &leaning,
            &mut Vec::new()
        ));
        // A stem muted for a passage leaves its own part as residual, which reads as a part no
        // stem carries: a gain of its own per window removes it.
        let muted = [fit("bass", 0.0, 0.0, 0.0), fit("keys", -1.3, 96.5, -7.0)];
        assert!(name_level_rides(&mut fx, &muted, &mut Vec::new()));
        assert!(
            matches!(&fx[..], [Cause::LevelRide(r)] if r.replaced == Some(FindingCode::MissingElement))
        );
        assert!(name_level_rides(&mut unexplained, &fits, &mut Vec::new()));
        assert!(
            matches!(&unexplained[..], [Cause::LevelRide(r)] if r.replaced == Some(FindingCode::UnexplainedResidual))
        );
        // Nothing named at warning level: the residual is not worth a ride.
        assert!(!name_level_rides(&mut Vec::new(), &fits, &mut Vec::new()));
    }
}
