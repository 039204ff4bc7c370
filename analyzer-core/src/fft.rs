//! The forward real FFT every spectrum of a check is taken with: `realfft`'s even-length
//! transform (a complex FFT of half the length by `rustfft`, then a post-processing pass that
//! untangles the two halves), with that post-processing pass in 256-bit registers.
//!
//! `realfft` runs the pass one bin at a time, its two ends walking towards each other, and the
//! compiler leaves it scalar: it was 6.7 % of a 3-minute check's CPU, more than half of what the
//! complex FFTs themselves cost (issue 20, `perf` of the metering, the diagnosis and the
//! alignment's correlations). [`RealForward`] plans the same complex FFT `realfft` plans (the
//! same `rustfft` planner for the same length) and runs the same arithmetic on four bins at a
//! time: every output is the same multiplies and adds in the same order (never fused), so
//! the spectra are the same to the bit (tested against `realfft` below). Odd lengths, which
//! nothing here plans for long, go to `realfft` as before.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{FftError, RealFftPlanner, RealToComplex};
use rustfft::{Fft, FftPlanner};

/// A planned forward FFT of real input, the drop-in for `realfft`'s [`RealToComplex`] (the
/// same buffers, the same results).
pub struct RealForward {
    len: usize,
    plan: Plan,
}

enum Plan {
    /// Even length: the complex FFT of `len / 2` points and `realfft`'s twiddles.
    Even {
        fft: Arc<dyn Fft<f32>>,
        /// `exp(-2 pi i k / len) / 2` for `k` in `1..` (as `realfft` computes them).
        twiddles: Vec<Complex<f32>>,
        scratch_len: usize,
    },
    /// Odd length: `realfft`'s own transform.
    Odd(Arc<dyn RealToComplex<f32>>),
}

impl std::fmt::Debug for RealForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealForward")
            .field("len", &self.len)
            .finish()
    }
}

impl RealForward {
    /// A forward FFT of `len` real samples.
    pub fn new(len: usize) -> Self {
        let plan = if len.is_multiple_of(2) {
            let twiddle_count = if len.is_multiple_of(4) {
                len / 4
            } else {
                len / 4 + 1
            };
            let twiddles = (1..twiddle_count).map(|i| twiddle(i, len) * 0.5).collect();
            let fft = FftPlanner::<f32>::new().plan_fft_forward(len / 2);
            let scratch_len = fft.get_outofplace_scratch_len();
            Plan::Even {
                fft,
                twiddles,
                scratch_len,
            }
        } else {
            Plan::Odd(RealFftPlanner::<f32>::new().plan_fft_forward(len))
        };
        Self { len, plan }
    }

    /// Real samples in.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether this is the transform of no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bins out: `len / 2 + 1`.
    pub fn complex_len(&self) -> usize {
        self.len / 2 + 1
    }

    /// Scratch [`RealForward::process_with_scratch`] needs.
    pub fn scratch_len(&self) -> usize {
        match &self.plan {
            Plan::Even { scratch_len, .. } => *scratch_len,
            Plan::Odd(fft) => fft.get_scratch_len(),
        }
    }

    /// A zeroed output buffer.
    pub fn make_output_vec(&self) -> Vec<Complex<f32>> {
        vec![Complex::default(); self.complex_len()]
    }

    /// A zeroed scratch buffer.
    pub fn make_scratch_vec(&self) -> Vec<Complex<f32>> {
        vec![Complex::default(); self.scratch_len()]
    }

    /// The spectrum of `input` into `output`, as `realfft`'s `process_with_scratch` (which
    /// also uses `input` as scratch).
    ///
    /// # Errors
    /// When a buffer's length is not the plan's.
    pub fn process_with_scratch(
        &self,
        input: &mut [f32],
        output: &mut [Complex<f32>],
        scratch: &mut [Complex<f32>],
    ) -> Result<(), FftError> {
        let (fft, twiddles, scratch_len) = match &self.plan {
            Plan::Even {
                fft,
                twiddles,
                scratch_len,
            } => (fft, twiddles, *scratch_len),
            Plan::Odd(fft) => return fft.process_with_scratch(input, output, scratch),
        };
        if input.len() != self.len {
            return Err(FftError::InputBuffer(self.len, input.len()));
        }
        if output.len() != self.complex_len() {
            return Err(FftError::OutputBuffer(self.complex_len(), output.len()));
        }
        if scratch.len() < scratch_len {
            return Err(FftError::ScratchBuffer(scratch_len, scratch.len()));
        }
        let half = self.len / 2;
        let packed: &mut [Complex<f32>] = bytemuck::cast_slice_mut(input);
        fft.process_outofplace_with_scratch(packed, &mut output[..half], scratch);
        post_process(output, twiddles);
        Ok(())
    }
}

