//! `matmul_f32` and `matmul_i8`.
//!
//! `matmul_f32` is defined as `C[i][j] = fold over k = 0..K of acc = fma(A[i][k], B[k][j], acc)`
//! from `+0.0`, with a NaN result stored as the canonical quiet NaN `0x7FC00000`. The SIMD paths
//! ([`super::gemm`]) keep that order exactly: packed panels, register-blocked micro-kernels, K
//! blocks that resume each element's fold from the value the previous block stored. `matmul_i8`
//! accumulates i8 products in wrapping i32, which is associative, so its SIMD paths (`vpmaddwd`,
//! VNNI `vpdpbusd`) are exact by construction.
//!
//! Every path ([`Isa`]) returns the same bytes; [`matmul_f32_reference`] and
//! [`matmul_i8_reference`] are the definitions, element by element, the tests' oracle.

use rayon::prelude::*;

use super::gemm::gemm;
use super::isa::Isa;

/// The canonical quiet NaN every NaN output is stored as (protocol, kernel catalogue).
pub const CANONICAL_NAN: u32 = 0x7FC0_0000;

/// The value as stored: NaN becomes the canonical quiet NaN; everything else (−0.0, subnormals)
/// is kept.
#[inline]
pub fn canonical(v: f32) -> f32 {
    if v.is_nan() {
        f32::from_bits(CANONICAL_NAN)
    } else {
        v
    }
}

/// [`canonical`] over a slice.
pub fn canonicalize_nan(c: &mut [f32]) {
    for v in c {
        *v = canonical(*v);
    }
}

/// `C = A·B` with A `m×k`, B `k×n`, all row-major, on the active [`Isa`].
pub fn matmul_f32(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    matmul_f32_with(Isa::active(), a, b, m, n, k)
}

/// `matmul_f32` on a chosen path (it must be [`Isa::supported`]).
pub fn matmul_f32_with(isa: Isa, a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    matmul_f32_into(isa, a, b, &mut c, m, n, k);
    c
}

/// `matmul_f32` into a caller's buffer (overwritten), on a chosen path.
pub fn matmul_f32_into(
    isa: Isa,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    m: usize,
    n: usize,
    k: usize,
) {
    assert_eq!((a.len(), b.len(), c.len()), (m * k, k * n, m * n));
    assert!(
        isa.supported(),
        "{} is not supported by this CPU",
        isa.name()
    );
    // The SIMD paths write every element of C (zero when k = 0) and store NaN canonically in
    // their last K block, so C is neither cleared nor swept again for them.
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F (checked above).
        Isa::Avx512 => unsafe { gemm::<super::gemm_x86::F32Avx512>(a, b, c, m, n, k) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        Isa::Avx2 => unsafe { gemm::<super::gemm_x86::F32Avx2>(a, b, c, m, n, k) },
        _ => {
            c.fill(0.0);
            portable_f32(a, b, c, n, k);
            canonicalize_nan(c);
        }
    }
}

/// Rows in parallel, loop order i → k → j: B streams row by row and each `C[i][j]` still sees
/// k = 0..K in order.
fn portable_f32(a: &[f32], b: &[f32], c: &mut [f32], n: usize, k: usize) {
    if n == 0 {
        return;
    }
    c.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for kk in 0..k {
            let av = a[i * k + kk];
            for (cv, &bv) in row.iter_mut().zip(&b[kk * n..(kk + 1) * n]) {
                *cv = av.mul_add(bv, *cv);
            }
        }
    });
}

/// `C = A·B` with i8 inputs and wrapping i32 accumulation, on the active [`Isa`].
pub fn matmul_i8(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    matmul_i8_with(Isa::active(), a, b, m, n, k)
}

/// `matmul_i8` on a chosen path (it must be [`Isa::supported`]).
pub fn matmul_i8_with(isa: Isa, a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    let mut c = vec![0i32; m * n];
    matmul_i8_into(isa, a, b, &mut c, m, n, k);
    c
}

