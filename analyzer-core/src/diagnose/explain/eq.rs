//! Bus EQ: a linear filter on the mix bus that the stems did not get.

use super::super::features::{octave_curve, stem_gains_curve};
use super::super::stats::db;
use super::judge::Context;
use crate::cause::{BusEq, Evidence, OctaveGain, SumImpact, coherent_bands};
use crate::units::db_to_power;

/// A curve the per-stem gains reproduce within this (dB, in every coherent octave band) is
/// those gains: the stems' own levels, not a filter on the mix bus.
const STEM_GAINS_MATCH_DB: f64 = 1.0;
/// Curves flatter than this (dB, span of the coherent bands) are left as they are: nothing to
/// attribute.
const STEM_GAINS_MIN_SPAN_DB: f64 = 1.0;

/// Whether the stems' fitted gains alone give the plain sum `eq`'s curve: a stem delivered
/// 4 dB low makes the mix read 4 dB "boosted" in the octaves that stem dominates (the
/// drums' hats: +4 dB from 4 kHz up), which the plain-sum filter model fits as a bus EQ. A
/// real bus EQ shapes every stem alike, which per-stem gains reproduce only roughly, never
/// band for band.
pub(super) fn made_by_stem_gains(cx: &Context<'_>, eq: &BusEq) -> bool {
    if eq.curve_span_db < STEM_GAINS_MIN_SPAN_DB {
        return false;
    }
    let gains = stem_gains_curve(cx.stream, cx.segments);
    let mut compared = 0;
    for band in coherent_bands(&eq.curve) {
        let Some(&(_, g)) = gains.iter().find(|(hz, _)| *hz == band.hz) else {
            return false;
        };
        if (band.gain_db - g).abs() > STEM_GAINS_MATCH_DB {
            return false;
        }
        compared += 1;
    }
    compared > 0
}

/// The bus-EQ cause; `masked` = added content masks it (see `WholeMix`).
pub(super) fn cause(cx: &Context<'_>, masked: bool) -> BusEq {
    let s = cx.scores;
    let curve: Vec<OctaveGain> =
        octave_curve(cx.stream, cx.band_gains, cx.band_coherence, cx.segments)
            .into_iter()
            .map(|(hz, gain_db, coherence)| OctaveGain {
                hz,
                gain_db,
                coherence,
            })
            .collect();
    let explained_db = db(db_to_power(s.gain_spectral_db) - db_to_power(s.filter_db));
    let (lo, hi) = coherent_bands(&curve).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| {
        (a.min(c.gain_db), b.max(c.gain_db))
    });
    let span = if coherent_bands(&curve).next().is_none() {
        0.0
    } else {
        hi - lo
    };
    let evidence = if span >= 1.0 && !masked {
        Evidence::Strong
    } else if masked {
        Evidence::Masked
    } else {
        Evidence::Unclear
    };
    BusEq {
        evidence,
        explained_db,
        curve,
        curve_span_db: span,
        residual_db: s.gain_spectral_db,
        residual_with_eq_db: s.filter_db,
        null_gain_db: s.filter_gain_db,
        null_gain_with_dynamics_db: s.dynamics_gain_db,
        explained_share: s.filter_share,
        sum: SumImpact::default(),
    }
}
