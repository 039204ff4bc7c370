//! The one error type of analyzer-core.
//!
//! Errors carry the file they concern so a report can name it; the analyzer turns a per-file
//! error into an `unreadable_file` finding instead of giving up on the whole delivery. What went
//! wrong is a structured value ([`FormatProblem`], [`UnsupportedEncoding`], [`SidecarProblem`]),
//! not a sentence: a caller that needs the numbers (the offending chunk size, the format tag)
//! reads them, and [`Error::problem`] gives the sentence without the path for a report that
//! names the file in a column of its own.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can go wrong inside analyzer-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read at the OS level.
    #[error("{path}: cannot read file: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a WAV file this analyzer can decode.
    #[error("{path}: not a readable WAV file: {problem}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with its header or data.
        problem: FormatProblem,
    },
    /// The WAV file uses an encoding we recognise but do not decode (e.g. RF64, ADPCM).
    #[error("{path}: unsupported WAV encoding: {encoding}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The encoding found.
        encoding: UnsupportedEncoding,
    },
    /// An AIFF, AIFF-C or FLAC file that the decoder refused: a malformed or truncated stream,
    /// an encoding it does not decode, or audio that ends before its header says.
    #[error("{path}: cannot decode {format} file: {problem}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What the file is: `"AIFF"`, `"AIFF-C"` or `"FLAC"`.
        format: &'static str,
        /// What the decoder (or the check of its output) said.
        problem: String,
    },
    /// A WAV file could not be written (test signals, the demo).
    #[error("{path}: cannot write WAV: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the WAV writer said.
        #[source]
        source: hound::Error,
    },
    /// A capture sidecar (plugin metadata) could not be parsed.
    #[error("{path}: bad capture metadata: {problem}")]
    Sidecar {
        /// The sidecar or manifest file.
        path: PathBuf,
        /// What is wrong with it.
        problem: SidecarProblem,
    },
    /// The paths given hold no file the analyzer reads.
    #[error(
        "invalid input: no audio files found in {}{}",
        list_paths(searched),
        unread_hint(unread_audio)
    )]
    NoInput {
        /// The files and folders searched, as given.
        searched: Vec<PathBuf>,
        /// Audio files found in formats that are not read (MP3, AAC, ...), named in the
        /// message with how to convert them.
        unread_audio: Vec<PathBuf>,
    },
    /// The caller passed arguments that cannot work together (being replaced by
    /// [`Error::InvalidSource`]).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A source was built with a shape that cannot hold audio.
    #[error("invalid input: {name}: {problem}")]
    InvalidSource {
        /// The source's name (its file name).
        name: String,
        /// What is wrong with its shape.
        problem: SourceProblem,
    },
    /// The caller cancelled the check (its [`crate::analyze::Options::cancel`] flag was set):
    /// every read after that fails with this, so the check returns within one block.
    #[error("the check was cancelled")]
    Cancelled,
    /// A stem at another sample rate could not be resampled to the mix's rate.
    #[error("{name}: cannot resample to the mix's rate: {source}")]
    Resample {
        /// The source's name (its file name).
        name: String,
        /// What the resampler said.
        #[source]
        source: ResampleFailure,
    },
}

/// Why resampling failed (the resampler's own structured errors).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleFailure {
    /// The resampler could not be built for these rates or channels.
    #[error("{0}")]
    Construction(rubato::ResamplerConstructionError),
    /// A chunk could not be resampled.
    #[error("{0}")]
    Process(rubato::ResampleError),
    /// The rates are outside what a delivery holds (a header claiming 4 GHz), or so close to
    /// coprime that the resampler's block would have to be huge: never sized by a header.
    #[error("cannot resample {from_rate} Hz to {to_rate} Hz")]
    UnsupportedRates {
        /// The file's rate, Hz.
        from_rate: u32,
        /// The rate it would be read at, Hz.
        to_rate: u32,
    },
}

/// "; not read: a.mp3 (convert ...)" when audio in formats that are not read was found.
fn unread_hint(unread: &[PathBuf]) -> String {
    if unread.is_empty() {
        String::new()
    } else {
        format!(
            "; {} not read: convert to WAV, AIFF or FLAC at the session's rate and bit depth",
            list_paths(unread)
        )
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// The file the error concerns, when it concerns one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. }
            | Error::Format { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Write { path, .. }
            | Error::Decode { path, .. }
            | Error::Sidecar { path, .. } => Some(path),
            Error::NoInput { .. }
            | Error::InvalidSource { .. }
            | Error::InvalidInput(_)
            | Error::Resample { .. }
            | Error::Cancelled => None,
        }
    }

    /// What went wrong, without the path (a report names the file separately).
    pub fn problem(&self) -> String {
        match self {
            Error::Io { source, .. } => source.to_string(),
            Error::Format { problem, .. } => problem.to_string(),
            Error::Unsupported { encoding, .. } => encoding.to_string(),
            Error::Write { source, .. } => source.to_string(),
            Error::Sidecar { problem, .. } => problem.to_string(),
            Error::Decode {
                format, problem, ..
            } => format!("cannot decode {format} file: {problem}"),
            other => other.to_string(),
        }
    }
}

