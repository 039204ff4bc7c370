//! Time alignment of stems against the mix.
//!
//! The building blocks of [`crate::reconcile`], all working on audio read through
//! [`crate::source::FrameSource`] (so every algorithm runs on test signals without files): a
//! cheap activity probe ([`Activity`]) that finds where a file carries audio without reading all
//! of it, the choice of a few analysis windows ([`choose_windows`]), and a cross-spectrum
//! [`Correlator`] with two lag estimators:
//!
//! - [`Correlator::peak`] (the coarse lag): generalized cross-correlation with (regularised)
//!   phase transform, GCC-PHAT (Knapp & Carter, IEEE Trans. ASSP 24(4), 1976), over the full
//!   search range (at least +/-2 s). The phase transform whitens the cross spectrum so that the
//!   peak stays one sample wide even for bass-heavy material; a floor on the weight keeps bins
//!   where the stem has no energy from turning into noise.
//! - [`Correlator::peak_normalized`] (the refined lag): normalised cross-correlation over a
//!   short range against a leave-one-out target (the mix minus every other fitted stem).
//!   Instruments that play correlated lines (bass and keys on the same notes) bias the coarse
//!   peak by a sample or more; once the other stems are subtracted the target holds only this
//!   stem and the peak is exact.
//!
//! Sign convention (the report contract's): a stem's offset `d` is positive when its content
//! comes *later* than in the mix, i.e. `stem[n] = part_of_mix[n - d]`; the aligned stem is read
//! at `stem[n + d]`.
//!
//! Memory is bounded by the number of files and the window sizes, never by file length: every
//! read goes through [`crate::source::FrameSource::read_window`].

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner};

use crate::fft::RealForward;

use crate::Result;
use crate::source::FrameSource;

/// Mean-square level of short probes spread over a file: where it carries audio.
///
/// Reading `probe_frames` every `hop_frames` costs `probe/hop` of a full read; a stem that
/// plays only between probes is caught by [`Activity::scan`] with `probe == hop` (a full read
/// of that one file), which the caller does when the probes found nothing.
#[derive(Debug, Clone)]
pub struct Activity {
    /// Distance between the starts of two probes, frames.
    pub hop_frames: u64,
    /// Mean square (summed over channels) of each probe; probe `k` starts at `k * hop_frames`.
    pub mean_square: Vec<f64>,
}

impl Activity {
    /// # Errors
    /// When the source cannot be read.
    pub fn scan(src: &mut dyn FrameSource, hop_frames: u64, probe_frames: u64) -> Result<Self> {
        let hop = hop_frames.max(1);
        let probe = probe_frames.clamp(1, hop) as usize;
        let n = src.frames().div_ceil(hop) as usize;
        let ch = src.channels();
        let mut buf = vec![0.0f32; probe * ch];
        let mut mean_square = Vec::with_capacity(n);
        for k in 0..n {
            // Centre the probe in its hop so it represents the hop.
            let start = k as u64 * hop + (hop - probe as u64) / 2;
            src.read_window(start as i64, &mut buf)?;
            let e: f64 = buf.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
            mean_square.push(e / probe as f64);
        }
        Ok(Self {
            hop_frames: hop,
            mean_square,
        })
    }

    /// Largest probe level.
    pub fn max(&self) -> f64 {
        self.mean_square.iter().copied().fold(0.0, f64::max)
    }

    /// Loudest probe inside `[start, start + len)` frames.
    pub fn window_peak(&self, start: u64, len: u64) -> f64 {
        let a = (start / self.hop_frames) as usize;
        let b = ((start + len).div_ceil(self.hop_frames) as usize).min(self.mean_square.len());
        self.mean_square
            .get(a..b)
            .map_or(0.0, |s| s.iter().copied().fold(0.0, f64::max))
    }

