//! The real `StemCheck.clap` in a CLAP host (clack-host): a REAPER-style "master mix + stems"
//! export and its variations. Needs the bundle and the CLI built: run `tests/run-host-tests.sh`
//! (or `cargo xtask bundle stemcheck-plugin --release && cargo build --release -p stemcheck-cli`
//! then `cargo test -p host-tests --release -- --ignored`).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use clack_extensions::render::RenderMode;
use host_tests::captures::{Bounce, wait_finished};
use host_tests::clap_host::Bundle;
use host_tests::render::RenderPlan;
use host_tests::report::{check, summary};
use host_tests::scenario::{
    Role, Track, arm_on_mix, instance_for, plugin_name, role_param, run_in_process,
    run_in_process_with, run_in_processes, verify_bounce, verify_passthrough,
};
use host_tests::signals::{Compressor, Planar, compress, delayed, demo_stems, sum};
use host_tests::{paths, scenario};

const RATE: u32 = 48_000;
/// Every demo part plays (the lead enters after 4.5 s). The analyzer (main at e6b4f62) does not
/// reconcile the clean, exact-sum demo set at every length: at 6, 10, 16 and 20 s it misaligns
/// the looped Keys or the FX Return (the control test below shows it on the raw files). 8 s
/// reconciles; see the host-tests report.
const SECONDS: f32 = 8.0;
/// Name of the master track (the mix instance's label).
const MASTER: &str = "Master";
/// How long the writer threads may take to finish a capture after the host stops.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);

/// In-process tests share this process's environment: the plugin reads STEMCHECK_CAPTURE_DIR
/// when it is activated, so each test sets it to its own folder and holds this lock meanwhile.
static SERIAL: Mutex<()> = Mutex::new(());

/// A fresh capture folder, set as STEMCHECK_CAPTURE_DIR for instances activated while the
/// returned guard lives.
fn capture_dir() -> (MutexGuard<'static, ()>, tempfile::TempDir) {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::Builder::new()
        .prefix("stemcheck-clap-")
        .tempdir()
        .expect("temp dir");
    // SAFETY: every test that touches the environment holds SERIAL; the plugin reads the variable
    // in activate(), which these tests call on their own thread while holding it.
    unsafe { std::env::set_var("STEMCHECK_CAPTURE_DIR", dir.path()) };
    (guard, dir)
}

fn bundle() -> Bundle {
    let path = paths::clap_bundle().unwrap_or_else(|e| panic!("{e}"));
    Bundle::load(&path, &plugin_name()).unwrap_or_else(|e| panic!("{e}"))
}

/// The demo stems as stem tracks plus the master fed `mix_path(sum of the stems)`.
fn tracks(
    stem_input: impl Fn(&str, &Planar) -> Planar,
    mix_path: impl Fn(Planar) -> Planar,
) -> Vec<Track> {
    let stems = demo_stems(RATE, SECONDS);
    let refs: Vec<&Planar> = stems.iter().map(|s| &s.audio).collect();
    let mix = mix_path(sum(&refs));
    let mut out: Vec<Track> = stems
        .iter()
        .map(|s| Track {
            name: s.name.clone(),
            role: Role::Stem,
            input: stem_input(&s.name, &s.audio),
        })
        .collect();
    out.push(Track {
        name: MASTER.into(),
        role: Role::Mix,
        input: mix,
    });
    out
}

fn clean_tracks() -> Vec<Track> {
    tracks(|_, a| a.clone(), |m| m)
}

/// The finished bounces in `root`; exactly `expect` of them.
fn finished_bounces(root: &Path, expect: usize) -> Vec<Bounce> {
    let all = wait_finished(root, FINISH_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        all.len(),
        expect,
        "expected {expect} bounce folder(s), found {:?}",
        all.iter()
            .map(|b| (&b.path, b.labels()))
            .collect::<Vec<_>>()
    );
    all
}

fn assert_no_problems(what: &str, problems: &[String]) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

fn offline_plan(i: usize, b: usize) -> RenderPlan {
    RenderPlan::bounce(RATE, 1 + i as u64 * 7 + b as u64 * 1000)
}

/// Runs one offline bounce of `tracks` in this process and returns its folder (and the capture
/// root, deleted when dropped).
fn bounce_offline(tracks: &[Track]) -> (tempfile::TempDir, Bounce) {
    let (_guard, root) = capture_dir();
    let out = run_in_process(&bundle(), tracks, RenderMode::Offline, 1, &offline_plan)
        .unwrap_or_else(|e| panic!("{e}"));
    let outs: Vec<&Planar> = out[0].iter().map(|r| &r.output).collect();
    assert_no_problems("pass-through", &verify_passthrough(tracks, &outs));
    let bounce = finished_bounces(root.path(), 1).remove(0);
    (root, bounce)
}

