//! Spectrum analyser: the audio thread copies left and right into a ring (only while the editor
//! is open); the GUI thread runs the FFTs, the fractional-octave smoothing, peak hold and tilt
//! ([`geometry`], pure functions) and draws.
//!
//! Follows nih-plug's diopser split: the audio side does nothing but copy fixed-size data.

pub mod geometry;

use std::mem::MaybeUninit;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use rtrb::{Consumer, Producer, RingBuffer};

use crate::interleave::interleave;
use geometry::{PeakHold, band_power, bin_powers, cumulative_power, log_frequencies, power_db};

/// FFT length: 16384 points give 2.9 Hz bins at 48 kHz (a 340 ms window), so a 1/6-octave
/// band holds two bins from 50 Hz up and the low end is measured, not interpolated.
pub const FFT_SIZE: usize = 16_384;
/// Sides the ring carries per frame: left (channel 0) and right (the mean of the others; the
/// left again for mono).
pub const SIDES: usize = 2;
/// Frames the ring holds: well over an FFT window, several GUI frames' worth at any rate.
pub const RING_FRAMES: usize = FFT_SIZE * 4;
/// Samples the ring holds.
pub const RING_SAMPLES: usize = RING_FRAMES * SIDES;
/// Lowest and highest frequency shown.
pub const MIN_HZ: f32 = 20.0;
pub const MAX_HZ: f32 = 20_000.0;
/// Levels below this are drawn at the floor.
pub const FLOOR_DB: f32 = -150.0;
/// Display points of a curve, log-spaced from [`MIN_HZ`] to the top: about 1/100 octave, finer
/// than any window is wide, so the curve's shape is its bands', not the point spacing's.
pub const CURVE_POINTS: usize = 960;
/// Time constant of the curves' averaging (power domain), seconds.
pub const AVERAGE_S: f32 = 0.3;

/// Frames interleaved at a time by the feed; its scratch is this many frames (allocated once).
pub const FEED_CHUNK_FRAMES: usize = 1024;

/// Audio-thread end: copies left and right. Never allocates; a full ring drops samples (the
/// display only needs the latest window).
#[derive(Debug)]
pub struct SpectrumInput {
    producer: Producer<f32>,
    channels: usize,
    /// Interleaved frames of the block being fed, [`FEED_CHUNK_FRAMES`] at a time (used for
    /// layouts other than stereo).
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

    /// Copies up to `frames` frames into the ring as (left, right) pairs, straight into its
    /// free slices: stereo as it is, mono as (x, x), more channels as (channel 0, mean of the
    /// others). A channel shorter than `frames` or missing counts as 0 past its end. Samples
    /// are copied as they are (the GUI side zeroes non-finite ones). Never allocates.
    pub fn push<S: AsRef<[f32]>>(&mut self, channels: &[S], frames: usize) {
        let n = frames.min(self.producer.slots() / SIDES);
        if n == 0 || channels.is_empty() {
            return;
        }
        // The newest samples matter most, but dropping the head keeps the code trivial and the
        // ring is large enough that this only happens while the GUI stalls.
        if let Ok(mut chunk) = self.producer.write_chunk_uninit(n * SIDES) {
            let (first, second) = chunk.as_mut_slices();
            // Every write is whole frames into a ring of whole frames: the wrap splits between
            // frames.
            let split = first.len() / SIDES;
            feed(channels, 0, self.channels, &mut self.scratch, first);
            feed(channels, split, self.channels, &mut self.scratch, second);
            // SAFETY: `feed` writes every slot of the slice it is given.
            unsafe { chunk.commit_all() };
        }
    }
}

