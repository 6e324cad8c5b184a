//! `matmul_f32` and `matmul_i8`.
//!
//! `matmul_f32` is defined as `C[i][j] = fold over k = 0..K of acc = fma(A[i][k], B[k][j], acc)`
//! from `+0.0`. The fast path keeps that order exactly: each output row is computed by one thread
//! with the loop order i → k → j, so every `C[i][j]` still sees k = 0, 1, …, K−1 in order, while
//! B is streamed row by row and the j loop vectorises (one fused multiply-add per element, which
//! is correctly rounded like the definition's `fma`).

use rayon::prelude::*;

/// Rows of C per micro-tile.
const MR: usize = 4;
/// Columns of C per micro-tile: two 8-wide vectors.
const NR: usize = 16;
/// Rows of C per parallel task: B blocks are reused across them.
const MC: usize = 64;
/// Columns of B per cache block.
const NC: usize = 256;
/// Depth of B per cache block (B block = KC × NC floats = 256 KiB, L2-resident).
const KC: usize = 256;

/// `C = A·B` with A `m×k`, B `k×n`, all row-major.
///
/// Cache-blocked (MC × NC tiles of C per task, B in KC × NC blocks) and register-blocked (4×16
/// micro-tiles). K is split into blocks that run in order, and a micro-tile resumes from the
/// value it stored after the previous block — the same f32 the fold held — so every `C[i][j]`
/// still sees one fused multiply-add per k, k = 0..K in order: the definition, bit for bit.
/// Column and row tails take the same fold one row at a time.
pub fn matmul_f32(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    assert_eq!((a.len(), b.len()), (m * k, k * n));
    let mut c = vec![0.0f32; m * n];
    if n == 0 {
        return c;
    }
    let full = n / NR * NR;
    c.par_chunks_mut(n * MC)
        .enumerate()
        .for_each(|(blk, rows)| {
            let i_base = blk * MC;
            let nrows = rows.len() / n;
            let tiled_rows = nrows / MR * MR;
            for jc in (0..full).step_by(NC) {
                let jc_end = (jc + NC).min(full);
                for kc in (0..k).step_by(KC) {
                    let kc_end = (kc + KC).min(k);
                    for ir in (0..tiled_rows).step_by(MR) {
                        for j0 in (jc..jc_end).step_by(NR) {
                            micro_tile(a, b, rows, i_base, ir, j0, n, k, kc, kc_end);
                        }
                    }
                }
            }
            for r in tiled_rows..nrows {
                row_fold(a, b, &mut rows[r * n..r * n + full], i_base + r, 0, n, k);
            }
            for r in 0..nrows {
                row_fold(
                    a,
                    b,
                    &mut rows[r * n + full..(r + 1) * n],
                    i_base + r,
                    full,
                    n,
                    k,
                );
            }
        });
    c
}

/// `out[j - j0] = fold k fma(A[i][k], B[k][j], ·)` for the columns `out` covers.
fn row_fold(a: &[f32], b: &[f32], out: &mut [f32], i: usize, j0: usize, n: usize, k: usize) {
    if out.is_empty() {
        return;
    }
    let w = out.len();
    out.fill(0.0);
    for kk in 0..k {
        fma_row(out, a[i * k + kk], &b[kk * n + j0..kk * n + j0 + w]);
    }
}

#[allow(clippy::too_many_arguments)]
fn micro_tile(
    a: &[f32],
    b: &[f32],
    rows: &mut [f32],
    i_base: usize,
    ir: usize,
    j0: usize,
    n: usize,
    k: usize,
    k0: usize,
    k1: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
        {
            // SAFETY: the CPU supports FMA and AVX2, checked just above.
            unsafe { micro_tile_fma(a, b, rows, i_base, ir, j0, n, k, k0, k1) };
            return;
        }
    }
    micro_tile_generic(a, b, rows, i_base, ir, j0, n, k, k0, k1);
}

