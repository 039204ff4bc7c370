//! Sample peak and true peak (ITU-R BS.1770-4 Annex 2, EBU Tech 3341 "true-peak level").
//!
//! True peak is estimated by oversampling as BS.1770-4 Annex 2 describes: 4x below 96 kHz, 2x
//! from 96 kHz, none at 192 kHz and above (the samples are then already as dense as 4 x 48 kHz).
//!
//! The interpolator is a 48-tap Hann-windowed sinc split into 4 (or 2) phases — the design
//! `libebur128` and the `ebur128` crate use — by default. The example coefficients printed in
//! Annex 2 ([`TruePeakFilter::Bs1770Annex2`], selectable) have about +/-0.24 dB of ripple
//! between phases (their phases 1 and 2 sum to 0.973 at DC), which would put us 0.1-0.2 dB away
//! from the reference implementations on plain sines; the windowed sinc is flat within 0.01 dB up
//! to 10 kHz at 48 kHz and within 0.1 dB to 15 kHz, and its phase 0 is the identity (so only the
//! other phases are computed). Either way the reading is never below the sample peak: sample
//! values are folded in explicitly.
//!
//! Speed: the filter is the hot spot (36-48 multiply-adds per sample). Outputs are computed 8
//! at a time with fixed-size arrays so the loops vectorise, and groups of 8 whose input window
//! cannot produce a value above what is already known (window max x the filter's L1 gain is at
//! most the block's sample peak or the held peak) are skipped; the result is exact.
//!
//! Both meters hold two peaks: one since [`reset`](TruePeak::reset) (the programme's maximum) and
//! one since the last `take_*` call, so a GUI polling at any rate misses no peak (x42 meters'
//! read-and-reset semantics).

use super::sanitize;

/// Headroom on the skip bound for f32 rounding in the filter (a 24-term dot product is off by
/// well under 1e-5 of its L1 bound).
const SKIP_MARGIN: f32 = 1.0 + 1e-5;
/// Zero padding after each channel's block so the FIR kernel can read fixed 32-sample windows.
const PAD: usize = 32;

/// Frames processed per inner block of the true-peak filter.
const BLOCK: usize = 64;
/// Longest filter history kept per channel (2x filter: 24 taps per phase).
const MAX_HISTORY: usize = 23;

/// BS.1770-4 Annex 2 interpolation filter, phase-major, as published (newest sample first).
const ANNEX2: [[f64; 12]; 4] = [
    [
        0.001_708_984_375,
        0.010_986_328_125,
        -0.019_653_320_312_5,
        0.033_203_125,
        -0.059_448_242_187_5,
        0.137_329_101_562_5,
        0.972_167_968_75,
        -0.102_294_921_875,
        0.047_607_421_875,
        -0.026_611_328_125,
        0.014_892_578_125,
        -0.008_300_781_25,
    ],
    [
        -0.029_174_804_687_5,
        0.029_296_875,
        -0.051_757_812_5,
        0.089_111_328_125,
        -0.166_503_906_25,
        0.465_087_890_625,
        0.779_785_156_25,
        -0.200_317_382_812_5,
        0.101_562_5,
        -0.058_227_539_062_5,
        0.033_081_054_687_5,
        -0.018_920_898_437_5,
    ],
    [
        -0.018_920_898_437_5,
        0.033_081_054_687_5,
        -0.058_227_539_062_5,
        0.101_562_5,
        -0.200_317_382_812_5,
        0.779_785_156_25,
        0.465_087_890_625,
        -0.166_503_906_25,
        0.089_111_328_125,
        -0.051_757_812_5,
        0.029_296_875,
        -0.029_174_804_687_5,
    ],
    [
        -0.008_300_781_25,
        0.014_892_578_125,
        -0.026_611_328_125,
        0.047_607_421_875,
        -0.102_294_921_875,
        0.972_167_968_75,
        0.137_329_101_562_5,
        -0.059_448_242_187_5,
        0.033_203_125,
        -0.019_653_320_312_5,
        0.010_986_328_125,
        0.001_708_984_375,
    ],
];

