//! Causes found by the reconciliation: offsets, polarity, gain, nulling, and content cut off
//! by a shift, each with the numbers behind it (worded in [`crate::cause`]).

use std::collections::BTreeMap;

use super::gram::{Gram, Model};
use super::types::StemFit;
use crate::cause::QUIET_RESIDUAL_DB;
use crate::cause::{
    Cause, ContainedStem, SetGain, StartOffset, StemGain, SumImpact, group_start_offsets,
    group_stem_gains,
};
use crate::report::{Polarity, Reconciliation};
use crate::source::FrameSource;
use crate::units::{db_to_amp, power_to_db};
use crate::{Profile, Result};

pub(super) struct Context<'a> {
    pub profile: &'a Profile,
    pub names: &'a [String],
    pub fits: &'a [Option<StemFit>],
    pub reconciliation: &'a Reconciliation,
    pub sample_rate: u32,
    pub mix_frames: u64,
    pub stem_frames: &'a [u64],
    /// Mean square of the first and last 10 ms of each active stem.
    pub edges: &'a [Option<(f64, f64)>],
    /// Mean square under which a stem's edge is silent.
    pub floor_mean_square: f64,
    /// Which stems are mono stems in a stereo mix (judged against the pan law).
    pub mono: &'a [bool],
    /// The session's pan law (dB at the centre) inferred from the mono stems.
    pub pan_law_db: Option<f64>,
    /// The stems as delivered sum to the mix exactly.
    pub bit_exact: bool,
    /// Per stem: its energy in the plain sum over the mix's energy (judged span).
    pub stem_energy_share: Vec<f64>,
    /// The plain sum's energy over the mix's energy (judged span).
    pub sum_energy_share: f64,
    /// The streaming pass's statistics per ~10 ms over the whole mix (beyond the judged span
    /// too: a stem past its end contributes silence there).
    pub blocks: &'a super::stream::BlockStats,
    /// The full-length statistics of the judged span, and the gain model they were fitted
    /// under (with the fitted gains in each fit's `channel_gains`).
    pub gram: &'a Gram,
    pub model: &'a Model,
}

impl Context<'_> {
    /// The stems as delivered miss the profile's null (see [`delivered_fails`]).
    fn delivered_fails(&self) -> bool {
        delivered_fails(self.reconciliation.null_depth_db, self.profile)
    }

    /// The impact of a cause that is part of why the delivered sum misses the profile (when
    /// `breaks` and it does), else none.
    fn impact(&self, breaks: bool) -> SumImpact {
        if breaks && self.delivered_fails() {
            SumImpact::breaking(
                self.reconciliation.null_depth_db,
                self.reconciliation.corrected_null_depth_db,
            )
        } else {
            SumImpact::default()
        }
    }

    /// Whether a gain error of `gain_db` on a signal of `energy_share` (re mix) alone leaves
    /// a residual above the profile's null: its consequence, not its size, makes it an error.
    fn gain_breaks(&self, gain_db: f64, energy_share: f64) -> bool {
        let alone = (db_to_amp(gain_db) - 1.0).powi(2) * energy_share;
        power_to_db(alone.max(1e-300)) > self.profile.null_pass_db
    }
}

/// The stems as delivered (`null_depth_db`) miss the profile's null by a residual that is a
/// fault: louder than [`QUIET_RESIDUAL_DB`] (quieter is render noise, dither or quantisation,
/// e.g. two renders of the same reverb). Then the causes that explain it are errors.
pub fn delivered_fails(null_depth_db: Option<f64>, profile: &Profile) -> bool {
    null_depth_db.is_some_and(|n| n > profile.null_pass_db && n > QUIET_RESIDUAL_DB)
}

/// The offset shared by the largest part of the stem sum's energy: the lag of the stem sum
/// against the mix.
pub(super) fn common_offset(fits: &[Option<StemFit>], gram: &Gram, model: &Model) -> i64 {
    let mut weight: BTreeMap<i64, f64> = BTreeMap::new();
    for (i, f) in fits.iter().enumerate() {
        if let Some(f) = f.as_ref().filter(|f| f.active) {
            let g2: f64 = f.channel_gains.iter().map(|g| g * g).sum::<f64>()
                / f.channel_gains.len().max(1) as f64;
            *weight.entry(f.offset_samples).or_default() +=
                gram.stem_energy(model, i) * g2 + 1e-300;
        }
    }
    weight
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.abs().cmp(&a.0.abs())))
        .map_or(0, |(lag, _)| lag)
}