#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn role_parameter_keeps_its_stable_id_and_values() {
    let (_guard, _root) = capture_dir();
    let b = bundle();
    let mut inst =
        host_tests::clap_host::Instance::new(&b, "Drums").unwrap_or_else(|e| panic!("{e}"));
    let id = role_param(&mut inst, b.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inst.param_value(id).unwrap_or_else(|e| panic!("{e}")),
        0.0,
        "a new instance is a stem"
    );
    inst.set_param(id, 1.0).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inst.param_value(id).unwrap_or_else(|e| panic!("{e}")), 1.0);
    let mix = instance_for(&b, MASTER, Role::Mix, RenderMode::Offline);
    assert!(mix.is_ok(), "{:?}", mix.err());
}

#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn offline_stems_and_mix_on_parallel_threads_capture_bit_exactly_and_pass() {
    let tracks = clean_tracks();
    let (_root, bounce) = bounce_offline(&tracks);
    assert_no_problems("bounce", &verify_bounce(&bounce, &tracks, 0, "clap"));
    assert!(
        bounce.captures.iter().all(|c| c.process_mode == "offline"),
        "{:?}",
        bounce.captures
    );
    let report = check(&bounce.path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.verdict, "pass", "{}", summary(&report));
    assert!(report.has("sum_matches_mix"), "{}", summary(&report));
}

/// The plugin runs with flush-to-zero on (nice-plug's `unsafe_flush_denormals`, so silence
/// never drives the loudness filters into denormals): that may touch arithmetic only. Denormal
/// input must still pass through and be captured bit for bit by the built plugin in a real
/// CLAP wrapper.
#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn denormal_input_passes_and_is_captured_bit_exactly_with_flush_to_zero() {
    let tracks = tracks(
        |_, audio| {
            let mut audio = audio.clone();
            for (c, ch) in audio.iter_mut().enumerate() {
                // The last half second: every denormal magnitude, both signs, and -0.0.
                let tail = ch.len() - RATE as usize / 2;
                for (i, x) in ch[tail..].iter_mut().enumerate() {
                    let bits = (1 + i as u32 * 331 + c as u32) & 0x007f_ffff;
                    *x = match i % 3 {
                        0 => f32::from_bits(bits),
                        1 => -f32::from_bits(bits),
                        _ => -0.0,
                    };
                }
            }
            audio
        },
        |m| m,
    );
    let (_root, bounce) = bounce_offline(&tracks);
    assert_no_problems("bounce", &verify_bounce(&bounce, &tracks, 0, "clap"));
}

#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn second_bounce_right_after_the_first_gets_its_own_complete_folder() {
    let tracks = clean_tracks();
    let (_guard, root) = capture_dir();
    let out = run_in_process(&bundle(), &tracks, RenderMode::Offline, 2, &offline_plan)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), 2);
    let new = finished_bounces(root.path(), 2);
    let ids: Vec<&str> = new
        .iter()
        .map(|b| b.captures[0].bounce_id.as_str())
        .collect();
    assert_ne!(ids[0], ids[1], "two bounces share a bounce id");
    for bounce in &new {
        assert_no_problems(
            &format!("bounce {}", bounce.path.display()),
            &verify_bounce(bounce, &tracks, 0, "clap"),
        );
        let report = check(&bounce.path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            report.verdict,
            "pass",
            "{}: {}",
            bounce.path.display(),
            summary(&report)
        );
    }
}

#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn realtime_mode_running_faster_than_real_time_loses_nothing() {
    let tracks = clean_tracks();
    let (_guard, root) = capture_dir();
    // A host that plays the bounce in real-time mode but faster than real time (Ardour's
    // bounce, an export pass a host does not flag offline): fixed callbacks, 8x speed.
    let plan = |_i: usize, _b: usize| RenderPlan::realtime(RATE, 8.0);
    let out = run_in_process(&bundle(), &tracks, RenderMode::Realtime, 1, &plan)
        .unwrap_or_else(|e| panic!("{e}"));
    let wall = out[0].iter().map(|r| r.wall_time).max().unwrap_or_default();
    assert!(
        wall < Duration::from_secs_f32(SECONDS),
        "the pass took {wall:?}, not faster than real time"
    );
    let bounce = finished_bounces(root.path(), 1).remove(0);
    assert_no_problems("bounce", &verify_bounce(&bounce, &tracks, 0, "clap"));
    assert!(
        bounce.captures.iter().all(|c| c.process_mode == "realtime"),
        "{:?}",
        bounce.captures
    );
    let report = check(&bounce.path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.verdict, "pass", "{}", summary(&report));
}

/// Ordinary playback while mixing (real-time mode at 1x, nothing armed) is not a bounce: no
/// instance writes anything, not even a bounce folder (issue 19 item 3).
#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn realtime_playback_at_1x_is_not_kept() {
    let tracks = clean_tracks();
    let (_guard, root) = capture_dir();
    let plan = |_i: usize, _b: usize| RenderPlan::realtime(RATE, 1.0);
    let out = run_in_process(&bundle(), &tracks, RenderMode::Realtime, 1, &plan)
        .unwrap_or_else(|e| panic!("{e}"));
    let wall = out[0].iter().map(|r| r.wall_time).max().unwrap_or_default();
    assert!(
        wall >= Duration::from_secs_f32(SECONDS * 0.95),
        "the pass took {wall:?}: not real time"
    );
    // Every writer has finished (deactivate joins them): whatever is there now stays.
    let bounces = host_tests::captures::bounces(root.path()).unwrap_or_default();
    assert!(
        bounces.is_empty(),
        "playback was kept: {:?}",
        bounces.iter().map(|b| &b.path).collect::<Vec<_>>()
    );
    let folders: Vec<_> = std::fs::read_dir(root.path())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(folders.is_empty(), "{folders:?}");
}