/// `matmul_i8` into a caller's buffer (overwritten), on a chosen path.
pub fn matmul_i8_into(isa: Isa, a: &[i8], b: &[i8], c: &mut [i32], m: usize, n: usize, k: usize) {
    assert_eq!((a.len(), b.len(), c.len()), (m * k, k * n, m * n));
    assert!(
        isa.supported(),
        "{} is not supported by this CPU",
        isa.name()
    );
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 | Isa::Avx2 if isa.has_vnni() => {
            // SAFETY: the CPU has AVX-512BW and VNNI (has_vnni).
            unsafe { gemm::<super::gemm_x86::I8Vnni>(a, b, c, m, n, k) };
            if n > 0 {
                super::gemm_x86::i8_vnni_correct(c, b, n);
            }
        }
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F implies AVX2 on every CPU that has it; Avx2 was checked above.
        Isa::Avx512 | Isa::Avx2 if Isa::Avx2.supported() => unsafe {
            gemm::<super::gemm_x86::I8Avx2>(a, b, c, m, n, k)
        },
        _ => {
            c.fill(0);
            portable_i8(a, b, c, n, k);
        }
    }
}

fn portable_i8(a: &[i8], b: &[i8], c: &mut [i32], n: usize, k: usize) {
    if n == 0 {
        return;
    }
    c.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for kk in 0..k {
            let av = i32::from(a[i * k + kk]);
            for (cv, &bv) in row.iter_mut().zip(&b[kk * n..(kk + 1) * n]) {
                *cv = cv.wrapping_add(av.wrapping_mul(i32::from(bv)));
            }
        }
    });
}

/// The definition, literally: one element at a time, fold over k.
pub fn matmul_f32_reference(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            c.push((0..k).fold(0.0f32, |acc, kk| a[i * k + kk].mul_add(b[kk * n + j], acc)));
        }
    }
    canonicalize_nan(&mut c);
    c
}