/// The two peaks a peak meter holds per channel: one since `reset` (the programme's maximum)
/// and one since the last `take_*` (x42 meters' read-and-reset, so a GUI polling at any rate
/// misses no peak). [`SamplePeak`] and [`TruePeak`] differ only in how a block's peak is found.
#[derive(Debug, Clone)]
struct PeakHold {
    /// Per channel, since `reset`.
    held: Vec<f32>,
    /// Per channel, since the last `take_*`; never above `held`.
    since_take: Vec<f32>,
}

impl PeakHold {
    fn new(channels: usize) -> Self {
        PeakHold {
            held: vec![0.0; channels],
            since_take: vec![0.0; channels],
        }
    }

    fn channels(&self) -> usize {
        self.held.len()
    }

    /// Raises both peaks of channel `c` to `peak` where it is higher.
    #[inline]
    fn raise(&mut self, c: usize, peak: f32) {
        if peak > self.held[c] {
            self.held[c] = peak;
        }
        if peak > self.since_take[c] {
            self.since_take[c] = peak;
        }
    }

    fn reset(&mut self) {
        self.held.fill(0.0);
        self.since_take.fill(0.0);
    }

    fn peak(&self, c: usize) -> f32 {
        self.held.get(c).copied().unwrap_or(0.0)
    }

    fn max_peak(&self) -> f32 {
        self.held.iter().copied().fold(0.0, f32::max)
    }

    fn since_take(&self, c: usize) -> f32 {
        self.since_take[c]
    }

    fn max_since_take(&self) -> f32 {
        self.since_take.iter().copied().fold(0.0, f32::max)
    }

    fn take_peaks(&mut self, out: &mut [f32]) {
        for (o, p) in out.iter_mut().zip(self.since_take.iter_mut()) {
            *o = *p;
            *p = 0.0;
        }
    }

    fn take_max_peak(&mut self) -> f32 {
        let m = self.max_since_take();
        self.since_take.fill(0.0);
        m
    }

    /// Takes the peak since the last take and restarts each channel's at `floor` (capped at
    /// its peak since `reset`, so `since_take` stays at most `held`); NaN counts as 0.
    fn take_max_peak_above(&mut self, floor: f32) -> f32 {
        let floor = floor.max(0.0);
        let m = self.max_since_take();
        for (t, &h) in self.since_take.iter_mut().zip(&self.held) {
            *t = floor.min(h);
        }
        m
    }
}

/// Peak of the absolute sample values, per channel.
#[derive(Debug, Clone)]
pub struct SamplePeak {
    hold: PeakHold,
    /// Per-channel peak of the block being processed.
    block: Vec<f32>,
}

impl SamplePeak {
    /// A meter for `channels` interleaved channels. The sample rate does not matter for a sample
    /// peak; it is taken for the common meter interface.
    pub fn new(channels: usize, _sample_rate: u32) -> Self {
        let channels = channels.max(1);
        SamplePeak {
            hold: PeakHold::new(channels),
            block: vec![0.0; channels],
        }
    }

    /// Number of channels the meter expects.
    pub fn channels(&self) -> usize {
        self.hold.channels()
    }

    /// Feeds interleaved samples; a trailing partial frame is ignored. Never allocates.
    pub fn process(&mut self, interleaved: &[f32]) {
        let ch = self.hold.channels();
        let frames = interleaved.len() / ch;
        self.block.fill(0.0);
        super::abs_max_per_channel(&interleaved[..frames * ch], ch, &mut self.block);
        for (c, &p) in self.block.iter().enumerate() {
            self.hold.raise(c, p);
        }
    }

    /// Forgets every peak.
    pub fn reset(&mut self) {
        self.hold.reset();
    }

    /// Linear peak of channel `c` since `reset` (0 for an unknown channel).
    pub fn peak(&self, c: usize) -> f32 {
        self.hold.peak(c)
    }

    /// Linear peak over all channels since `reset`.
    pub fn max_peak(&self) -> f32 {
        self.hold.max_peak()
    }