    /// The frames `[first, last)` spanned by the probes above `floor` that overlap
    /// `[start, start + len)` (frames may be negative: a window before the file's start);
    /// `(start, start)` when none is.
    pub fn active_span(&self, start: i64, len: u64, floor: f64) -> (i64, i64) {
        let hop = self.hop_frames as i64;
        let a = start.max(0) / hop;
        let end = (start + len as i64).max(0) as u64;
        let b = (end.div_ceil(self.hop_frames) as i64).min(self.mean_square.len() as i64);
        let mut active = (a..b).filter(|&k| self.mean_square[k as usize] > floor);
        match (active.next(), active.next_back()) {
            (Some(f), Some(l)) => (f * hop, (l + 1) * hop),
            (Some(f), None) => (f * hop, (f + 1) * hop),
            _ => (start, start),
        }
    }

    /// Number of probes above `floor`.
    pub fn probes_above(&self, floor: f64) -> usize {
        self.mean_square.iter().filter(|&&x| x > floor).count()
    }

    /// Mean level of the probes inside `[start, start + len)` frames.
    pub fn window_level(&self, start: u64, len: u64) -> f64 {
        let a = (start / self.hop_frames) as usize;
        let b = ((start + len).div_ceil(self.hop_frames) as usize).min(self.mean_square.len());
        if b <= a {
            return 0.0;
        }
        self.mean_square[a..b].iter().sum::<f64>() / (b - a) as f64
    }
}

/// Picks analysis windows (start frames, each `window_frames` long, not overlapping) so that
/// every stem with audio is covered by up to `per_stem` windows where it is loud, preferring
/// windows shared by many stems (each window costs one read of every file).
///
/// `levels[i]` is stem `i`'s activity; windows are ranked by the stem's mean level in them and
/// count only where its loudest probe is above `floor_mean_square`.
pub fn choose_windows(
    levels: &[Option<&Activity>],
    total_frames: u64,
    window_frames: u64,
    per_stem: usize,
    floor_mean_square: f64,
) -> Vec<u64> {
    let Some(hop) = levels.iter().flatten().map(|a| a.hop_frames).next() else {
        return Vec::new();
    };
    let last = total_frames.saturating_sub(window_frames);
    let mut cands: Vec<u64> = (0..=last / hop).map(|k| k * hop).collect();
    if cands.is_empty() {
        cands.push(0);
    }
    let rel = relative_levels(levels, &cands, window_frames, floor_mean_square);
    let strong = 0.1; // -10 dB of the stem's best window
    let present = 1e-3; // -30 dB
    let share: Vec<f64> = (0..cands.len())
        .map(|c| rel.iter().filter(|r| r[c] >= strong).count() as f64 / rel.len().max(1) as f64)
        .collect();
    let mut order: Vec<usize> = (0..rel.len())
        .filter(|&i| rel[i].iter().any(|&r| r > 0.0))
        .collect();
    order.sort_by_key(|&i| rel[i].iter().filter(|&&r| r >= present).count());
    let mut chosen: Vec<u64> = Vec::new();
    let overlaps = |chosen: &[u64], t: u64| {
        chosen
            .iter()
            .any(|&u| t < u + window_frames && u < t + window_frames)
    };
    // First a window around each stem's strongest onset: sustained tonal parts (a pad chord)
    // correlate almost equally at many lags, their attack pins the lag down.
    let wprobes = (window_frames / hop).max(1) as usize;
    for &i in &order {
        let Some(a) = levels[i] else { continue };
        let ms = &a.mean_square;
        let max = a.max();
        let onset = (1..ms.len())
            .filter(|&p| ms[p] >= 0.01 * max && ms[p] > floor_mean_square)
            .max_by(|&p, &q| {
                let rp = ms[p] / (ms[p - 1] + floor_mean_square);
                let rq = ms[q] / (ms[q - 1] + floor_mean_square);
                rp.total_cmp(&rq)
            });
        let Some(p) = onset else { continue };
        if ms[p] < 4.0 * ms[p - 1] {
            continue; // no real onset
        }
        let onset_frame = p as u64 * hop;
        let inside =
            |t: u64| t + window_frames / 8 <= onset_frame && onset_frame < t + window_frames / 2;
        if chosen.iter().any(|&t| inside(t)) {
            continue;
        }
        let t = (p.saturating_sub(wprobes / 4) as u64 * hop).min(last / hop * hop);
        if !overlaps(&chosen, t) {
            chosen.push(t);
        }
    }
    for &i in &order {
        let covered = |chosen: &[u64]| {
            chosen
                .iter()
                .filter(|&&t| rel[i][(t / hop) as usize] >= strong)
                .count()
        };
        while covered(&chosen) < per_stem {
            let best = (0..cands.len())
                .filter(|&c| rel[i][c] >= present && !overlaps(&chosen, cands[c]))
                .max_by(|&a, &b| {
                    let sa = rel[i][a] + 0.5 * share[a];
                    let sb = rel[i][b] + 0.5 * share[b];
                    sa.total_cmp(&sb)
                });
            // Where every window holding the stem overlaps one already chosen (a short part
            // between two windows), take the least overlapping one: a few frames counted
            // twice cost less than a stem left out.
            let best = best.or_else(|| {
                (0..cands.len())
                    .filter(|&c| rel[i][c] >= present && !chosen.contains(&cands[c]))
                    .filter(|_| covered(&chosen) == 0)
                    .min_by_key(|&c| {
                        chosen
                            .iter()
                            .map(|&u| {
                                (u + window_frames)
                                    .min(cands[c] + window_frames)
                                    .saturating_sub(u.max(cands[c]))
                            })
                            .sum::<u64>()
                    })
            });
            match best {
                Some(c) => chosen.push(cands[c]),
                None => break,
            }
        }
    }
    chosen.sort_unstable();
    chosen
}

