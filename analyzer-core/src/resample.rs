//! A stem at another sample rate than the mix, read at the mix's rate: [`ResampledSource`], a
//! [`FrameSource`] adapter that resamples on the fly with `rubato`'s synchronous FFT resampler
//! (band-limited, a BlackmanHarris2-windowed filter; the quality of a good offline sample-rate
//! converter). The reconciliation reads it like any stem, so a 44.1 kHz stem of a 48 kHz mix
//! enters the sum instead of being left out of it (and the diagnosis inventing a missing part
//! for its content). The delivery checks still report the other rate as `sample_rate_mismatch`:
//! the resampling is for the reconciliation only.
//!
//! **Bounded memory.** Every [`FrameSource::read_window`] call reads the inner source over the
//! window asked for plus a margin on each side, resamples that stretch and keeps the frames
//! asked for; nothing is held between calls but the resampler. Memory is bounded by the window,
//! never the file's length, like the other sources.
//!
//! **Consistent windows.** For input rate `r_in` and output rate `r_out` with greatest common
//! divisor `g`, output frame `k * r_out / g` lies exactly on input frame `k * r_in / g`. Each
//! read starts the resampler on such a pair (rounded down from the window asked for, minus the
//! margin), so the output frames line up with the mix's frames exactly, and the same output
//! frame comes out the same whichever window it was read in: the FFT resampler is a polyphase
//! FIR filter in disguise, shift-invariant by `r_in / g` input frames. Its FFT blocks hold an
//! even number of those periods: with an odd block the resampler's delay is a half-integer
//! that its start-up trimming rounds, and every frame would come out half a sample of the
//! lower rate early or late (enough to stop a stem nulling below about -25 dB). The margin
//! (four FFT blocks, at least 2048 input frames) lets the filter settle before the frames that
//! are kept, so a window's edges carry no start-up transient.
//!
//! **Cost.** Each read resamples `2 * margin` input frames more than it returns (about 9400
//! at 44.1 kHz): little beside the 1.5 s analysis windows, a few times the streaming pass's
//! ~0.1 s blocks and the 25 ms activity probes. A 44.1 kHz stem costs the reconciliation
//! roughly three times the reading of a stem at the mix's rate; no more memory than a window.
//!
//! Resampling is not bit-exact: a correct stem resampled from 48 kHz to 44.1 kHz and back nulls
//! against its original to well below -60 dB over the audio band, but content above the lower
//! rate's Nyquist frequency is gone from it for good (program material holds little there).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

use crate::error::{Error, ResampleFailure, Result};
use crate::source::FrameSource;

/// Target chunk of the FFT resampler, in input frames (rubato splits it into ~256-frame FFT
/// sub-chunks; the filter is as long as one sub-chunk).
const CHUNK_FRAMES: usize = 1024;
/// Least margin read on each side of a window, in input frames: several filter lengths.
const MIN_MARGIN_FRAMES: usize = 2048;

/// A [`FrameSource`] at another sample rate, read at `rate` (see the module docs).
pub struct ResampledSource {
    inner: Box<dyn FrameSource>,
    rate: u32,
    /// Input and output frames per exact alignment period (`r_in / g`, `r_out / g`).
    period_in: i64,
    period_out: i64,
    /// Alignment periods read on each side of a window.
    margin_periods: i64,
    resampler: Fft<f32>,
    /// Scratch: the inner window read.
    input: Vec<f32>,
}

impl std::fmt::Debug for ResampledSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResampledSource")
            .field("name", &self.inner.name())
            .field("from_rate", &self.inner.sample_rate())
            .field("rate", &self.rate)
            .finish()
    }
}

/// Lowest and highest rate resampled or reconciled, Hz: what audio files hold (a header outside
/// is wrong, and sizing a resampler or a spectrum by it could take gigabytes).
const MIN_RATE_HZ: u32 = 1_000;
const MAX_RATE_HZ: u32 = 1_536_000;

/// Whether `rate_hz` is one the analysis sizes buffers by (1 kHz to 1.536 MHz).
pub(crate) fn supported_rate(rate_hz: u32) -> bool {
    (MIN_RATE_HZ..=MAX_RATE_HZ).contains(&rate_hz)
}
/// Longest alignment period (frames of one rate before the two rates line up again) resampled:
/// 44.1 -> 48 kHz is 147 -> 160; rates one hertz apart near 48 kHz are 48 000.
const MAX_PERIOD_FRAMES: usize = 1 << 16;

