//! Signal-integrity meters: DC offset, clipped runs and non-finite samples.
//!
//! Two clip detectors: [`ClipDetector`] counts runs at integer full scale, and
//! [`FlatTopDetector`] runs of equal samples at a channel's own peak level, whatever that is
//! (float files, and clippers below full scale). [`FileMeter`](super::FileMeter) picks by format.
//!
//! Clipping is detected as runs of at least [`MIN_CLIP_RUN_SAMPLES`] consecutive samples at or
//! above full scale (minus [`CLIP_EPSILON`]), per channel: one full-scale sample is a legitimate
//! peak, a flat-topped run means the waveform was cut off. Runs are tracked across `process`
//! calls, so the block size does not change the result.

use super::{LANES, lane_accumulate, sanitize};

/// Consecutive full-scale samples that make a clipped run.
pub const MIN_CLIP_RUN_SAMPLES: u64 = 3;
/// Tolerance below 1.0 that still counts as full scale: one 16-bit step, so that 16-bit
/// positive full scale (32767/32768) counts, and so does any finer format.
pub const CLIP_EPSILON: f32 = 1.0 / 32768.0;

/// Mean (DC) value per channel.
#[derive(Debug, Clone)]
pub struct DcOffset {
    channels: usize,
    /// When `LANES` is a multiple of the channel count: lane `j` sums channel `j % channels`,
    /// lanes tied to global sample positions. Otherwise lane `c` sums channel `c` serially.
    lanes: [f64; LANES],
    /// Per-channel sums for channel counts that do not divide `LANES` (and > `LANES`).
    serial: Vec<f64>,
    frames: u64,
}

impl DcOffset {
    /// A meter for `channels` interleaved channels (the rate is not needed for a mean).
    pub fn new(channels: usize, _sample_rate: u32) -> Self {
        let channels = channels.max(1);
        DcOffset {
            channels,
            lanes: [0.0; LANES],
            serial: vec![0.0; channels],
            frames: 0,
        }
    }

    /// Feeds interleaved samples; a trailing partial frame is ignored. Never allocates.
    pub fn process(&mut self, interleaved: &[f32]) {
        let ch = self.channels;
        let frames = interleaved.len() / ch;
        let x = &interleaved[..frames * ch];
        if LANES.is_multiple_of(ch) {
            let start = self.frames * ch as u64;
            lane_accumulate(&mut self.lanes, start, x, |v| f64::from(sanitize(v)));
        } else {
            for frame in x.chunks_exact(ch) {
                for (s, &v) in self.serial.iter_mut().zip(frame) {
                    *s += f64::from(sanitize(v));
                }
            }
        }
        self.frames += frames as u64;
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.lanes = [0.0; LANES];
        self.serial.fill(0.0);
        self.frames = 0;
    }

    /// Mean of channel `c` (0 before any frame, or for an unknown channel).
    pub fn mean(&self, c: usize) -> f64 {
        if c >= self.channels || self.frames == 0 {
            return 0.0;
        }
        let s: f64 = if LANES.is_multiple_of(self.channels) {
            self.lanes.iter().skip(c).step_by(self.channels).sum()
        } else {
            self.serial[c]
        };
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
        crate::units::amp_to_db(m)
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
        // Blocks of whole frames; a block with no sample at full scale only ends the runs in
        // progress, which a vectorised max finds without the per-sample scan.
        let block = if LANES.is_multiple_of(ch) {
            LANES * 4
        } else {
            ch * 64
        };
        for chunk in interleaved[..frames * ch].chunks(block) {
            let mut peak = [0f32; LANES];
            for row in chunk.chunks(LANES) {
                for (m, &x) in peak.iter_mut().zip(row) {
                    let a = super::finite_abs(x);
                    *m = if a > *m { a } else { *m };
                }
            }
            if peak.iter().all(|&m| m < self.threshold) {
                for c in 0..ch {
                    self.end_run(c);
                }
                continue;
            }
            match ch {
                1 => self.process_fixed::<1>(chunk),
                2 => self.process_fixed::<2>(chunk),
                _ => {
                    for c in 0..ch {
                        let samples = chunk.iter().skip(c).step_by(ch);
                        self.scan(c, samples.copied());
                    }
                }
            }
        }
    }

    fn end_run(&mut self, c: usize) {
        let cur = std::mem::take(&mut self.current[c]);
        if cur >= MIN_CLIP_RUN_SAMPLES {
            self.runs[c] += 1;
            self.longest[c] = self.longest[c].max(cur);
        }
    }