/// `realfft`'s twiddle: `exp(-2 pi i index / len)`, computed in `f64`.
fn twiddle(index: usize, len: usize) -> Complex<f32> {
    let angle = -2f64 * std::f64::consts::PI / len as f64 * index as f64;
    Complex {
        re: angle.cos() as f32,
        im: angle.sin() as f32,
    }
}

/// Untangles the complex FFT of the even and odd samples into the real input's spectrum, in
/// place (`realfft`'s `RealToComplexEven` pass).
fn post_process(output: &mut [Complex<f32>], twiddles: &[Complex<f32>]) {
    let mid = output.len() / 2;
    let (left, right) = output.split_at_mut(mid);
    let (Some(first), Some(last)) = (left.first().copied(), right.last_mut()) else {
        return;
    };
    *last = Complex {
        re: first.re - first.im,
        im: 0.0,
    };
    left[0] = Complex {
        re: first.re + first.im,
        im: 0.0,
    };
    let right_len = right.len();
    let left = &mut left[1..];
    let right = &mut right[..right_len - 1];
    let pairs = twiddles.len().min(left.len()).min(right.len());
    let r = right.len();
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        done = simd.vectorize(PostV3 {
            simd,
            left: &mut left[..pairs],
            right: &mut right[r - pairs..],
            twiddles: &twiddles[..pairs],
        });
    }
    for j in done..pairs {
        let (out, rev) = post_pair(left[j], right[r - 1 - j], twiddles[j]);
        left[j] = out;
        right[r - 1 - j] = rev;
    }
    if output.len() % 2 == 1 {
        output[mid].im = -output[mid].im;
    }
}

/// One bin and its mirror, as `realfft` computes them.
#[inline(always)]
fn post_pair(
    out: Complex<f32>,
    rev: Complex<f32>,
    twiddle: Complex<f32>,
) -> (Complex<f32>, Complex<f32>) {
    let sum = out + rev;
    let diff = out - rev;
    let twiddled_re = sum.im * twiddle.re + diff.re * twiddle.im;
    let twiddled_im = sum.im * twiddle.im - diff.re * twiddle.re;
    let half_sum_re = 0.5 * sum.re;
    let half_diff_im = 0.5 * diff.im;
    (
        Complex {
            re: half_sum_re + twiddled_re,
            im: half_diff_im + twiddled_im,
        },
        Complex {
            re: half_sum_re - twiddled_re,
            im: twiddled_im - half_diff_im,
        },
    )
}