/// Each stem's mean level in each candidate window (`[stem][candidate]`), relative to its best
/// candidate; 0 where its loudest probe is not above `floor_mean_square` (or it has no audio).
fn relative_levels(
    levels: &[Option<&Activity>],
    cands: &[u64],
    window_frames: u64,
    floor_mean_square: f64,
) -> Vec<Vec<f64>> {
    levels
        .iter()
        .map(|a| match a {
            Some(a) => {
                let lv: Vec<f64> = cands
                    .iter()
                    .map(|&t| a.window_level(t, window_frames))
                    .collect();
                let best = lv.iter().copied().fold(0.0, f64::max);
                if best <= 0.0 {
                    vec![0.0; lv.len()]
                } else {
                    // Ranked by mean level (how much of the stem a window holds); a window
                    // counts when its loudest probe is above the floor (sparse hits).
                    lv.iter()
                        .zip(cands)
                        .map(|(&l, &t)| {
                            if a.window_peak(t, window_frames) > floor_mean_square {
                                l / best
                            } else {
                                0.0
                            }
                        })
                        .collect()
                }
            }
            None => vec![0.0; cands.len()],
        })
        .collect()
}

/// Whether a stem is present in the window starting at `t`: its loudest probe there is above
/// the floor and within 30 dB of its loudest probe anywhere.
pub fn present_in(a: &Activity, t: u64, window_frames: u64, floor_mean_square: f64) -> bool {
    let p = a.window_peak(t, window_frames);
    p > floor_mean_square && p >= 1e-3 * a.max()
}

/// FFT size at least `n` with only factors 2, 3 and 5 (fast for rustfft).
pub fn fft_size(n: usize) -> usize {
    let mut m = n.max(2);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        if r == 1 && m.is_multiple_of(2) {
            return m;
        }
        m += 1;
    }
}

/// Exponent of the phase transform's whitening (1 = full PHAT, 0 = plain correlation).
pub const PHAT_BETA: f32 = 0.7;

