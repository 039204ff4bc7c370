//! A corrected file in its own container: RIFF/WAVE (BWF), RF64/BW64, AIFF and AIFF-C are
//! read as their chunks and their raw PCM bytes ([`Original`], [`Pcm`]), corrected on those
//! bytes, and written back as the same container with every other chunk kept.
//!
//! Why on bytes: the check's reader holds samples as `f32`, exact only up to 24-bit integers
//! and 32-bit float. A shift, an inversion or a swap moves or negates whole samples, so done
//! on the stored codes it returns the clean original to the last bit at every depth (8 to
//! 32-bit integer, 32 and 64-bit float, either byte order). Resampling goes through `f32`
//! (`rubato`) and is written back at the original depth ([`Codec::encode`]).
//!
//! One honest exception: an integer format holds one more negative code than positive ones,
//! so the most negative code (-2^(n-1)) has no inverse; it is written as the largest positive
//! code, one step short, and [`Pcm::invert`] counts them for the log. A float sign flip is
//! always exact.
//!
//! FLAC is not read here (`None`): [`super::flac`] re-encodes it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::FixError;
use super::edges::{self, FrameStore};
use super::ops::Edge;
use super::riff::Chunk;
use crate::units::amp_to_db;

/// Most chunks walked in one file.
const MAX_CHUNKS: usize = 256;
/// Largest chunk body carried over, bytes: metadata chunks are a few KiB; anything larger is
/// not metadata and is not held in memory.
const MAX_CARRIED_CHUNK_BYTES: u64 = 16 << 20;
/// `ds64` body written: RIFF size, data size, sample count and an empty table (EBU Tech 3306).
const DS64_BYTES: usize = 28;

/// The container a file is written back as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// RIFF/WAVE, BWF included.
    Wav,
    /// RF64 or BW64 (the id written back), sizes in a `ds64` chunk.
    Rf64([u8; 4]),
    /// AIFF (`aifc`: AIFF-C).
    Aiff {
        /// AIFF-C.
        aifc: bool,
    },
}

/// How one sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    /// Bytes per sample (1, 2, 3, 4 or 8).
    pub bytes: usize,
    /// IEEE float (else two's-complement integer).
    pub float: bool,
    /// Most significant byte first (AIFF, AIFF-C other than `sowt`).
    pub big_endian: bool,
    /// 8-bit WAV: unsigned, silence at 128.
    pub unsigned: bool,
}

impl Codec {
    /// The codec of a little-endian WAV with these bytes per sample.
    pub fn wav(bytes: usize, float: bool) -> Codec {
        Codec {
            bytes,
            float,
            big_endian: false,
            unsigned: !float && bytes == 1,
        }
    }

    /// "24-bit integer" / "64-bit float".
    pub fn text(self) -> String {
        let bits = self.bytes * 8;
        if self.float {
            format!("{bits}-bit float")
        } else {
            format!("{bits}-bit integer")
        }
    }

    /// The stored code of a sample, most significant byte first, as an integer (sign
    /// extended; an unsigned byte moved to signed).
    fn int(self, b: &[u8]) -> i64 {
        let mut v: u64 = 0;
        if self.big_endian {
            for &x in b {
                v = v << 8 | u64::from(x);
            }
        } else {
            for &x in b.iter().rev() {
                v = v << 8 | u64::from(x);
            }
        }
        let bits = 8 * self.bytes as u32;
        if self.unsigned {
            return v as i64 - 128;
        }
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    }

    fn put_int(self, v: i64, b: &mut [u8]) {
        let u = if self.unsigned {
            (v + 128) as u64
        } else {
            v as u64
        };
        let n = self.bytes;
        for (k, x) in b.iter_mut().enumerate() {
            let byte = if self.big_endian { n - 1 - k } else { k };
            *x = (u >> (8 * byte)) as u8;
        }
    }

