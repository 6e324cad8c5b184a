//! A BLIS-style GEMM driver shared by the SIMD paths of `matmul_f32` and `matmul_i8`.
//!
//! C (row-major, `m×n`) is computed in blocks: for each block of NC columns and each block of KC
//! k values, in k order, B's block is packed into NR-wide panels, and then, in parallel over row
//! blocks of C, each task packs its MC×KC block of A into MR-tall panels and runs the micro-kernel
//! on every MR×NR tile. The micro-kernel loads its tile of C, continues each element's
//! accumulation over the block's k values in order, and stores it; the next K block loads it again.
//! So each `C[i][j]` sees exactly the sequence `acc = acc ⊕ A[i][k]·B[k][j]`, k = 0..K, from the
//! zero C starts as: the definition's fold, whatever the blocking. Padding rows and columns (edge
//! tiles) are zeros in the packed panels and computed in a scratch tile, so edges take the same
//! fast kernel.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// One micro-kernel and its packing.
///
/// Packed A panel (rows i0..i0+MR, one k block): step s holds, for each row r, KU consecutive
/// k values: index `(s·MR + r)·KU + u` ↔ `A[i0 + r][k0 + s·KU + u]`. Packed B panel likewise:
/// `(s·NR + j)·KU + u` ↔ `B[k0 + s·KU + u][j0 + j]`. Out-of-range entries are `pa/pb(zero)`.
pub(crate) trait MicroKernel: Sync {
    type In: Copy + Default + Sync;
    type Out: Copy + Default + Send + Sync;
    type PA: Copy + Default + Send + Sync;
    type PB: Copy + Default + Send + Sync;
    const MR: usize;
    const NR: usize;
    /// k values per packed step (1 for f32 fma, 2 for `vpmaddwd`, 4 for `vpdpbusd`).
    const KU: usize;
    /// k values per block (a multiple of KU), rows per A block and columns per B block.
    const KC: usize;
    const MC: usize;
    const NC: usize;
    fn pa(x: Self::In) -> Self::PA;
    fn pb(x: Self::In) -> Self::PB;
    /// Continues the MR×NR tile at `c` (row stride `ldc`) over `steps` packed k steps, or starts
    /// it from zero when `first` (C is not read then); `last` when the fold ends with this block
    /// (an f32 kernel stores NaN as the canonical 0x7FC00000 then).
    ///
    /// # Safety
    /// `a` holds `steps·MR·KU` and `b` `steps·NR·KU` values; `c` addresses an MR×NR tile with row
    /// stride `ldc`; the CPU has the kernel's target features.
    unsafe fn tile(
        steps: usize,
        a: *const Self::PA,
        b: *const Self::PB,
        c: *mut Self::Out,
        ldc: usize,
        first: bool,
        last: bool,
    );
}

/// C's storage shared by the tasks, each of which writes its own disjoint tiles.
#[derive(Clone, Copy)]
struct CPtr<T>(*mut T);
// SAFETY: tasks write disjoint tiles of C (distinct row blocks or column panels), and B panels
// under the protocol of the `panel` closure in `gemm`.
unsafe impl<T: Send> Send for CPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for CPtr<T> {}

thread_local! {
    /// Each thread's packed-A buffer, reused across blocks and calls (bytes, reinterpreted).
    static A_PACK: RefCell<Vec<u128>> = const { RefCell::new(Vec::new()) };
    /// The calling thread's packed-B buffer, likewise: fresh pages cost more than the packing.
    static B_PACK: RefCell<Vec<u128>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with one of the thread-local buffers, or with a fresh one if this thread is already
/// using it (a product started from inside another one's task on the same thread).
fn with_buffer<R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<u128>>>,
    f: impl FnOnce(&mut Vec<u128>) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}

/// A zeroed-on-demand slice of `len` `T`s in one of the thread-local buffers.
///
/// # Safety
/// `T` is a plain number type (any bit pattern valid, alignment ≤ 16).
unsafe fn scratch<T>(buf: &mut Vec<u128>, len: usize) -> &mut [T] {
    let words = (len * size_of::<T>()).div_ceil(16);
    if buf.len() < words {
        buf.resize(words, 0);
    }
    // SAFETY: the buffer holds at least `len` Ts, 16-byte aligned; the caller vouches for T.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), len) }
}

