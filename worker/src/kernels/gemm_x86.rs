//! x86-64 micro-kernels for [`super::gemm`]: f32 with FMA (AVX2 6×16, AVX-512 12×32), int8 with
//! `vpmaddwd` (AVX2 6×16) and with VNNI `vpdpbusd` (AVX-512 12×32).
//!
//! f32: `_mm*_fmadd_ps(a, b, acc)` is one correctly rounded fma per element and k, in k order,
//! exactly `acc = fma(A[i][k], B[k][j], acc)`. int8: every product and pair sum is exact
//! (`vpmaddwd` on sign-extended i8 never saturates; `vpdpbusd` sums four u8·i8 products exactly)
//! and i32 addition wraps, so the result equals the wrapping fold in any order.

#![allow(
    clippy::needless_range_loop,
    reason = "index loops over constant bounds unroll completely and keep each micro-kernel's \
              accumulators in registers; iterator chains over them left the tile on the stack"
)]

use std::arch::x86_64::*;

use super::gemm::MicroKernel;
use super::matmul::CANONICAL_NAN;

/// f32, AVX2 + FMA: 6 rows × 16 columns (12 ymm accumulators).
pub(crate) struct F32Avx2;

impl MicroKernel for F32Avx2 {
    type In = f32;
    type Out = f32;
    type PA = f32;
    type PB = f32;
    const MR: usize = 6;
    const NR: usize = 16;
    const KU: usize = 1;
    const KC: usize = 256;
    const NC: usize = 256;
    fn pa(x: f32) -> f32 {
        x
    }
    fn pb(x: f32) -> f32 {
        x
    }
    #[inline]
    unsafe fn tile(
        steps: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        first: bool,
        last: bool,
    ) {
        // SAFETY: forwarded (the caller checked AVX2 and FMA).
        unsafe { f32_avx2(steps, a, b, c, ldc, first, last) }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn f32_avx2(
    steps: usize,
    mut a: *const f32,
    mut b: *const f32,
    c: *mut f32,
    ldc: usize,
    first: bool,
    last: bool,
) {
    const MR: usize = 6;
    // SAFETY: the pointers address what MicroKernel::tile promises.
    unsafe {
        // Index loops over constant bounds unroll completely, so `acc` lives in registers.
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        if !first {
            for r in 0..MR {
                acc[r][0] = _mm256_loadu_ps(c.add(r * ldc));
                acc[r][1] = _mm256_loadu_ps(c.add(r * ldc + 8));
            }
        }
        for _ in 0..steps {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for r in 0..MR {
                let av = _mm256_broadcast_ss(&*a.add(r));
                acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
            }
            a = a.add(MR);
            b = b.add(16);
        }
        if last {
            // The protocol's one NaN: unordered (NaN) lanes become 0x7FC00000.
            let canonical = _mm256_castsi256_ps(_mm256_set1_epi32(CANONICAL_NAN as i32));
            for r in 0..MR {
                for j in 0..2 {
                    let v = &mut acc[r][j];
                    *v = _mm256_blendv_ps(*v, canonical, _mm256_cmp_ps::<_CMP_UNORD_Q>(*v, *v));
                }
            }
        }
        for r in 0..MR {
            _mm256_storeu_ps(c.add(r * ldc), acc[r][0]);
            _mm256_storeu_ps(c.add(r * ldc + 8), acc[r][1]);
        }
    }
}

/// f32, AVX-512F: 12 rows × 32 columns (24 zmm accumulators).
pub(crate) struct F32Avx512;

impl MicroKernel for F32Avx512 {
    type In = f32;
    type Out = f32;
    type PA = f32;
    type PB = f32;
    const MR: usize = 12;
    const NR: usize = 32;
    const KU: usize = 1;
    const KC: usize = 256;
    const NC: usize = 512;
    fn pa(x: f32) -> f32 {
        x
    }
    fn pb(x: f32) -> f32 {
        x
    }
    #[inline]
    unsafe fn tile(
        steps: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        first: bool,
        last: bool,
    ) {
        // SAFETY: forwarded (the caller checked AVX-512F).
        unsafe { f32_avx512(steps, a, b, c, ldc, first, last) }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn f32_avx512(
    steps: usize,
    mut a: *const f32,
    mut b: *const f32,
    c: *mut f32,
    ldc: usize,
    first: bool,
    last: bool,
) {
    const MR: usize = 12;
    // SAFETY: the pointers address what MicroKernel::tile promises.
    unsafe {
        // Index loops over constant bounds unroll completely, so `acc` lives in registers.
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        if !first {
            for r in 0..MR {
                acc[r][0] = _mm512_loadu_ps(c.add(r * ldc));
                acc[r][1] = _mm512_loadu_ps(c.add(r * ldc + 16));
            }
        }
        for _ in 0..steps {
            let b0 = _mm512_loadu_ps(b);
            let b1 = _mm512_loadu_ps(b.add(16));
            for r in 0..MR {
                let av = _mm512_set1_ps(*a.add(r));
                acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
            }
            a = a.add(MR);
            b = b.add(32);
        }
        if last {
            // The protocol's one NaN: unordered (NaN) lanes become 0x7FC00000.
            let canonical = _mm512_castsi512_ps(_mm512_set1_epi32(CANONICAL_NAN as i32));
            for r in 0..MR {
                for j in 0..2 {
                    let v = &mut acc[r][j];
                    let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(*v, *v);
                    *v = _mm512_mask_blend_ps(nan, *v, canonical);
                }
            }
        }
        for r in 0..MR {
            _mm512_storeu_ps(c.add(r * ldc), acc[r][0]);
            _mm512_storeu_ps(c.add(r * ldc + 16), acc[r][1]);
        }
    }
}

/// int8, AVX2: pairs of k as i16, `vpmaddwd` then a wrapping add; 6 rows × 16 columns.
pub(crate) struct I8Avx2;

impl MicroKernel for I8Avx2 {
    type In = i8;
    type Out = i32;
    type PA = i16;
    type PB = i16;
    const MR: usize = 6;
    const NR: usize = 16;
    const KU: usize = 2;
    const KC: usize = 512;
    const NC: usize = 256;
    fn pa(x: i8) -> i16 {
        x.into()
    }
    fn pb(x: i8) -> i16 {
        x.into()
    }
    #[inline]
    unsafe fn tile(
        steps: usize,
        a: *const i16,
        b: *const i16,
        c: *mut i32,
        ldc: usize,
        first: bool,
        _last: bool,
    ) {
        // SAFETY: forwarded (the caller checked AVX2).
        unsafe { i8_avx2(steps, a, b, c, ldc, first) }
    }
}

#[target_feature(enable = "avx2")]
unsafe fn i8_avx2(
    steps: usize,
    mut a: *const i16,
    mut b: *const i16,
    c: *mut i32,
    ldc: usize,
    first: bool,
) {
    const MR: usize = 6;
    // SAFETY: the pointers address what MicroKernel::tile promises.
    unsafe {
        // Index loops over constant bounds unroll completely, so `acc` lives in registers.
        let mut acc = [[_mm256_setzero_si256(); 2]; MR];
        if !first {
            for r in 0..MR {
                acc[r][0] = _mm256_loadu_si256(c.add(r * ldc).cast());
                acc[r][1] = _mm256_loadu_si256(c.add(r * ldc + 8).cast());
            }
        }
        for _ in 0..steps {
            let b0 = _mm256_loadu_si256(b.cast());
            let b1 = _mm256_loadu_si256(b.add(16).cast());
            for r in 0..MR {
                let av = _mm256_set1_epi32(a.add(2 * r).cast::<i32>().read_unaligned());
                acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, b0));
                acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, b1));
            }
            a = a.add(2 * MR);
            b = b.add(32);
        }
        for r in 0..MR {
            _mm256_storeu_si256(c.add(r * ldc).cast(), acc[r][0]);
            _mm256_storeu_si256(c.add(r * ldc + 8).cast(), acc[r][1]);
        }
    }
}

