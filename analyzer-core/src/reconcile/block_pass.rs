//! A second pass over the judged span for the checks that need the residual next to one
//! stem's part of the sum every 20 ms (a lost sidechain, a stem folded to mono): the streaming
//! pass keeps only whole-span statistics per stem and 10 ms energies of the whole sum.
//!
//! It runs only on a set that fails its null and holds a candidate for one of those causes, so
//! a clean delivery never pays for it. Memory: one second of every file.

use std::ops::Range;

use super::gram::Model;
use crate::Result;
use crate::source::FrameSource;

/// Gain blocks, seconds: short against a ducking's release (100-300 ms).
pub(super) const BLOCK_S: f64 = 0.02;
/// Blocks read per chunk.
const CHUNK_BLOCKS: usize = 50;

/// A block counts where a stem plays: within this many dB of its loudest block.
pub(super) const PLAYING_DB: f64 = 40.0;
/// Fewer blocks where a stem plays than this are not judged.
pub(super) const MIN_BLOCKS: usize = 100;

/// The blocks where a stem with energies `level` (per block) plays (see [`PLAYING_DB`]), and
/// its loudest block's energy; no blocks when it is silent throughout.
pub(super) fn playing(level: &[f64]) -> (Vec<usize>, f64) {
    let loudest = level.iter().copied().fold(0.0, f64::max);
    if loudest <= 0.0 {
        return (Vec::new(), loudest);
    }
    let floor = loudest * 10f64.powf(-PLAYING_DB / 10.0);
    let blocks = (0..level.len()).filter(|&j| level[j] >= floor).collect();
    (blocks, loudest)
}

/// Per 20 ms block of the span, sums over the block's frames and mix channels.
pub(super) struct Blocks {
    /// `sum r x` and `sum x x` for the focus stem's part of the plain sum `x` (zero without a
    /// focus), and `sum r r` for the plain sum's residual `r`.
    pub rx: Vec<f64>,
    pub xx: Vec<f64>,
    pub rr: Vec<f64>,
    /// The same with the rest of the plain sum `o` (every other stem): `sum r o`, `sum o o`,
    /// `sum x o`.
    pub ro: Vec<f64>,
    pub oo: Vec<f64>,
    pub xo: Vec<f64>,
    /// The residual's side, `sum (r_left - r_right)^2 / 2` (stereo mixes; zero otherwise):
    /// with `rr`, how much of the residual is the difference between the channels.
    pub side: Vec<f64>,
    /// Per stem, its part of the plain sum's energy (zero for stems not active).
    pub level: Vec<Vec<f64>>,
}

/// What the pass reads and how.
pub(super) struct BlockPass<'a> {
    pub model: &'a Model,
    /// The plain sum's per-(stem, mix channel) gains (the streaming pass's).
    pub unity: &'a [f64],
    /// Per stem: its offset (stem frame = mix frame + offset) and whether it is active.
    pub offsets: &'a [i64],
    pub active: &'a [bool],
    /// The judged span, mix frames.
    pub span: Range<u64>,
    pub sample_rate: u32,
}

impl BlockPass<'_> {
    /// Reads the span once more and measures every 20 ms block (see [`Blocks`]), with `focus`
    /// the stem whose part is projected.
    ///
    /// # Errors
    /// When a file cannot be read.
    pub fn run(
        &self,
        focus: Option<usize>,
        mix: &mut dyn FrameSource,
        stems: &mut [Box<dyn FrameSource>],
    ) -> Result<Blocks> {
        let model = self.model;
        let cm = model.mix_channels;
        let bf = ((BLOCK_S * f64::from(self.sample_rate)) as usize).max(1);
        let n_blocks = ((self.span.end - self.span.start) / bf as u64) as usize;
        let n_stems = model.stems();
        let mut out = Blocks {
            rx: vec![0.0; n_blocks],
            xx: vec![0.0; n_blocks],
            rr: vec![0.0; n_blocks],
            ro: vec![0.0; n_blocks],
            oo: vec![0.0; n_blocks],
            xo: vec![0.0; n_blocks],
            side: vec![0.0; n_blocks],
            level: vec![vec![0.0; n_blocks]; n_stems],
        };
        let chunk = CHUNK_BLOCKS * bf;
        let mch = mix.channels().max(1);
        let mut mbuf = vec![0.0f32; chunk * mch];
        let mut sbuf: Vec<Vec<f32>> = stems
            .iter()
            .map(|s| vec![0.0f32; chunk * s.channels().max(1)])
            .collect();
        let mut part = vec![0.0f64; n_stems];
        let mut res = vec![0.0f64; cm];
        let mut b0 = 0;
        while b0 < n_blocks {
            let nb = CHUNK_BLOCKS.min(n_blocks - b0);
            let f0 = self.span.start + (b0 * bf) as u64;
            let n = nb * bf;
            mix.read_window(f0 as i64, &mut mbuf[..n * mch])?;
            for (i, s) in stems.iter_mut().enumerate() {
                if self.active[i] {
                    let ch = s.channels().max(1);
                    s.read_window(f0 as i64 + self.offsets[i], &mut sbuf[i][..n * ch])?;
                }
            }
            for t in 0..n {
                let b = b0 + t / bf;
                for (c, rc) in res.iter_mut().enumerate() {
                    let mut sum = 0.0f64;
                    for i in (0..n_stems).filter(|&i| self.active[i]) {
                        let ch = model.stem_channels[i].max(1);
                        let x =
                            self.unity[i * cm + c] * f64::from(sbuf[i][t * ch + model.route(i, c)]);
                        part[i] = x;
                        sum += x;
                        out.level[i][b] += x * x;
                    }
                    let r = f64::from(mbuf[t * mch + c % mch]) - sum;
                    *rc = r;
                    out.rr[b] += r * r;
                    if let Some(k) = focus {
                        let (x, o) = (part[k], sum - part[k]);
                        out.rx[b] += r * x;
                        out.xx[b] += x * x;
                        out.ro[b] += r * o;
                        out.oo[b] += o * o;
                        out.xo[b] += x * o;
                    }
                }
                if cm == 2 {
                    out.side[b] += (res[0] - res[1]) * (res[0] - res[1]) / 2.0;
                }
            }
            b0 += nb;
        }
        Ok(out)
    }
}
