//! Rendering a [`Cause`] into the report's [`Finding`]: its code, severity, files, message,
//! fix and `measured` numbers. The only place where findings are worded: `delivery` (reading,
//! delivery checks, file content), `reconciliation` and `diagnosis` word their families.
//!
//! Measured values are rounded here, the way the report has always shown them (`round1`,
//! `round2`, `round4`); the causes keep the full-precision numbers.

mod common;
mod delivery;
mod diagnosis;
mod profile;
mod reconciliation;

pub(crate) use common::{round1, round2};

use crate::cause::{
    AddedKind, CaptureProblem, Cause, ChannelFault, ChannelFaultKind, ClockDrift, ContainedStem,
    ERROR_RESIDUAL_DB, Evidence, FLAT_EQ_SPAN_DB, IncompleteCapture, QUIET_RESIDUAL_DB, SetGain,
    StartOffset, StemGain, StemGains, SumImpact, TimecodeMismatch,
};
use crate::report::{Finding, FindingCode, Severity};
use common::base;

pub(super) fn code(c: &Cause) -> FindingCode {
    use FindingCode as F;
    match c {
        Cause::Unreadable { .. } | Cause::Truncated { .. } => F::UnreadableFile,
        Cause::UnreadAudioFormat { .. } => F::UnreadableFile,
        Cause::Skipped { .. } => F::SkippedFile,
        Cause::IncompleteCapture(_) => F::IncompleteCapture,
        Cause::UnfinalisedSizes { .. } => F::UnfinalisedHeader,
        Cause::TimecodeMismatch(_) => F::TimecodeMismatch,
        Cause::NoMix
        | Cause::MixUnreadable { .. }
        | Cause::TooManyStems { .. }
        | Cause::NoStemAtMixRate => F::NoMix,
        Cause::ReconciliationIncomplete { .. } => F::ReconciliationIncomplete,
        Cause::MixCandidates(_) => F::MixCandidates,
        Cause::MasterProcessingOnStems(_) => F::MasterProcessingOnStems,
        Cause::LevelRide(_) => F::GainMismatch,
        Cause::LossyCodec(_) => F::LossyCodec,
        Cause::ReconciliationFailed { .. } | Cause::UnexplainedResidual { .. } => {
            F::UnexplainedResidual
        }
        Cause::SampleRateMismatch { .. } => F::SampleRateMismatch,
        Cause::SampleRateProfile { .. } => F::SampleRateProfile,
        Cause::ChannelsProfile { .. } => F::ChannelLayout,
        Cause::TooFewStems { .. } => F::StemCount,
        Cause::LoudnessOffTarget { .. } => F::LoudnessOffTarget,
        Cause::EdgeSilence { at_end: false, .. } => F::HeadSilence,
        Cause::EdgeSilence { at_end: true, .. } => F::TailSilence,
        Cause::MissingFxStem { .. } => F::MissingFxStem,
        Cause::BitDepthMismatch { .. } => F::BitDepthMismatch,
        Cause::LowBitDepth { .. } => F::LowBitDepth,
        Cause::UnequalLengths { .. } | Cause::CutOff { .. } => F::LengthMismatch,
        Cause::WiderThanMix { .. } | Cause::MixedChannelLayouts { .. } => F::ChannelLayout,
        Cause::Multitracks { .. } => F::MultitracksNotStems,
        Cause::Naming { .. } | Cause::NamedAlike { .. } => F::Naming,
        Cause::Silent { .. } => F::SilentStem,
        Cause::Duplicate { .. } | Cause::ContainedStem(_) => F::DuplicateStem,
        Cause::Dropout(_) => F::Dropout,
        Cause::MasterRide(_) => F::GainMismatch,
        Cause::NonFiniteSamples { .. } => F::NonFiniteSamples,
        Cause::Clipping { .. } | Cause::ClippedExport(_) => F::Clipping,
        Cause::FoldedToMono(_) => F::ChannelLayout,
        Cause::FloatOver { .. } => F::FloatOver,
        Cause::DualMono { .. } => F::DualMono,
        Cause::SplitStereo { .. } => F::SplitStereo,
        Cause::TruePeakOver { .. } => F::TruePeakOver,
        Cause::LowHeadroom { .. } => F::LowHeadroom,
        Cause::DcOffset { .. } | Cause::DcMismatch(_) => F::DcOffset,
        Cause::StartOffset(_) => F::StartOffset,
        Cause::PolarityInverted { .. } => F::PolarityInverted,
        Cause::ClockDrift(_) => F::ClockDrift,
        Cause::ChannelFault(f) => match f.kind {
            ChannelFaultKind::Swapped => F::ChannelsSwapped,
            _ => F::ChannelPolarityInverted,
        },
        Cause::SetGain(_) | Cause::StemGain(_) | Cause::StemGains(_) => F::GainMismatch,
        Cause::SumMatchesMix { .. } => F::SumMatchesMix,
        Cause::MissingBusProcessing(_) | Cause::Ducking(_) => F::MissingBusProcessing,
        Cause::BusEq(_) => F::BusEq,
        Cause::AddedContent(a) => match a.kind {
            AddedKind::FxReturn { .. } => F::MissingFxReturn,
            AddedKind::Element => F::MissingElement,
        },
    }
}