impl ResampledSource {
    /// `inner` read at `rate` frames per second.
    ///
    /// # Errors
    /// [`Error::Resample`] when the resampler cannot be built for these rates (a rate of 0, no
    /// channels).
    pub fn new(inner: Box<dyn FrameSource>, rate: u32) -> Result<Self> {
        let from = inner.sample_rate();
        let channels = inner.channels();
        let g = gcd(from as usize, rate as usize).max(1);
        let period_in = (from as usize / g).max(1);
        if !supported_rate(from)
            || !supported_rate(rate)
            || period_in > MAX_PERIOD_FRAMES
            || rate as usize / g > MAX_PERIOD_FRAMES
        {
            return Err(Error::Resample {
                name: inner.name().to_owned(),
                source: ResampleFailure::UnsupportedRates {
                    from_rate: from,
                    to_rate: rate,
                },
            });
        }
        // An even number of alignment periods per FFT block: with an odd block size the
        // resampler's delay is a half-integer that its trimming rounds, which would shift the
        // output by half a sample of the lower rate (measured with rubato 5.1).
        let chunk = CHUNK_FRAMES.div_ceil(2 * period_in) * 2 * period_in;
        let resampler = Fft::<f32>::new_custom(
            from as usize,
            rate as usize,
            chunk,
            1,
            channels,
            WindowFunction::BlackmanHarris2,
            FixedSync::Both,
        )
        .map_err(|e| Error::Resample {
            name: inner.name().to_owned(),
            source: ResampleFailure::Construction(e),
        })?;
        let margin_frames = MIN_MARGIN_FRAMES.max(4 * resampler.input_frames_max());
        Ok(Self {
            rate,
            period_in: period_in as i64,
            period_out: (rate as usize / g).max(1) as i64,
            margin_periods: margin_frames.div_ceil(period_in) as i64,
            resampler,
            input: Vec::new(),
            inner,
        })
    }

    fn error(&self, e: rubato::ResampleError) -> Error {
        Error::Resample {
            name: self.inner.name().to_owned(),
            source: ResampleFailure::Process(e),
        }
    }
}

impl FrameSource for ResampledSource {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn channels(&self) -> usize {
        self.inner.channels()
    }
    fn sample_rate(&self) -> u32 {
        self.rate
    }
    /// The inner length in time, in frames at the new rate (rounded to the nearest frame).
    fn frames(&self) -> u64 {
        let from = u128::from(self.inner.sample_rate().max(1));
        let n = u128::from(self.inner.frames()) * u128::from(self.rate);
        ((n + from / 2) / from) as u64
    }
    fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
        let ch = self.channels().max(1);
        let n_out = (out.len() / ch) as i64;
        if n_out == 0 {
            return Ok(());
        }
        // The alignment periods around the window, plus the margin on each side.
        let first = start_frame.div_euclid(self.period_out) - self.margin_periods;
        let last = (start_frame + n_out).div_euclid(self.period_out) + 1 + self.margin_periods;
        let in_start = first * self.period_in;
        let in_frames = ((last - first) * self.period_in) as usize;
        self.input.resize(in_frames * ch, 0.0);
        self.inner.read_window(in_start, &mut self.input)?;
        let adapter = InterleavedSlice::new(&self.input, ch, in_frames).map_err(|_| {
            self.error(rubato::ResampleError::InsufficientInputBufferSize {
                expected: in_frames,
                actual: self.input.len() / ch,
            })
        })?;
        let resampled = self
            .resampler
            .process_all(&adapter, in_frames, None)
            .map_err(|e| self.error(e))?
            .take_data();
        // Output frame j of this stretch is frame `first * period_out + j` at the new rate.
        let skip = (start_frame - first * self.period_out) as usize * ch;
        let available = resampled.len().saturating_sub(skip).min(out.len());
        out[..available].copy_from_slice(&resampled[skip..skip + available]);
        out[available..].fill(0.0);
        Ok(())
    }
    fn reopen(&self) -> Result<Box<dyn FrameSource>> {
        Ok(Box::new(Self::new(self.inner.reopen()?, self.rate)?))
    }
}

