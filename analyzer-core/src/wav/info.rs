//! What a WAV header says ([`WavInfo`]) and how its samples are laid out ([`Encoding`]): the
//! types the header parser produces and the reader consumes.

use crate::report::{Container, SampleFormat};

/// What the header of a WAV file says, corrected for what is actually on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavInfo {
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels per frame.
    pub channels: u16,
    /// Bits per sample as declared (the valid bits; the container may be wider).
    pub bits_per_sample: u16,
    /// Integer PCM or IEEE float.
    pub sample_format: SampleFormat,
    /// Whole frames that can actually be read from the file.
    pub frames: u64,
    /// Frames the header declares; differs from `frames` when the file is truncated or still
    /// growing.
    pub declared_frames: u64,
    /// The data chunk is shorter than declared, or it ends in a partial frame.
    pub truncated: bool,
    /// The data size was a placeholder (0 / 0xFFFFFFFF) that the writer never patched: written
    /// through a pipe, or by a recorder that did not finish. The audio is read to the end of
    /// the file and is not `truncated`; the report notes it once for the whole set.
    pub sizes_unfinalised: bool,
    /// What the file is (RIFF/WAVE, RF64, ...).
    pub container: Container,
    /// BWF `bext` TimeReference (or iXML's), samples since midnight; `None` when absent.
    pub time_reference_samples: Option<u64>,
}

impl WavInfo {
    /// Duration of the readable frames in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.frames as f64 / f64::from(self.sample_rate)
        }
    }
}

/// How samples are laid out in the data chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
}

impl Encoding {
    pub(crate) fn bytes(self) -> usize {
        match self {
            Encoding::U8 => 1,
            Encoding::I16 => 2,
            Encoding::I24 => 3,
            Encoding::I32 | Encoding::F32 => 4,
            Encoding::F64 => 8,
        }
    }
}

/// Most channels a file may have. Every later stage keeps state and block buffers per channel
/// (reconciliation holds a ~5.5 s window per channel of every stem: ~1 MiB per channel), so a
/// header claiming 65535 channels would make them allocate tens of gigabytes. 64 covers every
/// stem format in use (7.1.4 beds are 12 channels, third-order ambisonics 16).
pub const MAX_CHANNELS: u16 = 64;
