//! Least-squares gain fit of stems against the mix from second-order statistics.
//!
//! The fit `mix_c[n] ~ sum_i A[i][c] * stem_i,route(i,c)[n]` only needs, per mix channel `c`,
//! the Gram matrix of the routed stems (`sum s_i s_j`), their cross terms with the mix
//! (`sum s_i m`) and the mix energy (`sum m^2`). These are accumulated block by block while
//! streaming, so the gains and the residual energy of any gain set over the whole file come
//! out exactly without storing audio. Products of `f32` samples are exact in `f64` and the sums
//! are kept in `f64`, so the residual energy stays meaningful down to about -150 dB.
//!
//! Gain model (documented in the README of the reconciliation): a stem with as many channels as
//! the mix (or any stem into a mono mix) has one gain for all channels, like a fader. A mono
//! stem in a multichannel mix has one gain per mix channel, so whatever pan position it was
//! mixed at fits exactly; its reported gain is the constant-power sum of those, 0 dB for a mono
//! stem panned anywhere with a -3 dB pan law (the usual DAW default). Other channel layouts
//! (a stereo stem in a 5.1 mix) route mix channel `c` to stem channel `c mod channels`.

use std::ops::Range;

/// Which mix channels one fitted gain applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Index of the stem.
    pub stem: usize,
    /// `None`: all mix channels (one fader); `Some(c)`: mix channel `c` only.
    pub channel: Option<usize>,
}

/// The gain parameterisation of a set of stems against a mix.
#[derive(Debug, Clone)]
pub struct Model {
    /// Channel count of the mix.
    pub mix_channels: usize,
    /// Channel count of each stem, in stem order.
    pub stem_channels: Vec<usize>,
    /// The fitted gains, stem by stem (one per stem, or one per mix channel for a mono stem in
    /// a multichannel mix).
    pub params: Vec<Param>,
}

impl Model {
    /// The gain model of stems with `stem_channels` channels against a mix of `mix_channels`: one
    /// gain per stem, except a mono stem in a multichannel mix, which gets one per mix channel
    /// (so any pan position fits).
    pub fn new(mix_channels: usize, stem_channels: &[usize]) -> Self {
        let mut params = Vec::new();
        for (stem, &ch) in stem_channels.iter().enumerate() {
            if ch == 1 && mix_channels > 1 {
                params.extend((0..mix_channels).map(|c| Param {
                    stem,
                    channel: Some(c),
                }));
            } else {
                params.push(Param {
                    stem,
                    channel: None,
                });
            }
        }
        Self {
            mix_channels,
            stem_channels: stem_channels.to_vec(),
            params,
        }
    }

    /// Number of stems.
    pub fn stems(&self) -> usize {
        self.stem_channels.len()
    }

    /// The stem channel that feeds mix channel `c`.
    pub fn route(&self, stem: usize, c: usize) -> usize {
        c % self.stem_channels[stem]
    }

    fn covers(p: Param, c: usize) -> bool {
        p.channel.is_none_or(|pc| pc == c)
    }

    /// Per (stem, mix channel) gains, `A[stem * mix_channels + c]`, from parameter values.
    pub fn coefs(&self, theta: &[f64]) -> Vec<f64> {
        let cm = self.mix_channels;
        let mut a = vec![0.0; self.stems() * cm];
        for (p, &t) in self.params.iter().zip(theta) {
            for c in 0..cm {
                if Self::covers(*p, c) {
                    a[p.stem * cm + c] = t;
                }
            }
        }
        a
    }

    /// Gains of the plain stem sum: 1 for stems that match the mix layout; a mono stem in a
    /// multichannel mix sits in the centre at constant power (`1/sqrt(channels)` per channel)
    /// unless the caller knows its pan position.
    pub fn unity_coefs(&self) -> Vec<f64> {
        let cm = self.mix_channels;
        let mut a = vec![1.0; self.stems() * cm];
        for (i, &ch) in self.stem_channels.iter().enumerate() {
            if ch == 1 && cm > 1 {
                a[i * cm..(i + 1) * cm].fill(1.0 / (cm as f64).sqrt());
            }
        }
        a
    }

