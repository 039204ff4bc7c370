//! Plugin captures on disk: the layout the StemCheck plugin writes and the analyzer and CLI read.
//!
//! The plugin records each instance's input during a bounce into a capture root
//! (`STEMCHECK_CAPTURE_DIR`, else a per-platform default, see [`default_capture_root`]):
//!
//! ```text
//! <root>/<bounce id>/bounce.json               BounceManifest: which bounce this folder is
//! <root>/<bounce id>/<label>.wav               32-bit float WAV, a bit-exact copy of the input
//! <root>/<bounce id>/<label>.stemcheck.json    CaptureSidecar: role, label, timeline, state...
//! ```
//!
//! Instances of one bounce may live in different processes (plugin sandboxing), so everything a
//! reader needs is in these files, never in process memory. A capture whose host died mid-bounce
//! keeps a valid WAV header up to its last flushed block, and its sidecar still says
//! [`CaptureState::Recording`]; [`CaptureSidecar::is_incomplete`] tells readers to treat it as
//! incomplete.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, SidecarProblem};

/// File name of the per-bounce manifest inside a bounce folder.
pub const BOUNCE_MANIFEST: &str = "bounce.json";
/// Suffix of a capture's sidecar; the WAV beside it has the same stem and `.wav`.
pub const SIDECAR_SUFFIX: &str = ".stemcheck.json";
/// Layout version of [`CaptureSidecar`] and [`BounceManifest`]; bump on a breaking change.
pub const CAPTURE_SCHEMA_VERSION: u32 = 1;
/// Longest label kept in a file name, in bytes (ASCII after sanitising).
pub const MAX_LABEL_LEN: usize = 64;
/// A recording sidecar is rewritten at least this often while its writer is alive; one older
/// than [`STALE_AFTER_MS`] belongs to a writer that died (host crash, kill -9).
pub const STALE_AFTER_MS: u64 = 15_000;
/// Sidecars larger than this are rejected unread: a real one is a few kilobytes.
const MAX_SIDECAR_BYTES: u64 = 4 * 1024 * 1024;

/// What an instance sits on. Mirrors the plugin's `role` parameter (0 = stem, 1 = mix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureRole {
    /// The instance sits on a stem's track (role 0).
    Stem,
    /// The instance sits on the mix (role 1).
    Mix,
}

/// Life cycle of one capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureState {
    /// The writer is (or was, if the host crashed) still appending audio.
    Recording,
    /// The bounce ended normally; the WAV holds every frame the instance received.
    Complete,
    /// The writer gave up (disk full, capture folder unwritable, file size limit).
    Aborted,
}

/// How the host said it was processing when the capture ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessMode {
    /// The host processes in real time at a fixed pace (playback or a real-time bounce): the
    /// writer can fall behind and drop frames.
    Realtime,
    /// The host processes in real time but may run ahead of playback (buffered).
    Buffered,
    /// The host renders offline, possibly faster than real time: no frame is ever dropped.
    Offline,
}

/// What the capture did at a break in the host's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscontinuityAction {
    /// A short forward jump: the gap was filled with silence so the file stays keyed to the
    /// timeline (file frame = timeline position - `timeline_start_samples`).
    PaddedWithSilence,
    /// A backward jump (loop, seek back) or a long forward jump: the capture ended here and a
    /// new one (a new bounce) started at the new position.
    EndedCapture,
    /// Frames lost because the writer could not keep up in real-time mode; the file holds
    /// silence in their place so later audio stays at its timeline position.
    DroppedFrames,
}

/// One break in the timeline the capture saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discontinuity {
    /// Frame index in the WAV where the break happened.
    pub file_frame: u64,
    /// Timeline position the capture expected next, in samples.
    pub expected_position_samples: i64,
    /// Timeline position the host reported, in samples.
    pub position_samples: i64,
    /// Frames involved (silence inserted or frames dropped); 0 for `EndedCapture`.
    pub length_frames: u64,
    /// What the capture did about the break.
    pub action: DiscontinuityAction,
}

