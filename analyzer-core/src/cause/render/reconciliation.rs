//! The reconciliation's causes: start offsets, gains, polarity, cut-off stems and the null.

use super::common::{base, by_file_map, list, ms, plural, round1, round2, round4};
use crate::cause::{
    Cause, ChannelFault, ChannelFaultKind, ClippedExport, ClockDrift, ContainedStem, DcMismatch,
    Dropout, FoldedToMono, SetGain, StartOffset, StemGain, StemGains, SumImpact, TimecodeMismatch,
};
use crate::report::{Finding, FindingCode, format_timecode};

/// The sentence and numbers a cause that breaks the delivered sum adds: what the stems null to
/// as delivered, and once corrected.
pub(super) fn with_sum(mut f: Finding, sum: &SumImpact) -> Finding {
    if sum.expected_by_profile {
        f.message.push_str(
            " The profile expects it: the stems come without the mix-bus processing the reference mix has.",
        );
        f.fix = "Nothing to do for stem mastering (the reference mix shows the bus processing)."
            .to_owned();
        return f.with("expected_by_profile", true);
    }
    if let (true, Some(delivered)) = (sum.breaks_sum, sum.null_depth_db) {
        f.message.push_str(&format!(
            " As delivered the stems null to only {delivered:.1} dB"
        ));
        match sum.corrected_null_depth_db {
            Some(c) if c < delivered - 0.5 => {
                f.message.push_str(&format!("; corrected, {c:.1} dB."))
            }
            _ => f.message.push('.'),
        }
        f = f.with("null_depth_db", round2(delivered)).with(
            "corrected_null_depth_db",
            sum.corrected_null_depth_db.map(round2),
        );
    }
    f
}

pub(super) fn start_offset(c: &Cause, s: &StartOffset) -> Finding {
    let (off, sr, n) = (s.offset_samples, s.sample_rate, s.files.len());
    let who = if n == s.active_stems && s.active_stems > 1 {
        "All stems".to_owned()
    } else {
        list(&s.files)
    };
    let verb = if n == 1 { "starts" } else { "start" };
    let dir = if off > 0 { "later" } else { "earlier" };
    let which = if n == 1 && crate::cause::split_pair(&s.files[0]).is_none() {
        "this file"
    } else {
        "each of these files"
    };
    let fix = if off > 0 {
        format!(
            "Export every stem from the same start point as the mix; to repair, remove the first {} of {which}.",
            plural(off, "sample")
        )
    } else {
        format!(
            "Export every stem from the same start point as the mix; to repair, insert {} of silence at the start of {which}.",
            plural(-off, "sample")
        )
    };
    let mut message = format!(
        "{who} {verb} {} ({} ms) {dir} than the mix.",
        plural(off.abs(), "sample"),
        ms(off.abs(), sr)
    );
    if let Some(by) = s.side_effect_of {
        message.push_str(&format!(
            " The shift is small and may be a side effect of the {by} reported here (phase delay or added content bias the alignment); check it after fixing that."
        ));
    }
    let f = super::delivery::folded_length(base(c, message, fix), s)
        .with("offset_samples", off)
        .with("offset_ms", ms(off, sr))
        .with("correlation", s.correlation);
    if s.side_effect_of.is_some() {
        return f;
    }
    with_sum(f, &s.sum)
}

/// The sentence a gain finding gets when a whole-mix cause explains it (`whose`: "the
/// stem's level", "the stems' levels"...).
fn gain_side_effect(message: &mut String, by: Option<FindingCode>, whose: &str) {
    if let Some(by) = by {
        message.push_str(&format!(
            " This is what the {by} reported here makes a gain fit read, not necessarily {whose}."
        ));
    }
}

pub(super) fn set_gain(c: &Cause, g: &SetGain) -> Finding {
    let mut message = format!(
        "The whole stem set enters the mix {:.2} dB {} than delivered (master fader, bus gain or a normalising export).",
        g.gain_db.abs(),
        if g.gain_db > 0.0 { "louder" } else { "quieter" }
    );
    gain_side_effect(&mut message, g.side_effect_of, "the set's level");
    let fix = match g.side_effect_of {
        Some(by) => format!(
            "Leave the set's level as it is for now: fix the {by} first and check again (if the set still reads {:+.2} dB, export it with the master fader and mix-bus gain as in the mix).",
            g.gain_db
        ),
        None => "Export the stems with the master fader and mix-bus gain as in the mix, and without normalisation.".to_owned(),
    };
    let f = base(c, message, fix)
        .with("gain_db", round2(g.gain_db))
        .with("tolerance_db", g.tolerance_db)
        .with("pan_law_db", g.pan_law_db);
    if g.side_effect_of.is_some() {
        return f;
    }
    with_sum(f, &g.sum)
}