    /// One stem's gain and polarity from its per-channel gains: the joint gain, or for a mono
    /// stem in a multichannel mix the constant-power sum, signed by the channel sum.
    pub fn stem_gain(&self, coefs: &[f64], stem: usize) -> f64 {
        let cm = self.mix_channels;
        let g = &coefs[stem * cm..(stem + 1) * cm];
        if self.stem_channels[stem] == 1 && cm > 1 {
            let power: f64 = g.iter().map(|x| x * x).sum();
            let sign = if g.iter().sum::<f64>() < 0.0 {
                -1.0
            } else {
                1.0
            };
            sign * power.sqrt()
        } else {
            g[0]
        }
    }
}

/// Dot product with four accumulators (lets the compiler vectorise without reassociation).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// [`dot`] of `a` with four vectors at once (each `a` value loaded once for all four), each
/// with exactly `dot`'s summation order, so every result equals `dot(a, b[p])` bit for bit.
///
/// With AVX (`pulp`'s runtime check), each accumulator's four lanes are one 256-bit register
/// (the baseline build uses two 128-bit ones, and the compiler left the AVX build scalar). Only
/// the instructions change, not the arithmetic: every lane keeps its own sum in the same
/// order, a multiply then an add (never fused), so the bits are the same.
pub fn dot4(a: &[f64], b: [&[f64]; 4]) -> [f64; 4] {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return simd.vectorize(Dot4V3 { simd, a, b });
    }
    let n = b.iter().fold(a.len(), |n, x| n.min(x.len()));
    let a = &a[..n];
    let b = b.map(|x| &x[..n]);
    let mut acc = [[0.0f64; 4]; 4];
    let (ca, _) = a.as_chunks::<4>();
    let cb = b.map(|x| x.as_chunks::<4>().0);
    for (q, x) in ca.iter().enumerate() {
        for (acc, y) in acc.iter_mut().zip(&cb) {
            let y = &y[q];
            acc[0] += x[0] * y[0];
            acc[1] += x[1] * y[1];
            acc[2] += x[2] * y[2];
            acc[3] += x[3] * y[3];
        }
    }
    dot4_finish(&acc, a, b)
}

/// Sums each accumulator's lanes and adds the last `a.len() % 4` products, in `dot`'s order.
/// `a` and every `b` have the same length.
#[inline(always)]
fn dot4_finish(acc: &[[f64; 4]; 4], a: &[f64], b: [&[f64]; 4]) -> [f64; 4] {
    let tail = a.len() / 4 * 4;
    std::array::from_fn(|p| {
        let acc = &acc[p];
        let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        for (x, y) in a[tail..].iter().zip(&b[p][tail..]) {
            s += x * y;
        }
        s
    })
}

/// [`dot4`]'s AVX loop, run by [`pulp::x86::V3::vectorize`].
#[cfg(target_arch = "x86_64")]
struct Dot4V3<'a> {
    simd: pulp::x86::V3,
    a: &'a [f64],
    b: [&'a [f64]; 4],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Dot4V3<'_> {
    type Output = [f64; 4];

    #[inline(always)]
    fn call(self) -> [f64; 4] {
        use std::arch::x86_64::__m256d;
        let Self { simd, a, b } = self;
        let n = b.iter().fold(a.len(), |n, x| n.min(x.len()));
        let a = &a[..n];
        let b = b.map(|x| &x[..n]);
        let (ca, _) = a.as_chunks::<4>();
        let cb = b.map(|x| x.as_chunks::<4>().0);
        let mut acc: [__m256d; 4] = [simd.avx._mm256_setzero_pd(); 4];
        for (q, x) in ca.iter().enumerate() {
            let x: __m256d = pulp::cast(*x);
            for (acc, y) in acc.iter_mut().zip(&cb) {
                let y: __m256d = pulp::cast(y[q]);
                *acc = simd.avx._mm256_add_pd(*acc, simd.avx._mm256_mul_pd(x, y));
            }
        }
        let acc: [[f64; 4]; 4] = acc.map(pulp::cast);
        dot4_finish(&acc, a, b)
    }
}

/// Second-order statistics of routed stems and the mix, per mix channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Gram {
    k: usize,
    c: usize,
    /// `pp[(c * k + i) * k + j] = sum s_i s_j` in mix channel `c` (full symmetric).
    pp: Vec<f64>,
    /// `pm[c * k + i] = sum s_i m_c`.
    pm: Vec<f64>,
    /// `mm[c] = sum m_c^2`.
    mm: Vec<f64>,
    /// Frames accumulated so far.
    pub frames: u64,
}