    /// Peak over all channels since `reset`, in dBFS (-inf for silence).
    pub fn max_peak_dbfs(&self) -> f64 {
        crate::units::amp_to_db(f64::from(self.max_peak()))
    }

    /// Per-channel linear peaks since the last `take_peaks`, written into `out` (as many channels
    /// as fit), then forgotten.
    pub fn take_peaks(&mut self, out: &mut [f32]) {
        self.hold.take_peaks(out);
    }

    /// Linear peak over all channels since the last `take_*`, then forgotten.
    pub fn take_max_peak(&mut self) -> f32 {
        self.hold.take_max_peak()
    }
}

/// Which 4x interpolation filter a [`TruePeak`] uses below 96 kHz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TruePeakFilter {
    /// 48-tap Hann-windowed sinc (as libebur128); flat passband, phase 0 is the identity.
    #[default]
    HannSinc,
    /// The example coefficients printed in BS.1770-4 Annex 2.
    Bs1770Annex2,
}

/// How far the true-peak meter oversamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversampling {
    /// 192 kHz and above: the samples are the true peak.
    None,
    /// 96 kHz up to 192 kHz.
    X2,
    /// Below 96 kHz (BS.1770-4 Annex 2).
    X4,
}

impl Oversampling {
    /// The factor BS.1770-4 asks for at `sample_rate`.
    pub fn for_rate(sample_rate: u32) -> Self {
        if sample_rate < 96_000 {
            Oversampling::X4
        } else if sample_rate < 192_000 {
            Oversampling::X2
        } else {
            Oversampling::None
        }
    }

    /// Oversampling factor (1, 2 or 4).
    pub fn factor(self) -> usize {
        match self {
            Oversampling::None => 1,
            Oversampling::X2 => 2,
            Oversampling::X4 => 4,
        }
    }
}

/// Interpolation filter in the layout the kernel wants: per phase, taps oldest-sample first.
#[derive(Debug, Clone)]
enum Filter {
    None,
    /// 2x windowed sinc: phase 0 is the identity (covered by the sample peak), so only the
    /// half-sample phase is filtered.
    X2(Box<[[f32; 24]; 1]>),
    /// 4x windowed sinc without its identity phase 0.
    X4Sinc(Box<[[f32; 12]; 3]>),
    /// 4x BS.1770-4 Annex 2, all four phases.
    X4Annex2(Box<[[f32; 12]; 4]>),
}

impl Filter {
    fn history(&self) -> usize {
        match self {
            Filter::None => 0,
            Filter::X2(_) => 23,
            Filter::X4Sinc(_) | Filter::X4Annex2(_) => 11,
        }
    }

    /// Sum over taps of |h| of the phase with the largest one: no output can exceed this times
    /// the largest input magnitude in its window.
    fn gain_bound(&self) -> f32 {
        fn bound<const T: usize>(phases: &[[f32; T]]) -> f32 {
            phases
                .iter()
                .map(|p| p.iter().map(|h| h.abs()).sum::<f32>())
                .fold(0.0, f32::max)
        }
        match self {
            Filter::None => 1.0,
            Filter::X2(f) => bound(&f[..]),
            Filter::X4Sinc(f) => bound(&f[..]),
            Filter::X4Annex2(f) => bound(&f[..]),
        }
    }
}

/// The 4x filter of BS.1770-4 Annex 2 with each phase reversed (oldest sample first).
fn annex2_filter() -> [[f32; 12]; 4] {
    // Every published coefficient is a multiple of 2^-13, so the f32 conversion is exact.
    let mut f = ANNEX2.map(|p| p.map(|h| h as f32));
    for p in &mut f {
        p.reverse();
    }
    f
}

