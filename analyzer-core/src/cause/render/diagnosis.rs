//! The diagnosis's causes: bus dynamics, bus EQ and content no stem carries.

use super::common::{base, plural, round1, round2};
use crate::cause::{
    AddedContent, AddedKind, BusEq, BusProcessing, Cause, DynamicsKind, Evidence, StereoWidth,
    coherent_bands,
};
use crate::report::Finding;

pub(super) fn bus_processing(c: &Cause, b: &BusProcessing) -> Finding {
    if let Some(w) = &b.width {
        return stereo_width(c, b, w);
    }
    let (gr_typical_db, gr_max_db) = (b.gain_reduction_typical_db, b.gain_reduction_max_db);
    let (kind, message, fix) = match b.kind {
        DynamicsKind::Clipping => (
            "clipping",
            format!(
                "The mix is clipped: {} hold flat-topped runs, which the stems do not have.",
                plural(b.clipped_frames as u64, "frame")
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
        DynamicsKind::Saturation => (
            "saturation",
            format!(
                "The mix went through a soft clipper or saturator the stems did not: each sample of the stems' sum maps to the mix through one fixed curve that takes {:.1} dB off the loudest peaks ({:.1} dB off the loudest tenth of the energy); that curve nulls {:.1} dB deeper than one overall gain.",
                gr_max_db,
                gr_typical_db,
                b.null_gain_with_waveshaper_db.unwrap_or(0.0)
            ),
            "Bypass the mix-bus clipper or saturator for the stem export (and say so), or print the stems through the same bus chain.",
        ),
        // Measured by the width model; rendered by `stereo_width` (no width measured: the
        // generic wording).
        DynamicsKind::StereoWidth => (
            "stereo_width",
            "The mix went through a stereo width control the stems did not.".to_owned(),
            "Bypass the mix-bus stereo imager for the stem export (and say so), or print the stems through it.",
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
        .with(
            "null_gain_with_waveshaper_db",
            b.null_gain_with_waveshaper_db.map(round1),
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

/// A stereo width (imager, mid/side processing) on the mix bus.
fn stereo_width(c: &Cause, b: &BusProcessing, w: &StereoWidth) -> Finding {
    let overall = w.side_minus_mid_db;
    let direction = |d: f64| if d >= 0.0 { "wider" } else { "narrower" };
    let octaves: Vec<String> = w
        .side_minus_mid_db_by_octave
        .iter()
        .map(|(hz, d)| format!("{hz:.0} Hz {d:+.1}"))
        .collect();
    // A width that is not the same across the octaves (a multiband imager, the lows made
    // mono) is described by its curve.
    let (lo, hi) = w
        .side_minus_mid_db_by_octave
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, d)| {
            (lo.min(*d), hi.max(*d))
        });
    let how = if hi - lo <= 1.0 {
        format!(
            "its side (left minus right) is {:.1} dB {} against its mid than in the stems' sum",
            overall.abs(),
            if overall >= 0.0 { "louder" } else { "quieter" }
        )
    } else {
        format!(
            "its side (left minus right) follows a curve of its own against its mid (dB per octave: {})",
            octaves.join(", ")
        )
    };
    base(
        c,
        format!(
            "The mix went through a stereo width control (imager, mid/side processing) the stems did not: {how}, so the mix is {} than the stems. A curve of its own for the side nulls {:.1} dB deeper than one EQ for both channels (no effect return does that).",
            direction(overall),
            w.null_gain_over_linked_eq_db
        ),
        "Bypass the mix-bus stereo imager or width control for the stem export (and say so), or print the stems through the same bus chain.",
    )
    .with("kind", "stereo_width")
    .with("side_minus_mid_db", round2(overall))
    .with(
        "side_minus_mid_db_by_octave",
        serde_json::Value::Object(
            w.side_minus_mid_db_by_octave
                .iter()
                .map(|(hz, d)| (format!("{hz:.0}"), round2(*d).into()))
                .collect(),
        ),
    )
    .with("residual_db", round1(b.residual_db))
    .with("null_gain_db", round1(w.null_gain_db))
    .with(
        "null_gain_over_linked_eq_db",
        round1(w.null_gain_over_linked_eq_db),
    )
}

pub(super) fn bus_eq(c: &Cause, e: &BusEq) -> Finding {
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

pub(super) fn added_content(c: &Cause, a: &AddedContent) -> Finding {
    let weak_note = if a.strong {
        String::new()
    } else {
        " The evidence is weak (it could also be a wide part that plays throughout).".to_owned()
    } + &super::common::may_be_excluded_note(&a.may_be_excluded);
    let added_db = a.residual_db;
    let mut f = match a.kind {
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
    if !a.may_be_excluded.is_empty() {
        f.fix = "Re-export the stems that could not enter the sum and check again: the part may be theirs.".to_owned();
    }
    f.spectral_signature = a.signature.clone();
    f.with("residual_db", round1(added_db))
        .with("may_be_excluded", a.may_be_excluded.clone())
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

/// Stems that went through the master chain one by one.
pub(super) fn master_chain(c: &Cause, m: &crate::cause::MasterChain) -> Finding {
    let n = m.stems.len();
    let mut message = format!(
        "The stems went through the mix bus's processing one by one: {} peak{} at the mix's own ceiling of {:.1} dBFS, so each was limited on its own and their sum no longer matches the mix, which was limited as a whole",
        super::common::list(&m.stems),
        if n == 1 { "s" } else { "" },
        m.ceiling_dbfs
    );
    match m.residual_db {
        Some(r) => message.push_str(&format!(" (a residual at {:.1} dB under the mix).", -r)),
        None => message.push('.'),
    }
    super::reconciliation::with_sum(
        base(
            c,
            message,
            "Export the stems with the master bus processing bypassed (pre-master, from the stem buses), not through the master chain (REAPER: not \"stems via master\").",
        )
        .with("ceiling_dbfs", round2(m.ceiling_dbfs))
        .with("mix", m.mix.clone())
        .with("instead_of", m.replaced.as_str())
        .with("residual_db", m.residual_db.map(round1)),
        &m.sum,
    )
}

pub(super) fn level_ride(c: &Cause, r: &crate::cause::LevelRide) -> Finding {
    /// Window gains this far apart mean the stem drops out of the mix somewhere: a mute.
    const MUTE_RANGE_DB: f64 = 40.0;
    let n = r.stems.len();
    let files: Vec<String> = r.stems.iter().map(|s| s.file.clone()).collect();
    let what = |s: &crate::cause::RiddenStem| {
        if s.window_gain_range_db >= MUTE_RANGE_DB {
            format!(
                "drops out for part of the song (its gain there falls by more than {MUTE_RANGE_DB:.0} dB: muted)"
            )
        } else {
            format!(
                "moves over {:.1} dB from passage to passage",
                s.window_gain_range_db
            )
        }
    };
    let head = if n == 1 {
        let s = &r.stems[0];
        if s.window_gain_range_db >= MUTE_RANGE_DB {
            format!("{} {}", s.file, what(s))
        } else {
            format!(
                "{} enters the mix at a level that moves over time: its gain, fitted passage by passage, {}",
                s.file,
                what(s).replacen(" from passage to passage", "", 1)
            )
        }
    } else {
        format!(
            "{} enter the mix at levels that move over time ({})",
            super::common::list(&files),
            r.stems
                .iter()
                .map(|s| format!("{} {}", s.file, what(s)))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let mut message = format!(
        "{head}, while the other stems hold theirs within {:.1} dB. No single fader setting reproduces that: it is fader, mute or volume automation the stem export did not print (a pre-fader export, or automation bypassed for the export){}.",
        r.steady_range_db.max(0.1),
        match r.replaced {
            Some(code) => format!(", not the {code} the residual alone reads as"),
            None => String::new(),
        }
    );
    if let Some(res) = r.residual_db {
        message.push_str(&format!(
            " The ride leaves a residual at {:.1} dB under the mix.",
            -res
        ));
    }
    let range_by_file: serde_json::Map<String, serde_json::Value> = r
        .stems
        .iter()
        .map(|s| (s.file.clone(), round2(s.window_gain_range_db).into()))
        .collect();
    let gain_by_file: serde_json::Map<String, serde_json::Value> = r
        .stems
        .iter()
        .map(|s| (s.file.clone(), round2(s.gain_db).into()))
        .collect();
    super::reconciliation::with_sum(
        base(
            c,
            message,
            format!(
                "Re-export {} post-fader with the volume automation printed (automation in read mode, or committed to the audio), then check again.",
                super::common::list(&files)
            ),
        )
        .with("level_automation", true)
        .with("window_gain_range_db", serde_json::Value::Object(range_by_file))
        .with("gains_db", serde_json::Value::Object(gain_by_file))
        .with("other_stems_range_db", round2(r.steady_range_db))
        .with("instead_of", r.replaced.map(|c| c.as_str()))
        .with("residual_db", r.residual_db.map(round1)),
        &r.sum,
    )
}

pub(super) fn lossy_codec(c: &Cause, l: &crate::cause::LossyCodec) -> Finding {
    let message = format!(
        "The mix ({}) or the stems went through a lossy codec (MP3, AAC, Ogg or Opus) before delivery: what the stems leave is coding noise at {:.1} dB under the mix, in every band, from {:.0} dB under the mix's own level in the lows to {:.0} dB in the highs, following the music passage by passage{}. The stems may well sum to the mix, but nothing quieter than that noise can be checked.",
        l.mix,
        -l.residual_db,
        -l.low_db,
        -l.high_db,
        match l.replaced {
            Some(code) => format!(" (not the {code} the residual alone reads as)"),
            None => String::new(),
        }
    );
    let bands: serde_json::Map<String, serde_json::Value> = l
        .noise_to_mix_db
        .iter()
        .map(|&(hz, db)| (format!("{hz}"), round1(db).into()))
        .collect();
    base(
        c,
        message,
        "Ask for the mix and the stems as rendered from the session (WAV, AIFF or FLAC), not files decoded from an MP3 or AAC, and check again.",
    )
    .with("mix", l.mix.clone())
    .with("residual_db", round1(l.residual_db))
    .with("noise_to_mix_low_db", round1(l.low_db))
    .with("noise_to_mix_high_db", round1(l.high_db))
    .with("noise_to_mix_spread_db", round1(l.spread_db))
    .with("noise_to_mix_db_by_band", serde_json::Value::Object(bands))
    .with("highs_mix_minus_sum_db", round2(l.highs_mix_minus_sum_db))
    .with("instead_of", l.replaced.map(|c| c.as_str()))
}

/// Master fader automation the stem export did not print.
pub(super) fn master_ride(c: &Cause, r: &crate::cause::MasterRide) -> Finding {
    let stretch = |&(a, b, d): &(f64, f64, f64)| {
        if d <= -60.0 {
            format!("from {a:.1} s to {b:.1} s, down to silence")
        } else {
            let what = if d < 0.0 { "down" } else { "up" };
            format!("from {a:.1} s to {b:.1} s, {what} to {d:+.1} dB")
        }
    };
    let stretches: Vec<String> = r.stretches.iter().map(stretch).collect();
    base(
        c,
        format!(
            "The whole mix's level against the stems' sum holds for most of the song and moves only {}: master fader automation (a fade or a ride on the master bus) that the stem export did not print, not a bus compressor (which moves it all through the song). The ride leaves a residual at {:.1} dB under the mix.",
            stretches.join(" and "),
            -r.residual_db
        ),
        "Export the stems through the master bus with its automation (post-fader), or remove the automation from the mix and say so; the stems' levels are right.",
    )
    .with("level_automation", true)
    .with("automation_on", "master")
    .with(
        "stretches_s",
        r.stretches
            .iter()
            .map(|&(a, b, d)| vec![round2(a), round2(b), round1(d)])
            .collect::<Vec<_>>(),
    )
    .with("residual_db", round1(r.residual_db))
}

/// A stem ducked in the mix by another stem's level, or compressed on its own bus, that its
/// export did not print.
pub(super) fn ducking(c: &Cause, d: &crate::cause::Ducking) -> Finding {
    // How deep and how often, and what is left: the same words for either compressor.
    let depth = format!(
        "typically {:.1} dB, up to {:.1} dB, {:.1} dips a second",
        d.gain_reduction_typical_db, d.gain_reduction_max_db, d.dips_per_s
    );
    let left = -d.residual_db;
    let f = match &d.key {
        Some(key) => base(
            c,
            format!(
                "{} is ducked in the mix whenever {key} plays (sidechain compression keyed from it: {depth}), but its export is not: the key was muted when the stem was soloed for export, or the export left the sidechain out. The missing ducking leaves a residual at {left:.1} dB under the mix.",
                d.file
            ),
            format!(
                "Re-export {} with its sidechain key playing (all stems in one pass, or the key routed to the compressor with its own output muted); {key} is right.",
                d.file
            ),
        )
        .with("kind", "sidechain")
        .with("keyed_by", key.clone()),
        None => base(
            c,
            format!(
                "{} is compressed in the mix and its export is not: its gain in the mix falls whenever it plays loud ({depth}, following its own level) while the rest of the stems keep theirs. A compressor on its own bus was printed into the mix but not into the stem (exported pre-insert, or with the insert bypassed). The missing compression leaves a residual at {left:.1} dB under the mix.",
                d.file
            ),
            format!(
                "Re-export {} post-insert, with its bus compressor printed as in the mix.",
                d.file
            ),
        )
        .with("kind", "stem_compression"),
    };
    // A stem that plays with another (the same notes, the same hits) follows that one's
    // level as closely as its own: a compressor keyed from it cannot be told apart.
    let f = if d.key.is_none() && d.key_correlation <= d.own_correlation + 0.1 {
        let mut f = f;
        f.message.push_str(&format!(
            " Its gain follows {}'s level as closely: if its compressor is keyed from {}, the key was muted for the export.",
            d.closest_other, d.closest_other
        ));
        f
    } else {
        f
    };
    f.with("key_correlation", round2(d.key_correlation))
        .with("own_level_correlation", round2(d.own_correlation))
        .with(
            "gain_reduction_typical_db",
            round1(d.gain_reduction_typical_db),
        )
        .with("gain_reduction_max_db", round1(d.gain_reduction_max_db))
        .with("dips_per_s", round2(d.dips_per_s))
        .with("explained_share", round2(d.explained_share))
        .with("residual_db", round1(d.residual_db))
}