/// One lag estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LagEstimate {
    /// Positive = the stem's content comes later than the reference's.
    pub lag_samples: i64,
    /// Correlation at the peak (signed; its sign is the polarity).
    pub peak: f64,
    /// Peak over the RMS of the correlation away from the peak. Unrelated signals give about 5
    /// over a +/-2 s search at 48 kHz; a stem inside the mix gives tens to thousands.
    pub peak_to_sidelobe: f64,
    /// The same correlation at lag 0 (how much the peak improves on no shift).
    pub at_zero: f64,
    /// Where between samples the peak sits, in `-0.5..=0.5` and the sign of `lag_samples`
    /// (a parabola through the peak and its two neighbours): the true lag is about
    /// `lag_samples + fraction_samples`. Only a lag that changes over time (clock drift)
    /// needs it; every placement stays on whole samples.
    pub fraction_samples: f64,
}

/// Cross-spectrum accumulator for a correlation of a window of `window` frames against a
/// reference span of `window + 2 * range` frames (lags `-range..=range`).
pub struct Correlator {
    window: usize,
    range: usize,
    n: usize,
    fwd: RealForward,
    inv: Arc<dyn ComplexToReal<f32>>,
    time: Vec<f32>,
    scratch: Vec<Complex<f32>>,
}

impl std::fmt::Debug for Correlator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("window", &self.window)
            .field("range", &self.range)
            .field("n", &self.n)
            .finish()
    }
}

/// A spectrum of [`Correlator::spectrum_len`] bins.
pub type Spectrum = Vec<Complex<f32>>;

impl Correlator {
    /// A correlator for windows of `window` frames searched over lags `-range..=range`, with
    /// forward and inverse FFTs (of [`fft_size`] at least `window + 2 * range`, so the circular
    /// correlation does not wrap over the searched lags) planned on `planner`.
    pub fn new(planner: &mut RealFftPlanner<f32>, window: usize, range: usize) -> Self {
        let n = fft_size(window + 2 * range);
        let fwd = RealForward::new(n);
        let inv = planner.plan_fft_inverse(n);
        let scratch = vec![Complex::default(); fwd.scratch_len().max(inv.get_scratch_len())];
        Self {
            window,
            range,
            n,
            fwd,
            inv,
            time: vec![0.0; n],
            scratch,
        }
    }

    /// Length of the correlated window, frames.
    pub fn window(&self) -> usize {
        self.window
    }
    /// Largest lag searched either way, frames.
    pub fn range(&self) -> usize {
        self.range
    }
    /// Length of the reference span: `window + 2 * range`.
    pub fn reference_len(&self) -> usize {
        self.window + 2 * self.range
    }
    /// Bins of a real spectrum of the FFT size (`n / 2 + 1`).
    pub fn spectrum_len(&self) -> usize {
        self.n / 2 + 1
    }
    /// A zeroed spectrum of [`Correlator::spectrum_len`] bins, to transform into or accumulate on.
    pub fn new_spectrum(&self) -> Spectrum {
        vec![Complex::default(); self.spectrum_len()]
    }

    /// Spectrum of `x` (at most `n` samples, zero-padded).
    pub fn forward(&mut self, x: &[f32], out: &mut Spectrum) {
        let k = x.len().min(self.n);
        self.time[..k].copy_from_slice(&x[..k]);
        self.time[k..].fill(0.0);
        out.resize(self.spectrum_len(), Complex::default());
        self.fwd
            .process_with_scratch(&mut self.time, out, &mut self.scratch)
            .expect("buffer sizes match the plan");
    }

    /// `acc += reference * conj(window)`: the cross spectrum whose inverse peaks at the lag.
    pub fn accumulate(acc: &mut Spectrum, reference: &Spectrum, window: &Spectrum) {
        for ((a, r), w) in acc.iter_mut().zip(reference).zip(window) {
            *a += r * w.conj();
        }
    }