/// 48-tap Hann-windowed sinc split into `FACTOR` phases of `T` taps (oldest first). This is the
/// construction `libebur128` uses.
fn hann_sinc<const FACTOR: usize, const T: usize>() -> [[f32; T]; FACTOR] {
    const TAPS: usize = 48;
    debug_assert_eq!(T * FACTOR, TAPS);
    let mut f = [[0f32; T]; FACTOR];
    for j in 0..TAPS {
        let jf = j as f64;
        let window = TAPS as f64;
        let w = 0.5 * (1.0 - (2.0 * std::f64::consts::PI * jf / window).cos());
        let m = jf - window / 2.0;
        let x = m * std::f64::consts::PI / FACTOR as f64;
        let h = if m.abs() > 1e-6 { w * x.sin() / x } else { w };
        // Coefficient j belongs to tap j / FACTOR of phase j % FACTOR (newest first).
        f[j % FACTOR][j / FACTOR] = h as f32;
    }
    for p in &mut f {
        p.reverse();
    }
    f
}

/// True-peak meter after ITU-R BS.1770-4 Annex 2.
#[derive(Debug, Clone)]
pub struct TruePeak {
    channels: usize,
    oversampling: Oversampling,
    filter: Filter,
    bound: f32,
    /// Per channel: `MAX_HISTORY + BLOCK + PAD` samples: the previous block's last
    /// `MAX_HISTORY` samples, then the current block, deinterleaved, then padding.
    scratch: Vec<f32>,
    hold: PeakHold,
}

impl TruePeak {
    /// A meter for `channels` interleaved channels at `sample_rate`; the oversampling factor
    /// follows from the rate (see [`Oversampling::for_rate`]).
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        Self::with_filter(channels, sample_rate, TruePeakFilter::default())
    }

    /// Like [`new`](Self::new) with a choice of 4x interpolation filter.
    pub fn with_filter(channels: usize, sample_rate: u32, which: TruePeakFilter) -> Self {
        let channels = channels.max(1);
        let oversampling = Oversampling::for_rate(sample_rate);
        let filter = match (oversampling, which) {
            (Oversampling::None, _) => Filter::None,
            (Oversampling::X2, _) => {
                let [_, half] = hann_sinc::<2, 24>();
                Filter::X2(Box::new([half]))
            }
            (Oversampling::X4, TruePeakFilter::HannSinc) => {
                let [_, p1, p2, p3] = hann_sinc::<4, 12>();
                Filter::X4Sinc(Box::new([p1, p2, p3]))
            }
            (Oversampling::X4, TruePeakFilter::Bs1770Annex2) => {
                Filter::X4Annex2(Box::new(annex2_filter()))
            }
        };
        let bound = filter.gain_bound();
        TruePeak {
            channels,
            oversampling,
            filter,
            bound,
            scratch: vec![0.0; channels * (MAX_HISTORY + BLOCK + PAD)],
            hold: PeakHold::new(channels),
        }
    }

    /// Number of channels the meter expects.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The oversampling in use.
    pub fn oversampling(&self) -> Oversampling {
        self.oversampling
    }

    /// Feeds interleaved samples; a trailing partial frame is ignored. Never allocates.
    pub fn process(&mut self, interleaved: &[f32]) {
        let ch = self.channels;
        let hist = self.filter.history();
        let stride = MAX_HISTORY + BLOCK + PAD;
        for chunk in interleaved.chunks(BLOCK * ch) {
            let n = chunk.len() / ch;
            if n == 0 {
                break;
            }
            match ch {
                1 => deinterleave::<1>(chunk, &mut self.scratch, stride),
                2 => deinterleave::<2>(chunk, &mut self.scratch, stride),
                _ => deinterleave_any(chunk, ch, &mut self.scratch, stride),
            }
            for c in 0..ch {
                let buf = &mut self.scratch[c * stride..(c + 1) * stride];
                let block_max = abs_max(&buf[MAX_HISTORY..MAX_HISTORY + n]);
                let window_max = block_max.max(abs_max(&buf[MAX_HISTORY - hist..MAX_HISTORY]));
                let mut peak = block_max;
                // The result is at least `floor` (the true peak is never below the sample peak,
                // and the smaller held peak is already known). No interpolated value exceeds
                // bound * (largest |x| in its window), so windows that cannot beat `floor` are
                // not filtered: exact, only faster.
                let floor = block_max.max(self.hold.since_take(c));
                if window_max * self.bound * SKIP_MARGIN > floor {
                    let x = &buf[MAX_HISTORY - hist..];
                    let interp = match &self.filter {
                        Filter::None => 0.0,
                        Filter::X2(f) => fir_abs_max(f, x, n, floor / self.bound),
                        Filter::X4Sinc(f) => fir_abs_max(f, x, n, floor / self.bound),
                        Filter::X4Annex2(f) => fir_abs_max(f, x, n, floor / self.bound),
                    };
                    peak = peak.max(interp);
                }
                self.hold.raise(c, peak);
                buf.copy_within(n..n + MAX_HISTORY, 0);
            }
        }
    }

    /// Forgets every peak and the filter history.
    pub fn reset(&mut self) {
        self.scratch.fill(0.0);
        self.hold.reset();
    }

    /// Linear true peak of channel `c` since `reset` (0 for an unknown channel).
    pub fn peak(&self, c: usize) -> f32 {
        self.hold.peak(c)
    }

    /// Linear true peak over all channels since `reset`.
    pub fn max_peak(&self) -> f32 {
        self.hold.max_peak()
    }

    /// True peak over all channels since `reset`, in dBTP (-inf for silence).
    pub fn max_peak_dbtp(&self) -> f64 {
        crate::units::amp_to_db(f64::from(self.max_peak()))
    }

    /// Per-channel linear true peaks since the last `take_*`, written into `out`, then forgotten.
    pub fn take_peaks(&mut self, out: &mut [f32]) {
        self.hold.take_peaks(out);
    }

    /// Linear true peak over all channels since the last `take_*`, then forgotten.
    ///
    /// The peak since the last take is also the floor below which the interpolation is skipped,
    /// so taking after every block makes nearly every sample go through the filter; a caller that
    /// polls should take only when its reader has consumed the value (see
    /// [`max_peak_since_take`](Self::max_peak_since_take)).
    pub fn take_max_peak(&mut self) -> f32 {
        self.hold.take_max_peak()
    }

    /// Like [`take_max_peak`](Self::take_max_peak), but the peak since this take starts at
    /// `floor` (linear) instead of 0: for a caller that only needs the coming peak when it
    /// exceeds `floor`, so the interpolation of windows that cannot exceed it stays skipped.
    /// Until something higher arrives, [`max_peak_since_take`](Self::max_peak_since_take) reads
    /// the floor (or less); a value above `floor` is exact. Each channel's start is capped at its
    /// peak since [`reset`](Self::reset), so [`peak`](Self::peak) and
    /// [`max_peak`](Self::max_peak) stay exact. A negative or NaN `floor` counts as 0.
    pub fn take_max_peak_above(&mut self, floor: f32) -> f32 {
        self.hold.take_max_peak_above(floor)
    }

    /// Linear true peak over all channels since the last `take_*`, kept (a peek: publishing it
    /// without forgetting keeps the skip floor high).
    pub fn max_peak_since_take(&self) -> f32 {
        self.hold.max_since_take()
    }
}

