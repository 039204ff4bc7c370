//! Streamed WAV (RIFF/WAVE) reading with bounded memory.
//!
//! The header is parsed by our own RIFF chunk walk rather than `hound`'s reader, because a stem
//! delivery is exactly where broken files turn up: recorders that crashed before patching the
//! chunk sizes (sizes of 0 or 0xFFFFFFFF), truncated copies, unpadded odd chunks. Those are
//! recovered (and flagged with [`WavInfo::truncated`]) instead of being rejected. Samples are
//! then read from the `data` chunk in large byte blocks and converted by tight per-format loops;
//! `hound`'s per-sample iterator is several times slower and stem checks read gigabytes.
//!
//! Supported encodings: PCM integer in 8 (unsigned), 16, 24 and 32-bit containers, IEEE float in
//! 32 and 64 bits, plain or as `WAVE_FORMAT_EXTENSIBLE`, any channel count. RF64/BW64 files are
//! recognised and reported as unsupported. Integer samples are scaled by `1 / 2^(container
//! bits - 1)`, so full-scale negative reads -1.0.
//!
//! Memory use is bounded by the read block size, never by file length; no size read from the
//! file is ever used to allocate, and channel counts above [`MAX_CHANNELS`] are refused.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, FormatProblem, Result, UnsupportedEncoding};
use crate::report::SampleFormat;

/// What the header of a WAV file says, corrected for what is actually on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavInfo {
    pub sample_rate: u32,
    pub channels: u16,
    /// Bits per sample as declared (the valid bits; the container may be wider).
    pub bits_per_sample: u16,
    pub sample_format: SampleFormat,
    /// Whole frames that can actually be read from the file.
    pub frames: u64,
    /// frames the header declares; differs from `frames` when the file is truncated/still growing
    pub declared_frames: u64,
    /// The data chunk is shorter than declared, its size was a placeholder (0 / 0xFFFFFFFF) left
    /// by a recorder that did not finish, or it ends in a partial frame.
    pub truncated: bool,
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
enum Encoding {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
}

impl Encoding {
    fn bytes(self) -> usize {
        match self {
            Encoding::U8 => 1,
            Encoding::I16 => 2,
            Encoding::I24 => 3,
            Encoding::I32 | Encoding::F32 => 4,
            Encoding::F64 => 8,
        }
    }
}

/// Byte block read from disk per refill. Large enough that syscalls do not matter, small enough
/// to stay in L2 cache.
const READ_BLOCK_BYTES: usize = 256 * 1024;
/// Longest `fmt ` chunk we accept; real ones are 16, 18 or 40 bytes.
const MAX_FMT_BYTES: u32 = 1024;
/// Most channels a file may have. Every later stage keeps state and block buffers per channel
/// (reconciliation holds a ~5.5 s window per channel of every stem: ~1 MiB per channel), so a
/// header claiming 65535 channels would make them allocate tens of gigabytes. 64 covers every
/// stem format in use (7.1.4 beds are 12 channels, third-order ambisonics 16).
pub const MAX_CHANNELS: u16 = 64;

/// A streaming reader of one WAV file.
pub struct WavReader {
    path: PathBuf,
    file: File,
    info: WavInfo,
    encoding: Encoding,
    /// Byte offset of the first sample in the file.
    data_offset: u64,
    /// Bytes per frame (all channels).
    frame_bytes: usize,
    /// Next frame `read_frames` returns.
    pos: u64,
    /// The file's OS position is the start of frame `pos` (false after a failed read), so
    /// seeking to `pos` needs no system call.
    os_at_pos: bool,
    /// Scratch bytes for block conversion; fixed size after `open`.
    buf: Vec<u8>,
}

impl std::fmt::Debug for WavReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavReader")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