/// Mean square of the first and of the last `frames` frames of a source.
pub(super) fn edge_levels(src: &mut dyn FrameSource, frames: usize) -> Result<(f64, f64)> {
    let ch = src.channels();
    let mut buf = vec![0.0f32; frames * ch];
    let ms =
        |b: &[f32]| b.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / frames as f64;
    src.read_window(0, &mut buf)?;
    let head = ms(&buf);
    src.read_window(src.frames() as i64 - frames as i64, &mut buf)?;
    Ok((head, ms(&buf)))
}

/// The reconciliation's causes, in the order the report lists them: start offsets (grouped,
/// smallest first), polarity, gain, cut-off content, the null.
pub(super) fn make(ctx: &Context<'_>) -> Vec<Cause> {
    let active: Vec<(usize, &StemFit)> = ctx
        .fits
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().filter(|f| f.active).map(|f| (i, f)))
        .collect();
    let mut out: Vec<Cause> = start_offsets(ctx, &active)
        .into_iter()
        .map(Cause::StartOffset)
        .collect();
    // A stem another one also carries reads turned down by what that one carries of it: the
    // doubled part is the fault, not its level.
    let contained = contained_stems(ctx);
    let contained_in: Vec<usize> = contained.iter().map(|(j, _)| *j).collect();
    for &(i, f) in &active {
        if f.polarity == Polarity::Inverted {
            out.push(Cause::PolarityInverted {
                file: ctx.names[i].clone(),
                gain_db: f.gain_db,
                correlation: f.confidence,
                null_depth_db: ctx.reconciliation.null_depth_db,
            });
        }
    }
    let fitted: Vec<(usize, &StemFit)> = active
        .iter()
        .filter(|(i, _)| !contained_in.contains(i))
        .copied()
        .collect();
    gains(ctx, &fitted, &mut out);
    out.extend(contained.into_iter().map(|(_, c)| Cause::ContainedStem(c)));
    for &(i, f) in &active {
        out.extend(cut_off(ctx, i, f));
    }
    // Where a stem's part is missing from the end of the song, the stems do not sum back to
    // the mix there, whatever the judged span nulls to.
    let cut = out.iter().any(|c| {
        matches!(
            c,
            Cause::CutOff {
                audible_in_mix: true,
                ..
            }
        )
    });
    if !cut {
        out.extend(null(ctx, !active.is_empty()));
    }
    out
}

/// Least share of another stem's audio (linear gain, -12 dB) a stem must carry to be read as
/// carrying it: parts of one song correlate far less than this at the sample level (a reverb
/// return with its dry source included), a send or a second output routed to the stem bus
/// carries the part whole.
const CONTAINED_MIN_GAIN: f64 = 0.25;
/// Two stems that each carry the other whole (both projections within this of 1, linear)
/// are the same audio.
const CONTAINED_SAME: f64 = 0.1;
/// The mix carries the contained stem's audio once: its fitted gain plus what the other stem
/// carries of it is 1 within this (linear).
const CONTAINED_ONCE_TOL: f64 = 0.1;

/// Stems that carry another stem's audio besides their own, each with the index of the stem
/// they carry (its gain is then not a finding of its own).
///
/// Stem `i` carries `a` of stem `j` when projecting it on `j` over the judged span gives the
/// linear gain `a = sum s_i s_j / sum s_j^2`. Parts of a song barely correlate at the sample
/// level, so `a` is near 0 between sound stems. When `i` carries `j`, the mix (which has `j`
/// once) makes the full-length fit turn `j` down by what `i` carries of it: `g_j + a g_i = 1`.
/// Both must hold: a stem merely correlated with another is fitted at its own level, and a
/// stem delivered hot is turned down without any other stem carrying it.
fn contained_stems(ctx: &Context<'_>) -> Vec<(usize, ContainedStem)> {
    let (gram, model) = (ctx.gram, ctx.model);
    let e_mix = gram.mix_energy();
    if e_mix <= 0.0 {
        return Vec::new();
    }
    // Stems with one gain for every channel (a mono stem in a wider mix has a pan instead).
    let single = |i: usize| {
        ctx.fits[i]
            .as_ref()
            .filter(|_| !(model.stem_channels[i] == 1 && model.mix_channels > 1))
    };
    let gain = |i: usize| single(i).and_then(|f| f.channel_gains.first().copied());
    let mut out: Vec<(usize, ContainedStem)> = Vec::new();
    for j in 0..ctx.fits.len() {
        let (Some(_), Some(g_j)) = (single(j), gain(j)) else {
            continue;
        };
        let e_j = gram.stem_energy(model, j);
        if e_j <= 0.0 {
            continue;
        }
        let carrier = (0..ctx.fits.len())
            .filter(|&i| i != j && single(i).is_some_and(|f| f.active))
            .filter_map(|i| {
                let a = gram.cross_energy(i, j) / e_j;
                // Two stems that each carry the other whole are one audio twice (the delivery
                // check's duplicate), not one carrying the other's part.
                let e_i = gram.stem_energy(model, i);
                let back = if e_i > 0.0 {
                    gram.cross_energy(i, j) / e_i
                } else {
                    0.0
                };
                if (a - 1.0).abs() <= CONTAINED_SAME && (back - 1.0).abs() <= CONTAINED_SAME {
                    return None;
                }
                let g_i = gain(i)?;
                (a >= CONTAINED_MIN_GAIN && (g_j + a * g_i - 1.0).abs() <= CONTAINED_ONCE_TOL)
                    .then_some((i, a))
            })
            .max_by(|x, y| x.1.total_cmp(&y.1));
        let Some((i, a)) = carrier else { continue };
        let residual_db = power_to_db(a * a * e_j / e_mix);
        if residual_db <= QUIET_RESIDUAL_DB {
            continue;
        }
        let fitted_gain_db = (g_j > db_to_amp(-60.0)).then(|| crate::units::amp_to_db(g_j));
        out.push((
            j,
            ContainedStem {
                file: ctx.names[i].clone(),
                contains: ctx.names[j].clone(),
                gain_db: crate::units::amp_to_db(a),
                fitted_gain_db,
                residual_db,
                sum: ctx.impact(true),
            },
        ));
    }
    out
}

