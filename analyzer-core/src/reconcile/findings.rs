//! Causes found by the reconciliation: offsets, polarity, gain, nulling, and content cut off
//! by a shift, each with the numbers behind it (worded in [`crate::cause`]).

use std::collections::BTreeMap;

use super::gram::{Gram, Model};
use super::types::StemFit;
use crate::cause::{Cause, SetGain, StartOffset, StemGain, group_start_offsets};
use crate::report::{Polarity, Reconciliation};
use crate::source::FrameSource;
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
    gains(ctx, &active, &mut out);
    for &(i, f) in &active {
        out.extend(cut_off(ctx, i, f));
    }
    out.extend(null(ctx, !active.is_empty()));
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
        })
        .collect();
    group_start_offsets(per_stem)
}

/// Gain: the whole set when every stem is off by about the same amount, else per stem.
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
        }));
        return;
    }
    for &(i, f) in active {
        if f.gain_db.abs() > tol {
            out.push(Cause::StemGain(StemGain {
                file: ctx.names[i].clone(),
                gain_db: f.gain_db,
                tolerance_db: tol,
                correlation: f.confidence,
                // A mono stem is judged at the session's pan law; say which.
                pan_law_db: ctx.pan_law_db.filter(|_| ctx.mono[i]),
                side_effect_of: None,
            }));
        }
    }
}

/// Content cut off by a shift.
fn cut_off(ctx: &Context<'_>, i: usize, f: &StemFit) -> Option<Cause> {
    let d = f.offset_samples;
    let (head, tail) = ctx.edges[i]?;
    let tail_cut = d > 0
        && (ctx.stem_frames[i] as i64 - d) < ctx.mix_frames as i64
        && tail > ctx.floor_mean_square;
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
    })
}

/// The null, when the fitted sum passes the profile.
fn null(ctx: &Context<'_>, any_active: bool) -> Option<Cause> {
    let rec = ctx.reconciliation;
    let (fit, span) = (rec.fitted_null_depth_db?, rec.judged_span_frames?);
    (fit <= ctx.profile.null_pass_db && any_active).then_some(Cause::SumMatchesMix {
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