/// Parsed `fmt ` chunk.
struct Fmt {
    channels: u16,
    sample_rate: u32,
    block_align: u16,
    bits_per_sample: u16,
    encoding: Encoding,
    sample_format: SampleFormat,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A chunk id made of printable ASCII (what every real chunk id is).
fn plausible_chunk_id(id: &[u8]) -> bool {
    id.len() == 4 && id.iter().all(|&c| (0x20..=0x7e).contains(&c))
}

impl WavReader {
    /// Opens `path` and parses its header.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened or read, [`Error::Format`] when it is not a
    /// RIFF/WAVE file or its header is inconsistent, [`Error::Unsupported`] for RF64/BW64 and
    /// compressed or otherwise non-PCM encodings. Every error names `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let format = |problem: FormatProblem| Error::Format {
            path: path.to_owned(),
            problem,
        };
        let unsupported = |encoding: UnsupportedEncoding| Error::Unsupported {
            path: path.to_owned(),
            encoding,
        };
        let mut file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();

        let mut head = [0u8; 12];
        let got = read_up_to(&mut file, &mut head).map_err(io)?;
        if got < 12 {
            return Err(format(FormatProblem::TooShort {
                file_bytes: file_len,
            }));
        }
        match &head[0..4] {
            b"RIFF" => {}
            b"RF64" | b"BW64" => {
                return Err(unsupported(UnsupportedEncoding::Rf64 {
                    magic: String::from_utf8_lossy(&head[0..4]).into_owned(),
                }));
            }
            b"RIFX" => {
                return Err(unsupported(UnsupportedEncoding::Rifx));
            }
            other => {
                return Err(format(FormatProblem::NotRiff {
                    magic: String::from_utf8_lossy(other).into_owned(),
                }));
            }
        }
        if &head[8..12] != b"WAVE" {
            return Err(format(FormatProblem::NotWave {
                form: String::from_utf8_lossy(&head[8..12]).into_owned(),
            }));
        }
        let riff_size = le32(&head, 4);

        // Walk the chunks until `data`.
        let mut fmt: Option<Fmt> = None;
        let mut at: u64 = 12;
        let (data_offset, data_size) = loop {
            if at + 8 > file_len {
                return Err(format(FormatProblem::MissingChunk {
                    chunk: if fmt.is_none() { "fmt" } else { "data" },
                }));
            }
            let mut ch = [0u8; 8];
            file.seek(SeekFrom::Start(at)).map_err(io)?;
            file.read_exact(&mut ch).map_err(io)?;
            let id = [ch[0], ch[1], ch[2], ch[3]];
            let size = le32(&ch, 4);
            if !plausible_chunk_id(&id) {
                return Err(format(FormatProblem::CorruptChunkHeader { at_byte: at }));
            }
            let body = at + 8;
            match &id {
                b"fmt " => {
                    if size < 16 {
                        return Err(format(FormatProblem::FmtTooShort { bytes: size }));
                    }
                    if size > MAX_FMT_BYTES {
                        return Err(format(FormatProblem::FmtImplausible { bytes: size }));
                    }
                    let mut b = vec![0u8; size as usize];
                    let got = read_up_to(&mut file, &mut b).map_err(io)?;
                    if got < 16 {
                        return Err(format(FormatProblem::FmtCut));
                    }
                    fmt = Some(parse_fmt(&b[..got]).map_err(|e| match e {
                        FmtError::Format(p) => format(p),
                        FmtError::Unsupported(u) => unsupported(u),
                    })?);
                }
                b"data" => {
                    if fmt.is_none() {
                        return Err(format(FormatProblem::DataBeforeFmt));
                    }
                    break (body, size);
                }
                _ => {}
            }
            // Chunks are padded to even sizes, but some writers forget the pad byte: accept
            // whichever position holds a plausible next chunk.
            let next = body + u64::from(size);
            at = if !size.is_multiple_of(2) && !next_is_chunk(&mut file, next + 1, file_len)? {
                if next_is_chunk(&mut file, next, file_len)? {
                    next
                } else {
                    next + 1
                }
            } else {
                next + u64::from(size % 2)
            };
        };
        let fmt = fmt.ok_or_else(|| format(FormatProblem::MissingChunk { chunk: "fmt" }))?;

