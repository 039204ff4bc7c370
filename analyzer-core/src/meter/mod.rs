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
//! - [`gating`]: the BS.1770-4 gates and block loudness scale, once for [`Loudness`] and for
//!   the reconciliation's residual loudness ([`gated_loudness_lufs`]).
//! - [`signal`]: [`DcOffset`], [`ClipDetector`], [`NonFiniteCounter`].
//! - [`spectrum`]: [`SpectrumMeter`], a file's long-term third-octave spectrum.
//! - [`file`](mod@file): [`FileMeter`] runs all of them over one file and yields [`Metrics`];
//!   [`meter_file`] does so for a WAV file on disk, the one metering path of the CLI, tests,
//!   benchmarks and `xtask`.

pub mod file;
pub mod gating;
pub mod loudness;
pub mod peak;
pub mod signal;
pub mod spectrum;

pub use file::{
    AUDIBLE_TAIL_DBFS, ClipMode, ENVELOPE_FLOOR_DB, FileMeter, INT8_FULL_SCALE, METER_BLOCK_FRAMES,
    Metrics, meter_file, meter_reader,
};
pub use gating::{energy_to_lufs, gated_loudness_lufs, lufs_to_energy};
pub use loudness::{Loudness, default_channel_weights};
pub use peak::{Oversampling, SamplePeak, TruePeak, TruePeakFilter};
pub use signal::{ChannelDifference, ClipDetector, DcOffset, FlatTopDetector, NonFiniteCounter};
pub use spectrum::SpectrumMeter;

/// A NaN or infinite sample becomes 0 for the DSP (they are counted separately).
#[inline(always)]
pub(crate) fn sanitize(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

/// Width of the lane arrays of the hot loops. Every channel count that divides it (1, 2, 3, 4,
/// 6, 8, ...) maps lane `j` to channel `j % channels`, so one flat loop over interleaved samples
/// serves every layout and auto-vectorises.
pub(crate) const LANES: usize = 48;

/// |x| with NaN and infinities as 0 (one compare: NaN fails it too).
#[inline(always)]
pub(crate) fn finite_abs(x: f32) -> f32 {
    let a = x.abs();
    if a < f32::INFINITY { a } else { 0.0 }
}

/// Folds the per-channel maximum of |x| (non-finite as 0) of whole interleaved frames into `out`.
pub(crate) fn abs_max_per_channel(x: &[f32], channels: usize, out: &mut [f32]) {
    if LANES.is_multiple_of(channels) {
        let (chunks, rest) = x.as_chunks::<LANES>();
        let mut m = [0f32; LANES];
        for chunk in chunks {
            for j in 0..LANES {
                let a = finite_abs(chunk[j]);
                m[j] = if a > m[j] { a } else { m[j] };
            }
        }
        for (j, &v) in rest.iter().enumerate() {
            let a = finite_abs(v);
            m[j] = if a > m[j] { a } else { m[j] };
        }
        for (j, &v) in m.iter().enumerate() {
            let o = &mut out[j % channels];
            *o = if v > *o { v } else { *o };
        }
    } else {
        for frame in x.chunks_exact(channels) {
            for (o, &v) in out.iter_mut().zip(frame) {
                let a = finite_abs(v);
                *o = if a > *o { a } else { *o };
            }
        }
    }
}

/// Adds `f(x)` of every sample of `x` into `lanes[(start + i) % LANES]`, where `start` is the
/// global index of `x[0]`. Tying lanes to global positions keeps every lane's summation order,
/// so results do not depend on how the stream was cut into blocks.
#[inline(always)]
pub(crate) fn lane_accumulate(
    lanes: &mut [f64; LANES],
    start: u64,
    x: &[f32],
    f: impl Fn(f32) -> f64,
) {
    let lead = ((LANES as u64 - start % LANES as u64) % LANES as u64) as usize;
    let lead = lead.min(x.len());
    let first = (start % LANES as u64) as usize;
    for (i, &v) in x[..lead].iter().enumerate() {
        lanes[first + i] += f(v);
    }
    let (chunks, rest) = x[lead..].as_chunks::<LANES>();
    for chunk in chunks {
        for j in 0..LANES {
            lanes[j] += f(chunk[j]);
        }
    }
    for (j, &v) in rest.iter().enumerate() {
        lanes[j] += f(v);
    }
}
