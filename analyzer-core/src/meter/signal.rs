//! Signal-integrity meters: DC offset, clipped runs and non-finite samples.
//!
//! Clipping is detected as runs of at least [`MIN_CLIP_RUN_SAMPLES`] consecutive samples at or
//! above full scale (minus [`CLIP_EPSILON`]), per channel: one full-scale sample is a legitimate
//! peak, a flat-topped run means the waveform was cut off. Runs are tracked across `process`
//! calls, so the block size does not change the result.

use super::sanitize;

/// Consecutive full-scale samples that make a clipped run.
pub const MIN_CLIP_RUN_SAMPLES: u64 = 3;
/// Tolerance below 1.0 that still counts as full scale: one 16-bit step, so that 16-bit
/// positive full scale (32767/32768) counts, and so does any finer format.
pub const CLIP_EPSILON: f32 = 1.0 / 32768.0;

/// Independent accumulators per channel, chosen by the global frame index, so the sums run
/// in parallel yet add up in the same order whatever the block sizes are.
const DC_LANES: usize = 4;

/// Mean (DC) value per channel.
#[derive(Debug, Clone)]
pub struct DcOffset {
    channels: usize,
    /// `DC_LANES` rows of per-channel sums.
    sums: Vec<f64>,
    frames: u64,
}

impl DcOffset {
    /// A meter for `channels` interleaved channels (the rate is not needed for a mean).
    pub fn new(channels: usize, _sample_rate: u32) -> Self {
        let channels = channels.max(1);
        DcOffset {
            channels,
            sums: vec![0.0; channels * DC_LANES],
            frames: 0,
        }
    }

    /// Feeds interleaved samples; a trailing partial frame is ignored. Never allocates.
    pub fn process(&mut self, interleaved: &[f32]) {
        let ch = self.channels;
        let frames = interleaved.len() / ch;
        for (i, frame) in interleaved[..frames * ch].chunks_exact(ch).enumerate() {
            let lane = ((self.frames + i as u64) % DC_LANES as u64) as usize;
            let sums = &mut self.sums[lane * ch..(lane + 1) * ch];
            for (s, &x) in sums.iter_mut().zip(frame) {
                *s += f64::from(sanitize(x));
            }
        }
        self.frames += frames as u64;
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.sums.fill(0.0);
        self.frames = 0;
    }

    /// Mean of channel `c` (0 before any frame, or for an unknown channel).
    pub fn mean(&self, c: usize) -> f64 {
        if c >= self.channels || self.frames == 0 {
            return 0.0;
        }
        let s: f64 = (0..DC_LANES)
            .map(|l| self.sums[l * self.channels + c])
            .sum();
        s / self.frames as f64
    }

    /// Mean per channel.
    pub fn means(&self) -> Vec<f64> {
        (0..self.channels).map(|c| self.mean(c)).collect()
    }

    /// Largest |mean| over the channels, in dBFS (-inf for none).
    pub fn max_abs_dbfs(&self) -> f64 {
        let m = (0..self.channels)
            .map(|c| self.mean(c).abs())
            .fold(0.0, f64::max);
        super::amplitude_to_db(m)
    }
}

/// Counts runs of clipped (full-scale) samples per channel.
#[derive(Debug, Clone)]
pub struct ClipDetector {
    threshold: f32,
    /// Length of the run in progress, per channel.
    current: Vec<u64>,
    runs: Vec<u64>,
    longest: Vec<u64>,
}

impl ClipDetector {
    /// A detector for `channels` interleaved channels with the default threshold
    /// (`1 - CLIP_EPSILON`).
    pub fn new(channels: usize, _sample_rate: u32) -> Self {
        Self::with_threshold(channels, 1.0 - CLIP_EPSILON)
    }

    /// A detector whose full scale is `threshold` (|x| >= threshold is clipped), e.g. 127/128
    /// for 8-bit files.
    pub fn with_threshold(channels: usize, threshold: f32) -> Self {
        let channels = channels.max(1);
        ClipDetector {
            threshold,
            current: vec![0; channels],
            runs: vec![0; channels],
            longest: vec![0; channels],
        }
    }

