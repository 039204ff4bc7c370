//! The real `StemCheck.vst3` in Ardour 7 (headless `ardour7-lua`, dummy audio backend): a stem
//! session (tracks -> stem buses -> master, a Reverb FX bus fed by sends), StemCheck on every
//! stem bus (role stem) and on the master (role mix), exported with Ardour's own export.
//! Needs Ardour (`apt-get install ardour`), the bundle and the CLI: run `tests/run-host-tests.sh`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use host_tests::ardour::{self, ExportOptions, Session, StemSpec};
use host_tests::captures::{Bounce, first_difference, read_wav, wait_finished, window};
use host_tests::paths;
use host_tests::report::{Checked, check, summary};
use host_tests::signals::{Planar, Stem, demo_stems};

const RATE: u32 = 48_000;
const SECONDS: f32 = 6.0;
const FRAMES: usize = (RATE as f32 * SECONDS) as usize;
/// The stems played from regions (the demo's FX return comes from Ardour's own reverb instead).
const STEMS: [&str; 4] = ["Drums", "Bass", "Keys", "Lead"];
/// Tracks with an aux send to the Reverb bus.
const SENDS: [&str; 2] = ["Keys", "Lead"];
const REVERB_BUS: &str = "Reverb";

/// Ardour runs one at a time (they share ~/.config/ardour7 and the plugin cache).
static SERIAL: Mutex<()> = Mutex::new(());
static SCANNED: OnceLock<PathBuf> = OnceLock::new();

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn require_ardour() {
    assert!(
        ardour::available(),
        "{} not found: apt-get install ardour (tests/run-host-tests.sh does)",
        ardour::LUA_TOOL
    );
}

/// The folder holding StemCheck.vst3, scanned into Ardour's cache once per test run.
fn vst3_dir() -> &'static Path {
    SCANNED.get_or_init(|| {
        let bundle = paths::vst3_bundle().unwrap_or_else(|e| panic!("{e}"));
        let junk = tempfile::tempdir().expect("temp dir");
        let run = ardour::scan_vst3(&bundle, junk.path()).unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "scanned {}:\n{}{}",
            bundle.display(),
            run.stdout,
            run.stderr
        );
        bundle.parent().expect("bundle has a parent").to_owned()
    })
}

fn stems() -> Vec<Stem> {
    demo_stems(RATE, SECONDS)
        .into_iter()
        .filter(|s| STEMS.contains(&s.name.as_str()))
        .collect()
}

/// The audio a track plays: mono stems keep one channel (a mono track in Ardour).
fn track_audio(s: &Stem, mono: bool) -> Planar {
    if mono {
        vec![s.audio[0].clone()]
    } else {
        s.audio.clone()
    }
}

