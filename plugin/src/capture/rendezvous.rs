//! Finding the bounce folder a capture belongs to, through the file system only.
//!
//! Instances of one bounce may run in different processes (Bitwig sandboxes plugins; REAPER
//! renders stems on parallel threads), so no in-process registry can tell them apart. They
//! share the host timeline position the bounce started at and the sample rate, and they start
//! within moments of each other. Under a lock file in the capture root, a starting capture
//! joins the newest bounce folder that
//! - has the same timeline start and sample rate,
//! - was created less than [`RENDEZVOUS_WINDOW_MS`] ago, and
//! - holds no capture of this instance yet (so a second bounce never joins the first);
//!
//! otherwise it creates a new folder. Labels are claimed with `create_new`, so two instances
//! with the same label get `label`, `label-2`, ...

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use analyzer_core::capture::{
    self, BOUNCE_MANIFEST, BounceManifest, CAPTURE_SCHEMA_VERSION, sanitize_label,
};

/// Captures that start within this many milliseconds of a bounce's first capture, at the same
/// timeline position and rate, belong to that bounce.
pub const RENDEZVOUS_WINDOW_MS: u64 = 10_000;
/// A lock file older than this was left by a crashed process and is broken.
const STALE_LOCK: Duration = Duration::from_secs(5);
/// How long to wait for the lock before giving up on the rendezvous (then a new folder is made).
const LOCK_TIMEOUT: Duration = Duration::from_secs(3);
const LOCK_FILE: &str = ".rendezvous.lock";

/// What the bounce folder is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BounceKey {
    pub timeline_start_samples: i64,
    pub sample_rate: u32,
}

/// The folder and file names claimed for one capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub bounce_id: String,
    pub folder: PathBuf,
    /// Sanitised, unique file stem inside `folder`.
    pub stem: String,
    pub wav_path: PathBuf,
    pub sidecar_path: PathBuf,
}

struct LockGuard(Option<PathBuf>);

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

fn lock(root: &Path) -> LockGuard {
    let path = root.join(LOCK_FILE);
    let start = Instant::now();
    loop {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                return LockGuard(Some(path));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let stale = fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_LOCK);
                if stale {
                    let _ = fs::remove_file(&path);
                    continue;
                }
                if start.elapsed() > LOCK_TIMEOUT {
                    // Proceed unlocked: at worst two folders for one bounce, never lost audio.
                    return LockGuard(None);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            // Unwritable root: the caller's own create will report the real error.
            Err(_) => return LockGuard(None),
        }
    }
}

/// Civil UTC date and time from Unix seconds (Howard Hinnant's `civil_from_days`).
fn utc_stamp(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn holds_instance(folder: &Path, instance_id: &str) -> bool {
    let Ok(bounce) = capture::read_bounce(folder) else {
        return false;
    };
    bounce
        .captures
        .iter()
        .any(|c| c.sidecar.instance_id == instance_id)
}

/// Checks that `path` resolves inside `root` (defends against symlinks planted in the root).
fn inside_root(root: &Path, path: &Path) -> io::Result<()> {
    let root = root.canonicalize()?;
    let resolved = path.canonicalize()?;
    if resolved.starts_with(&root) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} resolves outside the capture root", path.display()),
        ))
    }
}

