//! The corrections on samples: pure functions on one file's interleaved audio, no I/O.
//!
//! Shifts, inversions and swaps move or negate samples and nothing else, so a stem that was
//! only shifted, inverted or swapped comes back equal to its clean original to the last bit
//! (integer samples up to 24 bits and 32-bit float are exact in `f32`). Resampling (another
//! rate, a drifting clock) uses `rubato`: band-limited and close, never bit-exact.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use super::FixError;
use super::edges::{self, FrameStore};
use crate::units::amp_to_db;

/// Samples this quiet (sample peak, dBFS) or quieter are silence that a shift or a length
/// correction may trim: below a 16-bit file's dither, far below anything audible.
pub const TRIM_SILENCE_DBFS: f64 = -80.0;

/// One file's audio: interleaved `f32` (integers scaled to +-1 as the reader has them).
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Channels per frame.
    pub channels: usize,
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved samples.
    pub samples: Vec<f32>,
}

/// What a shift or a length correction did at one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Edge {
    /// Frames of silence added.
    pub padded_frames: u64,
    /// Frames of silence removed.
    pub trimmed_frames: u64,
}

impl Audio {
    /// Frames held.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1)
    }

    /// Inverts every sample.
    pub fn invert(&mut self) {
        for s in &mut self.samples {
            *s = -*s;
        }
    }

    /// Inverts one channel.
    pub fn invert_channel(&mut self, channel: usize) {
        let ch = self.channels;
        if channel < ch {
            for s in self.samples.iter_mut().skip(channel).step_by(ch) {
                *s = -*s;
            }
        }
    }

    /// Exchanges the first two channels.
    pub fn swap_channels(&mut self) {
        if self.channels >= 2 {
            for f in self.samples.chunks_exact_mut(self.channels) {
                f.swap(0, 1);
            }
        }
    }

    /// Subtracts `offset_by_channel[c]` from every sample of channel `c` (channels past it
    /// are left as they are).
    pub fn remove_dc(&mut self, offset_by_channel: &[f64]) {
        let ch = self.channels.max(1);
        for frame in self.samples.chunks_exact_mut(ch) {
            for (s, &m) in frame.iter_mut().zip(offset_by_channel) {
                *s = (f64::from(*s) - m) as f32;
            }
        }
    }

    /// Multiplies every sample by the gain.
    pub fn gain(&mut self, gain_db: f64) {
        let g = 10f64.powf(gain_db / 20.0);
        for s in &mut self.samples {
            *s = (f64::from(*s) * g) as f32;
        }
    }

    /// Sample peak of frames `[from, to)`, dBFS (`-inf` for digital silence).
    /// Moves the content `offset_samples` earlier (positive: it came late, so that much is
    /// trimmed from the start) or later (negative: silence padded at the start).
    ///
    /// # Errors
    /// [`FixError::WouldCutAudio`] when what would be trimmed is not silence.
    pub fn shift(&mut self, offset_samples: i64, file: &str) -> Result<Edge, FixError> {
        edges::shift(self, offset_samples, file)
    }

    /// Brings the audio to `frames` at its end: silence padded, or silence trimmed.
    ///
    /// # Errors
    /// [`FixError::WouldCutAudio`] when what would be trimmed is not silence.
    pub fn fit_length(&mut self, frames: usize, file: &str) -> Result<Edge, FixError> {
        edges::fit_length(self, frames, file)
    }

    /// Resamples to `rate` with `rubato`'s synchronous FFT resampler (the reconciliation's,
    /// see [`crate::resample`]): frame `k` at the new rate is the content at time
    /// `k / rate`, with the resampler's delay removed.
    ///
    /// # Errors
    /// [`FixError::Core`] when the resampler cannot be built for these rates.
    pub fn resample(&mut self, rate: u32, file: &str) -> Result<(), FixError> {
        let mut r = crate::resample::fft_resampler(self.sample_rate, rate, self.channels, file)?;
        self.samples = run(&mut *r, &self.samples, self.channels, file)?;
        self.sample_rate = rate;
        Ok(())
    }

    /// Removes a clock error of `ppm`: output frame `k` is the input's content at
    /// `k (1 + ppm 1e-6)`, by `rubato`'s windowed-sinc asynchronous resampler (ratio
    /// `1 / (1 + ppm 1e-6)`).
    ///
    /// # Errors
    /// [`FixError::Core`] when the resampler cannot be built or fails.
    pub fn correct_drift(&mut self, ppm: f64, file: &str) -> Result<(), FixError> {
        let ratio = 1.0 / (1.0 + ppm * 1e-6);
        let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2)
            .oversampling_factor(256)
            .interpolation(SincInterpolationType::Cubic);
        let mut r = Async::<f32>::new_sinc(
            ratio,
            1.0,
            &params,
            DRIFT_CHUNK_FRAMES,
            self.channels,
            FixedAsync::Input,
        )
        .map_err(|e| resample_error(file, crate::error::ResampleFailure::Construction(e)))?;
        let mut out = run(&mut r, &self.samples, self.channels, file)?;
        // `process_all` trims the resampler's delay, but one frame too many when the ratio is
        // 1 or more (rubato 1.0: a 3 kHz tone came out one frame early at -100 and 0 ppm, on
        // time at +100 and +200). The delay is measured on an impulse through an identical
        // resampler instead of trusted, and the output moved by what is left.
        let lead = impulse_lead_frames(&params, ratio, file)?;
        let ch = self.channels.max(1);
        if lead > 0 {
            out.splice(0..0, std::iter::repeat_n(0.0, lead as usize * ch));
        } else if lead < 0 {
            out.drain(..((-lead) as usize * ch).min(out.len()));
        }
        self.samples = out;
        Ok(())
    }
}

