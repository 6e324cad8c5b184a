//! Pricing: every kernel has a work measure computed from its parameters alone, the protocol's
//! work units; a job's price is its reward per worker per 10⁹ work units
//! (`WORK_UNIT_SCALE`), and a node is drawn only if its ask is at most that price.
//!
//! | kernel | work units |
//! |---|---|
//! | `matmul_f32`, `matmul_i8` (m, n, k) | 2·m·n·k |
//! | `mlp_f32` (batch, sizes) | Σ over layers 2·batch·sᵢ·sᵢ₊₁ |
//! | `mandelbrot` (width, height, …, max_iter) | width·height·max_iter |
//! | `sha256_batch` (count, len) | count · 64 · ⌈(len + 9) / 64⌉ (bytes hashed, padding included) |

use crate::constants::{kernel, BPS_DENOMINATOR, WORK_UNIT_SCALE};

/// Largest number of layer sizes of an `mlp_f32` job.
pub const MLP_MAX_SIZES: usize = 14;

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_at_checked(N)?;
        self.0 = rest;
        head.try_into().ok()
    }

    fn u32(&mut self) -> Option<u128> {
        self.take::<4>().map(|b| u128::from(u32::from_le_bytes(b)))
    }

    fn dim(&mut self) -> Option<u128> {
        self.u32().filter(|v| *v > 0)
    }
}

/// Work units of kernel `id` with encoded `params`; `None` if the params do not decode (wrong
/// length, a zero dimension) or the work does not fit in a u64.
pub fn work_units(id: u8, params: &[u8]) -> Option<u64> {
    let mut r = Reader(params);
    let work: u128 = match id {
        kernel::MATMUL_F32 | kernel::MATMUL_I8 => 2 * r.dim()? * r.dim()? * r.dim()?,
        kernel::MLP_F32 => {
            let batch = r.dim()?;
            let count = usize::from(r.take::<1>()?[0]);
            if !(2..=MLP_MAX_SIZES).contains(&count) {
                return None;
            }
            let sizes = (0..count).map(|_| r.dim()).collect::<Option<Vec<_>>>()?;
            sizes.windows(2).map(|w| 2 * batch * w[0] * w[1]).sum()
        }
        kernel::MANDELBROT => {
            let (w, h) = (r.dim()?, r.dim()?);
            r.take::<24>()?; // centre and scale (f64 × 3)
            w * h * r.dim()?
        }
        kernel::SHA256_BATCH => {
            let count = r.dim()?;
            let len = r.u32()?;
            count * 64 * (len + 9).div_ceil(64)
        }
        _ => return None,
    };
    if !r.0.is_empty() {
        return None;
    }
    u64::try_from(work).ok()
}

/// The price of a job: `reward × 10⁹ / work_units`, saturating at `u64::MAX`.
pub fn price(reward_per_worker: u64, work_units: u64) -> u64 {
    let p =
        u128::from(reward_per_worker) * u128::from(WORK_UNIT_SCALE) / u128::from(work_units.max(1));
    u64::try_from(p).unwrap_or(u64::MAX)
}

/// The smallest reward per worker at which a node asking `ask` is eligible for a job of
/// `work_units`: `ceil(ask × work_units / 10⁹)`; `None` if it exceeds a u64.
pub fn reward_for_ask(ask: u64, work_units: u64) -> Option<u64> {
    let r = (u128::from(ask) * u128::from(work_units)).div_ceil(u128::from(WORK_UNIT_SCALE));
    u64::try_from(r).ok()
}

/// `ceil(amount × bps / 10 000)`, `None` on overflow.
pub fn bps_of(amount: u64, bps: u64) -> Option<u64> {
    u64::try_from((u128::from(amount) * u128::from(bps)).div_ceil(BPS_DENOMINATOR)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(vals: &[u32]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn work_of_every_kernel() {
        assert_eq!(
            work_units(kernel::MATMUL_F32, &enc(&[64, 32, 16])),
            Some(2 * 64 * 32 * 16)
        );
        assert_eq!(work_units(kernel::MATMUL_I8, &enc(&[1, 1, 1])), Some(2));
        let mut mlp = enc(&[8]);
        mlp.push(3);
        mlp.extend(enc(&[4, 5, 2]));
        assert_eq!(
            work_units(kernel::MLP_F32, &mlp),
            Some(2 * 8 * (4 * 5 + 5 * 2))
        );
        let mut m = enc(&[100, 50]);
        m.extend([0u8; 24]);
        m.extend(enc(&[256]));
        assert_eq!(work_units(kernel::MANDELBROT, &m), Some(100 * 50 * 256));
        assert_eq!(
            work_units(kernel::SHA256_BATCH, &enc(&[10, 55])),
            Some(10 * 64)
        );
        assert_eq!(
            work_units(kernel::SHA256_BATCH, &enc(&[10, 56])),
            Some(10 * 128)
        );
        assert_eq!(work_units(kernel::SHA256_BATCH, &enc(&[1, 0])), Some(64));
    }

    #[test]
    fn malformed_params_have_no_work() {
        assert_eq!(work_units(kernel::MATMUL_F32, &enc(&[64, 0, 16])), None);
        assert_eq!(work_units(kernel::MATMUL_F32, &enc(&[64, 32])), None);
        assert_eq!(work_units(kernel::MATMUL_F32, &enc(&[64, 32, 16, 1])), None);
        assert_eq!(
            work_units(kernel::MATMUL_F32, &enc(&[u32::MAX; 3])),
            None,
            "overflow"
        );
        let mut mlp = enc(&[8]);
        mlp.push(1);
        mlp.extend(enc(&[4]));
        assert_eq!(work_units(kernel::MLP_F32, &mlp), None);
        assert_eq!(work_units(kernel::SHA256_BATCH, &enc(&[0, 5])), None);
        assert_eq!(work_units(0, &[]), None);
        assert_eq!(work_units(99, &enc(&[1, 1, 1])), None);
    }

    #[test]
    fn price_and_reward_for_ask_are_inverse() {
        let work = 2 * 64 * 64 * 64;
        let p = price(1_500_000, work);
        assert_eq!(p, 1_500_000 * WORK_UNIT_SCALE / work);
        let r = reward_for_ask(p, work).unwrap();
        assert!(price(r, work) >= p && r <= 1_500_000);
        assert_eq!(price(u64::MAX, 1), u64::MAX);
        assert_eq!(reward_for_ask(0, work), Some(0));
        assert_eq!(bps_of(30, 250), Some(1));
    }
}