    fn float(self, b: &[u8]) -> f64 {
        let mut a = [0u8; 8];
        a[..self.bytes].copy_from_slice(b);
        if self.big_endian {
            a[..self.bytes].reverse();
        }
        if self.bytes == 8 {
            f64::from_le_bytes(a)
        } else {
            f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]]))
        }
    }

    /// Full scale of an integer code: 2^(bits-1).
    fn scale(self) -> f64 {
        (1u64 << (8 * self.bytes - 1)) as f64
    }

    /// One sample as amplitude (+-1 full scale).
    pub fn amplitude(self, b: &[u8]) -> f64 {
        if self.float {
            self.float(b)
        } else {
            self.int(b) as f64 / self.scale()
        }
    }

    /// Encodes samples (+-1 full scale) at this codec: integers scaled by 2^(bits-1), rounded
    /// and clamped, without dither (samples read from a file of this depth come back to their
    /// codes up to 24 bits; wider ones keep their depth, not the `f32` path's lost bits).
    pub fn encode(self, samples: &[f32]) -> Vec<u8> {
        let mut out = vec![0u8; samples.len() * self.bytes];
        for (&s, b) in samples.iter().zip(out.chunks_exact_mut(self.bytes)) {
            if self.float {
                let mut le = [0u8; 8];
                if self.bytes == 8 {
                    le = f64::from(s).to_le_bytes();
                } else {
                    le[..4].copy_from_slice(&s.to_le_bytes());
                }
                b.copy_from_slice(&le[..self.bytes]);
                if self.big_endian {
                    b.reverse();
                }
            } else {
                let scale = self.scale();
                let v = (f64::from(s) * scale).round().clamp(-scale, scale - 1.0) as i64;
                self.put_int(v, b);
            }
        }
        out
    }

    /// The stored bytes of silence.
    fn silence(self) -> Vec<u8> {
        let mut b = vec![0u8; self.bytes];
        self.put_int(0, &mut b);
        b
    }
}

/// A file as its container holds it: everything but its audio, and where the audio is.
#[derive(Debug, Clone, PartialEq)]
pub struct Original {
    /// Its container.
    pub kind: Kind,
    /// Its sample codec.
    pub codec: Codec,
    /// Channels per frame.
    pub channels: usize,
    /// Frames per second.
    pub sample_rate: u32,
    /// The `fmt ` body (WAV, RF64) or the `COMM` body (AIFF).
    pub format_body: Vec<u8>,
    /// Every other chunk, in file order (not the format, audio, `ds64`, `fact` or padding
    /// chunks, which are rewritten).
    pub chunks: Vec<Chunk>,
    /// Where the audio bytes start and how many there are.
    pub data: (u64, u64),
}