/// `C = A·B` in the micro-kernel's arithmetic, C `m×n` row-major (overwritten).
///
/// # Safety
/// The CPU has `K`'s target features.
pub(crate) unsafe fn gemm<K: MicroKernel>(
    a: &[K::In],
    b: &[K::In],
    c: &mut [K::Out],
    m: usize,
    n: usize,
    k: usize,
) {
    assert_eq!((a.len(), b.len(), c.len()), (m * k, k * n, m * n));
    if k == 0 {
        c.fill(K::Out::default());
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let (mr, nr, ku) = (K::MR, K::NR, K::KU);
    let threads = rayon::current_num_threads().max(1);
    // Row blocks of whole MR panels, balanced to within one panel: at most MC rows each, at least
    // one per thread when m allows, and a multiple of the thread count.
    let row_panels = m.div_ceil(mr);
    let mut blocks = row_panels
        .div_ceil((K::MC / mr).max(1))
        .max(threads.min(row_panels));
    if blocks > threads {
        blocks = blocks.div_ceil(threads) * threads;
    }
    let blocks = blocks.min(row_panels);
    let block_rows = |blk: usize| {
        let (q0, q1) = (blk * row_panels / blocks, (blk + 1) * row_panels / blocks);
        (q0 * mr, (q1 * mr).min(m))
    };
    let cptr = CPtr(c.as_mut_ptr());
    with_buffer(&B_PACK, |bbuf| {
        for jc in (0..n).step_by(K::NC) {
            let nc = K::NC.min(n - jc);
            let panels = nc.div_ceil(nr);
            // Column groups split the row blocks further when there are few of them (small m).
            let groups = (2 * threads).div_ceil(blocks).clamp(1, panels);
            let per_group = panels.div_ceil(groups);
            for pc in (0..k).step_by(K::KC) {
                let kc = K::KC.min(k - pc);
                let steps = kc.div_ceil(ku);
                let panel_len = steps * nr * ku;
                // SAFETY: PB is a plain number type.
                let bpack: &mut [K::PB] = unsafe { scratch(bbuf, panels * panel_len) };
                // B's panels are packed by the tasks themselves, each panel once, by whichever
                // task needs it first (0 = to do, 1 = being packed, 2 = ready): no separate pass.
                let state: Vec<AtomicU8> = (0..panels).map(|_| AtomicU8::new(0)).collect();
                let bptr = CPtr(bpack.as_mut_ptr());
                let panel = |p: usize| -> &[K::PB] {
                    let bp = bptr;
                    // SAFETY: panel p is written only by the task that moved its state from 0 to
                    // 1, and read only once its state is 2 (release / acquire).
                    unsafe {
                        let ptr = bp.0.add(p * panel_len);
                        if state[p]
                            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
                            .is_ok()
                        {
                            let j0 = jc + p * nr;
                            let out = std::slice::from_raw_parts_mut(ptr, panel_len);
                            pack_b::<K>(b, n, j0, (jc + nc).min(j0 + nr), pc, pc + kc, out);
                            state[p].store(2, Ordering::Release);
                        } else {
                            while state[p].load(Ordering::Acquire) != 2 {
                                std::hint::spin_loop();
                            }
                        }
                        std::slice::from_raw_parts(ptr, panel_len)
                    }
                };
                run_tasks(blocks * groups, threads, |t| {
                    let (i0, i1) = block_rows(t / groups);
                    let g = t % groups;
                    let (p0, p1) = (g * per_group, ((g + 1) * per_group).min(panels));
                    if p0 >= p1 {
                        return;
                    }
                    with_buffer(&A_PACK, |buf| {
                        let a_len = (i1 - i0).div_ceil(mr) * steps * mr * ku;
                        // SAFETY: PA is a plain number type.
                        let apack: &mut [K::PA] = unsafe { scratch(buf, a_len) };
                        for (q, out) in apack.chunks_mut(steps * mr * ku).enumerate() {
                            let r0 = i0 + q * mr;
                            pack_a::<K>(a, k, r0, (r0 + mr).min(i1), pc, pc + kc, out);
                        }
                        let c = cptr;
                        // Tasks start at different panels, so they pack different ones at once.
                        for i in 0..p1 - p0 {
                            let p = p0 + (i + t) % (p1 - p0);
                            let j0 = jc + p * nr;
                            let cols = nr.min(jc + nc - j0);
                            let bp = panel(p);
                            for (q, ap) in apack.chunks(steps * mr * ku).enumerate() {
                                let r0 = i0 + q * mr;
                                let h = mr.min(i1 - r0);
                                // SAFETY: the tile lies inside C and belongs to this task alone;
                                // the panels hold `steps` steps; the caller vouches for the CPU.
                                unsafe {
                                    run_tile::<K>(
                                        steps,
                                        ap,
                                        bp,
                                        c.0.add(r0 * n + j0),
                                        n,
                                        h,
                                        cols,
                                        (pc == 0, pc + kc == k),
                                    )
                                };
                            }
                        }
                    });
                });
            }
        }
    });
}

/// Runs `task(0..count)` on the calling thread and up to `threads − 1` rayon workers, each taking
/// the next task from a shared counter. The caller starts at once instead of waiting for the pool
/// to wake (tens of µs, a large share of a small product), and whoever is running takes the
/// remaining tasks, so a slow wake-up costs nothing but that worker's share.
fn run_tasks(count: usize, threads: usize, task: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    let work = || loop {
        let t = next.fetch_add(1, Ordering::Relaxed);
        if t >= count {
            break;
        }
        task(t);
    };
    rayon::in_place_scope(|s| {
        for _ in 1..threads.min(count) {
            s.spawn(|_| work());
        }
        work();
    });
}

/// One tile, straight into C when it is whole, through a scratch tile at the edges; `first` for
/// the first K block (C is written, not read), `last` for the last.
///
/// # Safety
/// As for [`MicroKernel::tile`], with `h ≤ MR` rows and `w ≤ NR` columns of C valid at `c`.
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn run_tile<K: MicroKernel>(
    steps: usize,
    a: &[K::PA],
    b: &[K::PB],
    c: *mut K::Out,
    ldc: usize,
    h: usize,
    w: usize,
    (first, last): (bool, bool),
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if h == K::MR && w == K::NR {
            K::tile(steps, a.as_ptr(), b.as_ptr(), c, ldc, first, last);
        } else {
            let mut scratch = [K::Out::default(); 32 * 32];
            debug_assert!(K::MR * K::NR <= scratch.len());
            if !first {
                for r in 0..h {
                    std::ptr::copy_nonoverlapping(
                        c.add(r * ldc),
                        scratch.as_mut_ptr().add(r * K::NR),
                        w,
                    );
                }
            }
            K::tile(
                steps,
                a.as_ptr(),
                b.as_ptr(),
                scratch.as_mut_ptr(),
                K::NR,
                first,
                last,
            );
            for r in 0..h {
                std::ptr::copy_nonoverlapping(scratch.as_ptr().add(r * K::NR), c.add(r * ldc), w);
            }
        }
    }
}