/// [`post_pair`] on four bins at a time: `left[j]` pairs with `right[len - 1 - j]`. Returns
/// how many bins it did (a multiple of four); the rest is left to the scalar loop.
#[cfg(target_arch = "x86_64")]
struct PostV3<'a> {
    simd: pulp::x86::V3,
    left: &'a mut [Complex<f32>],
    right: &'a mut [Complex<f32>],
    twiddles: &'a [Complex<f32>],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for PostV3<'_> {
    type Output = usize;

    #[inline(always)]
    fn call(self) -> usize {
        use std::arch::x86_64::{__m256, __m256i};
        let Self {
            simd,
            left,
            right,
            twiddles,
        } = self;
        let (avx, avx2) = (simd.avx, simd.avx2);
        // Reverses the order of four complex numbers (pairs of lanes).
        let reverse: __m256i = pulp::cast([6i32, 7, 4, 5, 2, 3, 0, 1]);
        let half = avx._mm256_set1_ps(0.5);
        let n = left.len() / 4 * 4;
        let r = right.len();
        for j in (0..n).step_by(4) {
            let out: [Complex<f32>; 4] = std::array::from_fn(|k| left[j + k]);
            let rev: [Complex<f32>; 4] = std::array::from_fn(|k| right[r - 4 - j + k]);
            let tw: [Complex<f32>; 4] = std::array::from_fn(|k| twiddles[j + k]);
            let out: __m256 = pulp::cast(out);
            let rev = avx2._mm256_permutevar8x32_ps(pulp::cast(rev), reverse);
            let tw: __m256 = pulp::cast(tw);
            let sum = avx._mm256_add_ps(out, rev);
            let diff = avx._mm256_sub_ps(out, rev);
            // Each value in both lanes of its bin.
            let (sum_re, sum_im) = (avx._mm256_moveldup_ps(sum), avx._mm256_movehdup_ps(sum));
            let (diff_re, diff_im) = (avx._mm256_moveldup_ps(diff), avx._mm256_movehdup_ps(diff));
            let (tw_re, tw_im) = (avx._mm256_moveldup_ps(tw), avx._mm256_movehdup_ps(tw));
            let twiddled_re = avx._mm256_add_ps(
                avx._mm256_mul_ps(sum_im, tw_re),
                avx._mm256_mul_ps(diff_re, tw_im),
            );
            let twiddled_im = avx._mm256_sub_ps(
                avx._mm256_mul_ps(sum_im, tw_im),
                avx._mm256_mul_ps(diff_re, tw_re),
            );
            let half_sum_re = avx._mm256_mul_ps(half, sum_re);
            let half_diff_im = avx._mm256_mul_ps(half, diff_im);
            // Real parts in the even lanes, imaginary parts in the odd ones.
            let new_out = avx._mm256_blend_ps::<0b1010_1010>(
                avx._mm256_add_ps(half_sum_re, twiddled_re),
                avx._mm256_add_ps(half_diff_im, twiddled_im),
            );
            let new_rev = avx._mm256_blend_ps::<0b1010_1010>(
                avx._mm256_sub_ps(half_sum_re, twiddled_re),
                avx._mm256_sub_ps(twiddled_im, half_diff_im),
            );
            let new_rev = avx2._mm256_permutevar8x32_ps(new_rev, reverse);
            let new_out: [Complex<f32>; 4] = pulp::cast(new_out);
            let new_rev: [Complex<f32>; 4] = pulp::cast(new_rev);
            left[j..j + 4].copy_from_slice(&new_out);
            right[r - 4 - j..r - j].copy_from_slice(&new_rev);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit for bit what `realfft` gives, at lengths of every remainder mod 4 and 8, short and
    /// long, on noise-like input with silence and a DC offset in it.
    #[test]
    fn same_bits_as_realfft() {
        for len in [
            0, 1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 30, 34, 60, 64, 66, 100, 250, 1000, 1024, 4096,
            4098, 8190, 15_000, 48_000, 240_000,
        ] {
            let mut state = 0x1234_5678u32;
            let x: Vec<f32> = (0..len)
                .map(|i| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                    if i % 700 < 100 { 0.0 } else { noise + 0.01 }
                })
                .collect();
            let reference = RealFftPlanner::<f32>::new().plan_fft_forward(len);
            let mut want = reference.make_output_vec();
            let mut input = x.clone();
            reference
                .process_with_scratch(&mut input, &mut want, &mut reference.make_scratch_vec())
                .unwrap();
            let ours = RealForward::new(len);
            assert_eq!(ours.complex_len(), want.len());
            let mut got = ours.make_output_vec();
            let mut input = x.clone();
            ours.process_with_scratch(&mut input, &mut got, &mut ours.make_scratch_vec())
                .unwrap();
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    (g.re.to_bits(), g.im.to_bits()),
                    (w.re.to_bits(), w.im.to_bits()),
                    "len {len}, bin {k}: {g} against {w}"
                );
            }
        }
    }

    #[test]
    fn wrong_buffers_are_errors() {
        let fft = RealForward::new(64);
        let mut scratch = fft.make_scratch_vec();
        let mut out = fft.make_output_vec();
        assert!(
            fft.process_with_scratch(&mut [0.0; 63], &mut out, &mut scratch)
                .is_err()
        );
        assert!(
            fft.process_with_scratch(&mut [0.0; 64], &mut out[..32], &mut scratch)
                .is_err()
        );
    }
}