/// int8, AVX-512 VNNI: quads of k, A shifted to u8 (`a + 128`), `vpdpbusd`; 12 rows × 32
/// columns. The shift adds `128·Σ_k B[k][j]` to every `C[i][j]`; [`i8_vnni_correct`] takes it off.
pub(crate) struct I8Vnni;

impl MicroKernel for I8Vnni {
    type In = i8;
    type Out = i32;
    type PA = u8;
    type PB = i8;
    const MR: usize = 12;
    const NR: usize = 32;
    const KU: usize = 4;
    const KC: usize = 1024;
    const NC: usize = 512;
    fn pa(x: i8) -> u8 {
        (x as u8) ^ 0x80
    }
    fn pb(x: i8) -> i8 {
        x
    }
    #[inline]
    unsafe fn tile(
        steps: usize,
        a: *const u8,
        b: *const i8,
        c: *mut i32,
        ldc: usize,
        first: bool,
        _last: bool,
    ) {
        // SAFETY: forwarded (the caller checked AVX-512BW and VNNI).
        unsafe { i8_vnni(steps, a, b, c, ldc, first) }
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn i8_vnni(
    steps: usize,
    mut a: *const u8,
    mut b: *const i8,
    c: *mut i32,
    ldc: usize,
    first: bool,
) {
    const MR: usize = 12;
    // SAFETY: the pointers address what MicroKernel::tile promises.
    unsafe {
        // Index loops over constant bounds unroll completely, so `acc` lives in registers.
        let mut acc = [[_mm512_setzero_si512(); 2]; MR];
        if !first {
            for r in 0..MR {
                acc[r][0] = _mm512_loadu_si512(c.add(r * ldc).cast());
                acc[r][1] = _mm512_loadu_si512(c.add(r * ldc + 16).cast());
            }
        }
        for _ in 0..steps {
            let b0 = _mm512_loadu_si512(b.cast());
            let b1 = _mm512_loadu_si512(b.add(64).cast());
            for r in 0..MR {
                let av = _mm512_set1_epi32(a.add(4 * r).cast::<i32>().read_unaligned());
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], av, b0);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], av, b1);
            }
            a = a.add(4 * MR);
            b = b.add(128);
        }
        for r in 0..MR {
            _mm512_storeu_si512(c.add(r * ldc).cast(), acc[r][0]);
            _mm512_storeu_si512(c.add(r * ldc + 16).cast(), acc[r][1]);
        }
    }
}

/// Takes the `+128` shift of [`I8Vnni`]'s A back off: `C[i][j] -= 128·Σ_k B[k][j]`, wrapping.
pub(crate) fn i8_vnni_correct(c: &mut [i32], b: &[i8], n: usize) {
    let mut col = vec![0i32; n];
    for row in b.chunks_exact(n) {
        for (s, &v) in col.iter_mut().zip(row) {
            *s = s.wrapping_add(i32::from(v));
        }
    }
    for s in &mut col {
        *s = s.wrapping_mul(128);
    }
    for row in c.chunks_exact_mut(n) {
        for (v, &s) in row.iter_mut().zip(&col) {
            *v = v.wrapping_sub(s);
        }
    }
}
