//! FLAC written back as FLAC: the corrected samples encoded with the pure-Rust `flacenc`, the
//! original's metadata blocks (Vorbis comments, pictures, application blocks, cue sheets)
//! carried over. The seek table is left out: its offsets point into the old frames.
//!
//! FLAC is lossless, so a shift, inversion or swap done on the decoded samples (exact in
//! `f32` up to 24 bits) comes back to the clean original's samples; the bytes of the frames
//! differ from any other encoder's, as they may between FLAC encoders.

use std::path::Path;

use flacenc::component::BitRepr;
use flacenc::error::Verify;

use super::FixError;

/// STREAMINFO's block type.
const STREAMINFO: u8 = 0;
/// PADDING's.
const PADDING: u8 = 1;
/// SEEKTABLE's.
const SEEKTABLE: u8 = 3;
/// Widest samples written, bits (what `flacenc` and the check's reader agree on).
pub const MAX_BITS: u16 = 24;

/// One metadata block carried over: its type and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The block type (4: Vorbis comment, 6: picture, ...).
    pub kind: u8,
    /// Its body.
    pub body: Vec<u8>,
}

fn io(path: &Path, source: std::io::Error) -> FixError {
    FixError::Core(crate::Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// The metadata blocks of the FLAC file at `path` worth carrying (not STREAMINFO, seek
/// table or padding); `None` when it is not FLAC.
///
/// # Errors
/// [`FixError::Core`] when the file cannot be read.
pub fn read_blocks(path: &Path) -> Result<Option<Vec<Block>>, FixError> {
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    if !bytes.starts_with(b"fLaC") {
        return Ok(None);
    }
    let mut blocks = Vec::new();
    let mut at = 4;
    while at + 4 <= bytes.len() {
        let last = bytes[at] & 0x80 != 0;
        let kind = bytes[at] & 0x7f;
        let len = usize::from(bytes[at + 1]) << 16
            | usize::from(bytes[at + 2]) << 8
            | usize::from(bytes[at + 3]);
        let Some(body) = bytes.get(at + 4..at + 4 + len) else {
            break;
        };
        if !matches!(kind, STREAMINFO | PADDING | SEEKTABLE) {
            blocks.push(Block {
                kind,
                body: body.to_vec(),
            });
        }
        at += 4 + len;
        if last {
            break;
        }
    }
    Ok(Some(blocks))
}

/// Encodes interleaved samples (+-1 full scale) as a FLAC stream of `bits` per sample, with
/// `blocks` after its STREAMINFO.
///
/// # Errors
/// [`FixError::FlacEncode`] when `flacenc` refuses the stream.
pub fn encode(
    samples: &[f32],
    channels: usize,
    bits: u16,
    sample_rate: u32,
    blocks: &[Block],
    file: &str,
) -> Result<Vec<u8>, FixError> {
    let fail = |reason: String| FixError::FlacEncode {
        file: file.to_owned(),
        reason,
    };
    let scale = f64::from(1u32 << (bits - 1));
    let ints: Vec<i32> = samples
        .iter()
        .map(|&s| (f64::from(s) * scale).round().clamp(-scale, scale - 1.0) as i32)
        .collect();
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| fail(format!("{e:?}")))?;
    let source = flacenc::source::MemSource::from_samples(
        &ints,
        channels,
        usize::from(bits),
        sample_rate as usize,
    );
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| fail(format!("{e:?}")))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream
        .write(&mut sink)
        .map_err(|e| fail(format!("{e:?}")))?;
    let mut bytes = sink.as_slice().to_vec();
    // flacenc 0.5.1 writes the last (short) block's length as STREAMINFO's minimum block size;
    // the spec excludes the last block and the check's reader (symphonia) then rejects the
    // stream, so min = max as libFLAC writes it for a fixed block size.
    if bytes.len() < 42 || &bytes[..4] != b"fLaC" || bytes[4] & 0x7f != STREAMINFO {
        return Err(fail("no STREAMINFO at the start of the stream".into()));
    }
    let max = [bytes[10], bytes[11]];
    bytes[8..10].copy_from_slice(&max);
    if blocks.is_empty() {
        return Ok(bytes);
    }
    // STREAMINFO (34 bytes) is no longer the last block: the carried ones follow it.
    let head_end = 4 + 4 + 34;
    let frames = bytes.split_off(head_end);
    bytes[4] &= 0x7f;
    for (i, b) in blocks.iter().enumerate() {
        let last = if i + 1 == blocks.len() { 0x80 } else { 0 };
        let len = b.body.len().min(0xFF_FFFF);
        bytes.push(last | b.kind);
        bytes.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
        bytes.extend_from_slice(&b.body[..len]);
    }
    bytes.extend_from_slice(&frames);
    Ok(bytes)
}
