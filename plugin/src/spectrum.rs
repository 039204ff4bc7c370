//! Spectrum analyser: the audio thread copies a mono downmix into a ring (only while the editor
//! is open); the GUI thread runs the FFT (realfft), smoothing and peak hold, and draws.
//!
//! Follows nih-plug's diopser split: the audio side does nothing but copy fixed-size data.

use std::mem::MaybeUninit;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use rtrb::{Consumer, Producer, RingBuffer};

use crate::interleave::interleave;

/// FFT length: 4096 points give 11.7 Hz bins at 48 kHz, enough for a log axis from 20 Hz.
pub const FFT_SIZE: usize = 4096;
/// Samples the ring holds: several GUI frames' worth, at any common rate.
pub const RING_SAMPLES: usize = FFT_SIZE * 8;
/// Lowest and highest frequency shown.
pub const MIN_HZ: f32 = 20.0;
pub const MAX_HZ: f32 = 20_000.0;
/// Magnitudes below this are drawn at the floor.
pub const FLOOR_DB: f32 = -120.0;

/// Frames interleaved at a time by the feed; its scratch is this many frames (allocated once).
pub const FEED_CHUNK_FRAMES: usize = 1024;

/// Audio-thread end: copies a mono downmix. Never allocates; a full ring drops samples (the
/// display only needs the latest window).
#[derive(Debug)]
pub struct SpectrumInput {
    producer: Producer<f32>,
    channels: usize,
    /// Interleaved frames of the block being fed, [`FEED_CHUNK_FRAMES`] at a time.
    scratch: Vec<f32>,
}

impl SpectrumInput {
    /// Builds both ends for blocks of `channels` channels; call from `activate()`.
    pub fn new(channels: usize) -> (Self, Consumer<f32>) {
        let channels = channels.max(1);
        let (producer, consumer) = RingBuffer::new(RING_SAMPLES);
        let input = Self {
            producer,
            channels,
            scratch: vec![0.0; FEED_CHUNK_FRAMES * channels],
        };
        (input, consumer)
    }

    /// Copies the mean of the channels (non-finite samples counted as 0, a channel shorter
    /// than `frames` or missing as 0 past its end) of up to `frames` frames into the ring,
    /// straight into its free slices. Never allocates.
    pub fn push<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize) {
        let n = frames.min(self.producer.slots());
        if n == 0 || channels.is_empty() {
            return;
        }
        // The newest samples matter most, but dropping the head keeps the code trivial and the
        // ring is large enough that this only happens while the GUI stalls.
        if let Ok(mut chunk) = self.producer.write_chunk_uninit(n) {
            let (first, second) = chunk.as_mut_slices();
            let split = first.len();
            feed(channels, 0, self.channels, &mut self.scratch, first);
            feed(channels, split, self.channels, &mut self.scratch, second);
            // SAFETY: `feed` writes every slot of the slice it is given.
            unsafe { chunk.commit_all() };
        }
    }
}

/// The mean of frames `start..start + dst.len()` of the `ch`-channel block into `dst`, every
/// slot written: interleaved into `scratch` ([`FEED_CHUNK_FRAMES`] frames) a chunk at a time,
/// then each frame's mean.
fn feed<S: AsRef<[f32]>>(
    channels: &[S],
    start: usize,
    ch: usize,
    scratch: &mut [f32],
    dst: &mut [MaybeUninit<f32>],
) {
    let scale = 1.0 / ch as f32;
    for (i, out) in dst.chunks_mut(FEED_CHUNK_FRAMES).enumerate() {
        let frames = &mut scratch[..out.len() * ch];
        interleave(channels, start + i * FEED_CHUNK_FRAMES, ch, frames);
        downmix(frames, ch, scale, out);
    }
}

