//! Streaming meters after ITU-R BS.1770-4, EBU R128 and EBU Tech 3341/3342, shared by the CLI
//! (whole files, offline) and the plugin (real time).
//!
//! Every meter follows one interface, after x42 meters: `new(channels, sample_rate)` computes
//! its coefficients for that rate and allocates everything it will ever need;
//! `process(&mut self, interleaved: &[f32])` never allocates, locks or fails; `reset()` forgets
//! everything. Peak-type readouts have a `take_*` variant that reads and forgets the value held
//! since the previous `take_*`, so a GUI polling at any rate misses no peak.
//!
//! NaN and infinite samples are treated as 0 by every meter (so one bad sample cannot poison a
//! filter state for the rest of the programme) and counted by [`NonFiniteCounter`].
//!
//! - [`peak`]: [`SamplePeak`], [`TruePeak`] (BS.1770-4 Annex 2).
//! - [`loudness`]: [`Loudness`] — momentary, short-term, integrated (BS.1770-4 gating) and
//!   loudness range (Tech 3342).
//! - [`signal`]: [`DcOffset`], [`ClipDetector`], [`NonFiniteCounter`].
//! - [`file`]: [`FileMeter`] runs all of them over one file and yields [`Metrics`];
//!   [`meter_file`] does so for a WAV file on disk.

pub mod file;
pub mod loudness;
pub mod peak;
pub mod signal;

pub use file::{ENVELOPE_FLOOR_DB, FileMeter, Metrics, meter_file};
pub use loudness::{Loudness, default_channel_weights, energy_to_lufs, lufs_to_energy};
pub use peak::{Oversampling, SamplePeak, TruePeak, TruePeakFilter};
pub use signal::{ClipDetector, DcOffset, NonFiniteCounter};

/// A NaN or infinite sample becomes 0 for the DSP (they are counted separately).
#[inline(always)]
pub(crate) fn sanitize(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

/// 20·log10 of a linear amplitude; -inf for 0.
pub fn amplitude_to_db(x: f64) -> f64 {
    if x > 0.0 {
        20.0 * x.log10()
    } else {
        f64::NEG_INFINITY
    }
}

/// `Some(x)` for a finite value, `None` for -inf / NaN (the report writes those as null).
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
