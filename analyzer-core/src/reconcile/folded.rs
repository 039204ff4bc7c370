//! A stereo stem exported as a mono file: the export folded it down (a mono bounce, a mono
//! track output), while the mix has it in stereo.
//!
//! The mono file enters the stereo sum at the centre, so what the sum lacks is that stem's side
//! (the difference between its channels): a residual that is all side, interchannel correlation
//! near -1, which the diagnosis reads as an effect return no stem carries ("decorrelated between
//! the channels"), and the fold's level law reads as a gain. The second pass ([`BlockPass`])
//! shows the residual's side rising and falling with the mono stem's own level, block by block:
//! it is that stem's stereo image.

use super::block_pass::{BlockPass, Blocks, MIN_BLOCKS, playing};
use super::gram::{Gram, Model};
use crate::Result;
use crate::cause::{Cause, FoldedToMono, SumImpact, attribute_gains_to};
use crate::report::FindingCode;
use crate::source::FrameSource;
use crate::units::power_to_db;

/// The residual must be at least this share side (its channels' difference).
const MIN_SIDE_SHARE: f64 = 0.8;
/// The residual's side level must follow the stem's level this closely (correlation of dB
/// with dB over the blocks where the stem plays)...
const MIN_ENVELOPE_CORRELATION: f64 = 0.6;
/// ...and more closely than any other stem's by this much.
const OVER_OTHERS: f64 = 0.1;
/// Where the stem rests, the residual's side (per block) is at most this share of what it is
/// where the stem plays...
const MAX_REST_SIDE_RATIO: f64 = 0.05;
/// ...and at most this share of the same ratio of any other stem (one that rests at the same
/// times would explain the side as well).
const REST_MARGIN: f64 = 4.0;
/// The stem must rest in at least this share of the span's blocks for that test.
const MIN_REST_SHARE: f64 = 0.1;

/// What the search needs (see [`BlockPass`] for the reading).
pub(super) struct FoldedSearch<'a> {
    pub pass: BlockPass<'a>,
    /// The streaming pass's statistics (each stem's energy in the plain sum).
    pub gram: &'a Gram,
    pub names: &'a [String],
    /// The plain sum's residual energy and the mix's, over the span.
    pub e_residual: f64,
    pub e_mix: f64,
    /// What a cause that breaks the sum does to it.
    pub impact: SumImpact,
}