/// The sidecar written beside every capture WAV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureSidecar {
    /// Layout version of the sidecar ([`CAPTURE_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Stem or mix, from the instance's `role` parameter.
    pub role: CaptureRole,
    /// The label as the user or host gave it (before sanitising).
    pub label: String,
    /// The WAV's file name inside the bounce folder.
    pub wav_file: String,
    /// Plugin API the host loaded (`clap`, `vst3`, `standalone`).
    pub host: String,
    /// Version of the plugin that wrote the capture.
    pub plugin_version: String,
    /// Random per plugin instance; unique across processes.
    pub instance_id: String,
    /// Name of the bounce folder; the same for every instance of one bounce.
    pub bounce_id: String,
    /// Sample rate of the WAV, Hz.
    pub sample_rate: u32,
    /// Channel count of the WAV.
    pub channels: u16,
    /// Host timeline position of the WAV's first frame, in samples (negative during pre-roll).
    pub timeline_start_samples: i64,
    /// Frames in the WAV (silence for padded and dropped frames included).
    pub length_frames: u64,
    /// Frames the writer could not take in real-time mode (0 in offline mode by construction).
    pub dropped_frames: u64,
    /// Every break in the host's timeline the capture saw, in file order.
    pub discontinuities: Vec<Discontinuity>,
    /// How the host said it was processing.
    pub process_mode: ProcessMode,
    /// Where the capture is in its life cycle.
    pub state: CaptureState,
    /// Why the capture was aborted or what went wrong while writing, for people.
    pub error: Option<String>,
    /// Wall-clock milliseconds since the Unix epoch when the capture started.
    pub started_unix_ms: u64,
    /// Wall-clock milliseconds since the Unix epoch of the last sidecar update.
    pub updated_unix_ms: u64,
    /// Not stored: set by [`read_sidecar`] when the capture says "recording" but no live
    /// writer holds its WAV (see [`writer_gone`]), so a killed host's capture reads as
    /// incomplete at once instead of after [`STALE_AFTER_MS`].
    #[serde(skip)]
    pub writer_gone: bool,
}

impl CaptureSidecar {
    /// True when the capture cannot be trusted as a whole: aborted, frames dropped, or still
    /// "recording" while its writer is gone (no process holds the WAV's lock, or the sidecar
    /// was not updated for [`STALE_AFTER_MS`]: the host crashed or was killed).
    pub fn is_incomplete(&self, now_unix_ms: u64) -> bool {
        match self.state {
            CaptureState::Complete => self.dropped_frames > 0,
            CaptureState::Aborted => true,
            CaptureState::Recording => {
                self.writer_gone
                    || now_unix_ms.saturating_sub(self.updated_unix_ms) > STALE_AFTER_MS
            }
        }
    }

    /// True when the capture is still being written by a live writer.
    pub fn is_in_progress(&self, now_unix_ms: u64) -> bool {
        self.state == CaptureState::Recording && !self.is_incomplete(now_unix_ms)
    }
}

/// Identity of one bounce folder, written once by the first instance that starts the bounce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BounceManifest {
    /// Layout version of the manifest ([`CAPTURE_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Name of the bounce folder.
    pub bounce_id: String,
    /// Timeline position every instance of this bounce started at, in samples.
    pub timeline_start_samples: i64,
    /// Sample rate of the bounce, Hz.
    pub sample_rate: u32,
    /// Wall-clock milliseconds since the Unix epoch when the bounce started.
    pub created_unix_ms: u64,
}

/// One capture found in a bounce folder.
#[derive(Debug, Clone)]
pub struct CaptureEntry {
    /// The capture's sidecar (`<label>.stemcheck.json`).
    pub sidecar_path: PathBuf,
    /// The capture's WAV, as the sidecar names it.
    pub wav_path: PathBuf,
    /// The sidecar's contents.
    pub sidecar: CaptureSidecar,
}

