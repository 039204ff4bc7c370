//! Fault scenarios for the plugin and its capture (issue 7): a capture folder that is missing,
//! read-only or fills up mid-bounce, the host killed mid-bounce, NaN / infinity / denormals in
//! the input, a host that misuses the plugin API, and hostile labels.
//!
//! Every scenario drives the plugin as a host would (in process through [`crate::plugin_driver`],
//! or the built `.clap` in a child process for the kill), then checks what must hold: the audio
//! passes bit for bit, every frame the plugin received is in its capture (or the capture says
//! exactly where and why it stopped), the editor's status and the sidecar name the failure, and
//! nothing panics. Each returns a [`Tally`]; [`run`] adds the panics seen on any thread. The
//! tests in `tests/faults.rs` require zero lost samples, zero panics and zero problems; the
//! `fault-table` binary prints the same runs as the table in BENCHMARKS.md.
//!
//! Disk faults use small tmpfs mounts (`mount -t tmpfs`), so these scenarios need root (CI
//! runs as root); without it they report the failed mount as a problem rather than pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use analyzer_core::analyze::{Options, check_paths};
use analyzer_core::capture::{self, BounceInfo, CaptureState, DiscontinuityAction};
use analyzer_core::report::FindingCode;
use nice_plug::prelude::{Plugin, ProcessMode};

use crate::captures::read_wav;
use crate::plugin_driver::Driven;
use crate::signals::Planar;

const RATE: u32 = 48_000;

/// What one scenario found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    /// Faults injected (calls, files, instances... as the scenario says).
    pub tried: u64,
    /// Samples (frames x channels for captures) the plugin received but did not pass through
    /// untouched or did not keep where the capture claims to hold them.
    pub samples_lost: u64,
    /// Everything else that did not hold, one sentence each.
    pub problems: Vec<String>,
    /// What happened, for the table.
    pub note: String,
}

impl Tally {
    fn check(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(problem());
        }
    }
}

/// One scenario's outcome: its tally plus the panics seen while it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub scenario: &'static str,
    pub tally: Tally,
    /// Panics on any thread of this process while the scenario ran (the writer and reconciler
    /// threads included), plus one if the scenario itself panicked.
    pub panics: u64,
}

impl Outcome {
    pub fn is_clean(&self) -> bool {
        self.panics == 0 && self.tally.samples_lost == 0 && self.tally.problems.is_empty()
    }
}

static PANICS: AtomicU64 = AtomicU64::new(0);

/// Counts every panic in the process (then prints it as usual).
fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// Runs `scenario` in a fresh work folder and counts the panics it causes. Panics in parallel
/// tests of the same process would be counted too; every test requires zero anyway.
pub fn run(scenario: &'static str, body: ScenarioFn) -> Outcome {
    count_panics();
    let before = PANICS.load(Ordering::SeqCst);
    let work = tempfile::Builder::new()
        .prefix("stemcheck-faults-")
        .tempdir()
        .expect("temp dir");
    let result = std::panic::catch_unwind(|| body(work.path()));
    let tally = result.unwrap_or_else(|e| Tally {
        problems: vec![format!(
            "panicked: {}",
            e.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| e.downcast_ref::<&str>().copied())
                .unwrap_or("?")
        )],
        ..Tally::default()
    });
    Outcome {
        scenario,
        tally,
        panics: PANICS.load(Ordering::SeqCst) - before,
    }
}

/// A scenario: it runs in the given work folder and tallies what it found.
pub type ScenarioFn = fn(&Path) -> Tally;

/// The in-process scenarios, in table order.
pub const SCENARIOS: &[(&str, ScenarioFn)] = &[
    ("capture folder missing", folder_missing),
    ("capture folder read-only", folder_read_only),
    ("disk full mid-bounce", disk_full),
    ("NaN / inf / denormal input", non_finite_input),
    ("process() with 0 frames", zero_frame_blocks),
    ("blocks longer than announced", oversized_blocks),
    ("sample-rate change between activations", rate_changes),
    ("reset() at any time", resets),
    ("transport jumps backwards", backward_jumps),
    ("two instances with the same label", same_labels),
    ("concurrent bounces, two projects", two_projects),
    ("hostile labels", hostile_labels),
];

// ---- helpers ----

/// Deterministic stereo test audio (noise plus a sine, a different one per seed).
pub fn audio(seed: u64, frames: usize) -> Planar {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..2)
        .map(|c| {
            (0..frames)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                    0.05 * noise + 0.2 * (i as f32 * 0.013 * (c + 1) as f32).sin()
                })
                .collect()
        })
        .collect()
}

