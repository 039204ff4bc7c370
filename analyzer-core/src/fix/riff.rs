//! RIFF/WAVE pieces shared by the fix: the carried [`Chunk`], the BWF time reference, and the
//! writer of the residual stem (a new file in the mix's format). Corrected stems are written
//! in their own container by [`super::container`].

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::FixError;

/// Offset of `TimeReferenceLow` in a `bext` body (EBU Tech 3285).
const BEXT_TIME_REFERENCE_OFFSET: usize = 338;
/// Size of a `bext` body with no coding history (EBU Tech 3285 version 1).
const BEXT_MIN_BYTES: usize = 602;

/// A chunk carried over from the original.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Its four-character id.
    pub id: [u8; 4],
    /// Its body.
    pub body: Vec<u8>,
}

fn io(path: &Path, source: std::io::Error) -> FixError {
    FixError::Core(crate::Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// Sets (or adds) the BWF time reference in `chunks`.
pub fn set_time_reference(chunks: &mut Vec<Chunk>, samples: u64) {
    let at = BEXT_TIME_REFERENCE_OFFSET;
    if let Some(b) = chunks.iter_mut().find(|c| &c.id == b"bext") {
        if b.body.len() < BEXT_MIN_BYTES {
            b.body.resize(BEXT_MIN_BYTES, 0);
        }
        b.body[at..at + 8].copy_from_slice(&samples.to_le_bytes());
    } else {
        let mut body = vec![0u8; BEXT_MIN_BYTES];
        body[at..at + 8].copy_from_slice(&samples.to_le_bytes());
        // Version 1 (bytes after the time reference).
        body[at + 8] = 1;
        chunks.insert(0, Chunk { id: *b"bext", body });
    }
}

/// The sample encoding written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Integer PCM of this many bits (8, 16 or 24).
    Int(u16),
    /// IEEE 32-bit float.
    Float32,
}

impl Encoding {
    /// Bits per sample.
    pub fn bits(self) -> u16 {
        match self {
            Encoding::Int(b) => b,
            Encoding::Float32 => 32,
        }
    }

    /// A `fmt ` body for it.
    pub fn fmt_body(self, channels: u16, sample_rate: u32) -> Vec<u8> {
        let (tag, bits) = match self {
            Encoding::Int(b) => (1u16, b),
            Encoding::Float32 => (3u16, 32),
        };
        let block = channels * bits.div_ceil(8);
        let mut b = Vec::with_capacity(18);
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&sample_rate.to_le_bytes());
        b.extend_from_slice(&(sample_rate * u32::from(block)).to_le_bytes());
        b.extend_from_slice(&block.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        if tag == 3 {
            b.extend_from_slice(&0u16.to_le_bytes());
        }
        b
    }

    /// Encodes samples (+-1 full scale): integers scaled by `2^(bits-1)`, rounded and clamped
    /// (no dither: samples read from a file of this depth come back exactly).
    pub fn encode(self, samples: &[f32]) -> Vec<u8> {
        match self {
            Encoding::Float32 => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
            Encoding::Int(bits) => {
                let scale = f64::from(1u32 << (bits - 1));
                let (lo, hi) = (-scale, scale - 1.0);
                let bytes = usize::from(bits / 8);
                let mut out = Vec::with_capacity(samples.len() * bytes);
                for &s in samples {
                    let v = (f64::from(s) * scale).round().clamp(lo, hi) as i32;
                    if bits == 8 {
                        out.push((v + 128) as u8);
                    } else {
                        out.extend_from_slice(&v.to_le_bytes()[..bytes]);
                    }
                }
                out
            }
        }
    }
}

/// Writes a RIFF/WAVE file: `fmt `, the carried chunks, then `data` (`data` is written by
/// `write_data`, which must write exactly `data_bytes`).
///
/// # Errors
/// [`FixError::TooLarge`] when the audio does not fit a RIFF file (4 GiB);
/// [`FixError::Core`] when writing fails.
pub fn write_wav(
    path: &Path,
    fmt: &[u8],
    others: &[Chunk],
    data_bytes: u64,
    write_data: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), FixError> {
    let padded = |n: u64| n + (n & 1);
    let mut riff = 4 + 8 + padded(fmt.len() as u64) + 8 + padded(data_bytes);
    for c in others {
        riff += 8 + padded(c.body.len() as u64);
    }
    let riff = u32::try_from(riff).map_err(|_| FixError::TooLarge {
        file: path.display().to_string(),
    })?;
    let f = File::create(path).map_err(|e| io(path, e))?;
    let mut w = std::io::BufWriter::new(f);
    let put = |w: &mut std::io::BufWriter<File>, id: &[u8], body: &[u8]| {
        w.write_all(id)?;
        w.write_all(&(body.len() as u32).to_le_bytes())?;
        w.write_all(body)?;
        if body.len() % 2 == 1 {
            w.write_all(&[0])?;
        }
        Ok::<(), std::io::Error>(())
    };
    let result = (|| {
        w.write_all(b"RIFF")?;
        w.write_all(&riff.to_le_bytes())?;
        w.write_all(b"WAVE")?;
        put(&mut w, b"fmt ", fmt)?;
        for c in others {
            put(&mut w, &c.id, &c.body)?;
        }
        w.write_all(b"data")?;
        w.write_all(&(data_bytes as u32).to_le_bytes())?;
        write_data(&mut w)?;
        if data_bytes % 2 == 1 {
            w.write_all(&[0])?;
        }
        w.flush()
    })();
    result.map_err(|e| io(path, e))
}

/// Copies `len` bytes of `src` from `offset` into `w`.
pub fn copy_range(src: &Path, offset: u64, len: u64, w: &mut dyn Write) -> std::io::Result<()> {
    let mut f = File::open(src)?;
    f.seek(SeekFrom::Start(offset))?;
    let copied = std::io::copy(&mut f.take(len), w)?;
    if copied == len {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the original's audio ended early",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_encode_back_to_their_codes() {
        let s = [0.5f32, -1.0, 8_388_607.0 / 8_388_608.0];
        let b = Encoding::Int(24).encode(&s);
        assert_eq!(b, [0, 0, 0x40, 0, 0, 0x80, 0xff, 0xff, 0x7f]);
        assert_eq!(Encoding::Int(8).encode(&[0.0, -1.0]), [128, 0]);
    }

    #[test]
    fn the_time_reference_is_set_or_added() {
        let mut chunks = vec![Chunk {
            id: *b"LIST",
            body: vec![1, 2, 3],
        }];
        set_time_reference(&mut chunks, 0x0102_0304_0506);
        assert_eq!(&chunks[0].id, b"bext");
        assert_eq!(chunks[0].body.len(), BEXT_MIN_BYTES);
        assert_eq!(
            &chunks[0].body[338..346],
            &0x0102_0304_0506u64.to_le_bytes()
        );
        set_time_reference(&mut chunks, 7);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].body[338], 7);
    }
}