/// Joins or creates the bounce folder for a capture starting now, and claims a unique file
/// stem for `label` in it by creating its sidecar file (empty; the writer fills it).
///
/// # Errors
/// Any I/O error creating the root, the folder or the files, or a folder that resolves outside
/// the root.
pub fn claim(
    root: &Path,
    key: BounceKey,
    instance_id: &str,
    label: &str,
    now_unix_ms: u64,
) -> io::Result<Claim> {
    fs::create_dir_all(root)?;
    let (bounce_id, folder) = {
        let _guard = lock(root);
        match find_open_bounce(root, key, instance_id, now_unix_ms) {
            Some(found) => found,
            None => create_bounce(root, key, now_unix_ms)?,
        }
    };
    inside_root(root, &folder)?;
    let base = sanitize_label(label);
    for n in 1..=9_999u32 {
        let stem = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let sidecar_path = folder.join(capture::sidecar_file_name(&stem));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&sidecar_path)
        {
            Ok(_) => {
                let wav_path = folder.join(capture::wav_file_name(&stem));
                if fs::symlink_metadata(&wav_path).is_ok() {
                    // Something foreign holds the WAV name: leave it alone, take another.
                    let _ = fs::remove_file(&sidecar_path);
                    continue;
                }
                return Ok(Claim {
                    wav_path,
                    bounce_id,
                    folder,
                    stem,
                    sidecar_path,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("too many captures named {base:?} in {}", folder.display()),
    ))
}

fn find_open_bounce(
    root: &Path,
    key: BounceKey,
    instance_id: &str,
    now_unix_ms: u64,
) -> Option<(String, PathBuf)> {
    let mut best: Option<(u64, String, PathBuf)> = None;
    for entry in fs::read_dir(root).ok()?.flatten() {
        let folder = entry.path();
        let Ok(manifest) = capture::read_manifest(&folder.join(BOUNCE_MANIFEST)) else {
            continue;
        };
        let fresh = now_unix_ms.saturating_sub(manifest.created_unix_ms) <= RENDEZVOUS_WINDOW_MS
            && manifest.created_unix_ms <= now_unix_ms + RENDEZVOUS_WINDOW_MS;
        if manifest.timeline_start_samples != key.timeline_start_samples
            || manifest.sample_rate != key.sample_rate
            || !fresh
            || holds_instance(&folder, instance_id)
        {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|(created, _, _)| manifest.created_unix_ms > *created)
        {
            best = Some((manifest.created_unix_ms, manifest.bounce_id, folder));
        }
    }
    best.map(|(_, id, folder)| (id, folder))
}

fn create_bounce(root: &Path, key: BounceKey, now_unix_ms: u64) -> io::Result<(String, PathBuf)> {
    let base = format!(
        "{}-{:03}-t{}",
        utc_stamp(now_unix_ms),
        now_unix_ms % 1000,
        key.timeline_start_samples
    );
    for n in 1..=999u32 {
        let id = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let folder = root.join(&id);
        match fs::create_dir(&folder) {
            Ok(()) => {
                let manifest = BounceManifest {
                    schema_version: CAPTURE_SCHEMA_VERSION,
                    bounce_id: id.clone(),
                    timeline_start_samples: key.timeline_start_samples,
                    sample_rate: key.sample_rate,
                    created_unix_ms: now_unix_ms,
                };
                let json = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
                write_atomically(&folder.join(BOUNCE_MANIFEST), &json)?;
                return Ok((id, folder));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("too many bounce folders named {base}"),
    ))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers in other
/// processes never see a half-written file.
///
/// No `fdatasync` before the rename: the rename alone is what makes the swap atomic for
/// readers, and the sidecar is rewritten every second of every capture, so a sync per write
/// put a journal commit per instance per second on the disk during a bounce. After a power
/// cut a sidecar can be older than its WAV, never half-written (ext4 and XFS flush a file
/// renamed over another before the rename commits), and the check compares the two.
///
/// Several writers may replace the same file at once (every instance of a bounce writes its
/// manifest; instances on their own threads or in other processes arm the same session), so
/// each write has its own temporary name (process id and a per-process count): with one shared
/// name, one writer's rename took the file another was still writing, and that rename failed
/// with `NotFound`. The last rename wins, and each is whole.
///
/// # Errors
/// Any I/O error.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = PathBuf::from(tmp);
    // A leftover (or planted symlink) at the temporary name is removed, never followed.
    let _ = fs::remove_file(&tmp);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&tmp, path));
    if written.is_err() {
        // Disk full or folder gone: no half-written temporary file stays behind.
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_replacing_one_file_at_once_all_succeed_and_leave_one_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bounce.json");
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        let text = format!("writer {w} write {i} ").repeat(50);
                        write_atomically(&path, text.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let text = fs::read_to_string(&path).unwrap();
        let first = text.split(' ').take(4).collect::<Vec<_>>().join(" ") + " ";
        assert_eq!(text, first.repeat(50), "one writer's whole text");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["bounce.json"], "no temporary file left");
    }

    const KEY: BounceKey = BounceKey {
        timeline_start_samples: -1776,
        sample_rate: 48_000,
    };

    fn write_sidecar_for(claim: &Claim, instance: &str) {
        let s = analyzer_core::capture::CaptureSidecar {
            schema_version: CAPTURE_SCHEMA_VERSION,
            role: analyzer_core::capture::CaptureRole::Stem,
            label: claim.stem.clone(),
            wav_file: capture::wav_file_name(&claim.stem),
            host: "test".into(),
            plugin_version: "0".into(),
            instance_id: instance.into(),
            bounce_id: claim.bounce_id.clone(),
            sample_rate: 48_000,
            channels: 2,
            timeline_start_samples: KEY.timeline_start_samples,
            length_frames: 0,
            dropped_frames: 0,
            discontinuities: vec![],
            process_mode: analyzer_core::capture::ProcessMode::Offline,
            state: analyzer_core::capture::CaptureState::Recording,
            error: None,
            started_unix_ms: 0,
            updated_unix_ms: 0,
            writer_gone: false,
        };
        write_atomically(&claim.sidecar_path, &serde_json::to_vec(&s).unwrap()).unwrap();
    }

    #[test]
    fn instances_of_one_bounce_share_a_folder_and_a_second_bounce_does_not() {
        let root = tempfile::tempdir().unwrap();
        let t0 = 1_764_000_000_000;
        let a = claim(root.path(), KEY, "a", "Drums", t0).unwrap();
        write_sidecar_for(&a, "a");
        let b = claim(root.path(), KEY, "b", "Drums", t0 + 50).unwrap();
        write_sidecar_for(&b, "b");
        assert_eq!(a.folder, b.folder);
        assert_eq!(a.stem, "Drums");
        assert_eq!(b.stem, "Drums-2");

        // Instance a starts again (a second bounce at the same position): new folder.
        let a2 = claim(root.path(), KEY, "a", "Drums", t0 + 2_000).unwrap();
        write_sidecar_for(&a2, "a");
        assert_ne!(a2.folder, a.folder);
        // b follows a into the second bounce, not back into the first.
        let b2 = claim(root.path(), KEY, "b", "Drums", t0 + 2_010).unwrap();
        assert_eq!(b2.folder, a2.folder);

        // Other start position or a stale bounce: never joined.
        let other = BounceKey {
            timeline_start_samples: 0,
            ..KEY
        };
        assert_ne!(
            claim(root.path(), other, "c", "x", t0 + 2_020)
                .unwrap()
                .folder,
            a2.folder
        );
        let late = claim(
            root.path(),
            KEY,
            "d",
            "x",
            t0 + 2_000 + RENDEZVOUS_WINDOW_MS + 1,
        )
        .unwrap();
        assert_ne!(late.folder, a2.folder);
    }

    #[test]
    fn hostile_labels_stay_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        for label in [
            "../../etc/x",
            "/etc/passwd",
            "..",
            "a\u{0}b",
            &"y".repeat(10_000),
        ] {
            let c = claim(root.path(), KEY, "i", label, 1_764_000_000_000).unwrap();
            assert!(c.wav_path.starts_with(root.path()), "{label:?}");
            assert_eq!(c.wav_path.parent(), Some(c.folder.as_path()));
            assert_eq!(c.folder.parent(), Some(root.path()));
        }
    }

    #[cfg(unix)]
    #[test]
    fn planted_symlinks_are_never_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("victim");
        std::fs::write(&target, b"keep").unwrap();
        let a = claim(root.path(), KEY, "a", "Drums", 1_764_000_000_000).unwrap();
        write_sidecar_for(&a, "a");
        std::os::unix::fs::symlink(&target, a.folder.join("Drums-2.wav")).unwrap();
        let mut tmp = a.sidecar_path.as_os_str().to_owned();
        tmp.push(".tmp");
        std::os::unix::fs::symlink(&target, &tmp).unwrap();
        let b = claim(root.path(), KEY, "b", "Drums", 1_764_000_000_050).unwrap();
        assert_eq!(b.folder, a.folder);
        assert_eq!(b.stem, "Drums-3");
        let w =
            crate::capture::wav::FloatWavWriter::create(&a.folder.join("Drums-2.wav"), 1, 48_000);
        assert!(w.is_err(), "an existing path is never opened for writing");
        write_sidecar_for(&a, "a");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }

    #[test]
    fn utc_stamp_is_civil_time() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400_000 + 3_723_000), "20000229-010203");
    }
}
