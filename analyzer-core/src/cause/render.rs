//! Rendering a [`Cause`] into the report's [`Finding`]: its code, severity, files, message,
//! fix and `measured` numbers. The only place where findings are worded.
//!
//! Measured values are rounded here, the way the report has always shown them (`round1`,
//! `round2`, `round4`); the causes keep the full-precision numbers.

use super::{
    AddedContent, AddedKind, BusEq, BusProcessing, CaptureProblem, Cause, DynamicsKind,
    ERROR_RESIDUAL_DB, Evidence, GAIN_ERROR_DB, IncompleteCapture, QUIET_RESIDUAL_DB, SetGain,
    StartOffset, StemGain, coherent_bands,
};
use crate::report::{Finding, FindingCode, Severity};

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Samples as milliseconds, to 0.01 ms.
fn ms(samples: i64, sr: u32) -> f64 {
    (samples as f64 * 1000.0 / f64::from(sr) * 100.0).round() / 100.0
}

/// "a", "a and b", "a, b and c", "a, b and 3 more".
fn list(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        n if n <= 4 => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
        n => format!("{}, {} and {} more", names[0], names[1], n - 2),
    }
}

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
        | Cause::PolarityInverted { .. } => Error,
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

/// A finding with the cause's code, severity and files and the given words.
fn base(c: &Cause, message: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding::new(code(c), severity(c), files(c), message, fix)
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
        | Cause::ReconciliationFailed { .. } => reading(c),
        Cause::SampleRateMismatch { .. }
        | Cause::SampleRateProfile { .. }
        | Cause::BitDepthMismatch { .. }
        | Cause::LowBitDepth { .. }
        | Cause::UnequalLengths { .. }
        | Cause::WiderThanMix { .. }
        | Cause::MixedChannelLayouts { .. }
        | Cause::Multitracks { .. }
        | Cause::Naming { .. }
        | Cause::NamedAlike { .. } => delivery(c),
        Cause::Silent { .. }
        | Cause::Duplicate { .. }
        | Cause::NonFiniteSamples { .. }
        | Cause::Clipping { .. }
        | Cause::TruePeakOver { .. }
        | Cause::LowHeadroom { .. }
        | Cause::DcOffset { .. } => content(c),
        Cause::StartOffset(s) => start_offset(c, s),
        Cause::PolarityInverted { .. } | Cause::CutOff { .. } | Cause::SumMatchesMix { .. } => {
            reconciliation(c)
        }
        Cause::SetGain(g) => set_gain(c, g),
        Cause::StemGain(g) => stem_gain(c, g),
        Cause::MissingBusProcessing(b) => bus_processing(c, b),
        Cause::BusEq(e) => bus_eq(c, e),
        Cause::AddedContent(a) => added_content(c, a),
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

/// Reading the files and deciding what can be reconciled.
fn reading(c: &Cause) -> Finding {
    match c {
        Cause::Unreadable { file, reason } => base(
            c,
            format!("{file} cannot be read: {reason}"),
            "Re-export the file as PCM WAV (24-bit integer or 32-bit float) and send it again.",
        )
        .with("reason", reason.clone()),
        Cause::Truncated {
            file,
            declared_frames,
            frames,
        } => base(
            c,
            format!(
                "{file} is truncated: its header promises {declared_frames} frames, the file holds {frames}; the rest was checked."
            ),
            "Re-export or re-copy the file; it was cut short (interrupted export or transfer).",
        )
        .with("declared_frames", *declared_frames)
        .with("frames", *frames),
        Cause::IncompleteCapture(ic) => incomplete_capture(c, ic),
        Cause::NoMix => base(
            c,
            "No mix was found, so the stems were checked without reconciliation.",
            "Add the mix with --mix FILE (or name it ...Mix.wav) to check that the stems sum to it.",
        ),
        Cause::MixUnreadable { .. } => base(
            c,
            "The mix cannot be read, so the stems were not reconciled against it.",
            "Re-export the mix as PCM WAV.",
        ),
        Cause::TooManyStems {
            stems, max_stems, ..
        } => base(
            c,
            format!(
                "{stems} stems are more than the {max_stems} reconciled in one check, so they were not reconciled against the mix."
            ),
            "Deliver stems (submixes, usually 5-12) rather than multitracks, or check groups of them against their submix.",
        )
        .with("stems", *stems)
        .with("max_stems", *max_stems),
        Cause::NoStemAtMixRate => base(
            c,
            "No readable stem shares the mix's sample rate; nothing to reconcile.",
            "Deliver the stems with the mix at one sample rate.",
        ),
        Cause::LeftOutOfReconciliation {
            files,
            mix_sample_rate,
        } => base(
            c,
            format!(
                "{} left out of reconciliation: not at the mix's {mix_sample_rate} Hz.",
                files.join(", ")
            ),
            "Re-export those stems at the mix's sample rate.",
        ),
        Cause::ReconciliationFailed { reason } => base(
            c,
            format!("Reconciliation could not run: {reason}"),
            "Check that the mix and stems are readable and cover the same song.",
        )
        .with("reason", reason.clone()),
        _ => unreachable!("not a reading cause: {c:?}"),
    }
}

fn incomplete_capture(c: &Cause, ic: &IncompleteCapture) -> Finding {
    let label = &ic.label;
    let (message, fix) = match &ic.problem {
        CaptureProblem::CutShort { short_by_frames } => (
            format!(
                "The capture of {label} is {short_by_frames} frames shorter than its sidecar recorded ({} frames): the WAV was cut after the bounce (power loss before the disk caught up, or a partial copy).",
                ic.length_frames
            ),
            "Bounce again, or copy the bounce folder again from where it was written.",
        ),
        CaptureProblem::Aborted { error } => (
            format!(
                "The capture of {label} was aborted: {}.",
                error.as_deref().unwrap_or("no reason recorded")
            ),
            "Free disk space or fix the capture folder (STEMCHECK_CAPTURE_DIR), then bounce again.",
        ),
        CaptureProblem::StoppedRecording => (
            format!(
                "The capture of {label} stopped while recording (the host quit or crashed); it is readable up to its last flushed block ({} frames).",
                ic.length_frames
            ),
            "Bounce again; the file holds only part of the export.",
        ),
        CaptureProblem::StillRecording => (
            format!("The capture of {label} is still being written."),
            "Wait for the bounce to finish, then check again.",
        ),
        CaptureProblem::DroppedFrames => (
            format!(
                "The capture of {label} lost {} frames: the host rendered in real-time mode faster than the disk could take.",
                ic.dropped_frames
            ),
            "Bounce offline (or in a slower real-time pass) so no frame is dropped.",
        ),
    };
    base(c, message, fix)
        .with("state", format!("{:?}", ic.state).to_ascii_lowercase())
        .with("dropped_frames", ic.dropped_frames)
        .with("length_frames", ic.length_frames)
        .with("bounce_id", ic.bounce_id.clone())
}

/// Formats, lengths, layouts and names of the delivery.
fn delivery(c: &Cause) -> Finding {
    match c {
        Cause::SampleRateMismatch {
            files,
            majority_sample_rate: majority,
            files_by_rate,
        } => {
            let mut f = base(
                c,
                format!(
                    "The files do not share one sample rate: most are {majority} Hz, {} {} not.",
                    files.join(", "),
                    if files.len() == 1 { "is" } else { "are" }
                ),
                format!(
                    "Re-export every stem and the mix at {majority} Hz from the session (do not resample after the fact)."
                ),
            )
            .with("majority_sample_rate", *majority);
            for (rate, group) in files_by_rate {
                f = f.with(&format!("files_at_{rate}_hz"), group.clone());
            }
            f
        }
        Cause::SampleRateProfile {
            files,
            profile,
            required_sample_rate: required,
        } => base(
            c,
            format!(
                "The {profile} profile requires {required} Hz; {} file(s) are at another rate.",
                files.len()
            ),
            format!("Export at {required} Hz from the session."),
        )
        .with("required_sample_rate", *required),
        Cause::BitDepthMismatch {
            files,
            majority_format: majority,
        } => base(
            c,
            format!(
                "The files do not share one bit depth / sample format: most are {majority}, {} differ.",
                files.join(", ")
            ),
            format!(
                "Export every stem with the same format ({majority} or 32-bit float) and no dither between stems."
            ),
        )
        .with("majority_format", majority.clone()),
        Cause::LowBitDepth {
            file,
            bits_per_sample,
            profile,
            expected_bits,
        } => base(
            c,
            format!(
                "{file} is {bits_per_sample}-bit; the {profile} profile expects {expected_bits}-bit or float."
            ),
            format!("Re-export {file} as {expected_bits}-bit or 32-bit float."),
        )
        .with("bits_per_sample", *bits_per_sample)
        .with("expected_bits", *expected_bits),
        Cause::UnequalLengths {
            files,
            majority_frames: majority,
            sample_rate,
            frames_by_file,
        } => {
            let rate = f64::from((*sample_rate).max(1));
            let lens: serde_json::Map<String, serde_json::Value> = frames_by_file
                .iter()
                .map(|(f, n)| (f.clone(), (*n).into()))
                .collect();
            base(
                c,
                format!(
                    "The files do not share one length: most are {majority} samples ({:.3} s), {} differ.",
                    *majority as f64 / rate,
                    files.join(", ")
                ),
                "Export every stem over the same range (song start to the end of the longest tail) so they line up and have equal length.",
            )
            .with("majority_frames", *majority)
            .with("frames_by_file", serde_json::Value::Object(lens))
        }
        Cause::WiderThanMix {
            files,
            mix_channels,
        } => base(
            c,
            format!(
                "{} stem(s) have more channels than the {mix_channels}-channel mix.",
                files.len()
            ),
            "Export stems in the mix's channel layout (or the mix in the stems' layout).",
        )
        .with("mix_channels", *mix_channels),
        Cause::MixedChannelLayouts {
            files,
            majority_channels: majority,
            ..
        } => base(
            c,
            format!(
                "The stems do not share one channel layout: most have {majority} channel(s), {} differ.",
                files.join(", ")
            ),
            "Confirm with the receiver whether mono stems are welcome; otherwise export every stem in the same layout.",
        )
        .with("majority_channels", *majority),
        Cause::Multitracks {
            stem_count,
            single_instrument_names: single,
            expected_max_stems: max,
        } => base(
            c,
            format!(
                "{stem_count} files{} look like raw multitracks rather than {}-{max} submix stems.",
                if *single > 0 {
                    format!(", {single} named after single instruments or mics,")
                } else {
                    String::new()
                },
                5,
            ),
            "Bounce submix stems (drums, bass, music, vocals, FX...) through their buses with processing, not the raw tracks.",
        )
        .with("stem_count", *stem_count)
        .with("single_instrument_names", *single)
        .with("expected_max_stems", *max),
        Cause::Naming { file, problems } => {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            base(
                c,
                format!("{file} {}.", problems.join(" and ")),
                "Name stems as Artist_Song_Stem.wav using only letters, digits, '_', '-' and '.', with the part it holds (Drums, Bass, Vox...).",
            )
            .with("problems", problems)
        }
        Cause::NamedAlike { files } => base(
            c,
            format!("{} are named alike and can be confused.", files.join(" and ")),
            "Give every stem a distinct name.",
        )
        .with("problems", vec!["duplicate name"]),
        _ => unreachable!("not a delivery cause: {c:?}"),
    }
}

/// What the files' audio holds: silence, duplicates and levels.
fn content(c: &Cause) -> Finding {
    match c {
        Cause::Silent {
            file,
            is_mix,
            sample_peak_dbfs,
        } => base(
            c,
            format!(
                "The {} {file} holds only silence.",
                if *is_mix { "mix" } else { "stem" }
            ),
            "Check that the track was not muted or routed elsewhere during the export, or leave the file out.",
        )
        .with(
            "sample_peak_dbfs",
            sample_peak_dbfs.unwrap_or(f64::NEG_INFINITY),
        ),
        Cause::Duplicate { files, identical } => base(
            c,
            format!(
                "{} and {} carry {} audio.",
                files[0],
                files[1],
                if *identical {
                    "the same"
                } else {
                    "practically the same"
                }
            ),
            "Re-export one of them with the right track soloed; a doubled stem adds 6 dB of that part to the sum.",
        )
        .with("identical_samples", *identical),
        Cause::NonFiniteSamples { file, count } => base(
            c,
            format!("{file} holds {count} NaN or infinite samples."),
            "Find the plugin that produced NaN/inf on that track (often a filter or a denormal bug) and re-export.",
        )
        .with("non_finite_samples", *count),
        Cause::Clipping {
            file,
            clipped_runs,
            longest_run_samples,
            ..
        } => base(
            c,
            format!(
                "{file} clips: {clipped_runs} run(s) of consecutive full-scale samples, the longest {longest_run_samples} samples."
            ),
            "Lower the track or bus feeding this stem (or export 32-bit float) and re-export.",
        )
        .with("clipped_runs", *clipped_runs)
        .with("longest_run_samples", *longest_run_samples),
        Cause::TruePeakOver {
            file,
            is_stem,
            profile,
            true_peak_dbtp: tp,
            ceiling_dbtp: ceiling,
        } => base(
            c,
            format!(
                "{file} reaches {tp:.1} dBTP, above the {profile} profile's ceiling of {ceiling:.1} dBTP."
            ),
            format!(
                "Turn the {} down by at least {:.1} dB before export (do not limit a stem).",
                if *is_stem { "stem's bus" } else { "master" },
                tp - ceiling
            ),
        )
        .with("true_peak_dbtp", *tp)
        .with("ceiling_dbtp", *ceiling),
        Cause::LowHeadroom {
            file,
            profile,
            sample_peak_dbfs: peak,
            target_dbfs: target,
        } => base(
            c,
            format!(
                "{file} peaks at {peak:.1} dBFS; the {profile} profile wants stems at or below {target:.1} dBFS."
            ),
            format!(
                "Lower every stem by the same {:.1} dB (keep their balance) so the loudest peaks at {target:.1} dBFS.",
                peak - target
            ),
        )
        .with("sample_peak_dbfs", *peak)
        .with("target_dbfs", *target),
        Cause::DcOffset {
            file,
            dc_offset_dbfs: dc,
        } => base(
            c,
            format!("{file} carries a DC offset of {dc:.1} dBFS."),
            "Put a high-pass (or DC filter) on the source track and re-export.",
        )
        .with("dc_offset_dbfs", *dc),
        _ => unreachable!("not a content cause: {c:?}"),
    }
}

fn start_offset(c: &Cause, s: &StartOffset) -> Finding {
    let (off, sr, n) = (s.offset_samples, s.sample_rate, s.files.len());
    let who = if n == s.active_stems && s.active_stems > 1 {
        "All stems".to_owned()
    } else {
        list(&s.files)
    };
    let verb = if n == 1 { "starts" } else { "start" };
    let dir = if off > 0 { "later" } else { "earlier" };
    let which = if n == 1 {
        "this file"
    } else {
        "each of these files"
    };
    let fix = if off > 0 {
        format!(
            "Export every stem from the same start point as the mix; to repair, remove the first {off} samples of {which}."
        )
    } else {
        format!(
            "Export every stem from the same start point as the mix; to repair, insert {} samples of silence at the start of {which}.",
            -off
        )
    };
    let mut message = format!(
        "{who} {verb} {} samples ({} ms) {dir} than the mix.",
        off.abs(),
        ms(off.abs(), sr)
    );
    if let Some(by) = s.side_effect_of {
        message.push_str(&format!(
            " The shift is small and may be a side effect of the {by} reported here (phase delay or added content bias the alignment); check it after fixing that."
        ));
    }
    base(c, message, fix)
        .with("offset_samples", off)
        .with("offset_ms", ms(off, sr))
        .with("correlation", s.correlation)
}

/// The sentence a gain finding gets when a whole-mix cause explains it.
fn gain_side_effect(message: &mut String, by: Option<FindingCode>) {
    if let Some(by) = by {
        message.push_str(&format!(
            " This is what the {by} reported here makes a gain fit read, not necessarily the stem's level."
        ));
    }
}

fn set_gain(c: &Cause, g: &SetGain) -> Finding {
    let mut message = format!(
        "The whole stem set enters the mix {:.2} dB {} than delivered (master fader, bus gain or a normalising export).",
        g.gain_db.abs(),
        if g.gain_db > 0.0 { "louder" } else { "quieter" }
    );
    gain_side_effect(&mut message, g.side_effect_of);
    base(
        c,
        message,
        "Export the stems with the master fader and mix-bus gain as in the mix, and without normalisation.",
    )
    .with("gain_db", round2(g.gain_db))
    .with("tolerance_db", g.tolerance_db)
    .with("pan_law_db", g.pan_law_db)
}

fn stem_gain(c: &Cause, g: &StemGain) -> Finding {
    let mut message = format!(
        "{} is {:.2} dB {} in the mix than delivered{}.",
        g.file,
        g.gain_db.abs(),
        if g.gain_db > 0.0 { "louder" } else { "quieter" },
        g.pan_law_db.map_or(String::new(), |l| format!(
            " (a mono stem, judged at the {l:.1} dB centre pan law the other mono stems were mixed at)"
        ))
    );
    gain_side_effect(&mut message, g.side_effect_of);
    base(
        c,
        message,
        format!(
            "Re-export this stem with its fader and sends as in the mix (it needs {:+.2} dB to match).",
            g.gain_db
        ),
    )
    .with("gain_db", round2(g.gain_db))
    .with("tolerance_db", g.tolerance_db)
    .with("correlation", round4(g.correlation))
    .with("pan_law_db", g.pan_law_db)
}

/// Polarity, cut-off stems and the null.
fn reconciliation(c: &Cause) -> Finding {
    match c {
        Cause::PolarityInverted {
            file,
            gain_db,
            correlation,
            null_depth_db,
        } => base(
            c,
            format!("{file} enters the mix with inverted polarity."),
            "Flip the polarity of this stem (or re-export it without the phase inversion) so that it adds to the mix as it does in the session.",
        )
        .with("gain_db", round2(*gain_db))
        .with("correlation", round4(*correlation))
        .with("null_depth_db", null_depth_db.map(round2)),
        Cause::CutOff {
            file,
            offset_samples,
            missing_frames,
            at_start,
            sample_rate,
        } => base(
            c,
            format!(
                "Once aligned with the mix, {file} is cut off: its {} misses {missing_frames} samples ({} ms) of audio.",
                if *at_start { "start" } else { "end" },
                ms(*missing_frames, *sample_rate)
            ),
            "Re-export this stem over the full length of the mix, from the same start point.",
        )
        .with("offset_samples", *offset_samples)
        .with("missing_frames", *missing_frames)
        .with("missing_ms", ms(*missing_frames, *sample_rate)),
        Cause::SumMatchesMix {
            null_depth_db,
            fitted_null_depth_db: fit,
            null_pass_db,
            lag_samples,
            judged_span_frames: span,
            pan_law_db,
        } => {
            let as_delivered = null_depth_db.is_some_and(|n| n <= *null_pass_db);
            let message = if as_delivered {
                format!(
                    "The stems sum back to the mix: the residual is {:.1} dB below the mix.",
                    null_depth_db.unwrap_or(*fit)
                )
            } else {
                format!(
                    "The stems sum back to the mix ({fit:.1} dB) once the offsets, gains and polarities reported here are corrected."
                )
            };
            base(
                c,
                message,
                if as_delivered {
                    "Nothing to do."
                } else {
                    "Correct the stems as the other findings say and export again."
                },
            )
            .with("null_depth_db", null_depth_db.map(round2))
            .with("fitted_null_depth_db", round2(*fit))
            .with("null_pass_db", *null_pass_db)
            .with("lag_samples", *lag_samples)
            .with("judged_span_frames", vec![span[0], span[1]])
            .with("pan_law_db", *pan_law_db)
        }
        _ => unreachable!("not a reconciliation cause: {c:?}"),
    }
}

fn bus_processing(c: &Cause, b: &BusProcessing) -> Finding {
    let (gr_typical_db, gr_max_db) = (b.gain_reduction_typical_db, b.gain_reduction_max_db);
    let (kind, message, fix) = match b.kind {
        DynamicsKind::Clipping => (
            "clipping",
            format!(
                "The mix is clipped: {} frames hold flat-topped runs, which the stems do not have.",
                b.clipped_frames
            ),
            "Lower the mix-bus level or the clipper before the export, or export the stems through the same clipping stage.",
        ),
        DynamicsKind::Limiting => (
            "limiting",
            format!(
                "The mix went through a limiter the stems did not: its peaks are held at {:.1} dBFS, {:.1} dB of crest factor is gone and the gain drops {:.1} dB on loud passages (up to {:.1} dB).",
                b.mix_ceiling_dbfs, b.crest_factor_drop_db, gr_typical_db, gr_max_db
            ),
            "Bypass the mix-bus limiter for the stem export (and say so), or print the stems through the same bus chain.",
        ),
        DynamicsKind::Compression => (
            "compression",
            format!(
                "The mix went through compression the stems did not: the mix/stem-sum gain falls with level, {:.1} dB on loud passages (up to {:.1} dB).",
                gr_typical_db, gr_max_db
            ),
            "Bypass the mix-bus compressor for the stem export, or deliver the stems printed through it (or a sidechain-keyed version).",
        ),
    };
    let weak_note = match b.evidence {
        Evidence::Strong => "",
        Evidence::Rides => {
            " The evidence is weak: content no stem carries fills most of the residual, but the gain the stems enter the mix with falls reproducibly as the mix gets louder."
        }
        Evidence::Masked => {
            " The evidence is weak: other content in the residual masks it, but a moving gain explains most of what any gain could."
        }
        Evidence::Unclear => " The evidence is weak: the gain varies, but not clearly with level.",
    };
    base(c, format!("{message}{weak_note}"), fix)
        .with("kind", kind)
        .with("gain_reduction_typical_db", round1(gr_typical_db))
        .with("gain_reduction_max_db", round1(gr_max_db))
        .with("quiet_passage_gain_db", round1(b.quiet_passage_gain_db))
        .with("gain_slope_db_per_db", round2(b.gain_slope_db_per_db))
        .with("crest_factor_drop_db", round1(b.crest_factor_drop_db))
        .with("peak_pinned_share", round2(b.peak_pinned_share))
        .with("mix_ceiling_dbfs", round1(b.mix_ceiling_dbfs))
        .with("clipped_frames", b.clipped_frames as u64)
        .with("residual_db", round1(b.residual_db))
        .with(
            "residual_with_dynamics_db",
            round1(b.residual_with_dynamics_db),
        )
        .with("null_gain_db", round1(b.null_gain_db))
        .with("null_gain_with_eq_db", round1(b.null_gain_with_eq_db))
        .with(
            "null_gain_with_level_gain_db",
            round1(b.null_gain_with_level_gain_db),
        )
        .with("explained_share", round2(b.explained_share))
        .with("level_ride_correlation", round2(b.level_ride_correlation))
        .with(
            "level_ride_reproducibility",
            round2(b.level_ride_reproducibility),
        )
        .with(
            "level_ride_slope_db_per_db",
            round2(b.level_ride_slope_db_per_db),
        )
}

fn bus_eq(c: &Cause, e: &BusEq) -> Finding {
    let describe: Vec<String> = coherent_bands(&e.curve)
        .map(|b| format!("{} Hz {:+.1}", b.hz, b.gain_db))
        .collect();
    let weak_note = match e.evidence {
        Evidence::Strong => "",
        Evidence::Masked | Evidence::Rides => {
            " The evidence is weak: other content in the residual masks it, but the filter explains most of what any EQ could."
        }
        Evidence::Unclear => " The evidence is weak: the curve is nearly flat.",
    };
    base(
        c,
        format!(
            "The mix went through an EQ the stems did not (octave bands, dB: {}).{weak_note}",
            describe.join(", "),
        ),
        "Bypass the mix-bus EQ for the stem export, or print the stems through it.",
    )
    .with(
        "octave_band_hz",
        e.curve.iter().map(|b| b.hz).collect::<Vec<_>>(),
    )
    .with(
        "octave_band_gain_db",
        e.curve.iter().map(|b| b.gain_db).collect::<Vec<_>>(),
    )
    .with(
        "octave_band_coherence",
        e.curve.iter().map(|b| b.coherence).collect::<Vec<_>>(),
    )
    .with("curve_span_db", round1(e.curve_span_db))
    .with("residual_db", round1(e.residual_db))
    .with("residual_with_eq_db", round1(e.residual_with_eq_db))
    .with("null_gain_db", round1(e.null_gain_db))
    .with(
        "null_gain_with_dynamics_db",
        round1(e.null_gain_with_dynamics_db),
    )
    .with("explained_share", round2(e.explained_share))
}

fn added_content(c: &Cause, a: &AddedContent) -> Finding {
    let weak_note = if a.strong {
        ""
    } else {
        " The evidence is weak (it could also be a wide part that plays throughout)."
    };
    let added_db = a.residual_db;
    let f = match a.kind {
        AddedKind::FxReturn {
            trails,
            decorrelated,
        } => base(
            c,
            if trails {
                format!(
                    "The mix holds effect returns no stem carries: a residual at {:.1} dB under the mix that trails the stems with a tail of about {:.1} s (RT60){}.{weak_note}",
                    -added_db,
                    a.tail_rt60_s(),
                    if decorrelated {
                        ", decorrelated between the channels"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "The mix holds effect returns no stem carries: a residual at {:.1} dB under the mix that plays the stems' notes, decorrelated between the channels (chorus, widener or short reverb).{weak_note}",
                    -added_db
                )
            },
            "Print the reverb/delay returns as their own stem(s), or export the stems with their sends.",
        )
        .with("tail_rt60_s", round2(a.tail_rt60_s())),
        AddedKind::Element => base(
            c,
            format!(
                "The mix holds a part no stem carries: a residual at {:.1} dB under the mix with onsets of its own, mostly between {:.0} and {:.0} Hz.{weak_note}",
                -added_db, a.spectrum_low_hz, a.spectrum_high_hz
            ),
            "Find the track or bus that was not exported (muted, unrouted or left out of the stem groups) and deliver it as a stem.",
        ),
    };
    f.with("residual_db", round1(added_db))
        .with(
            "interchannel_correlation",
            a.interchannel_correlation.map(round2),
        )
        .with(
            "sum_interchannel_correlation",
            a.sum_interchannel_correlation.map(round2),
        )
        .with("envelope_tau_ms", round1(a.tau_s * 1000.0))
        .with("trail_correlation", round2(a.trail_correlation))
        .with("instant_correlation", round2(a.instant_correlation))
        .with("onsets_per_s", round2(a.onsets_per_s))
        .with("own_onset_share", round2(a.own_onset_share))
        .with("backwards_correlation", round2(a.backwards_correlation))
        .with("spectral_follow", round2(a.spectral_follow))
        .with("spectrum_low_hz", a.spectrum_low_hz)
        .with("spectrum_high_hz", a.spectrum_high_hz)
        .with("spectrum_centroid_hz", a.spectrum_centroid_hz.round())
        .with(
            "octave_band_hz",
            a.octave_bands.iter().map(|o| o.0).collect::<Vec<_>>(),
        )
        .with(
            "octave_band_level_db",
            a.octave_bands.iter().map(|o| o.1).collect::<Vec<_>>(),
        )
}
