//! Reading, delivery checks and file content: one sentence each for what is wrong with a
//! file or the set of files.

use super::common::base;
use crate::cause::{CaptureProblem, Cause, IncompleteCapture, MixCandidates, MixChoice};
use crate::report::Finding;

/// Reading the files and deciding what can be reconciled.
pub(super) fn reading(c: &Cause) -> Finding {
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
            "There is no readable stem to reconcile against the mix.",
            "Add the stems (re-export unreadable ones as PCM WAV) and check the delivery again.",
        ),
        Cause::ReconciliationIncomplete { excluded } => base(
            c,
            format!(
                "{} could not enter the stem sum ({}): whatever the sum misses against the mix may be {}.",
                if excluded.len() == 1 {
                    "1 stem".to_owned()
                } else {
                    format!("{} stems", excluded.len())
                },
                excluded
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
                if excluded.len() == 1 { "its part" } else { "their parts" }
            ),
            "Re-export the stems left out as PCM WAV and check the delivery again.",
        )
        .with(
            "excluded_files",
            excluded
                .iter()
                .map(|e| serde_json::json!({"path": e.path, "reason": e.reason}))
                .collect::<Vec<_>>(),
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

/// Sample rates, sample formats and lengths of the delivery.
pub(super) fn formats(c: &Cause) -> Finding {
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
        _ => unreachable!("not a format cause: {c:?}"),
    }
}

/// Channel layouts, stem count and names of the delivery.
pub(super) fn layout(c: &Cause) -> Finding {
    match c {
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
        _ => unreachable!("not a layout or naming cause: {c:?}"),
    }
}

/// What the files' audio holds: silence, duplicates and levels.
pub(super) fn content(c: &Cause) -> Finding {
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

/// Which candidate is the mix and why; what the others are.
pub(super) fn mix_candidates(c: &Cause, m: &MixCandidates) -> Finding {
    let null_of = |name: &str| {
        m.null_by_file_db
            .iter()
            .find(|(f, _)| f == name)
            .and_then(|(_, n)| *n)
    };
    let against = |name: &String| {
        null_of(name).map(|n| {
            if n < -99.0 {
                format!("below -99 dB against {name}")
            } else {
                format!("{n:.1} dB against {name}")
            }
        })
    };
    let mix = &m.mix;
    let nulls: Vec<String> = std::iter::once(mix)
        .chain(&m.references)
        .filter_map(against)
        .collect();
    let why = match m.chosen_by {
        MixChoice::Content => format!("the stems sum to it: they null {}", nulls.join(", ")),
        MixChoice::Name if nulls.is_empty() => {
            "by its name (the stems could not be compared with the candidates)".to_owned()
        }
        MixChoice::Name => format!(
            "by its name: the stems null against no candidate clearly better ({})",
            nulls.join(", ")
        ),
        MixChoice::Option => "named with --mix".to_owned(),
        MixChoice::Metadata => "the plugin's metadata says so".to_owned(),
    };
    let mut message = format!("{mix} is the mix ({why}).");
    match m.references.len() {
        0 => {}
        1 => message.push_str(&format!(
            " {} is a reference (a mastered or alternate mix): checked as a file, not part of the sum.",
            m.references[0]
        )),
        _ => message.push_str(&format!(
            " {} are references (mastered or alternate mixes): checked as files, not part of the sum.",
            super::common::list(&m.references)
        )),
    }
    if !m.stems.is_empty() {
        message.push_str(&format!(
            " {} {} part of the sum: checked as {}.",
            super::common::list(&m.stems),
            if m.stems.len() == 1 { "is" } else { "are" },
            if m.stems.len() == 1 {
                "a stem"
            } else {
                "stems"
            },
        ));
    }
    base(
        c,
        message,
        "Nothing to fix; to check the stems against another file, name it with --mix.",
    )
    .with("mix", mix.clone())
    .with("references", m.references.clone())
    .with("stems", m.stems.clone())
    .with(
        "chosen_by",
        match m.chosen_by {
            MixChoice::Content => "content",
            MixChoice::Name => "name",
            MixChoice::Option => "option",
            MixChoice::Metadata => "metadata",
        },
    )
    .with(
        "null_by_file_db",
        m.null_by_file_db
            .iter()
            .map(|(f, n)| (f.clone(), serde_json::json!(n.map(super::common::round1))))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
    )
}
