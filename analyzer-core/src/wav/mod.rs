//! Streamed WAV (RIFF/WAVE) reading with bounded memory.
//!
//! The header is parsed by our own RIFF chunk walk (`header.rs`) rather than `hound`'s reader,
//! because a stem delivery is exactly where broken files turn up: recorders that crashed before
//! patching the chunk sizes (sizes of 0 or 0xFFFFFFFF, also what a writer into a pipe leaves),
//! truncated copies, unpadded odd chunks. Those are recovered (and flagged with
//! [`WavInfo::sizes_unfinalised`] or [`WavInfo::truncated`]) instead of being rejected.
//!
//! The sample path is hand-written too, for speed: a check reads gigabytes, every file at least
//! twice (metering, reconciliation). Samples are read from the `data` chunk in large byte
//! blocks straight into one reusable buffer and converted from it by tight per-format loops
//! (one copy from the page cache, one conversion pass); `hound`'s per-sample iterator is
//! several times slower.
//!
//! # Open once, read from anywhere
//!
//! [`WavFile::open`] opens a file and parses its header once; [`WavFile::reader`] then gives
//! any number of independent [`WavReader`]s over it, each with its own position, without
//! opening or parsing again. They read with positional reads (`pread` on Unix, `seek_read` on
//! Windows) from the one shared handle, so readers on different threads never share a seek
//! position, and a read costs one system call as a plain `read` did. The check
//! ([`crate::analyze`]) opens every file once this way and hands the same [`WavFile`] to
//! metering, reconciliation and its streaming threads.
//!
//! AIFF, AIFF-C and FLAC are recognised by their first bytes and read through a decoder crate
//! behind the same API (see `decode.rs` for why WAV keeps its own path, and for how those
//! readers seek and what they do with a stream whose length is unknown).
//!
//! Supported encodings: PCM integer in 8 (unsigned), 16, 24 and 32-bit containers, IEEE float in
//! 32 and 64 bits, plain or as `WAVE_FORMAT_EXTENSIBLE`, any channel count; in RIFF/WAVE or in
//! RF64/BW64 (64-bit sizes from the `ds64` chunk). The BWF `bext` TimeReference (or iXML's)
//! fills [`WavInfo::time_reference_samples`]. Integer samples are scaled by `1 / 2^(container
//! bits - 1)`, so full-scale negative reads -1.0.
//!
//! NaN and infinite float samples are read as 0.0 (silence), here, once: every later stage
//! (metering, reconciliation, diagnosis) sees silence there rather than a value that poisons a
//! sum, a filter state or a level. Each reader counts the ones it decoded
//! ([`WavReader::non_finite`]), so the check that reads a file front to back names them.
//!
//! Memory use is bounded by the read block size, never by file length; no size read from the
//! file is ever used to allocate, and channel counts above [`MAX_CHANNELS`] are refused.

mod decode;
mod header;
mod info;
mod simd;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use header::{Header, read_full_at};
use info::Encoding;
pub use info::{MAX_CHANNELS, WavInfo};

/// Byte block read from disk per refill. Large enough that syscalls do not matter, small enough
/// to stay in L2 cache.
const READ_BLOCK_BYTES: usize = 256 * 1024;

/// One WAV file, opened and its header parsed once. Cloning is cheap and shares the handle.
///
/// Every [`reader`](Self::reader) reads with positional reads, so readers on any threads are
/// independent of each other (see the module docs).
#[derive(Clone)]
pub struct WavFile {
    shared: Arc<Opened>,
    /// Set by whoever may cancel the reads (see [`WavFile::cancelled_by`]).
    cancel: Option<Arc<AtomicBool>>,
    /// Per channel, taken off every sample read (see [`WavFile::without_dc`]).
    dc: Option<Arc<[f32]>>,
}

/// What the readers of one file share.
struct Opened {
    path: PathBuf,
    backend: Backend,
}