fn finite_or_zero(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

/// The mean of each interleaved frame of `frames` (`ch` samples each, non-finite ones as 0)
/// into `dst`, one slot per frame (`dst` holds as many slots as `frames` holds frames).
fn downmix(frames: &[f32], ch: usize, scale: f32, dst: &mut [MaybeUninit<f32>]) {
    if ch == 2 {
        let (pairs, _) = frames.as_chunks::<2>();
        for (d, &[a, b]) in dst.iter_mut().zip(pairs) {
            d.write((finite_or_zero(a) + finite_or_zero(b)) * scale);
        }
        return;
    }
    for (d, frame) in dst.iter_mut().zip(frames.chunks_exact(ch)) {
        let sum: f32 = frame.iter().copied().map(finite_or_zero).sum();
        d.write(sum * scale);
    }
}

/// GUI-thread end: FFT, smoothing, peak hold, log-frequency resampling for drawing.
pub struct SpectrumAnalyzer {
    consumer: Consumer<f32>,
    sample_rate: f32,
    fft: Arc<dyn RealToComplex<f32>>,
    history: Vec<f32>,
    windowed: Vec<f32>,
    window: Vec<f32>,
    bins: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Smoothed magnitude per FFT bin, dB.
    pub smoothed_db: Vec<f32>,
    /// Peak-hold magnitude per FFT bin, dB (decays slowly).
    pub peak_db: Vec<f32>,
}

impl std::fmt::Debug for SpectrumAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpectrumAnalyzer")
            .field("sample_rate", &self.sample_rate)
            .finish_non_exhaustive()
    }
}

