//! Features of the fitted residual that tell added content apart (inter-channel correlation,
//! envelopes that trail the sum, onsets, spectra), and the curves the findings report.

use realfft::num_complex::Complex;

use super::stats::{FRAME_S, FrameStat, OCTAVE_HZ, Segment, StreamFacts, correlation, db};
use crate::cause::{round1, round2};

/// Decay time constants (energy, seconds) tried for the FX-return envelope model.
const TAUS_S: [f64; 11] = [
    0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.22, 0.33, 0.5, 0.75, 1.0,
];

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
fn spectral_follow(d: &StreamFacts<'_>, segments: &[&Segment]) -> f64 {
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

pub(super) fn residual_features(
    d: &StreamFacts<'_>,
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
pub(super) fn residual_spectrum(
    d: &StreamFacts<'_>,
    segments: &[&Segment],
) -> (Vec<(f64, f64)>, f64, f64, f64) {
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
    for (&e, &hz) in srr.iter().zip(d.band_hz) {
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

/// The fitted residual's third-octave spectrum beside the mix's over `segments`, both in dB
/// relative to the mix's total power there (the scale of the report's residual spectrum, but
/// summed over the channels rather than of the downmix, where a decorrelated return cancels), for
/// an added-content finding; `low_hz` and `high_hz` are [`residual_spectrum`]'s 10 % and 90 %
/// bands, passed in so the summary and the finding's message cannot disagree. `None` without
/// a segment or any mix energy.
pub(super) fn residual_signature(
    d: &StreamFacts<'_>,
    segments: &[&Segment],
    low_hz: f64,
    high_hz: f64,
) -> Option<crate::report::SpectralSignature> {
    let first = segments.first()?;
    let last = segments.last()?;
    let bands = d.band_hz.len();
    let (mut mix, mut res) = (vec![0.0f64; bands], vec![0.0f64; bands]);
    for s in segments {
        for b in 0..bands {
            mix[b] += s.smm_ch[b];
            res[b] += s.srr_ch[b];
        }
    }
    let total: f64 = mix.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let rel = |e: f64| (e > 0.0).then(|| round2(db(e / total)));
    let rate = f64::from(d.sample_rate.max(1));
    Some(crate::report::SpectralSignature {
        band_hz: d.band_hz.to_vec(),
        residual_db: res.iter().map(|&e| rel(e)).collect(),
        mix_db: mix.iter().map(|&e| rel(e)).collect(),
        start_s: round2(first.start_frame as f64 / rate),
        end_s: round2(last.end_frame as f64 / rate),
        low_hz,
        high_hz,
    })
}

/// The octave curve (dB, as [`octave_curve`]) of the fitted sum against the plain sum: the
/// spectral shape the per-stem gains alone give the stems (drums 4 dB low make a sum 4 dB
/// short wherever the drums dominate, the hats' octaves). A "bus EQ" whose curve this
/// reproduces is those gains, not a filter on the mix bus.
pub(super) fn stem_gains_curve(d: &StreamFacts<'_>, segments: &[&Segment]) -> Vec<(f64, f64)> {
    let bands = d.band_hz.len();
    let mut sf = vec![Complex::new(0.0, 0.0); bands];
    let mut ss = vec![0.0f64; bands];
    for s in segments {
        for b in 0..bands {
            sf[b] += s.sms[b] - s.ssr[b];
            ss[b] += s.sss[b];
        }
    }
    let h: Vec<Complex<f64>> = sf
        .iter()
        .zip(&ss)
        .map(|(x, &e)| {
            if e > 0.0 {
                x / e
            } else {
                Complex::new(1.0, 0.0)
            }
        })
        .collect();
    octave_curve(d, &h, &vec![0.0; bands], segments)
        .into_iter()
        .map(|(hz, gain_db, _)| (hz, gain_db))
        .collect()
}

/// Band gains averaged into octave bands (dB), with the mean coherence of each.
pub(super) fn octave_curve(
    d: &StreamFacts<'_>,
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
}