/// A diagnosis cause's severity from the residual it accounts for and how strong the evidence
/// is.
fn residual_severity(share_db: f64, strong: bool) -> Severity {
    if strong && share_db > ERROR_RESIDUAL_DB {
        Severity::Error
    } else if share_db > QUIET_RESIDUAL_DB {
        Severity::Warning
    } else {
        Severity::Info
    }
}

/// A diagnosis cause that stops the stems summing back to the mix is an error, whatever
/// its evidence alone would make it.
fn breaking(sum: SumImpact, otherwise: Severity) -> Severity {
    if sum.expected_by_profile {
        Severity::Info
    } else if sum.breaks_sum {
        Severity::Error
    } else {
        otherwise
    }
}

pub(super) fn severity(c: &Cause) -> Severity {
    use Severity::{Error, Info, Warning};
    match c {
        Cause::Truncated { .. }
        | Cause::MixUnreadable { .. }
        | Cause::TooManyStems { .. }
        | Cause::ReconciliationFailed { .. }
        | Cause::ReconciliationIncomplete { .. }
        | Cause::BitDepthMismatch { .. }
        | Cause::LowBitDepth { .. }
        | Cause::WiderThanMix { .. }
        | Cause::Multitracks { .. }
        | Cause::Naming { .. }
        | Cause::NamedAlike { .. }
        | Cause::LowHeadroom { .. }
        | Cause::DcOffset { .. }
        | Cause::TimecodeMismatch(_)
        | Cause::ChannelsProfile { .. }
        | Cause::TooFewStems { .. }
        | Cause::EdgeSilence { .. }
        | Cause::MissingFxStem { .. }
        | Cause::CutOff {
            audible_in_mix: false,
            ..
        } => Warning,
        Cause::CutOff { .. } => Error,
        // Warns, not errs: what the file holds is simply not in the check, and the finding
        // says how to send it in a format that is read.
        Cause::UnreadAudioFormat { .. } => Warning,
        Cause::Skipped { .. } => Info,
        Cause::Unreadable { .. }
        | Cause::SampleRateMismatch { .. }
        | Cause::SampleRateProfile { .. }
        | Cause::NonFiniteSamples { .. }
        | Cause::TruePeakOver { .. }
        | Cause::LoudnessOffTarget { .. }
        | Cause::PolarityInverted { .. }
        | Cause::ChannelFault(_)
        | Cause::ClockDrift(_) => Error,
        Cause::NoMix
        | Cause::NoStemAtMixRate
        | Cause::UnfinalisedSizes { .. }
        | Cause::DualMono { .. }
        | Cause::SplitStereo { .. }
        | Cause::MixCandidates(_)
        | Cause::SumMatchesMix { .. } => Info,
        Cause::FloatOver { .. } => Warning,
        Cause::MasterProcessingOnStems(m) => breaking(m.sum, Warning),
        Cause::LevelRide(r) => breaking(r.sum, Warning),
        Cause::MasterRide(r) => breaking(r.sum, Warning),
        // The parts may well sum; they cannot be judged below the noise: a departure from the
        // delivery (lossless files), not a broken sum.
        Cause::LossyCodec(_) => Warning,
        // A part that plays twice in the sum: an error when it stops the stems summing back
        // to the mix, which a doubled part above the noise does.
        Cause::ContainedStem(c) => breaking(c.sum, Warning),
        // A gap is audible in the stem whatever it does to the sum's average null.
        Cause::Dropout(_) => Error,
        // A clipped stem is an error of the delivery whatever the sum does (see `Clipping`).
        Cause::ClippedExport(_) => Error,
        Cause::DcMismatch(d) => breaking(d.sum, Warning),
        Cause::Ducking(d) => breaking(d.sum, Warning),
        Cause::FoldedToMono(d) => breaking(d.sum, Warning),
        Cause::IncompleteCapture(c) => match c.problem {
            CaptureProblem::StillRecording => Warning,
            _ => Error,
        },
        Cause::MixedChannelLayouts { surround, .. } => {
            if *surround {
                Warning
            } else {
                Info
            }
        }
        Cause::UnequalLengths { silent_tails, .. } => {
            if *silent_tails {
                Warning
            } else {
                Error
            }
        }
        Cause::Silent { is_mix, .. } => {
            if *is_mix {
                Error
            } else {
                Warning
            }
        }
        Cause::Duplicate { identical, .. } => {
            if *identical {
                Error
            } else {
                Warning
            }
        }
        Cause::Clipping { is_stem, .. } => {
            if *is_stem {
                Error
            } else {
                Warning
            }
        }
        Cause::StartOffset(s) => {
            if s.side_effect_of.is_some() {
                Warning
            } else {
                Error
            }
        }
        // A gain is an error when it stops the stems summing back to the mix (its own
        // residual misses the profile's null); a departure that leaves the sum intact warns.
        Cause::SetGain(SetGain {
            side_effect_of,
            sum,
            ..
        })
        | Cause::StemGain(StemGain {
            side_effect_of,
            sum,
            ..
        })
        | Cause::StemGains(StemGains {
            side_effect_of,
            sum,
            ..
        }) => {
            if side_effect_of.is_some() {
                Info
            } else if sum.breaks_sum {
                Error
            } else {
                Warning
            }
        }
        Cause::MissingBusProcessing(b) => breaking(
            b.sum,
            residual_severity(b.explained_db, b.evidence == Evidence::Strong),
        ),
        // A "filter" whose coherent bands lie within a dB of each other is a level, not an EQ
        // anyone set: context, never a warning beside the cause that made the residual.
        Cause::BusEq(e) if e.curve_span_db < FLAT_EQ_SPAN_DB && !e.sum.breaks_sum => Info,
        Cause::BusEq(e) => breaking(
            e.sum,
            residual_severity(e.explained_db, e.evidence == Evidence::Strong),
        ),
        Cause::AddedContent(a) => breaking(
            a.sum,
            if a.secondary {
                Warning
            } else {
                residual_severity(a.residual_db, a.strong)
            },
        ),
        Cause::UnexplainedResidual { sum, .. } if sum.breaks_sum => Error,
        Cause::UnexplainedResidual { residual_db, .. } => {
            if *residual_db > ERROR_RESIDUAL_DB {
                Warning
            } else {
                Info
            }
        }
    }
}