impl SpectrumAnalyzer {
    pub fn new(consumer: Consumer<f32>, sample_rate: f32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        let bins = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        // Hann window, normalised so a full-scale sine reads about 0 dB.
        let window: Vec<f32> = (0..FFT_SIZE)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FFT_SIZE as f32).cos())
            .collect();
        let n_bins = bins.len();
        Self {
            consumer,
            sample_rate,
            fft,
            history: vec![0.0; FFT_SIZE],
            windowed: vec![0.0; FFT_SIZE],
            window,
            bins,
            scratch,
            smoothed_db: vec![FLOOR_DB; n_bins],
            peak_db: vec![FLOOR_DB; n_bins],
        }
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Pulls new samples, runs one FFT over the latest window and updates smoothing and peak
    /// hold for `dt_s` seconds of GUI time.
    pub fn update(&mut self, dt_s: f32) {
        let available = self.consumer.slots();
        if available > 0
            && let Ok(chunk) = self.consumer.read_chunk(available)
        {
            let (a, b) = chunk.as_slices();
            // Slide the window by the new samples, keeping only the latest FFT_SIZE.
            let n = (a.len() + b.len()).min(FFT_SIZE);
            self.history.copy_within(n.., 0);
            let newest = a.iter().chain(b.iter()).skip(a.len() + b.len() - n);
            for (dst, &x) in self.history[FFT_SIZE - n..].iter_mut().zip(newest) {
                *dst = x;
            }
            chunk.commit_all();
        }
        for ((w, h), win) in self
            .windowed
            .iter_mut()
            .zip(&self.history)
            .zip(&self.window)
        {
            *w = h * win;
        }
        if self
            .fft
            .process_with_scratch(&mut self.windowed, &mut self.bins, &mut self.scratch)
            .is_err()
        {
            return;
        }
        // Amplitude of a sine of peak A in a Hann-windowed FFT of N points is A*N/4.
        let norm = 4.0 / FFT_SIZE as f32;
        // Exponential smoothing (~150 ms) and peak hold decaying 12 dB/s.
        let alpha = 1.0 - (-dt_s / 0.15).exp();
        let decay = 12.0 * dt_s;
        for ((bin, s), p) in self
            .bins
            .iter()
            .zip(self.smoothed_db.iter_mut())
            .zip(self.peak_db.iter_mut())
        {
            let mag = bin.norm() * norm;
            let db = if mag > 0.0 {
                analyzer_core::units::amp_to_db_f32(mag).max(FLOOR_DB)
            } else {
                FLOOR_DB
            };
            *s += (db - *s) * alpha;
            *p = (*p - decay).max(db).max(FLOOR_DB);
        }
    }

    /// The smoothed and peak curves at `points` log-spaced frequencies from [`MIN_HZ`] to
    /// [`MAX_HZ`] (or Nyquist): `(hz, smoothed_db, peak_db)`.
    pub fn log_curve(&self, points: usize) -> Vec<(f32, f32, f32)> {
        let nyquist = self.sample_rate / 2.0;
        let max_hz = MAX_HZ.min(nyquist);
        let bin_hz = self.sample_rate / FFT_SIZE as f32;
        (0..points)
            .map(|i| {
                let t = i as f32 / (points.max(2) - 1) as f32;
                let hz = MIN_HZ * (max_hz / MIN_HZ).powf(t);
                let pos = hz / bin_hz;
                let i0 = (pos.floor() as usize).min(self.smoothed_db.len() - 1);
                let i1 = (i0 + 1).min(self.smoothed_db.len() - 1);
                let frac = pos - pos.floor();
                let lerp = |v: &[f32]| v[i0] + (v[i1] - v[i0]) * frac;
                (hz, lerp(&self.smoothed_db), lerp(&self.peak_db))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The feed is the mean of the channels with non-finite samples as 0, in order, across
    /// the ring's wrap-around, for 1, 2 and 3 channels (and a short channel).
    #[test]
    fn feed_is_the_channel_mean_across_wrap_around() {
        for ch in 1..=3usize {
            let (mut input, mut consumer) = SpectrumInput::new(ch);
            let frames = RING_SAMPLES * 2 + 123;
            let x: Vec<Vec<f32>> = (0..ch)
                .map(|c| {
                    (0..frames)
                        .map(|i| match (i + c) % 97 {
                            0 => f32::NAN,
                            1 => f32::INFINITY,
                            k => (k as f32 * 0.01 - 0.4) * (c + 1) as f32,
                        })
                        .collect()
                })
                .collect();
            let mut got = Vec::new();
            let mut offset = 0;
            for n in [1000usize, 4096, 7, 333].iter().cycle() {
                if offset >= frames {
                    break;
                }
                let n = (*n).min(frames - offset);
                let mut block: Vec<&[f32]> = x.iter().map(|c| &c[offset..offset + n]).collect();
                // The last channel is one frame short in some blocks.
                if ch > 1 && n > 1 && offset % 2 == 0 {
                    block[ch - 1] = &block[ch - 1][..n - 1];
                }
                input.push(&block, n);
                let chunk = consumer.read_chunk(consumer.slots()).unwrap();
                let (a, b) = chunk.as_slices();
                got.extend(a.iter().chain(b).copied());
                chunk.commit_all();
                let want: Vec<f32> = (0..n)
                    .map(|f| {
                        let sum: f32 = block
                            .iter()
                            .map(|c| c.get(f).copied().unwrap_or(0.0))
                            .filter(|v| v.is_finite())
                            .sum();
                        sum / ch as f32
                    })
                    .collect();
                let tail = &got[got.len() - n..];
                for (f, (g, w)) in tail.iter().zip(&want).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                        "{ch} ch frame {f}: {g} vs {w}"
                    );
                }
                offset += n;
            }
            assert_eq!(got.len(), frames);
        }
    }

    #[test]
    fn a_sine_peaks_at_its_frequency_near_its_level() {
        let (mut input, consumer) = SpectrumInput::new(2);
        let mut analyzer = SpectrumAnalyzer::new(consumer, 48_000.0);
        let hz = 1_000.0f32;
        let sine: Vec<f32> = (0..FFT_SIZE)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / 48_000.0).sin())
            .collect();
        input.push(&[&sine[..], &sine[..]], FFT_SIZE);
        analyzer.update(10.0);
        let curve = analyzer.log_curve(400);
        let (peak_hz, peak_db, _) = curve
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!((peak_hz - hz).abs() < 40.0, "{peak_hz}");
        assert!((peak_db - (-6.02)).abs() < 1.5, "{peak_db}");
        let far = curve.iter().find(|p| p.0 > 8_000.0).unwrap();
        assert!(far.1 < peak_db - 60.0, "{far:?}");
    }
}
