//! The session's pan law, inferred from how its mono stems enter a stereo mix.
//!
//! A mono file carries no pan. The DAW feeds it to the two mix channels with its pan law: at
//! the centre each channel gets the law's centre gain (0, -2.5, -3, -4.5 or -6 dB in the DAWs
//! in use: Pro Tools -2.5 / -3, Logic -3, Cubase 0 / -3 / -4.5 / -6, REAPER 0 / -3 / -6,
//! Ardour -3). The reconciliation fits one gain per mix channel for a mono stem and reads its
//! constant-power sum, so a centred mono stem reads `law + 3.01` dB: 0 dB under the -3 dB
//! (constant-power) law, +3 dB under the 0 dB law, -3 dB under the -6 dB law. Judged against
//! the constant-power law only, every mono stem of a 0 dB session would be a `gain_mismatch`.
//!
//! The law is a property of the session, so it is inferred from the mono stems together and
//! every mono stem is judged against it: for each candidate law, the stems' gains corrected for
//! it (stereo stems need no correction) are grouped, and the law under which the largest group
//! of stems agrees within the profile's gain tolerance wins. A single hot mono stem among mono
//! stems at the session law therefore stays hot. Ties (one mono stem alone; two that disagree)
//! go to the -3 dB constant-power law (the common default), then to the law whose group sits
//! nearest 0 dB (no master-fader change).
//!
//! Off centre, laws differ in their curves. The offset is scaled by the stem's centredness
//! `2 |gL gR| / (gL^2 + gR^2)` (1 at the centre, 0 hard left or right, where every law feeds
//! one channel at unity): exact at the centre and at the sides, within a few tenths of a dB
//! between them for the constant-power-based laws. Stems panned further out than half way
//! (centredness below [`MIN_CENTREDNESS`]) say too little about the law to vote.

use crate::units::power_to_db;

/// Centre gain per channel (dB) of the -3 dB constant-power (sine/cosine) law: -10 log10(2).
pub const CONSTANT_POWER_DB: f64 = -3.010_299_956_639_812;

/// The pan laws DAWs offer, as the per-channel centre gain in dB. -3, -4.5 and -6 are the
/// constant-power, compromise and linear laws (exactly -3.01, -4.52 and -6.02 dB).
pub const PAN_LAWS_DB: [f64; 5] = [
    0.0,
    -2.5,
    CONSTANT_POWER_DB,
    1.5 * CONSTANT_POWER_DB,
    2.0 * CONSTANT_POWER_DB,
];

/// Stems agree on a gain within this (or the profile's tolerance, if tighter) when the law is
/// inferred: half the smallest spacing of two laws (-2.5 and -3 dB).
pub const AGREEMENT_DB: f64 = 0.25;

/// Stems less centred than this do not vote on the law.
pub const MIN_CENTREDNESS: f64 = 0.5;

/// A mono stem's fitted gains into the two channels of a stereo mix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonoFit {
    /// Constant-power sum of the two channel gains, dB.
    pub power_db: f64,
    /// `2 |gL gR| / (gL^2 + gR^2)`: 1 at the centre, 0 at either side.
    pub centredness: f64,
}

impl MonoFit {
    /// From the signed per-channel gains; `None` when both are zero.
    pub fn from_gains(left: f64, right: f64) -> Option<Self> {
        let power = left * left + right * right;
        (power > 0.0).then(|| Self {
            power_db: power_to_db(power),
            centredness: 2.0 * (left * right).abs() / power,
        })
    }

    /// What the stem's constant-power gain reads under `law_db` when it is delivered right.
    pub fn expected_db(&self, law_db: f64) -> f64 {
        (law_db - CONSTANT_POWER_DB) * self.centredness
    }

    /// The stem's gain judged against `law_db`.
    pub fn gain_db(&self, law_db: f64) -> f64 {
        self.power_db - self.expected_db(law_db)
    }
}

