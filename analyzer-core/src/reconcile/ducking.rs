//! Sidechain ducking the stem export did not print: a stem (a bass, a pad) ducked in the mix by
//! a compressor keyed from another stem (the kick), exported without it. Soloing the stem for
//! export mutes the key, so the compressor never closes; an engineer meets this in every
//! genre that pumps.
//!
//! Read alone, the residual is the ducked stem scaled by how far the compressor closes: the
//! whole-mix dynamics model reads it as bus compression ("the mix went through compression the
//! stems did not"), or nothing explains it, and the stem's whole-song gain reads a dB or two
//! quiet (a false fader offset). The plain sum's residual projected on one stem (from the
//! full-length Gram, free) picks the candidate; a second pass over the span then fits that
//! stem's gain every 20 ms and measures every stem's level there. Ducking is a gain that dips
//! in many short stretches, explains nearly all of the residual, and follows another stem's
//! level more closely than the ducked stem's own (a compressor on the stem itself, or on the
//! whole mix, follows those).
//!
//! The same pass names a stem compressed on its own bus in the mix and exported without it
//! (pre-insert, or the insert bypassed): its gain dips the same way while the rest of the sum
//! keeps its level, but follows its own level (`Ducking::key` is then `None`). Found only when
//! the mix has less of the stem than the export (a compressor without make-up gain above the
//! export's level) and it pumps (dips of 1 dB under its typical gain); a light or made-up
//! compressor is not looked for.

use std::ops::Range;

use super::block_pass::{BLOCK_S, BlockPass, Blocks, MIN_BLOCKS, playing};
use super::gram::{Gram, Model};
use crate::Result;
use crate::cause::{Cause, Ducking, SumImpact, attribute_gains_to};
use crate::report::FindingCode;
use crate::source::FrameSource;
use crate::units::power_to_db;

/// The residual must be this much one stem (normalised correlation of the plain sum's residual
/// with the stem, negative: the mix has less of it) for that stem to be looked at.
const CANDIDATE_CORRELATION: f64 = -0.3;
/// A block is ducked when the stem's gain there is this far (dB) under its typical gain.
const DIP_DB: f64 = 1.0;
/// The stem's gain per block must explain at least this share of the residual.
const MIN_EXPLAINED: f64 = 0.8;
/// At least this many dips, and this many per second of playing: a pumping compressor, not a
/// fader ride (one or two long stretches, `gain_mismatch` with `level_automation`).
const MIN_DIPS: usize = 8;
const MIN_DIPS_PER_S: f64 = 0.3;
/// The gain must follow the key's level at least this closely (correlation of dB with dB)...
const MIN_KEY_CORRELATION: f64 = 0.3;
/// ...and more closely than its own level by this much.
const KEY_OVER_OWN: f64 = 0.2;
/// A dip longer than this (seconds) is a ride's or a mute's...
const LONG_DIP_S: f64 = 1.0;
/// ...and such dips may hold at most this share of the ducked blocks.
const MAX_LONG_SHARE: f64 = 0.25;
/// Where the stem dips, the rest of the sum may dip by at most this share of the stem's dip
/// (dB; both fitted jointly): a compressor on the whole mix ducks everything.
const REST_DIP_SHARE: f64 = 0.3;

/// What the search needs.
pub(super) struct DuckingSearch<'a> {
    pub model: &'a Model,
    pub gram: &'a Gram,
    /// The plain sum's per-(stem, mix channel) gains (the streaming pass's), 0 for stems out
    /// of the sum.
    pub unity: &'a [f64],
    /// Per stem: its offset (stem frame = mix frame + offset) and whether it is active.
    pub offsets: &'a [i64],
    pub active: &'a [bool],
    pub names: &'a [String],
    /// The plain sum's residual energy and the mix's, over `span`.
    pub e_residual: f64,
    pub e_mix: f64,
    /// The judged span, mix frames.
    pub span: Range<u64>,
    pub sample_rate: u32,
    /// What a cause that breaks the sum does to it.
    pub impact: SumImpact,
}