        let frame_bytes = usize::from(fmt.block_align);
        let available = file_len.saturating_sub(data_offset);
        // A size the recorder never patched: 0xFFFFFFFF, or 0 with audio after the header
        // and no further chunk where the data chunk would end.
        let placeholder = data_size == u32::MAX
            || (data_size == 0
                && available > 0
                && !(riff_size != 0
                    && riff_size != u32::MAX
                    && u64::from(riff_size) + 8 > data_offset
                    && next_is_chunk(&mut file, data_offset, file_len)?));
        // A plain RIFF file cannot describe more than 4 GiB of data; a recorder that kept going
        // wraps the size field, and reading only the wrapped size would silently drop audio.
        if !placeholder && available >= u64::from(data_size) + (1u64 << 32) {
            return Err(unsupported(UnsupportedEncoding::DataOver4GiB {
                available_bytes: available,
                header_bytes: data_size,
            }));
        }
        let (bytes, mut truncated) = if placeholder || u64::from(data_size) > available {
            (available, true)
        } else {
            (u64::from(data_size), false)
        };
        if !bytes.is_multiple_of(frame_bytes as u64) {
            truncated = true;
        }
        let frames = bytes / frame_bytes as u64;
        let declared_frames = if placeholder {
            frames
        } else {
            u64::from(data_size) / frame_bytes as u64
        };