pub(super) fn stem_gains(c: &Cause, g: &StemGains) -> Finding {
    let n = g.stems.len();
    let who = if n == g.active_stems {
        format!("All {n} stems")
    } else {
        format!("{n} of the {} stems", g.active_stems)
    };
    let mut message = match g.normalised_peak_dbfs {
        Some(peak) => format!(
            "{who} enter the mix each at a gain of its own, and their sample peaks all sit at {peak:.1} dBFS: the stems were normalised on export."
        ),
        None => format!(
            "{who} enter the mix each at a gain of its own ({}).",
            g.stems
                .iter()
                .take(4)
                .map(|s| format!("{} {:+.2} dB", s.file, s.gain_db))
                .chain((n > 4).then(|| format!("{} more", n - 4)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    gain_side_effect(&mut message, g.side_effect_of, "the stems' levels");
    let fix = match (g.side_effect_of, g.normalised_peak_dbfs) {
        (Some(by), _) => format!(
            "Leave these stems' levels as they are for now: fix the {by} first and check again (measured.gains_db says what each reads today)."
        ),
        (None, Some(_)) => "Export the stems without normalisation (each at the level its fader gives it in the mix).".to_owned(),
        (None, None) => "Re-export these stems with their faders and sends as in the mix (measured.gains_db says what each needs).".to_owned(),
    };
    let gains: serde_json::Map<String, serde_json::Value> = g
        .stems
        .iter()
        .map(|s| (s.file.clone(), round2(s.gain_db).into()))
        .collect();
    let f = base(c, message, fix)
        .with("gains_db", serde_json::Value::Object(gains))
        .with("tolerance_db", g.tolerance_db)
        .with("normalised_peak_dbfs", g.normalised_peak_dbfs.map(round2));
    if g.side_effect_of.is_some() {
        return f;
    }
    with_sum(f, &g.sum)
}

pub(super) fn stem_gain(c: &Cause, g: &StemGain) -> Finding {
    if let (true, Some(by), Some(spread)) = (
        g.follows_added_content,
        g.side_effect_of,
        g.window_gain_spread_db,
    ) {
        return base(
            c,
            format!(
                "{} reads {:.2} dB {} in the mix than delivered, but not steadily: its gain swings by {spread:.1} dB from passage to passage, where a fader offset would be the same throughout. It follows the part the {by} reports (a return that carries that part's reverb, or a stem that bleeds it): the fit turns this stem up to stand in for what is missing. Its own level is not in question.",
                g.file,
                g.gain_db.abs(),
                if g.gain_db > 0.0 { "louder" } else { "quieter" },
            ),
            format!("Leave this stem's level as it is: deliver what the {by} says is missing, then check again."),
        )
        .with("gain_db", round2(g.gain_db))
        .with("tolerance_db", g.tolerance_db)
        .with("correlation", round4(g.correlation))
        .with("window_gain_spread_db", round2(spread))
        .with("pan_law_db", g.pan_law_db);
    }
    let mut message = format!(
        "{} is {:.2} dB {} in the mix than delivered{}.",
        g.file,
        g.gain_db.abs(),
        if g.gain_db > 0.0 { "louder" } else { "quieter" },
        g.pan_law_db.map_or(String::new(), |l| format!(
            " (a mono stem, judged at the {l:.1} dB centre pan law the other mono stems were mixed at)"
        ))
    );
    gain_side_effect(&mut message, g.side_effect_of, "the stem's level");
    let fix = match g.side_effect_of {
        Some(by) => format!(
            "Leave this stem's level as it is for now: fix the {by} first and check again (if it still reads {:+.2} dB, re-export it with its fader and sends as in the mix).",
            g.gain_db
        ),
        None => format!(
            "Re-export this stem with its fader and sends as in the mix (it needs {:+.2} dB to match).",
            g.gain_db
        ),
    };
    let f = base(c, message, fix)
        .with("gain_db", round2(g.gain_db))
        .with("tolerance_db", g.tolerance_db)
        .with("correlation", round4(g.correlation))
        .with("pan_law_db", g.pan_law_db);
    if g.side_effect_of.is_some() {
        return f;
    }
    with_sum(f, &g.sum)
}

/// Polarity, cut-off stems and the null.
pub(super) fn reconciliation(c: &Cause) -> Finding {
    match c {
        Cause::PolarityInverted {
            file,
            gain_db,
            correlation,
            null_depth_db,
        } => base(
            c,
            format!(
                "{file} enters the mix with inverted polarity.{}",
                null_depth_db.map_or(String::new(), |n| format!(
                    " As delivered the stems null to {n:.1} dB."
                ))
            ),
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
            audible_in_mix,
        } => base(
            c,
            if *audible_in_mix {
                format!(
                    "{file} ends {} ({:.3} s) before the mix, and the mix still holds its part there: the stem's export range stopped short of the song's end, so the stems do not sum back to the mix over the last {:.3} s.",
                    plural(*missing_frames, "sample"),
                    *missing_frames as f64 / f64::from((*sample_rate).max(1)),
                    *missing_frames as f64 / f64::from((*sample_rate).max(1)),
                )
            } else {
                format!(
                    "Once aligned with the mix, {file} is cut off: its {} misses {} ({} ms) of audio.",
                    if *at_start { "start" } else { "end" },
                    plural(*missing_frames, "sample"),
                    ms(*missing_frames, *sample_rate)
                )
            },
            "Re-export this stem over the full length of the mix, from the same start point.",
        )
        .with("audible_in_mix", *audible_in_mix)
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
            bit_exact,
        } => {
            let as_delivered = null_depth_db.is_some_and(|n| n <= *null_pass_db);
            let message = if *bit_exact {
                "The stems sum back to the mix bit-exactly: the residual is zero.".to_owned()
            } else if as_delivered {
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
            .with("bit_exact", *bit_exact)
        }
        _ => unreachable!("not a reconciliation cause: {c:?}"),
    }
}

/// A stereo stem with swapped or one inverted channel.
pub(super) fn channel_fault(c: &Cause, f: &ChannelFault) -> Finding {
    let file = &f.file;
    let pair = crate::cause::split_pair(file).is_some();
    let (what, fix, channel) = match f.kind {
        // A stereo stem delivered as two mono files: its files' names are the wrong way round.
        ChannelFaultKind::Swapped if pair => (
            format!(
                "{file} enters the mix with left and right swapped (the file named left holds the right channel)"
            ),
            "Exchange the two files' names (or re-export them with the session's channel order).",
            None,
        ),
        ChannelFaultKind::Swapped => (
            format!("{file} enters the mix with left and right swapped"),
            "Swap the left and right channels of this stem (or re-export it with the session's channel order).",
            None,
        ),
        ChannelFaultKind::LeftInverted | ChannelFaultKind::RightInverted => {
            let side = if f.kind == ChannelFaultKind::LeftInverted {
                "left"
            } else {
                "right"
            };
            (
                format!("The {side} channel of {file} is polarity-inverted against the mix"),
                if pair {
                    "Flip the polarity of the file that holds that channel (or re-export it without the inversion)."
                } else {
                    "Flip the polarity of that one channel of this stem (or re-export it without the inversion)."
                },
                Some(side),
            )
        }
    };
    base(
        c,
        format!(
            "{what}: read corrected, the stems leave {:.1} dB less residual ({:.1} dB instead of {:.1} dB under the mix on the analysis windows).",
            f.residual_as_is_db - f.residual_fixed_db,
            -f.residual_fixed_db,
            -f.residual_as_is_db
        ),
        fix,
    )
    .with("channel", channel)
    .with("residual_as_delivered_db", round2(f.residual_as_is_db))
    .with("residual_corrected_db", round2(f.residual_fixed_db))
}

/// DC offsets the stems and the mix do not share.
pub(super) fn dc_mismatch(c: &Cause, d: &DcMismatch) -> Finding {
    let stems: Vec<String> = d
        .by_file
        .iter()
        .filter(|(f, _)| d.mix.as_ref() != Some(f))
        .map(|(f, dc)| format!("{f} ({dc:.1} dBFS)"))
        .collect();
    let mix = d
        .mix
        .as_ref()
        .and_then(|m| d.by_file.iter().find(|(f, _)| f == m));
    let (message, fix) = match (stems.is_empty(), mix) {
        (false, None) => (
            format!(
                "{} {} a DC offset the mix does not",
                list(&stems),
                if stems.len() == 1 { "carries" } else { "carry" }
            ),
            format!(
                "Put a DC filter (or high-pass) on the {} of {} and export {} again; the mix is right as it is.",
                if stems.len() == 1 { "track" } else { "tracks" },
                list(&names(&d.by_file)),
                if stems.len() == 1 { "it" } else { "them" }
            ),
        ),
        (true, Some((m, dc))) => (
            format!("The mix {m} carries a DC offset ({dc:.1} dBFS) the stems do not"),
            "Put a DC filter (or high-pass) on the mix bus and export the mix again.".to_owned(),
        ),
        (false, Some((m, dc))) => (
            format!(
                "{} and the mix {m} ({dc:.1} dBFS) carry DC offsets that do not add up",
                list(&stems)
            ),
            "Put a DC filter (or high-pass) on the tracks and the mix bus, and export the stems and the mix again.".to_owned(),
        ),
        (true, None) => unreachable!("a DC mismatch names at least one file"),
    };
    base(
        c,
        format!(
            "{message}: the sum misses the mix by a constant {:.1} dBFS on every sample (inaudible, but no gain or offset explains it; the stems sum to the mix without it).",
            d.residual_dc_dbfs
        ),
        fix,
    )
    .with("residual_dc_dbfs", round2(d.residual_dc_dbfs))
    .with(
        "dc_offset_dbfs_by_file",
        by_file_map(
            &d.by_file
                .iter()
                .map(|(f, dc)| (f.clone(), round2(*dc)))
                .collect::<Vec<_>>(),
        ),
    )
}

/// The names of `(name, value)` pairs.
fn names<T>(by_file: &[(String, T)]) -> Vec<String> {
    by_file.iter().map(|(f, _)| f.clone()).collect()
}

/// A stem on a clock slightly off the mix's, or the mix on a clock off every stem's.
pub(super) fn clock_drift(c: &Cause, d: &ClockDrift) -> Finding {
    if !d.stems.is_empty() {
        return base(
            c,
            format!(
                "The mix runs {:.0} ppm {} than every stem ({}): all {} keep one clock and drift against the mix alike, from {:.0} to {:.0} samples over the song (the mix printed or resampled on another clock, not the stems).",
                d.ppm.abs(),
                if d.ppm > 0.0 { "faster" } else { "slower" },
                d.stems.join(", "),
                d.stems.len(),
                whole(d.offset_start_samples),
                whole(d.offset_end_samples)
            ),
            format!(
                "Print the mix again on the session's clock at {} Hz, from the same session as the stems (or resample it by {:.1} ppm so that it keeps time with them).",
                d.sample_rate, d.ppm
            ),
        )
        .with("ppm", round2(d.ppm))
        .with("offset_start_samples", round2(d.offset_start_samples))
        .with("offset_end_samples", round2(d.offset_end_samples))
        .with("windows", d.windows)
        .with("stems", d.stems.clone());
    }
    base(
        c,
        format!(
            "{} runs {:.0} ppm {} than the mix: its offset grows from {:.0} to {:.0} samples over the song (a clock or sample-rate mismatch, not a start offset).",
            d.file,
            d.ppm.abs(),
            if d.ppm > 0.0 { "slower" } else { "faster" },
            whole(d.offset_start_samples),
            whole(d.offset_end_samples)
        ),
        format!(
            "Re-export this stem on the session's clock at {} Hz (or resample it by {:.1} ppm so that it keeps time with the mix).",
            d.sample_rate,
            -d.ppm
        ),
    )
    .with("ppm", round2(d.ppm))
    .with("offset_start_samples", round2(d.offset_start_samples))
    .with("offset_end_samples", round2(d.offset_end_samples))
    .with("windows", d.windows)
}

/// `x` to the nearest whole number, without the sign of a negative value that rounds to 0
/// (a message says "from 0", never "from -0").
fn whole(x: f64) -> f64 {
    let r = x.round();
    if r == 0.0 { 0.0 } else { r }
}

/// A duration in words: seconds to the millisecond from one second up, else milliseconds.
fn span(samples: i64, sr: u32) -> String {
    let s = samples.unsigned_abs();
    if s >= u64::from(sr) {
        format!("{:.3} s", s as f64 / f64::from(sr))
    } else {
        format!("{} ms", ms(samples.abs(), sr))
    }
}

/// "later" or "earlier" for a signed shift.
fn later(samples: i64) -> &'static str {
    if samples > 0 { "later" } else { "earlier" }
}

pub(super) fn timecode_mismatch(c: &Cause, t: &TimecodeMismatch) -> Finding {
    let (sr, n) = (t.sample_rate, t.files.len());
    let (is, its, land) = if n == 1 {
        ("is", "its", "lands")
    } else {
        ("are", "their", "land")
    };
    let reference = match &t.reference {
        Some(mix) => format!("the mix {mix}"),
        None => "most stems".to_owned(),
    };
    let apart = t.stamped_apart_samples;
    let offset = t.audio_offset_samples.unwrap_or(0);
    let miss = t.misplacement_samples();
    let stamp = t.reference_stamp_samples.saturating_add_signed(apart);
    let stamps = format!(
        "{} against {}",
        format_timecode(stamp, sr),
        format_timecode(t.reference_stamp_samples, sr)
    );
    let what = if offset == 0 {
        let aligned = if t.audio_offset_samples.is_some() {
            format!(" but {its} audio lines up with {reference} from the file start")
        } else {
            String::new()
        };
        format!(
            "{} {is} stamped {} {} than {reference} ({stamps}){aligned}",
            list(&t.files),
            span(apart, sr),
            later(apart)
        )
    } else if apart == 0 {
        format!(
            "{} {is} stamped together with {reference} ({}) but {its} audio sits {} {} in the file",
            list(&t.files),
            format_timecode(stamp, sr),
            span(offset, sr),
            later(offset)
        )
    } else {
        format!(
            "{} {is} stamped {} {} than {reference} ({stamps}) and {its} audio sits {} {} in the file",
            list(&t.files),
            span(apart, sr),
            later(apart),
            span(offset, sr),
            later(offset)
        )
    };
    let late = if miss > 0 { "late" } else { "early" };
    let fix = match t.right_stamp_samples() {
        Some(right) => format!(
            "Re-stamp {} to {} (BWF TimeReference {right} at {sr} Hz), or re-export {} from the same session start as the mix, if the delivery is spotted to timecode.",
            if n == 1 { "it" } else { "them" },
            format_timecode(right, sr),
            if n == 1 { "it" } else { "them" },
        ),
        None => "Re-export from the same session start as the mix, if the delivery is spotted to timecode.".to_owned(),
    };
    base(
        c,
        format!(
            "{what}: spotted to timecode, {} {land} {} {late}.",
            if n == 1 { "it" } else { "they" },
            span(miss, sr)
        ),
        fix,
    )
    .with("reference", t.reference.clone())
    .with("reference_stamp_samples", t.reference_stamp_samples)
    .with("stamped_apart_samples", apart)
    .with("audio_offset_samples", t.audio_offset_samples)
    .with("misplacement_samples", miss)
    .with("misplacement_ms", ms(miss, sr))
    .with("sample_rate", sr)
}

/// A stem that also carries another stem's audio.
pub(super) fn contained_stem(c: &Cause, d: &ContainedStem) -> Finding {
    let level = if d.gain_db.abs() < 0.5 {
        "at full level".to_owned()
    } else {
        format!("at {:+.1} dB", d.gain_db)
    };
    let fit = match d.fitted_gain_db {
        Some(g) => format!(
            "a gain fit reads {} as {:.1} dB {} in the mix than delivered, which is this, not its level",
            d.contains,
            g.abs(),
            if g < 0.0 { "quieter" } else { "louder" }
        ),
        None => format!(
            "a gain fit takes {} out of the sum altogether, which is this, not a stem missing from the mix",
            d.contains
        ),
    };
    base(
        c,
        format!(
            "{} also carries {}'s audio ({level}): summed, that part plays twice (the extra copy is {:.1} dB under the mix; {fit}).",
            d.file, d.contains, -d.residual_db
        ),
        format!(
            "Re-export {} without {}'s part (a send or an output routed to both stem buses, or a solo left on); {} itself is right.",
            d.file, d.contains, d.contains
        ),
    )
    .with("kind", "contained")
    .with("contains", d.contains.clone())
    .with("contained_gain_db", round2(d.gain_db))
    .with("fitted_gain_db", d.fitted_gain_db.map(round2))
    .with("residual_db", round1(d.residual_db))
}

/// A stem that falls silent for a moment where the mix has its part.
pub(super) fn dropout(c: &Cause, d: &Dropout) -> Finding {
    let gaps: Vec<String> = d
        .gaps
        .iter()
        .map(|(at, len)| format!("{:.0} ms at {at:.2} s", len * 1000.0))
        .collect();
    base(
        c,
        format!(
            "{} drops out where the mix has its part: {} of silence ({}). Audio was lost in the stem's export (a real-time bounce that glitched), not a part missing from the stems; the gaps leave a residual {:.1} dB under the mix.",
            d.file,
            plural(d.gaps.len() as u64, "gap"),
            gaps.join(", "),
            -d.residual_db
        ),
        format!(
            "Re-export {} (offline, or with a larger buffer) and check that the gaps are gone.",
            d.file
        ),
    )
    .with(
        "gaps_s",
        d.gaps
            .iter()
            .map(|(at, len)| vec![round4(*at), round4(*len)])
            .collect::<Vec<_>>(),
    )
    .with("residual_db", round1(d.residual_db))
}

/// A stem whose export cut the peaks the mix kept: the stem's clipping, told as what it does
/// to the sum (the delivery check's flat-topped runs folded in).
pub(super) fn clipped_export(c: &Cause, d: &ClippedExport) -> Finding {
    let runs = d.runs.as_ref().map_or_else(String::new, |r| {
        format!(
            " ({}, the longest {} samples)",
            plural(r.runs, "flat-topped run"),
            r.longest_run_samples
        )
    });
    // Headroom to leave: the peak the mix carries, rounded up to a whole dB, plus one.
    let lower_by_db = d.peak_in_mix_dbfs.max(0.0).ceil() + 1.0;
    base(
        c,
        format!(
            "{} is clipped{runs}: its export cut peaks that reach {:+.1} dBFS in the mix (its bus ran over full scale into a fixed-point file). The cut peaks hold {:.0} % of the residual, {:.1} dB under the mix: the stems do not sum back to the mix because of them.",
            d.file,
            d.peak_in_mix_dbfs,
            d.residual_share * 100.0,
            -d.residual_db
        ),
        format!(
            "Re-export {} as 32-bit float, which keeps peaks over full scale; a fixed-point file needs its bus {lower_by_db:.0} dB lower, and the mix exported the same way.",
            d.file
        ),
    )
    .with("clipped_runs", d.runs.as_ref().map(|r| r.runs))
    .with(
        "longest_run_samples",
        d.runs.as_ref().map(|r| r.longest_run_samples),
    )
    .with("full_scale_samples", d.full_scale_samples)
    .with("clipped_in_export", true)
    .with("peak_in_mix_dbfs", round2(d.peak_in_mix_dbfs))
    .with("residual_share", round2(d.residual_share))
    .with("residual_db", round1(d.residual_db))
    .with("gain_bias_db", round2(d.gain_bias_db))
    .with("lower_by_db", lower_by_db)
}

/// A stereo stem exported as a mono file while the mix has it in stereo.
pub(super) fn folded_to_mono(c: &Cause, d: &FoldedToMono) -> Finding {
    base(
        c,
        format!(
            "{} is a mono file, but the mix has it in stereo: its export folded it down, and the sum lacks its side (the difference between its channels, {:.1} dB under its level). That side is {:.0} % of the residual, {:.1} dB under the mix: not an effect return.",
            d.file,
            -d.side_minus_stem_db,
            d.side_share * 100.0,
            -d.residual_db
        ),
        format!(
            "Re-export {} as a stereo file (the track's or bus's output in stereo, not a mono bounce).",
            d.file
        ),
    )
    .with("kind", "folded_to_mono")
    .with("side_share", round2(d.side_share))
    .with("envelope_correlation", round2(d.envelope_correlation))
    .with("side_minus_stem_db", round1(d.side_minus_stem_db))
    .with("residual_db", round1(d.residual_db))
}