/// Frames per tile: keeps every routed stem of a tile in L1/L2 while all pairs are formed.
const TILE_FRAMES: usize = 512;

impl Gram {
    /// Empty statistics (all sums zero) for `model`.
    pub fn new(model: &Model) -> Self {
        let (k, c) = (model.stems(), model.mix_channels);
        Self {
            k,
            c,
            pp: vec![0.0; c * k * k],
            pm: vec![0.0; c * k],
            mm: vec![0.0; c],
            frames: 0,
        }
    }

    /// Adds frames `range` of planar buffers: `mix[c][n]`, `stems[i][ch][n]`.
    pub fn add(
        &mut self,
        model: &Model,
        mix: &[Vec<f64>],
        stems: &[Vec<Vec<f64>>],
        range: Range<usize>,
    ) {
        self.add_channels(model, mix, stems, range.clone(), 0..self.c);
        self.frames += range.len() as u64;
    }

    /// [`Gram::add`] for the mix channels `channels` only, without counting the frames: two
    /// threads can share the statistics of one stream by channel, each in block order, and
    /// [`Gram::merge`] them into exactly what `add` gives (the other's entries are 0).
    pub fn add_channels(
        &mut self,
        model: &Model,
        mix: &[Vec<f64>],
        stems: &[Vec<Vec<f64>>],
        range: Range<usize>,
        channels: Range<usize>,
    ) {
        let k = self.k;
        let mut t = range.start;
        // Partners of stem i in one tile: the mix, then stems i..k (`None` = the mix).
        let mut partners: Vec<Option<usize>> = Vec::with_capacity(k + 1);
        while t < range.end {
            let e = (t + TILE_FRAMES).min(range.end);
            for c in channels.clone() {
                let m = &mix[c][t..e];
                self.mm[c] += dot(m, m);
                let row = |j: usize| &stems[j][model.route(j, c)][t..e];
                for i in 0..k {
                    let si = row(i);
                    partners.clear();
                    partners.push(None);
                    partners.extend((i..k).map(Some));
                    let of = |p: Option<usize>| p.map_or(m, row);
                    // Four products per pass over `si` (each with `dot`'s own summation, so
                    // the statistics are bit for bit those of one `dot` per pair).
                    let mut store = |p: Option<usize>, v: f64| match p {
                        None => self.pm[c * k + i] += v,
                        Some(j) => {
                            self.pp[(c * k + i) * k + j] += v;
                            if j != i {
                                self.pp[(c * k + j) * k + i] += v;
                            }
                        }
                    };
                    let (quads, rest) = partners.as_chunks::<4>();
                    for q in quads {
                        let v = dot4(si, [of(q[0]), of(q[1]), of(q[2]), of(q[3])]);
                        for (&p, v) in q.iter().zip(v) {
                            store(p, v);
                        }
                    }
                    for &p in rest {
                        store(p, dot(si, of(p)));
                    }
                }
            }
            t = e;
        }
    }

    /// Takes the statistics of `other` (frames that were added to `self` too) out again: the
    /// statistics of the frames `self` holds and `other` does not.
    pub fn without(&self, other: &Gram) -> Gram {
        let mut out = self.clone();
        for (a, b) in out.pp.iter_mut().zip(&other.pp) {
            *a -= b;
        }
        for (a, b) in out.pm.iter_mut().zip(&other.pm) {
            *a -= b;
        }
        for (a, b) in out.mm.iter_mut().zip(&other.mm) {
            *a -= b;
        }
        out.frames = out.frames.saturating_sub(other.frames);
        out
    }

    /// Adds `other`'s sums (statistics of other frames under the same model), as if its frames
    /// had been added here: blocks accumulated apart combine into one fit.
    pub fn merge(&mut self, other: &Gram) {
        for (a, b) in self.pp.iter_mut().zip(&other.pp) {
            *a += b;
        }
        for (a, b) in self.pm.iter_mut().zip(&other.pm) {
            *a += b;
        }
        for (a, b) in self.mm.iter_mut().zip(&other.mm) {
            *a += b;
        }
        self.frames += other.frames;
    }

