//! Reading, delivery checks and file content: one sentence each for what is wrong with a
//! file or the set of files.

use super::common::{base, by_file_map, is_are, list, over_limit, plural, round2};
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
                "{file} is truncated: its header promises {}, the file holds {frames}; the rest was checked.",
                plural(*declared_frames, "frame")
            ),
            "Re-export or re-copy the file; it was cut short (interrupted export or transfer).",
        )
        .with("declared_frames", *declared_frames)
        .with("frames", *frames),
        Cause::UnfinalisedSizes { files } => base(
            c,
            format!(
                "The header sizes of {} were never finalised (written through a pipe or by a recorder that did not finish); {} read to the end of the file.",
                list(files),
                if files.len() == 1 { "it was" } else { "they were" },
            ),
            "Nothing to fix if the audio is complete; a tool that patches WAV headers (or a re-export to a file) makes them standard.",
        ),
        Cause::IncompleteCapture(ic) => incomplete_capture(c, ic),
        Cause::Skipped { files } => base(
            c,
            format!(
                "{} in the delivery {} not audio and {} not read: {}.",
                plural(files.len() as u64, "file"),
                is_are(files.len()),
                if files.len() == 1 { "was" } else { "were" },
                list(files)
            ),
            "Nothing to do if they are notes or paperwork; if one holds audio, export it as WAV, AIFF or FLAC.",
        )
        .with("files", files.len()),
        Cause::UnreadAudioFormat { by_file } => {
            let named: Vec<String> = by_file
                .iter()
                .map(|(f, format)| format!("{f} ({format})"))
                .collect();
            base(
                c,
                format!(
                    "{} in a format StemCheck does not read {} not checked: {}.",
                    plural(by_file.len() as u64, "audio file"),
                    if by_file.len() == 1 { "was" } else { "were" },
                    list(&named)
                ),
                "Convert to WAV, AIFF or FLAC at the session's rate and bit depth (from the session, not from the lossy file) and send it again.",
            )
            .with("formats", by_file_map(by_file))
        }
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
                "The capture of {label} is {} shorter than its sidecar recorded ({}): the WAV was cut after the bounce (power loss before the disk caught up, or a partial copy).",
                plural(*short_by_frames, "frame"),
                plural(ic.length_frames, "frame")
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
                "The capture of {label} stopped while recording (the host quit or crashed); it is readable up to its last flushed block ({}).",
                plural(ic.length_frames, "frame")
            ),
            "Bounce again; the file holds only part of the export.",
        ),
        CaptureProblem::StillRecording => (
            format!("The capture of {label} is still being written."),
            "Wait for the bounce to finish, then check again.",
        ),
        CaptureProblem::DroppedFrames => (
            format!(
                "The capture of {label} lost {}: the host rendered in real-time mode faster than the disk could take.",
                plural(ic.dropped_frames, "frame")
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
            allowed_sample_rates,
        } => match allowed_sample_rates.as_slice() {
            [required] => base(
                c,
                format!(
                    "The {profile} profile requires {required} Hz; {} {} at another rate.",
                    plural(files.len() as u64, "file"),
                    is_are(files.len())
                ),
                format!("Export at {required} Hz from the session."),
            )
            .with("required_sample_rate", *required),
            rates => {
                let hz: Vec<String> = rates.iter().map(|r| format!("{r} Hz")).collect();
                let accepted = match hz.split_last() {
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => String::new(),
                };
                base(
                    c,
                    format!(
                        "The {profile} profile accepts {accepted}; {} {} at another rate.",
                        plural(files.len() as u64, "file"),
                        is_are(files.len())
                    ),
                    format!("Export at {accepted} from the session."),
                )
                .with("allowed_sample_rates", rates.to_vec())
            }
        },
        Cause::BitDepthMismatch {
            files,
            majority_format: majority,
        } => base(
            c,
            format!(
                "The files do not share one bit depth / sample format: most are {majority}, {} {}.",
                files.join(", "),
                if files.len() == 1 { "differs" } else { "differ" }
            ),
            if majority.contains("float") {
                format!(
                    "Export every stem and the mix in the same format ({majority}) and no dither between stems."
                )
            } else {
                format!(
                    "Export every stem and the mix in the same format ({majority} or 32-bit float) and no dither between stems."
                )
            },
        )
        .with("majority_format", majority.clone()),
        Cause::LowBitDepth {
            files,
            bits_per_sample,
            profile,
            expected_bits,
        } => {
            let n = files.len();
            let who = if n > 4 {
                format!("{n} files ({})", list(files))
            } else {
                list(files)
            };
            base(
                c,
                format!(
                    "{who} {} {bits_per_sample}-bit; the {profile} profile expects {expected_bits}-bit or float.",
                    is_are(n)
                ),
                format!(
                    "Re-export {} as {expected_bits}-bit or 32-bit float from the session (not converted from the {bits_per_sample}-bit files).",
                    if n == 1 { "it" } else { "them" }
                ),
            )
            .with("bits_per_sample", *bits_per_sample)
            .with("expected_bits", *expected_bits)
            .with("file_count", n)
        }
        Cause::UnequalLengths {
            files,
            majority_frames: majority,
            sample_rate,
            frames_by_file,
            silent_tails,
        } => {
            let rate = f64::from((*sample_rate).max(1));
            let lens: serde_json::Map<String, serde_json::Value> = frames_by_file
                .iter()
                .map(|(f, n)| (f.clone(), (*n).into()))
                .collect();
            base(
                c,
                format!(
                    "The files do not share one length: most are {} ({:.3} s), {} {}.{}",
                    plural(*majority, "sample"),
                    *majority as f64 / rate,
                    list(files),
                    if files.len() == 1 { "differs" } else { "differ" },
                    if *silent_tails {
                        " The shorter files end in silence: a trimmed silent tail, no audio is cut."
                    } else {
                        " A shorter file ends in audio, so it may be cut short."
                    }
                ),
                "Export every stem and the mix over the same range (song start to the end of the longest tail) so they line up and have equal length.",
            )
            .with("majority_frames", *majority)
            .with("silent_tails", *silent_tails)
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
                "{} more channels than the {mix_channels}-channel mix.",
                match files.len() {
                    1 => format!("{} has", files[0]),
                    n => format!("{n} stems have"),
                }
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
                "The stems do not share one channel layout: most have {}, {} {}.",
                plural(*majority, "channel"),
                files.join(", "),
                if files.len() == 1 { "differs" } else { "differ" }
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
        Cause::Naming { by_file } => {
            let words = |p: &[crate::cause::NamingProblem]| {
                p.iter().map(ToString::to_string).collect::<Vec<String>>()
            };
            let each: Vec<String> = by_file
                .iter()
                .map(|(f, p)| format!("{f} {}", words(p).join(" and ")))
                .collect();
            let message = if by_file.len() == 1 {
                format!("{}.", each[0])
            } else {
                format!(
                    "{} file names break the naming rules: {}.",
                    by_file.len(),
                    each.join("; ")
                )
            };
            let all: Vec<String> = by_file.iter().flat_map(|(_, p)| words(p)).collect();
            let per_file: Vec<(String, Vec<String>)> = by_file
                .iter()
                .map(|(f, p)| (f.clone(), words(p)))
                .collect();
            base(
                c,
                message,
                "Name stems as Artist_Song_Stem.wav (the mix Artist_Song_Mix.wav) using only letters, digits, '_', '-' and '.', with the part each stem holds (Drums, Bass, Vox...).",
            )
            .with("problems", all)
            .with("problems_by_file", by_file_map(&per_file))
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
        Cause::Silent { by_file, is_mix } => {
            let files: Vec<String> = by_file.iter().map(|(f, _)| f.clone()).collect();
            let peak = by_file
                .iter()
                .map(|(_, p)| p.unwrap_or(f64::NEG_INFINITY))
                .fold(f64::NEG_INFINITY, f64::max);
            base(
                c,
                format!(
                    "The {} {} only silence.",
                    match (*is_mix, files.len()) {
                        (true, _) => format!("mix {}", files[0]),
                        (false, 1) => format!("stem {}", files[0]),
                        (false, _) => format!("stems {}", list(&files)),
                    },
                    if files.len() == 1 { "holds" } else { "hold" }
                ),
                if *is_mix {
                    "Check that the master was not muted or routed elsewhere during the mix export, and export the mix again."
                } else {
                    "Check that the track was not muted or routed elsewhere during the export, or leave the file out."
                },
            )
            .with("sample_peak_dbfs", peak)
        }
        Cause::Duplicate { files, identical } => base(
            c,
            format!(
                "{} carry {} audio.",
                list(files),
                if *identical {
                    "the same"
                } else {
                    "practically the same"
                }
            ),
            if files.len() > 2 {
                "Re-export all but one of them with the right track soloed; each copy adds that part to the sum again."
            } else {
                "Re-export one of them with the right track soloed; a doubled stem adds 6 dB of that part to the sum."
            },
        )
        .with("identical_samples", *identical),
        Cause::NonFiniteSamples { by_file } => {
            let each: Vec<String> = by_file
                .iter()
                .map(|(f, n)| {
                    format!(
                        "{f} holds {}, the first at {:.3} s",
                        plural(n.count, "NaN or infinite sample"),
                        n.first_s
                    )
                })
                .collect();
            let counts: Vec<(String, u64)> =
                by_file.iter().map(|(f, n)| (f.clone(), n.count)).collect();
            let firsts: Vec<(String, f64)> = by_file
                .iter()
                .map(|(f, n)| (f.clone(), (n.first_s * 1000.0).round() / 1000.0))
                .collect();
            base(
                c,
                format!(
                    "{}; every other check read them as silence.",
                    each.join("; ")
                ),
                "Find the plugin that produced NaN/inf on that track (often a filter or a denormal bug) and re-export.",
            )
            .with(
                "non_finite_samples",
                by_file.iter().map(|(_, n)| n.count).sum::<u64>(),
            )
            .with("non_finite_by_file", by_file_map(&counts))
            .with("first_non_finite_s", by_file_map(&firsts))
        }
        Cause::Clipping { by_file, is_stem } => {
            let each: Vec<String> = by_file
                .iter()
                .map(|(f, r)| {
                    format!(
                        "{f} ({}, the longest {})",
                        plural(r.runs, "flat-topped run"),
                        plural(r.longest_run_samples, "sample")
                    )
                })
                .collect();
            let runs: u64 = by_file.iter().map(|(_, r)| r.runs).sum();
            let longest = by_file
                .iter()
                .map(|(_, r)| r.longest_run_samples)
                .max()
                .unwrap_or(0);
            let runs_by_file: Vec<(String, u64)> =
                by_file.iter().map(|(f, r)| (f.clone(), r.runs)).collect();
            let n = by_file.len();
            base(
                c,
                format!(
                    "{} {}: {} of equal samples at {} peak level.",
                    list(&each),
                    if n == 1 { "clips" } else { "clip" },
                    if n == 1 && by_file[0].1.runs == 1 { "a run" } else { "runs" },
                    if n == 1 { "its" } else { "their" }
                ),
                if *is_stem {
                    "Lower the track or bus feeding the stem (or remove the clipper on it) and re-export."
                } else {
                    "Lower the mix bus into its limiter or clipper (or the master fader) so the mix does not clip, and export the mix again."
                },
            )
            .with("clipped_runs", runs)
            .with("longest_run_samples", longest)
            .with("clipped_runs_by_file", by_file_map(&runs_by_file))
        }
        Cause::FloatOver { by_file, is_stem } => {
            let peak = by_file.iter().map(|(_, p)| *p).fold(f64::NEG_INFINITY, f64::max);
            let (_, _, excess, excess_db) = over_limit(peak, 0.0);
            let each: Vec<String> = by_file
                .iter()
                .map(|(f, p)| format!("{f} (+{p:.2} dBFS)"))
                .collect();
            let peaks: Vec<(String, f64)> =
                by_file.iter().map(|(f, p)| (f.clone(), round2(*p))).collect();
            base(
                c,
                format!(
                    "{} {} float samples above full scale: not clipped in the file, but they will clip in any fixed-point conversion.",
                    list(&each),
                    if by_file.len() == 1 { "holds" } else { "hold" }
                ),
                if *is_stem {
                    format!(
                        "Lower every stem by the same {excess} dB before export (keeps their balance), or deliver them as they are if the recipient keeps float."
                    )
                } else {
                    format!(
                        "Lower the master by {excess} dB before exporting the mix, or deliver it as it is if the recipient keeps float."
                    )
                },
            )
            .with("sample_peak_dbfs", round2(peak))
            .with("lower_by_db", excess_db)
            .with("sample_peak_dbfs_by_file", by_file_map(&peaks))
        }
        Cause::SplitStereo { pairs } => base(
            c,
            format!(
                "{} {} read as {}, left and right, as a multi-mono export writes {}.",
                list(pairs),
                is_are(pairs.len()),
                if pairs.len() == 1 { "one stereo stem" } else { "stereo stems, one per pair of mono files" },
                if pairs.len() == 1 { "it" } else { "them" },
            ),
            "Nothing to fix; an interleaved stereo file would carry each stem in one file.",
        ),
        Cause::DualMono { files } => base(
            c,
            format!(
                "{} {} stereo with two identical channels (dual mono).",
                list(files),
                is_are(files.len())
            ),
            "Nothing to fix if the part is mono; a mono file would carry it in half the space.",
        ),
        Cause::TruePeakOver {
            by_file,
            is_stem,
            profile,
            ceiling_dbtp: ceiling,
        } => {
            let (top_file, tp) = by_file
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(f, p)| (f.clone(), *p))
                .unwrap_or_default();
            let (tp_s, ceiling_s, excess, excess_db) = over_limit(tp, *ceiling);
            let message = if by_file.len() == 1 {
                format!(
                    "{top_file} reaches {tp_s} dBTP, above the {profile} profile's ceiling of {ceiling_s} dBTP."
                )
            } else {
                format!(
                    "{} {} reach above the {profile} profile's ceiling of {ceiling_s} dBTP, the highest {top_file} at {tp_s} dBTP.",
                    by_file.len(),
                    if *is_stem { "stems" } else { "files" }
                )
            };
            let peaks: Vec<(String, f64)> =
                by_file.iter().map(|(f, p)| (f.clone(), round2(*p))).collect();
            base(
                c,
                message,
                if *is_stem {
                    format!(
                        "Lower every stem by the same {excess} dB before export (keeps their balance; do not limit a stem)."
                    )
                } else {
                    format!(
                        "Turn the master down by at least {excess} dB (or lower the limiter's ceiling) and export the mix again."
                    )
                },
            )
            .with("true_peak_dbtp", tp)
            .with("ceiling_dbtp", *ceiling)
            .with("lower_by_db", excess_db)
            .with("true_peak_dbtp_by_file", by_file_map(&peaks))
        }
        Cause::LowHeadroom {
            by_file,
            profile,
            target_dbfs: target,
        } => {
            let (top_file, peak) = by_file
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(f, p)| (f.clone(), *p))
                .unwrap_or_default();
            let (peak_s, target_s, excess, excess_db) = over_limit(peak, *target);
            let message = if by_file.len() == 1 {
                format!(
                    "{top_file} peaks at {peak_s} dBFS; the {profile} profile wants stems at or below {target_s} dBFS."
                )
            } else {
                format!(
                    "{} stems peak above the {profile} profile's {target_s} dBFS for stems, the highest {top_file} at {peak_s} dBFS.",
                    by_file.len()
                )
            };
            let peaks: Vec<(String, f64)> =
                by_file.iter().map(|(f, p)| (f.clone(), round2(*p))).collect();
            base(
                c,
                message,
                format!(
                    "Lower every stem by the same {excess} dB (keep their balance) so the loudest peaks at {target_s} dBFS."
                ),
            )
            .with("sample_peak_dbfs", peak)
            .with("target_dbfs", *target)
            .with("lower_by_db", excess_db)
            .with("sample_peak_dbfs_by_file", by_file_map(&peaks))
        }
        Cause::DcOffset {
            by_file,
            is_stem,
            mix,
        } => {
            let each: Vec<String> = by_file
                .iter()
                .map(|(f, dc)| format!("{f} ({dc:.1} dBFS)"))
                .collect();
            let dc = by_file.iter().map(|(_, d)| *d).fold(f64::NEG_INFINITY, f64::max);
            let mut message = format!(
                "{} {} a DC offset",
                list(&each),
                if by_file.len() == 1 { "carries" } else { "carry" }
            );
            let fix = match (is_stem, mix) {
                (true, Some((name, mix_dc))) => {
                    message.push_str(&format!(
                        ", and the mix {name} carries {} ({mix_dc:.1} dBFS: the stems' \
                         offsets add up to it).",
                        if by_file.len() == 1 { "it" } else { "them" }
                    ));
                    "Put a high-pass (or DC filter) on the source track, then export the stems \
                     and the mix again."
                }
                (true, None) => {
                    message.push('.');
                    "Put a high-pass (or DC filter) on the source track and re-export."
                }
                (false, _) => {
                    message.push('.');
                    "Put a high-pass (or DC filter) on the mix bus and export the mix again."
                }
            };
            let mut all = by_file.to_vec();
            all.extend(mix.iter().cloned());
            let f = base(c, message, fix)
                .with("dc_offset_dbfs", dc)
                .with("dc_offset_dbfs_by_file", by_file_map(&all));
            match mix {
                Some((_, mix_dc)) => f.with("mix_dc_offset_dbfs", *mix_dc),
                None => f,
            }
        }
        _ => unreachable!("not a content cause: {c:?}"),
    }
}