impl DuckingSearch<'_> {
    /// The stem ducked by another, when that is what the residual is.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn run(
        &self,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
    ) -> Result<Option<Cause>> {
        let Some(k) = self.candidate() else {
            return Ok(None);
        };
        let blocks = BlockPass {
            model: self.model,
            unity: self.unity,
            offsets: self.offsets,
            active: self.active,
            span: self.span.clone(),
            sample_rate: self.sample_rate,
        }
        .run(Some(k), mix, stems)?;
        Ok(self.judge(k, &blocks))
    }

    /// The active stem the residual is most (negatively) correlated with, when enough.
    fn candidate(&self) -> Option<usize> {
        if !self.impact.breaks_sum || self.e_residual <= 0.0 {
            return None;
        }
        (0..self.names.len())
            .filter(|&i| self.active[i])
            .map(|i| {
                let e = self.gram.stem_energy_at(self.unity, i);
                let rho = self.gram.residual_cross_at(self.unity, i)
                    / (e * self.e_residual).sqrt().max(1e-300);
                (i, rho)
            })
            .filter(|&(_, rho)| rho <= CANDIDATE_CORRELATION)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// Ducking of `k` by another stem, from the blocks.
    fn judge(&self, k: usize, b: &Blocks) -> Option<Cause> {
        let (playing, loudest) = playing(&b.xx);
        if playing.len() < MIN_BLOCKS {
            return None;
        }
        // The stem's gain in the mix per block (least squares on the block), dB.
        let gain_db: Vec<f64> = playing
            .iter()
            .map(|&j| 20.0 * (1.0 + b.rx[j] / b.xx[j]).max(1e-3).log10())
            .collect();
        let explained: f64 = playing.iter().map(|&j| b.rx[j] * b.rx[j] / b.xx[j]).sum();
        let total: f64 = b.rr.iter().sum();
        let explained_share = explained / total.max(1e-300);
        let mut sorted = gain_db.clone();
        sorted.sort_by(f64::total_cmp);
        let typical = sorted[sorted.len() * 3 / 4];
        // Dips: runs of blocks (in time order, gaps in playing end a run) under the typical gain.
        let mut dips = 0;
        let mut in_dip = false;
        let mut last = usize::MAX;
        for (n, &j) in playing.iter().enumerate() {
            let ducked = gain_db[n] < typical - DIP_DB;
            if ducked && (!in_dip || j != last + 1) {
                dips += 1;
            }
            in_dip = ducked;
            last = j;
        }
        // A ride is one or two long stretches down; a pumping compressor's dips are short, the
        // gain coming back between them. A stretch runs on across blocks where the stem rests
        // (a drum stem's ridden section is many hits) and ends where it plays at its gain.
        let (mut long_blocks, mut ducked_blocks) = (0usize, 0usize);
        let mut stretch: Option<(usize, usize, usize)> = None; // (first block, last block, ducked)
        let mut close = |s: Option<(usize, usize, usize)>| {
            if let Some((a, z, n)) = s
                && (z - a + 1) as f64 * BLOCK_S > LONG_DIP_S
            {
                long_blocks += n;
            }
        };
        for (n, &j) in playing.iter().enumerate() {
            if gain_db[n] < typical - DIP_DB {
                ducked_blocks += 1;
                stretch = Some(stretch.map_or((j, j, 1), |(a, _, m)| (a, j, m + 1)));
            } else {
                close(stretch.take());
            }
        }
        close(stretch);
        let long_share = long_blocks as f64 / ducked_blocks.max(1) as f64;
        // Whether the rest of the sum dips with the stem (a compressor on the whole mix that
        // the stem's level dominates): the two gains fitted jointly on every ducked block.
        let mut own_dips = Vec::new();
        let mut rest_dips = Vec::new();
        for (n, &j) in playing.iter().enumerate() {
            if gain_db[n] >= typical - DIP_DB {
                continue;
            }
            let det = b.xx[j] * b.oo[j] - b.xo[j] * b.xo[j];
            if b.oo[j] <= 0.0 || det <= 1e-9 * b.xx[j] * b.oo[j] {
                continue;
            }
            let alpha = (b.rx[j] * b.oo[j] - b.ro[j] * b.xo[j]) / det;
            let beta = (b.ro[j] * b.xx[j] - b.rx[j] * b.xo[j]) / det;
            own_dips.push(-20.0 * (1.0 + alpha).max(1e-3).log10());
            rest_dips.push(-20.0 * (1.0 + beta).max(1e-3).log10());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        };
        let (own_dip_db, rest_dip_db) = (median(&mut own_dips), median(&mut rest_dips));
        let playing_s = playing.len() as f64 * BLOCK_S;
        let dips_per_s = dips as f64 / playing_s.max(1e-9);
        let level_db = |i: usize| -> Vec<f64> {
            playing
                .iter()
                .map(|&j| power_to_db(b.level[i][j].max(loudest * 1e-9)))
                .collect()
        };
        let own_correlation = correlation(&gain_db, &level_db(k));
        let (key, key_correlation) = (0..self.names.len())
            .filter(|&i| i != k && self.active[i])
            .map(|i| (i, correlation(&gain_db, &level_db(i))))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        super::plan::dbg_align(|| {
            format!(
                "ducking? {}: explained {explained_share:.2}, dips {dips} ({dips_per_s:.2}/s, long {long_share:.2}), key {} r {key_correlation:.2}, own r {own_correlation:.2}, dips own {own_dip_db:.1} rest {rest_dip_db:.1} dB",
                self.names[k], self.names[key]
            )
        });
        if explained_share < MIN_EXPLAINED
            || dips < MIN_DIPS
            || dips_per_s < MIN_DIPS_PER_S
            || long_share > MAX_LONG_SHARE
            || rest_dip_db > REST_DIP_SHARE * own_dip_db
        {
            return None;
        }
        // Keyed from another stem when the gain follows that stem's level more closely than
        // its own; otherwise compressed on its own bus when it follows its own level (a
        // compressor fed by its own input is the everyday case; a stem playing the same notes
        // as another follows both alike, and the finding says so).
        let keyed = key_correlation <= -MIN_KEY_CORRELATION
            && key_correlation <= own_correlation - KEY_OVER_OWN;
        let own = !keyed && own_correlation <= -MIN_KEY_CORRELATION;
        if !keyed && !own {
            return None;
        }
        let reductions: Vec<f64> = sorted
            .iter()
            .map(|g| typical - g)
            .filter(|&r| r > DIP_DB)
            .collect();
        let gain_reduction_typical_db = reductions.get(reductions.len() / 2).copied()?;
        let gain_reduction_max_db = typical - sorted[sorted.len() / 100];
        Some(Cause::Ducking(Ducking {
            file: self.names[k].clone(),
            key: keyed.then(|| self.names[key].clone()),
            closest_other: self.names[key].clone(),
            key_correlation,
            own_correlation,
            gain_reduction_typical_db,
            gain_reduction_max_db,
            dips_per_s,
            explained_share: explained_share.min(1.0),
            residual_db: power_to_db(self.e_residual / self.e_mix.max(1e-300)),
            sum: self.impact,
        }))
    }
}

/// Pearson correlation of two equally long series (0 when either is constant).
pub(super) fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    if aa <= 0.0 || bb <= 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

/// Marks the ducked stem's gain as the ducking's side effect (its whole-song gain is the
/// ducking's average, at most its largest reduction; a compressor on the stem's own bus sets
/// its whole level, reduction and make-up gain, so any gain of that stem is the
/// compressor's); `active` counts the stems the gains are grouped over.
pub(super) fn attribute_gain(causes: Vec<Cause>, ducking: &Cause, active: &[bool]) -> Vec<Cause> {
    let Cause::Ducking(d) = ducking else {
        return causes;
    };
    let active_stems = active.iter().filter(|&&a| a).count();
    attribute_gains_to(
        causes,
        active_stems,
        FindingCode::MissingBusProcessing,
        |c| match c {
            Cause::StemGain(g) if g.file == d.file => {
                d.key.is_none() || (g.gain_db < 0.0 && -g.gain_db <= d.gain_reduction_max_db)
            }
            _ => false,
        },
    )
}
