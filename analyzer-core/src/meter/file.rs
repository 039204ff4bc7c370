//! All meters over one file: [`FileMeter`] and the [`Metrics`] it yields, plus [`meter_file`]
//! for a WAV file on disk (streamed in blocks, memory independent of file length apart from the
//! 10-per-second activity envelope).
//!
//! [`meter_reader`] is the one way a file on disk is metered: the CLI's check (`analyze`) calls
//! it on a reader of the file it opened once, and [`meter_file`] (the tests, the benchmarks and
//! `xtask`) opens the file and calls it, so what they measure is what the report says. The
//! format decides the clip detector's full scale ([`FileMeter::for_wav`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::loudness::Loudness;
use super::peak::{SamplePeak, TruePeak};
use super::signal::{ChannelDifference, ClipDetector, DcOffset, FlatTopDetector, NonFiniteCounter};
use super::spectrum::SpectrumMeter;
use super::{LANES, lane_accumulate, sanitize};
use crate::error::{Error, Result};
use crate::report::SampleFormat;
use crate::units::{amp_to_db, finite, power_to_db};
use crate::wav::{WavInfo, WavReader};

/// Envelope value for a silent 100 ms block (the envelope holds no -inf so it serialises).
pub const ENVELOPE_FLOOR_DB: f32 = -200.0;
/// Frames per read in [`meter_file`]: large enough to amortise I/O, small enough that memory
/// stays bounded by the number of files rather than their length. The readings do not depend
/// on it (every meter keeps its summation order across blocks).
pub const METER_BLOCK_FRAMES: usize = 16_384;
/// Frames per call of [`FileMeter::process`] within a block read: each meter takes its own
/// pass over the samples, and a piece this small (32 KB of stereo `f32`) stays in the L1/L2
/// cache across the passes where a whole block (128 KB) was fetched again for each: the 12
/// stems of the 3-minute bench set meter in 4 % less CPU (issue 20). The readings do not
/// depend on the cuts.
const PIECE_FRAMES: usize = 4096;
/// Full scale of an 8-bit file: its largest positive sample, 127/128, is as far as it goes.
pub const INT8_FULL_SCALE: f32 = 127.0 / 128.0;
/// Level (sample peak, dBFS) from which a sample counts as audio for
/// [`Metrics::last_audible_frame`]: 16-bit dither peaks near -84 dBFS, a reverb tail this far
/// down is gone.
pub const AUDIBLE_TAIL_DBFS: f64 = -70.0;
/// Independent hash lanes, chosen by global sample index, so the multiplications run in
/// parallel and the result does not depend on block sizes.
const HASH_LANES: usize = 4;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Everything measured over one file. `None` stands for -inf (silence) or "not measurable".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Highest |sample| over all channels.
    pub sample_peak_dbfs: Option<f64>,
    /// BS.1770-4 true peak over all channels (never below the sample peak).
    pub true_peak_dbtp: Option<f64>,
    /// BS.1770-4 gated integrated loudness.
    pub integrated_lufs: Option<f64>,
    /// EBU Tech 3342 loudness range; `None` for programmes under 3 s or silent ones.
    pub loudness_range_lu: Option<f64>,
    /// Highest momentary loudness (400 ms window).
    pub max_momentary_lufs: Option<f64>,
    /// Highest short-term loudness (3 s window).
    pub max_short_term_lufs: Option<f64>,
    /// Largest |mean| over the channels.
    pub dc_offset_dbfs: Option<f64>,
    /// Mean per channel (linear).
    pub dc_offset: Vec<f64>,
    /// Clipped runs over all channels: >= 3 consecutive samples at integer full scale, or
    /// (float files, and 24-bit files below full scale) >= 3 consecutive equal samples at the
    /// channel's peak level (see [`ClipMode`]).
    pub clipped_runs: u64,
    /// Longest such run, in samples of one channel.
    pub longest_clip_run_samples: u64,
    /// NaN or infinite samples (treated as 0 by every other measurement).
    pub non_finite_samples: u64,
    /// Frame of the first NaN or infinite sample (`None` without any).
    pub first_non_finite_frame: Option<u64>,
    /// Last frame holding a sample at or above [`AUDIBLE_TAIL_DBFS`] (`None`: no such sample):
    /// how far before its end the file falls silent.
    pub last_audible_frame: Option<u64>,
    /// First frame holding a sample at or above [`AUDIBLE_TAIL_DBFS`] (`None`: no such
    /// sample): how long the file is silent before it sounds (a profile's head silence).
    pub first_audible_frame: Option<u64>,
    /// Stereo files: energy of left minus right against the channels' mean energy, dB
    /// (`None` for other layouts and silence; very low or -inf for dual mono).
    pub channel_difference_db: Option<f64>,
    /// RMS over all samples of all channels, dBFS (a full-scale sine reads -3.01).
    pub rms_dbfs: Option<f64>,
    /// RMS in dB (same scale as `rms_dbfs`) per 100 ms block, the last block possibly partial;
    /// silent blocks read [`ENVELOPE_FLOOR_DB`].
    pub envelope_db: Vec<f32>,
    /// FNV-1a-style hash of the f32 bit patterns of the samples (plus channel and frame
    /// counts): equal for identical audio, so duplicate stems are found without comparing files.
    pub content_hash: u64,
    /// Frames metered.
    pub frames: u64,
    /// Centre frequencies (Hz) of [`band_levels_db`](Self::band_levels_db)'s third-octave
    /// bands (the reconciliation's residual spectrum uses the same at the same rate).
    #[serde(default)]
    pub band_hz: Vec<f64>,
    /// Long-term mean-square level per band over the whole file, channels averaged, dBFS on
    /// the scale of `rms_dbfs` (see [`SpectrumMeter::band_levels_db`]); `None` for a file
    /// shorter than one FFT frame (~85 ms).
    #[serde(default)]
    pub band_levels_db: Option<Vec<Option<f64>>>,
    /// EBU R128 short-term loudness (3 s window) at the end of every whole second of the file
    /// (`None` = silence). The first two read the part of the window the file has, as a meter
    /// does.
    #[serde(default)]
    pub short_term_lufs_per_s: Vec<Option<f64>>,
}

