//! The RIFF/WAVE header: the chunk walk up to `data`, the `fmt ` chunk, and how much audio is
//! really on disk. Everything is read with positional reads ([`read_full_at`]), so parsing
//! never moves a file position that a reader relies on.

use std::fs::File;
use std::io;
use std::path::Path;

use super::info::{Encoding, MAX_CHANNELS, WavInfo};
use crate::error::{Error, FormatProblem, Result, UnsupportedEncoding};
use crate::report::{Container, SampleFormat};

/// Longest `fmt ` chunk we accept; real ones are 16, 18 or 40 bytes.
const MAX_FMT_BYTES: u32 = 1024;

/// The most of an iXML chunk scanned for its time reference. Real iXML is a few KiB; the
/// buffer is sized by this cap, never by the chunk's size field.
const MAX_IXML_BYTES: u32 = 64 * 1024;

/// The most chunks looked at after `data` for `bext`/iXML: enough for every writer seen
/// (`LIST`, `bext`, `iXML`, `axml`, `chna`, `_PMX`, ...), bounded against a file of tiny
/// chunks.
const MAX_TAIL_CHUNKS: usize = 64;

/// Offset of `TimeReferenceLow` in a `bext` body (EBU Tech 3285): after Description (256),
/// Originator (32), OriginatorReference (32), OriginationDate (10) and OriginationTime (8).
const BEXT_TIME_REFERENCE_AT: u64 = 338;

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

/// The 64-bit sizes of an RF64/BW64 file's `ds64` chunk (EBU Tech 3306 / ITU-R BS.2088); a
/// 32-bit size field of 0xFFFFFFFF means "the size is here".
#[derive(Debug, Clone, Copy)]
struct Ds64 {
    riff_bytes: u64,
    data_bytes: u64,
}