/// Writes the sanitised samples of each channel of `chunk` to its scratch row, after the
/// history.
fn deinterleave<const C: usize>(chunk: &[f32], scratch: &mut [f32], stride: usize) {
    let (frames, _) = chunk.as_chunks::<C>();
    for c in 0..C {
        let row = &mut scratch[c * stride + MAX_HISTORY..c * stride + MAX_HISTORY + frames.len()];
        for (d, f) in row.iter_mut().zip(frames) {
            *d = sanitize(f[c]);
        }
    }
}

fn deinterleave_any(chunk: &[f32], ch: usize, scratch: &mut [f32], stride: usize) {
    for (i, frame) in chunk.chunks_exact(ch).enumerate() {
        for (c, &v) in frame.iter().enumerate() {
            scratch[c * stride + MAX_HISTORY + i] = sanitize(v);
        }
    }
}

/// max |x| of already sanitised samples, in 8 lanes so it vectorises.
fn abs_max(x: &[f32]) -> f32 {
    let (chunks, rest) = x.as_chunks::<8>();
    let mut m = [0f32; 8];
    for c in chunks {
        for j in 0..8 {
            let a = c[j].abs();
            m[j] = if a > m[j] { a } else { m[j] };
        }
    }
    for &v in rest {
        let a = v.abs();
        m[0] = if a > m[0] { a } else { m[0] };
    }
    m.iter().copied().fold(0.0, f32::max)
}

