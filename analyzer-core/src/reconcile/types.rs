//! The reconciliation's public types: its options, and what it found per stem and overall.

use super::stream::BlockStats;
use crate::report::{Finding, Polarity, Reconciliation};

/// How one stem enters the mix.
#[derive(Debug, Clone, PartialEq)]
pub struct StemFit {
    /// The stem's source name (its path for a file), as the reconciliation's causes name it.
    pub name: String,
    /// Start offset against the mix: positive = the stem's content comes later than in the mix.
    /// 0 for stems that are not active.
    pub offset_samples: i64,
    /// Gain to apply to the stem so that it matches its part of the mix (magnitude; the sign
    /// is in `polarity`).
    pub gain_db: f64,
    /// Whether the stem enters the mix as delivered or flipped.
    pub polarity: Polarity,
    /// Normalised correlation (0..1) of the fitted stem with its leave-one-out target on the
    /// analysis windows: 1 = the stem explains its part of the mix exactly.
    pub confidence: f64,
    /// False for a silent stem or one that does not correlate with the mix; its offset, gain
    /// and polarity then mean nothing and no finding is made about them.
    pub active: bool,
    /// Signed linear gain per mix channel, full-length fit (what the diagnosis rebuilds the
    /// fitted sum with).
    pub channel_gains: Vec<f64>,
    /// GCC-PHAT peak over the correlation floor of the coarse search.
    pub peak_to_sidelobe: f64,
    /// Interquartile range (dB) of the stem's gain fitted window by window over the analysis
    /// windows where it sounds: near 0 for a stem really delivered at another level, large for
    /// a gain that content no stem carries pulls (`None` in too few windows).
    pub window_gain_spread_db: Option<f64>,
    /// Range (largest minus smallest, dB) of the same window gains: a fader ride moves the
    /// ridden stem's gain in the windows it covers, whatever their share (`None` in fewer than
    /// two windows).
    pub window_gain_range_db: Option<f64>,
    /// How much a gain of the stem's own in every analysis window lowers the windows' residual
    /// under the joint fit, dB (negative: lower; `None` without residual): near the floor for a
    /// stem whose fader rides in the mix, a few dB at most for bus dynamics or added content.
    pub window_own_gain_db: Option<f64>,
}

/// Everything the reconciliation found.
#[derive(Debug, Clone)]
pub struct ReconcileResult {
    /// The reconciliation's part of the report (`reconciliation` in the JSON).
    pub reconciliation: Reconciliation,
    /// One entry per stem given; `None` when the stem could not be compared with the mix
    /// (another sample rate, unreadable, empty).
    pub stems: Vec<Option<StemFit>>,
    /// Null depth of the plain sum with every stem at its own offset (unity gains, no
    /// polarity correction), dB re mix: the residual the diagnosis sees and explains. The
    /// report's headline is the null as delivered (`reconciliation.null_depth_db`, one common
    /// lag); the two differ when stems are shifted against each other.
    pub aligned_null_depth_db: Option<f64>,
    /// The stems as delivered sum to the mix exactly (a residual of zero).
    pub delivered_bit_exact: bool,
    /// What the reconciliation found (and, after the diagnosis, what explains the residual).
    pub causes: Vec<crate::cause::Cause>,
    /// `causes` rendered for the report (kept for tools and tests that read findings).
    pub findings: Vec<Finding>,
    /// Residual statistics per ~10 ms over the whole mix (see [`BlockStats::aggregate`]).
    pub blocks: BlockStats,
    /// Sample rate of the mix (and of every reconciled stem), Hz.
    pub sample_rate: u32,
    /// Channel count of the mix.
    pub mix_channels: usize,
    /// Mix energy over the judged span (sum of squares, all channels).
    pub mix_energy: f64,
    /// The analysis windows (start frames in the mix), for the diagnosis to reuse.
    pub windows: Vec<u64>,
    /// Length of each analysis window, frames.
    pub window_frames: u64,
    /// What the two null depths were computed with, per stem (in the order of `stems`), to
    /// render the residuals as audio ([`super::residual::render_residual`]).
    pub residual_plan: super::residual::ResidualPlan,
}

/// Tuning of the reconciliation; the defaults suit music at any common sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileOptions {
    /// Offsets are searched over +/- this many seconds.
    pub max_offset_s: f64,
    /// Length of one analysis window.
    pub window_s: f64,
    /// Windows each sounding stem should be loud in.
    pub windows_per_stem: usize,
    /// Leave-one-out refinement rounds per stem (each round corrects the one stem whose
    /// correction is most convincing; rounds stop when nothing moves).
    pub refine_rounds: usize,
    /// Threads for the streaming pass; 0 = all available.
    pub threads: usize,
    /// A coarse peak below this many times the correlation floor means "does not correlate".
    pub min_peak_to_sidelobe: f64,
    /// An aligned stem whose correlation with its leave-one-out target stays below this is
    /// not part of the mix.
    pub min_correlation: f64,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        Self {
            max_offset_s: 2.5,
            window_s: 1.5,
            windows_per_stem: 3,
            refine_rounds: 2,
            threads: 0,
            min_peak_to_sidelobe: 8.0,
            min_correlation: 0.05,
        }
    }
}