/// Samples of `want` that `got` does not hold bit for bit at the same index (missing ones
/// included), over all channels.
pub fn samples_differing(got: &Planar, want: &Planar) -> u64 {
    want.iter()
        .enumerate()
        .map(|(c, w)| {
            let g = got.get(c).map_or(&[][..], Vec::as_slice);
            w.iter()
                .enumerate()
                .filter(|(i, x)| g.get(*i).is_none_or(|y| y.to_bits() != x.to_bits()))
                .count() as u64
        })
        .sum()
}

/// The first `frames` frames of `audio`.
fn prefix(audio: &Planar, frames: usize) -> Planar {
    audio
        .iter()
        .map(|c| c[..frames.min(c.len())].to_vec())
        .collect()
}

/// Bounce folders under `root`, oldest first.
fn bounces(root: &Path) -> Vec<BounceInfo> {
    let mut b = capture::list_bounces(root);
    b.reverse();
    b
}

/// Checks that `root` holds exactly one capture per input (matched by label), complete,
/// nothing dropped, bit-exact; returns the samples lost.
fn verify_captures(t: &mut Tally, bounce: &BounceInfo, inputs: &[(&str, &Planar)]) {
    t.check(bounce.captures.len() == inputs.len(), || {
        format!(
            "{}: {} captures for {} instances",
            bounce.bounce_id,
            bounce.captures.len(),
            inputs.len()
        )
    });
    let mut used = vec![false; bounce.captures.len()];
    for (label, input) in inputs {
        let want_samples = input.iter().map(Vec::len).sum::<usize>() as u64;
        // Same labels repeat: take the first unused capture of that label holding this input.
        let found = bounce.captures.iter().enumerate().find(|(i, c)| {
            !used[*i]
                && c.sidecar.label == *label
                && read_wav(&c.wav_path).is_ok_and(|a| samples_differing(&a, input) == 0)
        });
        match found {
            Some((i, c)) => {
                used[i] = true;
                let s = &c.sidecar;
                t.check(
                    s.state == CaptureState::Complete && s.dropped_frames == 0,
                    || format!("{label}: state {:?}, {} dropped", s.state, s.dropped_frames),
                );
                t.check(s.length_frames == input[0].len() as u64, || {
                    format!("{label}: sidecar says {} frames", s.length_frames)
                });
            }
            None => {
                t.samples_lost += want_samples;
                t.problems.push(format!(
                    "{label}: no bit-exact capture in {}",
                    bounce.bounce_id
                ));
            }
        }
    }
}

/// Every path under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

/// The finding codes `stemcheck check` gives the folder (in process: the same library).
fn finding_codes(folder: &Path) -> Result<Vec<FindingCode>, String> {
    let options = Options {
        threads: 2,
        ..Options::default()
    };
    check_paths(&[folder.to_path_buf()], &options)
        .map(|r| r.findings.iter().map(|f| f.code).collect())
        .map_err(|e| e.to_string())
}

