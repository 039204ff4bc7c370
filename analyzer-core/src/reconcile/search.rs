//! Steps 3b to 4 of the reconciliation: from the coarse lags to every stem's final offset.
//!
//! Weak stems are searched against the mix minus the stems found clearly (3b), the set is
//! arbitrated by its joint null (3c, see [`super::arbiter`]), every lag is refined against its
//! leave-one-out target (4), and the windows' least-squares fit decides which stems are in the
//! mix at all.

use realfft::RealFftPlanner;

use super::arbiter::{Arbiter, LOO_MIN_CORRELATION};
use super::evidence;
use super::locate::{Located, common_lag};
use super::plan::{Plan, dbg_align};
use super::types::ReconcileOptions;
use super::window_io::WindowIo;
use crate::Result;
use crate::align::{Correlator, LagEstimate};

/// A coarse peak this clear is trusted without a second, leave-one-out search.
const STRONG_PEAK_TO_SIDELOBE: f64 = 40.0;

/// Where every stem sits after the searches, and the windows' fit there.
#[derive(Debug, Clone)]
pub(super) struct Placement {
    /// Per stem; 0 for stems that are not active.
    pub offsets: Vec<i64>,
    /// Stems that correlate with the mix (and are therefore fitted and judged).
    pub active: Vec<bool>,
    /// Per stem, the estimate behind its lag: the coarse peak against the mix, or the
    /// leave-one-out search's for a stem whose coarse peak was weak.
    pub estimates: Vec<Option<LagEstimate>>,
    /// Least-squares gains on the windows, per stem and mix channel.
    pub window_coefs: Vec<f64>,
    /// Normalised correlation of each fitted stem with its leave-one-out target.
    pub confidence: Vec<f64>,
    /// Per stem, how much its gain fitted window by window varies (see
    /// [`window_gain_spreads`]); `None` for a stem not active or sounding in too few windows.
    pub window_gain_spread_db: Vec<Option<f64>>,
    /// Per stem, the range (largest minus smallest, dB) of its gain fitted window by window
    /// (see [`window_gain_spreads`]); `None` as for the spread, or in fewer than
    /// [`RANGE_MIN_WINDOWS`] windows.
    pub window_gain_range_db: Vec<Option<f64>>,
    /// Per stem, how much a gain of its own in every window lowers the windows' residual
    /// under the joint fit, dB (see [`window_gain_spreads`]).
    pub window_own_gain_db: Vec<Option<f64>>,
}

/// Windows a stem must sound in for its gain spread to be measured: an interquartile range
/// needs a few values.
pub(super) const SPREAD_MIN_WINDOWS: usize = 4;
/// What [`window_gain_spreads`] measures per stem.
struct WindowGains {
    spread_db: Option<f64>,
    range_db: Option<f64>,
    own_gain_db: Option<f64>,
}

/// Windows a stem must sound in for the range of its window gains to be measured.
pub(super) const RANGE_MIN_WINDOWS: usize = 2;

