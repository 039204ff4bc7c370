//! Diagnosis: *why* the stems do not sum to the mix.
//!
//! A null test that only says "residual at -23 dB" leaves the engineer guessing. This module
//! explains the residual that [`crate::reconcile`] measured, naming the causes of issue 3 and
//! the report contract: `missing_bus_processing` (compression or limiting on the mix bus),
//! `bus_eq` (a linear filter on the mix bus), `missing_fx_return` (reverb/delay returns that no
//! stem carries), `missing_element` (a part no stem carries) and `unexplained_residual`; and it
//! corrects the attribution of `gain_mismatch` when a whole-mix process made every stem look
//! cold.
//!
//! # Method
//!
//! The [`Diagnoser`] sees every aligned block of the reconciliation's streaming pass (it is a
//! [`BlockVisitor`]): the mix, the plain aligned stem sum (unity gains) and the fitted sum
//! (per-stem gains and polarities). It keeps only bounded statistics: a few numbers per 10 ms
//! frame (energies, cross products and peaks; 36 bytes per frame) and, per segment of about
//! 0.7 s, third-octave-band cross spectra of the mix against the plain sum (Hann-windowed FFT,
//! 50 % overlap). Nothing else of the audio is kept.
//!
//! Whole-mix models are tested on the *plain* sum first, because free per-stem gains quietly
//! absorb bus processing (every stem of a compressed mix reads 1-2 dB cold). Competing
//! explanations are nested models compared by two-fold cross-validation (segments of
//! alternating parity; the model is fitted on one fold and scored on the other):
//!
//! - **global gain**: `mix = g * sum` (the reference every other model must beat);
//! - **linear filter** (bus EQ): `mix = H(f) * sum` with one complex gain per third-octave band,
//!   fitted from the cross spectrum (`H = S_sm / S_ss`). Band pooling is the regulariser: an
//!   EQ is smooth in frequency, a reverb's response is not and stays unexplained;
//! - **time-varying gain** (dynamics): `mix = g(t) * sum` on 10 ms frames, where each frame's
//!   gain is predicted from its two neighbours (a compressor's gain moves smoothly; 50 ms
//!   frames cannot follow fast attacks).
//!
//! A model that deepens the cross-validated null by [`DECISIVE_DB`] over the global gain
//! explains the residual. Dynamics are then characterised as limiting (the mix's frame peaks
//! pinned under a ceiling and its crest factor reduced) or compression (gain that falls with
//! the level of the sum), with the gain reduction (typical and maximum) in dB. Flat-topped runs
//! in the mix are counted first, so that a clipped mix is not called a limiter.
//!
//! What no whole-mix model explains is added content, judged on the fitted residual:
//!
//! - an **FX return** is decorrelated between the channels and its energy envelope *trails* the
//!   sum's: a leaky integral of the sum's energy (decay time constant `tau`) predicts it better
//!   than the sum's instantaneous energy does, and it has few onsets of its own. The tail is
//!   reported as RT60 = `tau * ln(10^6)` (energy decay of 60 dB);
//! - a **missing element** has its own onsets, is correlated between the channels (a panned
//!   part) or follows the sum instantaneously; its level and spectrum region are reported.
//!
//! When the evidence points both ways (a wide pad that plays throughout is the hard case), the
//! finding says the evidence is weak and is a warning, not an error.

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

use crate::profile::Profile;
use crate::reconcile::{BlockVisitor, ReconcileResult};
use crate::report::{Finding, FindingCode, Severity};

/// Length of one analysis frame for dynamics and envelopes, in seconds (about 10 ms: 50 ms
/// frames cannot follow a limiter's attack).
pub const FRAME_S: f64 = 0.010;
/// A whole-mix model explains the residual when its cross-validated null is this much deeper
/// than the global-gain model's (3 dB: it removes at least half of the residual energy).
pub const DECISIVE_DB: f64 = 3.0;
/// Residuals (relative to the mix) quieter than this are never diagnosed as errors: renders by
/// different tools, dither and quantisation leave residuals around -50..-70 dB.
pub const QUIET_RESIDUAL_DB: f64 = -40.0;
/// A cause that accounts for a residual louder than this (relative to the mix) is an error.
pub const ERROR_RESIDUAL_DB: f64 = -30.0;
/// Residuals whose band energies follow the sum's at least this closely (see
/// [`ResidualFeatures::spectral_follow`]) are derived from the stems (effects, processing).
const FOLLOW_DERIVED: f64 = 0.5;
/// Below this the residual has a spectrum of its own: a missing part.
const FOLLOW_OWN: f64 = 0.3;
/// A masked whole-mix process must still deepen the cross-validated null by this much...
const MASKED_MIN_GAIN_DB: f64 = 0.5;
/// ...explain at least this share of what its kind of model could explain at all...
const MASKED_SHARE: f64 = 0.6;
/// ...and that room must be this loud relative to the mix (dB).
const MASKED_ROOM_DB: f64 = -25.0;
/// Samples at or above this magnitude in flat runs count as clipped.
const CLIP_LEVEL: f32 = 0.99;
/// FFT frames per spectral segment (segments alternate between the two cross-validation
/// folds).
const SEGMENT_FFT_FRAMES: usize = 16;
/// Third-octave band centres (Hz) used for the transfer-function fit.
const THIRD_OCTAVE_HZ: [f64; 27] = [
    40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0, 500.0, 630.0, 800.0,
    1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0, 8000.0, 10000.0,
    12500.0, 16000.0,
];
/// Octave band centres (Hz) used to report curves and spectra.
const OCTAVE_HZ: [f64; 9] = [
    63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0,
];
/// Decay time constants (energy, seconds) tried for the FX-return envelope model.
const TAUS_S: [f64; 11] = [
    0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.22, 0.33, 0.5, 0.75, 1.0,
];

/// Statistics of one 10 ms frame (sums over all channels).
#[derive(Debug, Clone, Copy, Default)]
struct FrameStat {
    /// Mix energy.
    em: f32,
    /// Plain-sum energy.
    es: f32,
    /// Mix times plain sum.
    ems: f32,
    /// Energy of the fitted residual (mix minus fitted sum).
    er: f32,
    /// Fitted-sum energy.
    ef: f32,
    /// Mix times fitted sum.
    emf: f32,
    /// Peak of the mix.
    pm: f32,
    /// Peak of the plain sum.
    ps: f32,
    /// Flat-topped samples in the mix (clipping).
    clipped: u16,
}

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

/// Band-pooled spectra of one segment (about 0.7 s).
#[derive(Debug, Clone)]
struct Segment {
    /// First mix frame the segment covers.
    start_frame: u64,
    /// One past the last mix frame.
    end_frame: u64,
    /// Per third-octave band: |M|^2, |S|^2, conj(S) M, |R|^2 (fitted residual).
    smm: Vec<f64>,
    sss: Vec<f64>,
    sms: Vec<Complex<f64>>,
    srr: Vec<f64>,
}

impl Segment {
    fn new(bands: usize, start_frame: u64) -> Self {
        Self {
            start_frame,
            end_frame: start_frame,
            smm: vec![0.0; bands],
            sss: vec![0.0; bands],
            sms: vec![Complex::new(0.0, 0.0); bands],
            srr: vec![0.0; bands],
        }
    }
}