/// Offsets, grouped: stems shifted by the same amount are one cause.
fn start_offsets(ctx: &Context<'_>, active: &[(usize, &StemFit)]) -> Vec<StartOffset> {
    let per_stem = active
        .iter()
        .filter(|(_, f)| f.offset_samples != 0)
        .map(|&(i, f)| StartOffset {
            files: vec![ctx.names[i].clone()],
            offset_samples: f.offset_samples,
            sample_rate: ctx.sample_rate,
            correlation: f.confidence,
            active_stems: active.len(),
            side_effect_of: None,
            length_difference_samples: None,
            cut_off: None,
            // A stem at another offset than the common lag is not summed where the mix has it.
            sum: ctx.impact(f.offset_samples != ctx.reconciliation.lag_samples),
        })
        .collect();
    group_start_offsets(per_stem)
}

/// Gain: the whole set when every stem is off by about the same amount; one grouped cause when
/// [`crate::cause::GROUP_GAINS_FROM`] or more stems each have their own; else per stem. A gain is an error
/// when it alone would leave a residual above the profile's null (see [`Context::gain_breaks`]).
fn gains(ctx: &Context<'_>, active: &[(usize, &StemFit)], out: &mut Vec<Cause>) {
    let tol = ctx.profile.gain_tolerance_db;
    let gains: Vec<f64> = active.iter().map(|(_, f)| f.gain_db).collect();
    let median = median(&gains);
    let set_level =
        active.len() >= 2 && median.abs() > tol && gains.iter().all(|g| (g - median).abs() <= tol);
    if set_level {
        out.push(Cause::SetGain(SetGain {
            gain_db: median,
            tolerance_db: tol,
            pan_law_db: ctx.pan_law_db,
            side_effect_of: None,
            sum: ctx.impact(ctx.gain_breaks(median, ctx.sum_energy_share)),
        }));
        return;
    }
    let own = active
        .iter()
        .filter(|(_, f)| f.gain_db.abs() > tol)
        .map(|&(i, f)| {
            Cause::StemGain(StemGain {
                file: ctx.names[i].clone(),
                gain_db: f.gain_db,
                tolerance_db: tol,
                correlation: f.confidence,
                window_gain_spread_db: f.window_gain_spread_db,
                follows_added_content: false,
                // A mono stem is judged at the session's pan law; say which.
                pan_law_db: ctx.pan_law_db.filter(|_| ctx.mono[i]),
                side_effect_of: None,
                sum: ctx.impact(ctx.gain_breaks(f.gain_db, ctx.stem_energy_share[i])),
            })
        })
        .collect();
    out.extend(group_stem_gains(own, active.len()));
}

/// A stem that ends more than this (seconds) before the mix is judged on what the mix holds
/// after it ends.
const CUT_CHECK_SLACK_S: f64 = 0.01;
/// How much of the mix after a stem's end is judged: the first second (another stem ending
/// later does not blur it).
const CUT_CHECK_S: f64 = 1.0;
/// The plain sum's residual right after a stem ends must rise this far (dB) above the null
/// the judged span reaches, and above [`CUT_RESIDUAL_FLOOR_DB`], for the stem's missing tail to
/// be audio the mix holds.
const CUT_RESIDUAL_RISE_DB: f64 = 20.0;
/// See [`CUT_RESIDUAL_RISE_DB`]: dB re the mix over that second.
const CUT_RESIDUAL_FLOOR_DB: f64 = -40.0;

