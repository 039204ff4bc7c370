//! Errors of the host harnesses. Every variant names the file, bundle or host involved.

use std::path::PathBuf;

/// Why a host harness step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bundle {path} not found; build it with `{build_command}`")]
    BundleMissing {
        path: PathBuf,
        build_command: String,
    },
    #[error("{path}: cannot load the CLAP entry: {reason}")]
    ClapEntry { path: PathBuf, reason: String },
    #[error("{path}: the CLAP plugin refused {step}: {reason}")]
    ClapPlugin {
        path: PathBuf,
        step: &'static str,
        reason: String,
    },
    #[error("{path}: {problem}")]
    Capture { path: PathBuf, problem: String },
    #[error("{program} failed ({status}): {stderr_tail}")]
    Command {
        program: String,
        status: String,
        stderr_tail: String,
    },
    #[error("{path}: {problem}")]
    Report { path: PathBuf, problem: String },
    #[error("X11: {problem}")]
    X11 { problem: String },
    #[error(transparent)]
    Analyzer(#[from] analyzer_core::Error),
}

/// Result of the harness steps.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