/// Collects the statistics of the diagnosis during the reconciliation's streaming pass.
///
/// Build it with the mix's channel count and sample rate, hand it to
/// [`crate::reconcile::reconcile_sources`] as the visitor (or call [`Diagnoser::push`] with
/// aligned blocks yourself), then call [`Diagnoser::finish`] or [`diagnose`].
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
    fft: Arc<dyn RealToComplex<f32>>,
    fft_len: usize,
    hop: usize,
    window: Vec<f32>,
    ring_m: Vec<f32>,
    ring_s: Vec<f32>,
    ring_r: Vec<f32>,
    ring_fill: usize,
    ring_start: u64,
    fft_in: Vec<f32>,
    fft_out_m: Vec<Complex<f32>>,
    fft_out_s: Vec<Complex<f32>>,
    fft_out_r: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// Band index of every FFT bin (`usize::MAX` = outside every band).
    bin_band: Vec<usize>,
    band_hz: Vec<f64>,
    segments: Vec<Segment>,
    seg_frames: usize,
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
        let fft_len = ((sr * 0.085) as usize).next_power_of_two().max(64);
        let hop = fft_len / 2;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(fft_len);
        let window: Vec<f32> = (0..fft_len)
            .map(|i| {
                let x = std::f64::consts::PI * 2.0 * i as f64 / fft_len as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        let df = sr / fft_len as f64;
        let nyquist_limit = 0.45 * sr;
        // Bands: third octaves below 0.45 * rate; a band without a bin is merged upward.
        let mut band_hz = Vec::new();
        let mut bin_band = vec![usize::MAX; fft_len / 2 + 1];
        let mut pending_lo = None;
        for &fc in THIRD_OCTAVE_HZ.iter() {
            let hi = fc * 2f64.powf(1.0 / 6.0);
            if hi > nyquist_limit {
                break;
            }
            let lo = pending_lo.unwrap_or(fc * 2f64.powf(-1.0 / 6.0));
            let k0 = (lo / df).ceil() as usize;
            let k1 = ((hi / df).ceil() as usize).min(bin_band.len());
            if k1 <= k0 {
                pending_lo = Some(lo);
                continue;
            }
            pending_lo = None;
            let b = band_hz.len();
            band_hz.push(fc);
            for slot in &mut bin_band[k0..k1] {
                *slot = b;
            }
        }
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
            ring_fill: 0,
            ring_start: 0,
            fft_in: vec![0.0; fft_len],
            fft_out_m: vec![Complex::new(0.0, 0.0); out_len],
            fft_out_s: vec![Complex::new(0.0, 0.0); out_len],
            fft_out_r: vec![Complex::new(0.0, 0.0); out_len],
            scratch,
            bin_band,
            band_hz,
            segments: Vec::new(),
            seg_frames: 0,
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
        let rel = |e: f64| (total > 0.0 && e > 0.0).then(|| 10.0 * (e / total).log10());
        crate::report::BandSpectrum {
            band_hz: self.band_hz.clone(),
            mix_db: mix.iter().map(|&e| rel(e)).collect(),
            residual_db: res.iter().map(|&e| rel(e)).collect(),
        }
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Feeds one aligned block: `mix`, the plain stem sum and the fitted stem sum, interleaved
    /// with the mix's channel count, all of the same length (extra samples are ignored).
    pub fn push(&mut self, mix: &[f32], sum: &[f32], fitted: &[f32]) {
        let ch = self.channels;
        let n = mix.len().min(sum.len()).min(fitted.len()) / ch;
        for t in 0..n {
            let base = t * ch;
            let (mut mono_m, mut mono_s, mut mono_r) = (0.0f32, 0.0f32, 0.0f32);
            for c in 0..ch {
                let (m, s, f) = (mix[base + c], sum[base + c], fitted[base + c]);
                let r = m - f;
                let acc = &mut self.cur;
                acc.em += f64::from(m * m);
                acc.es += f64::from(s * s);
                acc.ems += f64::from(m * s);
                acc.er += f64::from(r * r);
                acc.ef += f64::from(f * f);
                acc.emf += f64::from(m * f);
                acc.pm = acc.pm.max(m.abs());
                acc.ps = acc.ps.max(s.abs());
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
        for (k, &b) in self.bin_band.iter().enumerate() {
            if b == usize::MAX {
                continue;
            }
            let m = self.fft_out_m[k];
            let s = self.fft_out_s[k];
            let r = self.fft_out_r[k];
            seg.smm[b] += f64::from(m.norm_sqr());
            seg.sss[b] += f64::from(s.norm_sqr());
            let x = s.conj() * m;
            seg.sms[b] += Complex::new(f64::from(x.re), f64::from(x.im));
            seg.srr[b] += f64::from(r.norm_sqr());
        }
        seg.end_frame = self.ring_start + self.fft_len as u64;
        self.seg_frames = (self.seg_frames + 1) % SEGMENT_FFT_FRAMES;
        let hop = self.hop;
        self.ring_m.copy_within(hop.., 0);
        self.ring_s.copy_within(hop.., 0);
        self.ring_r.copy_within(hop.., 0);
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
        analyse(self, frames, &segments)
    }
}

impl BlockVisitor for Diagnoser {
    fn block(&mut self, _frame: u64, mix: &[f32], sum: &[f32], fitted: &[f32]) {
        self.push(mix, sum, fitted);
    }
}

/// Model comparison on the plain sum (cross-validated residual energies relative to the mix).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelScores {
    /// Residual of the plain sum (no gain), relative to the mix, dB.
    pub plain_db: f64,
    /// Cross-validated residual with one global gain, dB re mix (time domain).
    pub gain_db: f64,
    /// Cross-validated residual with a time-varying (10 ms) gain, dB re mix.
    pub dynamics_db: f64,
    /// Cross-validated residual with one global gain, dB re mix (spectral domain).
    pub gain_spectral_db: f64,
    /// Cross-validated residual with a third-octave linear filter, dB re mix.
    pub filter_db: f64,
    /// How much deeper the time-varying gain nulls than the global gain, dB.
    pub dynamics_gain_db: f64,
    /// How much deeper the linear filter nulls than the global gain, dB.
    pub filter_gain_db: f64,
    /// How much deeper a gain that depends on the sum's level (a compressor's static curve,
    /// see `level_model`) nulls than the global gain, dB.
    pub level_gain_db: f64,
    /// Share (0..1) of what *any* per-frame gain could explain (in-sample bound) that the
    /// cross-validated time-varying gain explains. Added content (a missing part) masks
    /// dynamics in `dynamics_gain_db`, not here.
    pub dynamics_share: f64,
    /// What any per-frame gain could explain beyond the global gain, dB re mix.
    pub dynamics_room_db: f64,
    /// Share (0..1) of the coherent misfit (what any per-band filter could explain, in-sample)
    /// that the cross-validated filter explains. A reverb masks an EQ in `filter_gain_db`
    /// (its energy is incoherent), not here.
    pub filter_share: f64,
    /// What any per-band filter could explain beyond the global gain, dB re mix.
    pub filter_room_db: f64,
}

/// Features of the fitted residual that tell added content apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResidualFeatures {
    /// Fitted residual relative to the mix, dB.
    pub level_db: f64,
    /// Correlation of the residual's left and right channels (None for mono).
    pub interchannel_correlation: Option<f64>,
    /// The same for the plain stem sum, for reference.
    pub sum_interchannel_correlation: Option<f64>,
    /// Energy decay time constant whose leaky integral of the sum's envelope best predicts the
    /// residual's envelope, s.
    pub tau_s: f64,
    /// Correlation (log envelopes) at that time constant.
    pub trail_correlation: f64,
    /// Correlation (log envelopes) with the sum's instantaneous envelope.
    pub instant_correlation: f64,
    /// Correlation with the sum's envelope integrated *backwards* at the same time constant
    /// (a reverb trails the sum, so this stays below `trail_correlation`).
    pub backwards_correlation: f64,
    /// How closely the residual's band energies follow the sum's from segment to segment
    /// (log energies, band and segment means removed): an effect return plays the stems'
    /// notes, a missing part its own.
    pub spectral_follow: f64,
    /// Residual onsets per second.
    pub onsets_per_s: f64,
    /// Share of the residual's onsets with no onset of the sum next to them.
    pub own_onset_share: f64,
}

/// The diagnosis: the numbers and the findings they support.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    pub scores: Option<ModelScores>,
    pub residual: Option<ResidualFeatures>,
    /// Findings, strongest cause first.
    pub findings: Vec<Finding>,
}