/// Largest |y| of every phase of the polyphase interpolator over `n` new samples, or a value
/// no larger than the result when nothing exceeds the caller's floor. `x` holds `TAPS - 1`
/// history samples, the `n` new ones (oldest first), then at least 24 more readable samples
/// (padding), so the kernel can take fixed 32-sample windows.
///
/// Each step computes 8 consecutive outputs of every phase from one `[f32; 32]` window: every
/// index is then static, the loops unroll, and the 8 accumulators are one vector. A step is
/// skipped when the largest |x| of its window is at most `skip_below` (the caller's floor over
/// the filter's gain bound), raised as larger outputs are found.
///
/// With AVX2 (`pulp`'s runtime check) the 8 accumulators are one 256-bit register instead of
/// two 128-bit ones: half the instructions, the same arithmetic (every lane a multiply then an
/// add, never fused, taps in the same order), so the same bits as the baseline loop.
fn fir_abs_max<const TAPS: usize, const PHASES: usize>(
    phases: &[[f32; TAPS]; PHASES],
    x: &[f32],
    n: usize,
    skip_below: f32,
) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return simd.vectorize(FirAbsMaxV3 {
            simd,
            phases,
            x,
            n,
            skip_below,
        });
    }
    fir_abs_max_baseline(phases, x, n, skip_below)
}

/// Outputs per step of [`fir_abs_max`].
const FIR_LANES: usize = 8;
/// Samples per step's window (`TAPS - 1 + FIR_LANES` at most).
const FIR_WINDOW: usize = 32;

/// The largest gain any phase has on a full-scale input of the worst signs: sum of |h|.
fn phases_gain_bound<const TAPS: usize, const PHASES: usize>(
    phases: &[[f32; TAPS]; PHASES],
) -> f32 {
    phases
        .iter()
        .map(|p| p.iter().map(|h| h.abs()).sum::<f32>())
        .fold(0.0, f32::max)
}

/// [`fir_abs_max`] without runtime dispatch (what any x86-64 or other target runs).
fn fir_abs_max_baseline<const TAPS: usize, const PHASES: usize>(
    phases: &[[f32; TAPS]; PHASES],
    x: &[f32],
    n: usize,
    skip_below: f32,
) -> f32 {
    const LANES: usize = FIR_LANES;
    const WINDOW: usize = FIR_WINDOW;
    const { assert!(TAPS - 1 + LANES <= WINDOW) };
    let bound = phases_gain_bound(phases);
    let mut skip_below = skip_below;
    let mut best = 0f32;
    let mut k = 0;
    while k + LANES <= n {
        let Some(w) = x.get(k..k + WINDOW) else { break };
        let w: &[f32; WINDOW] = w.try_into().unwrap_or(&[0.0; WINDOW]);
        // Largest |x| the outputs can see, over whole 8-sample rows (a few samples more than
        // the window: still a valid bound, and it vectorises).
        let mut wmax = [0f32; LANES];
        for row in 0..(TAPS - 1 + LANES).div_ceil(LANES) {
            for j in 0..LANES {
                let a = w[row * LANES + j].abs();
                wmax[j] = if a > wmax[j] { a } else { wmax[j] };
            }
        }
        let wmax = wmax.iter().copied().fold(0.0, f32::max);
        if wmax * SKIP_MARGIN > skip_below {
            let mut lane_max = [0f32; LANES];
            for h in phases {
                let mut acc = [0f32; LANES];
                for t in 0..TAPS {
                    let c = h[t];
                    for j in 0..LANES {
                        acc[j] += c * w[t + j];
                    }
                }
                for j in 0..LANES {
                    let a = acc[j].abs();
                    lane_max[j] = if a > lane_max[j] { a } else { lane_max[j] };
                }
            }
            let m = lane_max.iter().copied().fold(0.0, f32::max);
            if m > best {
                best = m;
                skip_below = skip_below.max(best / bound);
            }
        }
        k += LANES;
    }
    fir_abs_max_tail(phases, x, k, n, best)
}