/// Whether the mix still holds content no stem carries in the second after `end` (a mix
/// frame): the plain sum's residual there, with the stem that ended contributing nothing,
/// against the mix there. A stem that really ended leaves the residual at the null; one whose
/// export range stopped short leaves its own part in it.
fn audible_after(ctx: &Context<'_>, end: u64) -> bool {
    let b = ctx.blocks.block_frames.max(1) as u64;
    let first = end.div_ceil(b) as usize;
    let len = (CUT_CHECK_S * f64::from(ctx.sample_rate)) as u64;
    let last = (((end + len) / b) as usize).min(ctx.blocks.mix.len());
    if last <= first {
        return false;
    }
    let sum = |v: &[f32]| v[first..last].iter().map(|&x| f64::from(x)).sum::<f64>();
    let (mix, residual) = (sum(&ctx.blocks.mix), sum(&ctx.blocks.residual));
    // The blocks hold energies summed over the channels, as the floor is.
    let frames = ((last - first) as u64 * b) as f64;
    let audible = mix > ctx.floor_mean_square * frames;
    let null_db = ctx
        .reconciliation
        .null_depth_db
        .unwrap_or(CUT_RESIDUAL_FLOOR_DB);
    let threshold_db = (null_db + CUT_RESIDUAL_RISE_DB).max(CUT_RESIDUAL_FLOOR_DB);
    audible && residual > mix * crate::units::db_to_power(threshold_db)
}

/// The plain sum's residual and the mix's energy over the 10 ms blocks wholly outside `span`
/// (mix frames), from the streaming pass's statistics.
pub(super) fn energies_outside(
    blocks: &super::stream::BlockStats,
    span: &std::ops::Range<u64>,
) -> (f64, f64) {
    let b = blocks.block_frames.max(1) as u64;
    let n = blocks.mix.len();
    let before = ((span.start / b) as usize).min(n);
    let after = (span.end.div_ceil(b) as usize).min(n);
    let sum = |v: &[f32]| {
        v[..before]
            .iter()
            .chain(&v[after..])
            .map(|&x| f64::from(x))
            .sum::<f64>()
    };
    (sum(&blocks.residual), sum(&blocks.mix))
}

/// Content cut off: by a shift (the stem's edge still sounds where the mix goes on), or by an
/// export range that stopped before the song's end (the mix still holds the stem's part after
/// the stem's last frame).
fn cut_off(ctx: &Context<'_>, i: usize, f: &StemFit) -> Option<Cause> {
    let d = f.offset_samples;
    let (head, tail) = ctx.edges[i]?;
    let end = ctx.stem_frames[i] as i64 - d;
    let slack = (CUT_CHECK_SLACK_S * f64::from(ctx.sample_rate)) as i64;
    let short_end =
        end + slack < ctx.mix_frames as i64 && end > 0 && audible_after(ctx, end as u64);
    let tail_cut =
        short_end || d > 0 && end < ctx.mix_frames as i64 && tail > ctx.floor_mean_square;
    let head_cut = d < 0 && head > ctx.floor_mean_square;
    if !(tail_cut || head_cut) {
        return None;
    }
    let missing = if head_cut {
        -d
    } else {
        ctx.mix_frames as i64 - (ctx.stem_frames[i] as i64 - d)
    };
    Some(Cause::CutOff {
        file: ctx.names[i].clone(),
        offset_samples: d,
        missing_frames: missing,
        at_start: head_cut,
        sample_rate: ctx.sample_rate,
        audible_in_mix: short_end && !head_cut,
    })
}

/// The null, when the stems as delivered pass the profile (when only the corrected sum does,
/// the offset, gain and polarity causes say which corrections it takes).
fn null(ctx: &Context<'_>, any_active: bool) -> Option<Cause> {
    let rec = ctx.reconciliation;
    let (fit, span) = (rec.fitted_null_depth_db?, rec.judged_span_frames?);
    let delivered = rec.null_depth_db?;
    (delivered <= ctx.profile.null_pass_db && any_active).then_some(Cause::SumMatchesMix {
        null_depth_db: rec.null_depth_db,
        fitted_null_depth_db: fit,
        null_pass_db: ctx.profile.null_pass_db,
        lag_samples: rec.lag_samples,
        judged_span_frames: span,
        pan_law_db: ctx.pan_law_db,
        bit_exact: ctx.bit_exact,
    })
}

fn median(x: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