/// Frames `start..start + dst.len() / 2` of the `ch`-channel block into `dst` as (left, right)
/// pairs, every slot written: stereo interleaved straight in; other layouts interleaved into
/// `scratch` ([`FEED_CHUNK_FRAMES`] frames) a chunk at a time, then paired.
fn feed<S: AsRef<[f32]>>(
    channels: &[S],
    start: usize,
    ch: usize,
    scratch: &mut [f32],
    dst: &mut [MaybeUninit<f32>],
) {
    if ch == SIDES {
        interleave(channels, start, SIDES, dst);
        return;
    }
    for (i, out) in dst.chunks_mut(FEED_CHUNK_FRAMES * SIDES).enumerate() {
        let frames = &mut scratch[..out.len() / SIDES * ch];
        interleave(channels, start + i * FEED_CHUNK_FRAMES, ch, frames);
        pair(frames, ch, out);
    }
}

/// Each interleaved frame of `frames` (`ch` samples, `ch` != 2) as (channel 0, mean of the
/// others), or (x, x) for mono, into `dst` (two slots per frame).
fn pair(frames: &[f32], ch: usize, dst: &mut [MaybeUninit<f32>]) {
    let (pairs, _) = dst.as_chunks_mut::<SIDES>();
    for ([l, r], frame) in pairs.iter_mut().zip(frames.chunks_exact(ch)) {
        let left = frame[0];
        let right = if ch == 1 {
            left
        } else {
            frame[1..].iter().sum::<f32>() / (ch - 1) as f32
        };
        l.write(left);
        r.write(right);
    }
}

fn finite_or_zero(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

/// Which signal the analyser shows (persisted with the project by its snake_case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelView {
    /// (L + R) / 2: one curve.
    #[default]
    Mid,
    /// Left and right as two curves.
    LeftRight,
    /// (L - R) / 2: what differs between the sides.
    Side,
}

impl ChannelView {
    /// The curves this view draws and their names.
    pub fn curve_names(self) -> &'static [&'static str] {
        match self {
            Self::Mid => &["mid"],
            Self::LeftRight => &["L", "R"],
            Self::Side => &["side"],
        }
    }

    /// Curve `curve`'s sample of frame (left, right).
    fn sample(self, curve: usize, left: f32, right: f32) -> f32 {
        match (self, curve) {
            (Self::Mid, _) => 0.5 * (left + right),
            (Self::LeftRight, 0) => left,
            (Self::LeftRight, _) => right,
            (Self::Side, _) => 0.5 * (left - right),
        }
    }
}

/// What the analyser measures: which signal and how wide its smoothing is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalyzerSettings {
    pub view: ChannelView,
    /// Smoothing bandwidth: 1/`octave_fraction` octave (3, 6, 12, 24).
    pub octave_fraction: f32,
    /// Peak hold: seconds a maximum is held before it falls (infinite: until cleared).
    pub hold_s: f32,
}

impl Default for AnalyzerSettings {
    fn default() -> Self {
        Self {
            view: ChannelView::Mid,
            octave_fraction: 6.0,
            hold_s: 2.0,
        }
    }
}

/// Peak-hold fall once the hold time is over.
pub const HOLD_FALL_DB_PER_S: f32 = 12.0;

/// One displayed curve: averaged band powers and its peak hold at the display frequencies.
#[derive(Debug, Clone)]
pub struct Curve {
    /// Averaged band power per display point (linear mean square).
    power: Vec<f32>,
    /// The averaged level per display point, dBFS (band power; no tilt).
    pub db: Vec<f32>,
    pub peak: PeakHold,
}

/// GUI-thread end: FFTs, smoothing, peak hold, at [`CURVE_POINTS`] log-spaced frequencies.
pub struct SpectrumAnalyzer {
    consumer: Consumer<f32>,
    sample_rate: f32,
    fft: Arc<dyn RealToComplex<f32>>,
    /// The latest [`FFT_SIZE`] frames, left and right (non-finite samples zeroed).
    history: [Vec<f32>; SIDES],
    windowed: Vec<f32>,
    window: Vec<f32>,
    window_power_sum: f32,
    bins: Vec<Complex<f32>>,
    magnitudes_sq: Vec<f32>,
    power: Vec<f32>,
    cumulative: Vec<f64>,
    scratch: Vec<Complex<f32>>,
    settings: AnalyzerSettings,
    /// The display points' frequencies, Hz.
    pub hz: Vec<f32>,
    /// One per curve of the view ([`ChannelView::curve_names`]).
    pub curves: Vec<Curve>,
}

