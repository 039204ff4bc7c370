//! The streaming pass: every stem read shifted by its offset, block by block, over the whole
//! mix. It accumulates the [`Gram`] statistics over the judged span, measures the residual of
//! the plain sum and of the window-fitted sum exactly, keeps 10 ms residual statistics for the
//! whole mix, and hands each aligned block to an optional [`BlockVisitor`] (the diagnosis).
//!
//! Memory: one block per file, whatever the file length. Time: one read of every file; the
//! work is split over threads by contiguous time ranges (each thread takes its own readers
//! over the sources, [`FrameSource::reopen`]). A `Chunk` is one thread's share; its
//! `Accumulator` does the per-block work of the consuming thread, step by step.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::gram::Gram;
use crate::Result;
use crate::meter::{Loudness, lufs_to_energy};
use crate::source::FrameSource;
use blocks::{BlockAudio, for_each_block};

mod blocks;
mod plan;

pub(crate) use blocks::to_planar;
pub(crate) use plan::StreamPlan;

/// Sees every aligned block of the mix, in order, during the streaming pass.
///
/// All buffers are interleaved with the mix's channel count and have the same length.
pub trait BlockVisitor {
    /// `frame`: position of the block's first frame in the mix. `sum`: the aligned stem sum
    /// with unity gains (a mono stem at constant power in the centre). `fitted`: the aligned
    /// sum with the per-stem gains and polarities fitted on the analysis windows (the
    /// full-length fit is only known after the pass; the two differ by far less than any
    /// residual worth diagnosing).
    fn block(&mut self, frame: u64, mix: &[f32], sum: &[f32], fitted: &[f32]);
}

/// Energies (sums of squares over all channels) per short block of the mix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockStats {
    /// Frames per block (about 10 ms).
    pub block_frames: usize,
    /// The mix.
    pub mix: Vec<f32>,
    /// Aligned stem sum, unity gains.
    pub sum: Vec<f32>,
    /// Mix minus the aligned stem sum.
    pub residual: Vec<f32>,
    /// Mix minus the aligned, window-fitted stem sum.
    pub fitted_residual: Vec<f32>,
}

impl BlockStats {
    fn with_len(block_frames: usize, n: usize) -> Self {
        Self {
            block_frames,
            mix: vec![0.0; n],
            sum: vec![0.0; n],
            residual: vec![0.0; n],
            fitted_residual: vec![0.0; n],
        }
    }

    /// The same statistics over blocks `factor` times longer (e.g. 100 for about 1 s).
    pub fn aggregate(&self, factor: usize) -> BlockStats {
        let f = factor.max(1);
        let agg = |v: &[f32]| v.chunks(f).map(|c| c.iter().sum()).collect();
        BlockStats {
            block_frames: self.block_frames * f,
            mix: agg(&self.mix),
            sum: agg(&self.sum),
            residual: agg(&self.residual),
            fitted_residual: agg(&self.fitted_residual),
        }
    }
}

/// What one chunk of the pass measured.
pub(crate) struct StreamOut {
    pub gram: Gram,
    /// Residual energy of the unity sum over the span.
    pub e_unity: f64,
    /// Residual energy of the window-fitted sum over the span.
    pub e_fitted: f64,
    pub stats: BlockStats,
    /// BS.1770 gating-block energies (400 ms every 100 ms) of the residual over the span.
    pub gating_blocks: Vec<f64>,
    /// Per stem, the residual at its full-scale samples over the span (see [`ClipStats`]).
    pub clips: Vec<ClipStats>,
    /// The [`Gram`] statistics of the span's frames where any stem is at full scale (also in
    /// `gram`): taken out, the fit of what the exports left whole.
    pub clip_gram: Gram,
}

/// A sample at or over this magnitude is at full scale in a fixed-point file (16-bit's largest
/// positive sample is 32767/32768; 24-bit's is nearer still): where a conversion clipped.
pub(crate) const FULL_SCALE: f64 = 32767.0 / 32768.0;