/// A small tmpfs, unmounted (lazily) when dropped.
pub struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs with `options` (e.g. `size=512k` or `ro`) on `path` (created).
    ///
    /// # Errors
    /// When the mount fails (not root, no `mount`), naming the command.
    pub fn mount(path: &Path, options: &str) -> Result<Self, String> {
        std::fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "stemcheck-faults"])
            .arg(path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs -o {options} {} failed (needs root): {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self {
            path: path.to_owned(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// One offline (or real-time) bounce of `input` by a new instance labelled `label` into `root`,
/// blocks of 4096; returns the instance (deactivated) for its status.
fn bounce_one(root: &Path, label: &str, input: &Planar, mode: ProcessMode) -> Driven {
    let mut d = Driven::new(Some(label));
    d.activate(root, RATE, 4096, mode);
    let mut audio = input.clone();
    d.play(&mut audio, &[4096], 0, |_, _| {});
    d.deactivate();
    d
}

// ---- scenarios ----

/// A capture root that does not exist yet (created), one under a file (cannot be created), and
/// one deleted mid-bounce (re-created by the next bounce).
fn folder_missing(work: &Path) -> Tally {
    let mut t = Tally::default();
    let input = audio(1, 30_000);

    t.tried += 1;
    let root = work.join("not/there/yet");
    let d = bounce_one(&root, "Drums", &input, ProcessMode::Offline);
    t.samples_lost += d.altered_samples;
    match bounces(&root).first() {
        Some(b) => verify_captures(&mut t, b, &[("Drums", &input)]),
        None => t.problems.push("missing root: no bounce created".into()),
    }

    t.tried += 1;
    let file = work.join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let root = file.join("captures");
    let d = bounce_one(&root, "Drums", &input, ProcessMode::Realtime);
    t.samples_lost += d.altered_samples;
    let err = d.editor_error().unwrap_or_default();
    t.check(err.contains("a-file"), || {
        format!("root under a file: editor shows {err:?}")
    });

    // Deleted while recording: the final sidecar cannot be written; the editor says so and
    // the next bounce creates the folder again.
    t.tried += 1;
    let root = work.join("deleted");
    let mut d = Driven::new(Some("Bass"));
    d.activate(&root, RATE, 512, ProcessMode::Realtime);
    let mut a = input.clone();
    d.play(&mut a, &[512], 0, |d, k| {
        if k == 20 {
            // Let the writer create the capture, then pull the folder away.
            std::thread::sleep(Duration::from_millis(100));
            let _ = std::fs::remove_dir_all(&root);
        }
        let _ = d;
    });
    d.deactivate();
    t.samples_lost += d.altered_samples;
    let err = d.editor_error().unwrap_or_default();
    t.check(err.contains("deleted"), || {
        format!("root deleted mid-bounce: editor shows {err:?}")
    });
    let d2 = bounce_one(&root, "Bass", &input, ProcessMode::Offline);
    t.samples_lost += d2.altered_samples;
    match bounces(&root).first() {
        Some(b) => verify_captures(&mut t, b, &[("Bass", &input)]),
        None => t
            .problems
            .push("after deletion: the next bounce made no capture".into()),
    }
    t.note =
        "created when missing; otherwise audio untouched and the editor names the folder".into();
    t
}

/// A read-only file system as the capture root, and a missing root inside one.
fn folder_read_only(work: &Path) -> Tally {
    let mut t = Tally::default();
    let ro = work.join("ro");
    let _mount = match Tmpfs::mount(&ro, "ro,size=64k") {
        Ok(m) => m,
        Err(e) => {
            t.problems.push(e);
            return t;
        }
    };
    let input = audio(2, 20_000);
    for (mode, root) in [
        (ProcessMode::Offline, ro.clone()),
        (ProcessMode::Realtime, ro.join("captures")),
    ] {
        t.tried += 1;
        let d = bounce_one(&root, "Keys", &input, mode);
        t.samples_lost += d.altered_samples;
        let err = d.editor_error().unwrap_or_default();
        t.check(err.contains("Read-only file system"), || {
            format!("{}: editor shows {err:?}", root.display())
        });
        t.check(
            !d.plugin.shared().capture.recording.load(Ordering::Relaxed),
            || "still says recording".into(),
        );
    }
    t.check(walk(&ro).is_empty(), || {
        format!("files appeared on the read-only mount: {:?}", walk(&ro))
    });
    t.note =
        "audio untouched, editor shows \"Read-only file system\" (no sidecar can be written there)"
            .into();
    t
}

/// The disk fills up mid-bounce (a 512 KiB tmpfs, a 2.5 s stereo bounce of 1 MiB), offline and
/// real-time; then space is freed and the next bounce is complete again.
fn disk_full(work: &Path) -> Tally {
    let mut t = Tally::default();
    let mnt = work.join("small");
    let _mount = match Tmpfs::mount(&mnt, "size=512k") {
        Ok(m) => m,
        Err(e) => {
            t.problems.push(e);
            return t;
        }
    };
    let input = audio(3, 120_000);
    let mut kept = Vec::new();
    for mode in [ProcessMode::Offline, ProcessMode::Realtime] {
        t.tried += 1;
        let root = mnt.join("captures");
        let d = bounce_one(&root, "Vox", &input, mode);
        t.samples_lost += d.altered_samples;
        let err = d.editor_error().unwrap_or_default();
        t.check(err.contains("No space left"), || {
            format!("{mode:?}: editor shows {err:?}")
        });
        t.check(
            d.plugin
                .shared()
                .capture
                .dropped_frames
                .load(Ordering::Relaxed)
                == 0,
            || format!("{mode:?}: the audio thread dropped frames"),
        );
        let all = bounces(&root);
        let Some(c) = all.first().and_then(|b| b.captures.first()) else {
            t.problems
                .push(format!("{mode:?}: no capture sidecar at all"));
            continue;
        };
        let s = &c.sidecar;
        t.check(s.state == CaptureState::Aborted, || {
            format!("{mode:?}: sidecar state {:?}", s.state)
        });
        let said = s.error.clone().unwrap_or_default();
        t.check(said.contains("No space left"), || {
            format!("{mode:?}: sidecar error {said:?}")
        });
        match read_wav(&c.wav_path) {
            Ok(got) => {
                let frames = got[0].len();
                t.check(frames as u64 == s.length_frames, || {
                    format!(
                        "{mode:?}: WAV holds {frames} frames, sidecar says {}",
                        s.length_frames
                    )
                });
                t.check(frames > 0, || format!("{mode:?}: nothing kept"));
                t.samples_lost += samples_differing(&got, &prefix(&input, frames));
                kept.push(frames);
            }
            Err(e) => t
                .problems
                .push(format!("{mode:?}: capture unreadable: {e}")),
        }
        match finding_codes(&all[0].path) {
            Ok(codes) => t.check(codes.contains(&FindingCode::IncompleteCapture), || {
                format!("{mode:?}: check gives {codes:?}, no incomplete_capture")
            }),
            Err(e) => t.problems.push(format!("{mode:?}: check failed: {e}")),
        }
        let _ = std::fs::remove_dir_all(&root);
    }
    t.tried += 1;
    let root = mnt.join("captures");
    let short = prefix(&input, 40_000);
    let d = bounce_one(&root, "Vox", &short, ProcessMode::Offline);
    t.samples_lost += d.altered_samples;
    match bounces(&root).first() {
        Some(b) => verify_captures(&mut t, b, &[("Vox", &short)]),
        None => t.problems.push("after freeing space: no capture".into()),
    }
    t.note = format!(
        "aborted at {kept:?} of {} frames, bit-exact prefix, sidecar `aborted` + reason, incomplete_capture; next bounce complete",
        input[0].len()
    );
    t
}

/// NaN (several payloads), infinities, denormals and negative zero through the plugin.
fn non_finite_input(work: &Path) -> Tally {
    let mut t = Tally::default();
    let mut input = audio(4, 48_000);
    let specials = [
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_1234),
        f32::from_bits(0x7f80_0001), // signalling NaN
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(1), // smallest denormal
        f32::from_bits(0x007f_ffff),
        -1e-40,
        -0.0,
    ];
    let mut non_finite = 0u64;
    for (k, &x) in specials.iter().enumerate() {
        for (c, ch) in input.iter_mut().enumerate() {
            // Spread over the file, each value in a run of 10 (a filter state would catch it).
            for i in 0..10 {
                ch[1_000 + k * 4_000 + c * 50 + i] = x;
                non_finite += u64::from(!x.is_finite());
            }
        }
    }
    // A whole block of NaN too.
    for ch in input.iter_mut() {
        for x in &mut ch[44_000..44_512] {
            *x = f32::NAN;
            non_finite += 1;
        }
    }
    t.tried = specials.len() as u64 * 20 + 1024;
    let root = work.join("captures");
    let mut d = Driven::new(Some("Synth"));
    d.activate(&root, RATE, 512, ProcessMode::Offline);
    let mut a = input.clone();
    let meters = d.plugin.shared().clone();
    let mut worst = Vec::new();
    d.play(&mut a, &[512], 0, |_, _| {
        let r = stemcheck_plugin::editor::meter_reading::take_reading(&meters.meters);
        for v in [r.sample_peak_dbfs, r.true_peak_dbtp] {
            if !(v.is_finite() || v == f32::NEG_INFINITY) {
                worst.push(v);
            }
        }
        for v in [r.momentary_lufs, r.short_term_lufs] {
            if v.is_nan() || v == f32::INFINITY {
                worst.push(v);
            }
        }
    });
    t.check(worst.is_empty(), || {
        format!("meters went non-finite: {:?}", &worst[..worst.len().min(5)])
    });
    // Clean audio after the specials: the loudness meters recover (no NaN stuck in filters).
    let mut clean = audio(5, 24_000);
    let mut k = 0;
    while k < 24_000 {
        let n = 512.min(24_000 - k);
        d.block(&mut clean, k, n, true, Some(48_000 + k as i64));
        k += n;
    }
    let r = stemcheck_plugin::editor::meter_reading::take_reading(&d.plugin.shared().meters);
    t.check(
        r.momentary_lufs.is_finite() && r.true_peak_dbtp.is_finite(),
        || format!("meters did not recover on clean audio: {r:?}"),
    );
    t.check(r.non_finite_samples == non_finite, || {
        format!(
            "meter counted {} non-finite samples, {non_finite} were fed",
            r.non_finite_samples
        )
    });
    d.deactivate();
    t.samples_lost += d.altered_samples;
    let mut whole = input.clone();
    for (w, c) in whole.iter_mut().zip(&clean) {
        w.extend_from_slice(c);
    }
    match bounces(&root).first() {
        Some(b) => {
            verify_captures(&mut t, b, &[("Synth", &whole)]);
            match finding_codes(&b.path) {
                Ok(codes) => t.check(codes.contains(&FindingCode::NonFiniteSamples), || {
                    format!("check gives {codes:?}, no non_finite_samples")
                }),
                Err(e) => t.problems.push(format!("check failed: {e}")),
            }
        }
        None => t.problems.push("no capture".into()),
    }
    t.note =
        "meters finite, capture bit-exact (NaN payloads kept), non_finite_samples raised".into();
    t
}

/// Zero-frame `process()` calls before, between and after the blocks of a bounce, playing and
/// stopped.
fn zero_frame_blocks(work: &Path) -> Tally {
    let mut t = Tally::default();
    let root = work.join("captures");
    let input = audio(6, 20_000);
    let mut d = Driven::new(Some("Zero"));
    d.activate(&root, RATE, 1024, ProcessMode::Realtime);
    let mut empty: Planar = vec![Vec::new(), Vec::new()];
    d.block(&mut empty, 0, 0, false, Some(0));
    d.block(&mut empty, 0, 0, true, Some(0));
    t.tried += 2;
    let mut a = input.clone();
    let mut zeros = 0;
    d.play(&mut a, &[1000, 24], 0, |d, k| {
        // Same position as the block that follows, and a stale one.
        d.block(
            &mut vec![Vec::new(), Vec::new()],
            0,
            0,
            true,
            Some(k as i64 * 512),
        );
        zeros += 1;
    });
    d.block(&mut empty, 0, 0, true, Some(20_000));
    d.deactivate();
    t.tried += zeros + 1;
    t.samples_lost += d.altered_samples;
    match bounces(&root).as_slice() {
        [b] => verify_captures(&mut t, b, &[("Zero", &input)]),
        other => t
            .problems
            .push(format!("{} bounces instead of 1", other.len())),
    }
    t.note = "ignored; one bit-exact capture".into();
    t
}

/// Blocks up to 273 times longer than the announced maximum, offline and real-time.
fn oversized_blocks(work: &Path) -> Tally {
    let mut t = Tally::default();
    let sizes = [4096, 20_000, 1, 256, 70_000, 3];
    for (i, mode) in [ProcessMode::Offline, ProcessMode::Realtime]
        .into_iter()
        .enumerate()
    {
        let root = work.join(format!("captures-{i}"));
        let input = audio(7 + i as u64, 150_000);
        let mut d = Driven::new(Some("Big"));
        d.activate(&root, RATE, 256, mode);
        let mut a = input.clone();
        d.play(&mut a, &sizes, 0, |_, _| {});
        d.deactivate();
        t.tried += sizes.iter().filter(|&&n| n > 256).count() as u64 * 2;
        t.samples_lost += d.altered_samples;
        match bounces(&root).as_slice() {
            [b] => verify_captures(&mut t, b, &[("Big", &input)]),
            other => t
                .problems
                .push(format!("{mode:?}: {} bounces instead of 1", other.len())),
        }
    }
    t.note = "announced 256, got up to 70000: passed and captured in full".into();
    t
}

/// Three activations at 44.1, 96 and 48 kHz (the last without a deactivation in between).
fn rate_changes(work: &Path) -> Tally {
    let mut t = Tally::default();
    let root = work.join("captures");
    let mut d = Driven::new(Some("Rate"));
    let mut inputs = Vec::new();
    for (i, (rate, deactivate)) in [(44_100u32, true), (96_000, false), (48_000, true)]
        .into_iter()
        .enumerate()
    {
        t.tried += 1;
        d.activate(&root, rate, 512, ProcessMode::Offline);
        let input = audio(20 + i as u64, 10_000 + i * 1_111);
        let mut a = input.clone();
        // A different start each time so each is its own bounce.
        d.play(&mut a, &[512], i as i64 * 1_000_000, |_, _| {});
        if deactivate {
            d.deactivate();
        }
        inputs.push((rate, input));
    }
    t.samples_lost += d.altered_samples;
    let all = bounces(&root);
    t.check(all.len() == 3, || {
        format!("{} bounces instead of 3", all.len())
    });
    for (rate, input) in &inputs {
        match all.iter().find(|b| {
            b.captures
                .first()
                .is_some_and(|c| c.sidecar.sample_rate == *rate)
        }) {
            Some(b) => verify_captures(&mut t, b, &[("Rate", input)]),
            None => {
                t.samples_lost += input.iter().map(Vec::len).sum::<usize>() as u64;
                t.problems.push(format!("no capture at {rate} Hz"));
            }
        }
    }
    t.note = "one capture per activation, each at its own rate".into();
    t
}

/// `reset()` before every block of a bounce, right after activation and before deactivation.
fn resets(work: &Path) -> Tally {
    let mut t = Tally::default();
    let root = work.join("captures");
    let input = audio(30, 25_000);
    for mode in [ProcessMode::Offline, ProcessMode::Realtime] {
        let _ = std::fs::remove_dir_all(&root);
        let mut d = Driven::new(Some("Reset"));
        d.activate(&root, RATE, 700, mode);
        d.plugin.reset();
        let mut a = input.clone();
        let mut n = 1;
        d.play(&mut a, &[700, 13], 0, |d, _| {
            d.plugin.reset();
            n += 1;
        });
        d.plugin.reset();
        d.deactivate();
        t.tried += n + 1;
        t.samples_lost += d.altered_samples;
        match bounces(&root).as_slice() {
            [b] => verify_captures(&mut t, b, &[("Reset", &input)]),
            other => t
                .problems
                .push(format!("{mode:?}: {} bounces instead of 1", other.len())),
        }
    }
    t.note = "capture never cleared: one bit-exact capture each".into();
    t
}

/// The timeline jumps back twice (a loop, a seek back): three bounces, each exact, the first two
/// ending with an `ended_capture` discontinuity.
fn backward_jumps(work: &Path) -> Tally {
    let mut t = Tally::default();
    let root = work.join("captures");
    let mut d = Driven::new(Some("Loop"));
    d.activate(&root, RATE, 512, ProcessMode::Realtime);
    let parts = [
        (48_000i64, audio(40, 30_000)),
        (0, audio(41, 30_000)),
        (24_000, audio(42, 9_000)),
    ];
    for (start, input) in &parts {
        let mut a = input.clone();
        d.play(&mut a, &[512], *start, |_, _| {});
    }
    d.deactivate();
    t.tried = 2;
    t.samples_lost += d.altered_samples;
    let all = bounces(&root);
    t.check(all.len() == 3, || {
        format!("{} bounces instead of 3", all.len())
    });
    for (i, (start, input)) in parts.iter().enumerate() {
        let Some(b) = all.iter().find(|b| {
            b.captures
                .first()
                .is_some_and(|c| c.sidecar.timeline_start_samples == *start)
        }) else {
            t.samples_lost += input.iter().map(Vec::len).sum::<usize>() as u64;
            t.problems.push(format!("no capture starting at {start}"));
            continue;
        };
        verify_captures(&mut t, b, &[("Loop", input)]);
        if i < 2 {
            let ended = b.captures[0]
                .sidecar
                .discontinuities
                .iter()
                .any(|x| x.action == DiscontinuityAction::EndedCapture);
            t.check(ended, || {
                format!("capture at {start}: no ended_capture recorded")
            });
        }
    }
    t.note = "each jump ends the capture (recorded) and starts a new bounce".into();
    t
}

/// Three instances labelled alike in one bounce, on parallel threads.
fn same_labels(work: &Path) -> Tally {
    let root = work.join("captures");
    let inputs: Vec<Planar> = (0..3).map(|i| audio(50 + i, 40_000)).collect();
    let altered: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|input| {
                let root = &root;
                s.spawn(move || {
                    bounce_one(root, "Drums", input, ProcessMode::Offline).altered_samples
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(u64::MAX))
            .sum()
    });
    let mut t = Tally {
        tried: 3,
        samples_lost: altered,
        ..Tally::default()
    };
    match bounces(&root).as_slice() {
        [b] => {
            let refs: Vec<(&str, &Planar)> = inputs.iter().map(|i| ("Drums", i)).collect();
            verify_captures(&mut t, b, &refs);
            let mut names: Vec<_> = b
                .captures
                .iter()
                .map(|c| c.sidecar.wav_file.clone())
                .collect();
            names.sort();
            t.check(names == ["Drums-2.wav", "Drums-3.wav", "Drums.wav"], || {
                format!("files {names:?}")
            });
        }
        other => t
            .problems
            .push(format!("{} bounces instead of 1", other.len())),
    }
    t.note = "Drums.wav, Drums-2.wav, Drums-3.wav in one bounce, each its own input".into();
    t
}

/// Two projects bounce at once into their own capture roots, same labels and timeline start,
/// four instances on parallel threads (offline and real-time mixed).
fn two_projects(work: &Path) -> Tally {
    let roots = [work.join("project-a"), work.join("project-b")];
    let inputs: Vec<Vec<Planar>> = (0..2)
        .map(|p| (0..2).map(|i| audio(60 + p * 10 + i, 60_000)).collect())
        .collect();
    let labels = ["Bass", "Mix"];
    let altered: u64 = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (p, root) in roots.iter().enumerate() {
            for (i, input) in inputs[p].iter().enumerate() {
                let mode = if i == 0 {
                    ProcessMode::Offline
                } else {
                    ProcessMode::Realtime
                };
                handles.push(
                    s.spawn(move || bounce_one(root, labels[i], input, mode).altered_samples),
                );
            }
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(u64::MAX))
            .sum()
    });
    let mut t = Tally {
        tried: 4,
        samples_lost: altered,
        ..Tally::default()
    };
    for (p, root) in roots.iter().enumerate() {
        match bounces(root).as_slice() {
            [b] => verify_captures(
                &mut t,
                b,
                &[(labels[0], &inputs[p][0]), (labels[1], &inputs[p][1])],
            ),
            other => t.problems.push(format!(
                "{}: {} bounces instead of 1",
                root.display(),
                other.len()
            )),
        }
    }
    t.note = "each project's root holds exactly its own two captures".into();
    t
}

/// Labels that try to leave the capture root or break file names, all in one bounce.
fn hostile_labels(work: &Path) -> Tally {
    let sandbox = work.join("sandbox");
    let root = sandbox.join("root");
    let escape = work.join("escaped");
    let long = "x".repeat(10_000);
    let long_dots = "../".repeat(3_000);
    let absolute = escape.join("abs").display().to_string();
    let labels: Vec<String> = vec![
        "../../etc/x".into(),
        "../escaped/y".into(),
        absolute.clone(),
        "/etc/stemcheck-fault-test".into(),
        "C:\\Windows\\x".into(),
        "a/b/c".into(),
        "..".into(),
        ".hidden".into(),
        "ctl\u{0}\u{7}\u{1b}[31m\r\nx".into(),
        "\t\n".into(),
        long,
        long_dots,
        "ünïcödé 🎚".into(),
        "Drums.wav".into(),
        "bounce.json".into(),
    ];
    let input = audio(70, 8_000);
    let altered: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = labels
            .iter()
            .map(|label| {
                let (root, input) = (&root, &input);
                s.spawn(move || {
                    bounce_one(root, label, input, ProcessMode::Offline).altered_samples
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(u64::MAX))
            .sum()
    });
    let mut t = Tally {
        tried: labels.len() as u64,
        samples_lost: altered,
        ..Tally::default()
    };
    let outside: Vec<_> = walk(&sandbox)
        .into_iter()
        .filter(|p| !p.starts_with(&root))
        .collect();
    t.check(outside.is_empty(), || {
        format!("written outside the root: {outside:?}")
    });
    t.check(!escape.exists(), || {
        format!("{} was created", escape.display())
    });
    t.check(!Path::new("/etc/stemcheck-fault-test").exists(), || {
        "/etc/stemcheck-fault-test was created".into()
    });
    match bounces(&root).as_slice() {
        [b] => {
            t.check(b.unreadable.is_empty(), || {
                format!("unreadable sidecars: {:?}", b.unreadable)
            });
            for c in &b.captures {
                let name = &c.sidecar.wav_file;
                t.check(
                    c.wav_path.parent() == Some(b.path.as_path())
                        && name.len() <= capture::MAX_LABEL_LEN + 10
                        && name != "bounce.json",
                    || format!("file name {name:?}"),
                );
            }
            // Each instance's capture, found by its label (trimmed as the plugin does; a label
            // of only whitespace falls back to the instance name).
            let mut want: Vec<(String, &Planar)> = Vec::new();
            for l in &labels {
                let l = l.trim();
                if !l.is_empty() {
                    want.push((l.to_string(), &input));
                }
            }
            let refs: Vec<(&str, &Planar)> = want.iter().map(|(l, i)| (l.as_str(), *i)).collect();
            let fallback = b
                .captures
                .iter()
                .filter(|c| c.sidecar.label.starts_with("instance-"))
                .count();
            t.check(fallback == labels.len() - refs.len(), || {
                format!("{fallback} captures fell back to the instance name")
            });
            let named = BounceInfo {
                bounce_id: b.bounce_id.clone(),
                path: b.path.clone(),
                created_unix_ms: b.created_unix_ms,
                manifest: b.manifest.clone(),
                captures: b
                    .captures
                    .iter()
                    .filter(|c| !c.sidecar.label.starts_with("instance-"))
                    .cloned()
                    .collect(),
                unreadable: Vec::new(),
            };
            verify_captures(&mut t, &named, &refs);
        }
        other => t
            .problems
            .push(format!("{} bounces instead of 1", other.len())),
    }
    t.note =
        "every file inside the root, sanitised names, original label kept in the sidecar".into();
    t
}

// ---- the host killed mid-bounce ----

/// `clap-instance` (the built `.clap` in its own process) plays a 20 s bounce in real time and
/// is killed with SIGKILL once its capture holds half a second. The capture must be readable up
/// to its last flushed block, bit-exact, say `recording` with no live writer (so readers call it
/// incomplete at once), and `stemcheck check` must report `incomplete_capture`.
pub fn host_killed(work: &Path, clap_instance: &Path) -> Tally {
    let mut t = Tally {
        tried: 1,
        ..Tally::default()
    };
    let bundle = match crate::paths::clap_bundle() {
        Ok(b) => b,
        Err(e) => {
            t.problems.push(e.to_string());
            return t;
        }
    };
    let input = audio(80, 20 * RATE as usize);
    let in_path = work.join("in.wav");
    if let Err(e) = crate::scenario::write_wav(&in_path, &input, RATE) {
        t.problems.push(e.to_string());
        return t;
    }
    let root = work.join("captures");
    let args = crate::scenario::ChildArgs {
        bundle,
        track: "Doomed".into(),
        role: crate::scenario::Role::Stem,
        input: in_path,
        output: work.join("out.wav"),
        offline: false,
        seed: 1,
        speed: Some(1.0),
        // Real-time playback at 1x is a bounce only when armed (issue 19): the user armed it.
        arm: true,
    };
    let mut child = match Command::new(clap_instance)
        .args(args.to_args())
        .env("STEMCHECK_CAPTURE_DIR", &root)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            t.problems.push(format!("{}: {e}", clap_instance.display()));
            return t;
        }
    };
    // Wait until the capture on disk holds at least 0.5 s (its header is synced every 250 ms).
    let started = Instant::now();
    let mut flushed = 0;
    while started.elapsed() < Duration::from_secs(15) && flushed < RATE as u64 / 2 {
        std::thread::sleep(Duration::from_millis(20));
        flushed = bounces(&root)
            .first()
            .and_then(|b| b.captures.first())
            .and_then(|c| analyzer_core::wav::WavReader::open(&c.wav_path).ok())
            .map_or(0, |r| r.info().frames);
    }
    // SIGKILL: no destructor, no flush, no final sidecar.
    let _ = child.kill();
    let _ = child.wait();
    let all = bounces(&root);
    let Some(c) = all.first().and_then(|b| b.captures.first()) else {
        t.problems.push("no capture before the kill".into());
        return t;
    };
    let s = &c.sidecar;
    let now = capture::now_unix_ms();
    t.check(s.state == CaptureState::Recording, || {
        format!("state {:?}", s.state)
    });
    t.check(s.writer_gone && s.is_incomplete(now), || {
        "the killed capture does not read as incomplete at once".into()
    });
    let frames = match read_wav(&c.wav_path) {
        Ok(got) => {
            let frames = got[0].len();
            t.check(frames as u64 >= flushed && frames < input[0].len(), || {
                format!("WAV holds {frames} frames (flushed {flushed})")
            });
            t.samples_lost += samples_differing(&got, &prefix(&input, frames));
            frames
        }
        Err(e) => {
            t.problems
                .push(format!("capture unreadable after the kill: {e}"));
            0
        }
    };
    match crate::report::check(&all[0].path) {
        Ok(r) => t.check(r.has("incomplete_capture"), || {
            format!("stemcheck check gives {:?}", r.codes)
        }),
        Err(e) => t.problems.push(e.to_string()),
    }
    t.note = format!(
        "killed after {:.1} s; WAV readable with {frames} of {} frames, bit-exact; `stemcheck check`: incomplete_capture",
        started.elapsed().as_secs_f64(),
        input[0].len()
    );
    t
}