impl FrameStore for Audio {
    fn frames(&self) -> usize {
        Audio::frames(self)
    }

    fn peak_dbfs(&self, from: usize, to: usize) -> f64 {
        let ch = self.channels;
        let peak = self.samples[from * ch..to * ch]
            .iter()
            .fold(0.0f32, |m, s| m.max(s.abs()));
        amp_to_db(f64::from(peak))
    }

    fn drain_front(&mut self, n: usize) {
        self.samples.drain(..n * self.channels);
    }

    fn pad_front(&mut self, n: usize) {
        self.samples
            .splice(0..0, std::iter::repeat_n(0.0, n * self.channels));
    }

    fn truncate(&mut self, frames: usize) {
        self.samples.truncate(frames * self.channels);
    }

    fn pad_back(&mut self, n: usize) {
        self.samples
            .resize(self.samples.len() + n * self.channels, 0.0);
    }
}

/// How many frames early (positive) or late (negative) `process_all` through an `Async`
/// sinc resampler with `params` at `ratio` puts its output: an impulse at input frame `p`
/// belongs at output frame `p ratio`.
fn impulse_lead_frames(
    params: &SincInterpolationParameters,
    ratio: f64,
    file: &str,
) -> Result<i64, FixError> {
    let frames = 4 * DRIFT_CHUNK_FRAMES;
    let p = frames / 2;
    let mut input = vec![0.0f32; frames];
    input[p] = 1.0;
    let mut r =
        Async::<f32>::new_sinc(ratio, 1.0, params, DRIFT_CHUNK_FRAMES, 1, FixedAsync::Input)
            .map_err(|e| resample_error(file, crate::error::ResampleFailure::Construction(e)))?;
    let out = run(&mut r, &input, 1, file)?;
    let peak = out
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map_or(0, |(i, _)| i);
    Ok(((p as f64 * ratio) - peak as f64).round() as i64)
}

/// Input frames per chunk of the drift resampler.
const DRIFT_CHUNK_FRAMES: usize = 4096;

fn resample_error(file: &str, source: crate::error::ResampleFailure) -> FixError {
    FixError::Core(crate::Error::Resample {
        name: file.to_owned(),
        source,
    })
}

