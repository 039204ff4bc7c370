//! The [`Diagnoser`]: collects the diagnosis's statistics from the reconciliation's aligned
//! blocks (it is a [`BlockVisitor`]) in bounded memory, and hands them to the analysis.

use crate::fft::RealForward;
use realfft::num_complex::Complex;
use std::sync::Arc;

use super::analysis::{Diagnosis, analyse};
use super::stats::{FRAME_S, FrameStat, Segment, StreamFacts};
use super::waveshaper::WaveshaperStats;
use crate::meter::spectrum::add_band_power;
use crate::reconcile::BlockVisitor;
use crate::units::power_to_db;

/// Samples at or above this magnitude in flat runs count as clipped.
const CLIP_LEVEL: f32 = 0.99;
/// FFT frames per spectral segment (segments alternate between the two cross-validation
/// folds).
const SEGMENT_FFT_FRAMES: usize = 16;

/// Running sums of one 10 ms frame.
#[derive(Debug, Clone, Copy, Default)]
struct FrameAcc {
    em: f64,
    es: f64,
    ems: f64,
    er: f64,
    ef: f64,
    emf: f64,
    pm: f32,
    ps: f32,
    clipped: u32,
    n: usize,
}

/// Collects the statistics of the diagnosis during the reconciliation's streaming pass.
///
/// Build it with the mix's channel count and sample rate, hand it to
/// [`crate::reconcile::reconcile_sources`] as the visitor (or call [`Diagnoser::push`] with
/// aligned blocks yourself), then call [`Diagnoser::finish`] or [`super::diagnose`].
pub struct Diagnoser {
    channels: usize,
    sample_rate: u32,
    frame_len: usize,
    cur: FrameAcc,
    frames: Vec<FrameStat>,
    /// Mix frames seen so far.
    position: u64,
    // Inter-channel statistics of the fitted residual and of the plain sum (first two
    // channels), over the whole stream.
    res_lr: [f64; 3],
    sum_lr: [f64; 3],
    // Flat-top detection in the mix, per channel: previous value and run length.
    clip_prev: Vec<f32>,
    clip_run: Vec<u32>,
    // Spectral analysis (mono downmix).
    fft: Arc<RealForward>,
    fft_len: usize,
    hop: usize,
    window: Vec<f32>,
    ring_m: Vec<f32>,
    ring_s: Vec<f32>,
    ring_r: Vec<f32>,
    /// Mix and fitted residual per channel (`channels * fft_len`, channel after channel), for
    /// the added-content signature: a return decorrelated or in opposite phase between the
    /// channels partly cancels in the mono downmix, so its spectrum is read channel by channel.
    ring_mc: Vec<f32>,
    ring_rc: Vec<f32>,
    /// The plain sum's side (left minus right) of a stereo mix (empty otherwise), for the
    /// mid/side model of a stereo width on the mix bus (see `super::stereo`).
    ring_ds: Vec<f32>,
    ring_fill: usize,
    ring_start: u64,
    fft_in: Vec<f32>,
    fft_out_m: Vec<Complex<f32>>,
    fft_out_s: Vec<Complex<f32>>,
    fft_out_r: Vec<Complex<f32>>,
    /// The mix's left channel spectrum of a stereo mix (empty otherwise), kept for its side.
    fft_out_ml: Vec<Complex<f32>>,
    /// One FFT frame's mid `|S|^2` and `conj(S) M` per band (stereo mixes), for the
    /// frame-gained sums of [`Segment`].
    frame_ss: Vec<f64>,
    frame_ms: Vec<Complex<f64>>,
    scratch: Vec<Complex<f32>>,
    /// The bins of each band, as ranges ([`crate::meter::spectrum::band_bin_ranges`]).
    band_bins: Vec<std::ops::Range<usize>>,
    band_hz: Vec<f64>,
    segments: Vec<Segment>,
    seg_frames: usize,
    /// Mix against plain sum per amplitude of the sum (a clipper on the mix bus).
    waveshaper: WaveshaperStats,
}