pub(super) fn files(c: &Cause) -> Vec<String> {
    match c {
        Cause::Unreadable { file, .. }
        | Cause::Truncated { file, .. }
        | Cause::IncompleteCapture(IncompleteCapture { file, .. })
        | Cause::MixUnreadable { mix: file }
        | Cause::TooManyStems { mix: file, .. }
        | Cause::PolarityInverted { file, .. }
        | Cause::ChannelFault(ChannelFault { file, .. })
        | Cause::ClockDrift(ClockDrift { file, .. })
        | Cause::StemGain(StemGain { file, .. })
        | Cause::LoudnessOffTarget { file, .. }
        | Cause::EdgeSilence { file, .. }
        | Cause::CutOff { file, .. } => vec![file.clone()],
        Cause::Dropout(d) => vec![d.file.clone()],
        Cause::ClippedExport(d) => vec![d.file.clone()],
        Cause::DcMismatch(d) => names_of(&d.by_file),
        Cause::Ducking(d) => std::iter::once(d.file.clone())
            .chain(d.key.clone())
            .collect(),
        Cause::FoldedToMono(d) => vec![d.file.clone()],
        Cause::ContainedStem(ContainedStem { file, contains, .. }) => {
            vec![file.clone(), contains.clone()]
        }
        Cause::ReconciliationIncomplete { excluded } => {
            excluded.iter().map(|e| e.path.clone()).collect()
        }
        Cause::MixCandidates(m) => std::iter::once(&m.mix)
            .chain(&m.references)
            .chain(&m.stems)
            .cloned()
            .collect(),
        Cause::SampleRateMismatch { files, .. }
        | Cause::SampleRateProfile { files, .. }
        | Cause::BitDepthMismatch { files, .. }
        | Cause::UnequalLengths { files, .. }
        | Cause::WiderThanMix { files, .. }
        | Cause::MixedChannelLayouts { files, .. }
        | Cause::NamedAlike { files }
        | Cause::Duplicate { files, .. }
        | Cause::LowBitDepth { files, .. }
        | Cause::DualMono { files }
        | Cause::SplitStereo { pairs: files }
        | Cause::UnfinalisedSizes { files }
        | Cause::TimecodeMismatch(TimecodeMismatch { files, .. })
        | Cause::Skipped { files }
        | Cause::StartOffset(StartOffset { files, .. }) => files.clone(),
        Cause::UnreadAudioFormat { by_file } => names_of(by_file),
        Cause::Naming { by_file } => names_of(by_file),
        Cause::ChannelsProfile { by_file, .. } => names_of(by_file),
        Cause::Silent { by_file, .. } => names_of(by_file),
        Cause::NonFiniteSamples { by_file } => names_of(by_file),
        Cause::Clipping { by_file, .. } => names_of(by_file),
        Cause::FloatOver { by_file, .. }
        | Cause::TruePeakOver { by_file, .. }
        | Cause::LowHeadroom { by_file, .. } => names_of(by_file),
        Cause::DcOffset { by_file, mix, .. } => {
            let mut names = names_of(by_file);
            names.extend(mix.iter().map(|(f, _)| f.clone()));
            names
        }
        Cause::StemGains(g) => g.stems.iter().map(|s| s.file.clone()).collect(),
        Cause::MasterProcessingOnStems(m) => m.stems.clone(),
        Cause::LevelRide(r) => r.stems.iter().map(|s| s.file.clone()).collect(),
        Cause::NoMix
        | Cause::NoStemAtMixRate
        | Cause::ReconciliationFailed { .. }
        | Cause::Multitracks { .. }
        | Cause::TooFewStems { .. }
        | Cause::MissingFxStem { .. }
        | Cause::SetGain(_)
        | Cause::SumMatchesMix { .. }
        | Cause::MissingBusProcessing(_)
        | Cause::BusEq(_)
        | Cause::AddedContent(_)
        | Cause::LossyCodec(_)
        | Cause::MasterRide(_)
        | Cause::UnexplainedResidual { .. } => Vec::new(),
    }
}