/// Why a file is not a WAV file the analyzer can read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatProblem {
    /// Fewer bytes than a RIFF/WAVE header needs.
    TooShort {
        /// The file's size.
        file_bytes: u64,
    },
    /// The file does not start with a RIFF tag.
    NotRiff {
        /// Its first four bytes (lossy text).
        magic: String,
    },
    /// A RIFF file of another form type (AVI, RMID, ...).
    NotWave {
        /// The form type found (lossy text).
        form: String,
    },
    /// A chunk the format needs is missing before the end of the file.
    MissingChunk {
        /// `"fmt"` or `"data"`.
        chunk: &'static str,
    },
    /// A chunk header whose id is not printable text.
    CorruptChunkHeader {
        /// Where it starts.
        at_byte: u64,
    },
    /// A `fmt ` chunk shorter than the 16 bytes PCM needs.
    FmtTooShort {
        /// Its declared size.
        bytes: u32,
    },
    /// A `fmt ` chunk too large to be real.
    FmtImplausible {
        /// Its declared size.
        bytes: u32,
    },
    /// The file ends inside the `fmt ` chunk.
    FmtCut,
    /// The `data` chunk precedes the `fmt ` chunk.
    DataBeforeFmt,
    /// A WAVE_FORMAT_EXTENSIBLE `fmt ` chunk without its extension.
    ExtensibleTooShort {
        /// Its size.
        bytes: usize,
    },
    /// The header declares no channels.
    ZeroChannels,
    /// The header declares a sample rate of 0.
    ZeroSampleRate,
    /// The header declares 0 bits per sample.
    ZeroBits,
    /// The block alignment is not a whole number of bytes per channel.
    BlockAlign {
        /// Bytes per frame declared.
        block_align: u16,
        /// Channels declared.
        channels: u16,
    },
    /// More bits per sample than the container holds.
    BitsExceedContainer {
        /// Bits per sample declared.
        bits: u16,
        /// Bytes per sample in the container.
        container_bytes: usize,
    },
    /// A valid container with no audio in it.
    NoAudio,
    /// An RF64/BW64 file whose `ds64` chunk (its 64-bit sizes) is missing or too short.
    BadDs64 {
        /// `"RF64"` or `"BW64"`.
        magic: String,
    },
}

impl fmt::Display for FormatProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatProblem::TooShort { file_bytes } => write!(
                f,
                "file is {file_bytes} bytes, too short for a RIFF/WAVE header"
            ),
            FormatProblem::NotRiff { magic } => write!(f, "no RIFF header (starts with {magic:?})"),
            FormatProblem::NotWave { form } => write!(f, "RIFF file of type {form:?}, not WAVE"),
            FormatProblem::MissingChunk { chunk } => {
                write!(f, "no {chunk} chunk before the end of the file")
            }
            FormatProblem::CorruptChunkHeader { at_byte } => {
                write!(f, "corrupt chunk header at byte {at_byte}")
            }
            FormatProblem::FmtTooShort { bytes } => {
                write!(f, "fmt chunk is {bytes} bytes, needs 16")
            }
            FormatProblem::FmtImplausible { bytes } => {
                write!(f, "fmt chunk of {bytes} bytes is implausible")
            }
            FormatProblem::FmtCut => f.write_str("file ends inside the fmt chunk"),
            FormatProblem::DataBeforeFmt => f.write_str("data chunk comes before the fmt chunk"),
            FormatProblem::ExtensibleTooShort { bytes } => write!(
                f,
                "WAVE_FORMAT_EXTENSIBLE fmt chunk is {bytes} bytes, needs 40"
            ),
            FormatProblem::ZeroChannels => f.write_str("header declares 0 channels"),
            FormatProblem::ZeroSampleRate => f.write_str("header declares a sample rate of 0"),
            FormatProblem::ZeroBits => f.write_str("header declares 0 bits per sample"),
            FormatProblem::BlockAlign {
                block_align,
                channels,
            } => write!(
                f,
                "block align {block_align} does not fit {channels} channels"
            ),
            FormatProblem::BitsExceedContainer {
                bits,
                container_bytes,
            } => write!(
                f,
                "{bits} bits per sample do not fit a {container_bytes}-byte container"
            ),
            FormatProblem::NoAudio => f.write_str("holds no audio (0 frames in its data chunk)"),
            FormatProblem::BadDs64 { magic } => write!(
                f,
                "{magic} file without a valid ds64 chunk after its header (where its 64-bit \
                 sizes must be)"
            ),
        }
    }
}