    /// Mix energy over all channels.
    pub fn mix_energy(&self) -> f64 {
        self.mm.iter().sum()
    }

    /// Energy of one stem's routed signal over all mix channels.
    pub fn stem_energy(&self, model: &Model, stem: usize) -> f64 {
        let _ = model;
        (0..self.c)
            .map(|c| self.pp[(c * self.k + stem) * self.k + stem])
            .sum()
    }

    /// Cross energy of two stems' routed signals over all mix channels (`sum s_i s_j`): with
    /// [`Gram::stem_energy`] of `j`, how much of stem `j`'s audio stem `i` carries.
    pub fn cross_energy(&self, i: usize, j: usize) -> f64 {
        (0..self.c).map(|c| self.pp(c, i, j)).sum()
    }

    /// Energy of one stem's routed signal at the per-mix-channel gains `coefs` (e.g. the
    /// plain sum's, so that a mono stem counts at its pan position).
    pub fn stem_energy_at(&self, coefs: &[f64], stem: usize) -> f64 {
        (0..self.c)
            .map(|c| coefs[stem * self.c + c].powi(2) * self.pp(c, stem, stem))
            .sum()
    }

    /// `sum r * a x` over all mix channels, for one stem's routed signal `x` at its gains `a`
    /// in `coefs` and the residual `r` of the mix against the whole sum at `coefs`: with
    /// [`Gram::stem_energy_at`] and the residual energy, how much the residual is that stem.
    pub fn residual_cross_at(&self, coefs: &[f64], stem: usize) -> f64 {
        let (k, cm) = (self.k, self.c);
        (0..cm)
            .map(|c| {
                let fitted: f64 = (0..k)
                    .map(|i| coefs[i * cm + c] * self.pp(c, i, stem))
                    .sum();
                coefs[stem * cm + c] * (self.pm[c * k + stem] - fitted)
            })
            .sum()
    }

    /// Energy of the stem sum at the per-mix-channel gains `coefs`.
    pub fn sum_energy_at(&self, coefs: &[f64]) -> f64 {
        let (k, cm) = (self.k, self.c);
        let mut e = 0.0;
        for c in 0..cm {
            for i in 0..k {
                for j in 0..k {
                    e += coefs[i * cm + c] * coefs[j * cm + c] * self.pp(c, i, j);
                }
            }
        }
        e
    }

    fn pp(&self, c: usize, i: usize, j: usize) -> f64 {
        self.pp[(c * self.k + i) * self.k + j]
    }

    /// Normal equations in parameter space.
    fn normal_equations(&self, model: &Model) -> (Vec<f64>, Vec<f64>) {
        let p = model.params.len();
        let mut g = vec![0.0; p * p];
        let mut b = vec![0.0; p];
        for (x, px) in model.params.iter().enumerate() {
            for c in (0..self.c).filter(|&c| Model::covers(*px, c)) {
                b[x] += self.pm[c * self.k + px.stem];
                for (y, py) in model.params.iter().enumerate() {
                    if Model::covers(*py, c) {
                        g[x * p + y] += self.pp(c, px.stem, py.stem);
                    }
                }
            }
        }
        (g, b)
    }

    /// Least-squares parameters (see [`Model`]). Parameters whose stem has no energy get 0; a
    /// tiny ridge keeps duplicate stems from making the system singular.
    pub fn solve(&self, model: &Model) -> Vec<f64> {
        self.solve_masked(model, &vec![true; model.stems()])
    }