/// The definition of `matmul_i8`, element by element.
pub fn matmul_i8_reference(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            c.push((0..k).fold(0i32, |acc, kk| {
                acc.wrapping_add(i32::from(a[i * k + kk]) * i32::from(b[kk * n + j]))
            }));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Sizes that cross every block and tile boundary of every path: 1×1×1, primes, MR (6, 12)
    /// and NR (16, 32) edges, KC (256 f32; 512 and 1024 k for int8) and K not a multiple of the
    /// packed step (2, 4), column blocks (NC = 256 or 512 columns, several per thread), and row
    /// groups (few column blocks).
    const SIZES: [(usize, usize, usize); 15] = [
        (1, 1, 1),
        (1, 7, 3),
        (5, 1, 9),
        (2, 3, 5),
        (7, 17, 13),
        (12, 32, 256),
        (13, 33, 257),
        (6, 16, 1),
        (64, 65, 63),
        (197, 61, 300),
        (130, 290, 520),
        (5, 37, 1031),
        (3, 2053, 5),
        (101, 103, 1027),
        (40, 1100, 300),
    ];

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Ordinary values plus the awkward ones: NaNs with payloads and signs, ±Inf, ±0, subnormals,
    /// and magnitudes whose products overflow.
    fn awkward(rng: &mut rand::rngs::StdRng, len: usize) -> Vec<f32> {
        (0..len)
            .map(|_| match rng.gen_range(0..40) {
                0 => f32::from_bits(0x7FC0_0001 | rng.gen_range(0..0x3F_FFFF)),
                1 => f32::from_bits(0xFF80_0001 | rng.gen_range(0..0x3F_FFFF)),
                2 => f32::INFINITY,
                3 => f32::NEG_INFINITY,
                4 => -0.0,
                5 => 0.0,
                6 => f32::from_bits(rng.gen_range(1..0x80_0000)),
                7 => -f32::from_bits(rng.gen_range(1..0x80_0000)),
                8 => rng.gen_range(1e37f32..3e38),
                9 => f32::MIN_POSITIVE * rng.gen_range(-4.0f32..4.0),
                _ => rng.gen_range(-4.0f32..4.0),
            })
            .collect()
    }

    #[test]
    fn every_path_matches_the_definition_bit_for_bit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let paths = Isa::available();
        println!("paths: {:?}", paths);
        for &(m, n, k) in &SIZES {
            let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
            let want = bits(&matmul_f32_reference(&a, &b, m, n, k));
            for &isa in &paths {
                assert_eq!(
                    bits(&matmul_f32_with(isa, &a, &b, m, n, k)),
                    want,
                    "{isa:?} {m}x{n}x{k}"
                );
            }
        }
    }

    #[test]
    fn nan_inf_signed_zero_subnormal_and_overflow_are_bit_exact() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for &(m, n, k) in &[(13, 33, 257), (7, 17, 13), (30, 40, 3), (1, 1, 1)] {
            let a = awkward(&mut rng, m * k);
            let b = awkward(&mut rng, k * n);
            let want = matmul_f32_reference(&a, &b, m, n, k);
            // The inputs do produce every kind of output this test is about.
            assert!(want.iter().any(|v| v.is_nan()) || m * n < 100);
            assert!(want
                .iter()
                .all(|v| !v.is_nan() || v.to_bits() == CANONICAL_NAN));
            for isa in Isa::available() {
                assert_eq!(
                    bits(&matmul_f32_with(isa, &a, &b, m, n, k)),
                    bits(&want),
                    "{isa:?} {m}x{n}x{k}"
                );
            }
        }
        // The fold starts at +0.0, not at the first product: fma(−0, 1, +0) = +0.
        for isa in Isa::available() {
            let c = matmul_f32_with(isa, &[-0.0], &[1.0], 1, 1, 1);
            assert_eq!(
                c[0].to_bits(),
                0.0f32.to_bits(),
                "{isa:?}: the fold starts at +0.0"
            );
            let sub = f32::from_bits(1);
            let c = matmul_f32_with(isa, &[sub], &[1.0], 1, 1, 1);
            assert_eq!(c[0].to_bits(), 1, "{isa:?}: subnormals are not flushed");
            let c = matmul_f32_with(isa, &[f32::INFINITY, 1.0], &[0.0, 1.0], 1, 1, 2);
            assert_eq!(
                c[0].to_bits(),
                CANONICAL_NAN,
                "{isa:?}: Inf·0 is the canonical NaN"
            );
            // fma(MAX, 2, +0) overflows to +Inf; then +Inf + (+Inf · −1) is NaN.
            let c = matmul_f32_with(isa, &[f32::MAX, f32::INFINITY], &[2.0, -1.0], 1, 1, 2);
            assert_eq!(
                c[0].to_bits(),
                CANONICAL_NAN,
                "{isa:?}: overflow, then +Inf − Inf"
            );
        }
    }

    #[test]
    fn products_started_inside_parallel_tasks_are_exact() {
        // Products run on rayon workers, several at once. A worker waiting for its own product's
        // tasks may run another product there (timing-dependent, so not forced here); the
        // per-thread packing buffers then fall back to fresh ones (`gemm::with_buffer`).
        use rayon::prelude::*;
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let (m, n, k) = (97, 130, 300);
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
        let want = bits(&matmul_f32_reference(&a, &b, m, n, k));
        (0..16).into_par_iter().for_each(|_| {
            for isa in Isa::available() {
                assert_eq!(
                    bits(&matmul_f32_with(isa, &a, &b, m, n, k)),
                    want,
                    "{isa:?}"
                );
            }
        });
    }

    #[test]
    fn into_overwrites_whatever_the_buffer_held() {
        // The SIMD paths neither clear C first nor sweep it afterwards: every element must come
        // from the product alone, k = 0 (all zeros) included.
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for &(m, n, k) in &[(13, 33, 257), (12, 32, 256), (7, 17, 0), (1, 1, 1)] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
            let want = bits(&matmul_f32_reference(&a, &b, m, n, k));
            let ai: Vec<i8> = (0..m * k).map(|_| rng.gen()).collect();
            let bi: Vec<i8> = (0..k * n).map(|_| rng.gen()).collect();
            let want_i8 = matmul_i8_reference(&ai, &bi, m, n, k);
            for isa in Isa::available() {
                let mut c = vec![f32::from_bits(0xFFC0_1234); m * n];
                matmul_f32_into(isa, &a, &b, &mut c, m, n, k);
                assert_eq!(bits(&c), want, "{isa:?} {m}x{n}x{k}");
                let mut c = vec![-7i32; m * n];
                matmul_i8_into(isa, &ai, &bi, &mut c, m, n, k);
                assert_eq!(c, want_i8, "{isa:?} {m}x{n}x{k}");
            }
        }
    }

    #[test]
    fn a_larger_than_one_packing_pass_is_exact() {
        // 4100 × 2100 f32 is 34 MiB of A, more than one pass of the driver packs (32 MiB), so K
        // is taken in two passes; n = 3 keeps the reference cheap.
        let mut rng = rand::rngs::StdRng::seed_from_u64(17);
        let (m, n, k) = (4100, 3, 2100);
        let a: Vec<f32> = (0..m * k).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.gen_range(-4.0f32..4.0)).collect();
        let want = bits(&matmul_f32_reference(&a, &b, m, n, k));
        for isa in Isa::available() {
            assert_eq!(
                bits(&matmul_f32_with(isa, &a, &b, m, n, k)),
                want,
                "{isa:?}"
            );
        }
    }

    #[test]
    fn fma_is_not_mul_then_add() {
        // A case where fma and a separately rounded multiply-add differ: the kernel must fuse.
        let a = [1.0f32 + f32::EPSILON];
        let b = [1.0f32 - f32::EPSILON];
        for isa in Isa::available() {
            let c = matmul_f32_with(isa, &a, &b, 1, 1, 1);
            assert_eq!(c[0].to_bits(), a[0].mul_add(b[0], 0.0).to_bits());
            // k = 0 gives acc = -1 exactly; k = 1 must be fma(a, b, -1) = -ε², which a separately
            // rounded a·b (= 1.0) followed by the add would turn into 0.
            let two = matmul_f32_with(isa, &[-1.0, a[0]], &[1.0, b[0]], 1, 1, 2);
            assert_eq!(two[0], -(f32::EPSILON * f32::EPSILON), "{isa:?}");
            assert_ne!(two[0].to_bits(), ((a[0] * b[0]) + -1.0).to_bits());
        }
    }

    #[test]
    fn i8_every_path_is_exact() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for &(m, n, k) in &SIZES {
            let a: Vec<i8> = (0..m * k).map(|_| rng.gen()).collect();
            let b: Vec<i8> = (0..k * n).map(|_| rng.gen()).collect();
            let want = matmul_i8_reference(&a, &b, m, n, k);
            for isa in Isa::available() {
                assert_eq!(
                    matmul_i8_with(isa, &a, &b, m, n, k),
                    want,
                    "{isa:?} {m}x{n}x{k}"
                );
            }
        }
    }

    #[test]
    fn i8_extremes_wrap() {
        // -128 · -128 summed 2^17 times overflows i32 and must wrap; -128 · 127 mixes signs at
        // the ends of the range (the VNNI path's u8 shift and the pmaddwd pair sums).
        let k = 1 << 17;
        for isa in Isa::available() {
            let c = matmul_i8_with(isa, &vec![-128; k], &vec![-128; k], 1, 1, k);
            assert_eq!(c[0], (16384i64 * k as i64) as i32, "{isa:?}");
            let c = matmul_i8_with(isa, &[-128; 3 * 5], &[127; 5 * 40], 3, 40, 5);
            assert!(c.iter().all(|&v| v == -128 * 127 * 5), "{isa:?}");
            let c = matmul_i8_with(isa, &[127; 13 * 9], &[-128; 9 * 33], 13, 33, 9);
            assert!(c.iter().all(|&v| v == -128 * 127 * 9), "{isa:?}");
        }
    }
}