/// One bounce folder as listed by [`list_bounces`].
#[derive(Debug)]
pub struct BounceInfo {
    /// Name of the bounce folder.
    pub bounce_id: String,
    /// The bounce folder.
    pub path: PathBuf,
    /// From the manifest, else the folder's modification time.
    pub created_unix_ms: u64,
    /// The bounce's manifest, when it could be read.
    pub manifest: Option<BounceManifest>,
    /// The captures whose sidecars could be read, by label.
    pub captures: Vec<CaptureEntry>,
    /// Sidecars that could not be read, with the reason.
    pub unreadable: Vec<Error>,
}

impl BounceInfo {
    /// True when every capture finished (complete or aborted) and none is still being written.
    pub fn is_finished(&self, now_unix_ms: u64) -> bool {
        !self.captures.is_empty()
            && self
                .captures
                .iter()
                .all(|c| !c.sidecar.is_in_progress(now_unix_ms))
    }

    /// True when every capture is complete with no frame lost.
    pub fn is_complete(&self, now_unix_ms: u64) -> bool {
        !self.captures.is_empty()
            && self.unreadable.is_empty()
            && self.captures.iter().all(|c| {
                c.sidecar.state == CaptureState::Complete && !c.sidecar.is_incomplete(now_unix_ms)
            })
    }

