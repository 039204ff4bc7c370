//! Planar to interleaved, once for the plugin: the host hands `process()` one slice per channel,
//! and the meters (analyzer-core's streaming meters take interleaved frames), the capture ring
//! (the WAV is interleaved) and the spectrum feed (a downmix of each frame) all read frames.
//!
//! Real-time safe: no allocation, no lock; the destination is the caller's preallocated scratch
//! or a ring's free slices. Bits are copied: NaN payloads, signed zeros and subnormals pass
//! unchanged (the capture is bit-exact). A missing channel, or samples past a channel's end,
//! are written as 0.0 (what the capture has always stored there and the meters meter).

use std::mem::MaybeUninit;

/// A destination slot for one sample: a plain `f32` (a scratch buffer) or an uninitialised one
/// (a ring's free space, which the caller commits after every slot was written).
pub trait Slot {
    /// The slot holding `x`.
    fn from_sample(x: f32) -> Self;
}

impl Slot for f32 {
    #[inline(always)]
    fn from_sample(x: f32) -> Self {
        x
    }
}

impl Slot for MaybeUninit<f32> {
    #[inline(always)]
    fn from_sample(x: f32) -> Self {
        MaybeUninit::new(x)
    }
}

/// Writes frames `start..start + dst.len() / ch` of the planar `channels` interleaved (`ch`
/// samples per frame) into `dst`, every slot written. `dst` holds whole frames (its length a
/// multiple of `ch`). Channels past `ch` are ignored.
///
/// Mono and stereo with whole channels take a straight copy / zip (the common case, and the
/// one the plugin's benchmarks measure); anything else one strided pass per channel.
pub fn interleave<S: AsRef<[f32]>, D: Slot>(
    channels: &[S],
    start: usize,
    ch: usize,
    dst: &mut [D],
) {
    let ch = ch.max(1);
    debug_assert!(dst.len().is_multiple_of(ch), "whole frames only");
    let n = dst.len() / ch;
    if n == 0 {
        return;
    }
    let whole = |c: usize| {
        channels
            .get(c)
            .and_then(|s| s.as_ref().get(start..start + n))
    };
    match ch {
        1 => {
            if let Some(m) = whole(0) {
                for (d, &x) in dst.iter_mut().zip(m) {
                    *d = D::from_sample(x);
                }
                return;
            }
        }
        2 => {
            if let (Some(l), Some(r)) = (whole(0), whole(1)) {
                let (frames, _) = dst.as_chunks_mut::<2>();
                for ((d, &a), &b) in frames.iter_mut().zip(l).zip(r) {
                    *d = [D::from_sample(a), D::from_sample(b)];
                }
                return;
            }
        }
        _ => {}
    }
    // Any channel count, short or missing channels: one strided pass per channel (channel c
    // writes slots c, c + ch, ...: together every slot).
    for c in 0..ch {
        let src = channels
            .get(c)
            .and_then(|s| s.as_ref().get(start..))
            .unwrap_or(&[]);
        let Some(row) = dst.get_mut(c..) else { break };
        let mut row = row.iter_mut().step_by(ch);
        // `src` first: a zip that ends on it takes no element of `row`.
        for (&x, d) in src.iter().zip(row.by_ref()) {
            *d = D::from_sample(x);
        }
        row.for_each(|d| *d = D::from_sample(0.0));
    }
}

