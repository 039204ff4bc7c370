//! The rule engine: which causes the model scores and residual features support.
//!
//! Whole-mix processes are judged first, on the plain sum (see `WholeMix`); what the best
//! whole-mix model leaves is then judged as added content on the fitted residual. One part per
//! cause family: [`dynamics`] (bus compression, limiting, clipping), [`eq`] (bus EQ) and
//! [`added`] (effect returns and missing elements); a residual none of them explains is
//! `unexplained_residual`.

mod added;
mod dynamics;
mod eq;

use realfft::num_complex::Complex;

use super::features::ResidualFeatures;
use super::models::{LevelRide, ModelScores, dynamics as dynamics_of, level_ride};
use super::stats::{FrameStat, Segment, StreamFacts};
use crate::cause::{Cause, QUIET_RESIDUAL_DB};

/// A whole-mix model explains the residual when its cross-validated null is this much deeper
/// than the global-gain model's (3 dB: it removes at least half of the residual energy).
pub const DECISIVE_DB: f64 = 3.0;
/// A masked whole-mix process must still deepen the cross-validated null by this much...
const MASKED_MIN_GAIN_DB: f64 = 0.5;
/// ...explain at least this share of what its kind of model could explain at all...
const MASKED_SHARE: f64 = 0.6;
/// ...and that room must be this loud relative to the mix (dB).
const MASKED_ROOM_DB: f64 = -25.0;

/// Everything the rules read.
pub(in crate::diagnose) struct Context<'a> {
    pub stream: &'a StreamFacts<'a>,
    pub frames: &'a [FrameStat],
    pub segments: &'a [&'a Segment],
    pub scores: &'a ModelScores,
    pub residual: &'a ResidualFeatures,
    /// The band filter's complex gains (all data).
    pub band_gains: &'a [Complex<f64>],
    pub band_coherence: &'a [f64],
}

/// Which whole-mix model explains the residual, and how.
struct WholeMix {
    /// The time-varying or level-dependent gain deepens the null decisively.
    dyn_decisive: bool,
    /// The band filter deepens the null decisively (and more than dynamics).
    eq_decisive: bool,
    /// Added content masks dynamics, but a moving gain explains most of what any gain could.
    dyn_masked: bool,
    /// Added content masks an EQ, but the filter explains most of what any EQ could.
    eq_masked: bool,
    /// A part no stem carries hides a bus compressor that still rides the stems' gain.
    dyn_rides: bool,
    ride: LevelRide,
}

impl WholeMix {
    fn judge(frames: &[FrameStat], s: &ModelScores) -> Self {
        // Nested models: a gain that falls with the level of the sum is what a compressor
        // does and what no linear filter can do (heavy compression of bass-heavy loud passages
        // otherwise reads as a flat "EQ" plus cold stems). When the level model deepens the
        // null decisively and its gain falls with level, dynamics win unless the filter beats
        // them decisively.
        let falls_with_level =
            s.level_gain_db >= DECISIVE_DB && dynamics_of(frames).slope_db_per_db < -0.02;
        let dyn_score = if falls_with_level {
            s.dynamics_gain_db.max(s.level_gain_db) + DECISIVE_DB
        } else {
            s.dynamics_gain_db
        };
        let dyn_decisive = (s.dynamics_gain_db >= DECISIVE_DB || falls_with_level)
            && dyn_score >= s.filter_gain_db;
        let eq_decisive = s.filter_gain_db >= DECISIVE_DB && s.filter_gain_db > dyn_score;
        // Masked: added content hides a whole-mix process in the total residual, but the
        // process still explains most of what a model of its kind could explain at all.
        let masked = |gain_db: f64, share: f64, room_db: f64| {
            gain_db >= MASKED_MIN_GAIN_DB && share >= MASKED_SHARE && room_db > MASKED_ROOM_DB
        };
        let dyn_masked = !dyn_decisive
            && !eq_decisive
            && masked(s.dynamics_gain_db, s.dynamics_share, s.dynamics_room_db)
            && s.dynamics_gain_db >= s.filter_gain_db;
        let eq_masked = !dyn_decisive
            && !eq_decisive
            && masked(s.filter_gain_db, s.filter_share, s.filter_room_db)
            && s.filter_gain_db > dyn_score;
        // Masked harder still: a part no stem carries dominates the residual, so no gain model
        // deepens the null, but the gain the stems enter with falls reproducibly as the mix
        // gets louder (see `level_ride`).
        let ride = level_ride(frames);
        let dyn_rides = !dyn_decisive && !eq_decisive && !dyn_masked && !eq_masked && ride.holds();
        Self {
            dyn_decisive,
            eq_decisive,
            dyn_masked,
            eq_masked,
            dyn_rides,
            ride,
        }
    }

    fn dynamics_win(&self) -> bool {
        self.dyn_decisive || self.dyn_masked || self.dyn_rides
    }

    fn eq_wins(&self) -> bool {
        self.eq_decisive || self.eq_masked
    }
}

/// The causes the scores and features support, strongest first.
pub(in crate::diagnose) fn explain(cx: &Context<'_>) -> Vec<Cause> {
    let (s, r) = (cx.scores, cx.residual);
    // The residual to explain: the global-gain residual (a pure gain is the reconciliation's
    // business). Quieter than QUIET_RESIDUAL_DB it is render noise, dither or quantisation.
    // When the per-stem fit leaves only a quiet residual, the reconciliation's own findings
    // (offsets, gains, polarity) explain everything.
    let residual_db = s.gain_db.max(r.level_db.min(s.gain_db + 1.0));
    if residual_db <= QUIET_RESIDUAL_DB || r.level_db <= QUIET_RESIDUAL_DB {
        return Vec::new();
    }
    let whole_mix = WholeMix::judge(cx.frames, s);
    let mut causes: Vec<Cause> = Vec::new();
    // Residual energy left after the best whole-mix model, relative to the mix.
    let mut left_db = s.gain_db;
    if whole_mix.dynamics_win() {
        let (cause, left) = dynamics::cause(cx, &whole_mix);
        left_db = left.unwrap_or(left_db);
        causes.push(Cause::MissingBusProcessing(cause));
    }
    if whole_mix.eq_wins() {
        left_db = left_db.min(s.gain_db - s.filter_gain_db);
        causes.push(Cause::BusEq(eq::cause(cx, whole_mix.eq_masked)));
    }
    // Added content: what the best whole-mix model leaves, judged on the fitted residual.
    let added_db = left_db.min(r.level_db);
    if added_db > QUIET_RESIDUAL_DB {
        let secondary = whole_mix.dynamics_win() || whole_mix.eq_wins();
        causes.extend(added::cause(cx, added_db, secondary).map(Cause::AddedContent));
    }
    finish_causes(causes, residual_db, s)
}

/// Orders the causes strongest first; with none, the residual is unexplained.
fn finish_causes(mut causes: Vec<Cause>, residual_db: f64, s: &ModelScores) -> Vec<Cause> {
    if causes.is_empty() {
        causes.push(Cause::UnexplainedResidual {
            residual_db,
            null_gain_with_dynamics_db: s.dynamics_gain_db,
            null_gain_with_eq_db: s.filter_gain_db,
        });
    }
    let share = |c: &Cause| c.residual_share_db().unwrap_or(f64::NEG_INFINITY);
    causes.sort_by(|a, b| share(b).total_cmp(&share(a)));
    causes
}