/// What the plain sum's residual (every stem at its offset, unity gains: the sum as delivered,
/// aligned) holds at one stem's full-scale samples ([`FULL_SCALE`]), over the judged span,
/// counted per mix channel the stem feeds.
///
/// A stem whose bus ran over 0 dBFS and was exported to a fixed-point file lost its peaks
/// there; the mix (float, or its master lower) kept them. Its residual is then the peaks the
/// file cut: all of it at those samples, each in the direction of the stem's own sample (the
/// mix goes further than the stem). A stem at full scale that the mix carries as it is (a
/// clipper on its bus) leaves none there.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ClipStats {
    /// Samples at full scale (one per mix channel the stem feeds).
    pub samples: u64,
    /// Residual energy at them.
    pub e_residual: f64,
    /// Sum of the residual times the stem's contribution to the sum at them: positive when
    /// the mix goes further than the stem in the direction of its peaks.
    pub residual_dot_stem: f64,
    /// Energy of the stem's contribution to the sum at them.
    pub e_stem: f64,
    /// The largest magnitude the mix gives the stem at them, in the stem's own scale (its
    /// sample plus the residual over its gain): the peak the export cut, 1.0 = full scale.
    pub peak_in_mix: f64,
}

impl ClipStats {
    fn merge(&mut self, o: &ClipStats) {
        self.samples += o.samples;
        self.e_residual += o.e_residual;
        self.residual_dot_stem += o.residual_dot_stem;
        self.e_stem += o.e_stem;
        self.peak_in_mix = self.peak_in_mix.max(o.peak_in_mix);
    }
}

/// The residual's integrated loudness: [`gated_loudness_lufs`] over
/// `StreamOut::gating_blocks` (re-exported here for the reconciliation's driver).
pub use crate::meter::gated_loudness_lufs;

/// Runs the pass over `[0, plan.frames)` with up to `threads` threads. With a visitor the pass
/// runs on the calling thread only, so that blocks arrive in order.
pub(crate) fn run(
    plan: &StreamPlan<'_>,
    mix: &mut dyn FrameSource,
    stems: &mut [Box<dyn FrameSource>],
    threads: usize,
    visitor: Option<&mut dyn BlockVisitor>,
    progress: &dyn Fn(u64),
) -> Result<StreamOut> {
    let nblocks = plan.frames.div_ceil(plan.block_frames as u64);
    // With a visitor the pass is one ordered chunk; a second thread can still read and decode
    // the next blocks while this one computes.
    let prefetch = visitor.is_some() && threads > 1;
    let threads = if visitor.is_some() {
        1
    } else {
        threads.clamp(1, nblocks.max(1) as usize)
    };
    let done = AtomicU64::new(0);
    let bounds: Vec<u64> = (0..=threads as u64)
        .map(|t| t * nblocks / threads as u64)
        .collect();
    let mut outs = Vec::with_capacity(threads);
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for t in 1..threads {
            let range = bounds[t]..bounds[t + 1];
            let mut mix2 = mix.reopen()?;
            let mut stems2 = stems
                .iter()
                .map(|s| s.reopen())
                .collect::<Result<Vec<_>>>()?;
            let done = &done;
            handles.push(scope.spawn(move || {
                let progress = ChunkProgress {
                    done,
                    report: &|_| {},
                };
                let chunk = Chunk {
                    plan,
                    blocks: range,
                    visitor: None,
                    prefetch: false,
                    progress: &progress,
                };
                chunk.run(mix2.as_mut(), &mut stems2)
            }));
        }
        let first = Chunk {
            plan,
            blocks: bounds[0]..bounds[1],
            visitor,
            prefetch,
            progress: &ChunkProgress {
                done: &done,
                report: progress,
            },
        }
        .run(mix, stems);
        outs.push(first?);
        for h in handles {
            outs.push(h.join().expect("stream thread does not panic")?);
        }
        Ok(())
    })?;
    progress(plan.frames);
    let mut it = outs.into_iter();
    let mut total = it.next().expect("at least one chunk");
    for o in it {
        total.gram.merge(&o.gram);
        total.e_unity += o.e_unity;
        total.e_fitted += o.e_fitted;
        total.stats.mix.extend(o.stats.mix);
        total.stats.sum.extend(o.stats.sum);
        total.stats.residual.extend(o.stats.residual);
        total.stats.fitted_residual.extend(o.stats.fitted_residual);
        total.gating_blocks.extend(o.gating_blocks);
        for (t, c) in total.clips.iter_mut().zip(&o.clips) {
            t.merge(c);
        }
        total.clip_gram.merge(&o.clip_gram);
    }
    Ok(total)
}