    /// The mix capture, if the bounce has exactly one.
    pub fn mix(&self) -> Option<&CaptureEntry> {
        let mut mixes = self
            .captures
            .iter()
            .filter(|c| c.sidecar.role == CaptureRole::Mix);
        let first = mixes.next()?;
        mixes.next().is_none().then_some(first)
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Where captures go: `STEMCHECK_CAPTURE_DIR` when set and not empty, else the platform's
/// per-user data folder (`$XDG_DATA_HOME/stemcheck/captures`, `~/.local/share/...` on Linux,
/// `~/Library/Application Support/StemCheck/Captures` on macOS, `%LOCALAPPDATA%\StemCheck\Captures`
/// on Windows). `None` when no such folder can be determined.
pub fn default_capture_root() -> Option<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("STEMCHECK_CAPTURE_DIR") {
        return Some(dir);
    }
    if cfg!(target_os = "windows") {
        return env("LOCALAPPDATA").map(|d| d.join("StemCheck").join("Captures"));
    }
    if cfg!(target_os = "macos") {
        return env("HOME").map(|h| {
            h.join("Library")
                .join("Application Support")
                .join("StemCheck")
                .join("Captures")
        });
    }
    env("XDG_DATA_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|h| h.join(".local").join("share")))
        .map(|d| d.join("stemcheck").join("captures"))
}

/// Turns any label into a safe file-name stem: ASCII letters, digits, `.`, `_` and `-` only
/// (everything else becomes `_`), no leading dot (so no `..` and no hidden files), at most
/// [`MAX_LABEL_LEN`] bytes, never empty. The result can never name a path outside its folder.
pub fn sanitize_label(label: &str) -> String {
    let mut out = String::with_capacity(label.len().min(MAX_LABEL_LEN));
    for c in label.trim().chars() {
        if out.len() >= MAX_LABEL_LEN {
            break;
        }
        let keep = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        out.push(if keep { c } else { '_' });
    }
    // Collapse dot runs so no `..` survives, and never start with a dot.
    let mut cleaned = String::with_capacity(out.len());
    for c in out.chars() {
        if c == '.' && (cleaned.is_empty() || cleaned.ends_with('.')) {
            cleaned.push('_');
        } else {
            cleaned.push(c);
        }
    }
    let cleaned = cleaned.trim_end_matches('.').to_string();
    if cleaned.chars().all(|c| c == '_') {
        "unlabeled".to_string()
    } else {
        cleaned
    }
}

/// The WAV file name for a sanitised label stem.
pub fn wav_file_name(stem: &str) -> String {
    format!("{stem}.wav")
}

/// The sidecar file name for a sanitised label stem.
pub fn sidecar_file_name(stem: &str) -> String {
    format!("{stem}{SIDECAR_SUFFIX}")
}

fn read_small_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut text = String::new();
    file.take(MAX_SIDECAR_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if text.len() as u64 > MAX_SIDECAR_BYTES {
        return Err(Error::Sidecar {
            path: path.to_path_buf(),
            problem: SidecarProblem::TooLarge {
                max_bytes: MAX_SIDECAR_BYTES,
            },
        });
    }
    serde_json::from_str(&text).map_err(|e| Error::Sidecar {
        path: path.to_path_buf(),
        problem: SidecarProblem::Json {
            message: e.to_string(),
        },
    })
}

/// Reads and checks one capture sidecar.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Sidecar`] when it is not a sidecar of a
/// known schema version or its values cannot be true (zero rate or channels, a WAV name that
/// leaves the folder).
pub fn read_sidecar(path: &Path) -> Result<CaptureSidecar> {
    let sidecar: CaptureSidecar = read_small_json(path)?;
    let bad = |problem: SidecarProblem| Error::Sidecar {
        path: path.to_path_buf(),
        problem,
    };
    if sidecar.schema_version != CAPTURE_SCHEMA_VERSION {
        return Err(bad(SidecarProblem::SchemaVersion {
            found: sidecar.schema_version,
            expected: Some(CAPTURE_SCHEMA_VERSION),
        }));
    }
    if sidecar.sample_rate == 0 {
        return Err(bad(SidecarProblem::ZeroSampleRate));
    }
    if sidecar.channels == 0 {
        return Err(bad(SidecarProblem::ZeroChannels));
    }
    // `strip_suffix`, not `trim_end_matches`: a label "Drums.wav" is stored as "Drums.wav.wav".
    let stem = sidecar.wav_file.strip_suffix(".wav").unwrap_or("");
    if sanitize_label(stem) + ".wav" != sidecar.wav_file {
        return Err(bad(SidecarProblem::WavName {
            wav_file: sidecar.wav_file.clone(),
        }));
    }
    let mut sidecar = sidecar;
    if sidecar.state == CaptureState::Recording
        && let Some(folder) = path.parent()
    {
        sidecar.writer_gone = writer_gone(&folder.join(&sidecar.wav_file));
    }
    Ok(sidecar)
}

/// Whether the writer of a capture WAV is known to be gone. While it records, the plugin's
/// writer holds an exclusive advisory lock on the WAV (`flock` through `File::try_lock` on
/// Unix) until its final sidecar is written; the OS releases the lock when the process dies,
/// `kill -9` included. So a free lock on a "recording" capture means its host is gone. `false`
/// when unknown: the WAV is missing, the file system has no locks, or not on Unix (Windows
/// locks are mandatory and would block the writer's own handle, so the plugin does not lock
/// there); then only [`STALE_AFTER_MS`] tells.
pub fn writer_gone(wav: &Path) -> bool {
    #[cfg(unix)]
    {
        let Ok(file) = std::fs::File::open(wav) else {
            return false;
        };
        // The shared lock is dropped with `file` at once: readers never hold it.
        file.try_lock_shared().is_ok()
    }
    #[cfg(not(unix))]
    {
        let _ = wav;
        false
    }
}

/// Reads a bounce folder's manifest.
///
/// # Errors
/// [`Error::Io`] or [`Error::Sidecar`] as for [`read_sidecar`].
pub fn read_manifest(path: &Path) -> Result<BounceManifest> {
    let manifest: BounceManifest = read_small_json(path)?;
    if manifest.schema_version != CAPTURE_SCHEMA_VERSION {
        return Err(Error::Sidecar {
            path: path.to_path_buf(),
            problem: SidecarProblem::SchemaVersion {
                found: manifest.schema_version,
                expected: None,
            },
        });
    }
    Ok(manifest)
}

/// Reads one bounce folder: its manifest and every capture sidecar in it (sorted by label).
///
/// # Errors
/// [`Error::Io`] when the folder cannot be listed. Unreadable sidecars do not fail the call;
/// they are listed in [`BounceInfo::unreadable`].
pub fn read_bounce(folder: &Path) -> Result<BounceInfo> {
    let entries = std::fs::read_dir(folder).map_err(|source| Error::Io {
        path: folder.to_path_buf(),
        source,
    })?;
    let manifest = read_manifest(&folder.join(BOUNCE_MANIFEST)).ok();
    let mut captures = Vec::new();
    let mut unreadable = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(SIDECAR_SUFFIX) {
            continue;
        }
        match read_sidecar(&path) {
            Ok(sidecar) => captures.push(CaptureEntry {
                wav_path: folder.join(&sidecar.wav_file),
                sidecar_path: path,
                sidecar,
            }),
            Err(e) => unreadable.push(e),
        }
    }
    captures.sort_by(|a, b| a.sidecar.label.cmp(&b.sidecar.label));
    let modified_ms = std::fs::metadata(folder)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Ok(BounceInfo {
        bounce_id: folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: folder.to_path_buf(),
        created_unix_ms: manifest
            .as_ref()
            .map(|m| m.created_unix_ms)
            .unwrap_or(modified_ms),
        manifest,
        captures,
        unreadable,
    })
}

/// Every bounce folder under `root`, newest first. Folders without a manifest or any sidecar
/// are skipped; a missing root gives an empty list.
pub fn list_bounces(root: &Path) -> Vec<BounceInfo> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut bounces: Vec<BounceInfo> = entries
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| read_bounce(&e.path()).ok())
        .filter(|b| b.manifest.is_some() || !b.captures.is_empty())
        .collect();
    bounces.sort_by(|a, b| {
        b.created_unix_ms
            .cmp(&a.created_unix_ms)
            .then_with(|| b.bounce_id.cmp(&a.bounce_id))
    });
    bounces
}