    /// Adds one window pair's energies for [`Correlator::peak_normalized`]: the energy of
    /// the reference under the window at every lag, and the window's own energy.
    pub fn add_energies(&self, reference: &[f32], window: &[f32], e: &mut Energies) {
        let w = self.window.min(window.len());
        let lags = 2 * self.range + 1;
        e.reference.resize(lags, 0.0);
        e.window += window
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>();
        // The energy under the window at lag l is P(min(l + w, len)) - P(min(l, ..)) with P
        // the running sum of squares. Both ends only move forward, so each is a running sum
        // of its own, added in the same order as one prefix array would be (the same values to
        // the bit) without storing it: the reference is a few seconds long, and writing and
        // re-reading a prefix array that size ran from memory, not cache.
        let len = reference.len();
        let sq = |j: usize| f64::from(reference[j]) * f64::from(reference[j]);
        let (mut hi, mut p_hi) = (0usize, 0.0f64);
        let (mut lo, mut p_lo) = (0usize, 0.0f64);
        for (l, r) in e.reference.iter_mut().enumerate() {
            let hi_to = (l + w).min(len);
            while hi < hi_to {
                p_hi += sq(hi);
                hi += 1;
            }
            let lo_to = l.min(hi_to);
            while lo < lo_to {
                p_lo += sq(lo);
                lo += 1;
            }
            *r += p_hi - p_lo;
        }
    }

    /// Finds the peak of the accumulated cross spectrum.
    ///
    /// With `phat`, the spectrum is partially whitened, `C / (|C| + floor)^PHAT_BETA` with a
    /// floor of 5 % of the mean magnitude: the peak narrows to a few samples even for bass,
    /// while bins where the stem has nothing stay small instead of being amplified into noise.
    pub fn peak(&mut self, acc: &Spectrum, phat: bool) -> Option<LagEstimate> {
        self.pick(acc, phat, None)
    }

    /// The lag of the largest *normalised* correlation `<x, ref_l> / (|x| |ref_l|)` (no
    /// whitening). This is the robust choice against a leave-one-out target that holds little
    /// but the stem itself: its maximum is at the true lag even for sustained tonal parts whose
    /// plain correlation peaks wherever the target is loudest. `peak` is then the correlation
    /// coefficient (signed).
    pub fn peak_normalized(&mut self, acc: &Spectrum, e: &Energies) -> Option<LagEstimate> {
        self.pick(acc, false, Some(e))
    }

    fn pick(&mut self, acc: &Spectrum, phat: bool, norm: Option<&Energies>) -> Option<LagEstimate> {
        let mut spec = acc.clone();
        if phat {
            let mean = spec.iter().map(|c| c.norm()).sum::<f32>() / spec.len() as f32;
            if mean <= 0.0 || !mean.is_finite() {
                return None;
            }
            let floor = 0.05 * mean;
            for c in &mut spec {
                *c /= (c.norm() + floor).powf(PHAT_BETA);
            }
        }
        spec[0].im = 0.0;
        let last = spec.len() - 1;
        spec[last].im = 0.0;
        self.inv
            .process_with_scratch(&mut spec, &mut self.time, &mut self.scratch)
            .expect("buffer sizes match the plan");
        // r[l] = sum_j w[j] ref[j + l]; lag = range - l.
        let scale = 1.0 / self.n as f64;
        let r: Vec<f64> = match norm {
            None => self.time[..=2 * self.range]
                .iter()
                .map(|&v| f64::from(v) * scale)
                .collect(),
            Some(e) => self.time[..=2 * self.range]
                .iter()
                .zip(&e.reference)
                .map(|(&v, &er)| {
                    let d = (er * e.window).sqrt();
                    // Lags where the reference is (nearly) silent cannot match.
                    if d > 1e-9 * e.window {
                        f64::from(v) * scale / d
                    } else {
                        0.0
                    }
                })
                .collect(),
        };
        let (l, &p) = r
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
        if p == 0.0 || !p.is_finite() {
            return None;
        }
        let guard = (self.range / 50).clamp(4, 480);
        let (mut e2, mut cnt) = (0.0f64, 0usize);
        for (j, &v) in r.iter().enumerate() {
            if j.abs_diff(l) > guard {
                e2 += v * v;
                cnt += 1;
            }
        }
        let side = if cnt > 0 {
            (e2 / cnt as f64).sqrt()
        } else {
            0.0
        };
        let psr = if side > 0.0 {
            p.abs() / side
        } else {
            f64::INFINITY
        };
        Some(LagEstimate {
            lag_samples: self.range as i64 - l as i64,
            peak: p,
            peak_to_sidelobe: psr,
            at_zero: r[self.range],
            fraction_samples: -parabolic_vertex(&r, l),
        })
    }
}