fn io(path: &Path, source: std::io::Error) -> FixError {
    FixError::Core(crate::Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// An 80-bit IEEE extended (AIFF's `sampleRate`) as a whole rate, Hz.
fn extended_to_hz(b: &[u8]) -> u32 {
    let exp = i32::from(u16::from_be_bytes([b[0] & 0x7f, b[1]])) - 16383;
    let mut m = [0u8; 8];
    m.copy_from_slice(&b[2..10]);
    let mantissa = u64::from_be_bytes(m);
    let shift = 63 - exp;
    if !(0..64).contains(&shift) {
        return 0;
    }
    (mantissa >> shift) as u32
}

/// A whole rate, Hz, as an 80-bit IEEE extended.
fn hz_to_extended(hz: u32) -> [u8; 10] {
    let mut out = [0u8; 10];
    if hz == 0 {
        return out;
    }
    let lz = u64::from(hz).leading_zeros();
    let exp = (16383 + 63 - lz) as u16;
    out[..2].copy_from_slice(&exp.to_be_bytes());
    out[2..].copy_from_slice(&(u64::from(hz) << lz).to_be_bytes());
    out
}

impl Original {
    /// A plain RIFF/WAVE file in `codec` (for a FLAC original, written as WAV).
    pub fn wav(codec: Codec, channels: usize, sample_rate: u32) -> Original {
        let tag: u16 = if codec.float { 3 } else { 1 };
        let block = (channels * codec.bytes) as u16;
        let mut b = Vec::with_capacity(16);
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&(channels as u16).to_le_bytes());
        b.extend_from_slice(&sample_rate.to_le_bytes());
        b.extend_from_slice(&(sample_rate * u32::from(block)).to_le_bytes());
        b.extend_from_slice(&block.to_le_bytes());
        b.extend_from_slice(&((codec.bytes * 8) as u16).to_le_bytes());
        Original {
            kind: Kind::Wav,
            codec,
            channels,
            sample_rate,
            format_body: b,
            chunks: Vec::new(),
            data: (0, 0),
        }
    }

    /// Chunk ids of the carried chunks, for the log.
    pub fn kept_ids(&self) -> Vec<String> {
        self.chunks
            .iter()
            .map(|c| String::from_utf8_lossy(&c.id).trim_end().to_owned())
            .collect()
    }

    /// Its chunks with the time reference set to `samples` at `rate`: the `bext` chunk's
    /// (added to a WAV or RF64 file that has none; AIFF has no `bext`) and the iXML stamps.
    /// `None` when the container has nowhere to hold it (AIFF without iXML or `bext`).
    pub fn stamped_chunks(&self, samples: u64, rate: u32) -> Option<Vec<Chunk>> {
        let mut chunks = self.chunks.clone();
        let mut placed = false;
        for c in chunks.iter_mut().filter(|c| &c.id == b"iXML") {
            placed |= set_ixml_time_reference(&mut c.body, samples, rate);
        }
        let has_bext = chunks.iter().any(|c| &c.id == b"bext");
        if has_bext || !matches!(self.kind, Kind::Aiff { .. }) {
            super::riff::set_time_reference(&mut chunks, samples);
            placed = true;
        }
        placed.then_some(chunks)
    }
}

/// Walks `path`'s chunks. `None` when it is no container this module writes (FLAC, or a
/// format body it cannot place).
///
/// # Errors
/// [`FixError::Core`] when the file cannot be read.
pub fn read_original(path: &Path) -> Result<Option<Original>, FixError> {
    let mut f = File::open(path).map_err(|e| io(path, e))?;
    let len = f.metadata().map_err(|e| io(path, e))?.len();
    let mut head = [0u8; 12];
    if f.read_exact(&mut head).is_err() {
        return Ok(None);
    }
    let (kind, big) = match (&head[0..4], &head[8..12]) {
        (b"RIFF", b"WAVE") => (Kind::Wav, false),
        (b"RF64" | b"BW64", b"WAVE") => (Kind::Rf64([head[0], head[1], head[2], head[3]]), false),
        (b"FORM", b"AIFF") => (Kind::Aiff { aifc: false }, true),
        (b"FORM", b"AIFC") => (Kind::Aiff { aifc: true }, true),
        _ => return Ok(None),
    };
    let mut format_body = None;
    let mut chunks = Vec::new();
    let mut data = None;
    let mut ds64_data: Option<u64> = None;
    let mut at = 12u64;
    for _ in 0..MAX_CHUNKS {
        if at + 8 > len {
            break;
        }
        let mut h = [0u8; 8];
        f.seek(SeekFrom::Start(at)).map_err(|e| io(path, e))?;
        f.read_exact(&mut h).map_err(|e| io(path, e))?;
        let id = [h[0], h[1], h[2], h[3]];
        let size32 = if big { be32(&h, 4) } else { le32(&h, 4) };
        let body_at = at + 8;
        let mut size = u64::from(size32);
        if &id == b"data" && size32 == u32::MAX {
            size = ds64_data.unwrap_or(len - body_at);
        }
        let body_len = size.min(len - body_at);
        let read_body = |f: &mut File| -> Result<Vec<u8>, FixError> {
            let mut body = vec![0u8; body_len as usize];
            f.read_exact(&mut body).map_err(|e| io(path, e))?;
            Ok(body)
        };
        match &id {
            b"data" if !big => data = Some((body_at, body_len)),
            b"SSND" if big => {
                let b = read_head(&mut f, path, 8.min(body_len as usize))?;
                if b.len() == 8 {
                    let offset = u64::from(be32(&b, 0));
                    let start = body_at + 8 + offset;
                    data = Some((start, (body_at + body_len).saturating_sub(start)));
                }
            }
            b"ds64" if !big => {
                let b = read_body(&mut f)?;
                if b.len() >= 16 {
                    ds64_data = Some(le64(&b, 8));
                }
            }
            b"fmt " | b"COMM" => format_body = Some(read_body(&mut f)?),
            b"fact" | b"JUNK" | b"junk" | b"PAD " | b"FLLR" | b"elm1" => {}
            _ if size <= MAX_CARRIED_CHUNK_BYTES => {
                chunks.push(Chunk {
                    id,
                    body: read_body(&mut f)?,
                });
            }
            _ => {}
        }
        at = body_at + size + (size & 1);
    }
    let (Some(format_body), Some(data)) = (format_body, data) else {
        return Ok(None);
    };
    let parsed = if big {
        parse_comm(&format_body, matches!(kind, Kind::Aiff { aifc: true }))
    } else {
        parse_fmt(&format_body)
    };
    let Some((codec, channels, sample_rate)) = parsed else {
        return Ok(None);
    };
    Ok(Some(Original {
        kind,
        codec,
        channels,
        sample_rate,
        format_body,
        chunks,
        data,
    }))
}

fn read_head(f: &mut File, path: &Path, n: usize) -> Result<Vec<u8>, FixError> {
    let mut b = vec![0u8; n];
    f.read_exact(&mut b).map_err(|e| io(path, e))?;
    Ok(b)
}

/// Codec, channels and rate of a WAV `fmt ` body (PCM, float, or extensible of either).
fn parse_fmt(b: &[u8]) -> Option<(Codec, usize, u32)> {
    if b.len() < 16 {
        return None;
    }
    let mut tag = le16(b, 0);
    if tag == 0xFFFE && b.len() >= 26 {
        tag = le16(b, 24);
    }
    let channels = usize::from(le16(b, 2));
    let block = usize::from(le16(b, 12));
    if channels == 0 || block % channels != 0 {
        return None;
    }
    let bytes = block / channels;
    let float = match tag {
        1 => false,
        3 => true,
        _ => return None,
    };
    let ok = if float {
        matches!(bytes, 4 | 8)
    } else {
        (1..=4).contains(&bytes)
    };
    ok.then(|| (Codec::wav(bytes, float), channels, le32(b, 4)))
}

/// Codec, channels and rate of an AIFF/AIFF-C `COMM` body.
fn parse_comm(b: &[u8], aifc: bool) -> Option<(Codec, usize, u32)> {
    if b.len() < 18 {
        return None;
    }
    let channels = usize::from(u16::from_be_bytes([b[0], b[1]]));
    let bits = usize::from(u16::from_be_bytes([b[6], b[7]]));
    let rate = extended_to_hz(&b[8..18]);
    let compression: &[u8] = if aifc && b.len() >= 22 {
        &b[18..22]
    } else {
        b"NONE"
    };
    let int = |big_endian| Codec {
        bytes: bits.div_ceil(8),
        float: false,
        big_endian,
        unsigned: false,
    };
    let codec = match compression {
        b"NONE" | b"twos" => int(true),
        b"sowt" => int(false),
        b"fl32" | b"FL32" => Codec {
            bytes: 4,
            float: true,
            big_endian: true,
            unsigned: false,
        },
        b"fl64" | b"FL64" => Codec {
            bytes: 8,
            float: true,
            big_endian: true,
            unsigned: false,
        },
        _ => return None,
    };
    (channels > 0 && (codec.float || (1..=4).contains(&codec.bytes)))
        .then_some((codec, channels, rate))
}

/// One file's audio as its stored bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    /// How each sample is stored.
    pub codec: Codec,
    /// Channels per frame.
    pub channels: usize,
    /// Interleaved samples, as stored.
    pub bytes: Vec<u8>,
}