/// The newest bounce under `root` whose captures are all complete (what `check --latest` uses).
pub fn latest_complete_bounce(root: &Path) -> Option<BounceInfo> {
    let now = now_unix_ms();
    list_bounces(root).into_iter().find(|b| b.is_complete(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sidecar(state: CaptureState, updated: u64) -> CaptureSidecar {
        CaptureSidecar {
            schema_version: CAPTURE_SCHEMA_VERSION,
            role: CaptureRole::Stem,
            label: "Drums".into(),
            wav_file: "Drums.wav".into(),
            host: "clap".into(),
            plugin_version: "0.1.0".into(),
            instance_id: "abc".into(),
            bounce_id: "b1".into(),
            sample_rate: 48_000,
            channels: 2,
            timeline_start_samples: -1776,
            length_frames: 10,
            dropped_frames: 0,
            discontinuities: vec![],
            process_mode: ProcessMode::Offline,
            state,
            error: None,
            started_unix_ms: 1,
            updated_unix_ms: updated,
            writer_gone: false,
        }
    }

    /// A "recording" capture whose WAV no process holds locked reads as incomplete at once;
    /// while a writer holds the lock it is in progress.
    #[cfg(unix)]
    #[test]
    fn recording_capture_without_a_live_writer_is_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("Drums.wav");
        std::fs::write(&wav, b"RIFF").unwrap();
        let path = dir.path().join(sidecar_file_name("Drums"));
        let now = now_unix_ms();
        let s = sidecar(CaptureState::Recording, now);
        std::fs::write(&path, serde_json::to_vec(&s).unwrap()).unwrap();

        let held = std::fs::File::open(&wav).unwrap();
        held.lock().unwrap();
        let live = read_sidecar(&path).unwrap();
        assert!(!live.writer_gone);
        assert!(live.is_in_progress(now));
        drop(held);
        let dead = read_sidecar(&path).unwrap();
        assert!(dead.writer_gone);
        assert!(dead.is_incomplete(now));
        assert!(!dead.is_in_progress(now));
        // Only "recording" captures are probed; a missing WAV is unknown, not gone.
        std::fs::remove_file(&wav).unwrap();
        assert!(!read_sidecar(&path).unwrap().writer_gone);
    }

    /// A capture labelled "Drums.wav" is written as `Drums.wav.wav`; its sidecar must read.
    #[test]
    fn a_label_ending_in_wav_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let stem = sanitize_label("Drums.wav");
        let mut s = sidecar(CaptureState::Complete, 1);
        s.wav_file = wav_file_name(&stem);
        assert_eq!(s.wav_file, "Drums.wav.wav");
        let path = dir.path().join(sidecar_file_name(&stem));
        std::fs::write(&path, serde_json::to_vec(&s).unwrap()).unwrap();
        assert_eq!(read_sidecar(&path).unwrap().wav_file, "Drums.wav.wav");
    }

    #[test]
    fn sanitize_never_escapes_the_folder() {
        for label in [
            "../../etc/x",
            "/abs/path",
            "..",
            ".",
            "...hidden",
            "a/../../b",
            "C:\\windows\\x",
            "\u{0}\u{7}ctrl\n",
            "",
            "   ",
            "ünïcödé",
        ] {
            let s = sanitize_label(label);
            assert!(!s.is_empty(), "{label:?}");
            assert!(!s.contains('/') && !s.contains('\\'), "{label:?} -> {s}");
            assert!(!s.contains(".."), "{label:?} -> {s}");
            assert!(!s.starts_with('.'), "{label:?} -> {s}");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
                "{label:?} -> {s}"
            );
        }
        assert_eq!(sanitize_label("Drums Bus"), "Drums_Bus");
        assert_eq!(sanitize_label("bass-2.take"), "bass-2.take");
        assert_eq!(sanitize_label(&"x".repeat(500)).len(), MAX_LABEL_LEN);
    }

    #[test]
    fn stale_recording_is_incomplete() {
        let s = sidecar(CaptureState::Recording, 1_000);
        assert!(!s.is_incomplete(1_000 + STALE_AFTER_MS));
        assert!(s.is_in_progress(1_000 + STALE_AFTER_MS));
        assert!(s.is_incomplete(1_001 + STALE_AFTER_MS));
        assert!(sidecar(CaptureState::Aborted, 0).is_incomplete(0));
        assert!(!sidecar(CaptureState::Complete, 0).is_incomplete(u64::MAX));
    }

    #[test]
    fn sidecar_round_trip_and_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(sidecar_file_name("Drums"));
        let s = sidecar(CaptureState::Complete, 5);
        std::fs::write(&path, serde_json::to_vec_pretty(&s).unwrap()).unwrap();
        assert_eq!(read_sidecar(&path).unwrap(), s);

        let mut evil = s.clone();
        evil.wav_file = "../../x.wav".into();
        std::fs::write(&path, serde_json::to_vec(&evil).unwrap()).unwrap();
        assert!(matches!(read_sidecar(&path), Err(Error::Sidecar { .. })));

        std::fs::write(&path, b"{not json").unwrap();
        let err = read_sidecar(&path).unwrap_err();
        assert!(err.to_string().contains("Drums.stemcheck.json"), "{err}");

        let missing = dir.path().join("nope.stemcheck.json");
        assert!(matches!(read_sidecar(&missing), Err(Error::Io { .. })));
    }

    #[test]
    fn bounces_are_listed_newest_first() {
        let root = tempfile::tempdir().unwrap();
        for (id, created) in [("old", 100), ("new", 300), ("mid", 200)] {
            let dir = root.path().join(id);
            std::fs::create_dir(&dir).unwrap();
            let m = BounceManifest {
                schema_version: CAPTURE_SCHEMA_VERSION,
                bounce_id: id.into(),
                timeline_start_samples: 0,
                sample_rate: 48_000,
                created_unix_ms: created,
            };
            std::fs::write(dir.join(BOUNCE_MANIFEST), serde_json::to_vec(&m).unwrap()).unwrap();
            let s = sidecar(CaptureState::Complete, 5);
            std::fs::write(
                dir.join(sidecar_file_name("Drums")),
                serde_json::to_vec(&s).unwrap(),
            )
            .unwrap();
        }
        std::fs::create_dir(root.path().join("not-a-bounce")).unwrap();
        let ids: Vec<_> = list_bounces(root.path())
            .into_iter()
            .map(|b| b.bounce_id)
            .collect();
        assert_eq!(ids, ["new", "mid", "old"]);
        assert_eq!(
            latest_complete_bounce(root.path()).unwrap().bounce_id,
            "new"
        );
        assert!(list_bounces(&root.path().join("missing")).is_empty());
    }
}