impl std::fmt::Debug for Diagnoser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Diagnoser")
            .field("channels", &self.channels)
            .field("sample_rate", &self.sample_rate)
            .field("frames", &self.frames.len())
            .field("segments", &self.segments.len())
            .finish()
    }
}

impl Diagnoser {
    /// A diagnoser for a mix of `channels` channels at `sample_rate` Hz.
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        let channels = channels.max(1);
        let sr = f64::from(sample_rate.max(1));
        let frame_len = ((sr * FRAME_S).round() as usize).max(1);
        // About 85 ms at any rate (4096 at 48 kHz): fine enough for third octaves at 40 Hz.
        // Capped at 2^17 (85 ms at 1.536 MHz): a diagnoser is never sized by a broken header.
        let fft_len = crate::meter::spectrum::spectrum_fft_len(sample_rate);
        let hop = fft_len / 2;
        let fft = Arc::new(RealForward::new(fft_len));
        let window: Vec<f32> = (0..fft_len)
            .map(|i| {
                let x = std::f64::consts::PI * 2.0 * i as f64 / fft_len as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        // Bands: third octaves below 0.45 * rate; a band without a bin is merged upward.
        let (band_hz, bin_band) = crate::meter::spectrum::third_octave_bands(sample_rate, fft_len);
        let out_len = fft_len / 2 + 1;
        let scratch = fft.make_scratch_vec();
        Self {
            channels,
            sample_rate,
            frame_len,
            cur: FrameAcc::default(),
            frames: Vec::new(),
            position: 0,
            res_lr: [0.0; 3],
            sum_lr: [0.0; 3],
            clip_prev: vec![0.0; channels],
            clip_run: vec![0; channels],
            fft,
            fft_len,
            hop,
            window,
            ring_m: vec![0.0; fft_len],
            ring_s: vec![0.0; fft_len],
            ring_r: vec![0.0; fft_len],
            ring_mc: vec![0.0; channels * fft_len],
            ring_rc: vec![0.0; channels * fft_len],
            ring_ds: vec![0.0; if channels == 2 { fft_len } else { 0 }],
            ring_fill: 0,
            ring_start: 0,
            fft_in: vec![0.0; fft_len],
            fft_out_m: vec![Complex::new(0.0, 0.0); out_len],
            fft_out_s: vec![Complex::new(0.0, 0.0); out_len],
            fft_out_r: vec![Complex::new(0.0, 0.0); out_len],
            fft_out_ml: vec![Complex::new(0.0, 0.0); if channels == 2 { out_len } else { 0 }],
            frame_ss: Vec::new(),
            frame_ms: Vec::new(),
            scratch,
            band_bins: crate::meter::spectrum::band_bin_ranges(&bin_band),
            band_hz,
            segments: Vec::new(),
            seg_frames: 0,
            waveshaper: WaveshaperStats::new(),
        }
    }

    /// Channels of the mix this diagnoser was built for.
    /// Mix and residual (mix minus the aligned plain stem sum) power per third-octave band over
    /// the whole streaming pass, in dB relative to the mix's total power: what the HTML report
    /// and the plugin's panel plot as "residual spectrum against the mix spectrum".
    pub fn band_spectrum(&self) -> crate::report::BandSpectrum {
        let bands = self.band_hz.len();
        let (mut mix, mut res) = (vec![0.0f64; bands], vec![0.0f64; bands]);
        for seg in &self.segments {
            for b in 0..bands {
                mix[b] += seg.smm[b];
                // |M - S|^2 = |M|^2 + |S|^2 - 2 Re(conj(S) M)
                res[b] += (seg.smm[b] + seg.sss[b] - 2.0 * seg.sms[b].re).max(0.0);
            }
        }
        let total: f64 = mix.iter().sum();
        let rel = |e: f64| (total > 0.0 && e > 0.0).then(|| power_to_db(e / total));
        crate::report::BandSpectrum {
            band_hz: self.band_hz.clone(),
            mix_db: mix.iter().map(|&e| rel(e)).collect(),
            residual_db: res.iter().map(|&e| rel(e)).collect(),
        }
    }

    /// Channel count of the mix (and of the blocks [`push`](Self::push) takes).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Feeds one aligned block: `mix`, the plain stem sum and the fitted stem sum, interleaved
    /// with the mix's channel count, all of the same length (extra samples are ignored).
    ///
    /// The block is taken in runs that end at the next 10 ms frame or FFT frame, so the running
    /// sums live in registers within a run (kept in `self`, every sample's store and reload
    /// was most of this function's time). Every sum takes its samples in the same order as one
    /// sample at a time, so the statistics are the same bits whatever the block sizes.
    pub fn push(&mut self, mix: &[f32], sum: &[f32], fitted: &[f32]) {
        let ch = self.channels;
        let n = mix.len().min(sum.len()).min(fitted.len()) / ch;
        let mut t = 0;
        while t < n {
            let run = (n - t)
                .min(self.frame_len - self.cur.n)
                .min(self.fft_len - self.ring_fill);
            let span = t * ch..(t + run) * ch;
            let (m, s, f) = (&mix[span.clone()], &sum[span.clone()], &fitted[span]);
            // A literal channel count per call lets the compiler unroll the channel loop.
            match ch {
                1 => self.push_run(1, m, s, f),
                2 => self.push_run(2, m, s, f),
                6 => self.push_run(6, m, s, f),
                c => self.push_run(c, m, s, f),
            }
            t += run;
            if self.cur.n == self.frame_len {
                self.close_frame();
            }
            if self.ring_fill == self.fft_len {
                self.spectral_frame();
            }
        }
    }

    /// One run of frames that ends at or before the current 10 ms frame and FFT frame
    /// (`mix`, `sum`, `fitted`: `ch` interleaved channels).
    #[inline(always)]
    fn push_run(&mut self, ch: usize, mix: &[f32], sum: &[f32], fitted: &[f32]) {
        let run = mix.len() / ch;
        let fill = self.ring_fill;
        let fft_len = self.fft_len;
        let mut acc = self.cur;
        let (mut res_lr, mut sum_lr) = (self.res_lr, self.sum_lr);
        let (clip_prev, clip_run) = (&mut self.clip_prev, &mut self.clip_run);
        // The run lies within one 10 ms frame: one fold.
        let fold = self.frames.len() & 1;
        let waveshaper = &mut self.waveshaper;
        let ring_m = &mut self.ring_m[fill..fill + run];
        let ring_s = &mut self.ring_s[fill..fill + run];
        let ring_r = &mut self.ring_r[fill..fill + run];
        let ring_ds = if ch == 2 {
            &mut self.ring_ds[fill..fill + run]
        } else {
            &mut []
        };
        for t in 0..run {
            let base = t * ch;
            let (mut mono_m, mut mono_s, mut mono_r) = (0.0f32, 0.0f32, 0.0f32);
            for c in 0..ch {
                let (m, s, f) = (mix[base + c], sum[base + c], fitted[base + c]);
                let r = m - f;
                self.ring_mc[c * fft_len + fill + t] = m;
                self.ring_rc[c * fft_len + fill + t] = r;
                acc.em += f64::from(m * m);
                acc.es += f64::from(s * s);
                acc.ems += f64::from(m * s);
                acc.er += f64::from(r * r);
                acc.ef += f64::from(f * f);
                acc.emf += f64::from(m * f);
                acc.pm = acc.pm.max(m.abs());
                acc.ps = acc.ps.max(s.abs());
                waveshaper.add(fold, m, s);
                let a = m.abs();
                if a >= CLIP_LEVEL && a == clip_prev[c] {
                    clip_run[c] += 1;
                    if clip_run[c] >= 2 {
                        acc.clipped += 1;
                    }
                } else {
                    clip_run[c] = 0;
                }
                clip_prev[c] = a;
                mono_m += m;
                mono_s += s;
                mono_r += r;
            }
            if ch >= 2 {
                let (rl, rr) = (mix[base] - fitted[base], mix[base + 1] - fitted[base + 1]);
                res_lr[0] += f64::from(rl * rl);
                res_lr[1] += f64::from(rr * rr);
                res_lr[2] += f64::from(rl * rr);
                let (sl, sr) = (sum[base], sum[base + 1]);
                sum_lr[0] += f64::from(sl * sl);
                sum_lr[1] += f64::from(sr * sr);
                sum_lr[2] += f64::from(sl * sr);
                if ch == 2 {
                    ring_ds[t] = sl - sr;
                }
            }
            ring_m[t] = mono_m;
            ring_s[t] = mono_s;
            ring_r[t] = mono_r;
        }
        acc.n += run;
        self.cur = acc;
        self.res_lr = res_lr;
        self.sum_lr = sum_lr;
        self.ring_fill += run;
        self.position += run as u64;
    }

    /// The same as [`push_run`](Self::push_run), one frame at a time with the sums in `self`
    /// (the loop before the runs): the reference the runs are tested against.
    #[cfg(test)]
    fn push_frame_by_frame(&mut self, mix: &[f32], sum: &[f32], fitted: &[f32]) {
        let ch = self.channels;
        let n = mix.len().min(sum.len()).min(fitted.len()) / ch;
        for t in 0..n {
            let base = t * ch;
            let (mut mono_m, mut mono_s, mut mono_r) = (0.0f32, 0.0f32, 0.0f32);
            for c in 0..ch {
                let (m, s, f) = (mix[base + c], sum[base + c], fitted[base + c]);
                let r = m - f;
                self.ring_mc[c * self.fft_len + self.ring_fill] = m;
                self.ring_rc[c * self.fft_len + self.ring_fill] = r;
                let acc = &mut self.cur;
                acc.em += f64::from(m * m);
                acc.es += f64::from(s * s);
                acc.ems += f64::from(m * s);
                acc.er += f64::from(r * r);
                acc.ef += f64::from(f * f);
                acc.emf += f64::from(m * f);
                acc.pm = acc.pm.max(m.abs());
                acc.ps = acc.ps.max(s.abs());
                self.waveshaper.add(self.frames.len() & 1, m, s);
                // Flat tops: three or more equal samples at full scale (a limiter holding a
                // lower ceiling is dynamics, not clipping).
                let a = m.abs();
                if a >= CLIP_LEVEL && a == self.clip_prev[c] {
                    self.clip_run[c] += 1;
                    if self.clip_run[c] >= 2 {
                        acc.clipped += 1;
                    }
                } else {
                    self.clip_run[c] = 0;
                }
                self.clip_prev[c] = a;
                mono_m += m;
                mono_s += s;
                mono_r += r;
            }
            if ch >= 2 {
                let (rl, rr) = (mix[base] - fitted[base], mix[base + 1] - fitted[base + 1]);
                self.res_lr[0] += f64::from(rl * rl);
                self.res_lr[1] += f64::from(rr * rr);
                self.res_lr[2] += f64::from(rl * rr);
                let (sl, sr) = (sum[base], sum[base + 1]);
                self.sum_lr[0] += f64::from(sl * sl);
                self.sum_lr[1] += f64::from(sr * sr);
                self.sum_lr[2] += f64::from(sl * sr);
                if ch == 2 {
                    self.ring_ds[self.ring_fill] = sl - sr;
                }
            }
            self.cur.n += 1;
            if self.cur.n == self.frame_len {
                self.close_frame();
            }
            self.ring_m[self.ring_fill] = mono_m;
            self.ring_s[self.ring_fill] = mono_s;
            self.ring_r[self.ring_fill] = mono_r;
            self.ring_fill += 1;
            self.position += 1;
            if self.ring_fill == self.fft_len {
                self.spectral_frame();
            }
        }
    }

    fn close_frame(&mut self) {
        let a = self.cur;
        self.frames.push(FrameStat {
            em: a.em as f32,
            es: a.es as f32,
            ems: a.ems as f32,
            er: a.er as f32,
            ef: a.ef as f32,
            emf: a.emf as f32,
            pm: a.pm,
            ps: a.ps,
            clipped: a.clipped.min(u32::from(u16::MAX)) as u16,
        });
        self.cur = FrameAcc::default();
    }

    /// One FFT frame of the ring (full), accumulated into the current segment; then the ring
    /// moves by one hop.
    fn spectral_frame(&mut self) {
        let bands = self.band_hz.len();
        if self.seg_frames == 0 {
            self.segments.push(Segment::new(bands, self.ring_start));
        }
        let ring = [&self.ring_m, &self.ring_s, &self.ring_r];
        let outs = [
            &mut self.fft_out_m,
            &mut self.fft_out_s,
            &mut self.fft_out_r,
        ];
        for (src, out) in ring.into_iter().zip(outs) {
            for ((d, &x), &w) in self.fft_in.iter_mut().zip(src.iter()).zip(&self.window) {
                *d = x * w;
            }
            // Lengths match by construction, so this cannot fail.
            let _ = self
                .fft
                .process_with_scratch(&mut self.fft_in, out, &mut self.scratch);
        }
        let seg = self.segments.last_mut().expect("pushed above");
        let stereo = self.channels == 2;
        if stereo && self.frame_ss.len() != bands {
            self.frame_ss.resize(bands, 0.0);
            self.frame_ms.resize(bands, Complex::new(0.0, 0.0));
        }
        // Band by band with the running sums in registers (a loop over the bins kept them in
        // memory, a store and a reload on every bin's chain); the same additions in the same
        // order, so the same sums bit for bit.
        for (b, bins) in self.band_bins.iter().enumerate() {
            let (mut smm, mut sss, mut sms) = (seg.smm[b], seg.sss[b], seg.sms[b]);
            let (mut srr, mut ssr) = (seg.srr[b], seg.ssr[b]);
            for k in bins.clone() {
                let m = self.fft_out_m[k];
                let s = self.fft_out_s[k];
                let r = self.fft_out_r[k];
                smm += f64::from(m.norm_sqr());
                sss += f64::from(s.norm_sqr());
                let x = s.conj() * m;
                sms += Complex::new(f64::from(x.re), f64::from(x.im));
                srr += f64::from(r.norm_sqr());
                let y = s.conj() * r;
                ssr += Complex::new(f64::from(y.re), f64::from(y.im));
            }
            if stereo {
                // This frame's part of the running sums (their growth: no second pass over
                // the bins).
                (self.frame_ss[b], self.frame_ms[b]) = (sss - seg.sss[b], sms - seg.sms[b]);
            }
            (seg.smm[b], seg.sss[b], seg.sms[b]) = (smm, sss, sms);
            (seg.srr[b], seg.ssr[b]) = (srr, ssr);
        }
        // This frame's own gain of the sum to the mix, read from the mid (a mid/side width
        // leaves the mid as it is), and the mid's frame-gained sums.
        let mut frame_gain = 1.0f64;
        if stereo {
            let bands = self.band_bins.len();
            let ss: f64 = self.frame_ss.iter().sum();
            let ms: f64 = self.frame_ms.iter().map(|x| x.re).sum();
            if ss > 0.0 {
                frame_gain = ms / ss;
            }
            for b in 0..bands {
                seg.mid_gss[b] += frame_gain * frame_gain * self.frame_ss[b];
                seg.mid_gms[b] += self.frame_ms[b] * frame_gain;
            }
        }
        // Per channel (mono: the downmix is the channel), mix and residual power.
        if self.channels == 1 {
            seg.smm_ch.clone_from(&seg.smm);
            seg.srr_ch.clone_from(&seg.srr);
        } else {
            let n = self.fft_len;
            for c in 0..self.channels {
                for (src, out) in [
                    (&self.ring_mc, &mut self.fft_out_m),
                    (&self.ring_rc, &mut self.fft_out_r),
                ] {
                    for ((d, &x), &w) in self
                        .fft_in
                        .iter_mut()
                        .zip(&src[c * n..(c + 1) * n])
                        .zip(&self.window)
                    {
                        *d = x * w;
                    }
                    // Lengths match by construction, so this cannot fail.
                    let _ = self
                        .fft
                        .process_with_scratch(&mut self.fft_in, out, &mut self.scratch);
                }
                add_band_power(&mut seg.smm_ch, &self.fft_out_m, &self.band_bins);
                add_band_power(&mut seg.srr_ch, &self.fft_out_r, &self.band_bins);
                if self.channels == 2 && c == 0 {
                    self.fft_out_ml.copy_from_slice(&self.fft_out_m);
                }
            }
        }
        if self.channels == 2 {
            // Side (left minus right) of the mix, from the channels' spectra above (left kept,
            // right last in `fft_out_m`), and of the plain sum.
            for ((d, &x), &w) in self.fft_in.iter_mut().zip(&self.ring_ds).zip(&self.window) {
                *d = x * w;
            }
            let _ = self.fft.process_with_scratch(
                &mut self.fft_in,
                &mut self.fft_out_s,
                &mut self.scratch,
            );
            for (b, bins) in self.band_bins.iter().enumerate() {
                let (mut mm, mut ss, mut ms) = (seg.side_mm[b], seg.side_ss[b], seg.side_ms[b]);
                for k in bins.clone() {
                    let (m, s) = (self.fft_out_ml[k] - self.fft_out_m[k], self.fft_out_s[k]);
                    mm += f64::from(m.norm_sqr());
                    ss += f64::from(s.norm_sqr());
                    let x = s.conj() * m;
                    ms += Complex::new(f64::from(x.re), f64::from(x.im));
                }
                // The same frame's side (the sums' growth), by the frame's gain.
                seg.side_gss[b] += frame_gain * frame_gain * (ss - seg.side_ss[b]);
                seg.side_gms[b] += (ms - seg.side_ms[b]) * frame_gain;
                (seg.side_mm[b], seg.side_ss[b], seg.side_ms[b]) = (mm, ss, ms);
            }
        }
        seg.end_frame = self.ring_start + self.fft_len as u64;
        self.seg_frames = (self.seg_frames + 1) % SEGMENT_FFT_FRAMES;
        let hop = self.hop;
        self.ring_m.copy_within(hop.., 0);
        self.ring_s.copy_within(hop.., 0);
        self.ring_r.copy_within(hop.., 0);
        if self.channels == 2 {
            self.ring_ds.copy_within(hop.., 0);
        }
        for c in 0..self.channels {
            let n = self.fft_len;
            self.ring_mc[c * n..(c + 1) * n].copy_within(hop.., 0);
            self.ring_rc[c * n..(c + 1) * n].copy_within(hop.., 0);
        }
        self.ring_fill -= hop;
        self.ring_start += hop as u64;
    }

    /// Evaluates everything collected. `span` restricts the judgement to mix frames
    /// `[start, end)` (the span where every shifted stem has audio); `None` = everything.
    pub fn finish(&self, span: Option<[u64; 2]>) -> Diagnosis {
        let [lo, hi] = span.unwrap_or([0, u64::MAX]);
        let fl = self.frame_len as u64;
        let first = lo.div_ceil(fl) as usize;
        let last = ((hi / fl) as usize).min(self.frames.len());
        let frames = if first < last {
            &self.frames[first..last]
        } else {
            &[][..]
        };
        let segments: Vec<&Segment> = self
            .segments
            .iter()
            .filter(|s| s.start_frame >= lo && s.end_frame <= hi)
            .collect();
        let facts = StreamFacts {
            channels: self.channels,
            sample_rate: self.sample_rate,
            band_hz: &self.band_hz,
            res_lr: self.res_lr,
            sum_lr: self.sum_lr,
            frames_start_s: first as f64 * self.frame_len as f64
                / f64::from(self.sample_rate.max(1)),
            waveshaper: self.waveshaper.fit(),
        };
        analyse(&facts, frames, &segments)
    }
}

impl BlockVisitor for Diagnoser {
    fn block(&mut self, _frame: u64, mix: &[f32], sum: &[f32], fitted: &[f32]) {
        self.push(mix, sum, fitted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_the_spectrum_below_0_45_of_the_rate() {
        for sr in [44_100, 48_000, 96_000] {
            let d = Diagnoser::new(2, sr);
            assert!(d.band_hz.len() >= 20, "{sr}: {:?}", d.band_hz);
            assert!(*d.band_hz.last().unwrap() <= 0.45 * f64::from(sr));
        }
        let d = Diagnoser::new(1, 8_000);
        assert!(!d.band_hz.is_empty());
    }

    /// Everything the pushes accumulate, printed (`Debug` of a float round-trips its bits).
    fn collected(d: &Diagnoser) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {:?} {:?} {:?} {:?} {:?} {:?}",
            d.frames,
            d.segments,
            d.res_lr,
            d.sum_lr,
            d.clip_prev,
            d.clip_run,
            (
                d.cur.em, d.cur.es, d.cur.ems, d.cur.er, d.cur.ef, d.cur.emf, d.cur.n
            ),
            d.ring_fill,
            d.position,
            d.ring_m,
            d.ring_s,
            d.ring_r,
            d.ring_mc,
            d.ring_rc,
            d.ring_ds,
        )
    }