/// Progress shared by the chunks of one pass: the frames done over all of them, and the
/// caller's callback (only the first chunk's reports; the others count silently).
struct ChunkProgress<'a> {
    done: &'a AtomicU64,
    report: &'a dyn Fn(u64),
}

impl ChunkProgress<'_> {
    /// Counts `frames` more as done and reports the total.
    fn advance(&self, frames: u64) {
        let total = self.done.fetch_add(frames, Ordering::Relaxed) + frames;
        (self.report)(total);
    }
}

/// One thread's share of the pass: which blocks of the mix it runs, and how.
struct Chunk<'a, 'v> {
    plan: &'a StreamPlan<'a>,
    /// Blocks of the mix (of `plan.block_frames` frames each).
    blocks: Range<u64>,
    /// The diagnosis, on the one chunk that has it.
    visitor: Option<&'v mut dyn BlockVisitor>,
    /// Read and decode on a second thread (see [`for_each_block`]).
    prefetch: bool,
    progress: &'a ChunkProgress<'a>,
}

impl Chunk<'_, '_> {
    /// Runs the chunk over `mix` and `stems` (this thread's readers).
    fn run(
        self,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
    ) -> Result<StreamOut> {
        let Chunk {
            plan,
            blocks,
            mut visitor,
            prefetch,
            progress,
        } = self;
        let model = plan.model;
        let cm = model.mix_channels;
        let first_frame = blocks.start * plan.block_frames as u64;
        let last_frame = (blocks.end * plan.block_frames as u64).min(plan.frames);
        let mut acc = Accumulator::new(
            plan,
            first_frame..last_frame,
            mix.sample_rate(),
            visitor.is_some(),
        );
        // The Gram statistics over the judged span, the largest share of the work, are split
        // by mix channel: the first half on the reader thread when there is one, the rest in
        // `acc`. Each entry sums the same blocks in the same order as one `Gram::add` would,
        // and the merge adds only zeros, so the statistics do not depend on the split.
        let mut gram = Gram::new(model);
        let split = cm.div_ceil(2);
        let add_gram = |f0: u64, n: usize, audio: &BlockAudio| {
            let r = plan.span_in(f0, n);
            if !r.is_empty() {
                gram.add_channels(model, &audio.mix, &audio.stems, r.clone(), 0..split);
                gram.frames += r.len() as u64;
            }
        };
        for_each_block(
            plan,
            mix,
            stems,
            blocks,
            prefetch,
            add_gram,
            |f0, n, audio| {
                acc.block(f0, n, audio, split);
                if let Some(v) = visitor.as_deref_mut() {
                    acc.visit(v, f0, n, &audio.mix);
                }
                progress.advance(n as u64);
            },
        )?;
        gram.merge(&acc.gram_rest);
        let mut out = acc.out;
        out.gram = gram;
        Ok(out)
    }
}

impl StreamPlan<'_> {
    /// The judged span's frames inside the `n` frames from mix frame `f0`, relative to `f0`.
    fn span_in(&self, f0: u64, n: usize) -> Range<usize> {
        let lo = self.span.start.clamp(f0, f0 + n as u64) - f0;
        let hi = self.span.end.clamp(f0, f0 + n as u64) - f0;
        lo as usize..hi as usize
    }
}

/// What a chunk accumulates on the consuming thread, block by block, and its scratch buffers.
struct Accumulator<'a> {
    plan: &'a StreamPlan<'a>,
    /// First mix frame of the chunk (where its 10 ms statistics start).
    first_frame: u64,
    out: StreamOut,
    /// The Gram entries of the mix channels the reader thread does not add.
    gram_rest: Gram,
    /// Residual loudness: each chunk meters its own part of the span. A chunk after the first
    /// starts with a settled-from-zero K filter and an empty 400 ms window, so the three gating
    /// blocks that straddle a chunk boundary are left out (their share of a song is tiny).
    meter: Loudness,
    /// Frames of the meter's current 100 ms sub-block fed so far.
    fed: usize,
    /// The plain-sum residual of the block's judged span, interleaved, for the meter.
    rbuf: Vec<f32>,
    /// Per mix channel: the unity-gain sum and the window-fitted sum of the block.
    sum: Vec<Vec<f64>>,
    fit: Vec<Vec<f64>>,
    /// Interleaved mix, sum and fitted sum for the visitor (only when there is one).
    vis: Option<(Vec<f32>, Vec<f32>, Vec<f32>)>,
    /// The frames of a block where a stem is at full scale, and the mix and stems there
    /// (planar, compacted), for `clip_gram`: sized on the first block that has any.
    clip_frames: Vec<usize>,
    clip_mix: Vec<Vec<f64>>,
    clip_stems: Vec<Vec<Vec<f64>>>,
}

