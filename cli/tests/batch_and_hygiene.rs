//! `stemcheck batch` (many deliveries at once) and the command line's hygiene: outputs, errors,
//! help and names, each on folders written here.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use analyzer_core::synth::{self, WavFormat};

const SR: u32 = 48_000;

fn stemcheck_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .output()
        .expect("stemcheck runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A clean float delivery of the demo song (stems + `<song>_Mix.wav`) in `dir`; with
/// `bass_late_samples`, the bass stem is exported that much late (a `start_offset` error).
fn delivery(dir: &Path, song: &str, seconds: f32, bass_late_samples: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let stems = synth::demo_song(SR, seconds);
    let mix = synth::mix_down(&stems, 2);
    let mix_path = dir.join(format!("{song}_Mix.wav"));
    synth::write_wav(&mix_path, 2, SR, WavFormat::Float32, &mix).unwrap();
    for s in &stems {
        let mut samples = s.samples.clone();
        if s.name == "Bass" && bass_late_samples > 0 {
            let n = bass_late_samples * usize::from(s.channels);
            samples.splice(0..0, std::iter::repeat_n(0.0, n));
            samples.truncate(s.samples.len());
        }
        let p = dir.join(format!("{song}_{}.wav", s.name));
        synth::write_wav(&p, s.channels, SR, WavFormat::Float32, &samples).unwrap();
    }
}

fn jsonl(stdout: &[u8]) -> Vec<serde_json::Value> {
    text(stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON per line ({e}): {l}"))
        })
        .collect()
}

fn line_for<'a>(lines: &'a [serde_json::Value], folder: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| l["delivery"].as_str().unwrap().ends_with(folder))
        .unwrap_or_else(|| panic!("no line for {folder}: {lines:?}"))
}