/// Continues the folds of C[ir..ir+4][j0..j0+16] (rows relative to `rows`) over k0..k1.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn micro_tile_generic(
    a: &[f32],
    b: &[f32],
    rows: &mut [f32],
    i_base: usize,
    ir: usize,
    j0: usize,
    n: usize,
    k: usize,
    k0: usize,
    k1: usize,
) {
    let mut acc: [[f32; NR]; MR] = std::array::from_fn(|r| {
        let s = (ir + r) * n + j0;
        rows[s..s + NR].try_into().expect("NR wide")
    });
    let a_rows: [&[f32]; MR] =
        std::array::from_fn(|r| &a[(i_base + ir + r) * k..(i_base + ir + r + 1) * k]);
    for kk in k0..k1 {
        let bv: &[f32; NR] = b[kk * n + j0..kk * n + j0 + NR]
            .try_into()
            .expect("NR wide");
        for r in 0..MR {
            let av = a_rows[r][kk];
            for t in 0..NR {
                acc[r][t] = av.mul_add(bv[t], acc[r][t]);
            }
        }
    }
    for (r, v) in acc.iter().enumerate() {
        let s = (ir + r) * n + j0;
        rows[s..s + NR].copy_from_slice(v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn micro_tile_fma(
    a: &[f32],
    b: &[f32],
    rows: &mut [f32],
    i_base: usize,
    ir: usize,
    j0: usize,
    n: usize,
    k: usize,
    k0: usize,
    k1: usize,
) {
    micro_tile_generic(a, b, rows, i_base, ir, j0, n, k, k0, k1)
}

/// `acc[j] = fma(a, b[j], acc[j])` for every j.
fn fma_row(acc: &mut [f32], a: f32, b: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
        {
            // SAFETY: the CPU supports FMA and AVX2 (both enabled on fma_row_x86), checked above.
            unsafe { fma_row_x86(acc, a, b) };
            return;
        }
    }
    for (c, &bv) in acc.iter_mut().zip(b) {
        *c = a.mul_add(bv, *c);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma,avx2")]
unsafe fn fma_row_x86(acc: &mut [f32], a: f32, b: &[f32]) {
    // With FMA enabled, f32::mul_add lowers to vfmadd and the loop vectorises; the result is the
    // same correctly rounded fma either way.
    for (c, &bv) in acc.iter_mut().zip(b) {
        *c = a.mul_add(bv, *c);
    }
}

/// `C = A·B` with i8 inputs and wrapping i32 accumulation in k order.
pub fn matmul_i8(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    assert_eq!((a.len(), b.len()), (m * k, k * n));
    let mut c = vec![0i32; m * n];
    if n == 0 {
        return c;
    }
    c.par_chunks_mut(n * MR)
        .enumerate()
        .for_each(|(blk, rows)| {
            for (r, row) in rows.chunks_mut(n).enumerate() {
                let i = blk * MR + r;
                for kk in 0..k {
                    let av = i32::from(a[i * k + kk]);
                    for (cv, &bv) in row.iter_mut().zip(&b[kk * n..(kk + 1) * n]) {
                        *cv = cv.wrapping_add(av.wrapping_mul(i32::from(bv)));
                    }
                }
            }
        });
    c
}

/// The definition, literally: one element at a time, fold over k.
pub fn matmul_f32_reference(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut c = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            c.push((0..k).fold(0.0f32, |acc, kk| a[i * k + kk].mul_add(b[kk * n + j], acc)));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn rand_f32(rng: &mut rand::rngs::StdRng, len: usize) -> Vec<f32> {
        (0..len).map(|_| rng.gen_range(-4.0f32..4.0)).collect()
    }

    #[test]
    fn matches_the_definition_bit_for_bit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for &(m, n, k) in &[
            (1, 1, 1),
            (1, 7, 3),
            (5, 1, 9),
            (17, 13, 33),
            (64, 65, 63),
            (3, 129, 1),
            (9, 9, 257),
            // several row tasks (MC = 64), row and column tails, K blocks (KC = 256)
            (70, 33, 300),
            (130, 290, 520),
        ] {
            let a = rand_f32(&mut rng, m * k);
            let b = rand_f32(&mut rng, k * n);
            let fast = matmul_f32(&a, &b, m, n, k);
            let slow = matmul_f32_reference(&a, &b, m, n, k);
            assert_eq!(
                fast.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                slow.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{m}x{n}x{k}"
            );
        }
    }

    #[test]
    fn fma_is_not_mul_then_add() {
        // A case where fma and a separately rounded multiply-add differ: the kernel must fuse.
        let a = [1.0f32 + f32::EPSILON];
        let b = [1.0f32 - f32::EPSILON];
        let c = matmul_f32(&a, &b, 1, 1, 1);
        assert_eq!(c[0].to_bits(), a[0].mul_add(b[0], 0.0).to_bits());
        // k = 0 gives acc = -1 exactly; k = 1 must be fma(a, b, -1) = -ε², which a separately
        // rounded a·b (= 1.0) followed by the add would turn into 0.
        let two = matmul_f32(&[-1.0, a[0]], &[1.0, b[0]], 1, 1, 2);
        assert_eq!(two[0], -(f32::EPSILON * f32::EPSILON));
        assert_ne!(two[0].to_bits(), ((a[0] * b[0]) + -1.0).to_bits());
    }

    #[test]
    fn i8_wraps_in_k_order() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let (m, n, k) = (7, 11, 300);
        let a: Vec<i8> = (0..m * k).map(|_| rng.gen()).collect();
        let b: Vec<i8> = (0..k * n).map(|_| rng.gen()).collect();
        let c = matmul_i8(&a, &b, m, n, k);
        for i in 0..m {
            for j in 0..n {
                let r = (0..k).fold(0i32, |acc, kk| {
                    acc.wrapping_add(i32::from(a[i * k + kk]) * i32::from(b[kk * n + j]))
                });
                assert_eq!(c[i * n + j], r);
            }
        }
        // Extreme values: -128 · -128 summed 2^17 times overflows i32 and must wrap.
        let k = 1 << 17;
        let c = matmul_i8(&vec![-128; k], &vec![-128; k], 1, 1, k);
        assert_eq!(c[0], (16384i64 * k as i64) as i32);
    }
}
