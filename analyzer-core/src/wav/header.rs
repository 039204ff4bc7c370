//! The RIFF/WAVE header: the chunk walk up to `data`, the `fmt ` chunk, and how much audio is
//! really on disk. Everything is read with positional reads ([`read_full_at`]), so parsing
//! never moves a file position that a reader relies on.

use std::fs::File;
use std::io;
use std::path::Path;

use super::info::{Encoding, MAX_CHANNELS, WavInfo};
use crate::error::{Error, FormatProblem, Result, UnsupportedEncoding};
use crate::report::SampleFormat;

/// Longest `fmt ` chunk we accept; real ones are 16, 18 or 40 bytes.
const MAX_FMT_BYTES: u32 = 1024;

/// A parsed header: what the readers of the file need to find and decode its samples.
#[derive(Debug, Clone)]
pub(super) struct Header {
    pub info: WavInfo,
    pub encoding: Encoding,
    /// Byte offset of the first sample in the file.
    pub data_offset: u64,
    /// Bytes per frame (all channels).
    pub frame_bytes: usize,
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

/// Where the `data` chunk starts and the size its header declares.
struct DataChunk {
    offset: u64,
    declared_bytes: u32,
}

/// The errors of one file, each naming it.
struct Errors<'a> {
    path: &'a Path,
}

impl Errors<'_> {
    fn io(&self, source: io::Error) -> Error {
        Error::Io {
            path: self.path.to_owned(),
            source,
        }
    }
    fn format(&self, problem: FormatProblem) -> Error {
        Error::Format {
            path: self.path.to_owned(),
            problem,
        }
    }
    fn unsupported(&self, encoding: UnsupportedEncoding) -> Error {
        Error::Unsupported {
            path: self.path.to_owned(),
            encoding,
        }
    }
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

/// One positional read (the file position is neither used nor, on Unix, moved).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

/// One positional read. Windows moves the file position, which no reader relies on.
#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Reads from byte `offset` until `buf` is full or the file ends; returns bytes read.
pub(super) fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match read_at(file, &mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Fills `buf` from byte `offset`; a file that ends first is an error (as `read_exact`'s).
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    if read_full_at(file, buf, offset)? < buf.len() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "failed to fill whole buffer",
        ));
    }
    Ok(())
}