/// Offset (in `-0.5..=0.5` index units) of the vertex of the parabola through `r[l - 1]`,
/// `r[l]` and `r[l + 1]` from `l`, taken on the peak's sign; 0 at an edge or a flat top.
fn parabolic_vertex(r: &[f64], l: usize) -> f64 {
    if l == 0 || l + 1 >= r.len() {
        return 0.0;
    }
    let sign = r[l].signum();
    let (ym, y0, yp) = (sign * r[l - 1], sign * r[l], sign * r[l + 1]);
    let curve = ym - 2.0 * y0 + yp;
    if curve >= 0.0 || !curve.is_finite() {
        return 0.0;
    }
    (0.5 * (ym - yp) / curve).clamp(-0.5, 0.5)
}

/// Energies behind a normalised correlation (see [`Correlator::add_energies`]).
#[derive(Debug, Clone, Default)]
pub struct Energies {
    /// Energy (sum of squares) of the reference under the window at every lag; index `l` is
    /// lag `l - range`.
    pub reference: Vec<f64>,
    /// Energy (sum of squares) of the window itself.
    pub window: f64,
}

/// Lag of `stem` against `reference` (both mono, in memory), searched over `-range..=range`
/// with GCC-PHAT on the whole signal. A convenience for short signals and tests; the
/// reconciliation works on windows of files instead.
pub fn find_lag(reference: &[f32], stem: &[f32], range: usize) -> Option<LagEstimate> {
    let window = stem.len().max(1);
    let mut planner = RealFftPlanner::new();
    let mut c = Correlator::new(&mut planner, window, range);
    let mut refwin = vec![0.0f32; c.reference_len()];
    for (j, v) in refwin.iter_mut().enumerate() {
        let idx = j as i64 - range as i64;
        if idx >= 0 && (idx as usize) < reference.len() {
            *v = reference[idx as usize];
        }
    }
    let (mut rs, mut ws) = (c.new_spectrum(), c.new_spectrum());
    c.forward(&refwin, &mut rs);
    c.forward(stem, &mut ws);
    let mut acc = c.new_spectrum();
    Correlator::accumulate(&mut acc, &rs, &ws);
    c.peak(&acc, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running-sum energies are the prefix-array ones to the bit (the form they replaced,
    /// kept here as the reference), also when the reference is shorter than lags + window.
    #[test]
    fn add_energies_matches_the_prefix_array_form() {
        let mut planner = RealFftPlanner::<f32>::new();
        for (window, range, len) in [(64, 10, 84), (64, 10, 70), (64, 10, 30), (100, 3, 107)] {
            let c = Correlator::new(&mut planner, window, range);
            let reference = noise(len, len as u64);
            let win = noise(window, 7);
            let mut e = Energies::default();
            c.add_energies(&reference, &win, &mut e);
            c.add_energies(&reference, &win, &mut e);
            let mut prefix = vec![0.0f64];
            for &x in &reference {
                prefix.push(prefix.last().unwrap() + f64::from(x) * f64::from(x));
            }
            let w = c.window.min(win.len());
            for (l, &r) in e.reference.iter().enumerate() {
                let hi = (l + w).min(len);
                let one = prefix[hi] - prefix[l.min(hi)];
                assert_eq!(
                    r.to_bits(),
                    (0.0 + one + one).to_bits(),
                    "lag {l} of {window}/{range}/{len}"
                );
            }
            assert_eq!(e.reference.len(), 2 * range + 1);
        }
    }

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn the_peak_is_placed_between_samples() {
        let tone = |t: f64| -> f32 {
            [(211.0, 0.5), (523.0, 0.3), (1217.0, 0.2), (2903.0, 0.1)]
                .iter()
                .map(|&(f, a)| a * (2.0 * std::f64::consts::PI * f * t / 48_000.0).sin())
                .sum::<f64>() as f32
        };
        for delay in [3.3, -7.75, 12.0] {
            let reference: Vec<f32> = (0..8192).map(|n| tone(n as f64)).collect();
            let stem: Vec<f32> = (0..8192).map(|n| tone(n as f64 - delay)).collect();
            let e = find_lag(&reference, &stem, 32).unwrap();
            let lag = e.lag_samples as f64 + e.fraction_samples;
            assert!((lag - delay).abs() < 0.25, "{delay}: {e:?}");
            assert!(e.fraction_samples.abs() <= 0.5);
        }
    }

    #[test]
    fn gcc_phat_finds_delays_both_ways() {
        let x = noise(20_000, 1);
        for d in [-300i64, -1, 0, 1, 37, 299] {
            // stem[n] = x[n - d]
            let stem: Vec<f32> = (0..x.len() as i64)
                .map(|n| {
                    let k = n - d;
                    if k >= 0 && (k as usize) < x.len() {
                        x[k as usize]
                    } else {
                        0.0
                    }
                })
                .collect();
            let est = find_lag(&x, &stem, 300).unwrap();
            assert_eq!(est.lag_samples, d);
            assert!(est.peak > 0.0);
            assert!(est.peak_to_sidelobe > 20.0, "{est:?}");
        }
    }

    #[test]
    fn inverted_stem_gives_negative_peak() {
        let x = noise(8_000, 2);
        let stem: Vec<f32> = x.iter().map(|v| -v).collect();
        let est = find_lag(&x, &stem, 100).unwrap();
        assert_eq!(est.lag_samples, 0);
        assert!(est.peak < 0.0);
    }

    #[test]
    fn unrelated_noise_has_low_peak_to_sidelobe() {
        let est = find_lag(&noise(30_000, 3), &noise(30_000, 4), 2_000).unwrap();
        assert!(est.peak_to_sidelobe < 7.0, "{est:?}");
    }

    #[test]
    fn fft_sizes_are_smooth() {
        assert_eq!(fft_size(1000), 1000);
        assert_eq!(fft_size(1001), 1024);
        assert!(fft_size(240_001) >= 240_001);
    }

    #[test]
    fn windows_cover_a_stem_that_plays_late() {
        let hop = 100;
        let early = Activity {
            hop_frames: hop,
            mean_square: (0..100).map(|k| if k < 50 { 1.0 } else { 0.0 }).collect(),
        };
        let late = Activity {
            hop_frames: hop,
            mean_square: (0..100).map(|k| if k >= 90 { 0.5 } else { 0.0 }).collect(),
        };
        let w = choose_windows(&[Some(&early), Some(&late), None], 10_000, 400, 2, 1e-9);
        assert!(w.iter().filter(|&&t| t + 400 > 9_000).count() >= 2, "{w:?}");
        assert!(
            w.iter().filter(|&&t| t + 400 <= 5_000).count() >= 2,
            "{w:?}"
        );
        for (a, b) in w.iter().zip(w.iter().skip(1)) {
            assert!(b - a >= 400, "overlap {w:?}");
        }
    }
}