    #[test]
    fn runs_collect_the_same_bits_as_one_frame_at_a_time_whatever_the_blocks() {
        let mut rng = crate::synth::Rng::new(0x2545_f491);
        let mut next = move || rng.next_f32();
        for ch in [1, 2, 3, 6, 17] {
            let frames = 20_000;
            let mut mix: Vec<f32> = (0..frames * ch).map(|_| next()).collect();
            // Flat tops at full scale in every channel, so the clip counters run too.
            for v in &mut mix[ch * 5_000..ch * 5_040] {
                *v = 1.0;
            }
            let sum: Vec<f32> = mix.iter().map(|&m| m * 0.9 + next() * 0.01).collect();
            let fitted: Vec<f32> = sum.iter().map(|&s| s * 1.01).collect();
            let mut reference = Diagnoser::new(ch, 8_000);
            reference.push_frame_by_frame(&mix, &sum, &fitted);
            for block in [1, 7, 480, 4_096, frames] {
                let mut d = Diagnoser::new(ch, 8_000);
                for start in (0..frames).step_by(block) {
                    let span = start * ch..(start + block).min(frames) * ch;
                    d.push(&mix[span.clone()], &sum[span.clone()], &fitted[span]);
                }
                assert!(d.segments.len() > 2, "{ch} channels: too short to test");
                assert_eq!(
                    collected(&d),
                    collected(&reference),
                    "{ch} channels, blocks of {block}"
                );
            }
        }
    }

    #[test]
    fn too_little_audio_gives_no_diagnosis() {
        let mut d = Diagnoser::new(2, 48_000);
        d.push(&[0.1; 200], &[0.0; 200], &[0.0; 200]);
        let out = d.finish(None);
        assert!(out.findings.is_empty() && out.scores.is_none());
    }
}