impl Pcm {
    /// Reads `frames` frames of `original`'s audio from `path`.
    ///
    /// # Errors
    /// [`FixError::Core`] when the file cannot be read.
    pub fn read(path: &Path, original: &Original, frames: u64) -> Result<Pcm, FixError> {
        let frame = (original.codec.bytes * original.channels) as u64;
        let len = original.data.1.min(frames.saturating_mul(frame));
        let mut f = File::open(path).map_err(|e| io(path, e))?;
        f.seek(SeekFrom::Start(original.data.0))
            .map_err(|e| io(path, e))?;
        let mut bytes = vec![0u8; len as usize];
        f.read_exact(&mut bytes).map_err(|e| io(path, e))?;
        Ok(Pcm {
            codec: original.codec,
            channels: original.channels,
            bytes,
        })
    }

    fn frame_bytes(&self) -> usize {
        self.codec.bytes * self.channels.max(1)
    }

    /// Frames held.
    pub fn frames(&self) -> usize {
        self.bytes.len() / self.frame_bytes()
    }

    /// Negates one stored sample; `true` when it was the most negative integer code, which
    /// has no inverse and becomes the largest positive one.
    fn negate(codec: Codec, b: &mut [u8]) -> bool {
        if codec.float {
            let sign = if codec.big_endian { 0 } else { codec.bytes - 1 };
            b[sign] ^= 0x80;
            return false;
        }
        let max = codec.scale() as i64 - 1;
        let v = -codec.int(b);
        codec.put_int(v.min(max), b);
        v > max
    }

