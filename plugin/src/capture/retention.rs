//! Retention: the capture root keeps the last N bounces within a size cap.
//!
//! Every instance's writer applies the rule after a capture completes (and scans the root now
//! and then for the editor's count and size); several instances doing so at once only race to
//! delete the same folders, which is harmless. Only folders holding a bounce manifest are ever
//! touched, never a symlink, and never
//! - the newest bounce (the mix instance may be checking it), nor
//! - a bounce with a file modified in the last [`MIN_IDLE`] (a capture still being written:
//!   sidecars are rewritten every second while recording).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use analyzer_core::capture::{self, BOUNCE_MANIFEST};

use crate::shared::RetainedBounces;

/// A bounce folder touched more recently than this is in use and never removed.
pub const MIN_IDLE: Duration = Duration::from_secs(60);
/// Default for "keep the last N bounces".
pub const DEFAULT_KEEP_BOUNCES: i32 = 20;
/// Default size cap of the capture root's bounces, GB (10^9 bytes).
pub const DEFAULT_MAX_GB: f32 = 20.0;

/// The rule, as the parameters set it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// Bounces kept at most (the newest always is).
    pub keep_bounces: usize,
    /// Total size kept at most, bytes (the newest bounce is kept even when larger).
    pub max_bytes: u64,
}

impl Retention {
    /// What the clean-up action applies: the newest bounce only.
    pub const NEWEST_ONLY: Self = Self {
        keep_bounces: 1,
        max_bytes: 0,
    };
}

/// One bounce folder as the scan saw it.
#[derive(Debug, Clone)]
struct BounceDir {
    path: PathBuf,
    created_unix_ms: u64,
    bytes: u64,
    last_modified: SystemTime,
}

/// Applies `rule` to `root` at `now` and counts what stays.
///
/// # Errors
/// When `root` cannot be listed; folders that cannot be removed are counted as kept.
pub fn apply(root: &Path, rule: Retention, now: SystemTime) -> io::Result<RetainedBounces> {
    let mut bounces = scan(root)?;
    // Newest first.
    bounces.sort_by_key(|b| std::cmp::Reverse(b.created_unix_ms));
    let mut kept = RetainedBounces::default();
    for (i, bounce) in bounces.iter().enumerate() {
        let within_rule = i < rule.keep_bounces.max(1)
            && kept.bytes.saturating_add(bounce.bytes) <= rule.max_bytes;
        let busy = now
            .duration_since(bounce.last_modified)
            .unwrap_or(Duration::ZERO)
            < MIN_IDLE;
        if i == 0 || within_rule || busy || fs::remove_dir_all(&bounce.path).is_err() {
            kept.bounces += 1;
            kept.bytes = kept.bytes.saturating_add(bounce.bytes);
        } else {
            kept.removed += 1;
        }
    }
    Ok(kept)
}

/// Counts the bounces in `root` and their size without removing anything.
///
/// # Errors
/// When `root` cannot be listed.
pub fn count(root: &Path) -> io::Result<RetainedBounces> {
    let bounces = scan(root)?;
    Ok(RetainedBounces {
        bounces: bounces.len(),
        bytes: bounces.iter().map(|b| b.bytes).sum(),
        removed: 0,
    })
}

fn scan(root: &Path) -> io::Result<Vec<BounceDir>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let Ok(manifest) = capture::read_manifest(&path.join(BOUNCE_MANIFEST)) else {
            continue;
        };
        let (bytes, last_modified) = folder_size(&path);
        out.push(BounceDir {
            path,
            created_unix_ms: manifest.created_unix_ms,
            bytes,
            last_modified: last_modified.unwrap_or(SystemTime::UNIX_EPOCH),
        });
    }
    Ok(out)
}

/// Total size of the regular files under `folder` (symlinks not followed) and the latest
/// modification time among them and the folder.
fn folder_size(folder: &Path) -> (u64, Option<SystemTime>) {
    let mut bytes = 0u64;
    let mut latest = fs::symlink_metadata(folder).and_then(|m| m.modified()).ok();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if let Ok(m) = meta.modified() {
                latest = latest.max(Some(m));
            }
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                bytes = bytes.saturating_add(meta.len());
            }
        }
    }
    (bytes, latest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyzer_core::capture::{BounceManifest, CAPTURE_SCHEMA_VERSION};

    /// A bounce folder created at `created_unix_ms` holding `bytes` of capture.
    fn bounce(root: &Path, name: &str, created_unix_ms: u64, bytes: usize) -> PathBuf {
        let folder = root.join(name);
        fs::create_dir_all(&folder).unwrap();
        let manifest = BounceManifest {
            schema_version: CAPTURE_SCHEMA_VERSION,
            bounce_id: name.into(),
            timeline_start_samples: 0,
            sample_rate: 48_000,
            created_unix_ms,
        };
        fs::write(
            folder.join(BOUNCE_MANIFEST),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        fs::write(folder.join("Bass.wav"), vec![0u8; bytes]).unwrap();
        folder
    }

    fn later() -> SystemTime {
        SystemTime::now() + MIN_IDLE + Duration::from_secs(1)
    }

    #[test]
    fn keeps_the_newest_n_within_the_size_cap_and_never_touches_foreign_folders() {
        let root = tempfile::tempdir().unwrap();
        let folders: Vec<PathBuf> = (0..5)
            .map(|i| bounce(root.path(), &format!("b{i}"), 1_000 + i, 1_000))
            .collect();
        let foreign = root.path().join("my-notes");
        fs::create_dir(&foreign).unwrap();
        let rule = Retention {
            keep_bounces: 3,
            max_bytes: u64::MAX,
        };
        let kept = apply(root.path(), rule, later()).unwrap();
        assert_eq!((kept.bounces, kept.removed), (3, 2));
        assert!(!folders[0].exists() && !folders[1].exists());
        assert!(folders[2].exists() && folders[4].exists() && foreign.exists());
        // The size cap: 2 of 1 000 + manifest bytes fit in 2 500.
        let kept = apply(
            root.path(),
            Retention {
                keep_bounces: 10,
                max_bytes: 2_500,
            },
            later(),
        )
        .unwrap();
        assert_eq!((kept.bounces, kept.removed), (2, 1));
        assert!(!folders[2].exists() && folders[3].exists());
        assert!(kept.bytes <= 2_500, "{kept:?}");
    }

    #[test]
    fn the_newest_and_busy_bounces_are_kept_whatever_the_rule() {
        let root = tempfile::tempdir().unwrap();
        let old = bounce(root.path(), "old", 1, 10);
        let newest = bounce(root.path(), "new", 2, 10);
        // Just written: busy.
        let kept = apply(root.path(), Retention::NEWEST_ONLY, SystemTime::now()).unwrap();
        assert_eq!((kept.bounces, kept.removed), (2, 0));
        let kept = apply(root.path(), Retention::NEWEST_ONLY, later()).unwrap();
        assert_eq!((kept.bounces, kept.removed), (1, 1));
        assert!(newest.exists() && !old.exists());
        assert_eq!(count(root.path()).unwrap().bounces, 1);
    }

    #[test]
    fn a_missing_root_holds_nothing() {
        let root = tempfile::tempdir().unwrap();
        let kept = apply(&root.path().join("none"), Retention::NEWEST_ONLY, later()).unwrap();
        assert_eq!(kept, RetainedBounces::default());
    }
}