/// What counts as a clipped run in a file, by its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipMode {
    /// Runs at full scale only (integer files of 16 bits or fewer: their quantisation alone
    /// can make a quiet low-frequency crest a few equal samples long).
    FullScale,
    /// Runs at full scale; without any, flat tops at the peak level below it (24-bit and
    /// finer integer files, and streams of unknown format).
    FullScaleOrFlatTop,
    /// Flat tops at the peak level only, whatever the level (float files: a sample above 1.0
    /// is not clipped there, `float_over` says what it is).
    FlatTop,
}

/// All meters of analyzer-core over one stream, for whole-file analysis.
#[derive(Debug, Clone)]
pub struct FileMeter {
    channels: usize,
    sample_peak: SamplePeak,
    true_peak: TruePeak,
    loudness: Loudness,
    spectrum: SpectrumMeter,
    /// Frames in one short-term loudness step (one second).
    st_step_frames: usize,
    /// Frames into the current step.
    st_pos: usize,
    short_term: Vec<f64>,
    dc: DcOffset,
    clip: ClipDetector,
    flat_top: FlatTopDetector,
    clip_mode: ClipMode,
    non_finite: NonFiniteCounter,
    first_non_finite_frame: Option<u64>,
    channel_difference: ChannelDifference,
    last_audible_frame: Option<u64>,
    first_audible_frame: Option<u64>,
    env_block_frames: usize,
    env_pos: usize,
    env_lanes: [f64; LANES],
    envelope: Vec<f32>,
    /// Sum of squares of all completed envelope blocks.
    total_sq: f64,
    frames: u64,
    hash: [u64; HASH_LANES],
    samples: u64,
}

