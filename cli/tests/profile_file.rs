//! Delivery specs as files: `stemcheck profiles` and `check --profile-file`, end to end on
//! deliveries written here.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use analyzer_core::synth::{self, WavFormat};

mod common;
use common::{p, stemcheck};

const SR: u32 = 48_000;

/// Two mono stems (sines) and their mix, 2 s, silent for the first and last `edge_s`.
fn delivery(dir: &Path, edge_s: f32) {
    let n = (2.0 * SR as f32) as usize;
    let edge = (edge_s * SR as f32) as usize;
    let tone = |hz: f32, amp: f32| -> Vec<f32> {
        (0..n)
            .map(|i| {
                if i < edge || i >= n - edge {
                    0.0
                } else {
                    amp * (std::f32::consts::TAU * hz * i as f32 / SR as f32).sin()
                }
            })
            .collect()
    };
    let bass = tone(110.0, 0.2);
    let keys = tone(660.0, 0.15);
    let mix: Vec<f32> = bass.iter().zip(&keys).map(|(a, b)| a + b).collect();
    for (name, s) in [
        ("Song_Bass.wav", &bass),
        ("Song_Keys.wav", &keys),
        ("Song_Mix.wav", &mix),
    ] {
        synth::write_wav(&dir.join(name), 1, SR, WavFormat::Int24, s).unwrap();
    }
}

const BASE: &str = r#"
name = "label-spec"
description = "a label's delivery spec"
stem_peak_max_dbfs = -1.0
true_peak_max_dbtp = -1.0
min_bit_depth = 24
stem_count_range = [2, 12]
gain_tolerance_db = 0.5
null_pass_db = -50.0
dc_offset_max_dbfs = -50.0
silence_below_dbfs = -90.0
"#;

fn write_spec(dir: &Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("spec.toml");
    std::fs::write(&path, format!("{BASE}{extra}\n")).unwrap();
    path
}

fn report(dir: &Path, spec: &Path) -> serde_json::Value {
    let out = stemcheck(&[
        "check",
        p(dir),
        "--mix",
        p(&dir.join("Song_Mix.wav")),
        "--profile-file",
        p(spec),
        "--json",
        "-",
        "--fail-on",
        "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codes(r: &serde_json::Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn profiles_lists_all_nine_with_their_source() {
    let out = stemcheck(&["profiles"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "mastering",
        "sync",
        "collab",
        "stem-mastering",
        "streaming",
        "film-tv",
        "atmos",
        "ebu-r128",
        "atsc-a85",
    ] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name} missing:\n{text}"
        );
    }
    assert_eq!(text.matches("source: ").count(), 9, "{text}");
    assert!(
        text.contains("EBU R128") && text.contains("ATSC A/85:2013"),
        "{text}"
    );
}

#[test]
fn a_spec_file_is_checked_and_named_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), 0.25);
    let spec = write_spec(
        dir.path(),
        "sample_rates_hz = [44100]\nmax_tail_silence_ms = 41.66",
    );
    let r = report(dir.path(), &spec);
    assert_eq!(r["profile"], "label-spec");
    let c = codes(&r);
    assert!(c.contains(&"sample_rate_profile".to_owned()), "{c:?}");
    assert!(c.contains(&"tail_silence".to_owned()), "{c:?}");
    let tail =
        &r["findings"].as_array().unwrap()[c.iter().position(|x| x == "tail_silence").unwrap()];
    let ms = tail["measured"]["silence_ms"].as_f64().unwrap();
    assert!((ms - 250.0).abs() < 1.0, "{ms}");

    // The same delivery meets a spec that asks what it has.
    let spec = write_spec(
        dir.path(),
        "sample_rates_hz = [48000]\nmax_tail_silence_ms = 300.0\nmax_head_silence_ms = 300.0",
    );
    let c = codes(&report(dir.path(), &spec));
    assert!(
        !c.iter()
            .any(|x| ["sample_rate_profile", "tail_silence", "head_silence"].contains(&x.as_str())),
        "{c:?}"
    );
}

#[test]
fn head_silence_and_channels_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), 0.25);
    let spec = write_spec(dir.path(), "max_head_silence_ms = 100.0\nchannels = [2]");
    let c = codes(&report(dir.path(), &spec));
    assert!(c.contains(&"head_silence".to_owned()), "{c:?}");
    assert!(c.contains(&"channel_layout".to_owned()), "{c:?}");
}

fn refused(extra: &str, key: &str) {
    let dir = tempfile::tempdir().unwrap();
    delivery(dir.path(), 0.0);
    let spec = write_spec(dir.path(), extra);
    let out = stemcheck(&["check", p(dir.path()), "--profile-file", p(&spec)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("spec.toml") && err.contains(key), "{err}");
    assert!(out.stdout.is_empty(), "nothing was checked");
}

#[test]
fn a_bad_spec_file_names_the_file_and_the_key_and_exits_2() {
    refused("true_peak_ceiling = -2.0", "true_peak_ceiling");
    refused("max_tail_silence_ms = \"one frame\"", "max_tail_silence_ms");
    refused("fx_stem_required = 1", "fx_stem_required");
    refused("channels = [0]", "channels");
    let dir = tempfile::tempdir().unwrap();
    let out = stemcheck(&[
        "check",
        p(dir.path()),
        "--profile-file",
        p(&dir.path().join("absent.toml")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.toml"));
}

#[test]
fn profile_and_profile_file_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(dir.path(), "");
    let out = stemcheck(&[
        "check",
        p(dir.path()),
        "--profile",
        "sync",
        "--profile-file",
        p(&spec),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn batch_judges_every_delivery_by_a_spec_file() {
    let root = tempfile::tempdir().unwrap();
    let song = root.path().join("song");
    std::fs::create_dir(&song).unwrap();
    delivery(&song, 0.0);
    let spec = write_spec(root.path(), "channels = [2]");
    let out = stemcheck(&[
        "batch",
        p(root.path()),
        "--profile-file",
        p(&spec),
        "--jsonl",
        "-",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["profile"], "label-spec", "{stdout}");
    let codes: Vec<&str> = line["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"channel_layout"), "{codes:?}");
    let both = stemcheck(&[
        "batch",
        p(root.path()),
        "--profile",
        "sync",
        "--profile-file",
        p(&spec),
    ]);
    assert_eq!(both.status.code(), Some(2));
}