/// The whole clip through `r`, its delay trimmed.
fn run(
    r: &mut dyn Resampler<f32>,
    samples: &[f32],
    channels: usize,
    file: &str,
) -> Result<Vec<f32>, FixError> {
    let frames = samples.len() / channels.max(1);
    if frames == 0 {
        return Ok(Vec::new());
    }
    let adapter = InterleavedSlice::new(samples, channels, frames).map_err(|_| {
        resample_error(
            file,
            crate::error::ResampleFailure::Process(
                rubato::ResampleError::InsufficientInputBufferSize {
                    expected: frames,
                    actual: samples.len() / channels,
                },
            ),
        )
    })?;
    Ok(r.process_all(&adapter, frames, None)
        .map_err(|e| resample_error(file, crate::error::ResampleFailure::Process(e)))?
        .take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(ch: usize, samples: Vec<f32>) -> Audio {
        Audio {
            channels: ch,
            sample_rate: 48_000,
            samples,
        }
    }

    #[test]
    fn a_late_stem_loses_only_its_leading_silence() {
        let mut a = audio(2, vec![0.0, 0.0, 0.0, 0.0, 0.5, -0.5, 0.25, 0.0]);
        let e = a.shift(2, "x").unwrap();
        assert_eq!(e.trimmed_frames, 2);
        assert_eq!(a.samples, [0.5, -0.5, 0.25, 0.0]);
        let mut b = audio(1, vec![0.0, 0.5, 0.0]);
        assert!(matches!(
            b.shift(2, "x"),
            Err(FixError::WouldCutAudio { at_start: true, .. })
        ));
        assert_eq!(b.samples, [0.0, 0.5, 0.0], "refused: untouched");
    }

    #[test]
    fn an_early_stem_is_padded_and_its_tail_trimmed_only_when_silent() {
        let mut a = audio(1, vec![0.5, 0.25, 0.0, 0.0]);
        a.shift(-2, "x").unwrap();
        assert_eq!(a.samples, [0.0, 0.0, 0.5, 0.25, 0.0, 0.0]);
        let e = a.fit_length(4, "x").unwrap();
        assert_eq!(e.trimmed_frames, 2);
        assert_eq!(a.samples, [0.0, 0.0, 0.5, 0.25]);
        assert!(a.fit_length(3, "x").is_err());
        let e = a.fit_length(6, "x").unwrap();
        assert_eq!(e.padded_frames, 2);
    }

    #[test]
    fn channel_corrections_are_exact() {
        let mut a = audio(2, vec![0.5, -0.25, 1.0, -1.0]);
        a.swap_channels();
        assert_eq!(a.samples, [-0.25, 0.5, -1.0, 1.0]);
        a.invert_channel(1);
        assert_eq!(a.samples, [-0.25, -0.5, -1.0, -1.0]);
        a.invert();
        assert_eq!(a.samples, [0.25, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn drift_correction_keeps_time_whichever_way_the_clock_is_off() {
        // A 3 kHz tone (a frame off reads about -8 dB): rubato's own delay trimming put it a
        // frame early for a ratio of 1 or more (-100 ppm, 0 ppm).
        let sr = 48_000.0;
        for ppm in [-100.0, 0.0, 100.0] {
            let tone = |t: f64| (2.0 * std::f64::consts::PI * 3000.0 * t).sin() as f32 * 0.5;
            let stretched: Vec<f32> = (0..48_000)
                .map(|k| tone(k as f64 / (1.0 + ppm * 1e-6) / sr))
                .collect();
            let mut a = audio(1, stretched);
            a.correct_drift(ppm, "x").unwrap();
            let (mut e, mut w) = (0.0f64, 0.0f64);
            for k in 2_000..a.frames() - 2_000 {
                let want = tone(k as f64 / sr);
                e += f64::from(a.samples[k] - want).powi(2);
                w += f64::from(want).powi(2);
            }
            let null_db = 10.0 * (e / w).log10();
            assert!(null_db < -40.0, "{ppm} ppm: null {null_db:.1} dB");
        }
    }

    #[test]
    fn drift_correction_undoes_a_stretch() {
        // A 500 Hz tone stretched by 200 ppm (19 samples late by the end), corrected back:
        // nulls against the tone (measured -54 dB with rubato 5.1's cubic sinc; uncorrected
        // the stretch does not null at all).
        let sr = 48_000.0;
        let ppm = 200.0;
        let n = 96_000;
        let tone = |t: f64| (2.0 * std::f64::consts::PI * 500.0 * t).sin() as f32 * 0.5;
        let stretched: Vec<f32> = (0..n)
            .map(|k| tone(k as f64 / (1.0 + ppm * 1e-6) / sr))
            .collect();
        let mut a = audio(1, stretched);
        a.correct_drift(ppm, "x").unwrap();
        let (mut e, mut w) = (0.0f64, 0.0f64);
        for k in 2_000..a.frames() - 2_000 {
            let want = tone(k as f64 / sr);
            e += f64::from(a.samples[k] - want).powi(2);
            w += f64::from(want).powi(2);
        }
        let null_db = 10.0 * (e / w).log10();
        assert!(null_db < -50.0, "null {null_db:.1} dB");
    }
}