fn db(x: f64) -> f64 {
    10.0 * x.max(1e-30).log10()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 3 {
        return 0.0;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (a, b) = (x[i] - mx, y[i] - my);
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Which of two folds a frame belongs to: alternating blocks of ~0.7 s.
fn fold_of(frame_index: usize) -> usize {
    (frame_index / 70) % 2
}

/// Cross-validated residual energies of the global-gain and the time-varying-gain models on
/// 10 ms frames. Returns `(e_mix, e_plain, e_gain_cv, e_dynamics_cv)`.
fn time_models(frames: &[FrameStat]) -> (f64, f64, f64, f64) {
    let mut c = [0.0f64; 2];
    let mut e = [0.0f64; 2];
    let (mut em, mut plain) = (0.0, 0.0);
    for (i, f) in frames.iter().enumerate() {
        let k = fold_of(i);
        c[k] += f64::from(f.ems);
        e[k] += f64::from(f.es);
        em += f64::from(f.em);
        plain += f64::from(f.em) - 2.0 * f64::from(f.ems) + f64::from(f.es);
    }
    let g = [
        if e[1] > 0.0 { c[1] / e[1] } else { 1.0 },
        if e[0] > 0.0 { c[0] / e[0] } else { 1.0 },
    ];
    let (mut gain_cv, mut dyn_cv) = (0.0, 0.0);
    for (i, f) in frames.iter().enumerate() {
        let (m, s, x) = (f64::from(f.em), f64::from(f.es), f64::from(f.ems));
        let gk = g[fold_of(i)];
        gain_cv += (m - 2.0 * gk * x + gk * gk * s).max(0.0);
        // The frame's gain predicted from its neighbours only.
        let (mut nc, mut ne) = (0.0, 0.0);
        if i > 0 {
            nc += f64::from(frames[i - 1].ems);
            ne += f64::from(frames[i - 1].es);
        }
        if i + 1 < frames.len() {
            nc += f64::from(frames[i + 1].ems);
            ne += f64::from(frames[i + 1].es);
        }
        let gt = if ne > 1e-12 * (s + 1e-30) && ne > 0.0 {
            nc / ne
        } else {
            gk
        };
        dyn_cv += (m - 2.0 * gt * x + gt * gt * s).max(0.0);
    }
    (em, plain.max(0.0), gain_cv, dyn_cv)
}

/// Width of the level bins of [`level_model`], dB.
const LEVEL_BIN_DB: f64 = 2.0;

/// Cross-validated residual energy of a gain that is a function of the plain sum's level:
/// `mix = G(level(t)) * sum` on 10 ms frames, `G` one gain per 2 dB bin of the sum's
/// level (smoothed over `smooth` frames either side, a compressor's detector), fitted on one
/// fold and scored on the other. A compressor's static curve is such a function; a linear
/// filter is not (it changes the gain with the spectrum, not the level), so this is the
/// nested model that tells bus compression from a flat-looking bus EQ.
fn level_model(frames: &[FrameStat], smooth: usize) -> f64 {
    let n = frames.len();
    let max_es = frames.iter().map(|f| f.es).fold(0.0f32, f32::max);
    let floor = f64::from(max_es) * 1e-6;
    let level: Vec<Option<i64>> = (0..n)
        .map(|i| {
            let lo = i.saturating_sub(smooth);
            let hi = (i + smooth + 1).min(n);
            let e = frames[lo..hi].iter().map(|f| f64::from(f.es)).sum::<f64>() / (hi - lo) as f64;
            (e > floor).then(|| (db(e) / LEVEL_BIN_DB).floor() as i64)
        })
        .collect();
    // Per fold and bin: sum of mix x sum and of sum energy; and the fold's global gain.
    let mut bins: [std::collections::BTreeMap<i64, (f64, f64)>; 2] = Default::default();
    let mut global = [(0.0f64, 0.0f64); 2];
    for (i, f) in frames.iter().enumerate() {
        let k = fold_of(i);
        global[k].0 += f64::from(f.ems);
        global[k].1 += f64::from(f.es);
        if let Some(b) = level[i] {
            let e = bins[k].entry(b).or_default();
            e.0 += f64::from(f.ems);
            e.1 += f64::from(f.es);
        }
    }
    let mut e_cv = 0.0;
    for (i, f) in frames.iter().enumerate() {
        let o = 1 - fold_of(i);
        let g_global = if global[o].1 > 0.0 {
            global[o].0 / global[o].1
        } else {
            1.0
        };
        // A bin the other fold barely saw falls back on the global gain.
        let g = level[i]
            .and_then(|b| bins[o].get(&b))
            .filter(|(_, e)| *e > 1e-3 * global[o].1)
            .map_or(g_global, |(c, e)| c / e);
        let (m, s, x) = (f64::from(f.em), f64::from(f.es), f64::from(f.ems));
        e_cv += (m - 2.0 * g * x + g * g * s).max(0.0);
    }
    e_cv
}

/// Cross-validated residual energies (spectral domain) of the global gain and of the band
/// filter. Returns `(e_mix, e_gain_cv, e_filter_cv, band gains (complex, all data), band
/// coherence)`.
#[allow(clippy::type_complexity)]
fn spectral_models(
    segments: &[&Segment],
    bands: usize,
) -> (f64, f64, f64, Vec<Complex<f64>>, Vec<f64>) {
    let mut smm = [vec![0.0; bands], vec![0.0; bands]];
    let mut sss = [vec![0.0; bands], vec![0.0; bands]];
    let mut sms = [
        vec![Complex::new(0.0, 0.0); bands],
        vec![Complex::new(0.0, 0.0); bands],
    ];
    for (j, s) in segments.iter().enumerate() {
        let k = j % 2;
        for b in 0..bands {
            smm[k][b] += s.smm[b];
            sss[k][b] += s.sss[b];
            sms[k][b] += s.sms[b];
        }
    }
    let resid = |mm: f64, ss: f64, ms: Complex<f64>, h: Complex<f64>| {
        (mm - 2.0 * (h.conj() * ms).re + h.norm_sqr() * ss).max(0.0)
    };
    let (mut e_mix, mut e_gain, mut e_filter) = (0.0, 0.0, 0.0);
    for k in 0..2 {
        let o = 1 - k; // fit on fold o, score on fold k
        let (ss_o, ms_o): (f64, f64) = (sss[o].iter().sum(), sms[o].iter().map(|x| x.re).sum());
        let g = if ss_o > 0.0 { ms_o / ss_o } else { 1.0 };
        for b in 0..bands {
            e_mix += smm[k][b];
            e_gain += resid(smm[k][b], sss[k][b], sms[k][b], Complex::new(g, 0.0));
            let h = if sss[o][b] > 0.0 {
                sms[o][b] / sss[o][b]
            } else {
                Complex::new(g, 0.0)
            };
            e_filter += resid(smm[k][b], sss[k][b], sms[k][b], h);
        }
    }
    let mut h_all = Vec::with_capacity(bands);
    let mut coherence = Vec::with_capacity(bands);
    for b in 0..bands {
        let (mm, ss, ms) = (
            smm[0][b] + smm[1][b],
            sss[0][b] + sss[1][b],
            sms[0][b] + sms[1][b],
        );
        h_all.push(if ss > 0.0 {
            ms / ss
        } else {
            Complex::new(0.0, 0.0)
        });
        coherence.push(if mm > 0.0 && ss > 0.0 {
            ms.norm_sqr() / (mm * ss)
        } else {
            0.0
        });
    }
    (e_mix, e_gain, e_filter, h_all, coherence)
}

/// Dynamics details: gain reduction and how it depends on level.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dynamics {
    gr_typical_db: f64,
    gr_max_db: f64,
    /// Mix/sum gain of the quietest quarter of the frames (the compressor's make-up or the
    /// gain below threshold), dB.
    quiet_gain_db: f64,
    /// dB of gain change per dB of sum level (negative = compression).
    slope_db_per_db: f64,
    /// Share of loud frames whose mix peak sits within 0.5 dB of the mix's highest peak.
    pinned_share: f64,
    /// Crest factor (peak to RMS) of the sum minus that of the mix, dB.
    crest_drop_db: f64,
    ceiling_dbfs: f64,
    clipped_frames: usize,
}

fn dynamics(frames: &[FrameStat]) -> Dynamics {
    let n = frames.len();
    let mut levels = Vec::new();
    let mut gains = Vec::new();
    let peak_s = frames.iter().map(|f| f.ps).fold(0.0f32, f32::max);
    let peak_m = frames.iter().map(|f| f.pm).fold(0.0f32, f32::max);
    let max_es = frames.iter().map(|f| f.es).fold(0.0f32, f32::max);
    let floor = f64::from(max_es) * 1e-5; // 50 dB under the loudest frame
    for i in 0..n {
        let lo = i.saturating_sub(1);
        let hi = (i + 2).min(n);
        let (mut c, mut e) = (0.0f64, 0.0f64);
        for f in &frames[lo..hi] {
            c += f64::from(f.ems);
            e += f64::from(f.es);
        }
        let f = frames[i];
        if f64::from(f.es) <= floor || c <= 0.0 || f.clipped > 0 {
            continue;
        }
        levels.push(db(f64::from(f.es)));
        gains.push(20.0 * (c / e).log10());
    }
    let (mut gr_typical, mut gr_max, mut slope, mut quiet_gain) = (0.0, 0.0, 0.0, 0.0);
    if levels.len() >= 20 {
        let mut sorted = levels.clone();
        let q25 = percentile(&mut sorted, 0.25);
        let q75 = percentile(&mut sorted, 0.75);
        let mut quiet: Vec<f64> = levels
            .iter()
            .zip(&gains)
            .filter(|(l, _)| **l <= q25)
            .map(|(_, g)| *g)
            .collect();
        let reference = percentile(&mut quiet, 0.5);
        quiet_gain = reference;
        let mut loud_gr: Vec<f64> = levels
            .iter()
            .zip(&gains)
            .filter(|(l, _)| **l >= q75)
            .map(|(_, g)| reference - g)
            .collect();
        gr_typical = percentile(&mut loud_gr, 0.5);
        let mut all_gr: Vec<f64> = gains.iter().map(|g| reference - g).collect();
        gr_max = percentile(&mut all_gr, 0.99);
        let ml = levels.iter().sum::<f64>() / levels.len() as f64;
        let mg = gains.iter().sum::<f64>() / gains.len() as f64;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (l, g) in levels.iter().zip(&gains) {
            sxy += (l - ml) * (g - mg);
            sxx += (l - ml) * (l - ml);
        }
        // Levels are energies in dB (10 log10), gains amplitude dB: both in dB.
        slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    }
    let loud: Vec<&FrameStat> = frames
        .iter()
        .filter(|f| f.pm > peak_m * 0.5 && f.em > 0.0)
        .collect();
    let near = peak_m * 10f32.powf(-0.5 / 20.0);
    let pinned = loud.iter().filter(|f| f.pm >= near).count();
    let pinned_share = if loud.is_empty() {
        0.0
    } else {
        pinned as f64 / loud.len() as f64
    };
    let (em, es): (f64, f64) = frames.iter().fold((0.0, 0.0), |(a, b), f| {
        (a + f64::from(f.em), b + f64::from(f.es))
    });
    let crest =
        |peak: f32, e: f64| 20.0 * f64::from(peak.max(1e-30)).log10() - db(e / n.max(1) as f64);
    Dynamics {
        gr_typical_db: gr_typical,
        gr_max_db: gr_max,
        quiet_gain_db: quiet_gain,
        slope_db_per_db: slope,
        pinned_share,
        crest_drop_db: crest(peak_s, es) - crest(peak_m, em),
        ceiling_dbfs: 20.0 * f64::from(peak_m.max(1e-30)).log10(),
        clipped_frames: frames.iter().filter(|f| f.clipped > 0).count(),
    }
}

/// Frames per window of [`level_ride`] (250 ms: long enough that added content uncorrelated
/// with the stems averages out of the cross product, short enough to follow a compressor's
/// release).
const RIDE_WINDOW_FRAMES: usize = 25;

/// How the gain the stems enter the mix with rides the mix's level, on 250 ms windows.
///
/// When a part or a return that no stem carries dominates the residual, the null-depth models
/// of [`time_models`] and [`level_model`] cannot show a bus compressor: whatever the gain does,
/// the missing part's energy stays in the residual. The gain itself is still measurable: the
/// regression gain `sum(mix x fitted) / sum(fitted^2)` over a window is unbiased by content
/// that is uncorrelated with the stems, and a compressor that the missing part also drives
/// makes it fall as the *mix* gets louder. Two checks keep this honest: the windows' gains
/// measured on the even and on the odd 10 ms frames must agree (the movement is reproducible,
/// not noise from the added content), and the gain must fall with the mix level.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct LevelRide {
    windows: usize,
    /// Correlation of the window gains measured on even and on odd frames.
    reproducibility: f64,
    /// Correlation of window gain (dB) with the window's level (dB): the mix's or the
    /// stems', whichever the gain falls with more clearly.
    level_correlation: f64,
    /// dB of gain change per dB of that level.
    slope_db_per_db: f64,
    /// Standard deviation of the window gains, dB.
    spread_db: f64,
    /// Median gain of the quietest quarter of the windows minus that of the loudest quarter.
    gr_typical_db: f64,
    /// 99th percentile of the gain drop below the quiet passages' gain.
    gr_max_db: f64,
    /// Energy the moving gain accounts for (its deviation from the mean gain), dB re mix.
    moving_db: f64,
}

