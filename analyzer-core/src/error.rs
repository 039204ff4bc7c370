//! The one error type of analyzer-core.
//!
//! Errors carry the file they concern so a report can name it; the analyzer turns a per-file
//! error into an `unreadable_file` finding instead of giving up on the whole delivery.

use std::path::PathBuf;

/// Everything that can go wrong inside analyzer-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read at the OS level.
    #[error("{path}: cannot read file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a WAV file this analyzer can decode.
    #[error("{path}: not a readable WAV file: {reason}")]
    Format { path: PathBuf, reason: String },
    /// The WAV file uses an encoding we recognise but do not decode (e.g. RF64, ADPCM).
    #[error("{path}: unsupported WAV encoding: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    /// A capture sidecar (plugin metadata) could not be parsed.
    #[error("{path}: bad capture metadata: {reason}")]
    Sidecar { path: PathBuf, reason: String },
    /// The caller passed arguments that cannot work together.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// Result alias used across analyzer-core.
pub type Result<T> = std::result::Result<T, Error>;