/// How a file's samples are read: the hand-written WAV path or a decoder.
enum Backend {
    /// RIFF/WAVE, read with positional reads from the one shared handle.
    Wav { file: File, header: Header },
    /// AIFF, AIFF-C or FLAC: every reader decodes with its own handle and decoder.
    Decoded(decode::Decoded),
}

impl Opened {
    fn info(&self) -> &WavInfo {
        match &self.backend {
            Backend::Wav { header, .. } => &header.info,
            Backend::Decoded(d) => &d.info,
        }
    }
}

impl std::fmt::Debug for WavFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavFile")
            .field("path", &self.shared.path)
            .field("info", self.shared.info())
            .finish_non_exhaustive()
    }
}

impl WavFile {
    /// Opens `path` and parses its header: WAV by our own parser, AIFF/AIFF-C and FLAC
    /// (recognised by their first bytes, whatever the file is named) by the decoder.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened or read, [`Error::Format`] when it is not a
    /// RIFF/WAVE or RF64/BW64 file or its header is inconsistent, [`Error::Unsupported`] for
    /// compressed or otherwise non-PCM encodings, [`Error::Decode`] when an AIFF or FLAC
    /// header is refused by the decoder. Every error names `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut head = [0u8; 12];
        let got = read_full_at(&file, &mut head, 0).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let backend = match decode::Kind::sniff(&head[..got]) {
            Some(kind) => Backend::Decoded(decode::open(path, kind, &head[..got])?),
            None => {
                let header = header::parse(path, &file)?;
                Backend::Wav { file, header }
            }
        };
        Ok(Self {
            shared: Arc::new(Opened {
                path: path.to_owned(),
                backend,
            }),
            cancel: None,
            dc: None,
        })
    }

    /// This handle, whose readers fail with [`Error::Cancelled`] once `flag` is set (checked
    /// before every block read). How a long check is stopped from another thread: a plugin
    /// that must not keep its host waiting when it is destroyed mid-analysis sets the flag and
    /// every thread of the check unwinds at its next read.
    #[must_use]
    pub fn cancelled_by(mut self, flag: Option<Arc<AtomicBool>>) -> Self {
        self.cancel = flag;
        self
    }

    /// This handle, whose readers take `means[c]` off every sample of channel `c` they read
    /// (channels past `means` are read as they are; a window's zeros outside the file stay
    /// zeros). How the reconciliation compares files whose DC offsets differ: an offset is
    /// inaudible and says nothing about whether the music sums, but a constant in the
    /// residual pulls every gain of the fit and reads as content no stem carries.
    #[must_use]
    pub fn without_dc(mut self, means: &[f64]) -> Self {
        self.dc = Some(means.iter().map(|&m| m as f32).collect());
        self
    }

    /// The file's format and length.
    pub fn info(&self) -> &WavInfo {
        self.shared.info()
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// A new reader at frame 0, independent of every other reader of this file.
    ///
    /// A reader of a decoded file (AIFF, FLAC) opens its own handle and decoder on its first
    /// read, so this never fails; an error then comes from that read.
    pub fn reader(&self) -> WavReader {
        let (buf, decoded) = match &self.shared.backend {
            Backend::Wav { header, .. } => {
                let frame_bytes = header.frame_bytes;
                let buf_len = READ_BLOCK_BYTES.max(frame_bytes) / frame_bytes * frame_bytes;
                (vec![0u8; buf_len], None)
            }
            Backend::Decoded(_) => (Vec::new(), Some(Box::new(decode::DecodedReader::new()))),
        };
        WavReader {
            file: self.clone(),
            pos: 0,
            buf,
            decoded,
            non_finite: NonFiniteRead::default(),
        }
    }
}

/// A streaming reader of one WAV file, with its own read position (see [`WavFile::reader`]).
pub struct WavReader {
    file: WavFile,
    /// Next frame `read_frames` returns.
    pos: u64,
    /// Scratch bytes for block conversion; fixed size after `open` (empty for decoded files).
    buf: Vec<u8>,
    /// The decoding state of an AIFF or FLAC file's reader.
    decoded: Option<Box<decode::DecodedReader>>,
    /// The non-finite samples this reader decoded (as 0.0).
    non_finite: NonFiniteRead,
}