/// The sentence a start offset gets when a length difference was folded into it (see
/// [`crate::cause::fold_lengths_into_offsets`]).
pub(super) fn folded_length(mut f: Finding, s: &crate::cause::StartOffset) -> Finding {
    if let Some(d) = s.length_difference_samples {
        f.message.push_str(&format!(
            " That is also why {} {} {} {} than the other files.",
            if s.files.len() == 1 { "it" } else { "they" },
            if s.files.len() == 1 { "is" } else { "are" },
            plural(d.unsigned_abs(), "sample"),
            if d > 0 { "longer" } else { "shorter" }
        ));
        f = f.with("length_difference_samples", d);
    }
    if let Some(cut) = s.cut_off {
        let one = s.files.len() == 1;
        f.message.push_str(&format!(
            " Aligned, {} {} {} of audio at {} {}: trimming or padding cannot bring that back.",
            if one { "it" } else { "they" },
            if one { "misses" } else { "miss up to" },
            plural(cut.missing_frames.unsigned_abs(), "sample"),
            if one { "its" } else { "their" },
            if cut.at_start { "start" } else { "end" },
        ));
        f.fix = format!(
            "Re-export {} from the same start point as the mix, over its full length.",
            if one { "this stem" } else { "these stems" }
        );
        f = f
            .with("cut_off_samples", cut.missing_frames)
            .with("cut_off_at", if cut.at_start { "start" } else { "end" });
    }
    f
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