    /// Feeds interleaved samples; a trailing partial frame is ignored. Never allocates.
    pub fn process(&mut self, interleaved: &[f32]) {
        let ch = self.current.len();
        let frames = interleaved.len() / ch;
        let th = self.threshold;
        for c in 0..ch {
            let mut cur = self.current[c];
            let mut runs = self.runs[c];
            let mut longest = self.longest[c];
            for frame in interleaved[..frames * ch].chunks_exact(ch) {
                if sanitize(frame[c]).abs() >= th {
                    cur += 1;
                } else {
                    if cur >= MIN_CLIP_RUN_SAMPLES {
                        runs += 1;
                        longest = longest.max(cur);
                    }
                    cur = 0;
                }
            }
            self.current[c] = cur;
            self.runs[c] = runs;
            self.longest[c] = longest;
        }
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.current.fill(0);
        self.runs.fill(0);
        self.longest.fill(0);
    }

    /// Clipped runs of channel `c`, counting a run still in progress.
    pub fn runs(&self, c: usize) -> u64 {
        let open = self
            .current
            .get(c)
            .is_some_and(|&r| r >= MIN_CLIP_RUN_SAMPLES);
        self.runs.get(c).copied().unwrap_or(0) + u64::from(open)
    }

    /// Clipped runs over all channels.
    pub fn total_runs(&self) -> u64 {
        (0..self.current.len()).map(|c| self.runs(c)).sum()
    }

    /// Longest clipped run (samples) over all channels, counting runs in progress.
    pub fn longest_run_samples(&self) -> u64 {
        self.longest
            .iter()
            .zip(&self.current)
            .map(|(&l, &cur)| {
                if cur >= MIN_CLIP_RUN_SAMPLES {
                    l.max(cur)
                } else {
                    l
                }
            })
            .max()
            .unwrap_or(0)
    }
}

/// Counts NaN and infinite samples (every other meter treats them as 0).
#[derive(Debug, Clone, Default)]
pub struct NonFiniteCounter {
    count: u64,
}

impl NonFiniteCounter {
    /// A counter; channels and rate do not matter but keep the common meter interface.
    pub fn new(_channels: usize, _sample_rate: u32) -> Self {
        Self::default()
    }

    /// Feeds samples. Never allocates.
    pub fn process(&mut self, interleaved: &[f32]) {
        self.count += interleaved
            .iter()
            .map(|x| u64::from(!x.is_finite()))
            .sum::<u64>();
    }

    /// Forgets the count.
    pub fn reset(&mut self) {
        self.count = 0;
    }

    /// NaN or infinite samples seen since `reset`.
    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_mean_per_channel() {
        let mut d = DcOffset::new(2, 48_000);
        d.process(&[0.5, -0.1, 0.5, 0.1, 0.5, f32::NAN]);
        assert!((d.mean(0) - 0.5).abs() < 1e-9);
        assert!(d.mean(1).abs() < 1e-9);
        assert!((d.max_abs_dbfs() - 20.0 * 0.5f64.log10()).abs() < 1e-6);
    }

    #[test]
    fn clip_runs_need_three_samples_and_span_calls() {
        let mut c = ClipDetector::new(1, 48_000);
        c.process(&[1.0, 1.0, 0.0, -1.0]);
        c.process(&[-1.0]);
        assert_eq!(c.runs(0), 0);
        c.process(&[-1.0, 0.2]);
        assert_eq!((c.runs(0), c.longest_run_samples()), (1, 3));
        c.process(&[0.99999, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!((c.runs(0), c.longest_run_samples()), (2, 5));
        let mut c = ClipDetector::new(1, 48_000);
        c.process(&[32767.0 / 32768.0; 4]);
        assert_eq!(c.total_runs(), 1);
        let mut c = ClipDetector::new(1, 48_000);
        c.process(&[0.999; 10]);
        assert_eq!(c.total_runs(), 0);
    }

    #[test]
    fn counts_non_finite() {
        let mut n = NonFiniteCounter::new(1, 48_000);
        n.process(&[0.0, f32::NAN, f32::INFINITY, 1.0, f32::NEG_INFINITY]);
        assert_eq!(n.count(), 3);
    }
}