/// The FFT resampler [`ResampledSource`] reads with, for a whole clip from `from` to `to` Hz
/// (`stemcheck fix` resamples a stem at another rate with it): the same block rule, so the
/// output lines up with the mix's frames.
///
/// # Errors
/// [`Error::Resample`] naming `name` when the rates are outside what is resampled or the
/// resampler cannot be built.
pub(crate) fn fft_resampler(
    from: u32,
    to: u32,
    channels: usize,
    name: &str,
) -> Result<Box<Fft<f32>>> {
    let g = gcd(from as usize, to as usize).max(1);
    let period_in = (from as usize / g).max(1);
    if !supported_rate(from)
        || !supported_rate(to)
        || period_in > MAX_PERIOD_FRAMES
        || to as usize / g > MAX_PERIOD_FRAMES
    {
        return Err(Error::Resample {
            name: name.to_owned(),
            source: ResampleFailure::UnsupportedRates {
                from_rate: from,
                to_rate: to,
            },
        });
    }
    let chunk = CHUNK_FRAMES.div_ceil(2 * period_in) * 2 * period_in;
    Fft::<f32>::new_custom(
        from as usize,
        to as usize,
        chunk,
        1,
        channels,
        WindowFunction::BlackmanHarris2,
        FixedSync::Both,
    )
    .map(Box::new)
    .map_err(|e| Error::Resample {
        name: name.to_owned(),
        source: ResampleFailure::Construction(e),
    })
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
    use crate::units::power_to_db;

    /// A stereo tone mixture sampled at `rate` (the same continuous signal at any rate).
    fn tones(rate: u32, seconds: f64) -> Vec<f32> {
        let n = (seconds * f64::from(rate)) as usize;
        let mut out = Vec::with_capacity(2 * n);
        for i in 0..n {
            let t = i as f64 / f64::from(rate);
            let l = 0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + 0.2 * (2.0 * std::f64::consts::PI * 3_150.0 * t + 0.3).sin();
            let r = 0.25 * (2.0 * std::f64::consts::PI * 997.0 * t).sin()
                + 0.1 * (2.0 * std::f64::consts::PI * 9_000.0 * t).sin();
            out.push(l as f32);
            out.push(r as f32);
        }
        out
    }

    /// Residual of `got` against `want` relative to `want`, in dB.
    fn null_db(got: &[f32], want: &[f32]) -> f64 {
        let (mut e, mut w) = (0.0f64, 0.0f64);
        for (g, x) in got.iter().zip(want) {
            e += f64::from(g - x).powi(2);
            w += f64::from(*x).powi(2);
        }
        power_to_db(e / w.max(1e-30))
    }

    /// A 44.1 kHz rendering of a signal, read at 48 kHz, nulls against the 48 kHz rendering:
    /// frames line up exactly, whatever window they are read in.
    #[test]
    fn resampled_tones_null_against_the_native_rate() {
        let native = tones(48_000, 2.0);
        let other = MemorySource::new("s", 2, 44_100, tones(44_100, 2.0)).expect("source");
        let mut src = ResampledSource::new(Box::new(other), 48_000).expect("resampler");
        assert_eq!(src.sample_rate(), 48_000);
        assert_eq!(src.frames(), 96_000);
        for (start, len) in [(12_345i64, 20_000usize), (40_000, 4_800), (50_001, 777)] {
            let mut out = vec![0.0f32; 2 * len];
            src.read_window(start, &mut out).expect("read");
            let s = 2 * start as usize;
            let db = null_db(&out, &native[s..s + 2 * len]);
            assert!(db < -80.0, "window at {start}: null {db:.1} dB");
        }
        // Before the start: silence, then the signal.
        let mut out = vec![1.0f32; 2 * 10_000];
        src.read_window(-5_000, &mut out).expect("read");
        assert!(out[..2 * 4_000].iter().all(|x| x.abs() < 1e-3));
    }

    /// The same frames come out of overlapping windows (the streaming pass and the analysis
    /// windows read the same stem at different grids).
    #[test]
    fn windows_agree() {
        let other = MemorySource::new("s", 2, 44_100, tones(44_100, 1.0)).expect("source");
        let mut src = ResampledSource::new(Box::new(other), 48_000).expect("resampler");
        let mut a = vec![0.0f32; 2 * 8_000];
        let mut b = vec![0.0f32; 2 * 3_000];
        src.read_window(10_000, &mut a).expect("read");
        src.read_window(13_001, &mut b).expect("read");
        let s = 2 * 3_001;
        assert!(null_db(&b, &a[s..s + b.len()]) < -100.0);
        let mut again = src.reopen().expect("reopen");
        let mut c = vec![0.0f32; 2 * 3_000];
        again.read_window(13_001, &mut c).expect("read");
        assert_eq!(b, c);
    }

    /// A band-limited pulse lands on the same instant at the new rate, to a small fraction of
    /// a sample (an odd FFT block would put it half a sample of the lower rate off).
    #[test]
    fn pulses_keep_their_time() {
        for (from, to) in [
            (44_100u32, 48_000u32),
            (48_000, 44_100),
            (88_200, 48_000),
            (48_000, 96_000),
        ] {
            let n = from as usize / 10;
            let centre = f64::from(from) / 20.0;
            let pulse: Vec<f32> = (0..n)
                .map(|i| {
                    let t = (i as f64 - centre) / f64::from(from);
                    (-(t / 0.0002).powi(2)).exp() as f32
                })
                .collect();
            let src = MemorySource::new("p", 1, from, pulse).expect("source");
            let mut src = ResampledSource::new(Box::new(src), to).expect("resampler");
            let mut y = vec![0.0f32; to as usize / 10];
            src.read_window(0, &mut y).expect("read");
            let k = (0..y.len())
                .max_by(|&a, &b| y[a].total_cmp(&y[b]))
                .expect("samples");
            let (p, q, r) = (f64::from(y[k - 1]), f64::from(y[k]), f64::from(y[k + 1]));
            let peak = k as f64 + 0.5 * (p - r) / (p - 2.0 * q + r);
            let want = f64::from(to) / 20.0;
            assert!(
                (peak - want).abs() < 0.02,
                "{from}->{to}: pulse at {peak}, not {want}"
            );
        }
    }
}
