//! End-to-end tests of `stemcheck fix`: a delivery with one correctable fault is fixed by the
//! shipped binary, `stemcheck check` of the output passes, and where the fault was a pure
//! shift, inversion or swap the fixed stem is the clean original to the last bit. Uncertain or
//! uncorrectable findings refuse, and nothing is written.

// Test code may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use analyzer_core::fix::Audio;
use analyzer_core::synth::{self, SynthStem, WavFormat};

mod common;
use common::{p, stemcheck};

const SR: u32 = 48_000;

fn text(out: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The demo song rendered as a clean delivery (stems + Song_Mix.wav) in `format`.
fn clean_delivery(dir: &Path, seconds: f32, format: WavFormat) -> Vec<SynthStem> {
    let stems = synth::demo_song(SR, seconds);
    let mix = synth::mix_down(&stems, 2);
    synth::write_wav(&dir.join("Song_Mix.wav"), 2, SR, format, &mix).unwrap();
    for s in &stems {
        write_stem(dir, s, &s.samples, SR, format);
    }
    stems
}

fn write_stem(dir: &Path, s: &SynthStem, samples: &[f32], rate: u32, format: WavFormat) {
    let path = dir.join(format!("Song_{}.wav", s.name));
    synth::write_wav(&path, s.channels, rate, format, samples).unwrap();
}

fn stem<'a>(stems: &'a [SynthStem], name: &str) -> &'a SynthStem {
    stems.iter().find(|s| s.name == name).unwrap()
}

/// Raw `data` bytes of a WAV file (what "equal to the last bit" compares).
fn data_bytes(path: &Path) -> Vec<u8> {
    let b = std::fs::read(path).unwrap();
    let mut at = 12;
    while at + 8 <= b.len() {
        let size = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        if &b[at..at + 4] == b"data" {
            return b[at + 8..at + 8 + size].to_vec();
        }
        at += 8 + size + (size & 1);
    }
    panic!("no data chunk in {}", path.display());
}

/// `stemcheck check --json -` of `dir`.
fn check(dir: &Path) -> serde_json::Value {
    let out = stemcheck(&["check", p(dir), "--json", "-"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Checks `dir` (it must show `fault`), fixes it into a fresh folder with the binary, and
/// asserts that the check of the fixed folder passes with its null below `null_below_db`.
/// Returns the fixed folder.
fn fix_and_check(dir: &Path, fault: &str, extra: &[&str], null_below_db: f64) -> tempfile::TempDir {
    let before = check(dir);
    assert!(
        codes(&before).contains(&fault.to_owned()),
        "the delivery shows {fault}: {:?}",
        codes(&before)
    );
    let out_root = tempfile::tempdir().unwrap();
    let out = out_root.path().join("fixed");
    let mut args = vec!["fix", p(dir), "--out", p(&out)];
    args.extend_from_slice(extra);
    let run = stemcheck(&args);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("Written to"), "{stdout}");
    assert!(out.join("stemcheck-fix.json").exists());
    assert!(out.join("stemcheck-fix.txt").exists());
    let after = check(&out);
    assert_eq!(after["verdict"], "pass", "{:#}", after["findings"]);
    let null = after["reconciliation"]["null_depth_db"].as_f64().unwrap();
    assert!(null < null_below_db, "fixed set nulls to {null} dB");
    out_root
}

#[test]
fn a_late_stem_is_shifted_back_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Int24);
    let bass = stem(&stems, "Bass");
    let mut late = vec![0.0f32; 37];
    late.extend_from_slice(&bass.samples);
    write_stem(dir.path(), bass, &late, SR, WavFormat::Int24);
    let clean = tempfile::tempdir().unwrap();
    write_stem(clean.path(), bass, &bass.samples, SR, WavFormat::Int24);

    let fixed = fix_and_check(dir.path(), "start_offset", &[], -100.0);
    let f = fixed.path().join("fixed");
    assert_eq!(
        data_bytes(&f.join("Song_Bass.wav")),
        data_bytes(&clean.path().join("Song_Bass.wav"))
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.join("stemcheck-fix.json")).unwrap())
            .unwrap();
    let bass_log = log["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "Song_Bass.wav")
        .unwrap();
    assert_eq!(bass_log["changes"][0]["change"], "shifted");
    assert_eq!(bass_log["changes"][0]["trimmed_start_frames"], 37);
    assert_eq!(bass_log["format"], "24-bit integer, 48000 Hz, 1 channels");
    // The untouched stems are copied byte for byte; the originals are untouched.
    assert_eq!(
        std::fs::read(f.join("Song_Drums.wav")).unwrap(),
        std::fs::read(dir.path().join("Song_Drums.wav")).unwrap()
    );
    assert_eq!(
        data_bytes(&dir.path().join("Song_Bass.wav")).len(),
        (bass.samples.len() + 37) * 3
    );
}

