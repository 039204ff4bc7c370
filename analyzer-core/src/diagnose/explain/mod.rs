//! The rule engine: which causes the model scores and residual features support.
//!
//! Whole-mix processes are judged first, on the plain sum (see `WholeMix`); what the best
//! whole-mix model leaves is then judged as added content on the fitted residual. One part per
//! cause family: [`dynamics`] (bus compression, limiting, clipping), [`eq`] (bus EQ) and
//! [`added`] (effect returns and missing elements); a residual none of them explains is
//! `unexplained_residual`.

mod added;
mod codec;
mod dynamics;
mod eq;
mod judge;

pub(in crate::diagnose) use judge::Context;
pub use judge::DECISIVE_DB;

use super::models::ModelScores;
use crate::cause::{Cause, QUIET_RESIDUAL_DB};
use judge::WholeMix;

/// The causes the scores and features support, strongest first.
pub(in crate::diagnose) fn explain(cx: &Context<'_>) -> Vec<Cause> {
    let causes = explain_residual(cx);
    // Coding noise reads as added content (or as nothing a model explains, or, when quiet,
    // as nothing at all): a whole-mix process found on top of it is not coding noise.
    let whole_mix = causes.iter().any(|c| {
        matches!(
            c,
            Cause::MissingBusProcessing(_) | Cause::BusEq(_) | Cause::MasterRide(_)
        )
    });
    if !whole_mix && let Some(mut lossy) = codec::cause(cx) {
        lossy.replaced = causes.first().map(Cause::code);
        return vec![Cause::LossyCodec(lossy)];
    }
    causes
}