impl FileMeter {
    /// Meters for `channels` interleaved channels at `sample_rate`.
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        Self::with_expected_frames(channels, sample_rate, 0)
    }

    /// Like [`new`](Self::new), reserving the envelope for `frames` frames up front so that
    /// `process` does not allocate while metering that many.
    pub fn with_expected_frames(channels: usize, sample_rate: u32, frames: u64) -> Self {
        let channels = channels.max(1);
        let env_block_frames = (sample_rate as usize)
            .saturating_add(5)
            .div_euclid(10)
            .max(1);
        // Bounded reservation: a header can lie about its length.
        let blocks = (frames / env_block_frames as u64 + 1).min(10 * 3600 * 24) as usize;
        FileMeter {
            channels,
            sample_peak: SamplePeak::new(channels, sample_rate),
            true_peak: TruePeak::new(channels, sample_rate),
            loudness: Loudness::new(channels, sample_rate),
            spectrum: SpectrumMeter::new(channels, sample_rate),
            st_step_frames: (sample_rate as usize).max(1),
            st_pos: 0,
            // One per second, bounded as the envelope is.
            short_term: Vec::with_capacity(blocks / 10 + 1),
            dc: DcOffset::new(channels, sample_rate),
            clip: ClipDetector::new(channels, sample_rate),
            flat_top: FlatTopDetector::new(channels, sample_rate),
            clip_mode: ClipMode::FullScaleOrFlatTop,
            non_finite: NonFiniteCounter::new(channels, sample_rate),
            first_non_finite_frame: None,
            channel_difference: ChannelDifference::new(),
            last_audible_frame: None,
            first_audible_frame: None,
            env_block_frames,
            env_pos: 0,
            env_lanes: [0.0; LANES],
            envelope: Vec::with_capacity(blocks),
            total_sq: 0.0,
            frames: 0,
            hash: [FNV_OFFSET; HASH_LANES],
            samples: 0,
        }
    }

    /// Meters for a WAV file with header `info`: its channels and rate, the envelope reserved
    /// for its length, and the clip detector's full scale set for its format (8-bit integer
    /// files reach only [`INT8_FULL_SCALE`], so a run there is clipped too).
    pub fn for_wav(info: &WavInfo) -> Self {
        let mut meter =
            Self::with_expected_frames(usize::from(info.channels), info.sample_rate, info.frames);
        if info.sample_format == SampleFormat::Int && info.bits_per_sample <= 8 {
            meter.set_clip_threshold(INT8_FULL_SCALE);
        }
        meter.clip_mode = match info.sample_format {
            SampleFormat::Float => ClipMode::FlatTop,
            SampleFormat::Int if info.bits_per_sample <= 16 => ClipMode::FullScale,
            SampleFormat::Int => ClipMode::FullScaleOrFlatTop,
        };
        meter
    }

    /// Replaces the clip detector's full scale (e.g. 127/128 for 8-bit files).
    pub fn set_clip_threshold(&mut self, threshold: f32) {
        self.clip = ClipDetector::with_threshold(self.channels, threshold);
    }

    /// Sets what counts as a clipped run (see [`ClipMode`]; [`for_wav`](Self::for_wav) sets
    /// it from the format).
    pub fn set_clip_mode(&mut self, mode: ClipMode) {
        self.clip_mode = mode;
    }

    /// Number of channels the meter expects.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The loudness meter, for live readouts.
    pub fn loudness(&self) -> &Loudness {
        &self.loudness
    }

    /// Feeds interleaved samples; a trailing partial frame is ignored. Allocates only when the
    /// envelope outgrows its reservation (see [`with_expected_frames`](Self::with_expected_frames)).
    pub fn process(&mut self, interleaved: &[f32]) {
        let ch = self.channels;
        let x = &interleaved[..interleaved.len() / ch * ch];
        self.sample_peak.process(x);
        self.true_peak.process(x);
        self.loudness_per_second(x);
        self.spectrum.process(x);
        self.dc.process(x);
        if self.clip_mode != ClipMode::FlatTop {
            self.clip.process(x);
        }
        if self.clip_mode != ClipMode::FullScale {
            self.flat_top.process(x);
        }
        if ch == 2 {
            self.channel_difference.process(x);
        }
        let audible = crate::units::db_to_amp(AUDIBLE_TAIL_DBFS) as f32;
        if let Some(i) = last_at_or_above(x, audible) {
            self.last_audible_frame = Some(self.frames + (i / ch) as u64);
            if self.first_audible_frame.is_none() {
                let first = x.iter().position(|v| super::finite_abs(*v) >= audible);
                self.first_audible_frame = first.map(|i| self.frames + (i / ch) as u64);
            }
        }
        let before = self.non_finite.count();
        self.non_finite.process(x);
        if self.first_non_finite_frame.is_none() && self.non_finite.count() > before {
            let i = x.iter().position(|v| !v.is_finite()).unwrap_or(0);
            self.first_non_finite_frame = Some(self.frames + (i / ch) as u64);
        }
        self.hash_samples(x);

        let mut rest = x;
        while !rest.is_empty() {
            let n = (self.env_block_frames - self.env_pos).min(rest.len() / ch);
            let (run, tail) = rest.split_at(n * ch);
            lane_accumulate(&mut self.env_lanes, self.frames * ch as u64, run, |v| {
                let v = f64::from(sanitize(v));
                v * v
            });
            self.frames += n as u64;
            self.env_pos += n;
            if self.env_pos == self.env_block_frames {
                let sum: f64 = self.env_lanes.iter().sum();
                self.envelope
                    .push(envelope_db(sum, self.env_block_frames * ch));
                self.total_sq += sum;
                self.env_lanes = [0.0; LANES];
                self.env_pos = 0;
            }
            rest = tail;
        }
    }

    /// Feeds the loudness meter, cutting at every whole second to read the short-term
    /// loudness there (the meter's readings do not depend on how its input is cut).
    fn loudness_per_second(&mut self, x: &[f32]) {
        let ch = self.channels;
        let mut rest = x;
        while !rest.is_empty() {
            let n = (self.st_step_frames - self.st_pos).min(rest.len() / ch);
            let (run, tail) = rest.split_at(n * ch);
            self.loudness.process(run);
            self.st_pos += n;
            if self.st_pos == self.st_step_frames {
                self.short_term.push(self.loudness.short_term_lufs());
                self.st_pos = 0;
            }
            rest = tail;
        }
    }

    fn hash_samples(&mut self, x: &[f32]) {
        let mut i = 0;
        // Align to a lane boundary so the main loop can use fixed lanes.
        while i < x.len() && !(self.samples + i as u64).is_multiple_of(HASH_LANES as u64) {
            let l = (self.samples + i as u64) as usize % HASH_LANES;
            self.hash[l] = (self.hash[l] ^ u64::from(x[i].to_bits())).wrapping_mul(FNV_PRIME);
            i += 1;
        }
        let mut h = self.hash;
        let (chunks, rest) = x[i..].as_chunks::<HASH_LANES>();
        for c in chunks {
            for l in 0..HASH_LANES {
                h[l] = (h[l] ^ u64::from(c[l].to_bits())).wrapping_mul(FNV_PRIME);
            }
        }
        for (l, v) in rest.iter().enumerate() {
            h[l] = (h[l] ^ u64::from(v.to_bits())).wrapping_mul(FNV_PRIME);
        }
        self.hash = h;
        self.samples += x.len() as u64;
    }

    /// Forgets everything (keeps the envelope's reservation).
    pub fn reset(&mut self) {
        self.sample_peak.reset();
        self.true_peak.reset();
        self.loudness.reset();
        self.spectrum.reset();
        self.st_pos = 0;
        self.short_term.clear();
        self.dc.reset();
        self.clip.reset();
        self.flat_top.reset();
        self.non_finite.reset();
        self.first_non_finite_frame = None;
        self.channel_difference.reset();
        self.last_audible_frame = None;
        self.first_audible_frame = None;
        self.env_pos = 0;
        self.env_lanes = [0.0; LANES];
        self.envelope.clear();
        self.total_sq = 0.0;
        self.frames = 0;
        self.hash = [FNV_OFFSET; HASH_LANES];
        self.samples = 0;
    }

    /// The measurements so far. Does not change the meter, so it can be called mid-stream.
    pub fn finish(&self) -> Metrics {
        let ch = self.channels;
        let partial: f64 = self.env_lanes.iter().sum();
        let mut envelope_db_vec = self.envelope.clone();
        if self.env_pos > 0 {
            envelope_db_vec.push(envelope_db(partial, self.env_pos * ch));
        }
        let total = self.total_sq + partial;
        let rms = if self.frames > 0 {
            power_to_db(total / (self.frames as f64 * ch as f64))
        } else {
            f64::NEG_INFINITY
        };
        let sp = f64::from(self.sample_peak.max_peak());
        // Float files can hold absurd values whose interpolation overflows f32; report the
        // largest finite level rather than letting +inf turn into "no reading".
        let tp = f64::from(self.true_peak.max_peak())
            .max(sp)
            .min(f64::from(f32::MAX));
        let mut content = FNV_OFFSET;
        for v in self.hash.iter().chain(&[ch as u64, self.frames]) {
            content = (content ^ v).wrapping_mul(FNV_PRIME);
        }
        let full_scale = (self.clip.total_runs(), self.clip.longest_run_samples());
        let flat_top = (
            self.flat_top.total_runs(),
            self.flat_top.longest_run_samples(),
        );
        let (clipped_runs, longest_clip_run_samples) = match self.clip_mode {
            ClipMode::FullScale => full_scale,
            ClipMode::FullScaleOrFlatTop if full_scale.0 > 0 => full_scale,
            ClipMode::FullScaleOrFlatTop | ClipMode::FlatTop => flat_top,
        };
        Metrics {
            sample_peak_dbfs: finite(amp_to_db(sp)),
            true_peak_dbtp: finite(amp_to_db(tp)),
            integrated_lufs: finite(self.loudness.integrated_lufs()),
            loudness_range_lu: self.loudness.loudness_range_lu(),
            max_momentary_lufs: finite(self.loudness.max_momentary_lufs()),
            max_short_term_lufs: finite(self.loudness.max_short_term_lufs()),
            dc_offset_dbfs: finite(self.dc.max_abs_dbfs()),
            dc_offset: self.dc.means(),
            clipped_runs,
            longest_clip_run_samples,
            non_finite_samples: self.non_finite.count(),
            first_non_finite_frame: self.first_non_finite_frame,
            last_audible_frame: self.last_audible_frame,
            first_audible_frame: self.first_audible_frame,
            channel_difference_db: if ch == 2 {
                self.channel_difference.difference_db()
            } else {
                None
            },
            rms_dbfs: finite(rms),
            envelope_db: envelope_db_vec,
            content_hash: content,
            frames: self.frames,
            band_hz: self.spectrum.band_hz().to_vec(),
            band_levels_db: self.spectrum.band_levels_db(),
            short_term_lufs_per_s: self.short_term.iter().map(|&l| finite(l)).collect(),
        }
    }
}

