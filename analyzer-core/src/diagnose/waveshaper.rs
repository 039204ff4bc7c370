//! A fixed curve between the stem sum and the mix, sample by sample: a soft clipper or
//! saturator on the mix bus (the stems exported without it).
//!
//! A memoryless odd nonlinearity maps each sample `s` of the sum to `g(|s|) * s` in the mix, so
//! a gain per amplitude of the sum models it exactly. No other whole-mix model sees it: a
//! clipper takes a few dB off the peaks and leaves each 10 ms frame's level (the dynamics
//! model's unit) almost where it was, and its distortion products are no filter of the sum.
//! A compressor's gain depends on the level over the last milliseconds, not on each sample's
//! own, so this model explains little of it: on the corpus songs a tanh or atan clipper
//! deepens the null by 8-12 dB over one gain, compressors and limiters by 0.5-1.7 dB.
//!
//! The gains are collected per amplitude bin of the plain sum (1.2-1.9 dB wide: a float's
//! exponent and two mantissa bits, no logarithm per sample), in two folds (alternate 10 ms
//! frames), and the null is cross-validated: gains fitted on one fold, scored on the other.
//! The sums cover the whole stream, not only the judged span.

use super::stats::db;

/// Amplitude bins: from 2^-20 (-120 dBFS, everything quieter in the first) to 2^4 (+24 dBFS),
/// four per octave.
const FIRST_EXPONENT: usize = 107;
const BINS: usize = (131 - FIRST_EXPONENT) * 4;

/// Mix and sum products per amplitude bin of the sum, in two folds.
#[derive(Debug, Clone)]
pub(super) struct WaveshaperStats {
    /// `[fold * BINS + bin]`: sum of m^2, m*s, s^2.
    bins: Vec<[f64; 3]>,
}

/// What a per-amplitude gain does over one gain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WaveshaperFit {
    /// How much deeper the per-amplitude gain nulls than one gain (cross-validated), dB.
    pub null_gain_db: f64,
    /// Gain of the loudest samples (the bins holding the sum's top 1 % of energy) against
    /// that of the samples under the energy median, dB (negative: the peaks are squashed).
    pub peak_gain_db: f64,
    /// The same for the top 10 % of the energy, dB.
    pub loud_gain_db: f64,
}

impl WaveshaperStats {
    pub(super) fn new() -> Self {
        Self {
            bins: vec![[0.0; 3]; 2 * BINS],
        }
    }

    /// The bin of a sample of the sum.
    #[inline(always)]
    fn bin(s: f32) -> usize {
        ((s.abs().to_bits() >> 21) as usize)
            .saturating_sub(FIRST_EXPONENT * 4)
            .min(BINS - 1)
    }

    /// Adds one sample of the mix `m` and of the plain sum `s` to `fold` (0 or 1).
    #[inline(always)]
    pub(super) fn add(&mut self, fold: usize, m: f32, s: f32) {
        let e = &mut self.bins[fold * BINS + Self::bin(s)];
        e[0] += f64::from(m * m);
        e[1] += f64::from(m * s);
        e[2] += f64::from(s * s);
    }