/// The time-stamp chunks met on the walk: (body offset, size) of each.
#[derive(Default)]
struct Stamps {
    bext: Option<(u64, u32)>,
    ixml: Option<(u64, u32)>,
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

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from(le32(b, at)) | u64::from(le32(b, at + 4)) << 32
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
/// file or its header is inconsistent (an RF64/BW64 file without a readable `ds64` chunk),
/// [`Error::Unsupported`] for compressed or otherwise non-PCM encodings.
pub(super) fn parse(path: &Path, file: &File) -> Result<Header> {
    let err = Errors { path };
    let file_len = file.metadata().map_err(|e| err.io(e))?.len();
    let (container, riff_size) = preamble(&err, file, file_len)?;
    let ds64 = match container {
        Container::Wav => None,
        _ => Some(read_ds64(&err, file, container)?),
    };
    let mut stamps = Stamps::default();
    let (fmt, data) = walk_chunks(&err, file, file_len, &mut stamps)?;

    let frame_bytes = usize::from(fmt.block_align);
    let available = file_len.saturating_sub(data.offset);
    // In RF64/BW64 a 32-bit size of 0xFFFFFFFF defers to the ds64 chunk's 64-bit one.
    let (data_size, riff_size) = match ds64 {
        Some(d) => (
            if data.declared_bytes == u32::MAX {
                d.data_bytes
            } else {
                u64::from(data.declared_bytes)
            },
            if riff_size == u32::MAX {
                d.riff_bytes
            } else {
                u64::from(riff_size)
            },
        ),
        None => (u64::from(data.declared_bytes), u64::from(riff_size)),
    };
    // What a writer leaves when it cannot seek back (a pipe) or never finished: all ones.
    let unknown = |size: u64| match ds64 {
        Some(_) => size == u64::MAX,
        None => size == u64::from(u32::MAX),
    };
    // A size the writer never patched: all ones, or 0 with audio after the header and no
    // further chunk where the data chunk would end.
    let placeholder = unknown(data_size)
        || (data_size == 0
            && available > 0
            && !(riff_size != 0
                && !unknown(riff_size)
                && riff_size.saturating_add(8) > data.offset
                && next_is_chunk(file, data.offset, file_len)));
    // A plain RIFF file cannot describe more than 4 GiB of data; a recorder that kept going
    // wraps the size field, and reading only the wrapped size would silently drop audio.
    if ds64.is_none() && !placeholder && available >= data_size + (1u64 << 32) {
        return Err(err.unsupported(UnsupportedEncoding::DataOver4GiB {
            available_bytes: available,
            header_bytes: data.declared_bytes,
        }));
    }
    // Unfinalised sizes are not a truncation: the audio runs to the end of the file (a
    // trailing partial frame is what a killed writer leaves, and is dropped).
    let (bytes, mut truncated) = if placeholder {
        (available, false)
    } else if data_size > available {
        (available, true)
    } else {
        (data_size, false)
    };
    if !placeholder && !bytes.is_multiple_of(frame_bytes as u64) {
        truncated = true;
    }
    let frames = bytes / frame_bytes as u64;
    let declared_frames = if placeholder {
        frames
    } else {
        data_size / frame_bytes as u64
    };
    if !placeholder && !truncated && stamps.bext.is_none() {
        // BWF writers often append `bext`/iXML after the audio (they know the stamp late).
        // Not truncated: the data ends inside the file, so this cannot overflow.
        let end = data.offset + data_size;
        walk_tail(
            file,
            end + data_size % 2,
            file_len,
            ds64.is_some(),
            &mut stamps,
        );
    }
    Ok(Header {
        info: WavInfo {
            sample_rate: fmt.sample_rate,
            channels: fmt.channels,
            bits_per_sample: fmt.bits_per_sample,
            sample_format: fmt.sample_format,
            frames,
            declared_frames,
            truncated,
            container,
            time_reference_samples: time_reference(file, &stamps),
            sizes_unfinalised: placeholder,
        },
        encoding: fmt.encoding,
        data_offset: data.offset,
        frame_bytes,
    })
}

/// Reads the `ds64` chunk that must follow an RF64/BW64 preamble.
fn read_ds64(err: &Errors<'_>, file: &File, container: Container) -> Result<Ds64> {
    let mut b = [0u8; 32];
    let got = read_full_at(file, &mut b, 12).map_err(|e| err.io(e))?;
    // riffSize (8), dataSize (8), sampleCount (8); the table length and table may follow.
    if got < 32 || &b[0..4] != b"ds64" || le32(&b, 4) < 24 {
        return Err(err.format(FormatProblem::BadDs64 {
            magic: container_magic(container),
        }));
    }
    Ok(Ds64 {
        riff_bytes: le64(&b, 8),
        data_bytes: le64(&b, 16),
    })
}

/// The magic a 64-bit container starts with, for messages.
fn container_magic(container: Container) -> String {
    match container {
        Container::Bw64 => "BW64",
        _ => "RF64",
    }
    .to_owned()
}

/// Walks the chunks after `data` (from `at`) for the time-stamp chunks, at most
/// [`MAX_TAIL_CHUNKS`] of them. Whatever follows the audio is optional: a broken chunk there
/// ends the walk, never the file.
fn walk_tail(file: &File, mut at: u64, file_len: u64, rf64: bool, stamps: &mut Stamps) {
    for _ in 0..MAX_TAIL_CHUNKS {
        if at + 8 > file_len {
            return;
        }
        let mut ch = [0u8; 8];
        if read_exact_at(file, &mut ch, at).is_err() || !plausible_chunk_id(&ch[0..4]) {
            return;
        }
        let size = le32(&ch, 4);
        // In RF64 an all-ones size lives in the ds64 table: not a stamp chunk we can place.
        if rf64 && size == u32::MAX {
            return;
        }
        note_stamp(&ch[0..4], at + 8, size, stamps);
        at += 8 + u64::from(size) + u64::from(size % 2);
    }
}

/// Remembers a `bext` or `iXML` chunk (the first of each).
fn note_stamp(id: &[u8], body: u64, size: u32, stamps: &mut Stamps) {
    match id {
        b"bext" => {
            stamps.bext.get_or_insert((body, size));
        }
        b"iXML" => {
            stamps.ixml.get_or_insert((body, size));
        }
        _ => {}
    }
}

/// The file's time reference (samples since midnight): `bext`'s, else iXML's. A chunk too
/// short or unreadable is no stamp, never an error: stamps are optional.
fn time_reference(file: &File, stamps: &Stamps) -> Option<u64> {
    if let Some((body, size)) = stamps.bext
        && u64::from(size) >= BEXT_TIME_REFERENCE_AT + 8
    {
        let mut b = [0u8; 8];
        if read_exact_at(file, &mut b, body + BEXT_TIME_REFERENCE_AT).is_ok() {
            return Some(le64(&b, 0));
        }
    }
    let (body, size) = stamps.ixml?;
    let mut b = vec![0u8; size.min(MAX_IXML_BYTES) as usize];
    let got = read_full_at(file, &mut b, body).ok()?;
    ixml_time_reference(&b[..got])
}

/// `BWF_TIME_REFERENCE_LOW`/`_HIGH` of an iXML document (a missing HIGH is 0).
fn ixml_time_reference(xml: &[u8]) -> Option<u64> {
    let low = ixml_u32(xml, b"BWF_TIME_REFERENCE_LOW")?;
    let high = ixml_u32(xml, b"BWF_TIME_REFERENCE_HIGH").unwrap_or(0);
    Some(u64::from(high) << 32 | u64::from(low))
}

/// The decimal number inside the first `<TAG>...</TAG>` of `xml`.
fn ixml_u32(xml: &[u8], tag: &[u8]) -> Option<u32> {
    let mut open = Vec::with_capacity(tag.len() + 2);
    open.push(b'<');
    open.extend_from_slice(tag);
    open.push(b'>');
    let start = xml.windows(open.len()).position(|w| w == open.as_slice())? + open.len();
    let rest = &xml[start..];
    let end = rest.iter().position(|&c| c == b'<')?;
    std::str::from_utf8(&rest[..end]).ok()?.trim().parse().ok()
}

/// Checks the 12-byte RIFF/WAVE (or RF64/BW64) preamble and returns the container and the
/// RIFF size it declares.
fn preamble(err: &Errors<'_>, file: &File, file_len: u64) -> Result<(Container, u32)> {
    let mut head = [0u8; 12];
    let got = read_full_at(file, &mut head, 0).map_err(|e| err.io(e))?;
    if got < 12 {
        return Err(err.format(FormatProblem::TooShort {
            file_bytes: file_len,
        }));
    }
    let container = match &head[0..4] {
        b"RIFF" => Container::Wav,
        b"RF64" => Container::Rf64,
        b"BW64" => Container::Bw64,
        b"RIFX" => {
            return Err(err.unsupported(UnsupportedEncoding::Rifx));
        }
        other => {
            return Err(err.format(FormatProblem::NotRiff {
                magic: String::from_utf8_lossy(other).into_owned(),
            }));
        }
    };
    if &head[8..12] != b"WAVE" {
        return Err(err.format(FormatProblem::NotWave {
            form: String::from_utf8_lossy(&head[8..12]).into_owned(),
        }));
    }
    Ok((container, le32(&head, 4)))
}

/// Walks the chunks from byte 12 until `data`, parsing `fmt ` on the way.
/// Notes the time-stamp chunks met on the way in `stamps`.
fn walk_chunks(
    err: &Errors<'_>,
    file: &File,
    file_len: u64,
    stamps: &mut Stamps,
) -> Result<(Fmt, DataChunk)> {
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
            other => note_stamp(other, body, size, stamps),
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