    /// Inverts the polarity of every channel (`None`) or of one; returns the samples that
    /// were the most negative integer code (written one step short: see the module docs).
    pub fn invert(&mut self, channel: Option<usize>) -> u64 {
        let (codec, n, ch) = (self.codec, self.codec.bytes, self.channels);
        let mut clipped = 0;
        for (k, s) in self.bytes.chunks_exact_mut(n).enumerate() {
            if channel.is_none_or(|c| k % ch == c) && Pcm::negate(codec, s) {
                clipped += 1;
            }
        }
        clipped
    }

    /// Exchanges the first two channels.
    pub fn swap_channels(&mut self) {
        let n = self.codec.bytes;
        if self.channels >= 2 {
            let fb = self.frame_bytes();
            for f in self.bytes.chunks_exact_mut(fb) {
                let (l, r) = f.split_at_mut(n);
                l.swap_with_slice(&mut r[..n]);
            }
        }
    }

    /// Sets non-finite float samples (NaN, infinity) to silence; returns how many.
    pub fn zero_non_finite(&mut self) -> u64 {
        let codec = self.codec;
        if !codec.float {
            return 0;
        }
        let mut n = 0;
        for s in self.bytes.chunks_exact_mut(codec.bytes) {
            if !codec.float(s).is_finite() {
                s.fill(0);
                n += 1;
            }
        }
        n
    }

    /// Moves the content `offset_samples` earlier (positive: silence trimmed from the start)
    /// or later (negative: silence padded at the start), as [`super::Audio::shift`].
    ///
    /// # Errors
    /// [`FixError::WouldCutAudio`] when what would be trimmed is not silence.
    pub fn shift(&mut self, offset_samples: i64, file: &str) -> Result<Edge, FixError> {
        edges::shift(self, offset_samples, file)
    }

    /// Brings the audio to `frames` at its end, as [`super::Audio::fit_length`].
    ///
    /// # Errors
    /// [`FixError::WouldCutAudio`] when what would be trimmed is not silence.
    pub fn fit_length(&mut self, frames: usize, file: &str) -> Result<Edge, FixError> {
        edges::fit_length(self, frames, file)
    }

    /// The samples as `f32` amplitude (for the residual stem's sum).
    pub fn to_f32(&self) -> Vec<f32> {
        self.bytes
            .chunks_exact(self.codec.bytes)
            .map(|s| self.codec.amplitude(s) as f32)
            .collect()
    }
}

impl FrameStore for Pcm {
    fn frames(&self) -> usize {
        Pcm::frames(self)
    }

    fn peak_dbfs(&self, from: usize, to: usize) -> f64 {
        let fb = self.frame_bytes();
        let peak = self.bytes[from * fb..to * fb]
            .chunks_exact(self.codec.bytes)
            .fold(0.0f64, |m, s| m.max(self.codec.amplitude(s).abs()));
        amp_to_db(peak)
    }

    fn drain_front(&mut self, n: usize) {
        self.bytes.drain(..n * self.frame_bytes());
    }

    fn pad_front(&mut self, n: usize) {
        let pad = self.codec.silence().repeat(n * self.channels);
        self.bytes.splice(0..0, pad);
    }

    fn truncate(&mut self, frames: usize) {
        self.bytes.truncate(frames * self.frame_bytes());
    }

    fn pad_back(&mut self, n: usize) {
        let pad = self.codec.silence().repeat(n * self.channels);
        self.bytes.extend_from_slice(&pad);
    }
}

