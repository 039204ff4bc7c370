//! Joint-null arbitration between lags that correlate about equally well (step 3c).
//!
//! Periodic material (a loop, keys repeating every beat, a reverb return smearing both)
//! correlates with the mix almost as well one beat or one comb delay away as at the true lag,
//! and a leave-one-out search made before the other stems are placed can lock onto such a
//! peak, dragging the stems searched after it. A lag is therefore trusted only when it wins
//! the *joint* null: every active stem fitted (least squares on the analysis windows, over the
//! span where every shifted stem has audio) with this stem at each candidate lag. Candidates
//! are the common lag of the set (where the clearly found stems agree), the coarse peak
//! against the mix and the leave-one-out lag; ties go to the one closer to the common lag.

use super::gram::Gram;
use super::plan::dbg_align;
use super::window_io::WindowIo;
use crate::Result;
use crate::align::Correlator;

/// A stem's leave-one-out lag counts when its normalised correlation with the target reaches
/// this.
pub(super) const LOO_MIN_CORRELATION: f64 = 0.3;

/// Most one-sample steps the joint-null polish of a moved stem takes each way.
const POLISH_STEPS: usize = 32;

/// Two lags whose joint nulls differ by less than this share of what the stem explains (the
/// residual with the stem left out minus the best residual) are a tie: the smaller shift wins.
const TIE_SHARE: f64 = 0.01;

/// What a stem must explain in the judged windows (share of the mix energy: the residual with
/// it left out minus the best residual, at any candidate) before the windows may move it. A
/// sparse stem can be silent in every window under every candidate; then 0 and the true lag
/// tie at zero and the windows carry no evidence either way: the stem keeps its lag.
const MIN_EXPLAINED_SHARE: f64 = 1e-9;

/// Judges offset vectors by their joint null on the windows of `io`, with the stems of
/// `active` fitted. The statistics of every offset vector judged are kept, so a vector is read
/// only once per arbiter.
pub(super) struct Arbiter<'a, 's> {
    io: &'a mut WindowIo<'s>,
    active: &'a [bool],
    cache: Vec<(Vec<i64>, Gram)>,
}

impl<'a, 's> Arbiter<'a, 's> {
    pub fn new(io: &'a mut WindowIo<'s>, active: &'a [bool]) -> Self {
        Self {
            io,
            active,
            cache: Vec::new(),
        }
    }

    /// The windows' Gram statistics with `offsets` over the judged span.
    fn gram(&mut self, offsets: &[i64]) -> Result<&Gram> {
        let p = match self.cache.iter().position(|(o, _)| o == offsets) {
            Some(p) => p,
            None => {
                let g = self.io.judged_gram(self.active, offsets)?;
                self.cache.push((offsets.to_vec(), g));
                self.cache.len() - 1
            }
        };
        Ok(&self.cache[p].1)
    }