/// How much each active stem's least-squares gain varies from window to window: the
/// interquartile range, in dB, of the gains fitted on every window where the stem sounds.
///
/// A stem delivered at another level than it has in the mix (a fader moved) needs the same
/// gain in every window. A gain that content no stem carries pulls (a missing lead's dry
/// signal correlates with the reverb return that carries its tail, so the fit boosts the
/// return to stand in for it) is large where that content plays and near 0 dB where it rests:
/// its spread tells the two apart where the whole-span fit's correlation and the share of the
/// residual it explains do not.
///
/// Also the range of those gains (largest minus smallest): a fader ride the stem export did not
/// print moves one stem's gain in the windows it covers (often a minority of them, which the
/// interquartile range is blind to) and leaves the other stems' where they are.
///
/// And, per stem, how much of the windows' residual under the joint fit `coefs` a gain of its
/// own in every window removes (dB, `None` without residual): the residual a ride leaves is the
/// ridden stem itself, so letting its gain follow the ride removes nearly all of it; content no
/// stem carries, or bus dynamics that move every stem, stay.
fn window_gain_spreads(
    io: &mut WindowIo<'_>,
    active: &[bool],
    offsets: &[i64],
    coefs: &[f64],
) -> Result<Vec<WindowGains>> {
    let model = io.model();
    let span = io.judged_span(active, offsets);
    let grams = io.window_grams(offsets, &span)?;
    let present = io.present();
    let k = offsets.len();
    let mut per_stem: Vec<Vec<f64>> = vec![Vec::new(); k];
    // Per stem: the windows' residual under the joint fit, and with the stem's own gain
    // re-fitted in each window (the energy is quadratic in a factor on the stem's gains:
    // three evaluations give its minimum exactly).
    let (mut e_joint, mut e_own) = (vec![0.0f64; k], vec![0.0f64; k]);
    let cm = model.mix_channels;
    for (w, g) in grams.iter().enumerate() {
        let Some(g) = g else { continue };
        let fitted = model.coefs(&g.solve_masked(model, active));
        for (i, gains) in per_stem.iter_mut().enumerate() {
            if active[i] && present[i].get(w).copied().unwrap_or(false) {
                let a = model.stem_gain(&fitted, i).abs();
                gains.push(crate::units::amp_to_db(a.max(1e-6)));
                let scaled = |f: f64| {
                    let mut c = coefs.to_vec();
                    c[i * cm..(i + 1) * cm].iter_mut().for_each(|v| *v *= f);
                    g.energy(&c)
                };
                let (e0, e1, e2) = (scaled(0.0), scaled(1.0), scaled(2.0));
                let curve = (e2 - 2.0 * e1 + e0) / 2.0;
                let slope = e1 - e0 - curve;
                let best = if curve > 0.0 {
                    (e0 - slope * slope / (4.0 * curve)).clamp(0.0, e1)
                } else {
                    e1
                };
                e_joint[i] += e1;
                e_own[i] += best;
            }
        }
    }
    dbg_align(|| format!("window gains {per_stem:.2?}"));
    Ok(per_stem
        .into_iter()
        .enumerate()
        .map(|(i, mut gains)| {
            let own_gain_db = (e_joint[i] > 0.0)
                .then(|| crate::units::power_to_db(e_own[i].max(1e-300) / e_joint[i]));
            gains.sort_by(f64::total_cmp);
            let range =
                (gains.len() >= RANGE_MIN_WINDOWS).then(|| gains[gains.len() - 1] - gains[0]);
            if gains.len() < SPREAD_MIN_WINDOWS {
                return WindowGains {
                    spread_db: None,
                    range_db: range,
                    own_gain_db,
                };
            }
            // Quartiles interpolated between the sorted values (a handful of windows).
            let q = |p: f64| {
                let x = (gains.len() - 1) as f64 * p;
                let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
                gains[lo] + (gains[hi] - gains[lo]) * (x - lo as f64)
            };
            WindowGains {
                spread_db: Some(q(0.75) - q(0.25)),
                range_db: range,
                own_gain_db,
            }
        })
        .collect())
}

/// The search steps, over the windows of one [`WindowIo`].
pub(super) struct Search<'p> {
    pub plan: &'p Plan,
    pub located: &'p Located,
    pub options: &'p ReconcileOptions,
    pub planner: RealFftPlanner<f32>,
}

/// The lags while the searches move them.
struct Lags {
    /// Per stem, the estimate behind its lag (see [`Placement::estimates`]).
    estimates: Vec<Option<LagEstimate>>,
    /// The coarse peaks against the whole mix, before the leave-one-out searches replace the
    /// weak ones: candidates for the joint-null arbitration.
    coarse_mix: Vec<Option<LagEstimate>>,
    /// Stems whose coarse peak is clear enough to be trusted as it is.
    strong: Vec<bool>,
    offsets: Vec<i64>,
}

