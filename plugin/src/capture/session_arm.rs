//! One arm for the whole session, through the capture root.
//!
//! Arming real-time capture in the mix instance must reach every stem instance, which may run in
//! other processes (sandboxed hosts), so the arm is a marker file in the capture root: the
//! arming instance's writer thread creates it and keeps it fresh, every instance's writer thread
//! polls it and publishes the answer in [`crate::shared::CaptureStatus::session_armed`], which
//! the audio thread only loads. A marker whose writer died (host crash) goes stale after
//! [`MARKER_STALE_MS`] and arms nothing: a crash never leaves every later session recording.
//!
//! Every session that shares a capture root shares the arm (the root is per user by default).

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The marker's file name in the capture root. A dot file: bounce listings skip it.
pub const MARKER_FILE: &str = ".armed";
/// A marker not refreshed for this long belongs to an instance that is gone.
pub const MARKER_STALE_MS: u64 = 10_000;
/// How often the arming instance touches the marker (well under [`MARKER_STALE_MS`]).
pub const MARKER_REFRESH: Duration = Duration::from_millis(2_000);
/// How often each writer looks at the marker.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Creates or refreshes the marker, naming the arming instance.
///
/// # Errors
/// Any I/O error creating the root or writing the marker.
pub fn arm(root: &Path, instance_id: &str) -> io::Result<()> {
    fs::create_dir_all(root)?;
    super::rendezvous::write_atomically(&root.join(MARKER_FILE), instance_id.as_bytes())
}

/// Removes the marker if `instance_id` wrote it (another instance's arm stays).
///
/// # Errors
/// Any I/O error but a missing marker.
pub fn disarm(root: &Path, instance_id: &str) -> io::Result<()> {
    let path = root.join(MARKER_FILE);
    match fs::read(&path) {
        Ok(owner) if owner == instance_id.as_bytes() => match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// True when a fresh marker is in `root` (a regular file, touched within [`MARKER_STALE_MS`]).
pub fn is_armed(root: &Path, now: SystemTime) -> bool {
    let Ok(meta) = fs::symlink_metadata(root.join(MARKER_FILE)) else {
        return false;
    };
    let Ok(modified) = meta.modified() else {
        return false;
    };
    let age = now.duration_since(modified).unwrap_or(Duration::ZERO);
    meta.is_file() && age < Duration::from_millis(MARKER_STALE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arm_reaches_every_instance_and_only_its_owner_disarms_it() {
        let root = tempfile::tempdir().unwrap();
        let now = SystemTime::now;
        assert!(!is_armed(root.path(), now()));
        arm(root.path(), "mix-a").unwrap();
        assert!(is_armed(root.path(), now()));
        disarm(root.path(), "stem-b").unwrap();
        assert!(
            is_armed(root.path(), now()),
            "a stem cannot disarm the mix's arm"
        );
        disarm(root.path(), "mix-a").unwrap();
        assert!(!is_armed(root.path(), now()));
        disarm(root.path(), "mix-a").unwrap();
    }

    #[test]
    fn a_marker_left_by_a_crashed_host_goes_stale() {
        let root = tempfile::tempdir().unwrap();
        arm(root.path(), "crashed").unwrap();
        let later = SystemTime::now() + Duration::from_millis(MARKER_STALE_MS + 1);
        assert!(!is_armed(root.path(), later));
    }
}