#[test]
fn an_early_stem_is_padded_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Float32);
    let keys = stem(&stems, "Keys");
    // 100 frames early: the song's first beat comes after 20 000 silent frames.
    let early = keys.samples[200..].to_vec();
    write_stem(dir.path(), keys, &early, SR, WavFormat::Float32);
    let fixed = fix_and_check(dir.path(), "start_offset", &[], -100.0);
    let got = data_bytes(&fixed.path().join("fixed/Song_Keys.wav"));
    let want: Vec<u8> = keys.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    assert_eq!(got, want);
}

#[test]
fn an_inverted_stem_is_flipped_back_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Int24);
    let lead = stem(&stems, "Lead");
    let flipped: Vec<f32> = lead.samples.iter().map(|s| -s).collect();
    write_stem(dir.path(), lead, &flipped, SR, WavFormat::Int24);
    let clean = tempfile::tempdir().unwrap();
    write_stem(clean.path(), lead, &lead.samples, SR, WavFormat::Int24);
    let fixed = fix_and_check(dir.path(), "polarity_inverted", &[], -100.0);
    assert_eq!(
        data_bytes(&fixed.path().join("fixed/Song_Lead.wav")),
        data_bytes(&clean.path().join("Song_Lead.wav"))
    );
}

/// A stereo stem of the demo with its channels swapped or its right channel inverted.
fn swap_or_invert(name: &str, channel_fault: &str, fault: &str) {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Float32);
    let drums = stem(&stems, name);
    let mut bad = drums.samples.clone();
    for f in bad.chunks_exact_mut(2) {
        match channel_fault {
            "swap" => f.swap(0, 1),
            _ => f[1] = -f[1],
        }
    }
    write_stem(dir.path(), drums, &bad, SR, WavFormat::Float32);
    let fixed = fix_and_check(dir.path(), fault, &[], -100.0);
    let got = data_bytes(&fixed.path().join(format!("fixed/Song_{name}.wav")));
    let want: Vec<u8> = drums.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    assert_eq!(got, want);
}

#[test]
fn swapped_channels_are_swapped_back_to_the_bit() {
    swap_or_invert("Keys", "swap", "channels_swapped");
}

#[test]
fn one_inverted_channel_is_flipped_back_to_the_bit() {
    swap_or_invert("Drums", "invert", "channel_polarity_inverted");
}

#[test]
fn a_drifting_stem_is_brought_back_to_the_mix_clock() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 20.0, WavFormat::Float32);
    let keys = stem(&stems, "Keys");
    // Content 100 ppm later and later: the inverse of the correction, by the same resampler.
    let mut a = Audio {
        channels: 2,
        sample_rate: SR,
        samples: keys.samples.clone(),
    };
    a.correct_drift(-100.0, "keys").unwrap();
    write_stem(dir.path(), keys, &a.samples, SR, WavFormat::Float32);
    fix_and_check(dir.path(), "clock_drift", &[], -50.0);
}

#[test]
fn a_stem_at_another_rate_is_resampled_to_the_mix_rate() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Int24);
    let bass = stem(&stems, "Bass");
    let mut a = Audio {
        channels: 1,
        sample_rate: SR,
        samples: bass.samples.clone(),
    };
    a.resample(44_100, "bass").unwrap();
    write_stem(dir.path(), bass, &a.samples, 44_100, WavFormat::Int24);
    let fixed = fix_and_check(dir.path(), "sample_rate_mismatch", &[], -50.0);
    let r = hound::WavReader::open(fixed.path().join("fixed/Song_Bass.wav")).unwrap();
    assert_eq!(r.spec().sample_rate, SR);
    assert_eq!(r.spec().bits_per_sample, 24, "bit depth kept");
}

