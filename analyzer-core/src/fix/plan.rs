//! What `stemcheck fix` will change, decided from the check's typed causes alone: one
//! [`FilePlan`] of [`Operation`]s per stem, or the [`Refusal`]s that stop it.
//!
//! The plan acts only on causes whose numbers are certain (a shift that correlates, a polarity
//! or channel fault whose fit is clearly better corrected, a drift fitted over the song). A
//! cause that is uncertain, or that no change to the stems can correct (bus processing, audio
//! that was never delivered, an unreadable file), refuses the whole fix with the reason and
//! what it would need: a half-repaired set that looks repaired is worse than none.

use serde::Serialize;

use crate::cause::{Cause, ChannelFaultKind, StartOffset};
use crate::report::{FileReport, FindingCode, Role, Severity};

/// Lowest correlation (0..1) of a stem with its part of the mix for its shift or polarity to
/// be acted on: below it, the fit is not the stem's own.
pub const MIN_FIX_CORRELATION: f64 = 0.9;
/// How much deeper (dB) a channel fault's corrected fit must null than the stem as delivered
/// for the swap or inversion to be applied.
pub const MIN_CHANNEL_FIX_GAIN_DB: f64 = 6.0;
/// Fewest windows a clock drift's trend must be fitted on to be corrected.
pub const MIN_DRIFT_WINDOWS: usize = 3;
/// Largest clock error corrected, ppm: beyond it the stem is at another rate, not on a
/// drifting clock, and the sample-rate correction applies.
pub const MAX_DRIFT_PPM: f64 = 1_000.0;

/// One change to one file's samples or metadata, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Resampled from the file's rate to the mix's (band-limited, `rubato`'s FFT resampler).
    Resample {
        /// The file's rate, Hz.
        from_hz: u32,
        /// The mix's rate, Hz.
        to_hz: u32,
    },
    /// Clock drift removed: resampled by `1 / (1 + ppm 1e-6)` (`rubato`'s sinc resampler), then
    /// shifted by the offset at the mix's first frame.
    CorrectDrift {
        /// Rate error, ppm (positive: the stem's content came later and later).
        ppm: f64,
        /// The stem's offset at the mix's first frame, samples (applied as a shift, rounded).
        offset_start_samples: f64,
    },
    /// Left and right exchanged.
    SwapChannels,
    /// One channel's polarity inverted (0 = left, 1 = right).
    InvertChannel {
        /// The channel, 0-based.
        channel: usize,
    },
    /// Every channel's polarity inverted.
    InvertPolarity,
    /// A DC offset taken off: each channel's mean subtracted from its every sample.
    RemoveDc {
        /// The offset per channel (mean sample value, full scale 1.0).
        offset_by_channel: Vec<f64>,
    },
    /// A gain applied (only with `--match-gains`).
    Gain {
        /// The gain, dB.
        gain_db: f64,
    },
    /// Moved in time so that it starts where the mix does: silence padded at the start
    /// (content was early) or silence trimmed from it (content was late). Audio is never cut.
    Shift {
        /// The stem's offset against the mix, samples (positive: its content came later).
        offset_samples: i64,
    },
}

/// What is done to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilePlan {
    /// The file, as the report names it.
    pub file: String,
    /// Its role in the check.
    pub role: Role,
    /// The changes to its samples, in the order applied.
    pub operations: Vec<Operation>,
    /// The finding codes these changes answer.
    pub because: Vec<FindingCode>,
}

/// Why the fix will not run, and what it would need.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    /// The finding that stops it.
    pub code: FindingCode,
    /// The files it concerns.
    pub files: Vec<String>,
    /// Why it cannot be corrected safely.
    pub reason: String,
    /// What would let the fix go ahead.
    pub needs: String,
}

/// A finding the fix saw and deliberately left as it is (context, profile matters, or the
/// side effect of another cause), so the change log is complete.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftAlone {
    /// The finding.
    pub code: FindingCode,
    /// The files it concerns.
    pub files: Vec<String>,
    /// Why nothing was done.
    pub why: String,
}

/// What `--residual-stem` may stand in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResidualMode {
    /// No residual stem: content the stems miss refuses the fix.
    #[default]
    Off,
    /// A residual stem for content no stem carries (an effect return, a part left out).
    Content,
    /// Also for bus processing (compression, EQ), asked for explicitly: the set then nulls
    /// against this mix, but the residual is not a part anyone can mix with.
    BusProcessing,
}

