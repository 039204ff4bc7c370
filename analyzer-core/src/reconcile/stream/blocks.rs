//! Reading the pass's blocks: every source's block read at its offset (`RawBlock`), turned
//! planar `f64` (`BlockAudio`), optionally on a prefetching reader thread
//! ([`for_each_block`]).

use std::ops::Range;

use super::plan::StreamPlan;
use crate::Result;
use crate::reconcile::gram::Model;
use crate::source::FrameSource;

/// Deinterleaves into planar `f64`.
pub(crate) fn to_planar(interleaved: &[f32], channels: usize, out: &mut [Vec<f64>]) {
    let n = interleaved.len() / channels;
    // Mono and stereo (nearly every stem and mix) in one pass over the input, with fixed
    // strides the compiler can vectorise; the strided per-channel loop below reads the input
    // once per channel and cost more than the decoding itself.
    match (channels, out) {
        (1, [o, ..]) => {
            o.clear();
            o.extend(interleaved.iter().map(|&x| f64::from(x)));
        }
        (2, [l, r, ..]) => {
            l.resize(n, 0.0);
            r.resize(n, 0.0);
            // Compiled for the CPU's widest vectors (`pulp`'s runtime dispatch): the same
            // conversions, four at a time with AVX.
            pulp::Arch::new().dispatch(SplitStereo {
                interleaved,
                left: l,
                right: r,
            });
        }
        (3, out) => split_n::<3>(interleaved, out),
        (4, out) => split_n::<4>(interleaved, out),
        (5, out) => split_n::<5>(interleaved, out),
        (6, out) => split_n::<6>(interleaved, out),
        (7, out) => split_n::<7>(interleaved, out),
        (8, out) => split_n::<8>(interleaved, out),
        (_, out) => to_planar_any(interleaved, channels, out),
    }
}

/// Up to 7.1: every channel in one pass over the frames (the per-channel loop reads the
/// input once per channel; for 5.1 that was 9 % of a check's CPU).
fn split_n<const C: usize>(interleaved: &[f32], out: &mut [Vec<f64>]) {
    if out.len() < C {
        return to_planar_any(interleaved, C, out);
    }
    let n = interleaved.len() / C;
    let mut outs = out.iter_mut();
    let outs: [&mut [f64]; C] = std::array::from_fn(|_| {
        let o = outs.next().expect("checked above");
        o.resize(n, 0.0);
        &mut o[..]
    });
    pulp::Arch::new().dispatch(SplitN { interleaved, outs });
}

/// [`split_n`]'s loop as a `pulp` operation (compiled inside each target-feature variant).
struct SplitN<'a, const C: usize> {
    interleaved: &'a [f32],
    outs: [&'a mut [f64]; C],
}

impl<const C: usize> pulp::NullaryFnOnce for SplitN<'_, C> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let (frames, _) = self.interleaved.as_chunks::<C>();
        let n = frames.len();
        let mut outs = self.outs.map(|o| &mut o[..n]);
        for (t, f) in frames.iter().enumerate() {
            for (o, &x) in outs.iter_mut().zip(f) {
                o[t] = f64::from(x);
            }
        }
    }
}

/// Stereo `f32` frames into two planar `f64` channels, as a `pulp` operation (a struct with an
/// `#[inline(always)]` `call`, so the loop is compiled inside each target-feature variant).
struct SplitStereo<'a> {
    interleaved: &'a [f32],
    left: &'a mut [f64],
    right: &'a mut [f64],
}

impl pulp::NullaryFnOnce for SplitStereo<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let (frames, _) = self.interleaved.as_chunks::<2>();
        for ((a, b), f) in self.left.iter_mut().zip(self.right.iter_mut()).zip(frames) {
            *a = f64::from(f[0]);
            *b = f64::from(f[1]);
        }
    }
}

/// [`to_planar`] for any channel count.
fn to_planar_any(interleaved: &[f32], channels: usize, out: &mut [Vec<f64>]) {
    let n = interleaved.len() / channels;
    for (c, o) in out.iter_mut().enumerate().take(channels) {
        o.resize(n, 0.0);
        for (dst, frame) in o.iter_mut().zip(interleaved.chunks_exact(channels)) {
            *dst = f64::from(frame[c]);
        }
    }
}

/// One block as read from the files: interleaved `f32` per source, the mix first, then every
/// stem read at its offset.
///
/// This, not the planar `f64` below, is what the prefetching reader hands to the consumer: on
/// a 2-core machine the two threads run on different cores, and every cache line written on one
/// core and read on the other is a transfer between them. Handing over the planar `f64`
/// (1 MB per block for 12 stereo stems) made the reader's stores into it ~20 % of a check's
/// samples; the decoded `f32` is half the bytes (the reader's CPU in the pass fell by about a
/// quarter), and each thread then writes its own planar copy into its own cache (the
/// conversion itself is ~1 % of a check). What remains of the cost now shows as the decoder's
/// stores into blocks the consumer has just read.
pub(super) struct RawBlock {
    sources: Vec<Vec<f32>>,
}

impl RawBlock {
    fn new(model: &Model, block_frames: usize) -> Self {
        let channels =
            std::iter::once(model.mix_channels).chain(model.stem_channels.iter().copied());
        Self {
            sources: channels.map(|ch| vec![0.0; block_frames * ch]).collect(),
        }
    }

