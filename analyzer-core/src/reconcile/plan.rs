//! The sizes every step of the reconciliation works with, derived once from the sources, the
//! profile and the options: search ranges, probe and window lengths, the silence floor and the
//! streaming pass's block grid.

/// Longest streaming block (frames) a mix's rate may ask for: common rates need under 1/100 of it.
const MAX_BLOCK_FRAMES: usize = 1 << 20;

use std::ops::Range;

use super::types::ReconcileOptions;
use crate::error::SourceProblem;
use crate::source::FrameSource;
use crate::units::db_to_power;
use crate::{Error, Profile, Result};

/// Sizes and levels of one reconciliation (all in frames or samples of the mix's rate).
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub sample_rate: u32,
    pub mix_channels: usize,
    pub mix_frames: u64,
    /// Per stem: whether it can be compared with the mix at all (same sample rate, not empty).
    pub eligible: Vec<bool>,
    /// Per stem, at least 1.
    pub stem_channels: Vec<usize>,
    pub stem_frames: Vec<u64>,
    /// Offsets are searched over `-range_samples..=range_samples`.
    pub range_samples: usize,
    /// Activity probes: one of `probe_frames` every `hop_frames`.
    pub hop_frames: u64,
    pub probe_frames: u64,
    /// Length of one analysis window (at most the mix's length, at least 1).
    pub window_frames: u64,
    /// The leave-one-out refinement searches over `-refine_range_samples..=refine_range_samples`.
    pub refine_range_samples: usize,
    /// The profile's silence level as a mean square (summed over channels, like
    /// [`crate::align::Activity`]'s probes).
    pub floor_mean_square: f64,
    /// Frames per residual statistics block of the streaming pass (10 ms).
    pub stat_frames: usize,
    /// Frames per streamed block: whole statistics blocks and whole 100 ms loudness
    /// sub-blocks, so that chunks split between threads start on both grids.
    pub block_frames: usize,
}

impl Plan {
    /// # Errors
    /// [`Error::InvalidInput`] when the mix has no channels or no sample rate.
    pub fn new(
        mix: &dyn FrameSource,
        stems: &[Box<dyn FrameSource>],
        profile: &Profile,
        options: &ReconcileOptions,
    ) -> Result<Self> {
        let sr = mix.sample_rate();
        let cm = mix.channels();
        let mix_frames = mix.frames();
        if cm == 0 || sr == 0 {
            return Err(Error::InvalidInput(format!("{}: no channels", mix.name())));
        }
        if !crate::resample::supported_rate(sr) {
            return Err(Error::InvalidSource {
                name: mix.name().to_owned(),
                problem: SourceProblem::UnsupportedRate { rate_hz: sr },
            });
        }
        let eligible = stems
            .iter()
            .map(|s| s.sample_rate() == sr && s.frames() > 0 && s.channels() > 0)
            .collect();
        let per_sec = f64::from(sr);
        let stat_frames = ((per_sec * 0.01).round() as usize).max(1);
        let sub_block = ((sr as usize + 5) / 10).max(1);
        let grid = lcm(stat_frames, sub_block);
        let block_frames = grid.max(4096).div_ceil(grid) * grid;
        // A rate whose 10 ms and 100 ms grids only meet far apart (a fuzzed or broken header,
        // e.g. a prime rate) would size every stream buffer by that: refuse it, never allocate.
        if block_frames > MAX_BLOCK_FRAMES {
            return Err(Error::InvalidInput(format!(
                "{}: cannot reconcile at {sr} Hz",
                mix.name()
            )));
        }
        Ok(Self {
            sample_rate: sr,
            mix_channels: cm,
            mix_frames,
            eligible,
            stem_channels: stems.iter().map(|s| s.channels().max(1)).collect(),
            stem_frames: stems.iter().map(|s| s.frames()).collect(),
            range_samples: (options.max_offset_s * per_sec).ceil().max(1.0) as usize,
            hop_frames: (0.25 * per_sec).round().max(1.0) as u64,
            probe_frames: (0.025 * per_sec).round().max(1.0) as u64,
            window_frames: ((options.window_s * per_sec).round() as u64)
                .min(mix_frames)
                .max(1),
            refine_range_samples: ((0.05 * per_sec).round() as usize).max(8),
            floor_mean_square: db_to_power(profile.silence_below_dbfs),
            stat_frames,
            block_frames,
        })
    }

    /// Number of stems given (eligible or not).
    pub fn stems(&self) -> usize {
        self.eligible.len()
    }
}

/// Mix frames where every shifted active stem has audio (possibly empty).
pub(super) fn judged_span(
    active: &[bool],
    offsets: &[i64],
    stem_frames: &[u64],
    mix_frames: u64,
) -> Range<u64> {
    let mut span = 0..mix_frames;
    for i in (0..active.len()).filter(|&i| active[i]) {
        let lo = (-offsets[i]).max(0) as u64;
        let hi = (stem_frames[i] as i64 - offsets[i]).max(0) as u64;
        span = span.start.max(lo)..span.end.min(hi);
    }
    if span.end < span.start {
        span.start..span.start
    } else {
        span
    }
}

/// Prints a line of the alignment's reasoning when `STEMCHECK_DEBUG_ALIGN` is set.
pub(crate) fn dbg_align(msg: impl FnOnce() -> String) {
    if std::env::var_os("STEMCHECK_DEBUG_ALIGN").is_some() {
        eprintln!("align: {}", msg());
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b).max(1) * b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block grid holds whole 10 ms and whole 100 ms blocks at the common rates.
    #[test]
    fn blocks_hold_both_grids() {
        for sr in [44_100u32, 48_000, 88_200, 96_000, 8_000] {
            let mix = crate::source::MemorySource::new("m", 2, sr, vec![0.0; 2 * sr as usize])
                .expect("source");
            let plan = Plan::new(&mix, &[], &Profile::default(), &ReconcileOptions::default())
                .expect("plan");
            assert_eq!(plan.block_frames % plan.stat_frames, 0, "{sr}");
            assert_eq!(plan.block_frames % ((sr as usize + 5) / 10), 0, "{sr}");
            assert!(plan.block_frames >= 4096, "{sr}");
        }
    }
}
