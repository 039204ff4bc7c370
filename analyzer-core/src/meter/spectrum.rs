//! Long-term spectrum of a whole file in third-octave bands (nominal IEC 61260 centres), for
//! the report's frequency analysis: which stem carries what, and whether the mix holds
//! something no stem does.
//!
//! [`SpectrumMeter`] runs inside [`FileMeter`](super::FileMeter), in the one metering pass
//! over each file. Cost: one real FFT of about 85 ms per channel per 85 ms of audio (Hann
//! window, frames back to back, no overlap: a long-term average does not need overlap to be
//! unbiased, and this halves the cost), a small share of the true-peak oversampling's.
//! The bands and the FFT length are those of the reconciliation's residual spectrum
//! ([`third_octave_bands`]), so a stem's spectrum and the mix's residual line up band for band.

use std::sync::Arc;

use crate::fft::RealForward;
use realfft::num_complex::Complex;

use super::sanitize;
use crate::units::power_to_db;

/// Third-octave band centres (Hz) the spectra are given in; bands above 0.45 × the sample
/// rate are left out, and one without an FFT bin is merged into the next.
pub const THIRD_OCTAVE_HZ: [f64; 27] = [
    40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0, 500.0, 630.0, 800.0,
    1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0, 8000.0, 10000.0,
    12500.0, 16000.0,
];

/// FFT length for spectra at `sample_rate`: about 85 ms (4096 at 48 kHz), fine enough for
/// third octaves from 40 Hz; capped at 2^17 so that a broken header cannot size it.
pub fn spectrum_fft_len(sample_rate: u32) -> usize {
    ((f64::from(sample_rate.max(1)) * 0.085) as usize)
        .next_power_of_two()
        .clamp(64, 1 << 17)
}

/// The bands of an FFT of `fft_len` at `sample_rate`: their centres (Hz) and, per bin
/// (`fft_len / 2 + 1` of them), the band it belongs to (`usize::MAX` for none). Third octaves
/// below 0.45 × the rate; a band without a bin is merged upward.
pub fn third_octave_bands(sample_rate: u32, fft_len: usize) -> (Vec<f64>, Vec<usize>) {
    let sr = f64::from(sample_rate.max(1));
    let df = sr / fft_len as f64;
    let nyquist_limit = 0.45 * sr;
    let mut band_hz = Vec::new();
    let mut bin_band = vec![usize::MAX; fft_len / 2 + 1];
    let mut pending_lo = None;
    // The bins of the band before: the nominal centres are rounded, so a band's lower edge can
    // fall below the previous band's upper edge and the bin between goes to the later band.
    // Where the bins are so wide that the later band would take every bin of the one before
    // (a header claiming MHz rates: found by the check_folder fuzzer), it starts after it.
    let mut prev_bins: Option<(usize, usize)> = None;
    for &fc in THIRD_OCTAVE_HZ.iter() {
        let hi = fc * 2f64.powf(1.0 / 6.0);
        if hi > nyquist_limit {
            break;
        }
        let lo = pending_lo.unwrap_or(fc * 2f64.powf(-1.0 / 6.0));
        let mut k0 = (lo / df).ceil() as usize;
        if let Some((p0, p1)) = prev_bins
            && k0 <= p0
        {
            k0 = p1;
        }
        let k1 = ((hi / df).ceil() as usize).min(bin_band.len());
        if k1 <= k0 {
            pending_lo = Some(lo);
            continue;
        }
        pending_lo = None;
        prev_bins = Some((k0, k1));
        let b = band_hz.len();
        band_hz.push(fc);
        for slot in &mut bin_band[k0..k1] {
            *slot = b;
        }
    }
    (band_hz, bin_band)
}

/// The bins of every band of [`third_octave_bands`]'s `bin_band`, as ranges in band order
/// (each band's bins are contiguous and the bands ascend; bins of no band are left out).
pub fn band_bin_ranges(bin_band: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for (k, &b) in bin_band.iter().enumerate() {
        if b == usize::MAX {
            continue;
        }
        if b == ranges.len() {
            ranges.push(k..k + 1);
        } else {
            debug_assert_eq!(b + 1, ranges.len(), "bands are contiguous and ascending");
            ranges[b].end = k + 1;
        }
    }
    ranges
}