/// Rewrites the iXML time stamp to `samples` since midnight at `rate`: the
/// `TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI`/`_LO` and `TIMESTAMP_SAMPLE_RATE` elements and the
/// `BWF_TIME_REFERENCE_HIGH`/`_LOW` ones (which the check's reader uses), where present.
/// Returns whether it holds any of them; elements absent stay absent.
pub fn set_ixml_time_reference(body: &mut Vec<u8>, samples: u64, rate: u32) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let hi = (samples >> 32).to_string();
    let lo = (samples & 0xFFFF_FFFF).to_string();
    let rate = rate.to_string();
    let mut out = text.to_owned();
    let mut found = false;
    for (tag, value) in [
        ("TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI", &hi),
        ("TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO", &lo),
        ("TIMESTAMP_SAMPLE_RATE", &rate),
        ("BWF_TIME_REFERENCE_HIGH", &hi),
        ("BWF_TIME_REFERENCE_LOW", &lo),
    ] {
        found |= out.contains(&format!("<{tag}>"));
        out = replace_elements(&out, tag, value);
    }
    *body = out.into_bytes();
    found
}

/// Every `<TAG>...</TAG>` of `xml` with `value` as its content.
fn replace_elements(xml: &str, tag: &str, value: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(a) = rest.find(&open) {
        let body = a + open.len();
        let Some(b) = rest[body..].find(&close) else {
            break;
        };
        out.push_str(&rest[..body]);
        out.push_str(value);
        rest = &rest[body + b..];
    }
    out.push_str(rest);
    out
}