        file.seek(SeekFrom::Start(data_offset)).map_err(io)?;
        let buf_len = READ_BLOCK_BYTES.max(frame_bytes) / frame_bytes * frame_bytes;
        Ok(WavReader {
            path: path.to_owned(),
            file,
            info: WavInfo {
                sample_rate: fmt.sample_rate,
                channels: fmt.channels,
                bits_per_sample: fmt.bits_per_sample,
                sample_format: fmt.sample_format,
                frames,
                declared_frames,
                truncated,
            },
            encoding: fmt.encoding,
            data_offset,
            frame_bytes,
            pos: 0,
            os_at_pos: true,
            buf: vec![0u8; buf_len],
        })
    }

    /// The file's format and length.
    pub fn info(&self) -> &WavInfo {
        &self.info
    }

    /// The path the reader was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The frame the next [`read_frames`](Self::read_frames) starts at.
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn io_err(&self, source: std::io::Error) -> Error {
        Error::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads up to out.len()/channels frames as interleaved f32 (ints scaled by 1/2^(bits-1)); returns frames read, 0 at end.
    ///
    /// Fewer frames than asked for are returned only at the end of the data.
    ///
    /// # Errors
    /// [`Error::Io`] when the OS read fails. A file that shrank while being read simply ends.
    pub fn read_frames(&mut self, out: &mut [f32]) -> Result<usize> {
        let ch = usize::from(self.info.channels);
        let want = (out.len() / ch) as u64;
        let want = want.min(self.info.frames.saturating_sub(self.pos)) as usize;
        let mut done = 0usize;
        while done < want {
            let frames_per_block = self.buf.len() / self.frame_bytes;
            let n = (want - done).min(frames_per_block);
            let nbytes = n * self.frame_bytes;
            let got = match read_up_to(&mut self.file, &mut self.buf[..nbytes]) {
                Ok(got) => got,
                Err(e) => {
                    // Part of the block may have been read: the OS position is unknown.
                    self.os_at_pos = false;
                    return Err(self.io_err(e));
                }
            };
            let got_frames = got / self.frame_bytes;
            if got_frames == 0 {
                break;
            }
            let bytes = &self.buf[..got_frames * self.frame_bytes];
            let dst = &mut out[done * ch..(done + got_frames) * ch];
            convert(self.encoding, bytes, dst);
            done += got_frames;
            self.pos += got_frames as u64;
            if got_frames < n {
                // The file shrank under us; re-sync the OS position to a frame boundary.
                let at = self.data_offset + self.pos * self.frame_bytes as u64;
                self.file
                    .seek(SeekFrom::Start(at))
                    .map_err(|e| self.io_err(e))?;
                break;
            }
        }
        Ok(done)
    }

    /// Moves the read position to `frame` (clamped to the end of the data).
    ///
    /// # Errors
    /// [`Error::Io`] when the OS seek fails.
    pub fn seek(&mut self, frame: u64) -> Result<()> {
        let frame = frame.min(self.info.frames);
        if frame == self.pos && self.os_at_pos {
            // Already there (a window read right after the previous one): no system call.
            return Ok(());
        }
        let at = self.data_offset + frame * self.frame_bytes as u64;
        self.file
            .seek(SeekFrom::Start(at))
            .map_err(|e| self.io_err(e))?;
        self.pos = frame;
        self.os_at_pos = true;
        Ok(())
    }

    /// Fills `out` (interleaved, len = frames*channels) with frames [start, start+n) where start may be negative or past the end: zeros outside the file.
    ///
    /// Leaves the read position after the last in-file frame of the window.
    ///
    /// # Errors
    /// [`Error::Io`] when the OS read or seek fails.
    pub fn read_window(&mut self, start_frame: i64, out: &mut [f32]) -> Result<()> {
        let ch = usize::from(self.info.channels);
        let n = (out.len() / ch) as i64;
        let frames = i64::try_from(self.info.frames).unwrap_or(i64::MAX);
        let lo = start_frame.max(0);
        let hi = start_frame.saturating_add(n).min(frames);
        if lo >= hi {
            out.fill(0.0);
            return Ok(());
        }
        self.seek(lo as u64)?;
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

/// Reads until `buf` is full or the file ends; returns bytes read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Whether a plausible chunk header (printable id, size within the file) sits at `at`.
fn next_is_chunk(file: &mut File, at: u64, file_len: u64) -> Result<bool> {
    if at + 8 > file_len {
        return Ok(false);
    }
    let mut ch = [0u8; 8];
    // Errors here only make the heuristic answer "no"; the caller's own reads report them.
    if file.seek(SeekFrom::Start(at)).is_err() || file.read_exact(&mut ch).is_err() {
        return Ok(false);
    }
    // A data chunk may carry a placeholder size, so only its id counts.
    Ok(plausible_chunk_id(&ch[0..4])
        && (&ch[0..4] == b"data" || at + 8 + u64::from(le32(&ch, 4)) <= file_len))
}

enum FmtError {
    Format(FormatProblem),
    Unsupported(UnsupportedEncoding),
}

fn parse_fmt(b: &[u8]) -> std::result::Result<Fmt, FmtError> {
    let mut tag = le16(b, 0);
    let channels = le16(b, 2);
    let sample_rate = le32(b, 4);
    let block_align = le16(b, 12);
    let bits = le16(b, 14);
    if tag == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: cbSize(2) validBits(2) channelMask(4) SubFormat GUID(16),
        // whose first two bytes are the real format tag.
        if b.len() < 40 {
            return Err(FmtError::Format(FormatProblem::ExtensibleTooShort {
                bytes: b.len(),
            }));
        }
        tag = le16(b, 24);
    }
    if channels == 0 {
        return Err(FmtError::Format(FormatProblem::ZeroChannels));
    }
    if channels > MAX_CHANNELS {
        return Err(FmtError::Unsupported(
            UnsupportedEncoding::TooManyChannels {
                channels,
                max: MAX_CHANNELS,
            },
        ));
    }
    if sample_rate == 0 {
        return Err(FmtError::Format(FormatProblem::ZeroSampleRate));
    }
    if bits == 0 {
        return Err(FmtError::Format(FormatProblem::ZeroBits));
    }
    if block_align == 0 || !block_align.is_multiple_of(channels) {
        return Err(FmtError::Format(FormatProblem::BlockAlign {
            block_align,
            channels,
        }));
    }
    let container = usize::from(block_align / channels);
    if container * 8 < usize::from(bits) {
        return Err(FmtError::Format(FormatProblem::BitsExceedContainer {
            bits,
            container_bytes: container,
        }));
    }
    let (encoding, sample_format) = match (tag, container) {
        (1, 1) => (Encoding::U8, SampleFormat::Int),
        (1, 2) => (Encoding::I16, SampleFormat::Int),
        (1, 3) => (Encoding::I24, SampleFormat::Int),
        (1, 4) => (Encoding::I32, SampleFormat::Int),
        (3, 4) => (Encoding::F32, SampleFormat::Float),
        (3, 8) => (Encoding::F64, SampleFormat::Float),
        (1, _) => {
            return Err(FmtError::Unsupported(UnsupportedEncoding::IntContainer {
                container_bits: container * 8,
            }));
        }
        (3, _) => {
            return Err(FmtError::Unsupported(UnsupportedEncoding::FloatContainer {
                container_bits: container * 8,
            }));
        }
        (other, _) => {
            return Err(FmtError::Unsupported(UnsupportedEncoding::FormatTag {
                tag: other,
            }));
        }
    };
    Ok(Fmt {
        channels,
        sample_rate,
        block_align,
        bits_per_sample: bits,
        encoding,
        sample_format,
    })
}

/// Converts whole frames of little-endian samples to f32. `bytes.len()` is a multiple of the
/// sample size and `out.len()` equals the sample count.
fn convert(enc: Encoding, bytes: &[u8], out: &mut [f32]) {
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
        Encoding::I24 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(3)) {
                let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
                *o = v as f32 * (1.0 / 8_388_608.0);
            }
        }
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
        }
        Encoding::F64 => {
            for (o, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                *o = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_hound(
        dir: &Path,
        name: &str,
        spec: hound::WavSpec,
        samples: &[f64],
    ) -> std::path::PathBuf {
        let p = dir.join(name);
        let mut w = hound::WavWriter::create(&p, spec).unwrap();
        for &s in samples {
            match (spec.sample_format, spec.bits_per_sample) {
                (hound::SampleFormat::Float, _) => w.write_sample(s as f32).unwrap(),
                (hound::SampleFormat::Int, 8) => w.write_sample((s * 128.0) as i8).unwrap(),
                (hound::SampleFormat::Int, 16) => w.write_sample((s * 32768.0) as i16).unwrap(),
                (hound::SampleFormat::Int, 24) => w.write_sample((s * 8_388_608.0) as i32).unwrap(),
                (hound::SampleFormat::Int, _) => {
                    w.write_sample((s * 2_147_483_648.0) as i32).unwrap()
                }
            }
        }
        w.finalize().unwrap();
        p
    }

    fn ramp(n: usize) -> Vec<f64> {
        (0..n).map(|i| (i as f64 / n as f64) * 1.5 - 0.75).collect()
    }

    fn read_all(r: &mut WavReader, block: usize) -> Vec<f32> {
        let ch = r.info().channels as usize;
        let mut out = Vec::new();
        let mut buf = vec![0f32; block * ch];
        loop {
            let n = r.read_frames(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n * ch]);
        }
        out
    }

    #[test]
    fn reads_every_hound_format() {
        let dir = tempfile::tempdir().unwrap();
        let src = ramp(3000);
        for (bits, fmt, tol) in [
            (8, hound::SampleFormat::Int, 1.0 / 64.0),
            (16, hound::SampleFormat::Int, 1e-4),
            (24, hound::SampleFormat::Int, 1e-6),
            (32, hound::SampleFormat::Int, 1e-6),
            (32, hound::SampleFormat::Float, 1e-7),
        ] {
            for channels in [1u16, 2, 3, 6] {
                let spec = hound::WavSpec {
                    channels,
                    sample_rate: 48000,
                    bits_per_sample: bits,
                    sample_format: fmt,
                };
                let p = write_hound(dir.path(), &format!("t{bits}{channels}.wav"), spec, &src);
                let mut r = WavReader::open(&p).unwrap();
                let info = r.info().clone();
                assert_eq!(info.channels, channels);
                assert_eq!(info.bits_per_sample, bits);
                assert_eq!(info.frames, 3000 / u64::from(channels));
                assert_eq!(info.declared_frames, info.frames);
                assert!(!info.truncated);
                let got = read_all(&mut r, 7);
                assert_eq!(got.len(), (3000 / channels as usize) * channels as usize);
                for (g, s) in got.iter().zip(&src) {
                    assert!((f64::from(*g) - s).abs() <= tol, "{bits} {g} {s}");
                }
            }
        }
    }

    #[test]
    fn extremes_scale_to_full_scale() {
        let dir = tempfile::tempdir().unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 44100,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let p = dir.path().join("x.wav");
        let mut w = hound::WavWriter::create(&p, spec).unwrap();
        w.write_sample(-8_388_608i32).unwrap();
        w.write_sample(8_388_607i32).unwrap();
        w.finalize().unwrap();
        let mut r = WavReader::open(&p).unwrap();
        assert_eq!(read_all(&mut r, 16), vec![-1.0, 8_388_607.0 / 8_388_608.0]);
    }

    /// Builds a WAV byte image by hand: `fmt` is the fmt body, `extra` chunks go before data.
    fn craft(fmt: &[u8], extra: &[(&[u8; 4], Vec<u8>)], data_size: u32, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(b"WAVE");
        v.extend_from_slice(b"fmt ");
        v.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        v.extend_from_slice(fmt);
        for (id, body) in extra {
            v.extend_from_slice(*id);
            v.extend_from_slice(&(body.len() as u32).to_le_bytes());
            v.extend_from_slice(body);
            if body.len() % 2 == 1 {
                v.push(0);
            }
        }
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data_size.to_le_bytes());
        v.extend_from_slice(data);
        let riff = (v.len() - 8) as u32;
        v[4..8].copy_from_slice(&riff.to_le_bytes());
        v
    }

    fn pcm_fmt(tag: u16, ch: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = ch * bits.div_ceil(8);
        let mut f = Vec::new();
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&ch.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    fn extensible_fmt(sub: u16, ch: u16, rate: u32, bits: u16, valid: u16) -> Vec<u8> {
        let mut f = pcm_fmt(0xFFFE, ch, rate, bits);
        f.extend_from_slice(&22u16.to_le_bytes());
        f.extend_from_slice(&valid.to_le_bytes());
        f.extend_from_slice(&3u32.to_le_bytes());
        f.extend_from_slice(&sub.to_le_bytes());
        f.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
        f
    }

    fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
        p
    }

    fn i16_bytes(v: &[i16]) -> Vec<u8> {
        v.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn extensible_float_and_f64() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = [0.5f32, -0.25, 1.0, -1.0]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let b = craft(&extensible_fmt(3, 2, 96000, 32, 32), &[], 16, &data);
        let p = put(dir.path(), "ext.wav", &b);
        let mut r = WavReader::open(&p).unwrap();
        assert_eq!(r.info().sample_format, SampleFormat::Float);
        assert_eq!(r.info().frames, 2);
        assert_eq!(read_all(&mut r, 1), vec![0.5, -0.25, 1.0, -1.0]);

        let data: Vec<u8> = [0.5f64, -0.125]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let b = craft(&pcm_fmt(3, 1, 48000, 64), &[], 16, &data);
        let p = put(dir.path(), "f64.wav", &b);
        let mut r = WavReader::open(&p).unwrap();
        assert_eq!(read_all(&mut r, 8), vec![0.5, -0.125]);
    }

    #[test]
    fn extensible_24_in_32_container_scales_by_container() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = [i32::MIN, 1 << 30]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let b = craft(&extensible_fmt(1, 1, 48000, 32, 24), &[], 8, &data);
        let p = put(dir.path(), "e24.wav", &b);
        let mut r = WavReader::open(&p).unwrap();
        assert_eq!(read_all(&mut r, 8), vec![-1.0, 0.5]);
    }

    #[test]
    fn truncated_data_chunk_reads_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let data = i16_bytes(&[1, 2, 3, 4, 5]);
        // Declares 100 stereo frames, holds 2.5.
        let b = craft(&pcm_fmt(1, 2, 44100, 16), &[], 400, &data);
        let p = put(dir.path(), "trunc.wav", &b);
        let mut r = WavReader::open(&p).unwrap();
        let i = r.info().clone();
        assert_eq!((i.frames, i.declared_frames, i.truncated), (2, 100, true));
        let got = read_all(&mut r, 64);
        assert_eq!(got.len(), 4);
        assert_eq!(got[3], 4.0 / 32768.0);
    }

    #[test]
    fn crashed_recorder_sizes_are_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let data = i16_bytes(&[10, 20, 30, 40, 50, 60]);
        for (name, size) in [("zero.wav", 0u32), ("ff.wav", u32::MAX)] {
            let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], size, &data);
            b[4..8].copy_from_slice(&size.to_le_bytes());
            let p = put(dir.path(), name, &b);
            let mut r = WavReader::open(&p).unwrap();
            assert_eq!(r.info().frames, 6, "{name}");
            assert!(r.info().truncated);
            assert_eq!(read_all(&mut r, 4).len(), 6);
        }
    }

    #[test]
    fn genuinely_empty_data_followed_by_chunk_is_not_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], 0, &[]);
        b.extend_from_slice(b"LIST");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(b"INFO");
        let riff = (b.len() - 8) as u32;
        b[4..8].copy_from_slice(&riff.to_le_bytes());
        let p = put(dir.path(), "empty.wav", &b);
        let r = WavReader::open(&p).unwrap();
        assert_eq!((r.info().frames, r.info().truncated), (0, false));
    }

    #[test]
    fn odd_chunks_padded_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let data = i16_bytes(&[7, 8]);
        let b = craft(
            &pcm_fmt(1, 1, 48000, 16),
            &[(b"junk", vec![1, 2, 3])],
            4,
            &data,
        );
        let p = put(dir.path(), "pad.wav", &b);
        assert_eq!(WavReader::open(&p).unwrap().info().frames, 2);
        // Same without the pad byte.
        let mut nopad = b.clone();
        let fmt_end = 12 + 8 + 16;
        nopad.remove(fmt_end + 8 + 3);
        let p = put(dir.path(), "nopad.wav", &nopad);
        let mut r = WavReader::open(&p).unwrap();
        assert_eq!(read_all(&mut r, 4), vec![7.0 / 32768.0, 8.0 / 32768.0]);
    }

    #[test]
    fn rejects_non_wav_rf64_and_compressed() {
        let dir = tempfile::tempdir().unwrap();
        let p = put(
            dir.path(),
            "text.wav",
            b"this is not a wav file at all, just text",
        );
        let e = WavReader::open(&p).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "{e}");
        assert!(e.to_string().contains("text.wav"));

        let p = put(dir.path(), "short.wav", b"RIFF");
        assert!(matches!(
            WavReader::open(&p).unwrap_err(),
            Error::Format { .. }
        ));

        let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], 0, &[]);
        b[0..4].copy_from_slice(b"RF64");
        let p = put(dir.path(), "rf.wav", &b);
        let e = WavReader::open(&p).unwrap_err();
        assert!(
            matches!(e, Error::Unsupported { .. }) && e.to_string().contains("RF64/BW64"),
            "{e}"
        );

        let b = craft(&pcm_fmt(2, 1, 48000, 4), &[], 0, &[]);
        let p = put(dir.path(), "adpcm.wav", &b);
        let e = WavReader::open(&p).unwrap_err();
        assert!(
            matches!(e, Error::Unsupported { .. }) && e.to_string().contains("ADPCM"),
            "{e}"
        );

        let mut f = pcm_fmt(1, 0, 48000, 16);
        f[12] = 2;
        let p = put(dir.path(), "zero_ch.wav", &craft(&f, &[], 0, &[]));
        assert!(matches!(
            WavReader::open(&p).unwrap_err(),
            Error::Format { .. }
        ));

        let e = WavReader::open(&dir.path().join("missing.wav")).unwrap_err();
        assert!(matches!(e, Error::Io { .. }));
    }

    #[test]
    fn hostile_sizes_do_not_allocate_or_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = craft(&pcm_fmt(1, 1, 48000, 16), &[], 4, &i16_bytes(&[1, 2]));
        // fmt chunk claims 4 GiB.
        b[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        let p = put(dir.path(), "bigfmt.wav", &b);
        assert!(WavReader::open(&p).is_err());
        // Every prefix of a valid file either opens or errors cleanly.
        let full = craft(&extensible_fmt(1, 2, 48000, 24, 24), &[], 12, &[0; 12]);
        for n in 0..full.len() {
            let p = put(dir.path(), "prefix.wav", &full[..n]);
            if let Ok(mut r) = WavReader::open(&p) {
                let _ = read_all(&mut r, 3);
            }
        }
    }

    #[test]
    fn wrapped_4gib_size_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let b = craft(&pcm_fmt(1, 2, 48000, 16), &[], 1000, &[0; 1000]);
        let p = put(dir.path(), "huge.wav", &b);
        // Sparse: no 5 GiB are written.
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(5 << 30).unwrap();
        drop(f);
        let e = WavReader::open(&p).unwrap_err();
        assert!(
            matches!(e, Error::Unsupported { .. }) && e.to_string().contains("4 GiB"),
            "{e}"
        );
    }

    #[test]
    fn seek_and_window() {
        let dir = tempfile::tempdir().unwrap();
        let v: Vec<i16> = (0..20).collect();
        let b = craft(&pcm_fmt(1, 2, 48000, 16), &[], 40, &i16_bytes(&v));
        let p = put(dir.path(), "w.wav", &b);
        let mut r = WavReader::open(&p).unwrap();
        let s = |x: i16| f32::from(x) / 32768.0;
        r.seek(8).unwrap();
        let mut buf = [0f32; 8];
        assert_eq!(r.read_frames(&mut buf).unwrap(), 2);
        assert_eq!(&buf[..4], &[s(16), s(17), s(18), s(19)]);
        r.seek(1000).unwrap();
        assert_eq!(r.read_frames(&mut buf).unwrap(), 0);

        let mut w = [9f32; 8];
        r.read_window(-2, &mut w).unwrap();
        assert_eq!(w, [0.0, 0.0, 0.0, 0.0, s(0), s(1), s(2), s(3)]);
        r.read_window(8, &mut w).unwrap();
        assert_eq!(w, [s(16), s(17), s(18), s(19), 0.0, 0.0, 0.0, 0.0]);
        r.read_window(50, &mut w).unwrap();
        assert_eq!(w, [0.0; 8]);
        r.read_window(-100, &mut w).unwrap();
        assert_eq!(w, [0.0; 8]);
        r.read_window(i64::MIN, &mut w).unwrap();
        r.read_window(i64::MAX, &mut w).unwrap();
        // Consecutive windows (the piecewise reads of the alignment search, where the seek
        // is skipped) read what one window over the same span reads.
        let mut whole = [0f32; 14];
        r.read_window(-3, &mut whole).unwrap();
        let mut pieces = [0f32; 14];
        for (p, chunk) in pieces.chunks_mut(4).enumerate() {
            r.read_window(-3 + 2 * p as i64, chunk).unwrap();
        }
        assert_eq!(pieces, whole);
        // Wider than the file on both sides: zeros before and after, over earlier contents.
        let mut wide = [9f32; 24];
        r.read_window(-1, &mut wide).unwrap();
        let mut want = [0f32; 24];
        for (i, x) in (0..20).enumerate() {
            want[2 + i] = s(x);
        }
        assert_eq!(wide, want);
    }
}
