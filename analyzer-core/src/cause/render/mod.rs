//! Rendering a [`Cause`] into the report's [`Finding`]: its code, severity, files, message,
//! fix and `measured` numbers. The only place where findings are worded: `delivery` (reading,
//! delivery checks, file content), `reconciliation` and `diagnosis` word their families.
//!
//! Measured values are rounded here, the way the report has always shown them (`round1`,
//! `round2`, `round4`); the causes keep the full-precision numbers.

mod common;
mod delivery;
mod diagnosis;
mod reconciliation;

pub(crate) use common::{round1, round2};

use crate::cause::{
    AddedKind, CaptureProblem, Cause, ChannelFault, ChannelFaultKind, ClockDrift,
    ERROR_RESIDUAL_DB, Evidence, GAIN_ERROR_DB, IncompleteCapture, QUIET_RESIDUAL_DB, SetGain,
    StartOffset, StemGain,
};
use crate::report::{Finding, FindingCode, Severity};
use common::base;

pub(super) fn code(c: &Cause) -> FindingCode {
    use FindingCode as F;
    match c {
        Cause::Unreadable { .. } | Cause::Truncated { .. } => F::UnreadableFile,
        Cause::IncompleteCapture(_) => F::IncompleteCapture,
        Cause::NoMix
        | Cause::MixUnreadable { .. }
        | Cause::TooManyStems { .. }
        | Cause::NoStemAtMixRate => F::NoMix,
        Cause::LeftOutOfReconciliation { .. }
        | Cause::ReconciliationFailed { .. }
        | Cause::UnexplainedResidual { .. } => F::UnexplainedResidual,
        Cause::SampleRateMismatch { .. } => F::SampleRateMismatch,
        Cause::SampleRateProfile { .. } => F::SampleRateProfile,
        Cause::BitDepthMismatch { .. } => F::BitDepthMismatch,
        Cause::LowBitDepth { .. } => F::LowBitDepth,
        Cause::UnequalLengths { .. } | Cause::CutOff { .. } => F::LengthMismatch,
        Cause::WiderThanMix { .. } | Cause::MixedChannelLayouts { .. } => F::ChannelLayout,
        Cause::Multitracks { .. } => F::MultitracksNotStems,
        Cause::Naming { .. } | Cause::NamedAlike { .. } => F::Naming,
        Cause::Silent { .. } => F::SilentStem,
        Cause::Duplicate { .. } => F::DuplicateStem,
        Cause::NonFiniteSamples { .. } => F::NonFiniteSamples,
        Cause::Clipping { .. } => F::Clipping,
        Cause::TruePeakOver { .. } => F::TruePeakOver,
        Cause::LowHeadroom { .. } => F::LowHeadroom,
        Cause::DcOffset { .. } => F::DcOffset,
        Cause::StartOffset(_) => F::StartOffset,
        Cause::PolarityInverted { .. } => F::PolarityInverted,
        Cause::ClockDrift(_) => F::ClockDrift,
        Cause::ChannelFault(f) => match f.kind {
            ChannelFaultKind::Swapped => F::ChannelsSwapped,
            _ => F::ChannelPolarityInverted,
        },
        Cause::SetGain(_) | Cause::StemGain(_) => F::GainMismatch,
        Cause::SumMatchesMix { .. } => F::SumMatchesMix,
        Cause::MissingBusProcessing(_) => F::MissingBusProcessing,
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

fn gain_severity(gain_db: f64) -> Severity {
    if gain_db.abs() > GAIN_ERROR_DB {
        Severity::Error
    } else {
        Severity::Warning
    }
}

pub(super) fn severity(c: &Cause) -> Severity {
    use Severity::{Error, Info, Warning};
    match c {
        Cause::Truncated { .. }
        | Cause::MixUnreadable { .. }
        | Cause::TooManyStems { .. }
        | Cause::ReconciliationFailed { .. }
        | Cause::BitDepthMismatch { .. }
        | Cause::LowBitDepth { .. }
        | Cause::WiderThanMix { .. }
        | Cause::Multitracks { .. }
        | Cause::Naming { .. }
        | Cause::NamedAlike { .. }
        | Cause::LowHeadroom { .. }
        | Cause::DcOffset { .. }
        | Cause::CutOff { .. } => Warning,
        Cause::Unreadable { .. }
        | Cause::SampleRateMismatch { .. }
        | Cause::SampleRateProfile { .. }
        | Cause::UnequalLengths { .. }
        | Cause::NonFiniteSamples { .. }
        | Cause::TruePeakOver { .. }
        | Cause::PolarityInverted { .. }
        | Cause::ChannelFault(_)
        | Cause::ClockDrift(_) => Error,
        Cause::NoMix
        | Cause::NoStemAtMixRate
        | Cause::LeftOutOfReconciliation { .. }
        | Cause::SumMatchesMix { .. } => Info,
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
        Cause::SetGain(SetGain {
            gain_db,
            side_effect_of,
            ..
        })
        | Cause::StemGain(StemGain {
            gain_db,
            side_effect_of,
            ..
        }) => {
            if side_effect_of.is_some() {
                Info
            } else {
                gain_severity(*gain_db)
            }
        }
        Cause::MissingBusProcessing(b) => {
            residual_severity(b.explained_db, b.evidence == Evidence::Strong)
        }
        Cause::BusEq(e) => residual_severity(e.explained_db, e.evidence == Evidence::Strong),
        Cause::AddedContent(a) => {
            if a.secondary {
                Warning
            } else {
                residual_severity(a.residual_db, a.strong)
            }
        }
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
        | Cause::LowBitDepth { file, .. }
        | Cause::Naming { file, .. }
        | Cause::Silent { file, .. }
        | Cause::NonFiniteSamples { file, .. }
        | Cause::Clipping { file, .. }
        | Cause::TruePeakOver { file, .. }
        | Cause::LowHeadroom { file, .. }
        | Cause::DcOffset { file, .. }
        | Cause::PolarityInverted { file, .. }
        | Cause::ChannelFault(ChannelFault { file, .. })
        | Cause::ClockDrift(ClockDrift { file, .. })
        | Cause::StemGain(StemGain { file, .. })
        | Cause::CutOff { file, .. } => vec![file.clone()],
        Cause::LeftOutOfReconciliation { files, .. }
        | Cause::SampleRateMismatch { files, .. }
        | Cause::SampleRateProfile { files, .. }
        | Cause::BitDepthMismatch { files, .. }
        | Cause::UnequalLengths { files, .. }
        | Cause::WiderThanMix { files, .. }
        | Cause::MixedChannelLayouts { files, .. }
        | Cause::NamedAlike { files }
        | Cause::Duplicate { files, .. }
        | Cause::StartOffset(StartOffset { files, .. }) => files.clone(),
        Cause::NoMix
        | Cause::NoStemAtMixRate
        | Cause::ReconciliationFailed { .. }
        | Cause::Multitracks { .. }
        | Cause::SetGain(_)
        | Cause::SumMatchesMix { .. }
        | Cause::MissingBusProcessing(_)
        | Cause::BusEq(_)
        | Cause::AddedContent(_)
        | Cause::UnexplainedResidual { .. } => Vec::new(),
    }
}

pub(super) fn finding(c: &Cause) -> Finding {
    match c {
        Cause::Unreadable { .. }
        | Cause::Truncated { .. }
        | Cause::IncompleteCapture(_)
        | Cause::NoMix
        | Cause::MixUnreadable { .. }
        | Cause::TooManyStems { .. }
        | Cause::NoStemAtMixRate
        | Cause::LeftOutOfReconciliation { .. }
        | Cause::ReconciliationFailed { .. } => delivery::reading(c),
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
        | Cause::TruePeakOver { .. }
        | Cause::LowHeadroom { .. }
        | Cause::DcOffset { .. } => delivery::content(c),
        Cause::StartOffset(s) => reconciliation::start_offset(c, s),
        Cause::PolarityInverted { .. } | Cause::CutOff { .. } | Cause::SumMatchesMix { .. } => {
            reconciliation::reconciliation(c)
        }
        Cause::ChannelFault(f) => reconciliation::channel_fault(c, f),
        Cause::ClockDrift(d) => reconciliation::clock_drift(c, d),
        Cause::SetGain(g) => reconciliation::set_gain(c, g),
        Cause::StemGain(g) => reconciliation::stem_gain(c, g),
        Cause::MissingBusProcessing(b) => diagnosis::bus_processing(c, b),
        Cause::BusEq(e) => diagnosis::bus_eq(c, e),
        Cause::AddedContent(a) => diagnosis::added_content(c, a),
        Cause::UnexplainedResidual {
            residual_db,
            null_gain_with_dynamics_db,
            null_gain_with_eq_db,
        } => base(
            c,
            format!(
                "The stems leave a residual at {:.1} dB under the mix that no model explains (gain, EQ, dynamics, added content).",
                -residual_db
            ),
            "Compare the mix-bus chain and the stem export settings (plugins, sends, render options).",
        )
        .with("residual_db", round1(*residual_db))
        .with("null_gain_with_dynamics_db", round1(*null_gain_with_dynamics_db))
        .with("null_gain_with_eq_db", round1(*null_gain_with_eq_db)),
    }
}