/// Packs rows `r0..r1` (≤ MR) of A (row stride `lda`) over k `k0..k1` into one panel.
fn pack_a<K: MicroKernel>(
    a: &[K::In],
    lda: usize,
    r0: usize,
    r1: usize,
    k0: usize,
    k1: usize,
    out: &mut [K::PA],
) {
    let (mr, ku) = (K::MR, K::KU);
    let zero = K::pa(K::In::default());
    let empty: &[K::In] = &[];
    let mut rows = [empty; 32];
    for (r, row) in rows.iter_mut().enumerate().take(r1 - r0) {
        *row = &a[(r0 + r) * lda + k0..(r0 + r) * lda + k1];
    }
    let kc = k1 - k0;
    for (s, chunk) in out.chunks_exact_mut(mr * ku).enumerate() {
        let kk = s * ku;
        if kk + ku <= kc {
            for (r, dst) in chunk.chunks_exact_mut(ku).enumerate() {
                match rows[r].get(kk..kk + ku) {
                    Some(src) => {
                        for (d, &v) in dst.iter_mut().zip(src) {
                            *d = K::pa(v);
                        }
                    }
                    None => dst.fill(zero),
                }
            }
        } else {
            for (r, dst) in chunk.chunks_exact_mut(ku).enumerate() {
                for (u, d) in dst.iter_mut().enumerate() {
                    *d = rows[r].get(kk + u).map_or(zero, |&v| K::pa(v));
                }
            }
        }
    }
}

/// Packs columns `j0..j1` (≤ NR) of B (row stride `ldb`) over k `k0..k1` into one panel.
fn pack_b<K: MicroKernel>(
    b: &[K::In],
    ldb: usize,
    j0: usize,
    j1: usize,
    k0: usize,
    k1: usize,
    out: &mut [K::PB],
) {
    let (nr, ku) = (K::NR, K::KU);
    let zero = K::pb(K::In::default());
    let w = j1 - j0;
    for (s, chunk) in out.chunks_exact_mut(nr * ku).enumerate() {
        for u in 0..ku {
            let kk = k0 + s * ku + u;
            if kk >= k1 {
                for j in 0..nr {
                    chunk[j * ku + u] = zero;
                }
                continue;
            }
            let src = &b[kk * ldb + j0..kk * ldb + j1];
            if ku == 1 {
                for (d, &v) in chunk[..w].iter_mut().zip(src) {
                    *d = K::pb(v);
                }
                chunk[w..].fill(zero);
            } else {
                for (j, &v) in src.iter().enumerate() {
                    chunk[j * ku + u] = K::pb(v);
                }
                for j in w..nr {
                    chunk[j * ku + u] = zero;
                }
            }
        }
    }
}