    /// Windows' least-squares residual with `offsets`, relative to the mix over the judged
    /// span, with every active stem fitted, and with stem `left_out` left out.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn residuals(&mut self, offsets: &[i64], left_out: usize) -> Result<(f64, f64)> {
        let (model, active) = (self.io.model(), self.active);
        let g = self.gram(offsets)?;
        let e_mix = g.mix_energy().max(1e-300);
        let mut without = active.to_vec();
        without[left_out] = false;
        let e =
            |mask: &[bool]| (g.energy(&model.coefs(&g.solve_masked(model, mask))) / e_mix).max(0.0);
        Ok((e(active), e(&without)))
    }

    /// Moves the stems of `order` from `offsets` by leave-one-out searches over the full
    /// range, each stem against the mix minus every other stem where it stands, best first:
    /// per round every stem proposes its lag (both orientations), and only the proposal with
    /// the deepest joint null is taken, if it deepens the null. A stem misplaced among stems
    /// that are right sees exactly itself in its target and wins the round; stems that sit
    /// right but see its error in their targets propose small, shallower moves.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn best_first(
        &mut self,
        corr: &mut Correlator,
        order: &[usize],
        offsets: &mut [i64],
    ) -> Result<()> {
        let k = offsets.len();
        let Some(&first) = order.first() else {
            return Ok(());
        };
        let (model, active) = (self.io.model(), self.active);
        let mut which = vec![false; k];
        for &i in order {
            which[i] = true;
        }
        let mut moved = vec![false; k];
        for _ in 0..order.len() {
            let (e_now, _) = self.residuals(offsets, first)?;
            // The statistics `residuals` just read (cached), not a second read of the windows.
            let gram = self.gram(offsets)?;
            let coefs = model.coefs(&gram.solve_masked(model, active));
            let wide = self
                .io
                .loo_search_both(&which, offsets, &coefs, corr, &[false, true])?;
            let mut best: Option<(f64, usize, i64)> = None;
            for &i in order {
                for w in wide.iter().filter_map(|o| o[i]) {
                    if w.peak.abs() < LOO_MIN_CORRELATION || w.lag_samples == 0 {
                        continue;
                    }
                    let mut trial = offsets.to_vec();
                    trial[i] += w.lag_samples;
                    let (e, _) = self.residuals(&trial, i)?;
                    if best.is_none_or(|b| e < b.0) {
                        best = Some((e, i, trial[i]));
                    }
                }
            }
            dbg_align(|| format!("best first from {offsets:?} {e_now:.3e}: {best:?}"));
            match best {
                Some((e, i, lag)) if e < e_now * (1.0 - 1e-6) => {
                    offsets[i] = lag;
                    moved[i] = true;
                }
                _ => break,
            }
        }
        // The leave-one-out target of a stem holds the other stems' gain errors, which
        // pull the peak of a smooth signal (a reverb return) by a few samples: the joint
        // null itself settles the last samples.
        for i in (0..k).filter(|&i| moved[i]) {
            self.polish(i, offsets)?;
        }
        Ok(())
    }

    /// Moves stem `i` one sample at a time (up to [`POLISH_STEPS`] each way) while the joint
    /// null deepens.
    fn polish(&mut self, i: usize, offsets: &mut [i64]) -> Result<()> {
        let (mut e_now, _) = self.residuals(offsets, i)?;
        for step in [1i64, -1] {
            for _ in 0..POLISH_STEPS {
                let mut trial = offsets.to_vec();
                trial[i] += step;
                let (e, _) = self.residuals(&trial, i)?;
                if e >= e_now {
                    break;
                }
                e_now = e;
                offsets[i] = trial[i];
            }
        }
        Ok(())
    }

    /// Settles every active stem on the candidate lag (its own `candidates`, 0, `common` and
    /// its current offset) with the deepest joint null, stem by stem until nothing moves;
    /// near-equal nulls (within [`TIE_SHARE`] of what the stem explains) go to the smaller
    /// shift. Returns whether an offset changed. Costs one read of the windows per distinct
    /// offset vector, none when every stem sits at its only candidate.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn arbitrate(
        &mut self,
        offsets: &mut [i64],
        common: i64,
        candidates: &[Vec<i64>],
    ) -> Result<bool> {
        let k = offsets.len();
        let lags: Vec<Vec<i64>> = (0..k)
            .map(|i| {
                let mut l: Vec<i64> = candidates[i]
                    .iter()
                    .copied()
                    .chain([0, common, offsets[i]])
                    .collect();
                l.sort_unstable();
                l.dedup();
                l
            })
            .collect();
        let open: Vec<usize> = (0..k)
            .filter(|&i| self.active[i] && lags[i].len() > 1)
            .collect();
        let before = offsets.to_vec();
        for _ in 0..3 {
            let mut moved = false;
            for &i in &open {
                let mut tried: Vec<(i64, f64, f64)> = Vec::new();
                for &lag in &lags[i] {
                    let mut trial = offsets.to_vec();
                    trial[i] = lag;
                    let (e, e_out) = self.residuals(&trial, i)?;
                    tried.push((lag, e, e_out));
                }
                let Some(&(_, e_best, e_out)) = tried.iter().min_by(|a, b| a.1.total_cmp(&b.1))
                else {
                    continue;
                };
                let explained = tried.iter().map(|t| t.2 - e_best).fold(0.0, f64::max);
                if explained <= MIN_EXPLAINED_SHARE {
                    dbg_align(|| format!("arbitrate stem {i}: {tried:?}, no evidence: kept"));
                    continue;
                }
                let tie = TIE_SHARE * (e_out - e_best).max(0.0);
                let pick = tried
                    .iter()
                    .filter(|t| t.1 - e_best <= tie)
                    .min_by_key(|t| ((t.0 - common).abs().min(t.0.abs()), t.0.abs()))
                    .map_or(offsets[i], |t| t.0);
                dbg_align(|| format!("arbitrate stem {i}: {tried:?} -> {pick}"));
                if pick != offsets[i] {
                    offsets[i] = pick;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        Ok(offsets != before.as_slice())
    }
}
