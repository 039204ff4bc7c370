//! A small version of the diagnosis corpus (corpus/render.sh): one MIDI song, 12 s, rendered per
//! instrument group by fluidsynth, faults applied by sox and ffmpeg, then checked by the full
//! pipeline. Runs when the tools are installed (scripts/test.sh installs them); otherwise it
//! says so and passes, unless STEMCHECK_REQUIRE_CORPUS=1 demands it.

use std::path::{Path, PathBuf};
use std::process::Command;

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::{FindingCode, Report, Severity};

fn tools_present() -> bool {
    let have = |cmd: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {cmd}"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    have("fluidsynth")
        && have("sox")
        && have("ffmpeg")
        && Path::new("/usr/share/planetblupi/music/music005.mid").is_file()
        && Path::new("/usr/share/sounds/sf2/FluidR3_GM.sf2").is_file()
        && Command::new("/usr/bin/python3")
            .args(["-c", "import mido"])
            .output()
            .is_ok_and(|o| o.status.success())
}

/// The worst reconciliation/diagnosis finding at warning level or above.
fn primary(report: &Report) -> Option<FindingCode> {
    report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .find(|f| {
            matches!(
                f.code,
                FindingCode::StartOffset
                    | FindingCode::PolarityInverted
                    | FindingCode::GainMismatch
                    | FindingCode::MissingFxReturn
                    | FindingCode::MissingBusProcessing
                    | FindingCode::BusEq
                    | FindingCode::MissingElement
                    | FindingCode::UnexplainedResidual
                    | FindingCode::ChannelsSwapped
                    | FindingCode::ChannelPolarityInverted
                    | FindingCode::ClockDrift
                    | FindingCode::MasterProcessingOnStems
                    | FindingCode::LossyCodec
                    | FindingCode::DuplicateStem
                    | FindingCode::Dropout
            )
        })
        .map(|f| f.code)
}