    fn process_fixed<const C: usize>(&mut self, interleaved: &[f32]) {
        let (frames, _) = interleaved.as_chunks::<C>();
        for c in 0..C {
            self.scan(c, frames.iter().map(|f| f[c]));
        }
    }

    #[inline(always)]
    fn scan(&mut self, c: usize, samples: impl Iterator<Item = f32>) {
        let th = self.threshold;
        let mut cur = self.current[c];
        let mut runs = self.runs[c];
        let mut longest = self.longest[c];
        for x in samples {
            if sanitize(x).abs() >= th {
                cur += 1;
            } else if cur > 0 {
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

/// Below this level (linear, -20 dBFS) a flat top is not taken for clipping: a quiet,
/// low-frequency waveform can hold a few equal samples at its crest by quantisation alone.
pub const FLAT_TOP_MIN_LEVEL: f32 = 0.1;

/// Counts flat-topped runs at each channel's peak level: at least [`MIN_CLIP_RUN_SAMPLES`]
/// consecutive *equal* samples at the highest level the channel reaches, whatever that level
/// is. This is what a clipper leaves in a float file (at 0.5 or at +3 dBFS alike), where the
/// full-scale test of [`ClipDetector`] means nothing: a float sample above 1.0 is not clipped.
///
/// Only runs at the channel's final peak count, so a run at a level some later sample exceeds
/// is forgotten; runs below [`FLAT_TOP_MIN_LEVEL`] never count.
#[derive(Debug, Clone)]
pub struct FlatTopDetector {
    /// Per channel: the previous sample.
    prev: Vec<f32>,
    /// Per channel: length of the run of equal samples in progress.
    current: Vec<u64>,
    /// Per channel: highest |sample| so far.
    peak: Vec<f32>,
    /// Per channel: the level of the counted runs (the highest level a run reached).
    level: Vec<f32>,
    /// Per channel: runs at `level`.
    runs: Vec<u64>,
    /// Per channel: longest run at `level`.
    longest: Vec<u64>,
}

impl FlatTopDetector {
    /// A detector for `channels` interleaved channels.
    pub fn new(channels: usize, _sample_rate: u32) -> Self {
        let channels = channels.max(1);
        FlatTopDetector {
            prev: vec![f32::NAN; channels],
            current: vec![0; channels],
            peak: vec![0.0; channels],
            level: vec![0.0; channels],
            runs: vec![0; channels],
            longest: vec![0; channels],
        }
    }

    /// Feeds interleaved samples; a trailing partial frame is ignored. Never allocates.
    pub fn process(&mut self, interleaved: &[f32]) {
        let ch = self.prev.len();
        let frames = interleaved.len() / ch;
        let block = if LANES.is_multiple_of(ch) {
            LANES * 4
        } else {
            ch * 64
        };
        for chunk in interleaved[..frames * ch].chunks(block) {
            // A block whose samples all lie below every channel's peak (and the floor) can
            // hold no run that counts: it only ends the runs in progress.
            let floor = self
                .peak
                .iter()
                .fold(f32::INFINITY, |m, &p| m.min(p))
                .max(FLAT_TOP_MIN_LEVEL);
            let mut m = [0f32; LANES];
            for row in chunk.chunks(LANES) {
                for (m, &x) in m.iter_mut().zip(row) {
                    let a = super::finite_abs(x);
                    *m = if a > *m { a } else { *m };
                }
            }
            if m.iter().all(|&v| v < floor) {
                for c in 0..ch {
                    self.end_run(c);
                    self.prev[c] = f32::NAN;
                }
                continue;
            }
            for c in 0..ch {
                for &x in chunk.iter().skip(c).step_by(ch) {
                    self.push(c, sanitize(x));
                }
            }
        }
    }

    #[inline(always)]
    fn push(&mut self, c: usize, x: f32) {
        if x == self.prev[c] {
            self.current[c] += 1;
        } else {
            self.end_run(c);
            self.current[c] = 1;
            self.prev[c] = x;
        }
        let a = x.abs();
        if a > self.peak[c] {
            self.peak[c] = a;
        }
    }

    /// Ends channel `c`'s run in progress, counting it when it is a flat top at the peak.
    fn end_run(&mut self, c: usize) {
        let len = std::mem::take(&mut self.current[c]);
        if let Some((level, len)) = self.counted_run(c, len) {
            if level > self.level[c] {
                (self.level[c], self.runs[c], self.longest[c]) = (level, 1, len);
            } else {
                self.runs[c] += 1;
                self.longest[c] = self.longest[c].max(len);
            }
        }
    }

    /// Channel `c`'s run of `len` equal samples, when it counts: (its level, `len`).
    fn counted_run(&self, c: usize, len: u64) -> Option<(f32, u64)> {
        let level = self.prev[c].abs();
        (len >= MIN_CLIP_RUN_SAMPLES
            && level >= FLAT_TOP_MIN_LEVEL
            && level >= self.peak[c]
            && level >= self.level[c])
            .then_some((level, len))
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.prev.fill(f32::NAN);
        self.current.fill(0);
        self.peak.fill(0.0);
        self.level.fill(0.0);
        self.runs.fill(0);
        self.longest.fill(0);
    }

    /// Channel `c`'s flat-topped runs at its peak, and the longest (counting a run in
    /// progress).
    fn channel(&self, c: usize) -> (u64, u64) {
        let (mut level, mut runs, mut longest) = (self.level[c], self.runs[c], self.longest[c]);
        if let Some((l, len)) = self.counted_run(c, self.current[c]) {
            if l > level {
                (level, runs, longest) = (l, 1, len);
            } else {
                runs += 1;
                longest = longest.max(len);
            }
        }
        if runs > 0 && level >= self.peak[c] {
            (runs, longest)
        } else {
            (0, 0)
        }
    }

    /// Flat-topped runs at the peak over all channels.
    pub fn total_runs(&self) -> u64 {
        (0..self.prev.len()).map(|c| self.channel(c).0).sum()
    }

    /// Longest flat-topped run at the peak (samples) over all channels.
    pub fn longest_run_samples(&self) -> u64 {
        (0..self.prev.len())
            .map(|c| self.channel(c).1)
            .max()
            .unwrap_or(0)
    }
}

/// How far apart the two channels of a stereo stream are: the energy of left minus right
/// against the channels' mean energy. Identical channels (dual mono: a mono part exported as
/// stereo) read minus infinity, or very low when only dither tells them apart.
///
/// Sums run in lanes tied to global frame positions (as every meter here), so the reading does
/// not depend on how the stream was cut into blocks.
#[derive(Debug, Clone)]
pub struct ChannelDifference {
    /// Per lane: sum of (left - right)^2.
    diff: [f64; LANES],
    /// Per lane: sum of (left^2 + right^2) / 2.
    mean: [f64; LANES],
    /// Frames seen.
    frames: u64,
}

impl Default for ChannelDifference {
    fn default() -> Self {
        Self {
            diff: [0.0; LANES],
            mean: [0.0; LANES],
            frames: 0,
        }
    }
}

impl ChannelDifference {
    /// A meter for a stereo stream (other layouts are not fed to it).
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds interleaved stereo samples; a trailing partial frame is ignored. Never allocates.
    ///
    /// Frame `n` of the stream goes to lane `n % LANES` (as in `lane_accumulate`): up to the
    /// next lane boundary one by one, then whole rounds of `LANES` frames with fixed lanes
    /// in local arrays, which vectorises. The per-frame wrapping lane index it had before kept
    /// every sum in memory and cost ~2 % of a check's CPU (issue 20); each lane still adds the
    /// same frames in the same order, so the reading is the same bit for bit.
    pub fn process(&mut self, interleaved: &[f32]) {
        #[inline(always)]
        fn add(diff: &mut f64, mean: &mut f64, [l, r]: [f32; 2]) {
            let (l, r) = (f64::from(sanitize(l)), f64::from(sanitize(r)));
            *diff += (l - r) * (l - r);
            *mean += 0.5 * (l * l + r * r);
        }
        let (frames, _) = interleaved.as_chunks::<2>();
        let first = (self.frames % LANES as u64) as usize;
        let lead = ((LANES - first) % LANES).min(frames.len());
        let (mut diff, mut mean) = (self.diff, self.mean);
        for (i, f) in frames[..lead].iter().enumerate() {
            add(&mut diff[first + i], &mut mean[first + i], *f);
        }
        let (rounds, rest) = frames[lead..].as_chunks::<LANES>();
        for round in rounds {
            for j in 0..LANES {
                add(&mut diff[j], &mut mean[j], round[j]);
            }
        }
        for (j, f) in rest.iter().enumerate() {
            add(&mut diff[j], &mut mean[j], *f);
        }
        (self.diff, self.mean) = (diff, mean);
        self.frames += frames.len() as u64;
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Left minus right against the channels' mean energy, dB (`None` for silence; minus
    /// infinity for bit-identical channels).
    pub fn difference_db(&self) -> Option<f64> {
        let mean: f64 = self.mean.iter().sum();
        let diff: f64 = self.diff.iter().sum();
        (mean > 0.0).then(|| crate::units::power_to_db(diff / mean))
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
        self.count += interleaved.iter().filter(|x| !x.is_finite()).count() as u64;
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
    fn channel_difference_lanes_match_one_frame_at_a_time_bit_for_bit() {
        // The wrapping per-frame lane index `process` had before its rounds, as the reference.
        let reference = |x: &[f32]| {
            let (mut diff, mut mean) = ([0f64; LANES], [0f64; LANES]);
            for (n, f) in x.chunks_exact(2).enumerate() {
                let (l, r) = (f64::from(sanitize(f[0])), f64::from(sanitize(f[1])));
                diff[n % LANES] += (l - r) * (l - r);
                mean[n % LANES] += 0.5 * (l * l + r * r);
            }
            (diff, mean)
        };
        let mut x: Vec<f32> = (0..2 * 5000)
            .map(|i| ((i as f32) * 0.013).sin() * if i % 2 == 0 { 0.9 } else { 0.4 })
            .collect();
        x[77] = f32::NAN;
        x[4000] = f32::NEG_INFINITY;
        let (diff, mean) = reference(&x);
        // Cuts inside a round of lanes, on its boundary, and shorter than one.
        for cut in [2 * 7, 2 * LANES, 2 * 1001, x.len()] {
            let mut m = ChannelDifference::new();
            for piece in x.chunks(cut) {
                m.process(piece);
            }
            assert_eq!(
                m.diff.map(f64::to_bits),
                diff.map(f64::to_bits),
                "cut {cut}"
            );
            assert_eq!(
                m.mean.map(f64::to_bits),
                mean.map(f64::to_bits),
                "cut {cut}"
            );
            assert_eq!(m.frames, 5000);
        }
    }

    #[test]
    fn dc_mean_per_channel() {
        let mut d = DcOffset::new(2, 48_000);
        d.process(&[0.5, -0.1, 0.5, 0.1, 0.5, f32::NAN]);
        assert!((d.mean(0) - 0.5).abs() < 1e-9);
        assert!(d.mean(1).abs() < 1e-9);
        assert!((d.max_abs_dbfs() - crate::units::amp_to_db(0.5)).abs() < 1e-6);
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
    fn flat_tops_count_at_the_peak_level_whatever_it_is() {
        // A sine hard-clipped at 0.5: flat tops at 0.5, once per half cycle.
        let sine = |amp: f32, i: usize| amp * (i as f32 * 2.0 * std::f32::consts::PI / 48.0).sin();
        let clipped: Vec<f32> = (0..4800).map(|i| sine(1.0, i).clamp(-0.5, 0.5)).collect();
        let mut f = FlatTopDetector::new(1, 48_000);
        for block in clipped.chunks(333) {
            f.process(block);
        }
        assert_eq!(f.total_runs(), 200);
        assert!(f.longest_run_samples() >= 3);
        // A sine at +6 dBFS, not flat-topped: nothing.
        let hot: Vec<f32> = (0..4800).map(|i| sine(2.0, i)).collect();
        let mut f = FlatTopDetector::new(1, 48_000);
        f.process(&hot);
        assert_eq!(f.total_runs(), 0);
        // A flat run below a later, higher peak is not at the peak.
        let mut f = FlatTopDetector::new(1, 48_000);
        f.process(&[0.5, 0.5, 0.5, 0.5, 0.1, 0.9, 0.2]);
        assert_eq!(f.total_runs(), 0);
        // Silence and quiet flats are not clipping.
        let mut f = FlatTopDetector::new(2, 48_000);
        f.process(&[0.05; 20]);
        f.process(&[0.0; 20]);
        assert_eq!(f.total_runs(), 0);
        // A run still in progress at the end counts.
        let mut f = FlatTopDetector::new(1, 48_000);
        f.process(&[0.2, -0.7, -0.7]);
        f.process(&[-0.7]);
        assert_eq!((f.total_runs(), f.longest_run_samples()), (1, 3));
    }

    #[test]
    fn counts_non_finite() {
        let mut n = NonFiniteCounter::new(1, 48_000);
        n.process(&[0.0, f32::NAN, f32::INFINITY, 1.0, f32::NEG_INFINITY]);
        assert_eq!(n.count(), 3);
    }
}