#[test]
fn a_dc_offset_the_mix_lacks_is_taken_off_the_stem() {
    let dir = tempfile::tempdir().unwrap();
    // Float: the demo's bass peaks near full scale, and a fixed-point file would clip it.
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Float32);
    let bass = stem(&stems, "Bass");
    // -50 dBFS of DC on the bass's path; the mix (its bus DC-filtered) has none.
    let shifted: Vec<f32> = bass.samples.iter().map(|x| x + 0.003).collect();
    write_stem(dir.path(), bass, &shifted, SR, WavFormat::Float32);
    let fixed = fix_and_check(dir.path(), "dc_offset", &[], -50.0);
    let log = std::fs::read_to_string(fixed.path().join("fixed/stemcheck-fix.txt")).unwrap();
    assert!(log.contains("DC offset removed (-50.5 dBFS)"), "{log}");
    // Only the added offset is taken off: the bass comes back as it was, to float precision.
    let mut r = hound::WavReader::open(fixed.path().join("fixed/Song_Bass.wav")).unwrap();
    let back: Vec<f32> = r.samples::<f32>().map(Result::unwrap).collect();
    assert_eq!(back.len(), bass.samples.len());
    let worst = back
        .iter()
        .zip(&bass.samples)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-6, "{worst}");
}

#[test]
fn a_missing_fx_return_refuses_unless_a_residual_stem_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Float32);
    std::fs::remove_file(dir.path().join("Song_FX_Return.wav")).unwrap();
    let out_root = tempfile::tempdir().unwrap();
    let out = out_root.path().join("fixed");
    let run = stemcheck(&["fix", p(dir.path()), "--out", p(&out)]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("--residual-stem"), "{stderr}");
    assert!(!out.exists(), "a refused fix writes nothing");
    assert_eq!(
        std::fs::read_dir(out_root.path()).unwrap().count(),
        0,
        "no temporary folder left behind"
    );

    let fixed = fix_and_check(dir.path(), "missing_fx_return", &["--residual-stem"], -90.0);
    let residual = fixed.path().join("fixed/Song_Residual_FX.wav");
    assert!(residual.exists());
    drop(stems);
}

