//! A BLIS-style GEMM driver shared by the SIMD paths of `matmul_f32` and `matmul_i8`.
//!
//! The tasks split C's columns into blocks of at most NC (and its rows into groups when the
//! column blocks are too few to keep every thread busy), and each task owns its tiles of C through
//! every block of KC k values, taken in k order, so the tasks never wait for one another. A's rows
//! are packed into MR-tall panels shared by all tasks (each panel packed once, by whichever task
//! needs it first). For each K block a task packs its block of B into NR-wide panels, which stay
//! in its core's L2, then for each A panel (held in L1) runs the micro-kernel on every MR×NR tile
//! of the block, streaming B's panels from L2. This is the BLIS plan with the roles of A and B
//! swapped, because the micro-kernels broadcast A and load B as vectors.
//!
//! The micro-kernel loads its tile of C, continues each element's accumulation over the block's k
//! values in order, and stores it; the next K block loads it again. So each `C[i][j]` sees exactly
//! the sequence `acc = acc ⊕ A[i][k]·B[k][j]`, k = 0..K, from zero: the definition's fold,
//! whatever the blocking or the number of threads. Padding rows and columns (edge tiles) are zeros
//! in the packed panels and computed in a scratch tile, so edges take the same fast kernel.

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
    /// k values per block (a multiple of KU).
    const KC: usize;
    /// Columns per B block at most: a block's packed panels (KC·NC values) stay in the core's L2
    /// while the A panels pass through L1.
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
// SAFETY: tasks write disjoint tiles of C (distinct column blocks or row groups), and A panels
// under the protocol of the `a_panel` closure in `gemm`.
unsafe impl<T: Send> Send for CPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for CPtr<T> {}

/// One cache line of a packing buffer: panels start on line boundaries, so the micro-kernels'
/// 64-byte vector loads never straddle two lines (a split load costs about twice as much).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

thread_local! {
    /// The calling thread's packed A, shared by the product's tasks, reused across calls (bytes,
    /// reinterpreted): fresh pages cost more than the packing.
    static A_PACK: RefCell<Vec<Line>> = const { RefCell::new(Vec::new()) };
    /// Each task thread's packed block of B, likewise reused across blocks and calls.
    static B_PACK: RefCell<Vec<Line>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with one of the thread-local buffers, or with a fresh one if this thread is already
/// using it (a product started from inside another one's task on the same thread).
fn with_buffer<R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<Line>>>,
    f: impl FnOnce(&mut Vec<Line>) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}