impl<'a> Accumulator<'a> {
    fn new(plan: &'a StreamPlan<'a>, frames: Range<u64>, sample_rate: u32, visit: bool) -> Self {
        let model = plan.model;
        let (bf, sf, cm) = (plan.block_frames, plan.stat_frames, model.mix_channels);
        let nstats = (frames.end.saturating_sub(frames.start)).div_ceil(sf as u64) as usize;
        Self {
            plan,
            first_frame: frames.start,
            out: StreamOut {
                gram: Gram::new(model),
                e_unity: 0.0,
                e_fitted: 0.0,
                stats: BlockStats::with_len(sf, nstats),
                gating_blocks: Vec::new(),
                clips: vec![ClipStats::default(); model.stems()],
                clip_gram: Gram::new(model),
            },
            gram_rest: Gram::new(model),
            meter: Loudness::new(cm, sample_rate),
            fed: 0,
            rbuf: vec![0.0f32; bf * cm],
            sum: vec![vec![0.0f64; bf]; cm],
            fit: vec![vec![0.0f64; bf]; cm],
            clip_frames: Vec::new(),
            clip_mix: Vec::new(),
            clip_stems: Vec::new(),
            vis: visit.then(|| {
                (
                    vec![0.0f32; bf * cm],
                    vec![0.0f32; bf * cm],
                    vec![0.0f32; bf * cm],
                )
            }),
        }
    }

    /// Takes the `n` frames from mix frame `f0` (the Gram entries of mix channels `split..`),
    /// all but the visitor's share ([`visit`](Self::visit)).
    fn block(&mut self, f0: u64, n: usize, audio: &BlockAudio, split: usize) {
        self.sums(n, &audio.stems);
        let r = self.plan.span_in(f0, n);
        if !r.is_empty() {
            let (model, cm) = (self.plan.model, self.plan.model.mix_channels);
            self.gram_rest
                .add_channels(model, &audio.mix, &audio.stems, r.clone(), split..cm);
            self.judged(&audio.mix, r.clone());
            self.clips(&audio.mix, &audio.stems, r);
        }
        self.block_stats(f0, n, &audio.mix);
    }

    /// The unity-gain and the window-fitted stem sums of the block, per mix channel.
    fn sums(&mut self, n: usize, stemp: &[Vec<Vec<f64>>]) {
        let (plan, model) = (self.plan, self.plan.model);
        let (k, cm) = (model.stems(), model.mix_channels);
        for c in 0..cm {
            let (s, f) = (&mut self.sum[c][..n], &mut self.fit[c][..n]);
            s.fill(0.0);
            f.fill(0.0);
            for i in 0..k {
                let (u, g) = (plan.unity[i * cm + c], plan.fitted[i * cm + c]);
                let x = &stemp[i][model.route(i, c)][..n];
                for ((sv, fv), &xv) in s.iter_mut().zip(f.iter_mut()).zip(x) {
                    *sv += u * xv;
                    *fv += g * xv;
                }
            }
        }
    }

    /// Residual energies over the judged frames `r` of the block, and the residual's loudness.
    fn judged(&mut self, mixp: &[Vec<f64>], r: Range<usize>) {
        let cm = self.plan.model.mix_channels;
        let (sum, fit, out) = (&self.sum, &self.fit, &mut self.out);
        for c in 0..cm {
            for t in r.clone() {
                let m = mixp[c][t];
                out.e_unity += (m - sum[c][t]) * (m - sum[c][t]);
                out.e_fitted += (m - fit[c][t]) * (m - fit[c][t]);
                self.rbuf[(t - r.start) * cm + c] = (m - sum[c][t]) as f32;
            }
        }
        // Feed whole 100 ms sub-blocks one at a time so that every gating block is seen.
        let mut rest = &self.rbuf[..r.len() * cm];
        while !rest.is_empty() {
            let want = (self.meter.block_frames() - self.fed) * cm;
            let (piece, tail) = rest.split_at(want.min(rest.len()));
            self.meter.process(piece);
            self.fed += piece.len() / cm;
            if self.fed == self.meter.block_frames() {
                self.fed = 0;
                if self.meter.momentary_window_full() {
                    out.gating_blocks
                        .push(lufs_to_energy(self.meter.momentary_lufs()));
                }
            }
            rest = tail;
        }
    }