fn envelope_db(sum_sq: f64, samples: usize) -> f32 {
    if sum_sq > 0.0 && samples > 0 {
        (power_to_db(sum_sq / samples as f64) as f32).max(ENVELOPE_FLOOR_DB)
    } else {
        ENVELOPE_FLOOR_DB
    }
}

/// Meters a whole WAV file, streamed in blocks of [`METER_BLOCK_FRAMES`], calling `progress`
/// with the frames of each block read. See [`meter_reader`].
///
/// # Errors
/// Whatever [`WavReader::open`] and [`meter_reader`] report, naming the file.
pub fn meter_file(path: &Path, progress: &dyn Fn(u64)) -> Result<(WavInfo, Metrics)> {
    meter_reader(WavReader::open(path)?, progress)
}

/// Meters the rest of an open WAV file (all of it when nothing was read yet), streamed in
/// blocks of [`METER_BLOCK_FRAMES`], calling `progress` with the frames of each block read.
///
/// # Errors
/// [`Error::Format`] for a file that holds no audio (a valid container, useless as a stem: it
/// is said so rather than metered as silence), and whatever [`WavReader::read_frames`]
/// reports, naming the file.
pub fn meter_reader(mut reader: WavReader, progress: &dyn Fn(u64)) -> Result<(WavInfo, Metrics)> {
    let info = reader.info().clone();
    if info.frames == 0 {
        return Err(Error::Format {
            path: reader.path().to_owned(),
            problem: crate::error::FormatProblem::NoAudio,
        });
    }
    let ch = usize::from(info.channels);
    let mut meter = FileMeter::for_wav(&info);
    let mut buf = vec![0f32; METER_BLOCK_FRAMES * ch];
    loop {
        let n = reader.read_frames(&mut buf)?;
        if n == 0 {
            break;
        }
        for piece in buf[..n * ch].chunks(PIECE_FRAMES * ch) {
            meter.process(piece);
        }
        progress(n as u64);
    }
    // The reader read non-finite samples as silence (so every meter saw 0.0 there); the count
    // and where the first was are the reader's.
    let mut metrics = meter.finish();
    let read = reader.non_finite();
    metrics.non_finite_samples += read.count;
    metrics.first_non_finite_frame = match (metrics.first_non_finite_frame, read.first_frame) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok((info, metrics))
}