fn build(work: &Path, sends: &[&str]) -> (Session, Vec<Stem>) {
    let stems = stems();
    let specs: Vec<StemSpec> = stems
        .iter()
        .map(|s| StemSpec {
            name: s.name.clone(),
            channels: if s.name == "Bass" { 1 } else { 2 },
        })
        .collect();
    let session =
        ardour::build_session(work, &specs, sends, FRAMES, RATE).unwrap_or_else(|e| panic!("{e}"));
    for s in &stems {
        session
            .fill(&s.name, &track_audio(s, s.name == "Bass"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    (session, stems)
}

struct Outcome {
    bounce: Bounce,
    export: Planar,
    report: Checked,
}

/// Builds, exports with StemCheck on `stem_buses` and the master, and checks the bounce.
fn bounce(stem_buses: &[&str], master_compressor: bool) -> Outcome {
    require_ardour();
    let _guard = serial();
    let vst3 = vst3_dir();
    let work = tempfile::tempdir().expect("temp dir");
    let (session, stems) = build(work.path(), &SENDS);
    let captures = work.path().join("captures");
    let opts = ExportOptions {
        plugin: Some(paths::BUNDLE_NAME.into()),
        stem_buses: stem_buses.iter().map(|s| s.to_string()).collect(),
        master_compressor,
        reverb_wet: 1.0,
    };
    let export = ardour::export(
        &session,
        &opts,
        vst3,
        &captures,
        &work.path().join("export"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "ardour export: {:?} wall {:?}",
        export.run.tagged("SC_EXPORT_SECONDS"),
        export.run.wall_time
    );
    let export_audio = read_wav(&export.wav).unwrap_or_else(|e| panic!("{e}"));
    let all = wait_finished(&captures, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        all.len(),
        1,
        "one export must make one bounce folder: {:?}",
        all.iter()
            .map(|b| (&b.path, b.labels()))
            .collect::<Vec<_>>()
    );
    let bounce = all.into_iter().next().expect("one bounce");
    let mut problems = Vec::new();
    let labels = bounce.labels();
    if bounce.captures.len() != stem_buses.len() + 1 {
        problems.push(format!(
            "{} captures {labels:?} for {} stem buses + master",
            bounce.captures.len(),
            stem_buses.len()
        ));
    }
    let mixes = bounce.mixes();
    if mixes.len() != 1 {
        problems.push(format!("{} mix captures", mixes.len()));
    }
    for c in &bounce.captures {
        if c.state != "complete" || c.dropped_frames != 0 {
            problems.push(format!(
                "{}: state {} dropped {}",
                c.label, c.state, c.dropped_frames
            ));
        }
        if c.host != "vst3" {
            problems.push(format!("{}: host {}", c.label, c.host));
        }
    }
    // The master capture is what Ardour exported, bit for bit.
    if let Some(mix) = mixes.first() {
        let audio = mix.audio().unwrap_or_else(|e| panic!("{e}"));
        let got = window(&audio, mix.timeline_start_samples, 0, FRAMES);
        if let Some(d) = first_difference(&got, &export_audio) {
            problems.push(format!(
                "mix capture differs from Ardour's export at {d:?} (capture starts at {})",
                mix.timeline_start_samples
            ));
        }
    }
    // A stereo stem bus capture is its track's region audio, bit for bit (unity fader, centred
    // stereo panner, post-fader sends do not change the track's output).
    for s in stems
        .iter()
        .filter(|s| s.name != "Bass" && stem_buses.contains(&s.name.as_str()))
    {
        match bounce.by_label(&s.name) {
            None => problems.push(format!("no capture labelled {} ({labels:?})", s.name)),
            Some(c) => {
                let audio = c.audio().unwrap_or_else(|e| panic!("{e}"));
                let got = window(&audio, c.timeline_start_samples, 0, FRAMES);
                if let Some(d) = first_difference(&got, &s.audio) {
                    problems.push(format!(
                        "{} capture differs from its region at {d:?}",
                        s.name
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}:\n  {}",
        bounce.path.display(),
        problems.join("\n  ")
    );
    let report = check(&bounce.path).unwrap_or_else(|e| panic!("{e}"));
    Outcome {
        bounce,
        export: export_audio,
        report,
    }
}

#[test]
#[ignore = "needs Ardour and the built bundle: tests/run-host-tests.sh"]
fn ardour_clean_stem_session_passes() {
    let o = bounce(&["Drums", "Bass", "Keys", "Lead", REVERB_BUS], false);
    assert_eq!(
        o.report.verdict,
        "pass",
        "{}\n{}",
        o.bounce.path.display(),
        summary(&o.report)
    );
    assert!(o.report.has("sum_matches_mix"), "{}", summary(&o.report));
    assert_eq!(o.export.len(), 2);
}

#[test]
#[ignore = "needs Ardour and the built bundle: tests/run-host-tests.sh"]
fn ardour_reverb_send_bus_without_stemcheck_is_missing_fx_return() {
    let o = bounce(&["Drums", "Bass", "Keys", "Lead"], false);
    assert!(
        o.report.has("missing_fx_return"),
        "{}\n{}",
        o.bounce.path.display(),
        summary(&o.report)
    );
    assert_ne!(o.report.verdict, "pass");
}

#[test]
#[ignore = "needs Ardour and the built bundle: tests/run-host-tests.sh"]
fn ardour_compressor_on_the_master_is_missing_bus_processing() {
    let o = bounce(&["Drums", "Bass", "Keys", "Lead", REVERB_BUS], true);
    assert!(
        o.report.has("missing_bus_processing"),
        "{}\n{}",
        o.bounce.path.display(),
        summary(&o.report)
    );
    assert_ne!(o.report.verdict, "pass");
}

/// Without any plugin: Ardour plays our region audio untouched and exports it as 32-bit float
/// of exactly the range (our preset took effect). Every other Ardour test builds on this.
#[test]
#[ignore = "needs Ardour: tests/run-host-tests.sh"]
fn control_ardour_plays_the_regions_untouched_and_exports_float() {
    require_ardour();
    let _guard = serial();
    let work = tempfile::tempdir().expect("temp dir");
    let (session, stems) = build(work.path(), &[]);
    let opts = ExportOptions {
        plugin: None,
        stem_buses: vec![],
        master_compressor: false,
        reverb_wet: 1.0,
    };
    let out_dir = work.path().join("export");
    let export = ardour::export(
        &session,
        &opts,
        work.path(),
        &work.path().join("captures"),
        &out_dir,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let info = analyzer_core::wav::WavReader::open(&export.wav)
        .unwrap_or_else(|e| panic!("{e}"))
        .info()
        .clone();
    assert_eq!(
        (info.bits_per_sample, info.channels, info.frames),
        (32, 2, FRAMES as u64),
        "{info:?}"
    );
    assert_eq!(
        info.sample_format,
        analyzer_core::report::SampleFormat::Float,
        "{info:?}"
    );
    let audio = read_wav(&export.wav).unwrap_or_else(|e| panic!("{e}"));
    // Expected: the sum of every track, the mono Bass panned centre. Summing
    // order differs from Ardour's, hence the tolerance; the StemCheck tests compare bit for bit.
    let stereo: Vec<&Stem> = stems.iter().filter(|s| s.name != "Bass").collect();
    let bass = stems.iter().find(|s| s.name == "Bass").expect("bass");
    // Ardour's mono panner at centre: its -3 dB pan law, 10^(-3/20) per side.
    let pan = 10f32.powf(-3.0 / 20.0);
    let mut worst = 0.0f32;
    for (c, channel) in audio.iter().enumerate() {
        for (i, got) in channel.iter().enumerate() {
            let dry: f32 = stereo.iter().map(|s| s.audio[c][i]).sum();
            worst = worst.max((got - dry - pan * bass.audio[0][i]).abs());
        }
    }
    assert!(
        worst < 1e-5,
        "export differs from the region sum by up to {worst}"
    );
}