impl LevelRide {
    /// A bus compressor, even under added content.
    fn holds(&self) -> bool {
        self.windows >= 20
            && self.reproducibility >= 0.7
            && self.level_correlation <= -0.4
            && self.slope_db_per_db <= -0.05
            && self.spread_db >= 0.25
    }
}

fn level_ride(frames: &[FrameStat]) -> LevelRide {
    struct Win {
        mix_db: f64,
        gain_db: f64,
        even_db: f64,
        odd_db: f64,
        gain: f64,
        ef: f64,
    }
    let mut wins: Vec<Win> = Vec::new();
    let chunks: Vec<&[FrameStat]> = frames.chunks_exact(RIDE_WINDOW_FRAMES).collect();
    let ef_of = |c: &[FrameStat]| c.iter().map(|f| f64::from(f.ef)).sum::<f64>();
    let max_ef = chunks.iter().map(|c| ef_of(c)).fold(0.0, f64::max);
    let em_total: f64 = frames.iter().map(|f| f64::from(f.em)).sum();
    for c in &chunks {
        let ef = ef_of(c);
        if ef <= max_ef * 1e-4 {
            continue;
        }
        let half = |parity: usize| {
            c.iter()
                .skip(parity)
                .step_by(2)
                .fold((0.0f64, 0.0f64), |(x, e), f| {
                    (x + f64::from(f.emf), e + f64::from(f.ef))
                })
        };
        let (xe, ee) = half(0);
        let (xo, eo) = half(1);
        let x: f64 = c.iter().map(|f| f64::from(f.emf)).sum();
        let em: f64 = c.iter().map(|f| f64::from(f.em)).sum();
        if xe <= 0.0 || xo <= 0.0 || ee <= 0.0 || eo <= 0.0 || x <= 0.0 || em <= 0.0 {
            continue;
        }
        wins.push(Win {
            mix_db: db(em),
            gain_db: 20.0 * (x / ef).log10(),
            even_db: 20.0 * (xe / ee).log10(),
            odd_db: 20.0 * (xo / eo).log10(),
            gain: x / ef,
            ef,
        });
    }
    let n = wins.len();
    if n < 3 || em_total <= 0.0 {
        return LevelRide {
            windows: n,
            ..LevelRide::default()
        };
    }
    let col = |f: fn(&Win) -> f64| wins.iter().map(f).collect::<Vec<f64>>();
    let (mix_level, stem_level, gain, even, odd) = (
        col(|w| w.mix_db),
        col(|w| db(w.ef)),
        col(|w| w.gain_db),
        col(|w| w.even_db),
        col(|w| w.odd_db),
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let mg = mean(&gain);
    let syy: f64 = gain.iter().map(|g| (g - mg) * (g - mg)).sum();
    // (covariance, level variance) of the gain against a level.
    let against = |level: &[f64]| {
        let ml = mean(level);
        level
            .iter()
            .zip(&gain)
            .fold((0.0, 0.0), |(xy, xx), (l, g)| {
                (xy + (l - ml) * (g - mg), xx + (l - ml) * (l - ml))
            })
    };
    let corr_of = |(sxy, sxx): (f64, f64)| {
        if sxx > 0.0 && syy > 0.0 {
            sxy / (sxx * syy).sqrt()
        } else {
            0.0
        }
    };
    // The compressor's detector hears the whole mix: when the missing part dominates, the
    // gain follows the mix level; when the mix is squashed flat, it follows the stems' level.
    let (by_mix, by_stems) = (against(&mix_level), against(&stem_level));
    let (level, (sxy, sxx)) = if corr_of(by_mix) <= corr_of(by_stems) {
        (mix_level, by_mix)
    } else {
        (stem_level, by_stems)
    };
    let mut sorted = level.clone();
    let q25 = percentile(&mut sorted, 0.25);
    let q75 = percentile(&mut sorted, 0.75);
    let pick = |keep: &dyn Fn(f64) -> bool| -> Vec<f64> {
        level
            .iter()
            .zip(&gain)
            .filter(|(l, _)| keep(**l))
            .map(|(_, g)| *g)
            .collect()
    };
    let reference = percentile(&mut pick(&|l| l <= q25), 0.5);
    let loud = percentile(&mut pick(&|l| l >= q75), 0.5);
    let mut drops: Vec<f64> = gain.iter().map(|g| reference - g).collect();
    let (x_all, e_all) = wins
        .iter()
        .fold((0.0, 0.0), |(x, e), w| (x + w.gain * w.ef, e + w.ef));
    let g_mean = x_all / e_all;
    let moving: f64 = wins.iter().map(|w| (w.gain - g_mean).powi(2) * w.ef).sum();
    LevelRide {
        windows: n,
        reproducibility: correlation(&even, &odd),
        level_correlation: corr_of((sxy, sxx)),
        slope_db_per_db: if sxx > 0.0 { sxy / sxx } else { 0.0 },
        spread_db: (syy / n as f64).sqrt(),
        gr_typical_db: reference - loud,
        gr_max_db: percentile(&mut drops, 0.99),
        moving_db: db(moving.max(1e-300) / em_total),
    }
}

/// Onsets of an energy envelope (per 10 ms frame): a rise of more than 6 dB over 20 ms,
/// at most 40 dB under the envelope's maximum, at least 50 ms after the previous one.
fn onsets(env: &[f64]) -> Vec<usize> {
    let max = env.iter().copied().fold(0.0, f64::max);
    let floor = max * 1e-4;
    let mut out: Vec<usize> = Vec::new();
    for t in 2..env.len() {
        let before = env[t - 2].max(env[t - 1] * 0.5).max(floor * 0.1);
        if env[t] > floor && env[t] > 4.0 * before && out.last().is_none_or(|&p| t - p >= 5) {
            out.push(t);
        }
    }
    out
}

/// The same integration run backwards in time: what a part that *anticipates* the sum would
/// look like. A reverb follows the sum causally; a sustained part correlates both ways.
fn leaky_backwards(env: &[f64], tau_s: f64) -> Vec<f64> {
    let mut rev: Vec<f64> = env.iter().rev().copied().collect();
    rev = leaky(&rev, tau_s);
    rev.reverse();
    rev
}

/// Leaky integration of an envelope with an energy time constant of `tau_s`.
fn leaky(env: &[f64], tau_s: f64) -> Vec<f64> {
    let a = (-FRAME_S / tau_s).exp();
    let mut y = 0.0;
    env.iter()
        .map(|&x| {
            y = a * y + (1.0 - a) * x;
            y
        })
        .collect()
}

/// See [`ResidualFeatures::spectral_follow`].
fn spectral_follow(d: &Diagnoser, segments: &[&Segment]) -> f64 {
    let bands = d.band_hz.len();
    let n = segments.len();
    if n < 4 || bands < 4 {
        return 0.0;
    }
    let tot_r: f64 = segments.iter().flat_map(|s| s.srr.iter()).sum::<f64>() / (n * bands) as f64;
    let tot_s: f64 = segments.iter().flat_map(|s| s.sss.iter()).sum::<f64>() / (n * bands) as f64;
    let centred = |get: &dyn Fn(&Segment, usize) -> f64, eps: f64| -> Vec<f64> {
        let mut x: Vec<f64> = Vec::with_capacity(n * bands);
        for s in segments {
            for b in 0..bands {
                x.push((get(s, b) + eps).ln());
            }
        }
        let mut band_mean = vec![0.0; bands];
        for j in 0..n {
            for b in 0..bands {
                band_mean[b] += x[j * bands + b] / n as f64;
            }
        }
        for j in 0..n {
            let seg_mean: f64 = (0..bands)
                .map(|b| x[j * bands + b] - band_mean[b])
                .sum::<f64>()
                / bands as f64;
            for b in 0..bands {
                x[j * bands + b] -= band_mean[b] + seg_mean;
            }
        }
        x
    };
    let r = centred(&|s, b| s.srr[b], tot_r * 1e-3 + 1e-30);
    let s = centred(&|s, b| s.sss[b], tot_s * 1e-3 + 1e-30);
    correlation(&r, &s)
}

fn residual_features(
    d: &Diagnoser,
    frames: &[FrameStat],
    segments: &[&Segment],
) -> ResidualFeatures {
    let em: f64 = frames.iter().map(|f| f64::from(f.em)).sum();
    let er: f64 = frames.iter().map(|f| f64::from(f.er)).sum();
    let corr_of = |a: [f64; 3]| (a[0] > 0.0 && a[1] > 0.0).then(|| a[2] / (a[0] * a[1]).sqrt());
    let (ic, sic) = if d.channels >= 2 {
        (corr_of(d.res_lr), corr_of(d.sum_lr))
    } else {
        (None, None)
    };
    let res: Vec<f64> = frames.iter().map(|f| f64::from(f.er)).collect();
    let sum: Vec<f64> = frames.iter().map(|f| f64::from(f.es)).collect();
    let mix_max = frames.iter().map(|f| f64::from(f.em)).fold(0.0, f64::max);
    // Judge envelopes where the mix plays (within 60 dB of its loudest frame).
    let active: Vec<usize> = (0..frames.len())
        .filter(|&i| f64::from(frames[i].em) > mix_max * 1e-6)
        .collect();
    let eps_r = (er / frames.len().max(1) as f64) * 1e-3 + 1e-20;
    let eps_s = (sum.iter().sum::<f64>() / frames.len().max(1) as f64) * 1e-3 + 1e-20;
    let log_res: Vec<f64> = active.iter().map(|&i| (res[i] + eps_r).ln()).collect();
    let log_env =
        |env: &[f64]| -> Vec<f64> { active.iter().map(|&i| (env[i] + eps_s).ln()).collect() };
    let instant = correlation(&log_res, &log_env(&sum));
    let (mut best_tau, mut best, mut backwards) = (0.0, instant, instant);
    for &tau in &TAUS_S {
        let c = correlation(&log_res, &log_env(&leaky(&sum, tau)));
        if c > best {
            best = c;
            best_tau = tau;
        }
    }
    if best_tau > 0.0 {
        backwards = correlation(&log_res, &log_env(&leaky_backwards(&sum, best_tau)));
    }
    let res_on = onsets(&res);
    let sum_on = onsets(&sum);
    let own = res_on
        .iter()
        .filter(|&&t| !sum_on.iter().any(|&s| s + 3 >= t && s <= t + 2))
        .count();
    let seconds = frames.len() as f64 * FRAME_S;
    ResidualFeatures {
        level_db: db(er / em.max(1e-30)),
        interchannel_correlation: ic,
        sum_interchannel_correlation: sic,
        tau_s: best_tau,
        trail_correlation: best,
        instant_correlation: instant,
        backwards_correlation: backwards,
        spectral_follow: spectral_follow(d, segments),
        onsets_per_s: if seconds > 0.0 {
            res_on.len() as f64 / seconds
        } else {
            0.0
        },
        own_onset_share: if res_on.is_empty() {
            0.0
        } else {
            own as f64 / res_on.len() as f64
        },
    }
}

/// Octave-band levels of the fitted residual (dB relative to its loudest band), the
/// frequencies under which 10 % and 90 % of its energy lie, and its centroid.
fn residual_spectrum(d: &Diagnoser, segments: &[&Segment]) -> (Vec<(f64, f64)>, f64, f64, f64) {
    let bands = d.band_hz.len();
    let mut srr = vec![0.0f64; bands];
    for s in segments {
        for (a, x) in srr.iter_mut().zip(&s.srr) {
            *a += x;
        }
    }
    let total: f64 = srr.iter().sum();
    let mut octave = Vec::new();
    for &fc in &OCTAVE_HZ {
        let (lo, hi) = (fc / 2f64.sqrt(), fc * 2f64.sqrt());
        let e: f64 = (0..bands)
            .filter(|&b| d.band_hz[b] >= lo && d.band_hz[b] < hi)
            .map(|b| srr[b])
            .sum();
        if (0..bands).any(|b| d.band_hz[b] >= lo && d.band_hz[b] < hi) {
            octave.push((fc, e));
        }
    }
    let max = octave.iter().map(|x| x.1).fold(0.0, f64::max);
    let octave = octave
        .into_iter()
        .map(|(f, e)| (f, round1(db(e / max.max(1e-30)))))
        .collect();
    let (mut acc, mut f10, mut f90, mut centroid) = (0.0, 0.0, 0.0, 0.0);
    for (&e, &hz) in srr.iter().zip(&d.band_hz) {
        let prev = acc;
        acc += e;
        if prev < 0.1 * total && acc >= 0.1 * total {
            f10 = hz;
        }
        if prev < 0.9 * total && acc >= 0.9 * total {
            f90 = hz;
        }
        centroid += e * hz.ln();
    }
    let centroid = if total > 0.0 {
        (centroid / total).exp()
    } else {
        0.0
    };
    (octave, f10, f90, centroid)
}

/// Band gains averaged into octave bands (dB), with the mean coherence of each.
fn octave_curve(
    d: &Diagnoser,
    h: &[Complex<f64>],
    coh: &[f64],
    segments: &[&Segment],
) -> Vec<(f64, f64, f64)> {
    let bands = d.band_hz.len();
    let mut weight = vec![0.0f64; bands];
    for s in segments {
        for (w, x) in weight.iter_mut().zip(&s.sss) {
            *w += x;
        }
    }
    let mut out = Vec::new();
    for &fc in &OCTAVE_HZ {
        let (lo, hi) = (fc / 2f64.sqrt(), fc * 2f64.sqrt());
        let (mut g2, mut w, mut c) = (0.0, 0.0, 0.0);
        for b in (0..bands).filter(|&b| d.band_hz[b] >= lo && d.band_hz[b] < hi) {
            g2 += h[b].norm_sqr() * weight[b];
            c += coh[b] * weight[b];
            w += weight[b];
        }
        if w > 0.0 {
            out.push((fc, round1(db(g2 / w)), round2(c / w)));
        }
    }
    out
}

fn analyse(d: &Diagnoser, frames: &[FrameStat], segments: &[&Segment]) -> Diagnosis {
    let em: f64 = frames.iter().map(|f| f64::from(f.em)).sum();
    if frames.len() < 50 || em <= 0.0 {
        return Diagnosis {
            scores: None,
            residual: None,
            findings: Vec::new(),
        };
    }
    let (e_mix, e_plain, e_gain, e_dyn) = time_models(frames);
    let bands = d.band_hz.len();
    let (s_mix, s_gain, s_filter, h, coh) = spectral_models(segments, bands);
    let have_spectra = segments.len() >= 2 && s_mix > 0.0;
    let scores = ModelScores {
        plain_db: db(e_plain / e_mix),
        gain_db: db(e_gain / e_mix),
        dynamics_db: db(e_dyn / e_mix),
        gain_spectral_db: if have_spectra {
            db(s_gain / s_mix)
        } else {
            0.0
        },
        filter_db: if have_spectra {
            db(s_filter / s_mix)
        } else {
            0.0
        },
        dynamics_gain_db: db(e_gain / e_dyn.max(1e-30)),
        filter_gain_db: if have_spectra {
            db(s_gain / s_filter.max(1e-30))
        } else {
            0.0
        },
        level_gain_db: {
            // The detector's smoothing is unknown: instantaneous, ~50 ms and ~110 ms.
            let e_level = [0, 2, 5]
                .iter()
                .map(|&w| level_model(frames, w))
                .fold(f64::INFINITY, f64::min);
            db(e_gain / e_level.max(1e-30))
        },
        dynamics_share: 0.0,
        dynamics_room_db: -300.0,
        filter_share: 0.0,
        filter_room_db: -300.0,
    };
    // In-sample bounds: the best any per-frame gain / per-band filter could do.
    let frame_floor: f64 = frames
        .iter()
        .map(|f| {
            let (m, e, c) = (f64::from(f.em), f64::from(f.es), f64::from(f.ems));
            if e > 0.0 { (m - c * c / e).max(0.0) } else { m }
        })
        .sum();
    let mut band_floor = 0.0;
    for b in 0..bands {
        let (mut mm, mut ss, mut ms) = (0.0, 0.0, Complex::new(0.0, 0.0));
        for seg in segments {
            mm += seg.smm[b];
            ss += seg.sss[b];
            ms += seg.sms[b];
        }
        band_floor += if ss > 0.0 {
            (mm - ms.norm_sqr() / ss).max(0.0)
        } else {
            mm
        };
    }
    let share = |gain: f64, model: f64, floor: f64| {
        if gain > floor {
            ((gain - model) / (gain - floor)).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let scores = ModelScores {
        dynamics_share: share(e_gain, e_dyn, frame_floor),
        dynamics_room_db: db((e_gain - frame_floor).max(0.0) / e_mix),
        filter_share: if have_spectra {
            share(s_gain, s_filter, band_floor)
        } else {
            0.0
        },
        filter_room_db: if have_spectra {
            db((s_gain - band_floor).max(0.0) / s_mix)
        } else {
            -300.0
        },
        ..scores
    };
    let features = residual_features(d, frames, segments);
    Diagnosis {
        scores: Some(scores),
        residual: Some(features),
        findings: explain(d, frames, segments, &scores, &features, &h, &coh),
    }
}

/// One candidate cause with the residual energy (relative to the mix) it accounts for.
struct Cause {
    share_db: f64,
    finding: Finding,
}

fn explain(
    d: &Diagnoser,
    frames: &[FrameStat],
    segments: &[&Segment],
    s: &ModelScores,
    r: &ResidualFeatures,
    h: &[Complex<f64>],
    coh: &[f64],
) -> Vec<Finding> {
    // The residual to explain: the global-gain residual (a pure gain is the reconciliation's
    // business). Quieter than QUIET_RESIDUAL_DB it is render noise, dither or quantisation.
    // When the per-stem fit leaves only a quiet residual, the reconciliation's own findings
    // (offsets, gains, polarity) explain everything.
    let residual_db = s.gain_db.max(r.level_db.min(s.gain_db + 1.0));
    if residual_db <= QUIET_RESIDUAL_DB || r.level_db <= QUIET_RESIDUAL_DB {
        return Vec::new();
    }
    let severity_for = |share_db: f64, strong: bool| {
        if strong && share_db > ERROR_RESIDUAL_DB {
            Severity::Error
        } else if share_db > QUIET_RESIDUAL_DB {
            Severity::Warning
        } else {
            Severity::Info
        }
    };
    let mut causes: Vec<Cause> = Vec::new();
    // Nested models: a gain that falls with the level of the sum is what a compressor does and
    // what no linear filter can do (heavy compression of bass-heavy loud passages otherwise
    // reads as a flat "EQ" plus cold stems). When the level model deepens the null decisively
    // and its gain falls with level, dynamics win unless the filter beats them decisively.
    let falls_with_level =
        s.level_gain_db >= DECISIVE_DB && dynamics(frames).slope_db_per_db < -0.02;
    let dyn_score = if falls_with_level {
        s.dynamics_gain_db.max(s.level_gain_db) + DECISIVE_DB
    } else {
        s.dynamics_gain_db
    };
    let dyn_decisive =
        (s.dynamics_gain_db >= DECISIVE_DB || falls_with_level) && dyn_score >= s.filter_gain_db;
    let eq_decisive = s.filter_gain_db >= DECISIVE_DB && s.filter_gain_db > dyn_score;
    // Masked: added content hides a whole-mix process in the total residual, but the process
    // still explains most of what a model of its kind could explain at all.
    let masked = |gain_db: f64, share: f64, room_db: f64| {
        gain_db >= MASKED_MIN_GAIN_DB && share >= MASKED_SHARE && room_db > MASKED_ROOM_DB
    };
    let dyn_masked = !dyn_decisive
        && !eq_decisive
        && masked(s.dynamics_gain_db, s.dynamics_share, s.dynamics_room_db)
        && s.dynamics_gain_db >= s.filter_gain_db;
    let eq_masked = !dyn_decisive
        && !eq_decisive
        && masked(s.filter_gain_db, s.filter_share, s.filter_room_db)
        && s.filter_gain_db > dyn_score;
    // Masked harder still: a part no stem carries dominates the residual, so no gain model
    // deepens the null, but the gain the stems enter with falls reproducibly as the mix gets
    // louder (see `level_ride`).
    let ride = level_ride(frames);
    let dyn_rides = !dyn_decisive && !eq_decisive && !dyn_masked && !eq_masked && ride.holds();
    let dyn_wins = dyn_decisive || dyn_masked || dyn_rides;
    let eq_wins = eq_decisive || eq_masked;
    // Residual energy left after the best whole-mix model, relative to the mix.
    let mut left_db = s.gain_db;

    if dyn_wins {
        let dy = dynamics(frames);
        // The better of the two dynamics models (neighbour-predicted or level-dependent gain).
        let with_dynamics_db = s.dynamics_db.min(s.gain_db - s.level_gain_db);
        let explained_db = if dyn_rides {
            ride.moving_db
        } else {
            db(10f64.powf(s.gain_db / 10.0) - 10f64.powf(with_dynamics_db / 10.0))
        };
        if !dyn_rides {
            left_db = with_dynamics_db;
        }
        // Under added content the per-frame gains of `dynamics` are noisy; the windows'
        // regression gains are not.
        let (gr_typical_db, gr_max_db) = if dyn_rides {
            (ride.gr_typical_db, ride.gr_max_db)
        } else {
            (dy.gr_typical_db, dy.gr_max_db)
        };
        let clipped = dy.clipped_frames > 0 && dy.clipped_frames * 200 > frames.len();
        let limiting = dy.pinned_share > 0.05 && dy.crest_drop_db > 1.0;
        let (kind, message, fix) = if clipped {
            (
                "clipping",
                format!(
                    "The mix is clipped: {} frames hold flat-topped runs, which the stems do not have.",
                    dy.clipped_frames
                ),
                "Lower the mix-bus level or the clipper before the export, or export the stems through the same clipping stage.",
            )
        } else if limiting {
            (
                "limiting",
                format!(
                    "The mix went through a limiter the stems did not: its peaks are held at {:.1} dBFS, {:.1} dB of crest factor is gone and the gain drops {:.1} dB on loud passages (up to {:.1} dB).",
                    dy.ceiling_dbfs, dy.crest_drop_db, gr_typical_db, gr_max_db
                ),
                "Bypass the mix-bus limiter for the stem export (and say so), or print the stems through the same bus chain.",
            )
        } else {
            (
                "compression",
                format!(
                    "The mix went through compression the stems did not: the mix/stem-sum gain falls with level, {:.1} dB on loud passages (up to {:.1} dB).",
                    gr_typical_db, gr_max_db
                ),
                "Bypass the mix-bus compressor for the stem export, or deliver the stems printed through it (or a sidechain-keyed version).",
            )
        };
        let level_dependent = dy.slope_db_per_db < -0.02 || limiting || clipped;
        let strong = !dyn_rides
            && level_dependent
            && s.dynamics_gain_db.max(s.level_gain_db) >= 2.0 * DECISIVE_DB;
        let weak_note = if strong {
            ""
        } else if dyn_rides {
            " The evidence is weak: content no stem carries fills most of the residual, but the gain the stems enter the mix with falls reproducibly as the mix gets louder."
        } else if dyn_masked {
            " The evidence is weak: other content in the residual masks it, but a moving gain explains most of what any gain could."
        } else {
            " The evidence is weak: the gain varies, but not clearly with level."
        };
        causes.push(Cause {
            share_db: explained_db,
            finding: Finding::new(
                FindingCode::MissingBusProcessing,
                severity_for(explained_db, strong),
                vec![],
                format!("{message}{weak_note}"),
                fix,
            )
            .with("kind", kind)
            .with("gain_reduction_typical_db", round1(gr_typical_db))
            .with("gain_reduction_max_db", round1(gr_max_db))
            .with("quiet_passage_gain_db", round1(dy.quiet_gain_db))
            .with("gain_slope_db_per_db", round2(dy.slope_db_per_db))
            .with("crest_factor_drop_db", round1(dy.crest_drop_db))
            .with("peak_pinned_share", round2(dy.pinned_share))
            .with("mix_ceiling_dbfs", round1(dy.ceiling_dbfs))
            .with("clipped_frames", dy.clipped_frames as u64)
            .with("residual_db", round1(s.gain_db))
            .with("residual_with_dynamics_db", round1(s.dynamics_db))
            .with("null_gain_db", round1(s.dynamics_gain_db))
            .with("null_gain_with_eq_db", round1(s.filter_gain_db))
            .with("null_gain_with_level_gain_db", round1(s.level_gain_db))
            .with("explained_share", round2(s.dynamics_share))
            .with("level_ride_correlation", round2(ride.level_correlation))
            .with("level_ride_reproducibility", round2(ride.reproducibility))
            .with("level_ride_slope_db_per_db", round2(ride.slope_db_per_db)),
        });
    }

    if eq_wins {
        let curve = octave_curve(d, h, coh, segments);
        let explained_db =
            db(10f64.powf(s.gain_spectral_db / 10.0) - 10f64.powf(s.filter_db / 10.0));
        left_db = left_db.min(s.gain_db - s.filter_gain_db);
        let coherent: Vec<&(f64, f64, f64)> = curve.iter().filter(|c| c.2 >= 0.8).collect();
        let (lo, hi) = coherent
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), c| {
                (a.min(c.1), b.max(c.1))
            });
        let span = if coherent.is_empty() { 0.0 } else { hi - lo };
        let describe: Vec<String> = coherent
            .iter()
            .map(|c| format!("{} Hz {:+.1}", c.0, c.1))
            .collect();
        let strong = span >= 1.0 && !eq_masked;
        causes.push(Cause {
            share_db: explained_db,
            finding: Finding::new(
                FindingCode::BusEq,
                severity_for(explained_db, strong),
                vec![],
                format!(
                    "The mix went through an EQ the stems did not (octave bands, dB: {}).{}",
                    describe.join(", "),
                    if strong {
                        ""
                    } else if eq_masked {
                        " The evidence is weak: other content in the residual masks it, but the filter explains most of what any EQ could."
                    } else {
                        " The evidence is weak: the curve is nearly flat."
                    }
                ),
                "Bypass the mix-bus EQ for the stem export, or print the stems through it.",
            )
            .with(
                "octave_band_hz",
                curve.iter().map(|c| c.0).collect::<Vec<_>>(),
            )
            .with(
                "octave_band_gain_db",
                curve.iter().map(|c| c.1).collect::<Vec<_>>(),
            )
            .with(
                "octave_band_coherence",
                curve.iter().map(|c| c.2).collect::<Vec<_>>(),
            )
            .with("curve_span_db", round1(span))
            .with("residual_db", round1(s.gain_spectral_db))
            .with("residual_with_eq_db", round1(s.filter_db))
            .with("null_gain_db", round1(s.filter_gain_db))
            .with("null_gain_with_dynamics_db", round1(s.dynamics_gain_db))
            .with("explained_share", round2(s.filter_share)),
        });
    }

    // Added content: what the best whole-mix model leaves, judged on the fitted residual.
    let added_db = left_db.min(r.level_db);
    if added_db > QUIET_RESIDUAL_DB {
        let (octave, f10, f90, centroid) = residual_spectrum(d, segments);
        let decorrelated = r
            .interchannel_correlation
            .map(|c| c < 0.5 || r.sum_interchannel_correlation.is_some_and(|s| c < s - 0.35));
        // A reverb follows the sum causally: its envelope is predicted by the sum's past
        // better than by the sum's present or future.
        let trails = r.tau_s >= 0.04
            && r.trail_correlation - r.instant_correlation.max(r.backwards_correlation) >= 0.05;
        let own_onsets = r.own_onset_share > 0.5 && r.onsets_per_s > 0.5;
        let derived = r.spectral_follow >= FOLLOW_DERIVED;
        let own_spectrum = r.spectral_follow < FOLLOW_OWN;
        let fx_signs = usize::from(decorrelated == Some(true)) + usize::from(trails);
        let kind = if r.spectral_follow < FOLLOW_OWN - 0.1 {
            // A spectrum clearly its own (other notes than the stems play) outweighs the
            // envelope: a wide pad playing throughout is decorrelated and smooth too.
            let strong = own_onsets || decorrelated == Some(false);
            Some((false, strong))
        } else if fx_signs == 2 {
            // Decorrelated *and* trailing: a return, even when its spectrum follows only the
            // stems that feed the send rather than the whole sum.
            Some((true, true))
        } else if own_spectrum {
            let strong =
                r.spectral_follow < FOLLOW_OWN - 0.1 || own_onsets || decorrelated == Some(false);
            Some((false, strong))
        } else if fx_signs > 0 {
            // Channels in opposite phase (a chorus or widener) are an effect's signature: no
            // panned part does that.
            let anti_phase = r.interchannel_correlation.is_some_and(|c| c < -0.3);
            let strong = derived && (fx_signs == 2 || r.spectral_follow >= 0.7 || anti_phase);
            Some((true, strong))
        } else if derived {
            // Plays the stems' notes without being decorrelated or trailing: processing of
            // the sum (saturation, the part of a bus process a model did not capture), not
            // added content.
            None
        } else {
            Some((false, false))
        };
        let rt60 = r.tau_s * (1e6f64).ln();
        let common = |f: Finding| {
            f.with("residual_db", round1(added_db))
                .with(
                    "interchannel_correlation",
                    r.interchannel_correlation.map(round2),
                )
                .with(
                    "sum_interchannel_correlation",
                    r.sum_interchannel_correlation.map(round2),
                )
                .with("envelope_tau_ms", round1(r.tau_s * 1000.0))
                .with("trail_correlation", round2(r.trail_correlation))
                .with("instant_correlation", round2(r.instant_correlation))
                .with("onsets_per_s", round2(r.onsets_per_s))
                .with("own_onset_share", round2(r.own_onset_share))
                .with("backwards_correlation", round2(r.backwards_correlation))
                .with("spectral_follow", round2(r.spectral_follow))
                .with("spectrum_low_hz", f10)
                .with("spectrum_high_hz", f90)
                .with("spectrum_centroid_hz", centroid.round())
                .with(
                    "octave_band_hz",
                    octave.iter().map(|o: &(f64, f64)| o.0).collect::<Vec<_>>(),
                )
                .with(
                    "octave_band_level_db",
                    octave.iter().map(|o: &(f64, f64)| o.1).collect::<Vec<_>>(),
                )
        };
        let Some((is_fx, strong)) = kind else {
            return finish_causes(causes, residual_db, s);
        };
        // After a whole-mix model, added content is a secondary cause: reported only when
        // the evidence is strong, and as a warning.
        if (dyn_wins || eq_wins) && !strong {
            return finish_causes(causes, residual_db, s);
        }
        let severity = if dyn_wins || eq_wins {
            Severity::Warning
        } else {
            severity_for(added_db, strong)
        };
        let weak_note = if strong {
            ""
        } else {
            " The evidence is weak (it could also be a wide part that plays throughout)."
        };
        let finding = if is_fx {
            common(
                Finding::new(
                    FindingCode::MissingFxReturn,
                    severity,
                    vec![],
                    if trails {
                        format!(
                            "The mix holds effect returns no stem carries: a residual at {:.1} dB under the mix that trails the stems with a tail of about {:.1} s (RT60){}.{weak_note}",
                            -added_db,
                            rt60,
                            if decorrelated == Some(true) { ", decorrelated between the channels" } else { "" }
                        )
                    } else {
                        format!(
                            "The mix holds effect returns no stem carries: a residual at {:.1} dB under the mix that plays the stems' notes, decorrelated between the channels (chorus, widener or short reverb).{weak_note}",
                            -added_db
                        )
                    },
                    "Print the reverb/delay returns as their own stem(s), or export the stems with their sends.",
                )
                .with("tail_rt60_s", round2(rt60)),
            )
        } else {
            common(Finding::new(
                FindingCode::MissingElement,
                severity,
                vec![],
                format!(
                    "The mix holds a part no stem carries: a residual at {:.1} dB under the mix with onsets of its own, mostly between {:.0} and {:.0} Hz.{weak_note}",
                    -added_db, f10, f90
                ),
                "Find the track or bus that was not exported (muted, unrouted or left out of the stem groups) and deliver it as a stem.",
            ))
        };
        causes.push(Cause {
            share_db: added_db,
            finding,
        });
    }
    finish_causes(causes, residual_db, s)
}

/// Orders the causes strongest first; with none, the residual is unexplained.
fn finish_causes(mut causes: Vec<Cause>, residual_db: f64, s: &ModelScores) -> Vec<Finding> {
    if causes.is_empty() {
        causes.push(Cause {
            share_db: residual_db,
            finding: Finding::new(
                FindingCode::UnexplainedResidual,
                if residual_db > ERROR_RESIDUAL_DB {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                vec![],
                format!(
                    "The stems leave a residual at {:.1} dB under the mix that no model explains (gain, EQ, dynamics, added content).",
                    -residual_db
                ),
                "Compare the mix-bus chain and the stem export settings (plugins, sends, render options).",
            )
            .with("residual_db", round1(residual_db))
            .with("null_gain_with_dynamics_db", round1(s.dynamics_gain_db))
            .with("null_gain_with_eq_db", round1(s.filter_gain_db)),
        });
    }
    causes.sort_by(|a, b| b.share_db.total_cmp(&a.share_db));
    causes.into_iter().map(|c| c.finding).collect()
}

/// Runs the diagnosis on a finished reconciliation and merges it into the result's findings.
///
/// Explanations are put before the reconciliation's findings, strongest first. When a whole-mix process (dynamics or EQ)
/// explains the residual, `gain_mismatch` findings within [`GAIN_ARTEFACT_DB`] are downgraded to
/// info: per-stem gains absorb bus compression (every stem reads 1-2 dB cold), so they are not
/// the stems' fault.
pub fn diagnose(
    diagnoser: &Diagnoser,
    result: &mut ReconcileResult,
    profile: &Profile,
) -> Diagnosis {
    let rec = &result.reconciliation;
    let fitted = rec.fitted_null_depth_db;
    let mut diagnosis = diagnoser.finish(rec.judged_span_frames);
    // A set that nulls per the profile needs no explanation.
    if fitted.is_some_and(|f| f <= profile.null_pass_db)
        && rec.null_depth_db.is_some_and(|n| n <= profile.null_pass_db)
    {
        diagnosis.findings.clear();
        return diagnosis;
    }
    absorb_artefacts(
        &diagnosis.findings,
        &mut result.findings,
        result.sample_rate,
    );
    // The explanations go first: within one severity the report keeps this order, and a cause
    // comes before the side effects (downgraded above) it has on the per-stem fits.
    let rest = std::mem::take(&mut result.findings);
    result.findings = diagnosis.findings.iter().cloned().chain(rest).collect();
    diagnosis
}

/// Gain errors up to this size (beyond the measured gain reduction or EQ boost) are what
/// whole-mix processing makes per-stem fits read.
pub const GAIN_ARTEFACT_DB: f64 = 3.0;
/// Per-stem offsets up to this long can be the phase delay of a bus EQ or compressor.
pub const OFFSET_ARTEFACT_S: f64 = 0.0005;

fn measured_f64(f: &Finding, key: &str) -> Option<f64> {
    f.measured.get(key).and_then(serde_json::Value::as_f64)
}

/// Per-stem fits absorb whole-mix processing: bus compression makes every stem read cold,
/// bus EQ's phase delay reads as small lags, an FX return biases a lag by a sample. When the
/// diagnosis names such a cause, the reconciliation's gain and small-offset findings that it
/// accounts for are downgraded (and say why) instead of being reported as the stems' fault.
fn absorb_artefacts(diagnosis: &[Finding], findings: &mut [Finding], sample_rate: u32) {
    let strong = |code| {
        diagnosis
            .iter()
            .find(|f| f.code == code && f.severity >= Severity::Warning)
    };
    let dynamics = strong(FindingCode::MissingBusProcessing);
    let eq = strong(FindingCode::BusEq);
    let added = diagnosis.iter().find(|f| {
        matches!(
            f.code,
            FindingCode::MissingFxReturn | FindingCode::MissingElement
        ) && f.severity >= Severity::Warning
    });
    let mut gain_bound: Option<f64> = None;
    if let Some(f) = dynamics {
        let gr = measured_f64(f, "gain_reduction_max_db")
            .unwrap_or(0.0)
            .abs()
            + measured_f64(f, "quiet_passage_gain_db")
                .unwrap_or(0.0)
                .abs();
        gain_bound = Some(gain_bound.unwrap_or(0.0).max(gr + GAIN_ARTEFACT_DB));
    }
    if let Some(f) = eq {
        let boost: f64 = f
            .measured
            .get("octave_band_gain_db")
            .and_then(serde_json::Value::as_array)
            .map_or(0.0, |v| {
                v.iter()
                    .filter_map(serde_json::Value::as_f64)
                    .fold(0.0f64, |a, x| a.max(x.abs()))
            });
        gain_bound = Some(gain_bound.unwrap_or(0.0).max(boost.min(12.0) + 1.5));
    }
    let cause = dynamics
        .or(eq)
        .or(added)
        .map(|f| f.code.as_str())
        .unwrap_or_default();
    let short = (OFFSET_ARTEFACT_S * f64::from(sample_rate)).round();
    for f in findings.iter_mut() {
        match f.code {
            FindingCode::GainMismatch => {
                if let (Some(bound), Some(g)) = (gain_bound, measured_f64(f, "gain_db"))
                    && g.abs() <= bound
                {
                    f.severity = Severity::Info;
                    f.message.push_str(&format!(
                        " This is what the {cause} reported here makes a gain fit read, not necessarily the stem's level."
                    ));
                }
            }
            FindingCode::StartOffset => {
                let Some(off) = measured_f64(f, "offset_samples") else {
                    continue;
                };
                let conf = measured_f64(f, "correlation").unwrap_or(1.0);
                let whole_mix = dynamics.is_some() || eq.is_some();
                // An FX return in the mix (reverb, chorus) biases a lag by a few samples;
                // a real shift still correlates almost perfectly once aligned.
                let biased = added.is_some() && conf < 0.95;
                if f.severity == Severity::Error && off.abs() <= short && (whole_mix || biased) {
                    f.severity = Severity::Warning;
                    f.message.push_str(&format!(
                        " The shift is small and may be a side effect of the {cause} reported here (phase delay or added content bias the alignment); check it after fixing that."
                    ));
                }
            }
            _ => {}
        }
    }
}

/// Reconciles stem files against a mix file and diagnoses the residual in the same streaming
/// pass: [`crate::reconcile::reconcile`] with the diagnosis added to its findings.
///
/// # Errors
/// As [`crate::reconcile::reconcile`].
pub fn reconcile_and_diagnose(
    mix: &std::path::Path,
    stems: &[&std::path::Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> crate::Result<ReconcileResult> {
    reconcile_and_diagnose_with(mix, stems, profile, progress).map(|(r, _)| r)
}

/// [`reconcile_and_diagnose`], also returning the diagnosis's numbers (model scores and
/// residual features) for tools that tabulate them.
///
/// # Errors
/// As [`crate::reconcile::reconcile`].
pub fn reconcile_and_diagnose_with(
    mix: &std::path::Path,
    stems: &[&std::path::Path],
    profile: &Profile,
    progress: &dyn Fn(u64),
) -> crate::Result<(ReconcileResult, Diagnosis)> {
    use crate::align::{FrameSource, WavSource};
    let mix_src = WavSource::open(mix)?;
    let mut diagnoser = Diagnoser::new(mix_src.channels(), mix_src.sample_rate());
    let mut opened: Vec<Box<dyn FrameSource>> = Vec::new();
    let mut index = Vec::new();
    for (i, p) in stems.iter().enumerate() {
        if let Ok(s) = WavSource::open(p) {
            opened.push(Box::new(s));
            index.push(i);
        }
    }
    let mut r = crate::reconcile::reconcile_sources(
        Box::new(mix_src),
        opened,
        profile,
        &crate::reconcile::ReconcileOptions::default(),
        Some(&mut diagnoser),
        progress,
    )?;
    let mut fits = vec![None; stems.len()];
    for (j, fit) in r.stems.iter().enumerate() {
        fits[index[j]] = fit.clone();
    }
    r.stems = fits;
    let d = diagnose(&diagnoser, &mut r, profile);
    r.reconciliation.spectrum = Some(diagnoser.band_spectrum());
    Ok((r, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaky_integration_decays_with_its_time_constant() {
        let mut env = vec![0.0; 200];
        env[0] = 1.0;
        let y = leaky(&env, 0.1);
        // Energy time constant 100 ms = 10 frames: down by e after 10 frames.
        let ratio = y[10] / y[0];
        assert!((ratio - (-1.0f64).exp()).abs() < 0.01, "{ratio}");
        let back = leaky_backwards(&env, 0.1);
        assert!(
            back[1] == 0.0 && back[0] > 0.0,
            "backwards integration looks ahead only"
        );
    }

    #[test]
    fn onsets_are_rises_of_more_than_6_db() {
        let mut env = vec![1e-3; 100];
        env[30..40].fill(1.0);
        env[60..70].fill(1.5e-3); // a rise of 1.8 dB: not an onset
        assert_eq!(onsets(&env), vec![30]);
    }

    #[test]
    fn time_varying_gain_wins_only_when_the_gain_moves() {
        let frame = |m: f32, s: f32| FrameStat {
            em: m * m,
            es: s * s,
            ems: m * s,
            ..Default::default()
        };
        // Constant gain 0.5: the time-varying model gains nothing.
        let fixed: Vec<FrameStat> = (0..400)
            .map(|i| frame(0.5 * (1.0 + (i % 7) as f32), 1.0 + (i % 7) as f32))
            .collect();
        let (em, _, gain, dynamic) = time_models(&fixed);
        assert!(gain / em < 1e-9 && dynamic / em < 1e-9);
        // A slowly moving gain: the neighbours predict it, the global gain cannot.
        let moving: Vec<FrameStat> = (0..400)
            .map(|i| {
                let g = 0.5 + 0.4 * (i as f32 / 40.0).sin();
                frame(g, 1.0)
            })
            .collect();
        let (_, _, gain, dynamic) = time_models(&moving);
        assert!(db(gain / dynamic) > DECISIVE_DB, "{gain} {dynamic}");
    }

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

    #[test]
    fn too_little_audio_gives_no_diagnosis() {
        let mut d = Diagnoser::new(2, 48_000);
        d.push(&[0.1; 200], &[0.0; 200], &[0.0; 200]);
        let out = d.finish(None);
        assert!(out.findings.is_empty() && out.scores.is_none());
    }
}