/// The files of a per-file list.
fn names_of<T>(by_file: &[(String, T)]) -> Vec<String> {
    by_file.iter().map(|(f, _)| f.clone()).collect()
}

pub(super) fn finding(c: &Cause) -> Finding {
    match c {
        Cause::Unreadable { .. }
        | Cause::Truncated { .. }
        | Cause::UnfinalisedSizes { .. }
        | Cause::IncompleteCapture(_)
        | Cause::NoMix
        | Cause::MixUnreadable { .. }
        | Cause::TooManyStems { .. }
        | Cause::NoStemAtMixRate
        | Cause::ReconciliationIncomplete { .. }
        | Cause::ReconciliationFailed { .. }
        | Cause::Skipped { .. }
        | Cause::UnreadAudioFormat { .. } => delivery::reading(c),
        Cause::MixCandidates(m) => delivery::mix_candidates(c, m),
        Cause::SampleRateMismatch { .. }
        | Cause::SampleRateProfile { .. }
        | Cause::BitDepthMismatch { .. }
        | Cause::LowBitDepth { .. }
        | Cause::UnequalLengths { .. } => delivery::formats(c),
        Cause::WiderThanMix { .. }
        | Cause::MixedChannelLayouts { .. }
        | Cause::Multitracks { .. }
        | Cause::Naming { .. }
        | Cause::NamedAlike { .. } => delivery::layout(c),
        Cause::Silent { .. }
        | Cause::Duplicate { .. }
        | Cause::NonFiniteSamples { .. }
        | Cause::Clipping { .. }
        | Cause::FloatOver { .. }
        | Cause::DualMono { .. }
        | Cause::SplitStereo { .. }
        | Cause::TruePeakOver { .. }
        | Cause::LowHeadroom { .. }
        | Cause::DcOffset { .. } => delivery::content(c),
        Cause::ChannelsProfile { .. }
        | Cause::TooFewStems { .. }
        | Cause::LoudnessOffTarget { .. }
        | Cause::EdgeSilence { .. }
        | Cause::MissingFxStem { .. } => profile::spec(c),
        Cause::StartOffset(s) => reconciliation::start_offset(c, s),
        Cause::TimecodeMismatch(t) => reconciliation::timecode_mismatch(c, t),
        Cause::PolarityInverted { .. } | Cause::CutOff { .. } | Cause::SumMatchesMix { .. } => {
            reconciliation::reconciliation(c)
        }
        Cause::ChannelFault(f) => reconciliation::channel_fault(c, f),
        Cause::ClockDrift(d) => reconciliation::clock_drift(c, d),
        Cause::ContainedStem(d) => {
            reconciliation::with_sum(reconciliation::contained_stem(c, d), &d.sum)
        }
        Cause::Dropout(d) => reconciliation::with_sum(reconciliation::dropout(c, d), &d.sum),
        Cause::ClippedExport(d) => {
            reconciliation::with_sum(reconciliation::clipped_export(c, d), &d.sum)
        }
        Cause::DcMismatch(d) => reconciliation::with_sum(reconciliation::dc_mismatch(c, d), &d.sum),
        Cause::Ducking(d) => reconciliation::with_sum(diagnosis::ducking(c, d), &d.sum),
        Cause::FoldedToMono(d) => {
            reconciliation::with_sum(reconciliation::folded_to_mono(c, d), &d.sum)
        }
        Cause::SetGain(g) => reconciliation::set_gain(c, g),
        Cause::StemGain(g) => reconciliation::stem_gain(c, g),
        Cause::StemGains(g) => reconciliation::stem_gains(c, g),
        Cause::MasterProcessingOnStems(m) => diagnosis::master_chain(c, m),
        Cause::LevelRide(r) => diagnosis::level_ride(c, r),
        Cause::MasterRide(r) => reconciliation::with_sum(diagnosis::master_ride(c, r), &r.sum),
        Cause::LossyCodec(l) => diagnosis::lossy_codec(c, l),
        Cause::MissingBusProcessing(b) => {
            reconciliation::with_sum(diagnosis::bus_processing(c, b), &b.sum)
        }
        Cause::BusEq(e) => reconciliation::with_sum(diagnosis::bus_eq(c, e), &e.sum),
        Cause::AddedContent(a) => reconciliation::with_sum(diagnosis::added_content(c, a), &a.sum),
        Cause::UnexplainedResidual {
            residual_db,
            null_gain_with_dynamics_db,
            null_gain_with_eq_db,
            may_be_excluded,
            sum,
        } => reconciliation::with_sum(
            base(
            c,
            format!(
                "The stems leave a residual at {:.1} dB under the mix that no model explains (gain, EQ, dynamics, added content).{}",
                -residual_db,
                common::may_be_excluded_note(may_be_excluded)
            ),
            if may_be_excluded.is_empty() {
                "Compare the mix-bus chain and the stem export settings (plugins, sends, render options)."
            } else {
                "Re-export the stems that could not enter the sum and check again: the residual may be theirs."
            },
        )
        .with("may_be_excluded", may_be_excluded.clone())
        .with("residual_db", round1(*residual_db))
        .with("null_gain_with_dynamics_db", round1(*null_gain_with_dynamics_db))
        .with("null_gain_with_eq_db", round1(*null_gain_with_eq_db)),
            sum,
        ),
    }
}