/// A zeroed-on-demand slice of `len` `T`s in one of the thread-local buffers.
///
/// # Safety
/// `T` is a plain number type (any bit pattern valid, alignment ≤ 64).
unsafe fn scratch<T>(buf: &mut Vec<Line>, len: usize) -> &mut [T] {
    let lines = (len * size_of::<T>()).div_ceil(64);
    if buf.len() < lines {
        buf.resize(lines, Line([0; 64]));
    }
    // SAFETY: the buffer holds at least `len` Ts, 64-byte aligned; the caller vouches for T.
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
    let (mr, nr, ku, kc_max) = (K::MR, K::NR, K::KU, K::KC);
    let threads = rayon::current_num_threads().max(1);
    let row_panels = m.div_ceil(mr);
    let col_panels = n.div_ceil(nr);
    // Column blocks of whole NR panels, balanced to within one panel: at most NC columns each
    // (a block's packed B stays in the core's L2), at least one per thread when n allows, and a
    // multiple of the thread count.
    let mut blocks = col_panels
        .div_ceil((K::NC / nr).max(1))
        .max(threads.min(col_panels));
    if blocks > threads {
        blocks = blocks.div_ceil(threads) * threads;
    }
    let blocks = blocks.min(col_panels);
    let block_panels = |blk: usize| (blk * col_panels / blocks, (blk + 1) * col_panels / blocks);
    // Row groups split the column blocks further when there are few of them (small n).
    let groups = (2 * threads).div_ceil(blocks).clamp(1, row_panels);
    let group_panels = |g: usize| (g * row_panels / groups, (g + 1) * row_panels / groups);
    // K blocks are taken in chunks whose packed A fits in A_CHUNK bytes (all of K, unless A is
    // very large). Within a chunk the tasks need not wait for each other: each owns its tiles of
    // C through every K block of the chunk.
    let panel_bytes = kc_max * mr * size_of::<K::PA>();
    let chunk_blocks = (A_CHUNK / (row_panels * panel_bytes)).max(1);
    let cptr = CPtr(c.as_mut_ptr());
    with_buffer(&A_PACK, |abuf| {
        for k0 in (0..k).step_by(chunk_blocks * kc_max) {
            let k1 = k.min(k0 + chunk_blocks * kc_max);
            let kblocks = (k1 - k0).div_ceil(kc_max);
            // Panel (kb, q): A's rows q·MR.. over the chunk's K block kb, at offset
            // (kb·row_panels + q)·KC·MR (a short last block leaves the rest of its slot unused).
            let slot = kc_max * mr;
            // SAFETY: PA is a plain number type.
            let apack: &mut [K::PA] = unsafe { scratch(abuf, kblocks * row_panels * slot) };
            // A's panels are shared by all tasks and packed by the tasks themselves, each panel
            // once, by whichever task needs it first (0 = to do, 1 = being packed, 2 = ready).
            let state: Vec<AtomicU8> = (0..kblocks * row_panels)
                .map(|_| AtomicU8::new(0))
                .collect();
            let aptr = CPtr(apack.as_mut_ptr());
            let a_panel = |kb: usize, q: usize| -> &[K::PA] {
                let ap = aptr;
                let i = kb * row_panels + q;
                let pc = k0 + kb * kc_max;
                let kc = kc_max.min(k1 - pc);
                let len = kc.div_ceil(ku) * mr * ku;
                // SAFETY: panel i is written only by the task that moved its state from 0 to 1,
                // and read only once its state is 2 (release / acquire).
                unsafe {
                    let ptr = ap.0.add(i * slot);
                    if state[i]
                        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        let r0 = q * mr;
                        let out = std::slice::from_raw_parts_mut(ptr, len);
                        pack_a::<K>(a, k, r0, (r0 + mr).min(m), pc, pc + kc, out);
                        state[i].store(2, Ordering::Release);
                    } else {
                        while state[i].load(Ordering::Acquire) != 2 {
                            std::hint::spin_loop();
                        }
                    }
                    std::slice::from_raw_parts(ptr, len)
                }
            };
            run_tasks(blocks * groups, threads, |t| {
                let (p0, p1) = block_panels(t / groups);
                let (q0, q1) = group_panels(t % groups);
                if p0 >= p1 || q0 >= q1 {
                    return;
                }
                with_buffer(&B_PACK, |buf| {
                    for kb in 0..kblocks {
                        let pc = k0 + kb * kc_max;
                        let kc = kc_max.min(k1 - pc);
                        let steps = kc.div_ceil(ku);
                        let b_len = steps * nr * ku;
                        // The task's block of B for this K block, which stays in its core's L2
                        // while the A panels pass through L1 one at a time.
                        // SAFETY: PB is a plain number type.
                        let bpack: &mut [K::PB] = unsafe { scratch(buf, (p1 - p0) * b_len) };
                        pack_b::<K>(b, n, p0 * nr, (p1 * nr).min(n), pc, pc + kc, b_len, bpack);
                        let c = cptr;
                        let ends = (pc == 0, pc + kc == k);
                        // Tasks start at different panels, so they pack different ones at once.
                        for i in 0..q1 - q0 {
                            let q = q0 + (i + t) % (q1 - q0);
                            let r0 = q * mr;
                            let h = mr.min(m - r0);
                            let ap = a_panel(kb, q);
                            for (p, bp) in bpack.chunks(b_len).enumerate() {
                                let j0 = (p0 + p) * nr;
                                let w = nr.min(n - j0);
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
                                        w,
                                        ends,
                                    )
                                };
                            }
                        }
                    }
                });
            });
        }
    });
}

