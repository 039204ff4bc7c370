//! Where the harnesses find what the build produced: the bundles and the `stemcheck` CLI.
//!
//! Everything is looked up beside the running test binary (`<target>/<profile>/deps/...`), so the
//! tests work with any `CARGO_TARGET_DIR`. Environment variables override each path:
//! `STEMCHECK_CLAP`, `STEMCHECK_VST3`, `STEMCHECK_BIN`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The bundle name `cargo xtask bundle` gives the plugin (`bundler.toml`).
pub const BUNDLE_NAME: &str = "StemCheck";
/// The command that builds both bundles.
pub const BUNDLE_COMMAND: &str = "cargo xtask bundle stemcheck-plugin --release";
/// The command that builds the CLI the checks run.
pub const CLI_COMMAND: &str = "cargo build --release -p stemcheck-cli";

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// The profile folder the running binary lives in (`<target>/release`), found from the binary
/// itself: test binaries live in `<profile>/deps`, other binaries directly in `<profile>`.
pub fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::io("current executable", e))?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    Ok(dir)
}

/// The target folder (`CARGO_TARGET_DIR`, else the parent of [`profile_dir`]).
pub fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() {
            dir
        } else {
            workspace_root().join(dir)
        });
    }
    let profile = profile_dir()?;
    Ok(profile.parent().map(Path::to_path_buf).unwrap_or(profile))
}

fn existing(path: PathBuf, build_command: &str) -> Result<PathBuf> {
    if path.exists() {
        Ok(std::path::absolute(&path).unwrap_or(path))
    } else {
        Err(Error::BundleMissing {
            path,
            build_command: build_command.to_string(),
        })
    }
}

/// The built `StemCheck.clap` (`STEMCHECK_CLAP` overrides).
///
/// # Errors
/// [`Error::BundleMissing`] naming the build command when it does not exist.
pub fn clap_bundle() -> Result<PathBuf> {
    let path = match std::env::var_os("STEMCHECK_CLAP") {
        Some(p) => PathBuf::from(p),
        None => target_dir()?
            .join("bundled")
            .join(format!("{BUNDLE_NAME}.clap")),
    };
    existing(path, BUNDLE_COMMAND)
}

/// The built `StemCheck.vst3` bundle folder (`STEMCHECK_VST3` overrides).
///
/// # Errors
/// [`Error::BundleMissing`] naming the build command when it does not exist.
pub fn vst3_bundle() -> Result<PathBuf> {
    let path = match std::env::var_os("STEMCHECK_VST3") {
        Some(p) => PathBuf::from(p),
        None => target_dir()?
            .join("bundled")
            .join(format!("{BUNDLE_NAME}.vst3")),
    };
    existing(path, BUNDLE_COMMAND)
}

/// The `stemcheck` CLI binary of the same profile (`STEMCHECK_BIN` overrides).
///
/// # Errors
/// [`Error::BundleMissing`] naming the build command when it does not exist.
pub fn stemcheck_cli() -> Result<PathBuf> {
    let path = match std::env::var_os("STEMCHECK_BIN") {
        Some(p) => PathBuf::from(p),
        None => profile_dir()?.join("stemcheck"),
    };
    existing(path, CLI_COMMAND)
}