    /// [`Gram::solve`] with only the stems where `mask` is true; the others get 0.
    pub fn solve_masked(&self, model: &Model, mask: &[bool]) -> Vec<f64> {
        let (g, b) = self.normal_equations(model);
        let p = b.len();
        let live: Vec<usize> = (0..p)
            .filter(|&x| g[x * p + x] > 0.0 && mask[model.params[x].stem])
            .collect();
        let n = live.len();
        let mut theta = vec![0.0; p];
        if n == 0 {
            return theta;
        }
        let max_diag = live.iter().map(|&x| g[x * p + x]).fold(0.0, f64::max);
        let ridge = max_diag * 1e-13;
        // Augmented [G | b] restricted to live parameters; Gaussian elimination, partial pivot.
        let mut a = vec![0.0; n * (n + 1)];
        for (r, &x) in live.iter().enumerate() {
            for (s, &y) in live.iter().enumerate() {
                a[r * (n + 1) + s] = g[x * p + y] + if r == s { ridge } else { 0.0 };
            }
            a[r * (n + 1) + n] = b[x];
        }
        for col in 0..n {
            let piv = (col..n)
                .max_by(|&r, &s| {
                    a[r * (n + 1) + col]
                        .abs()
                        .total_cmp(&a[s * (n + 1) + col].abs())
                })
                .unwrap_or(col);
            if a[piv * (n + 1) + col].abs() <= max_diag * 1e-300 {
                continue;
            }
            if piv != col {
                for s in 0..=n {
                    a.swap(piv * (n + 1) + s, col * (n + 1) + s);
                }
            }
            let d = a[col * (n + 1) + col];
            for r in col + 1..n {
                let f = a[r * (n + 1) + col] / d;
                if f != 0.0 {
                    for s in col..=n {
                        a[r * (n + 1) + s] -= f * a[col * (n + 1) + s];
                    }
                }
            }
        }
        let mut x = vec![0.0; n];
        for r in (0..n).rev() {
            let d = a[r * (n + 1) + r];
            if d.abs() <= max_diag * 1e-300 {
                continue;
            }
            let mut s = a[r * (n + 1) + n];
            for q in r + 1..n {
                s -= a[r * (n + 1) + q] * x[q];
            }
            x[r] = s / d;
        }
        for (r, &p_idx) in live.iter().enumerate() {
            theta[p_idx] = if x[r].is_finite() { x[r] } else { 0.0 };
        }
        theta
    }

    /// Residual energy `sum_c sum_n (m_c - sum_i A_ic s_i)^2` for per-channel gains `coefs`.
    ///
    /// Subject to cancellation when the residual is tiny; prefer [`Gram::energy_from`] with a
    /// directly measured reference energy.
    pub fn energy(&self, coefs: &[f64]) -> f64 {
        let (k, cm) = (self.k, self.c);
        let mut e = 0.0;
        for c in 0..cm {
            let a = |i: usize| coefs[i * cm + c];
            let mut cross = 0.0;
            let mut quad = 0.0;
            for i in 0..k {
                cross += a(i) * self.pm[c * k + i];
                for j in 0..k {
                    quad += a(i) * a(j) * self.pp(c, i, j);
                }
            }
            e += self.mm[c] - 2.0 * cross + quad;
        }
        e.max(0.0)
    }

    /// Residual energy for gains `coefs`, given the exactly measured residual energy
    /// `e_ref` of gains `ref_coefs` over the same frames: the exact quadratic expansion
    /// `E(a) = E(r) + 2 d.(G r - b) + d.G.d` with `d = a - r`, which keeps the precision of
    /// the measured energy when the two gain sets are close (a deep null).
    pub fn energy_from(&self, coefs: &[f64], ref_coefs: &[f64], e_ref: f64) -> f64 {
        let (k, cm) = (self.k, self.c);
        let mut e = e_ref;
        for c in 0..cm {
            let r = |i: usize| ref_coefs[i * cm + c];
            let d = |i: usize| coefs[i * cm + c] - ref_coefs[i * cm + c];
            for i in 0..k {
                let gr: f64 = (0..k).map(|j| self.pp(c, i, j) * r(j)).sum();
                let gd: f64 = (0..k).map(|j| self.pp(c, i, j) * d(j)).sum();
                e += 2.0 * d(i) * (gr - self.pm[c * k + i]) + d(i) * gd;
            }
        }
        e.max(0.0)
    }