/// Index of the last sample of `x` whose |value| (non-finite as 0) reaches `level`: what
/// `x.iter().rposition(..)` finds, in rounds of [`AUDIBLE_SCAN_SAMPLES`] whose peak is taken
/// first (a loop that vectorises). A stem that is silent for minutes is scanned back to the
/// start of every block, and the sample-by-sample scan cost ~1.5 % of a check's CPU (issue 20).
fn last_at_or_above(x: &[f32], level: f32) -> Option<usize> {
    let whole = x.len() / AUDIBLE_SCAN_SAMPLES * AUDIBLE_SCAN_SAMPLES;
    let reaches = |v: &f32| super::finite_abs(*v) >= level;
    if let Some(i) = x[whole..].iter().rposition(reaches) {
        return Some(whole + i);
    }
    let (rounds, _) = x[..whole].as_chunks::<AUDIBLE_SCAN_SAMPLES>();
    for (k, round) in rounds.iter().enumerate().rev() {
        if round_peak(round) >= level {
            return round
                .iter()
                .rposition(reaches)
                .map(|i| k * AUDIBLE_SCAN_SAMPLES + i);
        }
    }
    None
}

/// Samples per round of [`last_at_or_above`].
const AUDIBLE_SCAN_SAMPLES: usize = 32;