impl Search<'_> {
    /// From the coarse lags to the placement (steps 3b to 4 of the module docs). `io`'s
    /// windows are set here and hold the final mix-time windows on return.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn place(
        &mut self,
        io: &mut WindowIo<'_>,
        coarse: Vec<Option<LagEstimate>>,
    ) -> Result<Placement> {
        let k = coarse.len();
        let strong: Vec<bool> = coarse
            .iter()
            .map(|c| c.is_some_and(|c| c.peak_to_sidelobe >= STRONG_PEAK_TO_SIDELOBE))
            .collect();
        dbg_align(|| format!("coarse {coarse:?}"));
        let offsets: Vec<i64> = (0..k)
            .map(|i| match coarse[i] {
                Some(c) if strong[i] => c.lag_samples,
                _ => 0,
            })
            .collect();
        // From here on windows are in mix time and every stem is read at its offset; a shifted
        // stem (sparse hits 1 s late) gets windows where its content lands in the mix.
        let (windows, present) = self.located.mix_windows(self.plan, &offsets, &strong);
        io.set_windows(windows, present);
        let mut lags = Lags {
            coarse_mix: coarse.clone(),
            estimates: coarse,
            strong,
            offsets,
        };
        self.weak_stems(io, &mut lags)?;
        let min_psr = self.options.min_peak_to_sidelobe;
        let mut active: Vec<bool> = lags
            .estimates
            .iter()
            .map(|c| c.is_some_and(|c| c.peak_to_sidelobe >= min_psr))
            .collect();
        for i in (0..k).filter(|&i| !active[i]) {
            lags.offsets[i] = 0;
        }
        let (windows, present) = self.located.mix_windows(self.plan, &lags.offsets, &active);
        io.set_windows(windows, present);
        self.arbitrate(io, &mut lags, &active)?;
        if !self.located.windows.is_empty() && active.iter().any(|&a| a) {
            self.refine(io, &active, &mut lags.offsets)?;
            // 4b. An offset stands only on evidence that holds window by window.
            let before = lags.offsets.clone();
            evidence::confirm_offsets(io, &active, &mut lags.offsets)?;
            if lags.offsets != before {
                let (windows, present) =
                    self.located.mix_windows(self.plan, &lags.offsets, &active);
                io.set_windows(windows, present);
            }
        }
        let (window_coefs, confidence) = self.fit_windows(io, &mut active, &mut lags.offsets)?;
        let gains = window_gain_spreads(io, &active, &lags.offsets, &window_coefs)?;
        let window_gain_spread_db = gains.iter().map(|g| g.spread_db).collect();
        let window_gain_range_db = gains.iter().map(|g| g.range_db).collect();
        let window_own_gain_db: Vec<Option<f64>> = gains.iter().map(|g| g.own_gain_db).collect();
        dbg_align(|| {
            let r: Vec<String> = gains
                .iter()
                .map(|g| format!("range {:.2?} own {:.1?}", g.range_db, g.own_gain_db))
                .collect();
            format!("window gains per stem: {}", r.join("; "))
        });
        Ok(Placement {
            offsets: lags.offsets,
            active,
            estimates: lags.estimates,
            window_coefs,
            confidence,
            window_gain_spread_db,
            window_gain_range_db,
            window_own_gain_db,
        })
    }

    fn correlator(&mut self, range: usize) -> Correlator {
        Correlator::new(&mut self.planner, self.plan.window_frames as usize, range)
    }

    /// Stems of `order` (indices into the activity), loudest first.
    fn loudest_first(&self, mut order: Vec<usize>) -> Vec<usize> {
        let loudness = |i: usize| self.located.loudness(i);
        order.sort_by(|&a, &b| loudness(b).total_cmp(&loudness(a)));
        order
    }

    /// Step 3b. Stems whose peak is weak against the mix (a quiet pad under louder parts that
    /// share its notes) are searched again, over the full range, against the mix minus the
    /// stems that were found clearly: one weak stem at a time, loudest first, each found one
    /// joining the subtracted set (two weak stems searched together would each see the other
    /// in their target).
    fn weak_stems(&mut self, io: &mut WindowIo<'_>, lags: &mut Lags) -> Result<()> {
        let k = lags.offsets.len();
        let (activity, present) = (&self.located.activity, &self.located.present);
        let weak: Vec<bool> = (0..k)
            .map(|i| activity[i].is_some() && !lags.strong[i] && present[i].iter().any(|&p| p))
            .collect();
        if !(weak.iter().any(|&w| w) && lags.strong.iter().any(|&s| s)) {
            return Ok(());
        }
        let order = self.loudest_first((0..k).filter(|&i| weak[i]).collect());
        let mut known = lags.strong.clone();
        let mut corr = self.correlator(self.plan.range_samples);
        let min_peak_to_sidelobe = self.options.min_peak_to_sidelobe;
        let search = WeakSearch {
            order: &order,
            coarse: &lags.estimates,
            min_peak_to_sidelobe,
        };
        let found = search.run(io, &mut corr, &mut known, &mut lags.offsets)?;
        for (i, w) in found.into_iter().enumerate() {
            if let Some(w) = w {
                lags.estimates[i] = Some(LagEstimate {
                    peak_to_sidelobe: w.peak_to_sidelobe.max(min_peak_to_sidelobe),
                    ..w
                });
            }
        }
        Ok(())
    }

    /// Step 3c. Joint-null arbitration between near-equal lags (periodic material): the weak
    /// stems are searched once more, each against the mix minus every other stem placed at
    /// the set's common lag (so that a stem searched early cannot drag the later ones), and
    /// then every stem settles on the candidate lag with the deepest joint null.
    fn arbitrate(&mut self, io: &mut WindowIo<'_>, lags: &mut Lags, active: &[bool]) -> Result<()> {
        let k = lags.offsets.len();
        let offsets = &mut lags.offsets;
        let strong = &lags.strong;
        let common = common_lag(
            &(0..k)
                .filter(|&i| active[i] && strong[i])
                .map(|i| offsets[i])
                .collect::<Vec<_>>(),
        );
        let order = self.loudest_first((0..k).filter(|&i| active[i] && !strong[i]).collect());
        let mut at_common = offsets.clone();
        for &i in &order {
            at_common[i] = common;
        }
        let mut second = vec![None; k];
        if at_common != *offsets {
            let mut corr = self.correlator(self.plan.range_samples);
            let mut arbiter = Arbiter::new(io, active);
            arbiter.best_first(&mut corr, &order, &mut at_common)?;
            let (e_first, _) = arbiter.residuals(offsets, 0)?;
            let (e_second, _) = arbiter.residuals(&at_common, 0)?;
            dbg_align(|| {
                format!("first {offsets:?} {e_first:.3e}, second {at_common:?} {e_second:.3e}")
            });
            for &i in &order {
                second[i] = Some(at_common[i]);
            }
            if e_second <= e_first {
                offsets.copy_from_slice(&at_common);
            }
        }
        let min_psr = self.options.min_peak_to_sidelobe;
        let candidates: Vec<Vec<i64>> = (0..k)
            .map(|i| {
                [lags.coarse_mix[i], lags.estimates[i]]
                    .iter()
                    .flatten()
                    .filter(|c| c.peak_to_sidelobe >= min_psr)
                    .map(|c| c.lag_samples)
                    .chain(second[i])
                    .collect()
            })
            .collect();
        if Arbiter::new(io, active).arbitrate(offsets, common, &candidates)? {
            let (windows, present) = self.located.mix_windows(self.plan, offsets, active);
            io.set_windows(windows, present);
        }
        Ok(())
    }

    /// Step 4. Leave-one-out refinement on the windows: every active stem's lag over the
    /// refinement range against the mix minus every *other* fitted stem. Each correction is a
    /// proposal; it stands only if the least-squares residual on the windows falls. A stem
    /// whose proposal was refused is not moved again.
    fn refine(
        &mut self,
        io: &mut WindowIo<'_>,
        active: &[bool],
        offsets: &mut [i64],
    ) -> Result<()> {
        let k = offsets.len();
        let model = io.model();
        let mut corr = self.correlator(self.plan.refine_range_samples);
        let mut frozen = vec![false; k];
        let mut last: Option<(usize, i64)> = None;
        let mut accepted: Option<(f64, Vec<f64>)> = None;
        for _ in 0..self.options.refine_rounds.max(1) * (k + 1) {
            let gram = io.judged_gram(active, offsets)?;
            let coefs = model.coefs(&gram.solve(model));
            let energy = gram.energy(&coefs);
            dbg_align(|| {
                format!(
                    "refine {offsets:?} e {:.3e} last {last:?}",
                    energy / gram.mix_energy()
                )
            });
            let coefs = match (last, &accepted) {
                (Some((i, d)), Some((e_prev, prev_coefs))) if energy >= e_prev * (1.0 - 1e-6) => {
                    offsets[i] -= d;
                    frozen[i] = true;
                    prev_coefs.clone()
                }
                _ => {
                    accepted = Some((energy, coefs.clone()));
                    coefs
                }
            };
            let movable: Vec<bool> = (0..k).map(|i| active[i] && !frozen[i]).collect();
            let deltas = io.loo_search(&movable, offsets, &coefs, &mut corr, true)?;
            // Propose only the most convincing correction per round: correcting two correlated
            // stems at once makes them trade places (each was measured against the other's
            // old position) and the rounds oscillate.
            let best = (0..k)
                .filter_map(|i| deltas[i].filter(|d| d.lag_samples != 0).map(|d| (i, d)))
                .max_by(|a, b| {
                    let gain = |d: &LagEstimate| d.peak.abs() - d.at_zero.abs();
                    gain(&a.1).total_cmp(&gain(&b.1))
                });
            match best {
                Some((i, d)) => {
                    offsets[i] += d.lag_samples;
                    last = Some((i, d.lag_samples));
                }
                None => {
                    last = None;
                    break;
                }
            }
        }
        // The last proposal has not been judged yet.
        if let (Some((i, d)), Some((e_prev, _))) = (last, &accepted) {
            let gram = io.judged_gram(active, offsets)?;
            if gram.energy(&model.coefs(&gram.solve(model))) >= e_prev * (1.0 - 1e-6) {
                offsets[i] -= d;
            }
        }
        Ok(())
    }

    /// The windows' least-squares fit at the final offsets: gains and every stem's
    /// confidence. A stem that explains almost nothing of its leave-one-out target is not in
    /// the mix (or lies far below everything else): it is made inactive (no offset, no
    /// findings) and the rest fitted again.
    fn fit_windows(
        &self,
        io: &mut WindowIo<'_>,
        active: &mut [bool],
        offsets: &mut [i64],
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let k = offsets.len();
        let model = io.model();
        let mut wgram = io.judged_gram(active, offsets)?;
        let mut wcoefs = model.coefs(&wgram.solve(model));
        let mut confidence: Vec<f64> = (0..k).map(|i| wgram.loo_correlation(&wcoefs, i)).collect();
        let dropped: Vec<usize> = (0..k)
            .filter(|&i| active[i] && confidence[i] < self.options.min_correlation)
            .collect();
        if !dropped.is_empty() {
            for &i in &dropped {
                active[i] = false;
                offsets[i] = 0;
            }
            wgram = io.judged_gram(active, offsets)?;
            wcoefs = model.coefs(&wgram.solve(model));
            confidence = (0..k).map(|i| wgram.loo_correlation(&wcoefs, i)).collect();
        }
        Ok((wcoefs, confidence))
    }
}

