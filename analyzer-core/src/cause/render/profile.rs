//! Departures from a delivery spec's own requirements (channel layouts, stem count, mix
//! loudness, head and tail silence, the FX stem): one sentence each, naming the profile.

use super::common::{base, list, round1, round2};
use crate::cause::Cause;
use crate::report::Finding;

/// "1 or 2", "48000": accepted values as people say them.
fn either<T: ToString>(values: &[T]) -> String {
    let words: Vec<String> = values.iter().map(ToString::to_string).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

pub(super) fn spec(c: &Cause) -> Finding {
    match c {
        Cause::ChannelsProfile {
            by_file,
            profile,
            allowed_channels,
        } => {
            let each: Vec<String> = by_file
                .iter()
                .map(|(f, ch)| format!("{f} ({ch} ch)"))
                .collect();
            base(
                c,
                format!(
                    "The {profile} profile accepts stems of {} channels; {} {} not.",
                    either(allowed_channels),
                    list(&each),
                    if by_file.len() == 1 { "is" } else { "are" }
                ),
                format!(
                    "Export {} with {} channels from the session.",
                    if by_file.len() == 1 { "it" } else { "them" },
                    either(allowed_channels)
                ),
            )
            .with("allowed_channels", allowed_channels.clone())
            .with(
                "channels_by_file",
                super::common::by_file_map(
                    &by_file
                        .iter()
                        .map(|(f, ch)| (f.clone(), u64::from(*ch)))
                        .collect::<Vec<_>>(),
                ),
            )
        }
        Cause::TooFewStems {
            stem_count,
            min_stems,
            profile,
        } => base(
            c,
            format!(
                "{stem_count} {} delivered; the {profile} profile asks for at least {min_stems}.",
                if *stem_count == 1 { "stem is" } else { "stems are" }
            ),
            "Send the missing stems (the request lists what each should hold).",
        )
        .with("stem_count", *stem_count)
        .with("min_stems", *min_stems),
        Cause::LoudnessOffTarget {
            file,
            integrated_lufs,
            target_lufs,
            tolerance_lu,
            profile,
        } => {
            let off = integrated_lufs - target_lufs;
            base(
                c,
                format!(
                    "{file} measures {:.1} LUFS integrated, {:.1} LU {} the {profile} profile's target of {target_lufs:.1} LUFS (tolerance ±{tolerance_lu:.1} LU).",
                    integrated_lufs,
                    off.abs(),
                    if off > 0.0 { "above" } else { "below" },
                ),
                format!(
                    "Bring the mix to {target_lufs:.1} LUFS integrated (change its level by {:+.1} dB, keeping the true peak under the ceiling) and export the stems to match.",
                    -off
                ),
            )
            .with("integrated_lufs", round1(*integrated_lufs))
            .with("target_lufs", *target_lufs)
            .with("tolerance_lu", *tolerance_lu)
            .with("off_target_lu", round1(off))
        }
        Cause::EdgeSilence {
            file,
            at_end,
            silence_ms,
            max_ms,
            profile,
        } => {
            let (message, fix) = if *at_end {
                (
                    format!(
                        "The delivery ends with {:.1} ms of silence (the last file to sound, {file}, falls silent that long before its end); the {profile} profile allows {max_ms:.1} ms.",
                        silence_ms
                    ),
                    "Trim the silence after the last sound from every file alike (the stems must stay the same length).",
                )
            } else {
                (
                    format!(
                        "The delivery starts with {:.1} ms of silence (the first file to sound is {file}); the {profile} profile allows {max_ms:.1} ms.",
                        silence_ms
                    ),
                    "Trim the silence before the first sound from every file alike (the stems must stay in sync).",
                )
            };
            base(c, message, fix)
                .with("silence_ms", round2(*silence_ms))
                .with("max_silence_ms", *max_ms)
        }
        Cause::MissingFxStem { files, profile } => base(
            c,
            format!(
                "The {profile} profile asks for an FX stem, and no stem is named as one (fx, sfx, efx, effects or returns)."
            ),
            "Send the effects (reverb and delay returns, ear candy) as their own stem named ..._FX.wav.",
        )
        .with("stems", files.len()),
        _ => unreachable!("not a delivery-spec cause: {c:?}"),
    }
}
