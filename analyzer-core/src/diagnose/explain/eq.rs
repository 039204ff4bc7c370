//! Bus EQ: a linear filter on the mix bus that the stems did not get.

use super::super::features::octave_curve;
use super::super::stats::db;
use super::judge::Context;
use crate::cause::{BusEq, Evidence, OctaveGain, SumImpact, coherent_bands};
use crate::units::db_to_power;

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