/// NaN or infinite float samples a [`WavReader`] decoded, each read as 0.0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NonFiniteRead {
    /// How many (all channels), counted every time they are read.
    pub count: u64,
    /// Frame of the first one read.
    pub first_frame: Option<u64>,
}

impl std::fmt::Debug for WavReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavReader")
            .field("path", &self.path())
            .field("info", self.info())
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl WavReader {
    /// Opens `path` and parses its header: [`WavFile::open`] and its first reader.
    ///
    /// # Errors
    /// As [`WavFile::open`]; every error names `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(WavFile::open(path)?.reader())
    }

    /// The opened file this reader reads, for more readers over it.
    pub fn file(&self) -> &WavFile {
        &self.file
    }

    /// The file's format and length.
    pub fn info(&self) -> &WavInfo {
        self.file.info()
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The NaN or infinite samples this reader decoded so far (each read as 0.0): for a reader
    /// that read the file once from the start, the file's.
    pub fn non_finite(&self) -> NonFiniteRead {
        self.non_finite
    }

    /// The frame the next [`read_frames`](Self::read_frames) starts at.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Reads up to `out.len() / channels` frames as interleaved `f32` (integers scaled by
    /// `1 / 2^(container bits - 1)`) and returns the frames read, 0 at the end.
    ///
    /// Fewer frames than asked for are returned only at the end of the data.
    ///
    /// # Errors
    /// [`Error::Io`] when the OS read fails. A WAV file that shrank while being read simply
    /// ends; a decoded file (AIFF, FLAC) whose stream is corrupt or ends early is an
    /// [`Error::Decode`] naming it. [`Error::Cancelled`] once the handle's cancel flag is set.
    pub fn read_frames(&mut self, out: &mut [f32]) -> Result<usize> {
        let got = self.read_frames_as_stored(out)?;
        if let Some(dc) = &self.file.dc {
            let ch = usize::from(self.info().channels).max(1);
            for frame in out[..got * ch].chunks_exact_mut(ch) {
                for (x, m) in frame.iter_mut().zip(dc.iter()) {
                    *x -= m;
                }
            }
        }
        Ok(got)
    }

    /// [`read_frames`](Self::read_frames) without the handle's DC removal.
    fn read_frames_as_stored(&mut self, out: &mut [f32]) -> Result<usize> {
        if self
            .file
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(Error::Cancelled);
        }
        let opened = &*self.file.shared;
        let (file, header) = match &opened.backend {
            Backend::Wav { file, header } => (file, header),
            Backend::Decoded(d) => {
                let Some(reader) = self.decoded.as_mut() else {
                    return Ok(0);
                };
                let got = reader.read(&opened.path, d, self.pos, out, &mut self.non_finite)?;
                self.pos += got as u64;
                return Ok(got);
            }
        };
        let Header {
            info,
            encoding,
            data_offset,
            frame_bytes,
        } = header;
        let (frame_bytes, ch) = (*frame_bytes, usize::from(info.channels));
        let want = (out.len() / ch) as u64;
        let want = want.min(info.frames.saturating_sub(self.pos)) as usize;
        let frames_per_block = self.buf.len() / frame_bytes;
        let mut done = 0usize;
        while done < want {
            let n = (want - done).min(frames_per_block);
            let at = data_offset + self.pos * frame_bytes as u64;
            let got =
                read_full_at(file, &mut self.buf[..n * frame_bytes], at).map_err(|source| {
                    Error::Io {
                        path: opened.path.clone(),
                        source,
                    }
                })?;
            let got_frames = got / frame_bytes;
            if got_frames == 0 {
                break;
            }
            let bytes = &self.buf[..got_frames * frame_bytes];
            let dst = &mut out[done * ch..(done + got_frames) * ch];
            if let Some((count, first)) = convert(*encoding, bytes, dst) {
                self.non_finite.count += count;
                let first = self.pos + (first / ch) as u64;
                self.non_finite.first_frame.get_or_insert(first);
            }
            done += got_frames;
            self.pos += got_frames as u64;
            if got_frames < n {
                // The file shrank under us.
                break;
            }
        }
        Ok(done)
    }

    /// Moves the read position to `frame` (clamped to the end of the data). Costs no system
    /// call: reads are positional.
    pub fn seek(&mut self, frame: u64) {
        self.pos = frame.min(self.info().frames);
    }

    /// Fills `out` (interleaved, `out.len() / channels` frames) with the frames starting at
    /// `start_frame`, which may be negative or past the end: zeros outside the file.
    ///
    /// Leaves the read position after the last in-file frame of the window.
    ///
    /// # Errors
    /// [`Error::Io`] when the OS read fails.
    pub fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
        let ch = usize::from(self.info().channels);
        let n = (out.len() / ch) as i64;
        let frames = i64::try_from(self.info().frames).unwrap_or(i64::MAX);
        let lo = start_frame.max(0);
        let hi = start_frame.saturating_add(n).min(frames);
        if lo >= hi {
            out.fill(0.0);
            return Ok(());
        }
        self.seek(lo as u64);
        let off = ((lo - start_frame) as usize) * ch;
        let len = ((hi - lo) as usize) * ch;
        let mut filled = 0;
        while filled < len {
            let got = self.read_frames(&mut out[off + filled..off + len])?;
            if got == 0 {
                break;
            }
            filled += got * ch;
        }
        // Zeros only where nothing was read (before the file, after it, or after a file that
        // shrank under us): a blanket fill first was a second pass over every window, and on
        // a buffer that another thread reads next, the costlier of the two.
        out[..off].fill(0.0);
        out[off + filled..].fill(0.0);
        Ok(())
    }
}