/// Adds each band's bin powers (`|X|^2`, as `f32` then widened) to `band_power`, with the
/// running sums in registers: the order of the additions into each band is that of a loop
/// over the bins adding into `band_power[bin_band[k]]`, so the sums are the same bit for bit.
/// That loop kept every running sum in memory (a store and a reload on every bin's dependency
/// chain: ~80 % of the spectrum meter's own time, issue 20). Four bands go side by side from
/// the top (the widest) down, so four independent chains overlap.
pub fn add_band_power(
    band_power: &mut [f64],
    bins: &[Complex<f32>],
    ranges: &[std::ops::Range<usize>],
) {
    for (group, sums) in ranges.rchunks(4).zip(band_power.rchunks_mut(4)) {
        // The group's bands, shortest first, padded with empty ones (a last, short group).
        let mut order: [usize; 4] = [0, 1, 2, 3];
        let len = |i: usize| group.get(i).map_or(0, |r| r.len());
        order.sort_by_key(|&i| len(i));
        let x: [&[Complex<f32>]; 4] =
            order.map(|i| group.get(i).map_or(&bins[..0], |r| &bins[r.clone()]));
        let mut acc: [f64; 4] = order.map(|i| sums.get(i).copied().unwrap_or(0.0));
        lockstep_power(&mut acc, x);
        for (k, &i) in order.iter().enumerate() {
            if let Some(s) = sums.get_mut(i) {
                *s = acc[k];
            }
        }
    }
}

/// Adds the bin powers of four runs, shortest first, to `acc` (one sum per run, each in its
/// runs' order): all four side by side as far as the shortest goes, then the three longer,
/// the two longest, the longest alone.
#[inline(always)]
fn lockstep_power(acc: &mut [f64; 4], x: [&[Complex<f32>]; 4]) {
    let p = |z: &Complex<f32>| f64::from(z.norm_sqr());
    let [x0, x1, x2, x3] = x;
    let [mut a0, mut a1, mut a2, mut a3] = *acc;
    let (l0, l1, l2) = (x0.len(), x1.len(), x2.len());
    for (((z0, z1), z2), z3) in x0.iter().zip(&x1[..l0]).zip(&x2[..l0]).zip(&x3[..l0]) {
        a0 += p(z0);
        a1 += p(z1);
        a2 += p(z2);
        a3 += p(z3);
    }
    for ((z1, z2), z3) in x1[l0..].iter().zip(&x2[l0..l1]).zip(&x3[l0..l1]) {
        a1 += p(z1);
        a2 += p(z2);
        a3 += p(z3);
    }
    for (z2, z3) in x2[l1..].iter().zip(&x3[l1..l2]) {
        a2 += p(z2);
        a3 += p(z3);
    }
    for z3 in &x3[l2..] {
        a3 += p(z3);
    }
    *acc = [a0, a1, a2, a3];
}

/// Streaming long-term band spectrum of interleaved audio: `new` allocates everything,
/// `process` never allocates.
#[derive(Clone)]
pub struct SpectrumMeter {
    channels: usize,
    fft: Arc<RealForward>,
    fft_len: usize,
    window: Vec<f32>,
    /// Per channel, the samples of the frame being filled (`channels * fft_len`).
    frame: Vec<f32>,
    fill: usize,
    fft_in: Vec<f32>,
    fft_out: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// The bins of each band ([`band_bin_ranges`]).
    band_bins: Vec<std::ops::Range<usize>>,
    band_hz: Vec<f64>,
    /// Summed one-sided bin power per band, over channels and frames.
    band_power: Vec<f64>,
    frames_done: u64,
}

impl std::fmt::Debug for SpectrumMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpectrumMeter")
            .field("channels", &self.channels)
            .field("fft_len", &self.fft_len)
            .field("frames_done", &self.frames_done)
            .finish()
    }
}

/// One run of `C`-channel frames into positions `at` of every channel's FFT frame (`frame`
/// holds the channels one after another, `n` samples each), in one pass over the input (one
/// pass per channel read the input `C` times: for 5.1, 12 % of a check's CPU).
fn deinterleave_run<const C: usize>(
    frame: &mut [f32],
    n: usize,
    at: std::ops::Range<usize>,
    run: &[f32],
) {
    let mut channels = frame.chunks_exact_mut(n);
    let mut dst: [&mut [f32]; C] = std::array::from_fn(|_| {
        let c = channels.next().expect("C channels of n samples");
        &mut c[at.clone()]
    });
    let (frames, _) = run.as_chunks::<C>();
    for (t, f) in frames.iter().enumerate() {
        for (d, &v) in dst.iter_mut().zip(f) {
            d[t] = sanitize(v);
        }
    }
}