    /// The residual at each stem's full-scale samples over the judged frames `r` of the block
    /// (see [`ClipStats`]). A stem's samples are looked at one by one only in a block where
    /// one of them reaches full scale; a stem with headroom costs one comparison per sample.
    fn clips(&mut self, mixp: &[Vec<f64>], stemp: &[Vec<Vec<f64>>], r: Range<usize>) {
        let (plan, model) = (self.plan, self.plan.model);
        let cm = model.mix_channels;
        let at_full_scale = |x: &[f64]| x.iter().fold(false, |a, &v| a | (v.abs() >= FULL_SCALE));
        let mut any = false;
        for (i, stats) in self.out.clips.iter_mut().enumerate() {
            for c in 0..cm {
                let g = plan.unity[i * cm + c];
                let x = &stemp[i][model.route(i, c)][r.clone()];
                if g == 0.0 || !at_full_scale(x) {
                    continue;
                }
                any = true;
                let (m, f) = (&mixp[c][r.clone()], &self.sum[c][r.clone()]);
                for ((&xv, &mv), &fv) in x.iter().zip(m).zip(f) {
                    if xv.abs() >= FULL_SCALE {
                        let res = mv - fv;
                        stats.samples += 1;
                        stats.e_residual += res * res;
                        stats.residual_dot_stem += res * g * xv;
                        stats.e_stem += g * xv * g * xv;
                        stats.peak_in_mix = stats.peak_in_mix.max((xv + res / g).abs());
                    }
                }
            }
        }
        if any {
            self.clip_gram(mixp, stemp, r);
        }
    }

    /// Adds the frames of `r` where a stem in the sum is at full scale to `out.clip_gram`.
    fn clip_gram(&mut self, mixp: &[Vec<f64>], stemp: &[Vec<Vec<f64>>], r: Range<usize>) {
        let (plan, model) = (self.plan, self.plan.model);
        let (k, cm) = (model.stems(), model.mix_channels);
        let in_sum = |i: usize| (0..cm).any(|c| plan.unity[i * cm + c] != 0.0);
        self.clip_frames.clear();
        self.clip_frames.extend(r.filter(|&t| {
            (0..k).any(|i| in_sum(i) && stemp[i].iter().any(|ch| ch[t].abs() >= FULL_SCALE))
        }));
        let n = self.clip_frames.len();
        if self.clip_mix.is_empty() {
            self.clip_mix = vec![vec![0.0; plan.block_frames]; cm];
            self.clip_stems = stemp
                .iter()
                .map(|s| vec![vec![0.0; plan.block_frames]; s.len()])
                .collect();
        }
        for (out, m) in self.clip_mix.iter_mut().zip(mixp) {
            for (o, &t) in out.iter_mut().zip(&self.clip_frames) {
                *o = m[t];
            }
        }
        for (out, s) in self.clip_stems.iter_mut().zip(stemp) {
            for (oc, sc) in out.iter_mut().zip(s) {
                for (o, &t) in oc.iter_mut().zip(&self.clip_frames) {
                    *o = sc[t];
                }
            }
        }
        self.out
            .clip_gram
            .add(model, &self.clip_mix, &self.clip_stems, 0..n);
    }

    /// The 10 ms statistics of the block; blocks are whole multiples of the stat length.
    fn block_stats(&mut self, f0: u64, n: usize, mixp: &[Vec<f64>]) {
        let (sf, cm) = (self.plan.stat_frames, self.plan.model.mix_channels);
        let (sum, fit) = (&self.sum, &self.fit);
        let base = ((f0 - self.first_frame) / sf as u64) as usize;
        for (j, s0) in (0..n).step_by(sf).enumerate() {
            let s1 = (s0 + sf).min(n);
            let (mut em, mut es, mut er, mut ef) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            for c in 0..cm {
                for t in s0..s1 {
                    let m = mixp[c][t];
                    em += m * m;
                    es += sum[c][t] * sum[c][t];
                    er += (m - sum[c][t]) * (m - sum[c][t]);
                    ef += (m - fit[c][t]) * (m - fit[c][t]);
                }
            }
            let st = &mut self.out.stats;
            st.mix[base + j] = em as f32;
            st.sum[base + j] = es as f32;
            st.residual[base + j] = er as f32;
            st.fitted_residual[base + j] = ef as f32;
        }
    }