impl FoldedSearch<'_> {
    /// The mono stem whose stereo image the residual is, when that is what the residual is.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn run(
        &self,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
    ) -> Result<Option<Cause>> {
        let model: &Model = self.pass.model;
        let candidates: Vec<usize> = (0..model.stems())
            .filter(|&i| self.pass.active[i] && model.stem_channels[i] == 1)
            .collect();
        if model.mix_channels != 2
            || candidates.is_empty()
            || !self.impact.breaks_sum
            || self.e_residual <= 0.0
        {
            return Ok(None);
        }
        // The loudest candidate's own level in the sum (a fold's law, -3 or -6 dB) is mid, not
        // side: its single gain over the span is fitted out of the residual first.
        let focus = candidates.iter().copied().max_by(|&a, &b| {
            let e = |i: usize| self.gram.stem_energy_at(self.pass.unity, i);
            e(a).total_cmp(&e(b))
        });
        let blocks = self.pass.run(focus, mix, stems)?;
        let side: f64 = blocks.side.iter().sum();
        let (rx, xx): (f64, f64) = (blocks.rx.iter().sum(), blocks.xx.iter().sum());
        let total = blocks.rr.iter().sum::<f64>() - rx * rx / xx.max(1e-300);
        let side_share = side / total.max(1e-300);
        if side_share < MIN_SIDE_SHARE {
            return Ok(None);
        }
        let follows: Vec<(usize, f64)> = (0..model.stems())
            .filter(|&i| self.pass.active[i])
            .map(|i| (i, envelope_correlation(&blocks, i)))
            .collect();
        let best = candidates
            .iter()
            .filter_map(|&i| follows.iter().find(|(j, _)| *j == i).copied())
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((k, corr)) = best else {
            return Ok(None);
        };
        let (next, runner_up) = follows
            .iter()
            .filter(|(j, _)| *j != k)
            .copied()
            .fold((k, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
        super::plan::dbg_align(|| {
            format!(
                "folded? {}: side share {side_share:.2}, envelope r {corr:.2}, next {} {runner_up:.2}",
                self.names[k], self.names[next]
            )
        });
        // Or, for a stem whose level holds (a sustained pad), where it rests the side is gone.
        let support = |i: usize| rest_side_ratio(&blocks, i);
        let rests = support(k);
        let others_rest = (0..model.stems())
            .filter(|&i| i != k && self.pass.active[i])
            .filter_map(support)
            .fold(f64::INFINITY, f64::min);
        super::plan::dbg_align(|| {
            format!(
                "folded? side where it rests / where it plays {rests:?}, others at best {others_rest:.3}"
            )
        });
        let follows_level = corr >= MIN_ENVELOPE_CORRELATION && corr >= runner_up + OVER_OTHERS;
        let only_where_it_plays =
            rests.is_some_and(|r| r <= MAX_REST_SIDE_RATIO && r * REST_MARGIN <= others_rest);
        if !follows_level && !only_where_it_plays {
            return Ok(None);
        }
        let level: f64 = blocks.level[k].iter().sum();
        Ok(Some(Cause::FoldedToMono(FoldedToMono {
            file: self.names[k].clone(),
            side_share: side_share.min(1.0),
            envelope_correlation: corr,
            side_minus_stem_db: power_to_db(side / level.max(1e-300)),
            residual_db: power_to_db(self.e_residual / self.e_mix.max(1e-300)),
            sum: self.impact,
        })))
    }
}

/// Correlation (dB with dB) of the residual's side with stem `i`'s level over the blocks where
/// the stem plays; -1 when it plays in too few.
fn envelope_correlation(b: &Blocks, i: usize) -> f64 {
    let (playing, loudest) = playing(&b.level[i]);
    if playing.len() < MIN_BLOCKS {
        return -1.0;
    }
    let tiny = loudest * 1e-9;
    let stem: Vec<f64> = playing
        .iter()
        .map(|&j| power_to_db(b.level[i][j].max(tiny)))
        .collect();
    let side: Vec<f64> = playing
        .iter()
        .map(|&j| power_to_db(b.side[j].max(tiny)))
        .collect();
    super::ducking::correlation(&stem, &side)
}

/// Marks the folded stem's gain as a side effect of the fold (the mono file's level is the
/// fold's law, -3 or -6 dB, not a fader); `active` counts the stems the gains are grouped over.
pub(super) fn attribute_gain(causes: Vec<Cause>, folded: &Cause, active: &[bool]) -> Vec<Cause> {
    let Cause::FoldedToMono(f) = folded else {
        return causes;
    };
    let active_stems = active.iter().filter(|&&a| a).count();
    attribute_gains_to(
        causes,
        active_stems,
        FindingCode::ChannelLayout,
        |c| matches!(c, Cause::StemGain(g) if g.file == f.file),
    )
}

/// The residual's side per block where stem `i` rests (more than
/// [`PLAYING_DB`](super::block_pass::PLAYING_DB) under its
/// loudest block) over the same where it plays; `None` when it rests in too few blocks.
fn rest_side_ratio(b: &Blocks, i: usize) -> Option<f64> {
    let mut plays = vec![false; b.side.len()];
    playing(&b.level[i])
        .0
        .into_iter()
        .for_each(|j| plays[j] = true);
    let (mut on, mut n_on, mut off, mut n_off) = (0.0, 0usize, 0.0, 0usize);
    for (&p, s) in plays.iter().zip(&b.side) {
        if p {
            on += s;
            n_on += 1;
        } else {
            off += s;
            n_off += 1;
        }
    }
    let n = (n_on + n_off).max(1) as f64;
    (n_on >= MIN_BLOCKS && n_off as f64 >= MIN_REST_SHARE * n && on > 0.0)
        .then(|| (off / n_off as f64) / (on / n_on as f64))
}