/// How the fix may act.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixOptions {
    /// Correct gain findings (`--match-gains`).
    pub match_gains: bool,
    /// Whether and for what a residual stem is written (`--residual-stem`).
    pub residual: ResidualMode,
}

/// The residual stem the plan writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResidualPlan {
    /// What it stands in for.
    pub stands_in_for: Vec<FindingCode>,
    /// The residual is an effect return (its name says `FX`).
    pub fx_return: bool,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The mix every stem is brought to.
    pub mix: String,
    /// The mix's rate, Hz.
    pub mix_sample_rate: u32,
    /// The mix's length, frames.
    pub mix_frames: u64,
    /// The mix's BWF time reference, samples since midnight, when it has one.
    pub mix_time_reference_samples: Option<u64>,
    /// One entry per file (mix, stems, references), in the report's order.
    pub files: Vec<FilePlan>,
    /// The residual stem, when one is written.
    pub residual: Option<ResidualPlan>,
    /// Findings seen and left as they are.
    pub left_alone: Vec<LeftAlone>,
}

/// The two files of a stereo stem delivered as two mono files, when `file` is such a pair's
/// name (`"<left> + <right>"`, see `analyze::split_stereo`) rather than one file's.
fn split_halves<'a>(plans: &[FilePlan], file: &'a str) -> Option<(&'a str, &'a str)> {
    let known = |f: &str| plans.iter().any(|p| p.file == f);
    if known(file) {
        return None;
    }
    file.split_once(" + ").filter(|(l, r)| known(l) && known(r))
}

