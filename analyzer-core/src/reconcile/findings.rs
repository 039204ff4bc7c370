//! Findings of the reconciliation: offsets, polarity, gain, nulling, and content cut off by a
//! shift. Each carries the numbers behind it and one thing to do about it.

use std::collections::BTreeMap;

use super::gram::{Gram, Model};
use super::types::StemFit;
use crate::report::{Finding, FindingCode, Polarity, Reconciliation, Severity};
use crate::source::FrameSource;
use crate::{Profile, Result};

/// A gain error this large is an error, not a warning.
pub const GAIN_ERROR_DB: f64 = 3.0;

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
    pub floor_mean_square: f64,
    /// Which stems are mono stems in a stereo mix (judged against the pan law).
    pub mono: &'a [bool],
    /// The session's pan law (dB at the centre) inferred from the mono stems.
    pub pan_law_db: Option<f64>,
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

fn ms(samples: i64, sr: u32) -> f64 {
    (samples as f64 * 1000.0 / f64::from(sr) * 100.0).round() / 100.0
}

fn list(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        n if n <= 4 => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
        n => format!("{}, {} and {} more", names[0], names[1], n - 2),
    }
}

pub(super) fn make(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let sr = ctx.sample_rate;
    let active: Vec<(usize, &StemFit)> = ctx
        .fits
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().filter(|f| f.active).map(|f| (i, f)))
        .collect();
    let null_db = ctx.reconciliation.null_depth_db;
    let fitted_db = ctx.reconciliation.fitted_null_depth_db;

    // Offsets, grouped: stems shifted by the same amount are one finding.
    let mut by_offset: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for &(i, f) in &active {
        if f.offset_samples != 0 {
            by_offset.entry(f.offset_samples).or_default().push(i);
        }
    }
    for (&off, stems) in &by_offset {
        let names: Vec<String> = stems.iter().map(|&i| ctx.names[i].clone()).collect();
        let all = stems.len() == active.len() && active.len() > 1;
        let who = if all {
            "All stems".to_owned()
        } else {
            list(&names)
        };
        let verb = if stems.len() == 1 { "starts" } else { "start" };
        let dir = if off > 0 { "later" } else { "earlier" };
        let fix = if off > 0 {
            format!(
                "Export every stem from the same start point as the mix; to repair, remove the first {off} samples of {}.",
                if stems.len() == 1 {
                    "this file"
                } else {
                    "each of these files"
                }
            )
        } else {
            format!(
                "Export every stem from the same start point as the mix; to repair, insert {} samples of silence at the start of {}.",
                -off,
                if stems.len() == 1 {
                    "this file"
                } else {
                    "each of these files"
                }
            )
        };
        let conf = stems
            .iter()
            .map(|&i| ctx.fits[i].as_ref().map_or(0.0, |f| f.confidence))
            .fold(f64::INFINITY, f64::min);
        out.push(
            Finding::new(
                FindingCode::StartOffset,
                Severity::Error,
                names,
                format!(
                    "{who} {verb} {} samples ({} ms) {dir} than the mix.",
                    off.abs(),
                    ms(off.abs(), sr)
                ),
                fix,
            )
            .with("offset_samples", off)
            .with("offset_ms", ms(off, sr))
            .with("correlation", conf),
        );
    }

    // Polarity.
    for &(i, f) in &active {
        if f.polarity == Polarity::Inverted {
            out.push(
                Finding::new(
                    FindingCode::PolarityInverted,
                    Severity::Error,
                    vec![ctx.names[i].clone()],
                    format!("{} enters the mix with inverted polarity.", ctx.names[i]),
                    "Flip the polarity of this stem (or re-export it without the phase inversion) so that it adds to the mix as it does in the session.",
                )
                .with("gain_db", round2(f.gain_db))
                .with("correlation", round4(f.confidence))
                .with("null_depth_db", null_db.map(round2)),
            );
        }
    }

    // Gain: the whole set when every stem is off by about the same amount, else per stem.
    let tol = ctx.profile.gain_tolerance_db;
    let gains: Vec<f64> = active.iter().map(|(_, f)| f.gain_db).collect();
    let median = median(&gains);
    let set_level =
        active.len() >= 2 && median.abs() > tol && gains.iter().all(|g| (g - median).abs() <= tol);
    let severity = |g: f64| {
        if g.abs() > GAIN_ERROR_DB {
            Severity::Error
        } else {
            Severity::Warning
        }
    };
    if set_level {
        out.push(
            Finding::new(
                FindingCode::GainMismatch,
                severity(median),
                vec![],
                format!(
                    "The whole stem set enters the mix {:.2} dB {} than delivered (master fader, bus gain or a normalising export).",
                    median.abs(),
                    if median > 0.0 { "louder" } else { "quieter" }
                ),
                "Export the stems with the master fader and mix-bus gain as in the mix, and without normalisation.",
            )
            .with("gain_db", round2(median))
            .with("tolerance_db", tol)
            .with("pan_law_db", ctx.pan_law_db),
        );
    } else {
        for &(i, f) in &active {
            if f.gain_db.abs() > tol {
                // A mono stem is judged at the session's pan law; say which.
                let law = ctx.pan_law_db.filter(|_| ctx.mono[i]);
                out.push(
                    Finding::new(
                        FindingCode::GainMismatch,
                        severity(f.gain_db),
                        vec![ctx.names[i].clone()],
                        format!(
                            "{} is {:.2} dB {} in the mix than delivered{}.",
                            ctx.names[i],
                            f.gain_db.abs(),
                            if f.gain_db > 0.0 { "louder" } else { "quieter" },
                            law.map_or(String::new(), |l| format!(
                                " (a mono stem, judged at the {l:.1} dB centre pan law the other mono stems were mixed at)"
                            ))
                        ),
                        format!(
                            "Re-export this stem with its fader and sends as in the mix (it needs {:+.2} dB to match).",
                            f.gain_db
                        ),
                    )
                    .with("gain_db", round2(f.gain_db))
                    .with("tolerance_db", tol)
                    .with("correlation", round4(f.confidence))
                    .with("pan_law_db", law),
                );
            }
        }
    }

    // Content cut off by a shift.
    for &(i, f) in &active {
        let d = f.offset_samples;
        let Some((head, tail)) = ctx.edges[i] else {
            continue;
        };
        let tail_cut = d > 0
            && (ctx.stem_frames[i] as i64 - d) < ctx.mix_frames as i64
            && tail > ctx.floor_mean_square;
        let head_cut = d < 0 && head > ctx.floor_mean_square;
        if tail_cut || head_cut {
            let missing = if head_cut {
                -d
            } else {
                ctx.mix_frames as i64 - (ctx.stem_frames[i] as i64 - d)
            };
            out.push(
                Finding::new(
                    FindingCode::LengthMismatch,
                    Severity::Warning,
                    vec![ctx.names[i].clone()],
                    format!(
                        "Once aligned with the mix, {} is cut off: its {} misses {missing} samples ({} ms) of audio.",
                        ctx.names[i],
                        if head_cut { "start" } else { "end" },
                        ms(missing, sr)
                    ),
                    "Re-export this stem over the full length of the mix, from the same start point.",
                )
                .with("offset_samples", d)
                .with("missing_frames", missing)
                .with("missing_ms", ms(missing, sr)),
            );
        }
    }

    // The null.
    if let (Some(fit), Some(span)) = (fitted_db, ctx.reconciliation.judged_span_frames)
        && fit <= ctx.profile.null_pass_db
        && !active.is_empty()
    {
        let as_delivered = null_db.is_some_and(|n| n <= ctx.profile.null_pass_db);
        let message = if as_delivered {
            format!(
                "The stems sum back to the mix: the residual is {:.1} dB below the mix.",
                null_db.unwrap_or(fit)
            )
        } else {
            format!(
                "The stems sum back to the mix ({fit:.1} dB) once the offsets, gains and polarities reported here are corrected."
            )
        };
        out.push(
            Finding::new(
                FindingCode::SumMatchesMix,
                Severity::Info,
                vec![],
                message,
                if as_delivered {
                    "Nothing to do."
                } else {
                    "Correct the stems as the other findings say and export again."
                },
            )
            .with("null_depth_db", null_db.map(round2))
            .with("fitted_null_depth_db", round2(fit))
            .with("null_pass_db", ctx.profile.null_pass_db)
            .with("lag_samples", ctx.reconciliation.lag_samples)
            .with("judged_span_frames", vec![span[0], span[1]])
            .with("pan_law_db", ctx.pan_law_db),
        );
    }
    out
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

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