/// [`interleave`] into two regions one after the other (a ring's free space before and after
/// its end), together frames `start..start + (first.len() + second.len()) / ch`. Every slot of
/// both is written (a ring's `commit_all` relies on it).
pub fn interleave_split<S: AsRef<[f32]>, D: Slot>(
    channels: &[S],
    start: usize,
    ch: usize,
    first: &mut [D],
    second: &mut [D],
) {
    let ch = ch.max(1);
    if first.len().is_multiple_of(ch) && second.len().is_multiple_of(ch) {
        interleave(channels, start, ch, first);
        interleave(channels, start + first.len() / ch, ch, second);
    } else {
        // A frame straddles the ring's end (only for a ring that is not a whole number of
        // frames long, which the capture never makes): sample by sample.
        for (i, d) in first.iter_mut().chain(second.iter_mut()).enumerate() {
            *d = D::from_sample(
                channels
                    .get(i % ch)
                    .and_then(|c| c.as_ref().get(start + i / ch))
                    .copied()
                    .unwrap_or(0.0),
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The interleaving the capture used before the slice fast path (per sample, through the
    /// ring's iterator): the reference every path must match bit for bit.
    pub(crate) fn reference(
        channels: &[Vec<f32>],
        start: usize,
        frames: usize,
        ch: usize,
    ) -> Vec<u32> {
        (start..start + frames)
            .flat_map(|f| {
                (0..ch).map(move |c| {
                    channels
                        .get(c)
                        .and_then(|s| s.get(f))
                        .copied()
                        .unwrap_or(0.0)
                        .to_bits()
                })
            })
            .collect()
    }

    /// Samples with awkward bit patterns: NaN payloads, -0.0, subnormals, infinities.
    pub(crate) fn planar(seed: u32, ch: usize, frames: usize) -> Vec<Vec<f32>> {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        (0..ch)
            .map(|_| {
                (0..frames)
                    .map(|i| {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        match i % 11 {
                            3 => f32::from_bits(0x7fc0_0000 | (state & 0x3f_ffff)),
                            5 => -0.0,
                            7 => f32::from_bits(state & 0x007f_ffff),
                            9 => f32::NEG_INFINITY,
                            _ => (state as f32 / u32::MAX as f32) * 2.0 - 1.0,
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// `interleave_split` on a destination of `len` slots split at `split`, all slots holding a
    /// sentinel first (so any slot left unwritten shows).
    fn run(src: &[Vec<f32>], start: usize, ch: usize, len: usize, split: usize) -> Vec<u32> {
        let mut dst = vec![MaybeUninit::new(f32::from_bits(0xdead_beef)); len];
        let (a, b) = dst.split_at_mut(split);
        interleave_split(src, start, ch, a, b);
        // SAFETY: every slot was initialised with the sentinel.
        dst.iter()
            .map(|x| unsafe { x.assume_init() }.to_bits())
            .collect()
    }

    #[test]
    fn interleave_matches_the_per_sample_reference() {
        for ch in 1..=5usize {
            let full = planar(ch as u32, ch, 300);
            // Also a short channel and a missing one (written as zeros).
            let mut short = full.clone();
            short[0].truncate(100);
            let missing = full[..ch - 1].to_vec();
            for src in [&full, &short, &missing] {
                for (start, frames) in [(0usize, 0usize), (0, 1), (3, 64), (17, 200), (250, 50)] {
                    let want = reference(src, start, frames, ch);
                    // Every split of the destination on a frame boundary (ring wrap-around).
                    for split in 0..=frames {
                        let got = run(src, start, ch, frames * ch, split * ch);
                        assert_eq!(
                            got, want,
                            "ch {ch} start {start} frames {frames} split {split}"
                        );
                    }
                    // And a split inside a frame (a ring that is not whole frames long).
                    if ch > 1 && frames > 1 {
                        let got = run(src, start, ch, frames * ch, ch + 1);
                        assert_eq!(got, want, "ch {ch} start {start} odd split");
                    }
                    // Into a plain f32 scratch (the meters' and the spectrum's), stale values
                    // first: every slot is overwritten.
                    let mut scratch = vec![f32::from_bits(0xdead_beef); frames * ch];
                    interleave(src, start, ch, &mut scratch);
                    let got: Vec<u32> = scratch.iter().map(|x| x.to_bits()).collect();
                    assert_eq!(got, want, "ch {ch} start {start} frames {frames} into f32");
                }
            }
        }
    }
}
