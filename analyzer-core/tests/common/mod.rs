//! Shared helpers: hand-built WAV byte images for the malformed-input tests: every header field is under the
//! test's control, so each case breaks exactly one thing.
#![allow(dead_code)]

pub mod song;

/// A `fmt ` body for plain PCM (`tag` 1) or IEEE float (`tag` 3).
pub fn fmt_body(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let align = channels.wrapping_mul(bits.div_ceil(8));
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&rate.wrapping_mul(u32::from(align)).to_le_bytes());
    f.extend_from_slice(&align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

/// A WAVE_FORMAT_EXTENSIBLE `fmt ` body with the given sub-format tag, valid bits and mask.
pub fn extensible_body(
    sub: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    valid: u16,
    mask: u32,
) -> Vec<u8> {
    let mut f = fmt_body(0xFFFE, channels, rate, bits);
    f.extend_from_slice(&22u16.to_le_bytes());
    f.extend_from_slice(&valid.to_le_bytes());
    f.extend_from_slice(&mask.to_le_bytes());
    f.extend_from_slice(&sub.to_le_bytes());
    f.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    f
}

/// One chunk: id, the size field as written (may lie), body bytes, and whether to add the pad
/// byte after an odd body.
#[derive(Clone)]
pub struct Chunk {
    pub id: [u8; 4],
    pub size: u32,
    pub body: Vec<u8>,
    pub pad: bool,
}

impl Chunk {
    /// A chunk whose size field tells the truth, padded as the spec says.
    pub fn new(id: &[u8; 4], body: Vec<u8>) -> Self {
        Self {
            id: *id,
            size: body.len() as u32,
            body,
            pad: true,
        }
    }

    /// Same, with the size field replaced.
    pub fn lying(id: &[u8; 4], size: u32, body: Vec<u8>) -> Self {
        Self {
            id: *id,
            size,
            body,
            pad: false,
        }
    }
}

/// `RIFF` + size + `WAVE` + chunks; the RIFF size is patched to the real length.
pub fn riff(chunks: &[Chunk]) -> Vec<u8> {
    let mut v = b"RIFF\0\0\0\0WAVE".to_vec();
    for c in chunks {
        v.extend_from_slice(&c.id);
        v.extend_from_slice(&c.size.to_le_bytes());
        v.extend_from_slice(&c.body);
        if c.pad && c.body.len() % 2 == 1 {
            v.push(0);
        }
    }
    let riff = (v.len() - 8) as u32;
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

/// A well-formed WAV: `fmt` body then `data`.
pub fn wav(fmt: Vec<u8>, data: Vec<u8>) -> Vec<u8> {
    riff(&[Chunk::new(b"fmt ", fmt), Chunk::new(b"data", data)])
}

/// Interleaved f32 samples as little-endian bytes.
pub fn f32_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Interleaved i16 samples as little-endian bytes.
pub fn i16_bytes(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|s| ((s * 32767.0).round() as i16).to_le_bytes())
        .collect()
}

/// A 32-bit float stereo WAV of `samples` (interleaved).
pub fn float_stereo(rate: u32, samples: &[f32]) -> Vec<u8> {
    wav(fmt_body(3, 2, rate, 32), f32_bytes(samples))
}

/// Deterministic test tone for `channels` channels (interleaved): a sine per channel plus a
/// little noise, at about -12 dBFS.
pub fn tone(seed: u64, channels: usize, frames: usize, rate: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        for c in 0..channels {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let noise = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            let f = 110.0 * (seed as f32 + 1.0) * (c as f32 + 1.0);
            let t = i as f32 / rate as f32;
            out.push(0.2 * (std::f32::consts::TAU * f * t).sin() + 0.02 * noise);
        }
    }
    out
}
