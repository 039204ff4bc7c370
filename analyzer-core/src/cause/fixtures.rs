//! Causes with plausible numbers, for the tests of the modules that judge causes (one set of
//! fixtures, so that a field added to a cause is filled in one place).

use super::{
    AddedContent, AddedKind, BusProcessing, Cause, DynamicsKind, Evidence, StemGain, SumImpact,
};
use crate::report::FindingCode;

/// Bus compression the diagnosis named: the residual it explains at -20 dB re the mix, gain
/// reduction up to `gain_reduction_max_db`.
pub fn bus_compression(gain_reduction_max_db: f64) -> Cause {
    Cause::MissingBusProcessing(BusProcessing {
        kind: DynamicsKind::Compression,
        null_gain_with_waveshaper_db: None,
        evidence: Evidence::Strong,
        explained_db: -20.0,
        gain_reduction_typical_db: 1.0,
        gain_reduction_max_db,
        quiet_passage_gain_db: -0.5,
        gain_slope_db_per_db: -0.1,
        crest_factor_drop_db: 0.5,
        peak_pinned_share: 0.0,
        mix_ceiling_dbfs: -1.0,
        clipped_frames: 0,
        residual_db: -18.0,
        residual_with_dynamics_db: -30.0,
        null_gain_db: 12.0,
        null_gain_with_eq_db: 1.0,
        null_gain_with_level_gain_db: 10.0,
        explained_share: 0.9,
        level_ride_correlation: -0.8,
        level_ride_reproducibility: 0.9,
        level_ride_slope_db_per_db: -0.1,
        width: None,
        sum: SumImpact::default(),
    })
}

/// A stem `gain_db` off, a side effect of `by` (or a cause of its own).
pub fn stem_gain(file: &str, gain_db: f64, by: Option<FindingCode>) -> Cause {
    Cause::StemGain(StemGain {
        file: file.into(),
        gain_db,
        tolerance_db: 0.5,
        correlation: 0.99,
        window_gain_spread_db: None,
        follows_added_content: false,
        pan_law_db: None,
        side_effect_of: by,
        sum: SumImpact::default(),
    })
}

/// A part no stem carries, at -27 dB re the mix, with `strong` evidence or not.
pub fn added_part(strong: bool) -> Cause {
    Cause::AddedContent(AddedContent {
        kind: AddedKind::Element,
        strong,
        secondary: false,
        residual_db: -27.0,
        interchannel_correlation: None,
        sum_interchannel_correlation: None,
        tau_s: 0.1,
        trail_correlation: 0.0,
        instant_correlation: 0.0,
        onsets_per_s: 2.0,
        own_onset_share: 0.5,
        backwards_correlation: 0.0,
        spectral_follow: 0.0,
        may_be_excluded: Vec::new(),
        spectrum_low_hz: 3000.0,
        spectrum_high_hz: 12000.0,
        spectrum_centroid_hz: 6000.0,
        octave_bands: Vec::new(),
        signature: None,
        sum: SumImpact::default(),
    })
}