#[test]
fn bus_compression_is_not_stood_in_for_by_a_residual_stem() {
    let dir = tempfile::tempdir().unwrap();
    let stems = synth::demo_song(SR, 8.0);
    let mut mix = synth::mix_down(&stems, 2);
    // A hard limiter on the mix bus: the stems did not get it.
    let ceiling = mix.iter().fold(0.0f32, |m, s| m.max(s.abs())) * 0.3;
    for s in &mut mix {
        *s = s.clamp(-ceiling, ceiling);
    }
    synth::write_wav(
        &dir.path().join("Song_Mix.wav"),
        2,
        SR,
        WavFormat::Float32,
        &mix,
    )
    .unwrap();
    for s in &stems {
        write_stem(dir.path(), s, &s.samples, SR, WavFormat::Float32);
    }
    let out_root = tempfile::tempdir().unwrap();
    let out = out_root.path().join("fixed");
    let run = stemcheck(&["fix", p(dir.path()), "--out", p(&out), "--residual-stem"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("cannot stand in"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn an_existing_out_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    clean_delivery(dir.path(), 4.0, WavFormat::Float32);
    let out_root = tempfile::tempdir().unwrap();
    let out = out_root.path().join("fixed");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let run = stemcheck(&["fix", p(dir.path()), "--out", p(&out)]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    // Inside the delivery: refused even with --force.
    let inside = dir.path().join("fixed");
    let run = stemcheck(&["fix", p(dir.path()), "--out", p(&inside), "--force"]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(!inside.exists());
    let run = stemcheck(&["fix", p(dir.path()), "--out", p(&out), "--force"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(!out.join("keep.txt").exists());
    assert!(out.join("Song_Mix.wav").exists());
}

#[test]
fn an_inverted_32_bit_integer_stem_is_flipped_back_to_the_bit() {
    // The check's reader holds f32; the fix works on the stored codes, so 32 bits come back.
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Int32);
    let lead = stem(&stems, "Lead");
    let flipped: Vec<f32> = lead.samples.iter().map(|s| -s).collect();
    write_stem(dir.path(), lead, &flipped, SR, WavFormat::Int32);
    let clean = tempfile::tempdir().unwrap();
    write_stem(clean.path(), lead, &lead.samples, SR, WavFormat::Int32);
    let fixed = fix_and_check(dir.path(), "polarity_inverted", &[], -100.0);
    assert_eq!(
        data_bytes(&fixed.path().join("fixed/Song_Lead.wav")),
        data_bytes(&clean.path().join("Song_Lead.wav"))
    );
}

#[test]
fn a_32_bit_integer_stem_at_another_rate_keeps_its_depth() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Int32);
    let bass = stem(&stems, "Bass");
    let mut a = Audio {
        channels: 1,
        sample_rate: SR,
        samples: bass.samples.clone(),
    };
    a.resample(44_100, "bass").unwrap();
    write_stem(dir.path(), bass, &a.samples, 44_100, WavFormat::Int32);
    let fixed = fix_and_check(dir.path(), "sample_rate_mismatch", &[], -50.0);
    let r = hound::WavReader::open(fixed.path().join("fixed/Song_Bass.wav")).unwrap();
    assert_eq!(r.spec().sample_rate, SR);
    assert_eq!(r.spec().bits_per_sample, 32, "bit depth kept");
}

/// An integer WAV file as AIFF (big-endian codes in `SSND`, the same samples).
fn wav_to_aiff(wav: &Path, aiff: &Path) {
    let spec = hound::WavReader::open(wav).unwrap().spec();
    let bytes = usize::from(spec.bits_per_sample / 8);
    let mut data = data_bytes(wav);
    for s in data.chunks_exact_mut(bytes) {
        s.reverse();
    }
    let frames = (data.len() / bytes / usize::from(spec.channels)) as u32;
    let mut comm = Vec::new();
    comm.extend_from_slice(&spec.channels.to_be_bytes());
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&spec.bits_per_sample.to_be_bytes());
    // 48000 Hz as an 80-bit extended.
    comm.extend_from_slice(&[0x40, 0x0E, 0xBB, 0x80, 0, 0, 0, 0, 0, 0]);
    let mut body = b"AIFF".to_vec();
    body.extend_from_slice(b"COMM");
    body.extend_from_slice(&(comm.len() as u32).to_be_bytes());
    body.extend_from_slice(&comm);
    body.extend_from_slice(b"SSND");
    body.extend_from_slice(&(data.len() as u32 + 8).to_be_bytes());
    body.extend_from_slice(&[0; 8]);
    body.extend_from_slice(&data);
    let mut file = b"FORM".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_be_bytes());
    file.extend_from_slice(&body);
    std::fs::write(aiff, file).unwrap();
}

#[test]
fn an_inverted_aiff_stem_stays_aiff_and_comes_back_to_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    let stems = clean_delivery(dir.path(), 8.0, WavFormat::Int24);
    let lead = stem(&stems, "Lead");
    let flipped: Vec<f32> = lead.samples.iter().map(|s| -s).collect();
    write_stem(dir.path(), lead, &flipped, SR, WavFormat::Int24);
    let bad_wav = dir.path().join("Song_Lead.wav");
    wav_to_aiff(&bad_wav, &dir.path().join("Song_Lead.aif"));
    std::fs::remove_file(&bad_wav).unwrap();
    let clean = tempfile::tempdir().unwrap();
    write_stem(clean.path(), lead, &lead.samples, SR, WavFormat::Int24);
    wav_to_aiff(
        &clean.path().join("Song_Lead.wav"),
        &clean.path().join("Song_Lead.aif"),
    );
    let fixed = fix_and_check(dir.path(), "polarity_inverted", &[], -100.0);
    let f = fixed.path().join("fixed");
    assert!(!f.join("Song_Lead.wav").exists());
    assert_eq!(
        std::fs::read(f.join("Song_Lead.aif")).unwrap(),
        std::fs::read(clean.path().join("Song_Lead.aif")).unwrap(),
        "the whole AIFF file, header included"
    );
}