/// The most packed A one pass of [`gemm`] holds; larger products take K in several passes.
const A_CHUNK: usize = 32 << 20;

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
            // The tile's own MR×NR corner of a buffer sized for the largest kernel: written
            // whole by the kernel when `first` (which then reads none of it), else loaded with
            // C's valid part over zeros.
            let mut buf = [std::mem::MaybeUninit::<K::Out>::uninit(); 32 * 32];
            debug_assert!(K::MR * K::NR <= buf.len());
            let scratch = buf.as_mut_ptr().cast::<K::Out>();
            if !first {
                std::ptr::write_bytes(scratch, 0, K::MR * K::NR);
                for r in 0..h {
                    std::ptr::copy_nonoverlapping(c.add(r * ldc), scratch.add(r * K::NR), w);
                }
            }
            K::tile(steps, a.as_ptr(), b.as_ptr(), scratch, K::NR, first, last);
            for r in 0..h {
                std::ptr::copy_nonoverlapping(scratch.add(r * K::NR), c.add(r * ldc), w);
            }
        }
    }
}

/// Packs rows `r0..r1` (≤ MR) of A (row stride `lda`) over k `k0..k1` into one panel, a step at
/// a time: the rows are read side by side, each in order, and the panel is written in order.
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
    let rows = &rows[..mr];
    // Whole steps of whole rows, then whatever is left (missing rows, a short last step).
    let whole = if r1 - r0 == mr { (k1 - k0) / ku } else { 0 };
    let (head, tail) = out.split_at_mut(whole * mr * ku);
    for (s, step) in head.chunks_exact_mut(mr * ku).enumerate() {
        for (dst, row) in step.chunks_exact_mut(ku).zip(rows) {
            for (d, &v) in dst.iter_mut().zip(&row[s * ku..(s + 1) * ku]) {
                *d = K::pa(v);
            }
        }
    }
    for (s, step) in tail.chunks_exact_mut(mr * ku).enumerate() {
        for (dst, row) in step.chunks_exact_mut(ku).zip(rows) {
            for (u, d) in dst.iter_mut().enumerate() {
                *d = row.get((whole + s) * ku + u).map_or(zero, |&v| K::pa(v));
            }
        }
    }
}

/// Packs columns `j0..j1` of B (row stride `ldb`) over k `k0..k1` into consecutive NR-wide panels
/// of `panel_len` values each (the last one padded with zeros). B is read a row at a time, across
/// the whole block, so the reads stream; each row's values go to every panel.
#[allow(clippy::too_many_arguments)]
fn pack_b<K: MicroKernel>(
    b: &[K::In],
    ldb: usize,
    j0: usize,
    j1: usize,
    k0: usize,
    k1: usize,
    panel_len: usize,
    out: &mut [K::PB],
) {
    let (nr, ku) = (K::NR, K::KU);
    let zero = K::pb(K::In::default());
    let steps = panel_len / (nr * ku);
    for s in 0..steps {
        for u in 0..ku {
            let kk = k0 + s * ku + u;
            let row = if kk < k1 {
                &b[kk * ldb + j0..kk * ldb + j1]
            } else {
                &[]
            };
            let mut src = row.chunks(nr);
            for panel in out.chunks_exact_mut(panel_len) {
                let dst = &mut panel[s * nr * ku..(s + 1) * nr * ku];
                let vals = src.next().unwrap_or(&[]);
                if ku == 1 {
                    for (d, &v) in dst.iter_mut().zip(vals) {
                        *d = K::pb(v);
                    }
                    dst[vals.len()..].fill(zero);
                } else {
                    for (j, d) in dst.iter_mut().skip(u).step_by(ku).enumerate() {
                        *d = vals.get(j).map_or(zero, |&v| K::pb(v));
                    }
                }
            }
        }
    }
}
