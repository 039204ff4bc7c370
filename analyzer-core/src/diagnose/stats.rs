//! The statistics the collector keeps and the models and features read: per-10 ms frame
//! energies, per-segment band spectra, and small numeric helpers shared by the models.

use crate::units::power_to_db;
use realfft::num_complex::Complex;

/// Length of one analysis frame for dynamics and envelopes, in seconds (about 10 ms: 50 ms
/// frames cannot follow a limiter's attack).
pub const FRAME_S: f64 = 0.010;

/// Octave band centres (Hz) used to report curves and spectra.
pub(super) const OCTAVE_HZ: [f64; 9] = [
    63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0,
];

/// Statistics of one 10 ms frame (sums over all channels).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FrameStat {
    /// Mix energy.
    pub(super) em: f32,
    /// Plain-sum energy.
    pub(super) es: f32,
    /// Mix times plain sum.
    pub(super) ems: f32,
    /// Energy of the fitted residual (mix minus fitted sum).
    pub(super) er: f32,
    /// Fitted-sum energy.
    pub(super) ef: f32,
    /// Mix times fitted sum.
    pub(super) emf: f32,
    /// Peak of the mix.
    pub(super) pm: f32,
    /// Peak of the plain sum.
    pub(super) ps: f32,
    /// Flat-topped samples in the mix (clipping).
    pub(super) clipped: u16,
}

/// Band-pooled spectra of one segment (about 0.7 s).
#[derive(Debug, Clone)]
pub(super) struct Segment {
    /// First mix frame the segment covers.
    pub(super) start_frame: u64,
    /// One past the last mix frame.
    pub(super) end_frame: u64,
    /// Per third-octave band: |M|^2, |S|^2, conj(S) M, |R|^2 (fitted residual).
    pub(super) smm: Vec<f64>,
    pub(super) sss: Vec<f64>,
    pub(super) sms: Vec<Complex<f64>>,
    pub(super) srr: Vec<f64>,
    /// Per band, conj(S) R: with `sms` it gives the plain sum's cross spectrum with the fitted
    /// sum (`conj(S) F = conj(S) M - conj(S) R`), the spectral shape the per-stem gains alone
    /// give the sum (see `features::stem_gains_curve`).
    pub(super) ssr: Vec<Complex<f64>>,
    /// Per band, |M|^2 and |R|^2 summed over the channels (not of the downmix), for the
    /// added-content signature.
    pub(super) smm_ch: Vec<f64>,
    pub(super) srr_ch: Vec<f64>,
    /// Per band, for a stereo mix (empty otherwise): |D_M|^2, |D_S|^2 and conj(D_S) D_M of
    /// the side signals (left minus right) of the mix and of the plain sum.
    pub(super) side_mm: Vec<f64>,
    pub(super) side_ss: Vec<f64>,
    pub(super) side_ms: Vec<Complex<f64>>,
    /// Per band, for a stereo mix (empty otherwise): the plain sum's `|S|^2` and `conj(S) M`
    /// of the mid (`mid_g*`) and of the side (`side_g*`) with every FFT frame's sum first
    /// brought to the mix by that frame's own gain `g` (`g^2 |S|^2`, `g conj(S) M`; `g` is the
    /// mid's least-squares gain over all bins). What the width model under a moving gain
    /// (a bus compressor beside an imager) fits: see `stereo::fit_under_moving_gain`.
    pub(super) mid_gss: Vec<f64>,
    pub(super) mid_gms: Vec<Complex<f64>>,
    pub(super) side_gss: Vec<f64>,
    pub(super) side_gms: Vec<Complex<f64>>,
}

impl Segment {
    pub(super) fn new(bands: usize, start_frame: u64) -> Self {
        Self {
            start_frame,
            end_frame: start_frame,
            smm: vec![0.0; bands],
            sss: vec![0.0; bands],
            sms: vec![Complex::new(0.0, 0.0); bands],
            srr: vec![0.0; bands],
            ssr: vec![Complex::new(0.0, 0.0); bands],
            smm_ch: vec![0.0; bands],
            srr_ch: vec![0.0; bands],
            side_mm: vec![0.0; bands],
            side_ss: vec![0.0; bands],
            side_ms: vec![Complex::new(0.0, 0.0); bands],
            mid_gss: vec![0.0; bands],
            mid_gms: vec![Complex::new(0.0, 0.0); bands],
            side_gss: vec![0.0; bands],
            side_gms: vec![Complex::new(0.0, 0.0); bands],
        }
    }
}

/// Whole-stream facts of the collector that the features read beside the frames and segments.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamFacts<'a> {
    /// Channels of the mix.
    pub(super) channels: usize,
    /// Sample rate of the mix, Hz (segment frames to seconds).
    pub(super) sample_rate: u32,
    /// Centre of each analysis band, Hz.
    pub(super) band_hz: &'a [f64],
    /// Fitted residual's first two channels: L energy, R energy, L x R.
    pub(super) res_lr: [f64; 3],
    /// The same for the plain stem sum.
    pub(super) sum_lr: [f64; 3],
    /// Where the judged frames start in the mix, seconds.
    pub(super) frames_start_s: f64,
    /// A gain per amplitude of the sum against one gain (see `waveshaper`).
    pub(super) waveshaper: Option<super::waveshaper::WaveshaperFit>,
}

pub(super) fn db(x: f64) -> f64 {
    power_to_db(x.max(1e-30))
}

pub(super) fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i.min(v.len() - 1)]
}

pub(super) fn correlation(x: &[f64], y: &[f64]) -> f64 {
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
pub(super) fn fold_of(frame_index: usize) -> usize {
    (frame_index / 70) % 2
}