/// The causes of the residual of `cx` but coding noise: whole-mix processing, added content,
/// or the unexplained residual.
fn explain_residual(cx: &Context<'_>) -> Vec<Cause> {
    let (s, r) = (cx.scores, cx.residual);
    // The residual to explain: the global-gain residual (a pure gain is the reconciliation's
    // business). Quieter than QUIET_RESIDUAL_DB it is render noise, dither or quantisation.
    // When the per-stem fit leaves only a quiet residual, the reconciliation's own findings
    // (offsets, gains, polarity) explain everything.
    let residual_db = s.gain_db.max(r.level_db.min(s.gain_db + 1.0));
    // A clipper's distortion is named even when quiet: it is why the sum misses the profile.
    let shaper = cx.stream.waveshaper.filter(|w| saturation_wins(w, s));
    crate::reconcile::dbg_align(|| format!("waveshaper {:?}", cx.stream.waveshaper));
    let width = crate::diagnose::stereo::fit(cx.segments, cx.stream.band_hz, cx.stream.channels);
    crate::reconcile::dbg_align(|| format!("stereo width {width:?}"));
    let width = width.filter(|w| width_wins(w, s, cx.stream.waveshaper));
    if shaper.is_none()
        && width.is_none()
        && (residual_db <= QUIET_RESIDUAL_DB || r.level_db <= QUIET_RESIDUAL_DB)
    {
        return Vec::new();
    }
    let whole_mix = WholeMix::judge(cx.frames, s);
    // A width beside a bus compressor: the compressor's misfit hides the side's own curve
    // from the model above, so it is fitted again with each FFT frame's gain taken out.
    let moving_width = if shaper.is_none() && width.is_none() && whole_mix.dynamics_win() {
        let fit = crate::diagnose::stereo::fit_under_moving_gain(
            cx.segments,
            cx.stream.band_hz,
            cx.stream.channels,
        );
        crate::reconcile::dbg_align(|| format!("stereo width under a moving gain {fit:?}"));
        fit.filter(width_wins_under_moving_gain)
    } else {
        None
    };
    let mut causes: Vec<Cause> = Vec::new();
    // Residual energy left after the best whole-mix model, relative to the mix.
    let mut left_db = s.gain_db;
    if let Some(fit) = shaper {
        let (cause, left) = dynamics::saturation_cause(cx, &whole_mix, &fit);
        left_db = left;
        causes.push(Cause::MissingBusProcessing(cause));
    } else if whole_mix.dynamics_win() && (width.is_none() || whole_mix.dyn_decisive) {
        // Beside a width, only decisive dynamics: the weak evidence (a gain that rides with
        // level under content no stem carries) reads the width's residual, which follows the
        // music's level, as that content.
        // A gain that holds for most of the song and moves in one or two long stretches is
        // master automation (a fade), not a compressor.
        if let Some(ride) =
            crate::diagnose::master_ride::stretches(cx.frames, cx.stream.frames_start_s)
        {
            left_db = s.dynamics_db;
            causes.push(Cause::MasterRide(crate::cause::MasterRide {
                stretches: ride
                    .iter()
                    .map(|r| (r.start_s, r.end_s, r.depth_db))
                    .collect(),
                // What the time-varying gain accounts for, as for bus dynamics.
                residual_db: crate::diagnose::stats::db(
                    crate::units::db_to_power(s.gain_db) - crate::units::db_to_power(s.dynamics_db),
                ),
                sum: crate::cause::SumImpact::default(),
            }));
        } else {
            let (cause, left) = dynamics::cause(cx, &whole_mix);
            left_db = left.unwrap_or(left_db);
            causes.push(Cause::MissingBusProcessing(cause));
        }
    }
    if let Some(fit) = &width {
        let (cause, left) = dynamics::width_cause(cx, &whole_mix, fit);
        left_db = left_db.min(left);
        causes.push(Cause::MissingBusProcessing(cause));
    }
    if let Some(fit) = &moving_width {
        let (cause, left) = dynamics::width_cause_under_dynamics(cx, &whole_mix, fit, left_db);
        left_db = left_db.min(left);
        causes.push(Cause::MissingBusProcessing(cause));
    }
    if whole_mix.eq_wins() {
        let eq = eq::cause(cx, whole_mix.eq_masked);
        // An EQ that the stems' own gains draw is theirs (`gain_mismatch`), not the mix bus's.
        if !eq::made_by_stem_gains(cx, &eq) {
            left_db = left_db.min(s.gain_db - s.filter_gain_db);
            causes.push(Cause::BusEq(eq));
        }
    }
    // Added content: what the best whole-mix model leaves, judged on the fitted residual.
    let added_db = left_db.min(r.level_db);
    if added_db > QUIET_RESIDUAL_DB {
        let secondary = whole_mix.dynamics_win() || whole_mix.eq_wins();
        if moving_width.is_some() {
            // The width's side is why the residual differs between the channels: that is no
            // sign of an effect return here (a reverb still trails).
            let residual = crate::diagnose::features::ResidualFeatures {
                interchannel_correlation: None,
                ..*cx.residual
            };
            let cx = Context {
                residual: &residual,
                ..*cx
            };
            causes.extend(added::cause(&cx, added_db, secondary).map(Cause::AddedContent));
        } else {
            causes.extend(added::cause(cx, added_db, secondary).map(Cause::AddedContent));
        }
    }
    finish_causes(causes, residual_db, s)
}

/// A gain per amplitude of each sample (a clipper's curve) explains the residual: it deepens
/// the null decisively over one gain, by [`DECISIVE_DB`] more than any time-varying or
/// level-dependent gain and any filter does, and it squashes the peaks (a clipper; a curve
/// that lifts them is no bus process anyone sets).
fn saturation_wins(w: &crate::diagnose::waveshaper::WaveshaperFit, s: &ModelScores) -> bool {
    let rival = s
        .dynamics_gain_db
        .max(s.level_gain_db)
        .max(s.filter_gain_db);
    w.null_gain_db >= DECISIVE_DB
        && w.null_gain_db >= rival + DECISIVE_DB
        && w.peak_gain_db <= -PEAK_SQUASH_DB
}

