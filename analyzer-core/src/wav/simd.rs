//! The 24-bit PCM decoder with runtime-dispatched SIMD (issue 20, target 3).
//!
//! Why: 24-bit integer is what stems are delivered in, and a check decodes every file at least
//! twice; the scalar loop (three byte loads, a shift, a conversion and a multiply per sample)
//! was 9 % of a check's CPU. Three-byte samples line up with no SIMD lane: the baseline x86-64
//! target has no byte shuffle across a register, and wider scalar loads measured slower
//! (BENCHMARKS.md, target 3). With AVX2, one permute and one byte shuffle (`pshufb`) move eight
//! samples into eight 32-bit lanes.
//!
//! `pulp` checks the CPU once at run time (AVX2 here, x86-64-v3) and runs the loop compiled for
//! it; other CPUs and the last few samples take the scalar loop. Its safe wrappers keep the
//! `unsafe` target-feature call inside `pulp`, so analyzer-core stays `#![forbid(unsafe_code)]`.
//!
//! The result is the scalar loop's, bit for bit: the same integer in every lane, converted
//! exactly (24 bits fit an f32's mantissa) and scaled by a power of two (exact). Tested against
//! the scalar loop on every sample boundary and on random bytes.

/// Scale of a 24-bit sample: full-scale negative reads -1.0.
const I24_SCALE: f32 = 1.0 / 8_388_608.0;

/// Decodes little-endian 24-bit samples (three bytes each) to f32. `bytes.len()` is three times
/// `out.len()`.
pub(super) fn i24_to_f32(bytes: &[u8], out: &mut [f32]) {
    debug_assert_eq!(bytes.len(), out.len() * 3);
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return simd.vectorize(I24V3 { simd, bytes, out });
    }
    i24_to_f32_scalar(bytes, out);
}

/// The scalar loop: the reference the SIMD path must equal, and the path for the tail and for
/// CPUs without AVX2.
#[inline(always)]
pub(super) fn i24_to_f32_scalar(bytes: &[u8], out: &mut [f32]) {
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(3)) {
        let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
        *o = v as f32 * I24_SCALE;
    }
}

/// The AVX2 loop, run by [`pulp::x86::V3::vectorize`] with the CPU's AVX2 enabled.
#[cfg(target_arch = "x86_64")]
struct I24V3<'a> {
    simd: pulp::x86::V3,
    bytes: &'a [u8],
    out: &'a mut [f32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for I24V3<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        use pulp::x86::V3;
        use std::arch::x86_64::{__m256, __m256i};

        /// Per 128-bit half: sample k's three bytes (3k, 3k+1, 3k+2) into the top three bytes
        /// of lane k, zero (index with the high bit set) below them; the arithmetic shift by 8
        /// then sign-extends, as the scalar `>> 8` does.
        const SHUFFLE: [u8; 32] = {
            let mut idx = [0x80u8; 32];
            let mut k = 0;
            while k < 4 {
                let mut j = 0;
                while j < 3 {
                    idx[4 * k + 1 + j] = (3 * k + j) as u8;
                    idx[16 + 4 * k + 1 + j] = (3 * k + j) as u8;
                    j += 1;
                }
                k += 1;
            }
            idx
        };
        /// Eight samples per step: 24 bytes consumed, 32 read (one unaligned load; a permute
        /// of 32-bit words moves bytes 12..24 to the upper half, where the shuffle finds them).
        const STEP_SAMPLES: usize = 8;
        const READ_BYTES: usize = 32;

        let Self { simd, bytes, out } = self;
        let simd: V3 = simd;
        let shuffle: __m256i = pulp::cast(SHUFFLE);
        let scale: __m256 = simd.avx._mm256_set1_ps(I24_SCALE);
        let spread: __m256i = pulp::cast([0u32, 1, 2, 3, 3, 4, 5, 6]);
        let mut done = 0;
        while done + STEP_SAMPLES <= out.len() && 3 * done + READ_BYTES <= bytes.len() {
            let at = 3 * done;
            let raw: [u8; 32] = bytes[at..at + 32].try_into().expect("32 bytes");
            let raw: __m256i = pulp::cast(raw);
            let packed = simd.avx2._mm256_permutevar8x32_epi32(raw, spread);
            let lanes = simd.avx2._mm256_shuffle_epi8(packed, shuffle);
            let ints = simd.avx2._mm256_srai_epi32::<8>(lanes);
            let floats = simd
                .avx
                ._mm256_mul_ps(simd.avx._mm256_cvtepi32_ps(ints), scale);
            let floats: [f32; 8] = pulp::cast(floats);
            out[done..done + STEP_SAMPLES].copy_from_slice(&floats);
            done += STEP_SAMPLES;
        }
        i24_to_f32_scalar(&bytes[3 * done..], &mut out[done..]);
    }
}

#[cfg(test)]
mod tests {
    use super::{i24_to_f32, i24_to_f32_scalar};

    /// Bytes of every kind: full-scale, zero, the sign boundary, and a pseudo-random run.
    fn test_bytes(samples: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(samples * 3);
        let fixed: [[u8; 3]; 6] = [
            [0x00, 0x00, 0x80], // -1.0
            [0xff, 0xff, 0x7f], // largest positive
            [0, 0, 0],
            [0xff, 0xff, 0xff], // -1 LSB
            [0x01, 0x00, 0x00],
            [0x00, 0x00, 0x00],
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for i in 0..samples {
            if i < fixed.len() {
                bytes.extend_from_slice(&fixed[i]);
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.extend_from_slice(&state.to_le_bytes()[..3]);
            }
        }
        bytes
    }

    #[test]
    fn the_dispatched_decoder_equals_the_scalar_loop_bit_for_bit_at_every_length() {
        let all = test_bytes(200);
        for samples in 0..=200 {
            let bytes = &all[..samples * 3];
            let mut want = vec![f32::NAN; samples];
            let mut got = vec![f32::NAN; samples];
            i24_to_f32_scalar(bytes, &mut want);
            i24_to_f32(bytes, &mut got);
            let same = want
                .iter()
                .zip(&got)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{samples} samples: {got:?} != {want:?}");
        }
        // Unaligned starts (the read buffer's frames start anywhere in a block).
        for skip in 1..4 {
            let bytes = &all[skip * 3..];
            let mut want = vec![0f32; bytes.len() / 3];
            let mut got = vec![0f32; bytes.len() / 3];
            i24_to_f32_scalar(bytes, &mut want);
            i24_to_f32(bytes, &mut got);
            assert_eq!(
                want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
        let mut extremes = [0f32; 2];
        i24_to_f32(&all[..6], &mut extremes);
        assert_eq!(extremes, [-1.0, 8_388_607.0 / 8_388_608.0]);
    }
}
