//! Steps 1 to 3 of the reconciliation: where each stem carries audio (activity probes), which
//! analysis windows to read, and each stem's coarse lag against the mix (GCC-PHAT).

use realfft::RealFftPlanner;

use super::plan::Plan;
use crate::Result;
use crate::align::{self, Activity, Correlator, LagEstimate};
use crate::source::{self, FrameSource};

/// A stem with fewer probes than this above the silence floor is scanned in full.
const SPARSE_PROBES: usize = 8;

/// Where the stems carry audio and the analysis windows chosen from it.
#[derive(Debug, Clone)]
pub(super) struct Located {
    /// Per stem; `None` for a stem that cannot be compared or stays under the silence level.
    pub activity: Vec<Option<Activity>>,
    /// Start frames of the analysis windows (each [`Plan::window_frames`] long), in the
    /// stems' own time: no offset applied yet.
    pub windows: Vec<u64>,
    /// `present[i][w]`: stem `i` sounds in window `w`.
    pub present: Vec<Vec<bool>>,
}

impl Located {
    /// Steps 1 and 2: activity probes (a sparse stem is scanned in full) and the windows.
    ///
    /// # Errors
    /// When a stem cannot be read.
    pub fn scan(
        plan: &Plan,
        stems: &mut [Box<dyn FrameSource>],
        windows_per_stem: usize,
    ) -> Result<Self> {
        let floor = plan.floor_mean_square;
        let mut activity: Vec<Option<Activity>> = Vec::with_capacity(stems.len());
        for (i, s) in stems.iter_mut().enumerate() {
            if !plan.eligible[i] {
                activity.push(None);
                continue;
            }
            let mut a = Activity::scan(s.as_mut(), plan.hop_frames, plan.probe_frames)?;
            // Sparse stems (a few hits the probes may straddle or miss) are scanned in full.
            if a.probes_above(floor) < SPARSE_PROBES {
                a = Activity::scan(s.as_mut(), plan.hop_frames, plan.hop_frames)?;
            }
            activity.push((a.max() > floor).then_some(a));
        }
        let levels: Vec<Option<&Activity>> = activity.iter().map(Option::as_ref).collect();
        let window = plan.window_frames;
        let windows =
            align::choose_windows(&levels, plan.mix_frames, window, windows_per_stem, floor);
        let present = activity
            .iter()
            .map(|a| {
                windows
                    .iter()
                    .map(|&t| {
                        a.as_ref()
                            .is_some_and(|a| align::present_in(a, t, window, floor))
                    })
                    .collect()
            })
            .collect();
        Ok(Self {
            activity,
            windows,
            present,
        })
    }

    /// Step 3: each stem's coarse lag by GCC-PHAT of its mono downmix against the mix's over
    /// the full search range, the cross spectra of its windows summed. `None` for a stem that
    /// sounds in no window.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn coarse_lags(
        &self,
        plan: &Plan,
        planner: &mut RealFftPlanner<f32>,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
    ) -> Result<Vec<Option<LagEstimate>>> {
        let k = stems.len();
        let (window, range) = (plan.window_frames, plan.range_samples);
        let mut coarse: Vec<Option<LagEstimate>> = vec![None; k];
        if plan.mix_frames == 0 || self.windows.is_empty() {
            return Ok(coarse);
        }
        let present = &self.present;
        let mut corr = Correlator::new(planner, window as usize, range);
        let mut acc: Vec<Option<align::Spectrum>> = vec![None; k];
        let (mut scratch, mut mono) = (Vec::new(), vec![0.0f32; corr.reference_len()]);
        let (mut ref_spec, mut win_spec) = (corr.new_spectrum(), corr.new_spectrum());
        for (w, &t) in self.windows.iter().enumerate() {
            if !(0..k).any(|i| present[i][w]) {
                continue;
            }
            source::read_mono(mix, t as i64 - range as i64, &mut scratch, &mut mono)?;
            corr.forward(&mono, &mut ref_spec);
            for i in (0..k).filter(|&i| present[i][w]) {
                let x = &mut mono[..window as usize];
                source::read_mono(stems[i].as_mut(), t as i64, &mut scratch, x)?;
                corr.forward(x, &mut win_spec);
                let a = acc[i].get_or_insert_with(|| corr.new_spectrum());
                Correlator::accumulate(a, &ref_spec, &win_spec);
            }
        }
        for i in 0..k {
            if let Some(a) = &acc[i] {
                coarse[i] = corr.peak(a, true);
            }
        }
        Ok(coarse)
    }

    /// Stem `i`'s loudest probe (0 for a stem without audio): the searches take loud stems
    /// first.
    pub fn loudness(&self, i: usize) -> f64 {
        self.activity[i].as_ref().map_or(0.0, Activity::max)
    }

    /// Analysis windows in mix time: the chosen windows plus, for every stem in `mask` with an
    /// offset, its windows moved to where its content lands in the mix (unless a window
    /// already covers most of that). Returns the windows and, per stem, whether it sounds in
    /// each.
    pub fn mix_windows(
        &self,
        plan: &Plan,
        offsets: &[i64],
        mask: &[bool],
    ) -> (Vec<u64>, Vec<Vec<bool>>) {
        let (window, floor) = (plan.window_frames, plan.floor_mean_square);
        let base = &self.windows;
        let last = plan.mix_frames.saturating_sub(window) as i64;
        let mut ws = base.clone();
        for (i, a) in self.activity.iter().enumerate() {
            let Some(a) = a.as_ref().filter(|_| mask[i] && offsets[i] != 0) else {
                continue;
            };
            for &t in base {
                if !align::present_in(a, t, window, floor) {
                    continue;
                }
                let m = (t as i64 - offsets[i]).clamp(0, last.max(0)) as u64;
                // Where the stem sounds inside the moved window, in mix time: a window that
                // covers only most of the moved one can miss exactly that (a sparse hit in
                // the part it does not cover).
                let (lo, hi) = a.active_span(m as i64 + offsets[i], window, floor);
                let (lo, hi) = (
                    (lo - offsets[i]).max(m as i64),
                    (hi - offsets[i]).min((m + window) as i64),
                );
                let covered = |u: u64| u as i64 <= lo && hi <= (u + window) as i64;
                if !ws.iter().any(|&u| covered(u)) {
                    ws.push(m);
                }
            }
        }
        ws.sort_unstable();
        let present = self.present_at(plan, &ws, offsets);
        (ws, present)
    }

    /// Per stem, whether it sounds (read at its offset) in each window of `ws` (mix time).
    pub fn present_at(&self, plan: &Plan, ws: &[u64], offsets: &[i64]) -> Vec<Vec<bool>> {
        let (window, floor) = (plan.window_frames, plan.floor_mean_square);
        self.activity
            .iter()
            .enumerate()
            .map(|(i, a)| {
                ws.iter()
                    .map(|&t| {
                        a.as_ref().is_some_and(|a| {
                            let st = (t as i64 + offsets[i]).max(0) as u64;
                            align::present_in(a, st, window, floor)
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

/// The lag most of the clearly found stems share when at least two agree (ties: the smaller
/// shift), else 0: one shifted stem does not move the set.
pub(super) fn common_lag(lags: &[i64]) -> i64 {
    let mut best = (0usize, 0i64);
    for &l in lags {
        let n = lags.iter().filter(|&&m| m == l).count();
        if n > best.0 || (n == best.0 && l.abs() < best.1.abs()) {
            best = (n, l);
        }
    }
    if best.0 >= 2 { best.1 } else { 0 }
}