/// A curve of its own for the side explains the residual: it nulls at least
/// [`WIDTH_DECISIVE_DB`] deeper than one EQ for both channels and than one gain, and
/// [`DECISIVE_DB`] deeper than any time-varying, level-dependent or per-amplitude gain (the
/// mono band filter is no rival: it is blind to the side), and the width differs from the
/// mid's somewhere by [`WIDTH_MIN_DB`].
fn width_wins(
    w: &crate::diagnose::stereo::WidthFit,
    s: &ModelScores,
    shaper: Option<crate::diagnose::waveshaper::WaveshaperFit>,
) -> bool {
    let rival = s
        .dynamics_gain_db
        .max(s.level_gain_db)
        .max(shaper.map_or(0.0, |f| f.null_gain_db));
    let widest = w
        .side_minus_mid_db_by_octave
        .iter()
        .map(|(_, d)| d.abs())
        .fold(w.side_minus_mid_db.abs(), f64::max);
    w.over_linked_db >= WIDTH_DECISIVE_DB
        && w.null_gain_db >= WIDTH_DECISIVE_DB
        && w.null_gain_db >= rival + DECISIVE_DB
        && widest >= WIDTH_MIN_DB
}

/// A curve of its own for the side explains the side's residual once every FFT frame's gain is
/// taken out (a bus compressor beside the width): the side nulls at least
/// [`WIDTH_DECISIVE_DB`] deeper with it than with the filter both channels share, and the
/// width differs from the mid's somewhere by [`WIDTH_MIN_DB`]. The whole-mix scores are no
/// rival here: the compressor is named beside it. Measured under a moving gain, on the side:
/// a mid/side width (+2.9 dB) beside a compander on three corpus songs 12.8-18.0 dB; every
/// compressor, limiter, clipper, reverb, chorus, bus EQ and codec case of the corpus 1.8 dB at
/// most; a delay-based widener (ffmpeg stereowiden, content, not a width) 4.3-6.8 dB, under a
/// compander 4.0-6.6 dB.
fn width_wins_under_moving_gain(w: &crate::diagnose::stereo::WidthFit) -> bool {
    let widest = w
        .side_minus_mid_db_by_octave
        .iter()
        .map(|(_, d)| d.abs())
        .fold(w.side_minus_mid_db.abs(), f64::max);
    w.side_over_linked_db >= WIDTH_DECISIVE_DB && widest >= WIDTH_MIN_DB
}

/// What a side curve must explain over one EQ for both channels (dB): a mid/side width on the
/// corpus songs (flat, above 300 Hz only, or the lows below 150 or 300 Hz made mono) 14-60 dB; every
/// reverb, chorus, phaser, slapback, compressor and bus EQ of the corpus and the probes 0.1 dB
/// at most; a delay-based widener (ffmpeg stereowiden, which adds a delayed copy: content, not
/// a width) 2.9-6.2 dB.
const WIDTH_DECISIVE_DB: f64 = 10.0;
/// The least width change named (dB, side against mid, overall or in one octave).
const WIDTH_MIN_DB: f64 = 0.5;

/// A clipper takes at least this much (dB) off the loudest peaks.
const PEAK_SQUASH_DB: f64 = 0.05;

/// Orders the causes strongest first; with none, the residual is unexplained.
fn finish_causes(mut causes: Vec<Cause>, residual_db: f64, s: &ModelScores) -> Vec<Cause> {
    if causes.is_empty() {
        causes.push(Cause::UnexplainedResidual {
            residual_db,
            null_gain_with_dynamics_db: s.dynamics_gain_db,
            null_gain_with_eq_db: s.filter_gain_db,
            may_be_excluded: Vec::new(),
            sum: crate::cause::SumImpact::default(),
        });
    }
    let share = |c: &Cause| c.residual_share_db().unwrap_or(f64::NEG_INFINITY);
    causes.sort_by(|a, b| share(b).total_cmp(&share(a)));
    causes
}