/// Decides the plan from the check's causes and files.
///
/// # Errors
/// Every [`Refusal`]: a cause that is uncertain, that no change to the stems corrects, or that
/// needs an option not given.
pub fn plan(
    causes: &[Cause],
    files: &[FileReport],
    opts: FixOptions,
) -> std::result::Result<Plan, Vec<Refusal>> {
    let mut refusals = Vec::new();
    let Some(mix) = files.iter().find(|f| f.role == Some(Role::Mix)) else {
        return Err(vec![Refusal {
            code: FindingCode::NoMix,
            files: vec![],
            reason: "there is no mix to bring the stems to".into(),
            needs: "the mix in the delivery (or named with --mix)".into(),
        }]);
    };
    let (Some(mix_sample_rate), Some(mix_frames)) = (mix.sample_rate, mix.frames) else {
        return Err(vec![Refusal {
            code: FindingCode::UnreadableFile,
            files: vec![mix.path.clone()],
            reason: "the mix cannot be read".into(),
            needs: "a readable mix".into(),
        }]);
    };
    let mut plans: Vec<FilePlan> = files
        .iter()
        .map(|f| FilePlan {
            file: f.path.clone(),
            role: f.role.unwrap_or(Role::Stem),
            operations: Vec::new(),
            because: Vec::new(),
        })
        .collect();
    let mut left_alone = Vec::new();
    let mut residual: Option<ResidualPlan> = None;
    // Per-stem operations, collected by kind and put in their fixed order at the end.
    let mut drift_files: Vec<String> = Vec::new();
    let push = |plans: &mut Vec<FilePlan>, file: &str, op: Operation, code: FindingCode| {
        // A stereo stem delivered as two mono files: each file takes the operation, a
        // channel's own only the file that holds that channel.
        let targets: Vec<(&str, Operation)> = match (split_halves(plans, file), op) {
            (Some((left, _)), Operation::InvertChannel { channel: 0 }) => {
                vec![(left, Operation::InvertPolarity)]
            }
            (Some((_, right)), Operation::InvertChannel { .. }) => {
                vec![(right, Operation::InvertPolarity)]
            }
            (Some((left, right)), op) => vec![(left, op.clone()), (right, op)],
            (None, op) => vec![(file, op)],
        };
        for (file, op) in targets {
            if let Some(p) = plans.iter_mut().find(|p| p.file == file) {
                p.operations.push(op);
                if !p.because.contains(&code) {
                    p.because.push(code);
                }
            }
        }
    };
    let refuse = |refusals: &mut Vec<Refusal>, c: &Cause, reason: String, needs: &str| {
        refusals.push(Refusal {
            code: c.code(),
            files: c.files(),
            reason,
            needs: needs.to_owned(),
        });
    };
    let leave = |left: &mut Vec<LeftAlone>, c: &Cause, why: &str| {
        left.push(LeftAlone {
            code: c.code(),
            files: c.files(),
            why: why.to_owned(),
        });
    };
    let want_residual = |c: &Cause,
                         fx: bool,
                         bus: bool,
                         refusals: &mut Vec<Refusal>,
                         residual: &mut Option<ResidualPlan>| {
        let allowed = match opts.residual {
            ResidualMode::Off => false,
            ResidualMode::Content => !bus,
            ResidualMode::BusProcessing => true,
        };
        if allowed {
            let r = residual.get_or_insert(ResidualPlan {
                stands_in_for: Vec::new(),
                fx_return: fx,
            });
            r.stands_in_for.push(c.code());
            r.fx_return &= fx;
        } else if bus {
            refusals.push(Refusal {
                code: c.code(),
                files: c.files(),
                reason: "the mix went through processing the stems did not (compression, \
                         limiting or EQ on the mix bus); no change to the stems undoes it, and a \
                         residual stem cannot stand in for it (it is the difference at this \
                         mix's levels, not a part anyone can mix with)"
                    .into(),
                needs: "stems exported through the same bus processing (or a reference mix \
                        without it); --residual-stem=bus-processing writes the difference \
                        anyway"
                    .into(),
            });
        } else {
            refusals.push(Refusal {
                code: c.code(),
                files: c.files(),
                reason: "the mix carries content no stem carries".into(),
                needs: "the missing stem exported, or --residual-stem to write what is \
                        missing as one more stem"
                    .into(),
            });
        }
    };

    for c in causes {
        match c {
            Cause::StartOffset(s) => {
                plan_offset(s, &mut refusals, &mut left_alone, c, |file, op| {
                    push(&mut plans, file, op, FindingCode::StartOffset)
                });
            }
            Cause::PolarityInverted {
                file, correlation, ..
            } => {
                if *correlation >= MIN_FIX_CORRELATION {
                    push(
                        &mut plans,
                        file,
                        Operation::InvertPolarity,
                        FindingCode::PolarityInverted,
                    );
                } else {
                    refuse(
                        &mut refusals,
                        c,
                        format!(
                            "{file} reads inverted, but flipped it correlates only {correlation:.2} \
                             with its part of the mix (at least {MIN_FIX_CORRELATION} to act)"
                        ),
                        "a check in which the flipped stem matches its part of the mix",
                    );
                }
            }
            Cause::ChannelFault(f) => {
                let better_db = f.residual_as_is_db - f.residual_fixed_db;
                if better_db < MIN_CHANNEL_FIX_GAIN_DB {
                    refuse(
                        &mut refusals,
                        c,
                        format!(
                            "correcting {}'s channels nulls only {better_db:.1} dB deeper \
                             (at least {MIN_CHANNEL_FIX_GAIN_DB} dB to act)",
                            f.file
                        ),
                        "a channel fault whose correction clearly explains the residual",
                    );
                    continue;
                }
                if f.kind == ChannelFaultKind::Swapped && split_halves(&plans, &f.file).is_some() {
                    refuse(
                        &mut refusals,
                        c,
                        format!(
                            "{}: the file named left holds the right channel and the file \
                             named right the left",
                            f.file
                        ),
                        "the two files' names exchanged (fix rewrites each file's samples, \
                         never a pair's names)",
                    );
                    continue;
                }
                let op = match f.kind {
                    ChannelFaultKind::Swapped => Operation::SwapChannels,
                    ChannelFaultKind::LeftInverted => Operation::InvertChannel { channel: 0 },
                    ChannelFaultKind::RightInverted => Operation::InvertChannel { channel: 1 },
                };
                push(&mut plans, &f.file, op, c.code());
            }
            Cause::ClockDrift(d) if !d.stems.is_empty() => {
                // The stems keep one clock; the mix is off it, and fix never writes the mix.
                refuse(
                    &mut refusals,
                    c,
                    format!(
                        "the mix {} runs off every stem's clock by {:.1} ppm",
                        d.file, d.ppm
                    ),
                    "a drift of stems against the mix (the mix is never rewritten: print it again on the session's clock)",
                );
            }
            Cause::ClockDrift(d) => {
                if d.windows < MIN_DRIFT_WINDOWS
                    || !d.ppm.is_finite()
                    || d.ppm.abs() > MAX_DRIFT_PPM
                {
                    refuse(
                        &mut refusals,
                        c,
                        format!(
                            "{}'s drift of {:.1} ppm was fitted on {} windows",
                            d.file, d.ppm, d.windows
                        ),
                        "a drift fitted on windows over the whole song, within 1000 ppm",
                    );
                    continue;
                }
                drift_files.push(d.file.clone());
                push(
                    &mut plans,
                    &d.file,
                    Operation::CorrectDrift {
                        ppm: d.ppm,
                        offset_start_samples: d.offset_start_samples,
                    },
                    c.code(),
                );
            }
            Cause::SampleRateMismatch { .. } => {
                // Acted on below from every stem's own rate (the mix's rate is the target,
                // whatever the majority is).
            }
            Cause::SetGain(g) if g.side_effect_of.is_none() => {
                if opts.match_gains {
                    for p in plans.iter_mut().filter(|p| p.role == Role::Stem) {
                        p.operations.push(Operation::Gain { gain_db: g.gain_db });
                        p.because.push(c.code());
                    }
                } else {
                    refuse(
                        &mut refusals,
                        c,
                        gain_reason(g.gain_db, "every stem"),
                        GAIN_NEEDS,
                    );
                }
            }
            Cause::StemGain(g) if g.side_effect_of.is_none() => {
                if opts.match_gains {
                    push(
                        &mut plans,
                        &g.file,
                        Operation::Gain { gain_db: g.gain_db },
                        c.code(),
                    );
                } else {
                    refuse(
                        &mut refusals,
                        c,
                        gain_reason(g.gain_db, &g.file),
                        GAIN_NEEDS,
                    );
                }
            }
            Cause::StemGains(gs) if gs.side_effect_of.is_none() => {
                for g in &gs.stems {
                    if opts.match_gains {
                        push(
                            &mut plans,
                            &g.file,
                            Operation::Gain { gain_db: g.gain_db },
                            c.code(),
                        );
                    } else {
                        refuse(
                            &mut refusals,
                            c,
                            gain_reason(g.gain_db, &g.file),
                            GAIN_NEEDS,
                        );
                    }
                }
            }
            Cause::SetGain(_) | Cause::StemGain(_) | Cause::StemGains(_) => leave(
                &mut left_alone,
                c,
                "a side effect of a whole-mix cause: the stems' own levels are right",
            ),
            Cause::AddedContent(a) => {
                let fx = matches!(a.kind, crate::cause::AddedKind::FxReturn { .. });
                want_residual(c, fx, false, &mut refusals, &mut residual);
            }
            Cause::MissingBusProcessing(_)
            | Cause::MasterProcessingOnStems(_)
            | Cause::UnexplainedResidual { .. } => {
                want_residual(c, false, true, &mut refusals, &mut residual);
            }
            Cause::BusEq(_) => {
                if c.severity() == Severity::Info {
                    leave(
                        &mut left_alone,
                        c,
                        "a flat level, not a filter: within the profile",
                    );
                } else {
                    want_residual(c, false, true, &mut refusals, &mut residual);
                }
            }
            Cause::CutOff {
                file,
                missing_frames,
                at_start,
                ..
            } => refuse(
                &mut refusals,
                c,
                format!(
                    "{file} misses {missing_frames} frames of the mix's audio at its {}: \
                     no change restores audio that was not delivered",
                    if *at_start { "start" } else { "end" }
                ),
                "a new export of the stem covering the whole song",
            ),
            Cause::LevelRide(r) => refuse(
                &mut refusals,
                c,
                format!(
                    "{}'s level moves over time in the mix (fader automation the export did \
                     not print): no fixed gain reproduces a ride",
                    r.stems
                        .iter()
                        .map(|s| s.file.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "a new export of the stem with its automation printed",
            ),
            Cause::MasterRide(_) => refuse(
                &mut refusals,
                c,
                "the mix's level moves over time against the stems' sum (master fader \
                 automation the export did not print): no fixed gain reproduces a ride"
                    .to_string(),
                "the stems exported through the master bus with its automation, or a mix without it",
            ),
            Cause::Unreadable { .. }
            | Cause::Truncated { .. }
            | Cause::IncompleteCapture(_)
            | Cause::UnreadAudioFormat { .. }
            | Cause::NoMix
            | Cause::MixUnreadable { .. }
            | Cause::TooManyStems { .. }
            | Cause::NoStemAtMixRate
            | Cause::ReconciliationIncomplete { .. }
            | Cause::ReconciliationFailed { .. } => refuse(
                &mut refusals,
                c,
                c.to_finding().message,
                "every stem readable and reconciled against the mix",
            ),
            Cause::NonFiniteSamples { .. } => leave(
                &mut left_alone,
                c,
                "written as silence wherever the file is rewritten (the reader reads them so)",
            ),
            Cause::TimecodeMismatch(_) => leave(
                &mut left_alone,
                c,
                "every rewritten stem's BWF time reference is set to the mix's",
            ),
            Cause::UnequalLengths { .. } => leave(
                &mut left_alone,
                c,
                "every stem is brought to the mix's length (silence padded or trimmed)",
            ),
            Cause::LossyCodec(_) => refuse(
                &mut refusals,
                c,
                "the residual is a lossy codec's coding noise (the mix or the stems were MP3 or \
                 AAC files): no correction restores what the codec took out"
                    .to_string(),
                "the mix and the stems as rendered from the session, in a lossless format",
            ),
            Cause::ContainedStem(d) => refuse(
                &mut refusals,
                c,
                format!(
                    "{} also carries {}'s audio: taking it out would rewrite {} from a fit, not \
                     from the session",
                    d.file, d.contains, d.file
                ),
                "a new export of the stem without the other stem's part",
            ),
            Cause::DcMismatch(d) => match &d.mix {
                // fix writes stems: it does not touch the mix.
                Some(mix) => refuse(
                    &mut refusals,
                    c,
                    format!(
                        "the mix {mix} carries a DC offset the stems do not (the sum misses it \
                         by {:.1} dBFS of DC); fix writes the stems and leaves the mix as it is",
                        d.residual_dc_dbfs
                    ),
                    "the mix exported again with a DC filter (or high-pass) on the mix bus",
                ),
                None => {
                    for (file, offsets) in &d.offset_by_channel {
                        push(
                            &mut plans,
                            file,
                            Operation::RemoveDc {
                                offset_by_channel: offsets.clone(),
                            },
                            FindingCode::DcOffset,
                        );
                    }
                }
            },
            Cause::ClippedExport(d) => refuse(
                &mut refusals,
                c,
                format!(
                    "{}'s export cut its peaks (up to {:+.1} dBFS in the mix): no correction \
                     restores what the clipping took out",
                    d.file, d.peak_in_mix_dbfs
                ),
                "a new export of the stem as 32-bit float (or with its bus lower)",
            ),
            Cause::FoldedToMono(d) => refuse(
                &mut refusals,
                c,
                format!(
                    "{} is a mono file and the mix has it in stereo: its side cannot be \
                     recovered from the mono file",
                    d.file
                ),
                "a stereo export of the stem",
            ),
            Cause::Ducking(d) => match &d.key {
                Some(key) => refuse(
                    &mut refusals,
                    c,
                    format!(
                        "{} is ducked in the mix by {key}'s sidechain and its export is not: a \
                         gain per 20 ms fitted to the mix would copy the mix, not restore the stem",
                        d.file
                    ),
                    "a new export of the stem with its sidechain key playing",
                ),
                None => refuse(
                    &mut refusals,
                    c,
                    format!(
                        "{} is compressed in the mix and its export is not: a gain per 20 ms \
                         fitted to the mix would copy the mix, not restore the stem",
                        d.file
                    ),
                    "a new export of the stem with its bus compressor printed",
                ),
            },
            Cause::SumMatchesMix { .. } => {}
            // Level, format, naming and layout findings: the stems still sum to the mix (or
            // would once corrected); fix corrects the sum and changes none of these.
            Cause::TruePeakOver { .. }
            | Cause::Clipping { .. }
            | Cause::FloatOver { .. }
            | Cause::LowHeadroom { .. }
            | Cause::DcOffset { .. }
            | Cause::Silent { .. }
            | Cause::Duplicate { .. }
            | Cause::Naming { .. }
            | Cause::NamedAlike { .. }
            | Cause::LoudnessOffTarget { .. }
            | Cause::EdgeSilence { .. }
            | Cause::MixCandidates(_)
            | Cause::Skipped { .. }
            | Cause::UnfinalisedSizes { .. }
            | Cause::DualMono { .. }
            | Cause::SplitStereo { .. }
            | Cause::SampleRateProfile { .. }
            | Cause::LowBitDepth { .. }
            | Cause::BitDepthMismatch { .. }
            | Cause::Multitracks { .. }
            | Cause::MixedChannelLayouts { .. }
            | Cause::TooFewStems { .. }
            | Cause::MissingFxStem { .. }
            | Cause::ChannelsProfile { .. } => {
                if c.severity() >= Severity::Warning {
                    leave(
                        &mut left_alone,
                        c,
                        "not a fault of the sum: fix does not change it",
                    );
                }
            }
            other => {
                let code = other.code();
                if other.severity() >= Severity::Warning && !code.leaves_sum_intact() {
                    refuse(
                        &mut refusals,
                        other,
                        format!(
                            "fix does not correct {}: {}",
                            code.as_str(),
                            other.to_finding().message
                        ),
                        "a delivery without it",
                    );
                } else if other.severity() >= Severity::Warning {
                    leave(
                        &mut left_alone,
                        other,
                        "leaves the stems' sum intact; not changed by fix",
                    );
                }
            }
        }
    }

    // A stem whose clock drifts has its offset in the drift: a start offset beside it is the
    // same measurement, not a second shift.
    for p in plans.iter_mut().filter(|p| drift_files.contains(&p.file)) {
        p.operations
            .retain(|op| !matches!(op, Operation::Shift { .. }));
    }
    for (p, f) in plans.iter_mut().zip(files) {
        if p.role == Role::Stem
            && let Some(rate) = f.sample_rate
            && rate != mix_sample_rate
        {
            p.operations.insert(
                0,
                Operation::Resample {
                    from_hz: rate,
                    to_hz: mix_sample_rate,
                },
            );
            p.because.push(FindingCode::SampleRateMismatch);
        }
        p.operations.sort_by_key(order);
    }
    if refusals.is_empty() {
        Ok(Plan {
            mix: mix.path.clone(),
            mix_sample_rate,
            mix_frames,
            mix_time_reference_samples: mix.time_reference_samples,
            files: plans,
            residual,
            left_alone,
        })
    } else {
        Err(refusals)
    }
}

const GAIN_NEEDS: &str = "--match-gains to apply the measured gains";

fn gain_reason(gain_db: f64, whom: &str) -> String {
    format!("{whom} enters the mix {gain_db:+.2} dB off its level as delivered")
}

/// The order operations are applied in: the rate first (offsets are in the mix's samples),
/// then the clock, the channels, the polarity, the DC offset (measured on the file as
/// delivered: a resampler keeps a mean, a gain would scale it) and level, and the shift last.
fn order(op: &Operation) -> u8 {
    match op {
        Operation::Resample { .. } => 0,
        Operation::CorrectDrift { .. } => 1,
        Operation::SwapChannels => 2,
        Operation::InvertChannel { .. } => 3,
        Operation::InvertPolarity => 4,
        Operation::RemoveDc { .. } => 5,
        Operation::Gain { .. } => 6,
        Operation::Shift { .. } => 7,
    }
}

/// A start offset: acted on when it is the stems' own and correlates; left alone when it is
/// the side effect of a whole-mix cause; refused when it does not correlate.
fn plan_offset(
    s: &StartOffset,
    refusals: &mut Vec<Refusal>,
    left_alone: &mut Vec<LeftAlone>,
    c: &Cause,
    mut push: impl FnMut(&str, Operation),
) {
    if let Some(of) = s.side_effect_of {
        left_alone.push(LeftAlone {
            code: c.code(),
            files: s.files.clone(),
            why: format!(
                "may be a side effect of {}: shifting the stems could damage them",
                of.as_str()
            ),
        });
    } else if let Some(cut) = s.cut_off {
        refusals.push(Refusal {
            code: c.code(),
            files: s.files.clone(),
            reason: format!(
                "shifted by {} samples, {} {} {} frames of the mix's audio at {} {}: no change \
                 restores audio that was not delivered",
                s.offset_samples,
                if s.files.len() == 1 {
                    "the stem"
                } else {
                    "the stems"
                },
                if s.files.len() == 1 {
                    "misses"
                } else {
                    "miss up to"
                },
                cut.missing_frames,
                if s.files.len() == 1 { "its" } else { "their" },
                if cut.at_start { "start" } else { "end" }
            ),
            needs: "a new export of the stem covering the whole song".into(),
        });
    } else if s.correlation < MIN_FIX_CORRELATION {
        refusals.push(Refusal {
            code: c.code(),
            files: s.files.clone(),
            reason: format!(
                "the offset of {} samples correlates only {:.2} with the mix (at least \
                 {MIN_FIX_CORRELATION} to act)",
                s.offset_samples, s.correlation
            ),
            needs: "an offset the stems' content confirms (correlation with their part of the mix)"
                .into(),
        });
    } else {
        for f in &s.files {
            push(
                f,
                Operation::Shift {
                    offset_samples: s.offset_samples,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::{ChannelFault, SumImpact};

    fn files() -> Vec<FileReport> {
        let f = |path: &str, role| FileReport {
            path: path.into(),
            role: Some(role),
            sample_rate: Some(48_000),
            frames: Some(48_000),
            ..FileReport::default()
        };
        vec![
            f("Mix.wav", Role::Mix),
            f("Bass.wav", Role::Stem),
            f("Keys.wav", Role::Stem),
        ]
    }

    fn shift(offset_samples: i64, correlation: f64) -> Cause {
        Cause::StartOffset(StartOffset {
            files: vec!["Bass.wav".into()],
            offset_samples,
            sample_rate: 48_000,
            correlation,
            active_stems: 2,
            side_effect_of: None,
            length_difference_samples: None,
            cut_off: None,
            sum: SumImpact::default(),
        })
    }

    fn ops(p: &Plan, file: &str) -> Vec<Operation> {
        p.files
            .iter()
            .find(|f| f.file == file)
            .unwrap()
            .operations
            .clone()
    }

    #[test]
    fn a_mix_on_another_clock_is_refused_not_corrected_on_the_stems() {
        let causes = vec![Cause::ClockDrift(crate::cause::ClockDrift {
            file: "Mix.wav".into(),
            stems: vec!["Bass.wav".into(), "Keys.wav".into()],
            ppm: 50.0,
            offset_start_samples: 0.0,
            offset_end_samples: 72.0,
            sample_rate: 48_000,
            windows: 7,
        })];
        let refusals = plan(&causes, &files(), FixOptions::default()).unwrap_err();
        assert_eq!(refusals.len(), 1, "{refusals:?}");
        assert_eq!(refusals[0].code, FindingCode::ClockDrift);
        assert!(refusals[0].reason.contains("Mix.wav"), "{refusals:?}");
    }

    #[test]
    fn a_stereo_stem_in_two_mono_files_is_corrected_file_by_file() {
        let mut delivery = files();
        for side in ["Pad.L.wav", "Pad.R.wav"] {
            let mut f = delivery[1].clone();
            f.path = side.into();
            delivery.push(f);
        }
        let pair = "Pad.L.wav + Pad.R.wav";
        let fault = |kind| {
            Cause::ChannelFault(ChannelFault {
                file: pair.into(),
                kind,
                residual_as_is_db: -6.0,
                residual_fixed_db: -90.0,
            })
        };
        let Cause::StartOffset(mut late) = shift(12, 0.99) else {
            unreachable!()
        };
        late.files = vec![pair.into()];
        let causes = [
            Cause::StartOffset(late),
            fault(ChannelFaultKind::RightInverted),
        ];
        let p = plan(&causes, &delivery, FixOptions::default()).unwrap();
        let shifted = Operation::Shift { offset_samples: 12 };
        assert_eq!(ops(&p, "Pad.L.wav"), std::slice::from_ref(&shifted));
        assert_eq!(
            ops(&p, "Pad.R.wav"),
            [Operation::InvertPolarity, shifted],
            "the inverted channel's own file only"
        );
        // Swapped halves are two names the wrong way round: no sample of either file is wrong.
        let refused = plan(
            &[fault(ChannelFaultKind::Swapped)],
            &delivery,
            FixOptions::default(),
        )
        .unwrap_err();
        assert_eq!(refused[0].code, FindingCode::ChannelsSwapped);
        assert!(refused[0].needs.contains("names"), "{refused:?}");
    }

    #[test]
    fn certain_findings_become_operations_in_their_order() {
        let causes = vec![
            shift(37, 0.99),
            Cause::PolarityInverted {
                file: "Bass.wav".into(),
                gain_db: 0.0,
                correlation: 0.98,
                null_depth_db: None,
            },
            Cause::ChannelFault(ChannelFault {
                file: "Keys.wav".into(),
                kind: ChannelFaultKind::Swapped,
                residual_as_is_db: -6.0,
                residual_fixed_db: -90.0,
            }),
        ];
        let p = plan(&causes, &files(), FixOptions::default()).unwrap();
        assert_eq!(
            ops(&p, "Bass.wav"),
            [
                Operation::InvertPolarity,
                Operation::Shift { offset_samples: 37 }
            ]
        );
        assert_eq!(ops(&p, "Keys.wav"), [Operation::SwapChannels]);
        assert!(ops(&p, "Mix.wav").is_empty());
    }

    #[test]
    fn uncertain_findings_are_not_acted_on() {
        // An offset the stem's content does not confirm refuses the fix.
        let refused = plan(&[shift(37, 0.4)], &files(), FixOptions::default()).unwrap_err();
        assert_eq!(refused[0].code, FindingCode::StartOffset);
        assert!(refused[0].reason.contains("0.40"), "{refused:?}");
        // A polarity the flipped stem does not match refuses too.
        let flip = Cause::PolarityInverted {
            file: "Bass.wav".into(),
            gain_db: 0.0,
            correlation: 0.5,
            null_depth_db: None,
        };
        assert!(plan(&[flip], &files(), FixOptions::default()).is_err());
        // A channel fault whose correction barely helps is not applied.
        let weak = Cause::ChannelFault(ChannelFault {
            file: "Keys.wav".into(),
            kind: ChannelFaultKind::LeftInverted,
            residual_as_is_db: -20.0,
            residual_fixed_db: -22.0,
        });
        assert!(plan(&[weak], &files(), FixOptions::default()).is_err());
        // An offset that may be another cause's side effect is left alone, never applied.
        let Cause::StartOffset(mut s) = shift(7, 0.99) else {
            unreachable!()
        };
        s.side_effect_of = Some(FindingCode::MissingFxReturn);
        let p = plan(&[Cause::StartOffset(s)], &files(), FixOptions::default()).unwrap();
        assert!(ops(&p, "Bass.wav").is_empty());
        assert_eq!(p.left_alone[0].code, FindingCode::StartOffset);
    }

    /// Coding noise is refused with what it needs: no operation on the stems undoes a codec.
    #[test]
    fn a_lossy_codec_is_refused() {
        let lossy = Cause::LossyCodec(crate::cause::LossyCodec {
            mix: "Mix.wav".into(),
            highs_mix_minus_sum_db: -0.5,
            residual_db: -28.0,
            noise_to_mix_db: vec![(1000.0, -30.0)],
            low_db: -32.0,
            high_db: -10.0,
            spread_db: 3.0,
            replaced: Some(FindingCode::MissingFxReturn),
        });
        let refused = plan(&[lossy], &files(), FixOptions::default()).unwrap_err();
        assert_eq!(refused[0].code, FindingCode::LossyCodec);
        assert!(refused[0].reason.contains("coding noise"), "{refused:?}");
    }

    /// A stem carrying another's part is refused: taking the part out would rewrite the stem
    /// from a fit, and `--match-gains` must not turn the other stem down instead.
    #[test]
    fn a_contained_stem_is_refused_even_with_match_gains() {
        let contained = Cause::ContainedStem(crate::cause::ContainedStem {
            file: "Bass.wav".into(),
            contains: "Keys.wav".into(),
            gain_db: -6.0,
            fitted_gain_db: Some(-6.0),
            residual_db: -20.0,
            sum: SumImpact::breaking(Some(-20.0), Some(-60.0)),
        });
        let opts = FixOptions {
            match_gains: true,
            ..FixOptions::default()
        };
        let refused = plan(&[contained], &files(), opts).unwrap_err();
        assert_eq!(refused[0].code, FindingCode::DuplicateStem);
        assert!(refused[0].reason.contains("Keys.wav"), "{refused:?}");
    }

    #[test]
    fn gains_need_match_gains() {
        let gain = Cause::StemGain(crate::cause::StemGain {
            file: "Keys.wav".into(),
            gain_db: -3.0,
            tolerance_db: 0.1,
            correlation: 0.99,
            window_gain_spread_db: None,
            follows_added_content: false,
            pan_law_db: None,
            side_effect_of: None,
            sum: SumImpact::default(),
        });
        let refused =
            plan(std::slice::from_ref(&gain), &files(), FixOptions::default()).unwrap_err();
        assert!(refused[0].needs.contains("--match-gains"));
        let opts = FixOptions {
            match_gains: true,
            ..FixOptions::default()
        };
        let p = plan(&[gain], &files(), opts).unwrap();
        assert_eq!(ops(&p, "Keys.wav"), [Operation::Gain { gain_db: -3.0 }]);
    }

    #[test]
    fn a_stem_at_another_rate_is_resampled_first() {
        let mut f = files();
        f[1].sample_rate = Some(44_100);
        let p = plan(&[shift(-5, 0.99)], &f, FixOptions::default()).unwrap();
        assert_eq!(
            ops(&p, "Bass.wav"),
            [
                Operation::Resample {
                    from_hz: 44_100,
                    to_hz: 48_000
                },
                Operation::Shift { offset_samples: -5 }
            ]
        );
    }
}