    /// Reads the `n` frames of the block starting at mix frame `f0`.
    fn read(
        &mut self,
        plan: &StreamPlan<'_>,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
        f0: u64,
        n: usize,
    ) -> Result<()> {
        let model = plan.model;
        let (m, rest) = self.sources.split_first_mut().expect("the mix is a source");
        mix.read_window(f0 as i64, &mut m[..n * model.mix_channels])?;
        for (i, (s, buf)) in stems.iter_mut().zip(rest).enumerate() {
            let ch = model.stem_channels[i];
            s.read_window(f0 as i64 + plan.offsets[i], &mut buf[..n * ch])?;
        }
        Ok(())
    }
}

/// One block of the pass as planar `f64`: the mix and every stem read at its offset.
pub(super) struct BlockAudio {
    pub mix: Vec<Vec<f64>>,
    pub stems: Vec<Vec<Vec<f64>>>,
}

impl BlockAudio {
    fn new(model: &Model, block_frames: usize) -> Self {
        let cm = model.mix_channels;
        Self {
            mix: vec![Vec::with_capacity(block_frames); cm],
            stems: model
                .stem_channels
                .iter()
                .map(|&ch| vec![Vec::with_capacity(block_frames); ch])
                .collect(),
        }
    }

    /// Deinterleaves the `n` frames of `raw`.
    fn load(&mut self, model: &Model, raw: &RawBlock, n: usize) {
        let cm = model.mix_channels;
        to_planar(&raw.sources[0][..n * cm], cm, &mut self.mix);
        for (i, (buf, out)) in raw.sources[1..].iter().zip(&mut self.stems).enumerate() {
            let ch = model.stem_channels[i];
            to_planar(&buf[..n * ch], ch, out);
        }
    }
}

/// Blocks read ahead by the prefetching reader (bounded: memory stays a few blocks).
const PREFETCH_BLOCKS: usize = 2;

/// Runs `prepare` and then `consume` on every block of `blocks`, each in block order. The
/// blocks are read by this thread, or with `prefetch` by a second thread that reads and
/// decodes up to [`PREFETCH_BLOCKS`] ahead and also runs `prepare` (work that needs the
/// blocks in order but not the consumer's state, moved off the consumer to balance the two).
pub(super) fn for_each_block(
    plan: &StreamPlan<'_>,
    mix: &mut dyn FrameSource,
    stems: &mut [Box<dyn FrameSource>],
    blocks: Range<u64>,
    prefetch: bool,
    mut prepare: impl FnMut(u64, usize, &BlockAudio) + Send,
    mut consume: impl FnMut(u64, usize, &BlockAudio),
) -> Result<()> {
    let bf = plan.block_frames;
    let frames_of = |b: u64| ((plan.frames - b * bf as u64) as usize).min(bf);
    if !prefetch {
        let mut raw = RawBlock::new(plan.model, bf);
        let mut audio = BlockAudio::new(plan.model, bf);
        for b in blocks {
            let f0 = b * bf as u64;
            raw.read(plan, mix, stems, f0, frames_of(b))?;
            audio.load(plan.model, &raw, frames_of(b));
            prepare(f0, frames_of(b), &audio);
            consume(f0, frames_of(b), &audio);
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Result<RawBlock>>(PREFETCH_BLOCKS);
        let (free_tx, free_rx) = std::sync::mpsc::sync_channel::<RawBlock>(PREFETCH_BLOCKS + 1);
        for _ in 0..=PREFETCH_BLOCKS {
            free_tx
                .send(RawBlock::new(plan.model, bf))
                .expect("receiver alive");
        }
        let reader_blocks = blocks.clone();
        scope.spawn(move || {
            // The reader's own planar copy, for `prepare`.
            let mut audio = BlockAudio::new(plan.model, bf);
            for b in reader_blocks {
                // The consumer stopped (an error): stop reading.
                let Ok(mut raw) = free_rx.recv() else {
                    return;
                };
                let f0 = b * bf as u64;
                let r = raw.read(plan, mix, stems, f0, frames_of(b)).map(|()| {
                    audio.load(plan.model, &raw, frames_of(b));
                    prepare(f0, frames_of(b), &audio);
                    raw
                });
                let failed = r.is_err();
                if full_tx.send(r).is_err() || failed {
                    return;
                }
            }
        });
        let mut audio = BlockAudio::new(plan.model, bf);
        for b in blocks {
            let raw = full_rx
                .recv()
                .expect("the reader sends every block or an error")?;
            audio.load(plan.model, &raw, frames_of(b));
            consume(b * bf as u64, frames_of(b), &audio);
            // The reader may have finished; then the buffer is simply dropped.
            let _ = free_tx.send(raw);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planar_paths_agree_with_the_generic_one() {
        let x: Vec<f32> = (0..9 * 37).map(|i| (i as f32 * 0.37).sin()).collect();
        for ch in 1..=9 {
            let len = x.len() / ch * ch;
            let mut fast = vec![vec![9.0; 3]; ch];
            let mut slow = vec![Vec::new(); ch];
            to_planar(&x[..len], ch, &mut fast);
            to_planar_any(&x[..len], ch, &mut slow);
            assert_eq!(fast, slow, "{ch} channels");
            for (c, o) in fast.iter().enumerate() {
                assert_eq!(o.len(), len / ch);
                assert_eq!(o[1], f64::from(x[ch + c]));
            }
        }
    }
}