impl SpectrumMeter {
    /// A meter for `channels` interleaved channels at `sample_rate`.
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        let channels = channels.max(1);
        let fft_len = spectrum_fft_len(sample_rate);
        let fft = Arc::new(RealForward::new(fft_len));
        let window = (0..fft_len)
            .map(|i| {
                let x = std::f64::consts::PI * 2.0 * i as f64 / fft_len as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        let (band_hz, bin_band) = third_octave_bands(sample_rate, fft_len);
        Self {
            channels,
            scratch: fft.make_scratch_vec(),
            fft_out: fft.make_output_vec(),
            fft,
            fft_len,
            window,
            frame: vec![0.0; channels * fft_len],
            fill: 0,
            fft_in: vec![0.0; fft_len],
            band_power: vec![0.0; band_hz.len()],
            band_bins: band_bin_ranges(&bin_band),
            band_hz,
            frames_done: 0,
        }
    }

    /// Feeds interleaved samples (NaN and infinities as 0); a trailing partial frame is ignored.
    ///
    /// The input is taken in runs up to the end of the FFT frame being filled, each run
    /// deinterleaved in one loop per layout: a frame-by-frame loop (the fill position and
    /// the frame's end tested at every sample) cost as much as the FFTs themselves (~10 % of
    /// a check's CPU, issue 20). The stored values are the same, so the readings are too.
    pub fn process(&mut self, interleaved: &[f32]) {
        let (ch, n) = (self.channels, self.fft_len);
        let mut rest = &interleaved[..interleaved.len() / ch * ch];
        while !rest.is_empty() {
            let take = (n - self.fill).min(rest.len() / ch);
            let (run, tail) = rest.split_at(take * ch);
            let at = self.fill..self.fill + take;
            match ch {
                1 => {
                    for (d, &v) in self.frame[at].iter_mut().zip(run) {
                        *d = sanitize(v);
                    }
                }
                2 => {
                    let (left, right) = self.frame.split_at_mut(n);
                    let (frames, _) = run.as_chunks::<2>();
                    for ((l, r), f) in left[at.clone()].iter_mut().zip(&mut right[at]).zip(frames) {
                        *l = sanitize(f[0]);
                        *r = sanitize(f[1]);
                    }
                }
                3 => deinterleave_run::<3>(&mut self.frame, n, at, run),
                4 => deinterleave_run::<4>(&mut self.frame, n, at, run),
                5 => deinterleave_run::<5>(&mut self.frame, n, at, run),
                6 => deinterleave_run::<6>(&mut self.frame, n, at, run),
                7 => deinterleave_run::<7>(&mut self.frame, n, at, run),
                8 => deinterleave_run::<8>(&mut self.frame, n, at, run),
                _ => {
                    for c in 0..ch {
                        let dst = &mut self.frame[c * n + at.start..c * n + at.end];
                        for (d, f) in dst.iter_mut().zip(run.chunks_exact(ch)) {
                            *d = sanitize(f[c]);
                        }
                    }
                }
            }
            self.fill += take;
            if self.fill == n {
                self.transform_frame();
                self.fill = 0;
            }
            rest = tail;
        }
    }

    fn transform_frame(&mut self) {
        let n = self.fft_len;
        for c in 0..self.channels {
            let x = &self.frame[c * n..(c + 1) * n];
            for ((o, &v), &w) in self.fft_in.iter_mut().zip(x).zip(&self.window) {
                *o = v * w;
            }
            // Lengths come from the plan, so this cannot fail.
            let _ = self.fft.process_with_scratch(
                &mut self.fft_in,
                &mut self.fft_out,
                &mut self.scratch,
            );
            add_band_power(&mut self.band_power, &self.fft_out, &self.band_bins);
        }
        self.frames_done += 1;
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.fill = 0;
        self.band_power.fill(0.0);
        self.frames_done = 0;
    }

    /// Band centres, Hz.
    pub fn band_hz(&self) -> &[f64] {
        &self.band_hz
    }

    /// Mean-square level per band over the whole-frame part of the stream so far, averaged
    /// over the channels, in dBFS on the scale of [`Metrics::rms_dbfs`](super::Metrics): the
    /// bands' powers add up to the signal's mean square (within the part of the spectrum the
    /// bands cover), and a full-scale sine reads -3.01 dB in its band. `None` for a band with
    /// no energy; `None` overall before the first whole FFT frame (a file shorter than ~85 ms).
    pub fn band_levels_db(&self) -> Option<Vec<Option<f64>>> {
        if self.frames_done == 0 {
            return None;
        }
        let n = self.fft_len as f64;
        // One-sided power (x2), |X|^2 / N^2 for the mean square, over the Hann window's own
        // mean square (3/8), averaged over frames and channels.
        let window_ms = 0.375;
        let scale = 2.0 / (n * n * window_ms * self.frames_done as f64 * self.channels as f64);
        Some(
            self.band_power
                .iter()
                .map(|&p| (p > 0.0).then(|| power_to_db(p * scale)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, amp: f64, rate: u32, frames: usize, channels: usize) -> Vec<f32> {
        (0..frames * channels)
            .map(|i| {
                let t = (i / channels) as f64 / f64::from(rate);
                (amp * (2.0 * std::f64::consts::PI * freq_hz * t).sin()) as f32
            })
            .collect()
    }

    /// Every band keeps at least one bin, the bands' bins are contiguous and ascend, and the
    /// meter builds, at every rate a header can claim: at 2.93 MHz (the check_folder fuzzer's
    /// input) the 50 Hz band took the 40 Hz band's only bin and the meter panicked.
    #[test]
    fn bands_never_lose_all_their_bins_at_any_rate() {
        let rates = (1..400_000u32)
            .step_by(61)
            .chain([
                44_100, 48_000, 96_000, 192_000, 384_000, 768_000, 2_822_400, 2_931_584,
            ])
            .chain([5_644_800, 11_289_600, 100_000_000, u32::MAX]);
        for rate in rates {
            let n = spectrum_fft_len(rate);
            let (hz, bin_band) = third_octave_bands(rate, n);
            let ranges = band_bin_ranges(&bin_band);
            assert_eq!(ranges.len(), hz.len(), "rate {rate}");
            for (b, r) in ranges.iter().enumerate() {
                assert!(!r.is_empty(), "rate {rate} band {b}");
                assert!(
                    bin_band[r.clone()].iter().all(|&x| x == b),
                    "rate {rate} band {b}"
                );
                if b > 0 {
                    assert!(ranges[b - 1].end <= r.start, "rate {rate} band {b}");
                }
            }
        }
        let mut m = SpectrumMeter::new(2, 2_931_584);
        m.process(&sine(1000.0, 0.5, 2_931_584, 1 << 18, 2));
        assert!(m.band_levels_db().is_some());
    }

    #[test]
    fn full_scale_sine_reads_minus_three_db_in_its_band_only() {
        let rate = 48_000;
        let mut m = SpectrumMeter::new(2, rate);
        m.process(&sine(1000.0, 1.0, rate, rate as usize * 2, 2));
        let levels = m.band_levels_db().unwrap();
        let k = m.band_hz().iter().position(|&f| f == 1000.0).unwrap();
        let at = levels[k].unwrap();
        assert!((at + 3.01).abs() < 0.3, "{at}");
        for (i, l) in levels.iter().enumerate() {
            if i + 2 <= k || i >= k + 2 {
                assert!(l.is_none_or(|l| l < at - 40.0), "band {i}: {l:?}");
            }
        }
    }

    #[test]
    fn bands_add_up_to_the_signal_power_for_broadband_noise() {
        let rate = 48_000;
        // Deterministic white-ish noise.
        let mut s = 1u32;
        let x: Vec<f32> = (0..rate as usize * 3)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (f64::from(s) / f64::from(u32::MAX) - 0.5) as f32 * 0.5
            })
            .collect();
        let mut m = SpectrumMeter::new(1, rate);
        m.process(&x);
        let total: f64 = m
            .band_levels_db()
            .unwrap()
            .iter()
            .flatten()
            .map(|d| 10f64.powf(d / 10.0))
            .sum();
        let ms: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64;
        // The bands cover 35.6 Hz .. 17.8 kHz of a flat 0..24 kHz spectrum: 73 % of the power.
        let covered = (17_959.0 - 35.6) / 24_000.0;
        let err_db = power_to_db(total) - power_to_db(ms * covered);
        assert!(err_db.abs() < 0.3, "{err_db}");
    }

    /// The frame-by-frame fill `process` had before it took runs, kept as the reference.
    fn process_frame_by_frame(m: &mut SpectrumMeter, interleaved: &[f32]) {
        let ch = m.channels;
        for frame in interleaved.chunks_exact(ch) {
            for (c, &v) in frame.iter().enumerate() {
                m.frame[c * m.fft_len + m.fill] = sanitize(v);
            }
            m.fill += 1;
            if m.fill == m.fft_len {
                m.transform_frame();
                m.fill = 0;
            }
        }
    }

    #[test]
    fn runs_fill_the_frames_exactly_as_sample_by_sample_for_every_layout() {
        let rate = 48_000;
        for ch in 1..=9 {
            let mut x = sine(440.0, 0.7, rate, 3 * spectrum_fft_len(rate) + 1234, ch);
            // A level per channel, so a sample landing in another channel's frame shows.
            for (i, v) in x.iter_mut().enumerate() {
                *v *= 1.0 - 0.07 * (i % ch) as f32;
            }
            x[5 * ch + ch - 1] = f32::NAN;
            x[9000 * ch] = f32::INFINITY;
            let mut reference = SpectrumMeter::new(ch, rate);
            process_frame_by_frame(&mut reference, &x);
            let mut runs = SpectrumMeter::new(ch, rate);
            // Cuts that fall inside frames, on frame ends and across several frames.
            for piece in x.chunks(ch * 3001) {
                runs.process(piece);
            }
            assert_eq!(runs.frames_done, reference.frames_done, "{ch} channels");
            assert_eq!(runs.fill, reference.fill, "{ch} channels");
            let bits = |m: &SpectrumMeter| m.band_power.iter().map(|p| p.to_bits()).collect();
            let (a, b): (Vec<u64>, Vec<u64>) = (bits(&runs), bits(&reference));
            assert_eq!(a, b, "{ch} channels");
            assert_eq!(
                runs.frame, reference.frame,
                "{ch} channels: the frame being filled"
            );
        }
    }

    /// The band sums in registers against the loop over the bins they replace (kept here as
    /// the reference): the same bits for every rate's bands, from a non-zero start.
    #[test]
    fn band_sums_in_registers_equal_the_bin_by_bin_loop() {
        let mut rng = crate::synth::Rng::new(7);
        for rate in [8_000u32, 22_050, 44_100, 48_000, 96_000, 192_000] {
            for fft_len in [spectrum_fft_len(rate), 256, 1024] {
                let (band_hz, bin_band) = third_octave_bands(rate, fft_len);
                let ranges = band_bin_ranges(&bin_band);
                assert_eq!(ranges.len(), band_hz.len(), "{rate} Hz, {fft_len}");
                // Magnitudes over 2^-30..2^30, so that the sums round and their order shows.
                let bins: Vec<Complex<f32>> = (0..bin_band.len())
                    .map(|_| {
                        let scale = 2f32.powi(rng.below(60) as i32 - 30);
                        Complex::new(rng.next_f32() * scale, rng.next_f32() * scale)
                    })
                    .collect();
                let start: Vec<f64> = (0..band_hz.len()).map(|_| rng.next_f64() * 1e3).collect();
                let mut reference = start.clone();
                for (k, z) in bins.iter().enumerate() {
                    let b = bin_band[k];
                    if b != usize::MAX {
                        reference[b] += f64::from(z.norm_sqr());
                    }
                }
                let mut fast = start.clone();
                add_band_power(&mut fast, &bins, &ranges);
                let bits = |v: &[f64]| v.iter().map(|p| p.to_bits()).collect::<Vec<u64>>();
                assert_eq!(bits(&fast), bits(&reference), "{rate} Hz, {fft_len}");
            }
        }
    }

    #[test]
    fn block_size_does_not_change_the_result_and_short_input_has_none() {
        let rate = 44_100;
        let x = sine(200.0, 0.5, rate, 20_000, 2);
        let mut a = SpectrumMeter::new(2, rate);
        a.process(&x);
        let mut b = SpectrumMeter::new(2, rate);
        for c in x.chunks(2 * 777) {
            b.process(c);
        }
        assert_eq!(a.band_levels_db(), b.band_levels_db());
        let mut short = SpectrumMeter::new(2, rate);
        short.process(&x[..2 * 100]);
        assert_eq!(short.band_levels_db(), None);
    }
}