/// The leave-one-out search of step 3b: stems in `order`, one at a time, over the full
/// range against the mix minus the `known` stems.
struct WeakSearch<'c> {
    order: &'c [usize],
    /// The coarse peaks against the mix (a proposal of their own).
    coarse: &'c [Option<LagEstimate>],
    min_peak_to_sidelobe: f64,
}

impl WeakSearch<'_> {
    /// Searches each stem of `order` in turn; a stem found joins `known` at its lag in
    /// `offsets`. Both orientations of the leave-one-out correlation propose a lag, and so
    /// does the coarse peak against the mix; the proposal that leaves the smaller
    /// least-squares residual on the windows wins. Returns the estimate behind every lag that
    /// was taken.
    fn run(
        &self,
        io: &mut WindowIo<'_>,
        corr: &mut Correlator,
        known: &mut [bool],
        offsets: &mut [i64],
    ) -> Result<Vec<Option<LagEstimate>>> {
        let k = offsets.len();
        let model = io.model();
        let mut found = vec![None; k];
        for &i in self.order {
            let gram = io.judged_gram(known, offsets)?;
            let coefs = model.coefs(&gram.solve_masked(model, known));
            let mut which = vec![false; k];
            which[i] = true;
            // Both orientations from one read of the windows (sliding the target catches an
            // onset anywhere in range, sliding the stem is not fooled by a target that is
            // quiet somewhere).
            let wide = io.loo_search_both(&which, offsets, &coefs, corr, &[false, true])?;
            let mut residual = |lag: i64| -> Result<f64> {
                let mut trial = offsets.to_vec();
                trial[i] = lag;
                let mut with = known.to_vec();
                with[i] = true;
                let g = io.judged_gram(&with, &trial)?;
                Ok(g.energy(&model.coefs(&g.solve_masked(model, &with)))
                    / g.mix_energy().max(1e-300))
            };
            let mut best: Option<(f64, LagEstimate)> = None;
            for pass in 0..3 {
                let proposal = if pass == 2 {
                    self.coarse[i].filter(|c| c.peak_to_sidelobe >= self.min_peak_to_sidelobe)
                } else {
                    // Leave-one-out lags are relative to the stem's current offset.
                    wide.get(pass)
                        .and_then(|w| w[i])
                        .filter(|w| w.peak.abs() >= LOO_MIN_CORRELATION)
                        .map(|w| LagEstimate {
                            lag_samples: w.lag_samples + offsets[i],
                            ..w
                        })
                };
                let Some(w) = proposal else {
                    continue;
                };
                if best.is_some_and(|(_, b)| b.lag_samples == w.lag_samples) {
                    continue;
                }
                let e = residual(w.lag_samples)?;
                if best.is_none_or(|(be, _)| e < be) {
                    best = Some((e, w));
                }
            }
            dbg_align(|| format!("weak {i}: best {best:?}"));
            // The normalised correlation with the target decides: a stem that explains a
            // good part of what the known stems leave over is in the mix at that lag.
            if let Some((_, w)) = best {
                offsets[i] = w.lag_samples;
                known[i] = true;
                found[i] = Some(w);
            }
        }
        Ok(found)
    }
}