/// Parses the header of `file` (opened from `path`, which the errors name).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Format`] when it is not a RIFF/WAVE
/// file or its header is inconsistent, [`Error::Unsupported`] for RF64/BW64 and compressed or
/// otherwise non-PCM encodings.
pub(super) fn parse(path: &Path, file: &File) -> Result<Header> {
    let err = Errors { path };
    let file_len = file.metadata().map_err(|e| err.io(e))?.len();
    let riff_size = riff_size(&err, file, file_len)?;
    let (fmt, data) = walk_chunks(&err, file, file_len)?;

    let frame_bytes = usize::from(fmt.block_align);
    let available = file_len.saturating_sub(data.offset);
    let data_size = data.declared_bytes;
    // A size the recorder never patched: 0xFFFFFFFF, or 0 with audio after the header
    // and no further chunk where the data chunk would end.
    let placeholder = data_size == u32::MAX
        || (data_size == 0
            && available > 0
            && !(riff_size != 0
                && riff_size != u32::MAX
                && u64::from(riff_size) + 8 > data.offset
                && next_is_chunk(file, data.offset, file_len)));
    // A plain RIFF file cannot describe more than 4 GiB of data; a recorder that kept going
    // wraps the size field, and reading only the wrapped size would silently drop audio.
    if !placeholder && available >= u64::from(data_size) + (1u64 << 32) {
        return Err(err.unsupported(UnsupportedEncoding::DataOver4GiB {
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
    Ok(Header {
        info: WavInfo {
            sample_rate: fmt.sample_rate,
            channels: fmt.channels,
            bits_per_sample: fmt.bits_per_sample,
            sample_format: fmt.sample_format,
            frames,
            declared_frames,
            truncated,
            container: crate::report::Container::Wav,
            time_reference_samples: None,
        },
        encoding: fmt.encoding,
        data_offset: data.offset,
        frame_bytes,
    })
}

/// Checks the 12-byte RIFF/WAVE preamble and returns the RIFF size it declares.
fn riff_size(err: &Errors<'_>, file: &File, file_len: u64) -> Result<u32> {
    let mut head = [0u8; 12];
    let got = read_full_at(file, &mut head, 0).map_err(|e| err.io(e))?;
    if got < 12 {
        return Err(err.format(FormatProblem::TooShort {
            file_bytes: file_len,
        }));
    }
    match &head[0..4] {
        b"RIFF" => {}
        b"RF64" | b"BW64" => {
            return Err(err.unsupported(UnsupportedEncoding::Rf64 {
                magic: String::from_utf8_lossy(&head[0..4]).into_owned(),
            }));
        }
        b"RIFX" => {
            return Err(err.unsupported(UnsupportedEncoding::Rifx));
        }
        other => {
            return Err(err.format(FormatProblem::NotRiff {
                magic: String::from_utf8_lossy(other).into_owned(),
            }));
        }
    }
    if &head[8..12] != b"WAVE" {
        return Err(err.format(FormatProblem::NotWave {
            form: String::from_utf8_lossy(&head[8..12]).into_owned(),
        }));
    }
    Ok(le32(&head, 4))
}

/// Walks the chunks from byte 12 until `data`, parsing `fmt ` on the way.
fn walk_chunks(err: &Errors<'_>, file: &File, file_len: u64) -> Result<(Fmt, DataChunk)> {
    let mut fmt: Option<Fmt> = None;
    let mut at: u64 = 12;
    loop {
        if at + 8 > file_len {
            return Err(err.format(FormatProblem::MissingChunk {
                chunk: if fmt.is_none() { "fmt" } else { "data" },
            }));
        }
        let mut ch = [0u8; 8];
        read_exact_at(file, &mut ch, at).map_err(|e| err.io(e))?;
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let size = le32(&ch, 4);
        if !plausible_chunk_id(&id) {
            return Err(err.format(FormatProblem::CorruptChunkHeader { at_byte: at }));
        }
        let body = at + 8;
        match &id {
            b"fmt " => fmt = Some(read_fmt(err, file, body, size)?),
            b"data" => {
                let Some(fmt) = fmt else {
                    return Err(err.format(FormatProblem::DataBeforeFmt));
                };
                let data = DataChunk {
                    offset: body,
                    declared_bytes: size,
                };
                return Ok((fmt, data));
            }
            _ => {}
        }
        // Chunks are padded to even sizes, but some writers forget the pad byte: accept
        // whichever position holds a plausible next chunk.
        let next = body + u64::from(size);
        at = if !size.is_multiple_of(2) && !next_is_chunk(file, next + 1, file_len) {
            if next_is_chunk(file, next, file_len) {
                next
            } else {
                next + 1
            }
        } else {
            next + u64::from(size % 2)
        };
    }
}

/// Reads and parses the `fmt ` chunk of `size` bytes whose body starts at byte `body`.
fn read_fmt(err: &Errors<'_>, file: &File, body: u64, size: u32) -> Result<Fmt> {
    if size < 16 {
        return Err(err.format(FormatProblem::FmtTooShort { bytes: size }));
    }
    if size > MAX_FMT_BYTES {
        return Err(err.format(FormatProblem::FmtImplausible { bytes: size }));
    }
    let mut b = vec![0u8; size as usize];
    let got = read_full_at(file, &mut b, body).map_err(|e| err.io(e))?;
    if got < 16 {
        return Err(err.format(FormatProblem::FmtCut));
    }
    parse_fmt(&b[..got]).map_err(|e| match e {
        FmtError::Format(p) => err.format(p),
        FmtError::Unsupported(u) => err.unsupported(u),
    })
}

/// Whether a plausible chunk header (printable id, size within the file) sits at `at`.
fn next_is_chunk(file: &File, at: u64, file_len: u64) -> bool {
    if at + 8 > file_len {
        return false;
    }
    let mut ch = [0u8; 8];
    // Errors here only make the heuristic answer "no"; the caller's own reads report them.
    if read_exact_at(file, &mut ch, at).is_err() {
        return false;
    }
    // A data chunk may carry a placeholder size, so only its id counts.
    plausible_chunk_id(&ch[0..4])
        && (&ch[0..4] == b"data" || at + 8 + u64::from(le32(&ch, 4)) <= file_len)
}

/// Why a `fmt ` chunk was refused.
enum FmtError {
    Format(FormatProblem),
    Unsupported(UnsupportedEncoding),
}

/// Parses the body of a `fmt ` chunk (at least 16 bytes).
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