/// The same playback with "Arm playback capture" on the mix instance only: every instance
/// keeps it, bit-exact, in one bounce (the arm reaches the stems through the capture root).
#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn realtime_playback_armed_on_the_mix_is_kept_by_every_instance() {
    let tracks = clean_tracks();
    let (_guard, root) = capture_dir();
    let plan = |_i: usize, _b: usize| RenderPlan::realtime(RATE, 1.0);
    run_in_process_with(
        &bundle(),
        &tracks,
        RenderMode::Realtime,
        1,
        &plan,
        &arm_on_mix,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let bounce = finished_bounces(root.path(), 1).remove(0);
    assert_no_problems("bounce", &verify_bounce(&bounce, &tracks, 0, "clap"));
}

#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn instances_in_separate_processes_meet_in_one_bounce_folder() {
    let tracks = clean_tracks();
    let work = tempfile::tempdir().expect("temp dir");
    let root = work.path().join("captures");
    let bundle_path = paths::clap_bundle().unwrap_or_else(|e| panic!("{e}"));
    let outputs = run_in_processes(
        Path::new(env!("CARGO_BIN_EXE_clap-instance")),
        &bundle_path,
        &tracks,
        true,
        work.path(),
        &root,
        RATE,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let outs: Vec<&Planar> = outputs.iter().collect();
    assert_no_problems("pass-through", &verify_passthrough(&tracks, &outs));
    let all = wait_finished(&root, FINISH_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        all.len(),
        1,
        "the processes did not meet in one bounce: {:?}",
        all.iter().map(|b| b.labels()).collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<&str> = all[0]
        .captures
        .iter()
        .map(|c| c.instance_id.as_str())
        .collect();
    assert_eq!(
        ids.len(),
        tracks.len(),
        "instance ids must differ across processes"
    );
    assert_no_problems("bounce", &verify_bounce(&all[0], &tracks, 0, "clap"));
    let report = check(&all[0].path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.verdict, "pass", "{}", summary(&report));
}

/// A stem delivered late: the Bass instance hears the bass 480 samples (10 ms) later than the mix
/// does (a latency the render did not compensate).
const OFFSET_SAMPLES: usize = 480;

#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn a_stem_offset_is_named_start_offset() {
    let tracks = tracks(
        |name, a| {
            if name == "Bass" {
                delayed(a, OFFSET_SAMPLES)
            } else {
                a.clone()
            }
        },
        |m| m,
    );
    let (_root, bounce) = bounce_offline(&tracks);
    assert_no_problems("bounce", &verify_bounce(&bounce, &tracks, 0, "clap"));
    let report = check(&bounce.path).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.has("start_offset"), "{}", summary(&report));
    assert_ne!(report.verdict, "pass", "{}", summary(&report));
}

#[test]
#[ignore = "needs the built bundle: tests/run-host-tests.sh"]
fn a_compressor_on_the_mix_path_is_named_missing_bus_processing() {
    let tracks = tracks(
        |_, a| a.clone(),
        |m| compress(&m, RATE, Compressor::default()),
    );
    let (_root, bounce) = bounce_offline(&tracks);
    assert_no_problems("bounce", &verify_bounce(&bounce, &tracks, 0, "clap"));
    let report = check(&bounce.path).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.has("missing_bus_processing"), "{}", summary(&report));
    assert_ne!(report.verdict, "pass", "{}", summary(&report));
}

/// The same three sets written straight to disk (no plugin, no host): what the analyzer says
/// about the audio itself. A host test can only pass where this does.
#[test]
#[ignore = "needs the built CLI: tests/run-host-tests.sh"]
fn control_the_analyzer_names_the_faults_in_the_raw_audio() {
    let cases: [(&str, Vec<Track>, &str); 3] = [
        ("clean", clean_tracks(), "sum_matches_mix"),
        (
            "offset",
            tracks(
                |n, a| {
                    if n == "Bass" {
                        delayed(a, OFFSET_SAMPLES)
                    } else {
                        a.clone()
                    }
                },
                |m| m,
            ),
            "start_offset",
        ),
        (
            "compressed",
            tracks(
                |_, a| a.clone(),
                |m| compress(&m, RATE, Compressor::default()),
            ),
            "missing_bus_processing",
        ),
    ];
    for (name, tracks, code) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        for t in &tracks {
            let file = if t.role == Role::Mix {
                "Song_Mix.wav".to_string()
            } else {
                format!("Song_{}.wav", t.name.replace(' ', "_"))
            };
            scenario::write_wav(&dir.path().join(file), &t.input, RATE)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let report = check(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert!(report.has(code), "{name}: {}", summary(&report));
        assert_eq!(
            report.verdict == "pass",
            name == "clean",
            "{name}: {}",
            summary(&report)
        );
    }
}