#[test]
fn batch_checks_each_delivery_as_its_own_set() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("intake");
    delivery(&root.join("clean"), "Alpha", 8.0, 0);
    delivery(&root.join("label/late_bass"), "Beta", 4.0, 40);
    // Not deliveries: a folder of documents, macOS debris, a hidden folder.
    std::fs::create_dir_all(root.join("docs/__MACOSX")).unwrap();
    std::fs::write(root.join("docs/notes.txt"), "hello").unwrap();
    std::fs::write(root.join("docs/._Alpha_Mix.wav"), [0u8; 16]).unwrap();
    delivery(&root.join(".trash"), "Gamma", 1.0, 0);

    let out = stemcheck_in(tmp.path(), &["batch", "intake", "--jsonl", "-"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 2, "two deliveries: {lines:?}");
    let clean = line_for(&lines, "clean");
    assert_eq!(clean["schema_version"], 1);
    assert_eq!(clean["verdict"], "pass", "{}", clean["findings"]);
    assert_eq!(clean["files"].as_array().unwrap().len(), 6);
    let late = line_for(&lines, "late_bass");
    assert_eq!(late["verdict"], "fail");
    let codes: Vec<&str> = late["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"start_offset"), "{codes:?}");
    // Each delivery is its own set: no song's stems are duplicates of the other's.
    assert!(!codes.contains(&"duplicate_stem"), "{codes:?}");

    // The table: one row per folder, relative to ROOT, with verdict and health; the exit
    // status follows --fail-on.
    let out = stemcheck_in(tmp.path(), &["batch", "intake", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let row = |folder: &str| {
        table
            .lines()
            .find(|l| l.starts_with(folder))
            .unwrap_or_else(|| panic!("no row {folder}:\n{table}"))
            .to_owned()
    };
    assert!(row("clean").contains("pass"), "{table}");
    assert!(row("clean").contains("100"), "{table}");
    assert!(row("label/late_bass").contains("fail"), "{table}");
    assert!(table.contains("NULL"), "{table}");
    assert!(
        !table.contains("docs") && !table.contains(".trash"),
        "{table}"
    );
}

#[test]
fn batch_reports_a_delivery_that_cannot_be_checked_and_runs_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    delivery(&root.join("good"), "Alpha", 8.0, 0);
    std::fs::create_dir_all(root.join("broken")).unwrap();
    std::fs::write(root.join("broken/Song_Mix.aiff"), b"not audio at all").unwrap();
    let jsonl_path = root.join("out.jsonl");
    let out = stemcheck_in(
        root,
        &["batch", ".", "--jsonl", jsonl_path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let lines = jsonl(&std::fs::read(&jsonl_path).unwrap());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(line_for(&lines, "good")["verdict"], "pass");
    let broken = line_for(&lines, "broken");
    let failed_whole = broken["error"].is_string();
    let every_file_unreadable = broken["files"]
        .as_array()
        .is_some_and(|f| f.iter().all(|f| f["error"].is_string()));
    assert!(failed_whole || every_file_unreadable, "{broken}");
    let table = text(&out.stdout);
    assert!(
        table.contains("good") && table.contains("broken"),
        "{table}"
    );
}

#[test]
fn batch_without_deliveries_is_exit_two() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("readme.txt"), "no audio").unwrap();
    let out = stemcheck_in(tmp.path(), &["batch", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no delivery folder"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_refuses_two_deliveries_and_points_to_batch() {
    let tmp = tempfile::tempdir().unwrap();
    delivery(&tmp.path().join("A"), "Alpha", 2.0, 0);
    delivery(&tmp.path().join("B"), "Beta", 2.0, 0);
    let out = stemcheck_in(tmp.path(), &["check", "A", "B"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("stemcheck batch") && err.contains("--as-one-set"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    // Asked for explicitly, the folders are one set.
    let out = stemcheck_in(
        tmp.path(),
        &["check", "A", "B", "--as-one-set", "--json", "-"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["files"].as_array().unwrap().len(), 12);
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_a_clear_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    delivery(&tmp.path().join("A"), "Alpha", 1.0, 0);
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .args(["check", "A"])
        .current_dir(tmp.path())
        .stdout(full)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot write to standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn dash_means_stdout_for_the_html_report() {
    let tmp = tempfile::tempdir().unwrap();
    delivery(&tmp.path().join("A"), "Alpha", 1.0, 0);
    let out = stemcheck_in(tmp.path(), &["check", "A", "--report", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("<!DOCTYPE html>"));
    assert!(
        !tmp.path().join("-").exists(),
        "a file named '-' was written"
    );
    let out = stemcheck_in(tmp.path(), &["check", "A", "--report", "-", "--json", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unwritable_outputs_fail_before_the_analysis() {
    let tmp = tempfile::tempdir().unwrap();
    delivery(&tmp.path().join("A"), "Alpha", 1.0, 0);
    for flag in ["--json", "--report"] {
        let out = stemcheck_in(tmp.path(), &["check", "A", flag, "no/such/dir/out.x"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("no/such/dir/out.x"), "{err}");
        // Nothing was analysed: no report on stdout.
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    }
    // Checked first: a missing output folder is named even when the input would fail too.
    let out = stemcheck_in(
        tmp.path(),
        &["check", "missing_input", "--json", "no/dir/r.json"],
    );
    assert!(text(&out.stderr).contains("no/dir/r.json"));
    let out = stemcheck_in(tmp.path(), &["batch", ".", "--jsonl", "no/dir/r.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/dir/r.jsonl"));
    assert!(out.stdout.is_empty());
}

#[test]
fn each_cause_of_an_error_is_said_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = stemcheck_in(tmp.path(), &["check", "nope"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.matches("(os error 2)").count(), 1, "{err}");
    delivery(&tmp.path().join("A"), "Alpha", 1.0, 0);
    let out = stemcheck_in(tmp.path(), &["check", "A", "--mix", "nope.wav"]);
    let err = text(&out.stderr);
    assert_eq!(err.matches("mix file not found").count(), 1, "{err}");
    assert!(err.contains("nope.wav"), "{err}");
}

#[test]
fn check_help_names_exit_statuses_and_where_codes_are_listed() {
    let out = stemcheck_in(Path::new("."), &["check", "--help"]);
    let help = text(&out.stdout);
    for needle in [
        "Exit status",
        "0  no finding",
        "1  a finding",
        "2  the check could not run",
        "Finding codes",
        "report-contract.md",
    ] {
        assert!(help.contains(needle), "{needle} missing:\n{help}");
    }
    let out = stemcheck_in(Path::new("."), &["batch", "--help"]);
    let help = text(&out.stdout);
    assert!(help.contains("A delivery folder is"), "{help}");
    assert!(help.contains("Exit status"), "{help}");
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_stay_distinct_in_the_json() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("A");
    delivery(&dir, "Alpha", 1.0, 0);
    // Two copies of a stem whose names differ only in a Latin-1 byte.
    let src = dir.join("Alpha_Bass.wav");
    for name in [&b"Caf\xe9.wav"[..], &b"Caf\xe8.wav"[..]] {
        std::fs::copy(&src, dir.join(OsStr::from_bytes(name))).unwrap();
    }
    let out = stemcheck_in(tmp.path(), &["check", "A", "--json", "-"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    let paths: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"Caf\\xe9.wav"), "{paths:?}");
    assert!(paths.contains(&"Caf\\xe8.wav"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains('\u{fffd}')), "{paths:?}");
}

#[test]
fn profiles_to_a_full_stdout_is_a_clear_error_not_a_panic() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        return; // no /dev/full on this system
    };
    let out = Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .arg("profiles")
        .stdout(full)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