impl std::fmt::Debug for SpectrumAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpectrumAnalyzer")
            .field("sample_rate", &self.sample_rate)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SpectrumAnalyzer {
    pub fn new(consumer: Consumer<f32>, sample_rate: f32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        let bins = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        let window: Vec<f32> = (0..FFT_SIZE)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / FFT_SIZE as f32).cos())
            .collect();
        let window_power_sum = window.iter().map(|w| w * w).sum();
        let n_bins = bins.len();
        let max_hz = MAX_HZ.min(sample_rate / 2.0);
        let mut analyzer = Self {
            consumer,
            sample_rate,
            fft,
            history: [vec![0.0; FFT_SIZE], vec![0.0; FFT_SIZE]],
            windowed: vec![0.0; FFT_SIZE],
            window,
            window_power_sum,
            bins,
            magnitudes_sq: vec![0.0; n_bins],
            power: vec![0.0; n_bins],
            cumulative: Vec::with_capacity(n_bins + 1),
            scratch,
            settings: AnalyzerSettings::default(),
            hz: log_frequencies(CURVE_POINTS, MIN_HZ, max_hz),
            curves: Vec::new(),
        };
        analyzer.reset_curves();
        analyzer
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn settings(&self) -> AnalyzerSettings {
        self.settings
    }

    /// Changes what is measured; a new view or smoothing restarts the curves and holds.
    pub fn set_settings(&mut self, settings: AnalyzerSettings) {
        let restart = settings.view != self.settings.view
            || settings.octave_fraction != self.settings.octave_fraction;
        self.settings = settings;
        if restart {
            self.reset_curves();
        }
    }

    /// Clears the peak holds (a click on the plot).
    pub fn clear_peaks(&mut self) {
        for c in &mut self.curves {
            c.peak.clear(FLOOR_DB);
        }
    }

    fn reset_curves(&mut self) {
        let n = self.hz.len();
        self.curves = self
            .settings
            .view
            .curve_names()
            .iter()
            .map(|_| Curve {
                power: vec![0.0; n],
                db: vec![FLOOR_DB; n],
                peak: PeakHold::new(n, FLOOR_DB),
            })
            .collect();
    }

    /// Pulls new samples, analyses the latest window and updates averaging and peak hold for
    /// `dt_s` seconds of GUI time.
    pub fn update(&mut self, dt_s: f32) {
        self.pull();
        let view = self.settings.view;
        let alpha = 1.0 - (-dt_s / AVERAGE_S).exp();
        let bin_hz = self.sample_rate / FFT_SIZE as f32;
        for curve in 0..self.curves.len() {
            for (i, w) in self.windowed.iter_mut().enumerate() {
                let x = view.sample(curve, self.history[0][i], self.history[1][i]);
                *w = x * self.window[i];
            }
            if self
                .fft
                .process_with_scratch(&mut self.windowed, &mut self.bins, &mut self.scratch)
                .is_err()
            {
                return;
            }
            for (m, b) in self.magnitudes_sq.iter_mut().zip(&self.bins) {
                *m = b.norm_sqr();
            }
            bin_powers(
                &self.magnitudes_sq,
                FFT_SIZE,
                self.window_power_sum,
                &mut self.power,
            );
            cumulative_power(&self.power, &mut self.cumulative);
            let c = &mut self.curves[curve];
            for ((avg, db), &hz) in c.power.iter_mut().zip(c.db.iter_mut()).zip(&self.hz) {
                let now = band_power(&self.cumulative, bin_hz, hz, self.settings.octave_fraction);
                *avg += (now - *avg) * alpha;
                *db = power_db(*avg, FLOOR_DB);
            }
            c.peak
                .update(&c.db, dt_s, self.settings.hold_s, HOLD_FALL_DB_PER_S);
        }
    }

    /// Slides the history windows by whatever the ring holds (the newest [`FFT_SIZE`] frames).
    fn pull(&mut self) {
        let available = self.consumer.slots() / SIDES * SIDES;
        if available == 0 {
            return;
        }
        let Ok(chunk) = self.consumer.read_chunk(available) else {
            return;
        };
        let (a, b) = chunk.as_slices();
        let frames = available / SIDES;
        let n = frames.min(FFT_SIZE);
        let skip = (frames - n) * SIDES;
        for h in &mut self.history {
            h.copy_within(n.., 0);
        }
        let newest = a.iter().chain(b.iter()).skip(skip).copied();
        let mut it = newest;
        for i in FFT_SIZE - n..FFT_SIZE {
            let (Some(l), Some(r)) = (it.next(), it.next()) else {
                break;
            };
            self.history[0][i] = finite_or_zero(l);
            self.history[1][i] = finite_or_zero(r);
        }
        chunk.commit_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The feed is (left, right) per frame: stereo as it is, mono doubled, more channels as
    /// (channel 0, mean of the others); in order, across the ring's wrap-around, with a short
    /// channel's missing samples as 0.
    #[test]
    fn feed_pairs_left_and_right_across_wrap_around() {
        for ch in 1..=3usize {
            let (mut input, mut consumer) = SpectrumInput::new(ch);
            let frames = RING_FRAMES * 2 + 123;
            let x: Vec<Vec<f32>> = (0..ch)
                .map(|c| {
                    (0..frames)
                        .map(|i| ((i + c) % 97) as f32 * 0.01 - 0.4 * (c + 1) as f32)
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
                let at = |c: usize, f: usize| block[c].get(f).copied().unwrap_or(0.0);
                let tail = &got[got.len() - n * SIDES..];
                for f in 0..n {
                    let want_l = at(0, f);
                    let want_r = match ch {
                        1 => at(0, f),
                        2 => at(1, f),
                        _ => (1..ch).map(|c| at(c, f)).sum::<f32>() / (ch - 1) as f32,
                    };
                    let (l, r) = (tail[2 * f], tail[2 * f + 1]);
                    assert!(
                        (l - want_l).abs() <= 1e-6,
                        "{ch} ch frame {f}: L {l} vs {want_l}"
                    );
                    assert!(
                        (r - want_r).abs() <= 1e-6,
                        "{ch} ch frame {f}: R {r} vs {want_r}"
                    );
                }
                offset += n;
            }
            assert_eq!(got.len(), frames * SIDES);
        }
    }

    fn sine(hz: f32, amp: f32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| amp * (2.0 * std::f32::consts::PI * hz * i as f32 / 48_000.0).sin())
            .collect()
    }

    /// The level of the curve's highest point and the (log) centre of the points within 0.2 dB
    /// of it: a band-smoothed sine is a plateau one band wide, centred on the sine.
    fn peak_of(a: &SpectrumAnalyzer, curve: usize) -> (f32, f32) {
        let db = &a.curves[curve].db;
        let top = db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let near: Vec<f32> =
            a.hz.iter()
                .zip(db)
                .filter(|(_, d)| **d >= top - 0.2)
                .map(|(hz, _)| hz.ln())
                .collect();
        let centre = (near.iter().sum::<f32>() / near.len() as f32).exp();
        (centre, top)
    }

    /// A sine of peak 0.5 (-9 dBFS mean square) reads -9 dB at its frequency in its band (within
    /// 2.5 dB below 100 Hz, where a 1/6-octave band is narrower than the window's main lobe),
    /// low and high, and the curve is far lower an octave away.
    #[test]
    fn a_sine_peaks_at_its_frequency_at_its_band_level() {
        for hz in [40.0f32, 1_000.0, 12_000.0] {
            let (mut input, consumer) = SpectrumInput::new(2);
            let mut analyzer = SpectrumAnalyzer::new(consumer, 48_000.0);
            let s = sine(hz, 0.5, FFT_SIZE);
            input.push(&[&s[..], &s[..]], FFT_SIZE);
            analyzer.update(100.0);
            let (peak_hz, peak_db) = peak_of(&analyzer, 0);
            assert!(
                (peak_hz / hz).log2().abs() < 1.0 / 24.0,
                "{hz}: at {peak_hz}"
            );
            let tolerance_db = if hz < 100.0 { 2.5 } else { 0.5 };
            assert!((peak_db + 9.03).abs() < tolerance_db, "{hz}: {peak_db}");
            let octave_away = if hz * 2.0 < MAX_HZ {
                hz * 2.0
            } else {
                hz / 2.0
            };
            let i = analyzer.hz.iter().position(|&f| f > octave_away).unwrap();
            assert!(analyzer.curves[0].db[i] < peak_db - 40.0, "{hz}");
        }
    }

    /// Left/right shows each side on its own curve; side shows what differs; mid cancels a
    /// signal in opposite polarity.
    #[test]
    fn views_show_left_right_mid_and_side() {
        let (mut input, consumer) = SpectrumInput::new(2);
        let mut analyzer = SpectrumAnalyzer::new(consumer, 48_000.0);
        analyzer.set_settings(AnalyzerSettings {
            view: ChannelView::LeftRight,
            ..AnalyzerSettings::default()
        });
        let l = sine(500.0, 0.5, FFT_SIZE);
        let r: Vec<f32> = sine(4_000.0, 0.5, FFT_SIZE).iter().map(|x| -x).collect();
        input.push(&[&l[..], &r[..]], FFT_SIZE);
        analyzer.update(100.0);
        let (l_hz, _) = peak_of(&analyzer, 0);
        let (r_hz, _) = peak_of(&analyzer, 1);
        assert!((l_hz / 500.0).log2().abs() < 0.05, "{l_hz}");
        assert!((r_hz / 4_000.0).log2().abs() < 0.05, "{r_hz}");

        let (mut input, consumer) = SpectrumInput::new(2);
        let mut analyzer = SpectrumAnalyzer::new(consumer, 48_000.0);
        let neg: Vec<f32> = l.iter().map(|x| -x).collect();
        input.push(&[&l[..], &neg[..]], FFT_SIZE);
        analyzer.update(100.0);
        assert!(peak_of(&analyzer, 0).1 < -100.0, "mid of opposite sides");
        analyzer.set_settings(AnalyzerSettings {
            view: ChannelView::Side,
            ..AnalyzerSettings::default()
        });
        analyzer.update(100.0);
        let (hz, db) = peak_of(&analyzer, 0);
        assert!(
            (hz / 500.0).log2().abs() < 0.05 && (db + 9.03).abs() < 0.5,
            "{hz} {db}"
        );
    }

    /// White noise reads as a smooth curve at the top: 1/6-octave bands of thousands of bins,
    /// not the raw bins' +-5 dB grass.
    #[test]
    fn noise_at_the_top_is_smooth_not_grass() {
        let (mut input, consumer) = SpectrumInput::new(2);
        let mut analyzer = SpectrumAnalyzer::new(consumer, 48_000.0);
        let mut state = 0x1234_5678u32;
        let noise: Vec<f32> = (0..FFT_SIZE)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        input.push(&[&noise[..], &noise[..]], FFT_SIZE);
        analyzer.update(100.0);
        let top: Vec<f32> = analyzer
            .hz
            .iter()
            .zip(&analyzer.curves[0].db)
            .filter(|(hz, _)| (8_000.0..16_000.0).contains(*hz))
            .map(|(_, db)| *db)
            .collect();
        let jumps = top
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(
            jumps < 0.5,
            "largest step between neighbouring points {jumps} dB"
        );
        // White noise in 1/6-octave bands rises 3 dB per octave.
        let at = |f: f32| {
            let i = analyzer.hz.iter().position(|&h| h >= f).unwrap();
            analyzer.curves[0].db[i]
        };
        let rise = at(12_000.0) - at(6_000.0);
        assert!((rise - 3.0).abs() < 1.0, "{rise}");
    }
}