/// The outputs from `k` to `n` one at a time (fewer than a step's 8, or too near the end of
/// `x` for a whole window), folded into `best`.
fn fir_abs_max_tail<const TAPS: usize, const PHASES: usize>(
    phases: &[[f32; TAPS]; PHASES],
    x: &[f32],
    mut k: usize,
    n: usize,
    mut best: f32,
) -> f32 {
    while k < n {
        for h in phases {
            let mut acc = 0f32;
            for (t, &c) in h.iter().enumerate() {
                acc += c * x[k + t];
            }
            let a = acc.abs();
            best = if a > best { a } else { best };
        }
        k += 1;
    }
    best
}

/// [`fir_abs_max_baseline`]'s steps in 256-bit registers, run by [`pulp::x86::V3::vectorize`].
/// `max_ps(a, m)` is `if a > m { a } else { m }` lane by lane, as the baseline writes it (NaN
/// included), and `abs` clears the sign bit as `f32::abs` does.
#[cfg(target_arch = "x86_64")]
struct FirAbsMaxV3<'a, const TAPS: usize, const PHASES: usize> {
    simd: pulp::x86::V3,
    phases: &'a [[f32; TAPS]; PHASES],
    x: &'a [f32],
    n: usize,
    skip_below: f32,
}

#[cfg(target_arch = "x86_64")]
impl<const TAPS: usize, const PHASES: usize> pulp::NullaryFnOnce for FirAbsMaxV3<'_, TAPS, PHASES> {
    type Output = f32;

    #[inline(always)]
    fn call(self) -> f32 {
        use std::arch::x86_64::__m256;
        const LANES: usize = FIR_LANES;
        const WINDOW: usize = FIR_WINDOW;
        const { assert!(TAPS - 1 + LANES <= WINDOW) };
        let Self {
            simd,
            phases,
            x,
            n,
            skip_below,
        } = self;
        let avx = simd.avx;
        let sign: __m256 = avx._mm256_set1_ps(-0.0);
        let load = |w: &[f32; WINDOW], at: usize| -> __m256 {
            let v: [f32; LANES] = std::array::from_fn(|j| w[at + j]);
            pulp::cast(v)
        };
        let fold_max = |v: __m256| {
            pulp::cast::<__m256, [f32; LANES]>(v)
                .iter()
                .copied()
                .fold(0.0, f32::max)
        };
        let bound = phases_gain_bound(phases);
        let mut skip_below = skip_below;
        let mut best = 0f32;
        let mut k = 0;
        while k + LANES <= n {
            let Some(w) = x.get(k..k + WINDOW) else { break };
            let w: &[f32; WINDOW] = w.try_into().unwrap_or(&[0.0; WINDOW]);
            let mut wmax = avx._mm256_setzero_ps();
            for row in 0..(TAPS - 1 + LANES).div_ceil(LANES) {
                let a = avx._mm256_andnot_ps(sign, load(w, row * LANES));
                wmax = avx._mm256_max_ps(a, wmax);
            }
            let wmax = fold_max(wmax);
            if wmax * SKIP_MARGIN > skip_below {
                let mut lane_max = avx._mm256_setzero_ps();
                for h in phases {
                    let mut acc = avx._mm256_setzero_ps();
                    for (t, &c) in h.iter().enumerate() {
                        let c = avx._mm256_set1_ps(c);
                        acc = avx._mm256_add_ps(acc, avx._mm256_mul_ps(c, load(w, t)));
                    }
                    let a = avx._mm256_andnot_ps(sign, acc);
                    lane_max = avx._mm256_max_ps(a, lane_max);
                }
                let m = fold_max(lane_max);
                if m > best {
                    best = m;
                    skip_below = skip_below.max(best / bound);
                }
            }
            k += LANES;
        }
        fir_abs_max_tail(phases, x, k, n, best)
    }
}

#[cfg(test)]
mod tests;