/// Largest |value| of a round (non-finite as 0), taken in 8 lanes: a single running maximum
/// is one `maxss` chain the compiler may not reorder (it cost 2 % of a check's CPU, issue
/// 20). The maximum of non-negative finite values does not depend on the order.
fn round_peak(round: &[f32; AUDIBLE_SCAN_SAMPLES]) -> f32 {
    let mut m = [0f32; 8];
    for chunk in round.as_chunks::<8>().0 {
        for (m, v) in m.iter_mut().zip(chunk) {
            let a = super::finite_abs(*v);
            *m = if a > *m { a } else { *m };
        }
    }
    m.iter().fold(0f32, |p, &v| if v > p { v } else { p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_audible_scan_finds_what_rposition_finds() {
        let level = 0.25f32;
        let mut x: Vec<f32> = (0..1000).map(|i| ((i as f32) * 0.37).sin() * 0.2).collect();
        let naive = |x: &[f32]| {
            x.iter()
                .rposition(|v| crate::meter::finite_abs(*v) >= level)
        };
        for len in [0, 1, 31, 32, 33, 64, 999, 1000] {
            assert_eq!(last_at_or_above(&x[..len], level), None, "silent, {len}");
        }
        x[500] = f32::NAN;
        x[501] = f32::INFINITY;
        assert_eq!(last_at_or_above(&x, level), None, "non-finite is silence");
        for at in [0, 5, 31, 32, 63, 64, 500, 960, 990, 999] {
            let mut y = x.clone();
            y[at] = -0.3;
            if at > 3 {
                y[at - 3] = 0.9;
            }
            for len in [at + 1, at + 2, at + 40, 1000].map(|l| l.min(1000)) {
                assert_eq!(
                    last_at_or_above(&y[..len], level),
                    naive(&y[..len]),
                    "at {at}, len {len}"
                );
                assert_eq!(naive(&y[..len]), Some(at));
            }
        }
    }

    #[test]
    fn full_scale_sine_rms_and_envelope() {
        let rate = 48_000;
        let x: Vec<f32> = (0..rate)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin())
            .collect();
        let mut m = FileMeter::new(1, rate as u32);
        m.process(&x);
        let r = m.finish();
        assert!((r.rms_dbfs.unwrap() + 3.0103).abs() < 0.01);
        assert_eq!(r.envelope_db.len(), 10);
        assert!(r.envelope_db.iter().all(|&e| (e + 3.0103).abs() < 0.01));
        assert_eq!(r.frames, 48_000);
    }

    #[test]
    fn short_term_loudness_once_a_second_and_spectrum_in_the_same_pass() {
        let rate = 48_000u32;
        let x: Vec<f32> = (0..rate as usize * 5 + 100)
            .flat_map(|i| {
                let v = 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin();
                [v, v]
            })
            .collect();
        let mut m = FileMeter::new(2, rate);
        for c in x.chunks(2 * 5000) {
            m.process(c);
        }
        let r = m.finish();
        // Five whole seconds; the 100 trailing frames make no value.
        assert_eq!(r.short_term_lufs_per_s.len(), 5);
        let st: Vec<f64> = r.short_term_lufs_per_s.iter().map(|v| v.unwrap()).collect();
        // A full 3 s window from the third second on reads the steady sine's loudness.
        for v in &st[2..] {
            assert!((v - r.integrated_lufs.unwrap()).abs() < 0.05, "{st:?}");
        }
        assert!(st[0] < st[2] - 4.0, "a partial window reads lower: {st:?}");
        let levels = r.band_levels_db.unwrap();
        let k = r.band_hz.iter().position(|&f| f == 1000.0).unwrap();
        assert!((levels[k].unwrap() - r.rms_dbfs.unwrap()).abs() < 0.3);
    }

    #[test]
    fn hash_tells_identical_from_different() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin()).collect();
        let mut a = FileMeter::new(2, 48_000);
        a.process(&x);
        let mut b = FileMeter::new(2, 48_000);
        b.process(&x[..334]);
        b.process(&x[334..]);
        assert_eq!(a.finish().content_hash, b.finish().content_hash);
        let mut y = x.clone();
        y[500] += 1e-6;
        let mut c = FileMeter::new(2, 48_000);
        c.process(&y);
        assert_ne!(a.finish().content_hash, c.finish().content_hash);
    }

    #[test]
    fn absurd_float_values_still_read_as_loud() {
        let mut m = FileMeter::new(1, 48_000);
        m.process(&[3e38, -3e38, 3e38, -3e38, 0.0, 0.0]);
        let r = m.finish();
        assert!(r.true_peak_dbtp.unwrap() > 700.0);
        assert!(r.sample_peak_dbfs.unwrap() > 700.0);
        assert_eq!(r.non_finite_samples, 0);
    }

    #[test]
    fn silence_is_none() {
        let mut m = FileMeter::new(2, 44_100);
        m.process(&vec![0.0; 2 * 44_100]);
        let r = m.finish();
        assert_eq!(r.sample_peak_dbfs, None);
        assert_eq!(r.true_peak_dbtp, None);
        assert_eq!(r.integrated_lufs, None);
        assert_eq!(r.rms_dbfs, None);
        assert_eq!(r.dc_offset_dbfs, None);
        assert!(r.envelope_db.iter().all(|&e| e == ENVELOPE_FLOOR_DB));
    }
}
