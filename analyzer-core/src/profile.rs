//! Delivery profiles: the thresholds a check is judged by.
//!
//! Each profile is a plain table of numbers, documented here and in the README, so that an
//! engineer can see exactly why a stem failed. `mastering` is the default.

use serde::Serialize;

/// Thresholds for one kind of delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// The profile's name as given on the command line (`--profile`) and written in the report.
    pub name: &'static str,
    /// What the profile is for, one line.
    pub description: &'static str,
    /// Stems should peak at or below this (sample peak); above it: `low_headroom` (warning).
    pub stem_peak_max_dbfs: f64,
    /// True peak ceiling for every file; above it: `true_peak_over` (error).
    pub true_peak_max_dbtp: f64,
    /// Integer PCM below this many bits: `low_bit_depth` (warning). Float always passes.
    pub min_int_bits: u16,
    /// When set, every file must have this sample rate (`sample_rate_profile`, error).
    pub required_sample_rate: Option<u32>,
    /// A stem whose gain into the mix differs by more than this is a `gain_mismatch`.
    pub gain_tolerance_db: f64,
    /// Aligned-and-fitted residual at or below this (relative to the mix) counts as a null.
    pub null_pass_db: f64,
    /// DC offset above this is a `dc_offset` (warning).
    pub dc_offset_max_dbfs: f64,
    /// A file whose sample peak is below this holds only silence (`silent_stem`).
    pub silence_below_dbfs: f64,
    /// Stem counts this profile expects from a submix delivery.
    pub stem_count_range: (usize, usize),
    /// The stems come without the mix-bus processing the mix has (a stem-mastering request:
    /// stems dry of the bus chain, plus a reference mix with it): `missing_bus_processing`
    /// and `bus_eq` are then expected, reported as info with what they measure.
    pub bus_processing_expected: bool,
}

/// Mastering delivery (default): stems with 6 dB of headroom, 24-bit or float, any rate.
pub const MASTERING: Profile = Profile {
    name: "mastering",
    description: "stems for mastering: peaks <= -6 dBFS, true peak <= -1 dBTP, 24-bit or float",
    stem_peak_max_dbfs: -6.0,
    true_peak_max_dbtp: -1.0,
    min_int_bits: 24,
    required_sample_rate: None,
    gain_tolerance_db: 0.5,
    null_pass_db: -50.0,
    dc_offset_max_dbfs: -50.0,
    silence_below_dbfs: -90.0,
    stem_count_range: (2, 12),
    bus_processing_expected: false,
};

/// Sync / film delivery: -1 dBTP ceiling, 24-bit (or float) at 48 kHz.
pub const SYNC: Profile = Profile {
    name: "sync",
    description: "stems for sync and film: true peak <= -1 dBTP, 24-bit or float, 48 kHz",
    stem_peak_max_dbfs: -1.0,
    true_peak_max_dbtp: -1.0,
    min_int_bits: 24,
    required_sample_rate: Some(48_000),
    gain_tolerance_db: 0.5,
    null_pass_db: -50.0,
    dc_offset_max_dbfs: -50.0,
    silence_below_dbfs: -90.0,
    stem_count_range: (2, 16),
    bus_processing_expected: false,
};

/// Collaboration between mix engineers: anything that nulls and does not clip.
pub const COLLAB: Profile = Profile {
    name: "collab",
    description: "stems between producers and mixers: true peak <= 0 dBTP, 16-bit accepted",
    stem_peak_max_dbfs: 0.0,
    true_peak_max_dbtp: 0.0,
    min_int_bits: 16,
    required_sample_rate: None,
    gain_tolerance_db: 1.0,
    null_pass_db: -40.0,
    dc_offset_max_dbfs: -40.0,
    silence_below_dbfs: -90.0,
    stem_count_range: (2, 24),
    bus_processing_expected: false,
};

/// Stem mastering: the mastering engineer asks for stems without the mix-bus processing and
/// a reference mix with it. Everything is checked as for `mastering`, except that the bus
/// processing (dynamics, EQ) the mix has over the stems is expected (info, with the gain
/// reduction measured).
pub const STEM_MASTERING: Profile = Profile {
    name: "stem-mastering",
    description: "stems for stem mastering: as mastering, but stems without the mix-bus processing the reference mix has",
    bus_processing_expected: true,
    ..MASTERING
};

/// Every profile, default first.
pub const ALL: [&Profile; 4] = [&MASTERING, &SYNC, &COLLAB, &STEM_MASTERING];

impl Profile {
    /// Looks a profile up by name (case-insensitive).
    pub fn by_name(name: &str) -> Option<&'static Profile> {
        ALL.iter()
            .copied()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

impl Default for Profile {
    fn default() -> Self {
        MASTERING
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_mastering_is_default() {
        assert_eq!(Profile::by_name("SYNC").unwrap().name, "sync");
        assert!(Profile::by_name("nope").is_none());
        assert_eq!(Profile::default().name, "mastering");
        assert_eq!(MASTERING.stem_peak_max_dbfs, -6.0);
        assert_eq!(SYNC.required_sample_rate, Some(48_000));
        let stem = Profile::by_name("stem-mastering").unwrap();
        assert!(stem.bus_processing_expected && !MASTERING.bus_processing_expected);
        assert_eq!(stem.null_pass_db, MASTERING.null_pass_db);
    }
}