    /// Normalised correlation of one fitted stem with its leave-one-out target (the mix minus
    /// every other fitted stem): 1 when the stem explains its target exactly, near 0 when it
    /// has nothing to do with the mix.
    pub fn loo_correlation(&self, coefs: &[f64], stem: usize) -> f64 {
        let (k, cm) = (self.k, self.c);
        let (mut yt, mut yy, mut tt) = (0.0, 0.0, 0.0);
        for c in 0..cm {
            let a = |i: usize| coefs[i * cm + c];
            let i = stem;
            let others_cross: f64 = (0..k)
                .filter(|&j| j != i)
                .map(|j| a(j) * self.pp(c, i, j))
                .sum();
            yt += a(i) * (self.pm[c * k + i] - others_cross);
            yy += a(i) * a(i) * self.pp(c, i, i);
            let mut t = self.mm[c];
            for j in (0..k).filter(|&j| j != i) {
                t -= 2.0 * a(j) * self.pm[c * k + j];
                for l in (0..k).filter(|&l| l != i) {
                    t += a(j) * a(l) * self.pp(c, j, l);
                }
            }
            tt += t;
        }
        if yy <= 0.0 || tt <= 0.0 {
            return 0.0;
        }
        (yt / (yy * tt).sqrt()).clamp(-1.0, 1.0).abs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Gram::add` as it was written before the four-at-a-time kernel: one `dot` per pair.
    fn add_one_pair_at_a_time(
        g: &mut Gram,
        model: &Model,
        mix: &[Vec<f64>],
        stems: &[Vec<Vec<f64>>],
        range: Range<usize>,
    ) {
        let (k, cm) = (g.k, g.c);
        let mut t = range.start;
        while t < range.end {
            let e = (t + TILE_FRAMES).min(range.end);
            for c in 0..cm {
                let m = &mix[c][t..e];
                g.mm[c] += dot(m, m);
                for i in 0..k {
                    let si = &stems[i][model.route(i, c)][t..e];
                    g.pm[c * k + i] += dot(si, m);
                    for j in i..k {
                        let sj = &stems[j][model.route(j, c)][t..e];
                        let v = dot(si, sj);
                        g.pp[(c * k + i) * k + j] += v;
                        if j != i {
                            g.pp[(c * k + j) * k + i] += v;
                        }
                    }
                }
            }
            t = e;
        }
        g.frames += range.len() as u64;
    }

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                f64::from((x >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
            })
            .collect()
    }

    #[test]
    fn dot4_is_four_dots_bit_for_bit() {
        for n in [0, 1, 3, 4, 5, 8, 13, 512, 517] {
            let a = noise(n, 1);
            let b: Vec<Vec<f64>> = (0..4).map(|p| noise(n + p, 2 + p as u64)).collect();
            let v = dot4(&a, [&b[0], &b[1], &b[2], &b[3]]);
            for p in 0..4 {
                assert_eq!(v[p].to_bits(), dot(&a, &b[p]).to_bits(), "n {n} p {p}");
            }
        }
    }

    #[test]
    fn gram_split_by_channel_merges_into_the_whole() {
        let (cm, n) = (3, 2_000);
        let model = Model::new(cm, &[3, 1, 2, 3]);
        let mix: Vec<Vec<f64>> = (0..cm).map(|c| noise(n, 50 + c as u64)).collect();
        let stems: Vec<Vec<Vec<f64>>> = model
            .stem_channels
            .iter()
            .enumerate()
            .map(|(i, &ch)| (0..ch).map(|c| noise(n, (7 * i + c) as u64)).collect())
            .collect();
        let mut whole = Gram::new(&model);
        let (mut first, mut second) = (Gram::new(&model), Gram::new(&model));
        for r in [0..700, 700..1_500, 1_500..2_000] {
            whole.add(&model, &mix, &stems, r.clone());
            first.add_channels(&model, &mix, &stems, r.clone(), 0..2);
            first.frames += r.len() as u64;
            second.add_channels(&model, &mix, &stems, r, 2..cm);
        }
        first.merge(&second);
        assert_eq!(first, whole);
    }

    #[test]
    fn blocked_add_equals_one_pair_at_a_time() {
        // Stem counts around the blocking of four, stereo and mono stems, ranges that end
        // inside a tile and start off zero.
        for stem_channels in [
            vec![2],
            vec![2, 1],
            vec![2, 2, 1],
            vec![2, 2, 2, 1, 2],
            vec![1; 7],
            vec![2; 12],
        ] {
            let (cm, n) = (2, 1_300);
            let model = Model::new(cm, &stem_channels);
            let mix: Vec<Vec<f64>> = (0..cm).map(|c| noise(n, 100 + c as u64)).collect();
            let stems: Vec<Vec<Vec<f64>>> = stem_channels
                .iter()
                .enumerate()
                .map(|(i, &ch)| (0..ch).map(|c| noise(n, (10 * i + c) as u64)).collect())
                .collect();
            for range in [0..n, 7..1_111, 3..3, 512..1_024] {
                let mut fast = Gram::new(&model);
                let mut slow = Gram::new(&model);
                for _ in 0..2 {
                    fast.add(&model, &mix, &stems, range.clone());
                    add_one_pair_at_a_time(&mut slow, &model, &mix, &stems, range.clone());
                }
                let bits = |g: &Gram| {
                    g.pp.iter()
                        .chain(&g.pm)
                        .chain(&g.mm)
                        .map(|x| x.to_bits())
                        .collect::<Vec<_>>()
                };
                assert_eq!(bits(&fast), bits(&slow), "{stem_channels:?} {range:?}");
                assert_eq!(fast.frames, slow.frames);
            }
        }
    }

    fn planar(x: &[f64]) -> Vec<Vec<f64>> {
        vec![x.to_vec()]
    }

    #[test]
    fn solves_known_gains_and_energy_matches_direct() {
        let n = 1000;
        let s1: Vec<f64> = (0..n)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let s2: Vec<f64> = (0..n)
            .map(|i| ((i * 104_729) % 97) as f64 / 48.0 - 1.0)
            .collect();
        let m: Vec<f64> = (0..n).map(|i| 0.5 * s1[i] - 2.0 * s2[i]).collect();
        let model = Model::new(1, &[1, 1]);
        let mut g = Gram::new(&model);
        g.add(&model, &planar(&m), &[planar(&s1), planar(&s2)], 0..n);
        let theta = g.solve(&model);
        assert!(
            (theta[0] - 0.5).abs() < 1e-9 && (theta[1] + 2.0).abs() < 1e-9,
            "{theta:?}"
        );
        let e = g.energy(&model.coefs(&theta));
        assert!(e < 1e-12 * g.mix_energy(), "{e}");
        let unity = model.unity_coefs();
        let direct: f64 = (0..n).map(|i| (m[i] - s1[i] - s2[i]).powi(2)).sum();
        assert!((g.energy(&unity) - direct).abs() < 1e-9 * direct);
        // Expansion from the fitted point back to unity gives the same energy.
        let from = g.energy_from(&unity, &model.coefs(&theta), 0.0);
        assert!((from - direct).abs() < 1e-9 * direct);
        assert!(g.loo_correlation(&model.coefs(&theta), 1) > 0.999_999);
    }

    #[test]
    fn mono_stem_in_stereo_mix_gets_a_gain_per_channel() {
        let model = Model::new(2, &[1, 2]);
        assert_eq!(model.params.len(), 3);
        let coefs = model.coefs(&[0.6, 0.8, 1.0]);
        assert!(
            (model.stem_gain(&coefs, 0) - 1.0).abs() < 1e-12,
            "constant power"
        );
        let coefs = model.coefs(&[-0.6, -0.8, -0.5]);
        assert!((model.stem_gain(&coefs, 0) + 1.0).abs() < 1e-12);
        assert_eq!(model.stem_gain(&coefs, 1), -0.5);
        let u = model.unity_coefs();
        assert!((u[0] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12 && u[2] == 1.0);
    }

    #[test]
    fn silent_and_duplicate_stems_do_not_break_the_solve() {
        let n = 256;
        let s: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let z = vec![0.0; n];
        let model = Model::new(1, &[1, 1, 1]);
        let mut g = Gram::new(&model);
        g.add(
            &model,
            &planar(&s),
            &[planar(&s), planar(&s), planar(&z)],
            0..n,
        );
        let theta = g.solve(&model);
        assert!(theta.iter().all(|t| t.is_finite()));
        assert_eq!(theta[2], 0.0);
        assert!((theta[0] + theta[1] - 1.0).abs() < 1e-6, "{theta:?}");
    }
}
