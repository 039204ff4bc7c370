//! Bus dynamics: compression, limiting or clipping on the mix bus that the stems did not get.

use super::super::models::dynamics;
use super::super::stats::db;
use super::judge::{Context, DECISIVE_DB, WholeMix};
use crate::cause::{BusProcessing, DynamicsKind, Evidence, SumImpact};
use crate::units::db_to_power;

/// The bus-processing cause, and the residual left once dynamics are modelled (dB re mix;
/// `None` when the moving gain was only seen riding under added content, which it does not
/// remove).
pub(super) fn cause(cx: &Context<'_>, whole_mix: &WholeMix) -> (BusProcessing, Option<f64>) {
    let (s, ride) = (cx.scores, &whole_mix.ride);
    let rides = whole_mix.dyn_rides;
    let dy = dynamics(cx.frames);
    // The better of the two dynamics models (neighbour-predicted or level-dependent gain).
    let with_dynamics_db = s.dynamics_db.min(s.gain_db - s.level_gain_db);
    let explained_db = if rides {
        ride.moving_db
    } else {
        db(db_to_power(s.gain_db) - db_to_power(with_dynamics_db))
    };
    // Under added content the per-frame gains of `dynamics` are noisy; the windows'
    // regression gains are not.
    let (gr_typical_db, gr_max_db) = if rides {
        (ride.gr_typical_db, ride.gr_max_db)
    } else {
        (dy.gr_typical_db, dy.gr_max_db)
    };
    let clipped = dy.clipped_frames > 0 && dy.clipped_frames * 200 > cx.frames.len();
    let limiting = dy.pinned_share > 0.05 && dy.crest_drop_db > 1.0;
    let kind = if clipped {
        DynamicsKind::Clipping
    } else if limiting {
        DynamicsKind::Limiting
    } else {
        DynamicsKind::Compression
    };
    let level_dependent = dy.slope_db_per_db < -0.02 || limiting || clipped;
    let strong =
        !rides && level_dependent && s.dynamics_gain_db.max(s.level_gain_db) >= 2.0 * DECISIVE_DB;
    let evidence = if strong {
        Evidence::Strong
    } else if rides {
        Evidence::Rides
    } else if whole_mix.dyn_masked {
        Evidence::Masked
    } else {
        Evidence::Unclear
    };
    let cause = BusProcessing {
        kind,
        evidence,
        explained_db,
        gain_reduction_typical_db: gr_typical_db,
        gain_reduction_max_db: gr_max_db,
        quiet_passage_gain_db: dy.quiet_gain_db,
        gain_slope_db_per_db: dy.slope_db_per_db,
        crest_factor_drop_db: dy.crest_drop_db,
        peak_pinned_share: dy.pinned_share,
        mix_ceiling_dbfs: dy.ceiling_dbfs,
        clipped_frames: dy.clipped_frames,
        residual_db: s.gain_db,
        residual_with_dynamics_db: s.dynamics_db,
        null_gain_db: s.dynamics_gain_db,
        null_gain_with_eq_db: s.filter_gain_db,
        null_gain_with_level_gain_db: s.level_gain_db,
        null_gain_with_waveshaper_db: cx.stream.waveshaper.map(|w| w.null_gain_db),
        explained_share: s.dynamics_share,
        level_ride_correlation: ride.level_correlation,
        level_ride_reproducibility: ride.reproducibility,
        level_ride_slope_db_per_db: ride.slope_db_per_db,
        width: None,
        sum: SumImpact::default(),
    };
    (cause, (!rides).then_some(with_dynamics_db))
}

/// The bus-processing cause of a clipper or saturator on the mix bus (a gain per amplitude of
/// the sum, `fit`, explains the residual; see `diagnose::waveshaper`), and the residual left
/// once it is modelled (dB re mix).
pub(super) fn saturation_cause(
    cx: &Context<'_>,
    whole_mix: &WholeMix,
    fit: &crate::diagnose::waveshaper::WaveshaperFit,
) -> (BusProcessing, f64) {
    let s = cx.scores;
    let (mut cause, _) = cause(cx, whole_mix);
    let left_db = s.gain_db - fit.null_gain_db;
    cause.kind = DynamicsKind::Saturation;
    cause.evidence = Evidence::Strong;
    cause.explained_db = db(db_to_power(s.gain_db) - db_to_power(left_db));
    cause.gain_reduction_typical_db = (-fit.loud_gain_db).max(0.0);
    cause.gain_reduction_max_db = (-fit.peak_gain_db).max(0.0);
    (cause, left_db)
}

/// The bus-processing cause of a stereo width on the mix bus (the side's own curve, `fit`,
/// explains the residual; see `diagnose::stereo`), and the residual left once it is modelled
/// (dB re mix).
pub(super) fn width_cause(
    cx: &Context<'_>,
    whole_mix: &WholeMix,
    fit: &crate::diagnose::stereo::WidthFit,
) -> (BusProcessing, f64) {
    let s = cx.scores;
    let (mut cause, _) = cause(cx, whole_mix);
    let left_db = s.gain_db - fit.null_gain_db;
    cause.kind = DynamicsKind::StereoWidth;
    cause.evidence = Evidence::Strong;
    cause.explained_db = db(db_to_power(s.gain_db) - db_to_power(left_db));
    cause.width = Some(crate::cause::StereoWidth {
        side_minus_mid_db: fit.side_minus_mid_db,
        side_minus_mid_db_by_octave: fit.side_minus_mid_db_by_octave.clone(),
        null_gain_db: fit.null_gain_db,
        null_gain_over_linked_eq_db: fit.over_linked_db,
    });
    (cause, left_db)
}

/// The bus-processing cause of a stereo width beside bus dynamics (`fit` from
/// `stereo::fit_under_moving_gain`), and the residual left once both are modelled (dB re
/// mix): what the side's own curve explains over the moving gain alone comes off
/// `dynamics_left_db`, the residual the dynamics leave.
pub(super) fn width_cause_under_dynamics(
    cx: &Context<'_>,
    whole_mix: &WholeMix,
    fit: &crate::diagnose::stereo::WidthFit,
    dynamics_left_db: f64,
) -> (BusProcessing, f64) {
    let (mut cause, _) = width_cause(cx, whole_mix, fit);
    let left_db = dynamics_left_db - fit.over_linked_db;
    cause.explained_db = db(db_to_power(dynamics_left_db) - db_to_power(left_db));
    (cause, left_db)
}