#[test]
fn rendered_corpus_cases_get_the_right_primary_finding() {
    if !tools_present() {
        assert!(
            std::env::var("STEMCHECK_REQUIRE_CORPUS").as_deref() != Ok("1"),
            "corpus tools missing (fluidsynth, fluid-soundfont-gm, planetblupi-music-midi, python3-mido, sox, ffmpeg)"
        );
        eprintln!("skipping the rendered corpus: fluidsynth/sox/ffmpeg/MIDI files not installed");
        return;
    }
    let out = tempfile::tempdir().expect("temp dir");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/render.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(out.path())
        .env("CORPUS_SONGS", "music005")
        .env("CORPUS_SECONDS", "12")
        .status()
        .expect("render.sh runs");
    assert!(status.success(), "corpus/render.sh failed");
    let song = out.path().join("music005");
    // Faults of the files rather than the sum (NaN samples, another rate) are errors of their own
    // with the sum found sound: the primary is then no reconciliation code at all.
    let cases: [(&str, Option<FindingCode>); 35] = [
        ("clean_dry", None),
        ("clean_16bit", None),
        ("clean_24bit_dither", None),
        ("fx_return_synth", Some(FindingCode::MissingFxReturn)),
        ("reverb_mix", Some(FindingCode::MissingFxReturn)),
        ("compand_mix", Some(FindingCode::MissingBusProcessing)),
        ("eq_mix", Some(FindingCode::BusEq)),
        ("drop_stem", Some(FindingCode::MissingElement)),
        ("offset_37", Some(FindingCode::StartOffset)),
        ("swapped_channels", Some(FindingCode::ChannelsSwapped)),
        (
            "inverted_channel",
            Some(FindingCode::ChannelPolarityInverted),
        ),
        ("master_reference", None),
        (
            "master_chain_on_stems",
            Some(FindingCode::MasterProcessingOnStems),
        ),
        ("automation_not_printed", Some(FindingCode::GainMismatch)),
        ("lossy_mix", Some(FindingCode::LossyCodec)),
        ("softclip_mix", Some(FindingCode::MissingBusProcessing)),
        ("width_mix", Some(FindingCode::MissingBusProcessing)),
        (
            "width_and_compand_mix",
            Some(FindingCode::MissingBusProcessing),
        ),
        ("bleed_stem", Some(FindingCode::DuplicateStem)),
        ("bleed_send", Some(FindingCode::DuplicateStem)),
        ("dropout_stem", Some(FindingCode::Dropout)),
        ("master_fade_mix", Some(FindingCode::GainMismatch)),
        // A slow clock on the bass (20 ppm): so well correlated it was never measured.
        ("clock_drift_slow_bass", Some(FindingCode::ClockDrift)),
        // The mix on another clock than every stem: one finding, the mix's (checked below).
        ("mix_clock_drift", Some(FindingCode::ClockDrift)),
        // A multi-mono export: read as stereo stems, one per pair of files.
        ("split_stereo_export", None),
        ("split_stereo_swapped", Some(FindingCode::ChannelsSwapped)),
        // A file fault that breaks the sum: judged on its own below.
        ("short_export", Some(FindingCode::LengthMismatch)),
        ("other_rate_stem", None),
        ("nan_samples", None),
        // A stem clipped in its export: its clipping finding names what it does to the sum,
        // and no reconciliation code is reported beside it (checked below).
        ("clipped_stem", None),
        ("sidechain_lost", Some(FindingCode::MissingBusProcessing)),
        ("stem_compressed", Some(FindingCode::MissingBusProcessing)),
        // A stereo stem exported as a mono file: named as such (checked below), no
        // reconciliation code beside it.
        ("mono_export", None),
        // A stem's DC offset the mix lacks, and one the mix carries: one dc_offset finding
        // each (checked below), no reconciliation code beside it.
        ("dc_stem", None),
        ("dc_carried", None),
    ];
    // The file faults those cases carry, true of them (not false errors).
    let file_fault = |case: &str, code: FindingCode| {
        matches!(
            (case, code),
            ("other_rate_stem", FindingCode::SampleRateMismatch)
                | ("nan_samples", FindingCode::NonFiniteSamples)
                | (
                    "clipped_stem",
                    FindingCode::Clipping | FindingCode::TruePeakOver
                )
                | ("mono_export", FindingCode::ChannelLayout)
                | ("dc_stem", FindingCode::DcOffset)
        )
    };
    let mut failures = Vec::new();
    for (case, expect) in cases {
        let report = check_paths(&[song.join(case)], &Options::default()).expect("check runs");
        let got = if expect == Some(FindingCode::LengthMismatch) {
            report
                .findings
                .iter()
                .find(|f| f.code == FindingCode::LengthMismatch && f.severity == Severity::Error)
                .map(|f| f.code)
                .filter(|_| {
                    !report
                        .findings
                        .iter()
                        .any(|f| f.code == FindingCode::SumMatchesMix)
                })
                // The headline is the sum as delivered, over the whole mix.
                .filter(|_| {
                    report
                        .reconciliation
                        .as_ref()
                        .and_then(|r| r.null_depth_db)
                        .is_some_and(|n| n > analyzer_core::Profile::default().null_pass_db)
                })
        } else {
            primary(&report)
        };
        let false_errors: Vec<FindingCode> = report
            .findings
            .iter()
            .filter(|f| {
                f.severity == Severity::Error && Some(f.code) != expect && !file_fault(case, f.code)
            })
            .map(|f| f.code)
            .collect();
        // A width on the mix bus is named as one: its residual is no effect return.
        let kind = |code: FindingCode| {
            report
                .findings
                .iter()
                .find(|f| f.code == code)
                .and_then(|f| f.measured.get("kind").and_then(|k| k.as_str()))
                .map(str::to_owned)
        };
        let kinds: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::MissingBusProcessing)
            .filter_map(|f| f.measured.get("kind").and_then(|k| k.as_str()))
            .map(str::to_owned)
            .collect();
        if case == "width_and_compand_mix"
            && (!kinds.iter().any(|k| k == "stereo_width")
                || !kinds.iter().any(|k| k == "compression" || k == "limiting")
                || report
                    .findings
                    .iter()
                    .any(|f| f.code == FindingCode::MissingFxReturn))
        {
            failures.push(format!(
                "{case}: the width and the compressor are not both named ({kinds:?})"
            ));
        }
        if case == "width_mix"
            && (kind(FindingCode::MissingBusProcessing).as_deref() != Some("stereo_width")
                || report
                    .findings
                    .iter()
                    .any(|f| f.code == FindingCode::MissingFxReturn))
        {
            failures.push(format!("{case}: the width is not named as one"));
        }
        if case == "clipped_stem"
            && !report.findings.iter().any(|f| {
                f.code == FindingCode::Clipping
                    && f.severity == Severity::Error
                    && f.measured.get("clipped_in_export") == Some(&serde_json::Value::Bool(true))
            })
        {
            failures.push(format!("{case}: the clipping is not named as the export's"));
        }
        if case == "mono_export"
            && kind(FindingCode::ChannelLayout).as_deref() != Some("folded_to_mono")
        {
            failures.push(format!("{case}: the mono export is not named"));
        }
        if case.starts_with("dc_") {
            let dc: Vec<&analyzer_core::Finding> = report
                .findings
                .iter()
                .filter(|f| f.code == FindingCode::DcOffset)
                .collect();
            let names = |f: &analyzer_core::Finding| -> Vec<String> {
                f.files
                    .iter()
                    .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned())
                    .collect()
            };
            let want: Vec<String> = if case == "dc_stem" {
                vec!["Song005_Bass.wav".to_owned()]
            } else {
                vec!["Song005_Bass.wav".to_owned(), "Song005_Mix.wav".to_owned()]
            };
            let severity = if case == "dc_stem" {
                Severity::Error
            } else {
                Severity::Warning
            };
            if dc.len() != 1 || names(dc[0]) != want || dc[0].severity != severity {
                failures.push(format!(
                    "{case}: want one dc_offset {severity:?} on {want:?}, got {:?}",
                    dc.iter()
                        .map(|f| (f.severity, names(f)))
                        .collect::<Vec<_>>()
                ));
            }
        }
        if case == "mix_clock_drift" {
            let drift: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.code == FindingCode::ClockDrift)
                .collect();
            if drift.len() != 1
                || !drift[0]
                    .files
                    .iter()
                    .all(|f| f.ends_with("Song005_Mix.wav"))
            {
                failures.push(format!(
                    "{case}: want one clock_drift naming the mix, got {:?}",
                    drift.iter().map(|f| &f.files).collect::<Vec<_>>()
                ));
            }
        }
        if case == "stem_compressed"
            && kind(FindingCode::MissingBusProcessing).as_deref() != Some("stem_compression")
        {
            failures.push(format!("{case}: the stem's own compressor is not named"));
        }
        if case == "sidechain_lost"
            && kind(FindingCode::MissingBusProcessing).as_deref() != Some("sidechain")
        {
            failures.push(format!("{case}: the lost sidechain is not named"));
        }
        if case.starts_with("bleed")
            && kind(FindingCode::DuplicateStem).as_deref() != Some("contained")
        {
            failures.push(format!("{case}: the carried part is not named"));
        }
        // A loud reverb return alone fills the quiet passages more than the loud ones, which
        // a moving gain also models; it is no bus compressor (not even a warning).
        if case == "reverb_mix"
            && report.findings.iter().any(|f| {
                f.code == FindingCode::MissingBusProcessing && f.severity >= Severity::Warning
            })
        {
            failures.push(format!(
                "{case}: a bus compressor reported beside the reverb"
            ));
        }
        // One cause, one finding: a whole-mix cause that bends every stem's gain fit is one
        // gain finding at most (each of these cases has one fault, but the width and the
        // compander on one mix bus: two processes, each its own missing_bus_processing).
        let mut seen = std::collections::HashSet::new();
        let repeated: Vec<FindingCode> = report
            .findings
            .iter()
            .filter(|f| !seen.insert(f.code))
            .filter(|f| {
                !(case == "width_and_compand_mix" && f.code == FindingCode::MissingBusProcessing)
            })
            // Level checks report the stems and the mix apart (a clipped stem raises both).
            .filter(|f| {
                !matches!(
                    f.code,
                    FindingCode::TruePeakOver | FindingCode::DcOffset | FindingCode::LowHeadroom
                )
            })
            .map(|f| f.code)
            .collect();
        // A curve flat within a dB is a level, never reported as an EQ (not even as context).
        let flat_eq: Vec<f64> = report
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::BusEq)
            .filter_map(|f| f.measured.get("curve_span_db").and_then(|v| v.as_f64()))
            .filter(|&span| span < analyzer_core::cause::FLAT_EQ_SPAN_DB)
            .collect();
        if !flat_eq.is_empty() {
            failures.push(format!(
                "{case}: a flat curve reported as bus_eq: {flat_eq:?}"
            ));
        }
        if !repeated.is_empty() {
            failures.push(format!(
                "{case}: codes reported more than once: {repeated:?}"
            ));
        }
        if expect.is_some() && got != expect || !false_errors.is_empty() {
            failures.push(format!(
                "{case}: expected {expect:?}, primary {got:?}, false errors {false_errors:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