    /// The fit, `None` without energy in the sum in both folds.
    pub(super) fn fit(&self) -> Option<WaveshaperFit> {
        let fold = |f: usize| &self.bins[f * BINS..(f + 1) * BINS];
        let total = |f: usize| {
            fold(f)
                .iter()
                .fold([0.0; 3], |a, e| [a[0] + e[0], a[1] + e[1], a[2] + e[2]])
        };
        let (t0, t1) = (total(0), total(1));
        if t0[2] <= 0.0 || t1[2] <= 0.0 {
            return None;
        }
        // Scored on fold `f` with the gains fitted on the other.
        let (mut e_gain, mut e_curve) = (0.0f64, 0.0f64);
        for f in 0..2 {
            let (fit, on) = (fold(1 - f), fold(f));
            let t = total(1 - f);
            let g = t[1] / t[2];
            let on_t = total(f);
            e_gain += on_t[0] - 2.0 * g * on_t[1] + g * g * on_t[2];
            for (a, e) in fit.iter().zip(on) {
                let gb = if a[2] > 0.0 { a[1] / a[2] } else { g };
                e_curve += e[0] - 2.0 * gb * e[1] + gb * gb * e[2];
            }
        }
        if e_gain <= 0.0 || e_curve <= 0.0 {
            return None;
        }
        // Gains over all the data, pooled over the quiet half and the loudest shares of the
        // sum's energy.
        let all: Vec<[f64; 3]> = (0..BINS)
            .map(|b| {
                let (x, y) = (self.bins[b], self.bins[BINS + b]);
                [x[0] + y[0], x[1] + y[1], x[2] + y[2]]
            })
            .collect();
        let energy = t0[2] + t1[2];
        let pooled = |lo_share: f64, hi_share: f64| {
            // Bins whose share of the energy (cumulated from the quietest) overlaps
            // [lo, hi) of the total.
            let (mut cum, mut ms, mut ss) = (0.0f64, 0.0f64, 0.0f64);
            for e in &all {
                let from = cum / energy;
                cum += e[2];
                if from < hi_share && cum / energy > lo_share && e[2] > 0.0 {
                    ms += e[1];
                    ss += e[2];
                }
            }
            (ss > 0.0).then(|| ms / ss)
        };
        let quiet = pooled(0.0, 0.5)?;
        let gain_db = |g: Option<f64>| g.map_or(0.0, |g| db(g * g) - db(quiet * quiet));
        Some(WaveshaperFit {
            null_gain_db: db(e_gain) - db(e_curve),
            peak_gain_db: gain_db(pooled(0.99, 1.0)),
            loud_gain_db: gain_db(pooled(0.9, 1.0)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::TAU;

    fn stats(x: &[f32], shape: impl Fn(f32) -> f32) -> WaveshaperStats {
        let mut w = WaveshaperStats::new();
        for (i, &s) in x.iter().enumerate() {
            w.add((i / 480) & 1, shape(s), s);
        }
        w
    }

    fn signal() -> Vec<f32> {
        // A decaying chord with a varying level: every amplitude from quiet to 0.9.
        (0..480_000)
            .map(|i| {
                let t = i as f32 / 48_000.0;
                let env = 0.9 * (0.5 + 0.5 * (t * 1.3).sin()).powi(2);
                env * ((t * 220.0 * TAU).sin() * 0.6 + (t * 331.0 * TAU).sin() * 0.4)
            })
            .collect()
    }

    #[test]
    fn a_soft_clipper_is_modelled_and_squashes_the_peaks() {
        let x = signal();
        let fit = stats(&x, |s| (2.0 * s).tanh() / 2.0).fit().unwrap();
        assert!(fit.null_gain_db > 10.0, "{fit:?}");
        assert!(fit.peak_gain_db < -1.0, "{fit:?}");
        assert!(fit.loud_gain_db > fit.peak_gain_db, "{fit:?}");
    }

    #[test]
    fn a_plain_gain_leaves_nothing_to_model() {
        let x = signal();
        let fit = stats(&x, |s| 0.7 * s).fit().unwrap();
        assert!(fit.null_gain_db.abs() < 0.1, "{fit:?}");
        assert!(fit.peak_gain_db.abs() < 0.01, "{fit:?}");
    }

    #[test]
    fn bins_are_ordered_by_amplitude_and_bounded() {
        let mut prev = 0;
        for k in -130..30 {
            let b = WaveshaperStats::bin(10f32.powf(k as f32 / 20.0));
            assert!(b >= prev && b < BINS, "{k}: {b}");
            prev = b;
        }
        assert_eq!(WaveshaperStats::bin(0.0), 0);
        assert_eq!(WaveshaperStats::bin(f32::NAN), BINS - 1);
    }
}
