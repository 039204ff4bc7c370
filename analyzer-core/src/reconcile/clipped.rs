//! Stems clipped in their export: a stem bus over 0 dBFS exported to a fixed-point file loses
//! its peaks there, while the mix (float, or with its master lower) keeps them.
//!
//! Read alone, the residual this leaves is short bursts of content the stems lack at every
//! loud hit: a part no stem carries (`missing_element`), an effect return (`missing_fx_return`)
//! or nothing the models know (`unexplained_residual`), and the fit raises the clipped stem's
//! gain to make up for its lost peaks (a false `gain_mismatch`). The streaming pass measures
//! the residual at each stem's full-scale samples ([`ClipStats`]): when those few samples hold
//! most of it, each in the direction of the stem's own peak, the residual is the cut peaks,
//! and the stem and how far over full scale the mix has it are named instead.

use super::gram::{Gram, Model};
use super::stream::ClipStats;
use crate::cause::{Cause, ClippedExport, SumImpact, attribute_gains_to};
use crate::report::FindingCode;
use crate::units::{amp_to_db, power_to_db};

/// The full-scale samples must hold at least this share of the plain sum's residual: the cut
/// peaks are (most of) what stops the sum.
pub(super) const MIN_RESIDUAL_SHARE: f64 = 0.5;
/// Normalised correlation of the residual with the stem's own samples there: a cut peak
/// leaves a residual of the peak's sign at every clipped sample (the mix goes further), so it
/// is the mean over the RMS of the cut parts (0.7-1 for any shape of peak); content another
/// cause leaves there has either sign.
const MIN_PEAK_CORRELATION: f64 = 0.5;
/// Fewer full-scale samples than this are not looked at (a stem touching full scale once).
const MIN_SAMPLES: u64 = 8;

/// What the search needs.
pub(super) struct ClippedSearch<'a> {
    /// Per stem, the streaming pass's statistics at its full-scale samples.
    pub clips: &'a [ClipStats],
    /// The plain sum's residual energy over the judged span (what `clips` share).
    pub e_residual: f64,
    /// The mix energy over the judged span.
    pub e_mix: f64,
    /// Per stem, the gain the clipped frames add to its fit (see [`bias_db`]).
    pub bias_db: &'a [f64],
    pub names: &'a [String],
    /// What a cause that breaks the sum does to it.
    pub impact: SumImpact,
}

impl ClippedSearch<'_> {
    /// One cause per stem whose cut peaks hold most of the residual (none when the residual
    /// is something else, or there is none to speak of: the delivery check's `clipping` then
    /// stands alone).
    pub fn run(&self) -> Vec<Cause> {
        if !self.impact.breaks_sum || self.e_residual <= 0.0 || self.e_mix <= 0.0 {
            return Vec::new();
        }
        self.clips
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.clipped(i, s))
            .collect()
    }

    fn clipped(&self, i: usize, s: &ClipStats) -> Option<Cause> {
        let share = s.e_residual / self.e_residual;
        let correlation = s.residual_dot_stem / (s.e_residual * s.e_stem).sqrt().max(1e-300);
        if s.samples < MIN_SAMPLES
            || share < MIN_RESIDUAL_SHARE
            || correlation < MIN_PEAK_CORRELATION
        {
            return None;
        }
        // The fit makes up for the cut peaks with gain (see [`bias_db`]).
        let gain_bias_db = self.bias_db[i];
        Some(Cause::ClippedExport(ClippedExport {
            file: self.names[i].clone(),
            runs: None,
            full_scale_samples: s.samples,
            residual_share: share.min(1.0),
            residual_db: power_to_db(s.e_residual / self.e_mix),
            peak_in_mix_dbfs: amp_to_db(s.peak_in_mix),
            gain_bias_db,
            sum: self.impact,
        }))
    }
}

/// Marks the gains that the clipped frames make the fit read as the clipping's side effects:
/// a stem's gain when its gain in the fit without those frames is within tolerance (the
/// clipped stem's, which the fit raises to make up for its cut peaks, and any stem the fit
/// leans on beside it), and the set's when it is the stems' typical such bias. `bias_db`: per
/// stem, its gain in the full fit over that in the fit without the clipped frames; a stem also
/// delivered at another level keeps its finding.
pub(super) fn attribute_gains(
    causes: Vec<Cause>,
    names: &[String],
    bias_db: &[f64],
    active: &[bool],
) -> Vec<Cause> {
    let mut active_bias: Vec<f64> = (0..names.len())
        .filter(|&i| active[i])
        .map(|i| bias_db[i])
        .collect();
    active_bias.sort_by(f64::total_cmp);
    let typical_bias_db = active_bias
        .get(active_bias.len() / 2)
        .copied()
        .unwrap_or(0.0);
    let active_stems = active.iter().filter(|&&a| a).count();
    attribute_gains_to(causes, active_stems, FindingCode::Clipping, |c| match c {
        Cause::StemGain(g) => names
            .iter()
            .position(|n| *n == g.file)
            .is_some_and(|i| (g.gain_db - bias_db[i]).abs() <= g.tolerance_db),
        Cause::SetGain(g) => (g.gain_db - typical_bias_db).abs() <= g.tolerance_db,
        _ => false,
    })
}

/// Per stem, dB, its gain (see [`Model::stem_gain`]) in the full-length fit `coefs` over its
/// gain in the fit of the frames where no stem is at full scale (`gram` without `clip_gram`,
/// see `stream::StreamOut`): what the clipped frames make the fit read.
pub(super) fn bias_db(model: &Model, coefs: &[f64], gram: &Gram, clip_gram: &Gram) -> Vec<f64> {
    let whole = model.coefs(&gram.without(clip_gram).solve(model));
    let gain = |c: &[f64], i: usize| model.stem_gain(c, i).abs().max(1e-15);
    (0..model.stems())
        .map(|i| amp_to_db(gain(coefs, i) / gain(&whole, i)))
        .collect()
}