    /// Hands the block, interleaved, to the visitor.
    fn visit(&mut self, v: &mut dyn BlockVisitor, f0: u64, n: usize, mixp: &[Vec<f64>]) {
        let cm = self.plan.model.mix_channels;
        let Some((vm, vs, vf)) = self.vis.as_mut() else {
            return;
        };
        for t in 0..n {
            for c in 0..cm {
                vm[t * cm + c] = mixp[c][t] as f32;
                vs[t * cm + c] = self.sum[c][t] as f32;
                vf[t * cm + c] = self.fit[c][t] as f32;
            }
        }
        v.block(f0, &vm[..n * cm], &vs[..n * cm], &vf[..n * cm]);
    }
}

/// Residual and mix energies of the plain sum with every stem read at `plan.offsets` (one
/// common lag for the null as delivered), over `plan.span` only: a second, cheap pass that
/// keeps no statistics (one block per file in memory, one read of the span).
///
/// Returns `(residual energy, mix energy)`, sums of squares over all mix channels.
pub(crate) fn plain_residual(
    plan: &StreamPlan<'_>,
    mix: &mut dyn FrameSource,
    stems: &mut [Box<dyn FrameSource>],
) -> Result<(f64, f64)> {
    let model = plan.model;
    let (k, cm) = (model.stems(), model.mix_channels);
    let bf = plan.block_frames as u64;
    let blocks = plan.span.start / bf..plan.span.end.div_ceil(bf);
    let (mut e_res, mut e_mix) = (0.0f64, 0.0f64);
    let mut sum = vec![0.0f64; plan.block_frames];
    for_each_block(
        plan,
        mix,
        stems,
        blocks,
        false,
        |_, _, _| {},
        |f0, n, audio| {
            let r = plan.span_in(f0, n);
            for c in 0..cm {
                let s = &mut sum[..n];
                s.fill(0.0);
                for i in 0..k {
                    let u = plan.unity[i * cm + c];
                    if u != 0.0 {
                        let x = &audio.stems[i][model.route(i, c)][..n];
                        for (sv, &xv) in s.iter_mut().zip(x) {
                            *sv += u * xv;
                        }
                    }
                }
                for t in r.clone() {
                    let m = audio.mix[c][t];
                    e_res += (m - s[t]) * (m - s[t]);
                    e_mix += m * m;
                }
            }
        },
    )?;
    Ok((e_res, e_mix))
}

/// Mix minus the stem sum with `plan.unity` gains, every stem read at `plan.offsets`, over
/// the whole mix (`0..plan.frames`): handed to `out` block by block, interleaved with the
/// mix's channels. The residual the null depths measure, as audio (one block per file in
/// memory).
///
/// # Errors
/// When a source fails while it is being read, or `out` fails (its error is returned).
pub(crate) fn residual_audio(
    plan: &StreamPlan<'_>,
    mix: &mut dyn FrameSource,
    stems: &mut [Box<dyn FrameSource>],
    out: &mut dyn FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    let model = plan.model;
    let (k, cm) = (model.stems(), model.mix_channels);
    let bf = plan.block_frames;
    let mut buf = vec![0.0f32; bf * cm];
    let mut sum = vec![0.0f64; bf];
    let mut failed = None;
    for_each_block(
        plan,
        mix,
        stems,
        0..plan.frames.div_ceil(bf as u64),
        false,
        |_, _, _| {},
        |_, n, audio| {
            if failed.is_some() {
                return;
            }
            for c in 0..cm {
                let s = &mut sum[..n];
                s.fill(0.0);
                for i in 0..k {
                    let g = plan.unity[i * cm + c];
                    if g != 0.0 {
                        let x = &audio.stems[i][model.route(i, c)][..n];
                        for (sv, &xv) in s.iter_mut().zip(x) {
                            *sv += g * xv;
                        }
                    }
                }
                for (t, &sv) in s.iter().enumerate() {
                    buf[t * cm + c] = (audio.mix[c][t] - sv) as f32;
                }
            }
            if let Err(e) = out(&buf[..n * cm]) {
                failed = Some(e);
            }
        },
    )?;
    failed.map_or(Ok(()), Err)
}