/// Writes `original`'s container with `chunks`, at `sample_rate`, holding `data_bytes` of
/// audio in its codec (written by `write_data`, which must write exactly that many).
///
/// # Errors
/// [`FixError::TooLarge`] when a RIFF/WAVE or AIFF file would pass its 4 GiB sizes;
/// [`FixError::Core`] when writing fails.
pub fn write(
    path: &Path,
    original: &Original,
    chunks: &[Chunk],
    sample_rate: u32,
    data_bytes: u64,
    write_data: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), FixError> {
    let padded = |n: u64| n + (n & 1);
    let frame = (original.codec.bytes * original.channels) as u64;
    let frames = data_bytes / frame.max(1);
    let big = matches!(original.kind, Kind::Aiff { .. });
    let mut format_body = original.format_body.clone();
    if big {
        format_body[2..6].copy_from_slice(&(frames as u32).to_be_bytes());
        format_body[8..18].copy_from_slice(&hz_to_extended(sample_rate));
    } else {
        format_body[4..8].copy_from_slice(&sample_rate.to_le_bytes());
        let block = u32::from(le16(&format_body, 12));
        format_body[8..12].copy_from_slice(&(sample_rate * block).to_le_bytes());
    }
    // SSND carries an offset and a block size before its audio.
    let audio_head = if big { 8 } else { 0 };
    let mut body_total =
        4 + 8 + padded(format_body.len() as u64) + 8 + padded(data_bytes + audio_head);
    for c in chunks {
        body_total += 8 + padded(c.body.len() as u64);
    }
    let rf64 = matches!(original.kind, Kind::Rf64(_));
    if rf64 {
        body_total += 8 + DS64_BYTES as u64;
    }
    let too_large = || FixError::TooLarge {
        file: path.display().to_string(),
    };
    if !rf64 && (u32::try_from(body_total).is_err() || frames > u64::from(u32::MAX)) {
        return Err(too_large());
    }
    let size32 = |n: u64| -> [u8; 4] {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if big {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        }
    };
    let f = File::create(path).map_err(|e| io(path, e))?;
    let mut w = std::io::BufWriter::new(f);
    let put = |w: &mut std::io::BufWriter<File>, id: &[u8], body: &[u8]| {
        w.write_all(id)?;
        w.write_all(&size32(body.len() as u64))?;
        w.write_all(body)?;
        if body.len() % 2 == 1 {
            w.write_all(&[0])?;
        }
        Ok::<(), std::io::Error>(())
    };
    let result = (|| {
        match original.kind {
            Kind::Wav => {
                w.write_all(b"RIFF")?;
                w.write_all(&size32(body_total))?;
                w.write_all(b"WAVE")?;
            }
            Kind::Rf64(id) => {
                w.write_all(&id)?;
                w.write_all(&u32::MAX.to_le_bytes())?;
                w.write_all(b"WAVE")?;
                let mut ds64 = [0u8; DS64_BYTES];
                ds64[0..8].copy_from_slice(&body_total.to_le_bytes());
                ds64[8..16].copy_from_slice(&data_bytes.to_le_bytes());
                ds64[16..24].copy_from_slice(&frames.to_le_bytes());
                put(&mut w, b"ds64", &ds64)?;
            }
            Kind::Aiff { aifc } => {
                w.write_all(b"FORM")?;
                w.write_all(&size32(body_total))?;
                w.write_all(if aifc { b"AIFC" } else { b"AIFF" })?;
            }
        }
        put(&mut w, if big { b"COMM" } else { b"fmt " }, &format_body)?;
        for c in chunks {
            put(&mut w, &c.id, &c.body)?;
        }
        if big {
            w.write_all(b"SSND")?;
            w.write_all(&size32(data_bytes + audio_head))?;
            w.write_all(&[0u8; 8])?;
        } else {
            w.write_all(b"data")?;
            w.write_all(&if rf64 {
                u32::MAX.to_le_bytes()
            } else {
                size32(data_bytes)
            })?;
        }
        write_data(&mut w)?;
        if (data_bytes + audio_head) % 2 == 1 {
            w.write_all(&[0])?;
        }
        w.flush()
    })();
    result.map_err(|e| io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const I24: Codec = Codec {
        bytes: 3,
        float: false,
        big_endian: true,
        unsigned: false,
    };

    #[test]
    fn extended_rates_round_trip() {
        for hz in [8_000, 44_100, 48_000, 96_000, 192_000, 352_800] {
            assert_eq!(extended_to_hz(&hz_to_extended(hz)), hz);
        }
        // 44100 Hz as every AIFF writer stores it.
        assert_eq!(
            hz_to_extended(44_100),
            [0x40, 0x0E, 0xAC, 0x44, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn integer_codes_read_and_write_in_either_byte_order() {
        let mut b = [0u8; 3];
        I24.put_int(-2, &mut b);
        assert_eq!(b, [0xff, 0xff, 0xfe]);
        assert_eq!(I24.int(&b), -2);
        let le = Codec::wav(3, false);
        le.put_int(0x12_3456, &mut b);
        assert_eq!(b, [0x56, 0x34, 0x12]);
        let u8c = Codec::wav(1, false);
        assert_eq!(u8c.silence(), [128]);
        assert_eq!(u8c.int(&[0]), -128);
    }

    #[test]
    fn inverting_the_most_negative_code_is_counted_and_one_step_short() {
        let c = Codec::wav(2, false);
        let mut p = Pcm {
            codec: c,
            channels: 1,
            bytes: [i16::MIN, -5, i16::MAX]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        };
        assert_eq!(p.invert(None), 1);
        let got: Vec<i16> = p
            .bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(got, [i16::MAX, 5, -i16::MAX]);
    }

    #[test]
    fn a_float_inversion_flips_only_the_sign_bit() {
        let c = Codec {
            bytes: 8,
            float: true,
            big_endian: true,
            unsigned: false,
        };
        let xs = [0.1f64, -0.0, 1e-300];
        let mut p = Pcm {
            codec: c,
            channels: 1,
            bytes: xs.iter().flat_map(|v| v.to_be_bytes()).collect(),
        };
        assert_eq!(p.invert(None), 0);
        let want: Vec<u8> = xs.iter().flat_map(|v| (-v).to_be_bytes()).collect();
        assert_eq!(p.bytes, want);
    }

    #[test]
    fn ixml_stamps_are_rewritten_where_present() {
        let mut x = b"<BWFXML><SPEED><TIMESTAMP_SAMPLE_RATE>44100</TIMESTAMP_SAMPLE_RATE>\
<TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>0</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>\
<TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>12</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO></SPEED></BWFXML>"
            .to_vec();
        let t = (1u64 << 32) + 7;
        assert!(set_ixml_time_reference(&mut x, t, 48_000));
        let s = String::from_utf8(x).unwrap();
        assert!(s.contains("<TIMESTAMP_SAMPLE_RATE>48000</TIMESTAMP_SAMPLE_RATE>"));
        assert!(s.contains("_HI>1</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>"));
        assert!(s.contains("_LO>7</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>"));
        assert!(!s.contains("BWF_TIME_REFERENCE"), "absent stays absent");
    }
}
