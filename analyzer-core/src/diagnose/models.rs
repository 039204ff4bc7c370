//! Whole-mix models of the mix against the plain stem sum (global gain, time-varying gain,
//! level-dependent gain, band filter), compared by two-fold cross-validation, and the
//! characterisation of dynamics (gain reduction, limiting) and of a level ride.

use realfft::num_complex::Complex;

use super::stats::{FrameStat, Segment, correlation, db, fold_of, percentile};
use crate::units::{amp_to_db, db_to_amp_f32};

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

/// Every whole-mix model scored on the judged frames and segments (`bands` analysis bands),
/// with the band filter's gains (complex, all data) and each band's coherence.
pub(super) fn model_scores(
    frames: &[FrameStat],
    segments: &[&Segment],
    bands: usize,
) -> (ModelScores, Vec<Complex<f64>>, Vec<f64>) {
    let (e_mix, e_plain, e_gain, e_dyn) = time_models(frames);
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
    (scores, h, coh)
}

/// Cross-validated residual energies of the global-gain and the time-varying-gain models on
/// 10 ms frames. Returns `(e_mix, e_plain, e_gain_cv, e_dynamics_cv)`.
pub(super) fn time_models(frames: &[FrameStat]) -> (f64, f64, f64, f64) {
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
pub(super) fn level_model(frames: &[FrameStat], smooth: usize) -> f64 {
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
pub(super) struct Dynamics {
    pub(super) gr_typical_db: f64,
    pub(super) gr_max_db: f64,
    /// Mix/sum gain of the quietest quarter of the frames (the compressor's make-up or the
    /// gain below threshold), dB.
    pub(super) quiet_gain_db: f64,
    /// dB of gain change per dB of sum level (negative = compression).
    pub(super) slope_db_per_db: f64,
    /// Share of loud frames whose mix peak sits within 0.5 dB of the mix's highest peak.
    pub(super) pinned_share: f64,
    /// Crest factor (peak to RMS) of the sum minus that of the mix, dB.
    pub(super) crest_drop_db: f64,
    pub(super) ceiling_dbfs: f64,
    pub(super) clipped_frames: usize,
}

pub(super) fn dynamics(frames: &[FrameStat]) -> Dynamics {
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
        gains.push(amp_to_db(c / e));
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
    let near = peak_m * db_to_amp_f32(-0.5);
    let pinned = loud.iter().filter(|f| f.pm >= near).count();
    let pinned_share = if loud.is_empty() {
        0.0
    } else {
        pinned as f64 / loud.len() as f64
    };
    let (em, es): (f64, f64) = frames.iter().fold((0.0, 0.0), |(a, b), f| {
        (a + f64::from(f.em), b + f64::from(f.es))
    });
    let crest = |peak: f32, e: f64| amp_to_db(f64::from(peak.max(1e-30))) - db(e / n.max(1) as f64);
    Dynamics {
        gr_typical_db: gr_typical,
        gr_max_db: gr_max,
        quiet_gain_db: quiet_gain,
        slope_db_per_db: slope,
        pinned_share,
        crest_drop_db: crest(peak_s, es) - crest(peak_m, em),
        ceiling_dbfs: amp_to_db(f64::from(peak_m.max(1e-30))),
        clipped_frames: frames.iter().filter(|f| f.clipped > 0).count(),
    }
}

/// Frames per window of [`level_ride`] (250 ms: long enough that added content uncorrelated
/// with the stems averages out of the cross product, short enough to follow a compressor's
/// release).
const RIDE_WINDOW_FRAMES: usize = 25;

/// Fewest level windows a level ride is judged on.
pub(super) const MIN_RIDE_WINDOWS: usize = 20;

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
pub(super) struct LevelRide {
    pub(super) windows: usize,
    /// Correlation of the window gains measured on even and on odd frames.
    pub(super) reproducibility: f64,
    /// Correlation of window gain (dB) with the window's level (dB): the mix's or the
    /// stems', whichever the gain falls with more clearly.
    pub(super) level_correlation: f64,
    /// dB of gain change per dB of that level.
    pub(super) slope_db_per_db: f64,
    /// Standard deviation of the window gains, dB.
    pub(super) spread_db: f64,
    /// Median gain of the quietest quarter of the windows minus that of the loudest quarter.
    pub(super) gr_typical_db: f64,
    /// 99th percentile of the gain drop below the quiet passages' gain.
    pub(super) gr_max_db: f64,
    /// Energy the moving gain accounts for (its deviation from the mean gain), dB re mix.
    pub(super) moving_db: f64,
}

impl LevelRide {
    /// A bus compressor, even under added content.
    pub(super) fn holds(&self) -> bool {
        self.windows >= MIN_RIDE_WINDOWS
            && self.reproducibility >= 0.7
            && self.level_correlation <= -0.4
            && self.slope_db_per_db <= -0.05
            && self.spread_db >= 0.25
    }
}

/// Measures the [`LevelRide`] (its doc says what and why): per-window gains, then the
/// regression on the mix level and the even/odd agreement. One function of ~115 lines because
/// the window statistics feed the regression directly.
pub(super) fn level_ride(frames: &[FrameStat]) -> LevelRide {
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
            gain_db: amp_to_db(x / ef),
            even_db: amp_to_db(xe / ee),
            odd_db: amp_to_db(xo / eo),
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

#[cfg(test)]
mod tests {
    use super::super::explain::DECISIVE_DB;
    use super::*;

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
}