/// An encoding the analyzer recognises but does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsupportedEncoding {
    /// Big-endian RIFX.
    Rifx,
    /// A plain RIFF file with more than 4 GiB of data (its size field wrapped).
    DataOver4GiB {
        /// Bytes after the data chunk's header.
        available_bytes: u64,
        /// What the header says.
        header_bytes: u32,
    },
    /// More channels than the analyzer reads.
    TooManyChannels {
        /// Channels declared.
        channels: u16,
        /// The most the analyzer reads.
        max: u16,
    },
    /// Integer PCM in a container other than 8, 16, 24 or 32 bits.
    IntContainer {
        /// Bits in the container.
        container_bits: usize,
    },
    /// Floating point other than 32 or 64 bits.
    FloatContainer {
        /// Bits in the container.
        container_bits: usize,
    },
    /// A compressed or otherwise non-PCM format tag.
    FormatTag {
        /// The WAVE format tag.
        tag: u16,
    },
}

impl fmt::Display for UnsupportedEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsupportedEncoding::Rifx => f.write_str("big-endian RIFX is not supported"),
            UnsupportedEncoding::DataOver4GiB {
                available_bytes,
                header_bytes,
            } => write!(
                f,
                "data chunk of {available_bytes} bytes exceeds the 4 GiB a RIFF size field can \
                 hold (its header says {header_bytes}); export as RF64/BW64 or split the file"
            ),
            UnsupportedEncoding::TooManyChannels { channels, max } => {
                write!(f, "{channels} channels (StemCheck reads at most {max})")
            }
            UnsupportedEncoding::IntContainer { container_bits } => {
                write!(f, "integer PCM in a {container_bits}-bit container")
            }
            UnsupportedEncoding::FloatContainer { container_bits } => {
                write!(f, "{container_bits}-bit floating point")
            }
            UnsupportedEncoding::FormatTag { tag } => {
                let name = match tag {
                    0x0002 => "Microsoft ADPCM",
                    0x0006 => "A-law",
                    0x0007 => "mu-law",
                    0x0011 => "IMA ADPCM",
                    0x0050 => "MPEG",
                    0x0055 => "MPEG layer 3",
                    0x2000 => "AC-3",
                    _ => return write!(f, "format tag 0x{tag:04x}"),
                };
                write!(f, "{name} (format tag 0x{tag:04x})")
            }
        }
    }
}

/// Why a capture sidecar or bounce manifest cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SidecarProblem {
    /// Larger than a sidecar can be.
    TooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// Not the JSON of a sidecar.
    Json {
        /// The parser's message (line and column).
        message: String,
    },
    /// A schema version this build does not read.
    SchemaVersion {
        /// The version found.
        found: u32,
        /// The version this build reads, where the message names it.
        expected: Option<u32>,
    },
    /// A sample rate of 0.
    ZeroSampleRate,
    /// A channel count of 0.
    ZeroChannels,
    /// A WAV name that is not a plain file name in the folder.
    WavName {
        /// The name found.
        wav_file: String,
    },
}

impl fmt::Display for SidecarProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SidecarProblem::TooLarge { max_bytes } => write!(f, "larger than {max_bytes} bytes"),
            SidecarProblem::Json { message } => f.write_str(message),
            SidecarProblem::SchemaVersion {
                found,
                expected: Some(expected),
            } => write!(f, "schema version {found} (this build reads {expected})"),
            SidecarProblem::SchemaVersion {
                found,
                expected: None,
            } => write!(f, "schema version {found}"),
            SidecarProblem::ZeroSampleRate => f.write_str("sample_rate is 0"),
            SidecarProblem::ZeroChannels => f.write_str("channels is 0"),
            SidecarProblem::WavName { wav_file } => {
                write!(f, "wav_file {wav_file:?} is not a plain file name")
            }
        }
    }
}

/// Why an in-memory source cannot hold audio.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceProblem {
    /// No channels.
    NoChannels,
    /// A sample rate of 0.
    ZeroSampleRate,
    /// A sample rate no delivery holds (a broken or fuzzed header): analysis state is sized by
    /// the rate, so it is refused before anything is allocated.
    UnsupportedRate {
        /// The rate claimed, Hz.
        rate_hz: u32,
    },
    /// Samples that do not fill whole frames.
    PartialFrame {
        /// Samples given.
        samples: usize,
        /// Channels per frame.
        channels: usize,
    },
}

impl fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceProblem::NoChannels => f.write_str("no channels"),
            SourceProblem::ZeroSampleRate => f.write_str("sample rate 0"),
            SourceProblem::UnsupportedRate { rate_hz } => {
                write!(
                    f,
                    "cannot analyse at {rate_hz} Hz (supported: 1 kHz to 1.536 MHz)"
                )
            }
            SourceProblem::PartialFrame { samples, channels } => write!(
                f,
                "{samples} samples do not make whole frames of {channels} channels"
            ),
        }
    }
}

/// Result alias used across analyzer-core.
pub type Result<T> = std::result::Result<T, Error>;