/// Converts whole frames of little-endian samples to f32. `bytes.len()` is a multiple of the
/// sample size and `out.len()` equals the sample count. NaN and infinite float samples become
/// 0.0; when there were any, returns how many and the index of the first.
fn convert(enc: Encoding, bytes: &[u8], out: &mut [f32]) -> Option<(u64, usize)> {
    debug_assert_eq!(bytes.len(), out.len() * enc.bytes());
    match enc {
        Encoding::U8 => {
            for (o, &b) in out.iter_mut().zip(bytes) {
                *o = (f32::from(b) - 128.0) * (1.0 / 128.0);
            }
        }
        Encoding::I16 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = f32::from(i16::from_le_bytes([b[0], b[1]])) * (1.0 / 32768.0);
            }
        }
        Encoding::I24 => simd::i24_to_f32(bytes, out),
        Encoding::I32 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                *o = (f64::from(v) * (1.0 / 2_147_483_648.0)) as f32;
            }
        }
        Encoding::F32 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            return silence_non_finite(out);
        }
        Encoding::F64 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                let v = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                // A finite f64 beyond f32's range would become infinite: keep it as loud as f32
                // goes rather than silence it.
                *o = if v.is_finite() {
                    v.clamp(-f64::from(f32::MAX), f64::from(f32::MAX)) as f32
                } else {
                    f32::NAN
                };
            }
            return silence_non_finite(out);
        }
    }
    None
}

/// Replaces NaN and infinite samples by 0.0: how many there were and the index of the first.
fn silence_non_finite(out: &mut [f32]) -> Option<(u64, usize)> {
    // One vectorised pass finds whether there is any; the rare block with some is walked again.
    let bad = out.iter().filter(|x| !x.is_finite()).count() as u64;
    if bad == 0 {
        return None;
    }
    let first = out.iter().position(|x| !x.is_finite()).unwrap_or(0);
    for x in out.iter_mut().filter(|x| !x.is_finite()) {
        *x = 0.0;
    }
    Some((bad, first))
}

#[cfg(test)]
mod tests;
