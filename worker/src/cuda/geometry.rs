//! Launch geometry of the CUDA kernels, shared by the CUDA backend and the CPU emulation so both
//! run the same grids. Every kernel's work is cut into bounded launches (pieces): a single launch
//! never holds the GPU long enough to meet a display watchdog, whatever the parameters.

/// Output rows and columns per block of `matmul_f32` / `matmul_i8` (`CONCORD_BM`, `CONCORD_BN`).
pub const MATMUL_TILE: u32 = 128;
/// Threads per block of the matmul kernels (`CONCORD_THREADS`).
pub const MATMUL_THREADS: u32 = 256;
/// Multiply-adds per matmul launch, at most (a whole 128-row band is the smallest piece): about
/// 0.1 s on a 1 TFLOP/s GPU, and still hundreds of blocks per launch on an H100 at n = 8192.
pub const MATMUL_MACS_PER_LAUNCH: u64 = 1 << 36;
/// Escape-time iterations per mandelbrot launch, at most (a 16-row band is the smallest piece).
pub const MANDELBROT_ITERS_PER_LAUNCH: u64 = 1 << 30;
/// Message bytes per sha256_batch launch, at most (one message is the smallest piece).
pub const SHA256_BYTES_PER_LAUNCH: u64 = 1 << 28;

/// One kernel launch: grid and block sizes, and where its piece starts (`row0` / `first`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Launch {
    pub grid: (u32, u32),
    pub block: (u32, u32),
    pub offset: u32,
}

/// Splits `total` units into pieces of at most `per` (≥ `step`, a multiple of `step`).
fn pieces(total: u32, step: u32, per: u64) -> impl Iterator<Item = (u32, u32)> {
    let per = ((per / u64::from(step)).max(1) * u64::from(step)).min(u64::from(u32::MAX)) as u32;
    (0..total.div_ceil(per)).map(move |i| {
        let start = i * per;
        (start, per.min(total - start))
    })
}

/// `matmul_f32` / `matmul_i8` launches for an m×n×k product: bands of 128-row tiles.
pub fn matmul(m: u32, n: u32, k: u32) -> Vec<Launch> {
    let macs_per_row = u64::from(n) * u64::from(k);
    let rows = MATMUL_MACS_PER_LAUNCH / macs_per_row.max(1);
    pieces(m, MATMUL_TILE, rows)
        .map(|(row0, rows)| Launch {
            grid: (n.div_ceil(MATMUL_TILE), rows.div_ceil(MATMUL_TILE)),
            block: (MATMUL_THREADS, 1),
            offset: row0,
        })
        .collect()
}

/// The `bias_relu` launch over a rows×cols activation.
pub fn bias_relu(rows: u32, cols: u32) -> Launch {
    Launch {
        grid: ((rows * cols).div_ceil(256).max(1), 1),
        block: (256, 1),
        offset: 0,
    }
}

/// `mandelbrot` launches: 16×16 blocks, bands of rows.
pub fn mandelbrot(width: u32, height: u32, max_iter: u32) -> Vec<Launch> {
    let per_row = u64::from(width) * u64::from(max_iter);
    pieces(height, 16, MANDELBROT_ITERS_PER_LAUNCH / per_row.max(1))
        .map(|(row0, rows)| Launch {
            grid: (width.div_ceil(16), rows.div_ceil(16)),
            block: (16, 16),
            offset: row0,
        })
        .collect()
}

/// `sha256_batch` launches: 128 messages per block, runs of messages.
pub fn sha256_batch(count: u32, len: u32) -> Vec<Launch> {
    pieces(count, 1, SHA256_BYTES_PER_LAUNCH / u64::from(len).max(64))
        .map(|(first, msgs)| Launch {
            grid: (msgs.div_ceil(128), 1),
            block: (128, 1),
            offset: first,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_work_once_and_stay_bounded() {
        for (m, n, k) in [
            (1, 1, 1),
            (128, 128, 128),
            (16_384, 16_384, 16_384),
            (300, 7, 1),
        ] {
            let launches = matmul(m, n, k);
            let mut next = 0;
            for l in &launches {
                assert_eq!(l.offset, next);
                assert_eq!(l.grid.0, n.div_ceil(128));
                next = (l.offset + l.grid.1 * 128).min(m);
                let macs = u64::from(l.grid.1) * 128 * u64::from(n) * u64::from(k);
                assert!(
                    macs <= MATMUL_MACS_PER_LAUNCH || l.grid.1 == 1,
                    "{m}x{n}x{k}"
                );
            }
            assert_eq!(next, m);
        }
        // 2^28 multiply-adds per row: 256-row bands, 64 launches.
        assert_eq!(matmul(16_384, 16_384, 16_384).len(), 64);
        let bands = mandelbrot(16_384, 16_384, 1_000_000);
        assert_eq!(bands.len(), 16_384 / 16);
        assert!(bands.iter().all(|l| l.grid.1 == 1));
        let runs = sha256_batch(1 << 20, 1024);
        assert_eq!(runs.last().map(|l| l.offset), Some((1 << 20) - (1 << 18)));
        assert_eq!(sha256_batch(1, 1 << 30).len(), 1);
    }
}