/// The pan law under which the most stems agree on one gain (see the module docs), or `None`
/// when no mono stem is centred enough to tell. `stereo_db` are the gains of the other stems.
pub fn infer(mono: &[MonoFit], stereo_db: &[f64], tolerance_db: f64) -> Option<f64> {
    let voters: Vec<&MonoFit> = mono
        .iter()
        .filter(|m| m.centredness >= MIN_CENTREDNESS)
        .collect();
    if voters.is_empty() {
        return None;
    }
    // (group size, distance of the law from -3 dB, distance of the group's centre from 0 dB)
    let mut best: Option<(usize, f64, f64, f64)> = None;
    for law in PAN_LAWS_DB {
        let gains: Vec<f64> = voters
            .iter()
            .map(|m| m.gain_db(law))
            .chain(stereo_db.iter().copied())
            .collect();
        let (size, centre) = largest_group(&gains, tolerance_db.min(AGREEMENT_DB));
        let key = (size, (law - CONSTANT_POWER_DB).abs(), centre.abs());
        let better = best.is_none_or(|(s, d, c, _)| {
            key.0 > s || key.0 == s && (key.1 < d - 1e-9 || (key.1 - d).abs() <= 1e-9 && key.2 < c)
        });
        if better {
            best = Some((key.0, key.1, key.2, law));
        }
    }
    best.map(|b| b.3)
}

/// The largest set of values within `tolerance` of one of them, and its mean.
fn largest_group(values: &[f64], tolerance: f64) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for &v in values {
        let near: Vec<f64> = values
            .iter()
            .copied()
            .filter(|x| (x - v).abs() <= tolerance)
            .collect();
        let mean = near.iter().sum::<f64>() / near.len() as f64;
        if near.len() > best.0 || near.len() == best.0 && mean.abs() < best.1.abs() {
            best = (near.len(), mean);
        }
    }
    best
}

/// A law for display: -3.01 reads -3.0, -4.52 reads -4.5.
pub fn display_db(law_db: f64) -> f64 {
    (law_db * 10.0).trunc() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centred(law_db: f64, error_db: f64) -> MonoFit {
        let g = crate::units::db_to_amp(law_db + error_db);
        MonoFit::from_gains(g, g).unwrap()
    }

    #[test]
    fn a_centred_stem_reads_law_plus_3_db() {
        assert!(centred(CONSTANT_POWER_DB, 0.0).power_db.abs() < 1e-9);
        assert!((centred(0.0, 0.0).power_db + CONSTANT_POWER_DB).abs() < 1e-9);
        for law in PAN_LAWS_DB {
            assert!(centred(law, 0.0).gain_db(law).abs() < 1e-9);
        }
        let hard = MonoFit::from_gains(1.0, 0.0).unwrap();
        assert_eq!(hard.centredness, 0.0);
        assert_eq!(hard.gain_db(0.0), 0.0);
    }

    #[test]
    fn every_law_is_recognised_from_its_mono_stems() {
        for law in PAN_LAWS_DB {
            let mono = [centred(law, 0.0), centred(law, 0.1), centred(law, -0.1)];
            assert_eq!(infer(&mono, &[0.0, 0.05], 0.5), Some(law));
            // Master fader down 2 dB: the stereo stems move too, the law stays.
            let mono = [centred(law, -2.0), centred(law, -2.0)];
            assert_eq!(infer(&mono, &[-2.0, -2.0], 0.5), Some(law));
        }
    }

    #[test]
    fn a_hot_stem_does_not_move_the_law() {
        for law in PAN_LAWS_DB {
            let mono = [centred(law, 0.0), centred(law, 3.0), centred(law, 0.0)];
            assert_eq!(infer(&mono, &[0.0], 0.5), Some(law));
            let judged: Vec<f64> = mono.iter().map(|m| m.gain_db(law)).collect();
            assert!((judged[1] - 3.0).abs() < 1e-9, "{judged:?}");
        }
        // Two mono stems that disagree, no stereo stems: the one at 0 dB sets the law.
        let mono = [
            centred(CONSTANT_POWER_DB, 0.0),
            centred(CONSTANT_POWER_DB, 3.0),
        ];
        assert_eq!(infer(&mono, &[], 0.5), Some(CONSTANT_POWER_DB));
    }

    #[test]
    fn side_panned_stems_do_not_vote() {
        let hard = MonoFit::from_gains(0.99, 0.05).unwrap();
        assert_eq!(infer(&[hard], &[0.0], 0.5), None);
        assert_eq!(display_db(2.0 * CONSTANT_POWER_DB), -6.0);
        assert_eq!(display_db(1.5 * CONSTANT_POWER_DB), -4.5);
        assert_eq!(display_db(-2.5), -2.5);
    }
}
