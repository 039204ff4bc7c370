//! What the rules of every cause family read ([`Context`]) and which whole-mix model wins
//! ([`WholeMix`]), shared by `explain`'s parts so none of them reaches up into `explain` for
//! its types.

use realfft::num_complex::Complex;

use crate::diagnose::features::ResidualFeatures;
use crate::diagnose::models::{
    LevelRide, MIN_RIDE_WINDOWS, ModelScores, dynamics as dynamics_of, level_ride,
};
use crate::diagnose::stats::{FrameStat, Segment, StreamFacts};

/// A whole-mix model explains the residual when its cross-validated null is this much deeper
/// than the global-gain model's (3 dB: it removes at least half of the residual energy).
pub const DECISIVE_DB: f64 = 3.0;
/// A masked whole-mix process must still deepen the cross-validated null by this much...
const MASKED_MIN_GAIN_DB: f64 = 0.5;
/// ...explain at least this share of what its kind of model could explain at all...
const MASKED_SHARE: f64 = 0.6;
/// ...and that room must be this loud relative to the mix (dB).
const MASKED_ROOM_DB: f64 = -25.0;
/// A masked compressor must still ride the stems' gain down as the song gets louder: the
/// window gains' correlation with level at most this (when there are enough windows to
/// tell). A loud effect return fills the quiet passages more than the loud ones, which a
/// moving gain also models, but its gain barely follows level (corpus, music005 reverb only:
/// -0.07; reverb plus bus compressor: -0.43 to -0.94).
const MASKED_MAX_LEVEL_CORRELATION: f64 = -0.3;

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
pub(in crate::diagnose) struct WholeMix {
    /// The time-varying or level-dependent gain deepens the null decisively.
    pub(in crate::diagnose) dyn_decisive: bool,
    /// The band filter deepens the null decisively (and more than dynamics).
    pub(in crate::diagnose) eq_decisive: bool,
    /// Added content masks dynamics, but a moving gain explains most of what any gain could.
    pub(in crate::diagnose) dyn_masked: bool,
    /// Added content masks an EQ, but the filter explains most of what any EQ could.
    pub(in crate::diagnose) eq_masked: bool,
    /// A part no stem carries hides a bus compressor that still rides the stems' gain.
    pub(in crate::diagnose) dyn_rides: bool,
    pub(in crate::diagnose) ride: LevelRide,
}

impl WholeMix {
    pub(in crate::diagnose) fn judge(frames: &[FrameStat], s: &ModelScores) -> Self {
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
        let ride = level_ride(frames);
        let rides_down = ride.windows < MIN_RIDE_WINDOWS
            || ride.level_correlation <= MASKED_MAX_LEVEL_CORRELATION;
        let dyn_masked = !dyn_decisive
            && !eq_decisive
            && masked(s.dynamics_gain_db, s.dynamics_share, s.dynamics_room_db)
            && s.dynamics_gain_db >= s.filter_gain_db
            && rides_down;
        let eq_masked = !dyn_decisive
            && !eq_decisive
            && masked(s.filter_gain_db, s.filter_share, s.filter_room_db)
            && s.filter_gain_db > dyn_score;
        // Masked harder still: a part no stem carries dominates the residual, so no gain model
        // deepens the null, but the gain the stems enter with falls reproducibly as the mix
        // gets louder (see `level_ride`).
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

    pub(in crate::diagnose) fn dynamics_win(&self) -> bool {
        self.dyn_decisive || self.dyn_masked || self.dyn_rides
    }

    pub(in crate::diagnose) fn eq_wins(&self) -> bool {
        self.eq_decisive || self.eq_masked
    }
}
