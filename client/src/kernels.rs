//! Concord's kernel catalogue v1: names, ids and the byte encoding of each kernel's parameters
//! (≤ 64 bytes on chain), with the sizes of its input and output.
//!
//! Encodings are little-endian. Inputs and outputs are row-major:
//!
//! | kernel | params | input | output |
//! |---|---|---|---|
//! | `matmul_f32` | m, n, k: u32 | A (m×k f32) ‖ B (k×n f32) | C (m×n f32) |
//! | `matmul_i8` | m, n, k: u32 | A (m×k i8) ‖ B (k×n i8) | C (m×n i32, wrapping) |
//! | `mlp_f32` | batch: u32, count: u8, sizes: count × u32 | per layer l: W_l (s_l×s_{l+1} f32) ‖ b_l (s_{l+1} f32); then X (batch×s_0 f32) | Y (batch×s_last f32) |
//! | `mandelbrot` | width, height: u32, cx, cy, scale: f64, max_iter: u32 | empty | width×height u32 |
//! | `sha256_batch` | count, len: u32 | count messages of len bytes | count × 32 bytes |
//!
//! Every size is bounded ([`Limits`]) before anything is allocated, so untrusted parameters
//! cannot ask for unbounded memory.

use std::fmt;
use std::str::FromStr;

use concord::constants::kernel as ids;

use crate::error::{ClientError, Result};

/// A kernel of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `matmul_f32`: C = A·B in f32 with an fma fold over k.
    MatmulF32,
    /// `matmul_i8`: i8 inputs, wrapping i32 accumulation.
    MatmulI8,
    /// `mlp_f32`: dense layers with bias and ReLU.
    MlpF32,
    /// `mandelbrot`: f64 escape-time iteration counts.
    Mandelbrot,
    /// `sha256_batch`: digests of fixed-length messages.
    Sha256Batch,
}

impl Kernel {
    /// Every kernel of catalogue v1.
    pub const ALL: [Kernel; 5] = [
        Kernel::MatmulF32,
        Kernel::MatmulI8,
        Kernel::MlpF32,
        Kernel::Mandelbrot,
        Kernel::Sha256Batch,
    ];

    /// On-chain id.
    pub fn id(self) -> u8 {
        match self {
            Kernel::MatmulF32 => ids::MATMUL_F32,
            Kernel::MatmulI8 => ids::MATMUL_I8,
            Kernel::MlpF32 => ids::MLP_F32,
            Kernel::Mandelbrot => ids::MANDELBROT,
            Kernel::Sha256Batch => ids::SHA256_BATCH,
        }
    }

    /// The kernel with on-chain id `id`.
    pub fn from_id(id: u8) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.id() == id)
    }

    /// The catalogue name, e.g. `matmul_f32`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::MatmulF32 => "matmul_f32",
            Kernel::MatmulI8 => "matmul_i8",
            Kernel::MlpF32 => "mlp_f32",
            Kernel::Mandelbrot => "mandelbrot",
            Kernel::Sha256Batch => "sha256_batch",
        }
    }

    /// The parameter keys `KernelParams::parse` expects for this kernel.
    pub fn param_help(self) -> &'static str {
        match self {
            Kernel::MatmulF32 | Kernel::MatmulI8 => "m=<rows>,n=<cols>,k=<inner>",
            Kernel::MlpF32 => "batch=<rows>,layers=<s0>x<s1>x...x<sL> (2 to 14 sizes)",
            Kernel::Mandelbrot => {
                "width=<px>,height=<px>,cx=<f64>,cy=<f64>,scale=<f64>,max_iter=<n>"
            }
            Kernel::Sha256Batch => "count=<messages>,len=<bytes per message>",
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kernel {
    type Err = ClientError;
    fn from_str(s: &str) -> Result<Kernel> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Kernel::ALL.iter().map(|k| k.name()).collect();
                ClientError::InvalidInput(format!(
                    "unknown kernel '{s}'; the catalogue has: {}",
                    names.join(", ")
                ))
            })
    }
}

/// Bounds on what a job may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest matrix dimension / layer width / image side.
    pub max_dim: u32,
    /// Largest input or output, in bytes.
    pub max_bytes: u64,
    /// Largest mandelbrot `max_iter`.
    pub max_iter: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_dim: 16_384,
            max_bytes: 1 << 30,
            max_iter: 1_000_000,
        }
    }
}

/// Maximum number of layer sizes of an MLP (5 + 4 × 14 ≤ 64 bytes).
pub const MLP_MAX_SIZES: usize = 14;

/// Decoded parameters of a kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum KernelParams {
    /// Parameters of `matmul_f32`.
    MatmulF32 {
        /// Rows of A and C.
        m: u32,
        /// Columns of B and C.
        n: u32,
        /// Columns of A, rows of B.
        k: u32,
    },
    /// Parameters of `matmul_i8`.
    MatmulI8 {
        /// Rows of A and C.
        m: u32,
        /// Columns of B and C.
        n: u32,
        /// Columns of A, rows of B.
        k: u32,
    },
    /// Parameters of `mlp_f32`.
    MlpF32 {
        /// Rows of the input batch.
        batch: u32,
        /// Layer widths s_0 (input) … s_L (output).
        sizes: Vec<u32>,
    },
    /// Parameters of `mandelbrot`.
    Mandelbrot {
        /// Image width in pixels.
        width: u32,
        /// Image height in pixels.
        height: u32,
        /// Real part of the image centre.
        cx: f64,
        /// Imaginary part of the image centre.
        cy: f64,
        /// Distance between neighbouring pixels.
        scale: f64,
        /// Iteration cap.
        max_iter: u32,
    },
    /// Parameters of `sha256_batch`.
    Sha256Batch {
        /// Number of messages.
        count: u32,
        /// Bytes per message.
        len: u32,
    },
}

fn invalid(msg: impl Into<String>) -> ClientError {
    ClientError::InvalidInput(msg.into())
}

impl KernelParams {
    /// The kernel these parameters belong to.
    pub fn kernel(&self) -> Kernel {
        match self {
            KernelParams::MatmulF32 { .. } => Kernel::MatmulF32,
            KernelParams::MatmulI8 { .. } => Kernel::MatmulI8,
            KernelParams::MlpF32 { .. } => Kernel::MlpF32,
            KernelParams::Mandelbrot { .. } => Kernel::Mandelbrot,
            KernelParams::Sha256Batch { .. } => Kernel::Sha256Batch,
        }
    }

    /// The on-chain encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        match self {
            KernelParams::MatmulF32 { m, n, k } | KernelParams::MatmulI8 { m, n, k } => {
                for v in [m, n, k] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            KernelParams::MlpF32 { batch, sizes } => {
                out.extend_from_slice(&batch.to_le_bytes());
                out.push(sizes.len() as u8);
                for s in sizes {
                    out.extend_from_slice(&s.to_le_bytes());
                }
            }
            KernelParams::Mandelbrot {
                width,
                height,
                cx,
                cy,
                scale,
                max_iter,
            } => {
                out.extend_from_slice(&width.to_le_bytes());
                out.extend_from_slice(&height.to_le_bytes());
                for v in [cx, cy, scale] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                out.extend_from_slice(&max_iter.to_le_bytes());
            }
            KernelParams::Sha256Batch { count, len } => {
                out.extend_from_slice(&count.to_le_bytes());
                out.extend_from_slice(&len.to_le_bytes());
            }
        }
        out
    }

    /// Decodes and validates the on-chain parameters of kernel `id`.
    pub fn decode(id: u8, bytes: &[u8], limits: &Limits) -> Result<KernelParams> {
        let kernel =
            Kernel::from_id(id).ok_or_else(|| invalid(format!("unknown kernel id {id}")))?;
        let mut r = Reader(bytes);
        let params = match kernel {
            Kernel::MatmulF32 | Kernel::MatmulI8 => {
                let (m, n, k) = (r.u32()?, r.u32()?, r.u32()?);
                if kernel == Kernel::MatmulF32 {
                    KernelParams::MatmulF32 { m, n, k }
                } else {
                    KernelParams::MatmulI8 { m, n, k }
                }
            }
            Kernel::MlpF32 => {
                let batch = r.u32()?;
                let count = r.u8()? as usize;
                if count > MLP_MAX_SIZES {
                    return Err(invalid(format!(
                        "mlp_f32 has at most {MLP_MAX_SIZES} layer sizes"
                    )));
                }
                let sizes = (0..count).map(|_| r.u32()).collect::<Result<Vec<_>>>()?;
                KernelParams::MlpF32 { batch, sizes }
            }
            Kernel::Mandelbrot => KernelParams::Mandelbrot {
                width: r.u32()?,
                height: r.u32()?,
                cx: r.f64()?,
                cy: r.f64()?,
                scale: r.f64()?,
                max_iter: r.u32()?,
            },
            Kernel::Sha256Batch => KernelParams::Sha256Batch {
                count: r.u32()?,
                len: r.u32()?,
            },
        };
        if !r.0.is_empty() {
            return Err(invalid(format!(
                "{kernel} parameters have {} trailing bytes",
                r.0.len()
            )));
        }
        params.validate(limits)?;
        Ok(params)
    }

    /// Parses `key=value,key=value` as the CLI takes it (see [`Kernel::param_help`]).
    pub fn parse(kernel: Kernel, text: &str) -> Result<KernelParams> {
        let mut kv = std::collections::BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| invalid(format!("parameter '{part}' is not key=value")))?;
            kv.insert(k.trim().to_string(), v.trim().to_string());
        }
        let take = |key: &str| -> Result<String> {
            kv.get(key).cloned().ok_or_else(|| {
                invalid(format!(
                    "{kernel} needs parameter '{key}' (expected {})",
                    kernel.param_help()
                ))
            })
        };
        fn num<T: FromStr>(key: &str, v: String) -> Result<T> {
            v.parse()
                .map_err(|_| invalid(format!("parameter '{key}': '{v}' is not a valid number")))
        }
        let allowed: &[&str] = match kernel {
            Kernel::MatmulF32 | Kernel::MatmulI8 => &["m", "n", "k"],
            Kernel::MlpF32 => &["batch", "layers"],
            Kernel::Mandelbrot => &["width", "height", "cx", "cy", "scale", "max_iter"],
            Kernel::Sha256Batch => &["count", "len"],
        };
        if let Some(extra) = kv.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(invalid(format!(
                "{kernel} has no parameter '{extra}' (expected {})",
                kernel.param_help()
            )));
        }
        let params = match kernel {
            Kernel::MatmulF32 | Kernel::MatmulI8 => {
                let (m, n, k) = (
                    num("m", take("m")?)?,
                    num("n", take("n")?)?,
                    num("k", take("k")?)?,
                );
                if kernel == Kernel::MatmulF32 {
                    KernelParams::MatmulF32 { m, n, k }
                } else {
                    KernelParams::MatmulI8 { m, n, k }
                }
            }
            Kernel::MlpF32 => KernelParams::MlpF32 {
                batch: num("batch", take("batch")?)?,
                sizes: take("layers")?
                    .split('x')
                    .map(|s| num("layers", s.trim().to_string()))
                    .collect::<Result<_>>()?,
            },
            Kernel::Mandelbrot => KernelParams::Mandelbrot {
                width: num("width", take("width")?)?,
                height: num("height", take("height")?)?,
                cx: num("cx", take("cx")?)?,
                cy: num("cy", take("cy")?)?,
                scale: num("scale", take("scale")?)?,
                max_iter: num("max_iter", take("max_iter")?)?,
            },
            Kernel::Sha256Batch => KernelParams::Sha256Batch {
                count: num("count", take("count")?)?,
                len: num("len", take("len")?)?,
            },
        };
        params.validate(&Limits::default())?;
        Ok(params)
    }

    /// Checks every dimension against `limits` (and that input and output fit in them).
    pub fn validate(&self, limits: &Limits) -> Result<()> {
        let kernel = self.kernel();
        let dim = |name: &str, v: u32| -> Result<()> {
            if v == 0 || v > limits.max_dim {
                Err(invalid(format!(
                    "{kernel}: {name} = {v} is outside 1..={}",
                    limits.max_dim
                )))
            } else {
                Ok(())
            }
        };
        match self {
            KernelParams::MatmulF32 { m, n, k } | KernelParams::MatmulI8 { m, n, k } => {
                dim("m", *m)?;
                dim("n", *n)?;
                dim("k", *k)?;
            }
            KernelParams::MlpF32 { batch, sizes } => {
                dim("batch", *batch)?;
                if !(2..=MLP_MAX_SIZES).contains(&sizes.len()) {
                    return Err(invalid(format!(
                        "mlp_f32 needs 2 to {MLP_MAX_SIZES} layer sizes, got {}",
                        sizes.len()
                    )));
                }
                for s in sizes {
                    dim("layer size", *s)?;
                }
            }
            KernelParams::Mandelbrot {
                width,
                height,
                cx,
                cy,
                scale,
                max_iter,
            } => {
                dim("width", *width)?;
                dim("height", *height)?;
                if !(cx.is_finite() && cy.is_finite() && scale.is_finite() && *scale > 0.0) {
                    return Err(invalid(
                        "mandelbrot: cx, cy must be finite and scale finite and > 0",
                    ));
                }
                if *max_iter == 0 || *max_iter > limits.max_iter {
                    return Err(invalid(format!(
                        "mandelbrot: max_iter = {max_iter} is outside 1..={}",
                        limits.max_iter
                    )));
                }
            }
            KernelParams::Sha256Batch { count, len } => {
                if *count == 0 {
                    return Err(invalid("sha256_batch: count must be at least 1"));
                }
                let _ = len; // zero-length messages are allowed
            }
        }
        for (what, bytes) in [("input", self.input_len()), ("output", self.output_len())] {
            match bytes {
                Some(b) if b <= limits.max_bytes => {}
                _ => {
                    return Err(invalid(format!(
                        "{kernel}: the {what} would exceed {} bytes",
                        limits.max_bytes
                    )))
                }
            }
        }
        Ok(())
    }

    /// Exact input size in bytes (`None` on overflow).
    pub fn input_len(&self) -> Option<u64> {
        let m = |a: u32, b: u32| u64::from(a).checked_mul(u64::from(b));
        match self {
            KernelParams::MatmulF32 { m: rows, n, k } => {
                m(*rows, *k)?.checked_add(m(*k, *n)?)?.checked_mul(4)
            }
            KernelParams::MatmulI8 { m: rows, n, k } => m(*rows, *k)?.checked_add(m(*k, *n)?),
            KernelParams::MlpF32 { batch, sizes } => {
                let mut floats = m(*batch, *sizes.first()?)?;
                for w in sizes.windows(2) {
                    floats = floats
                        .checked_add(m(w[0], w[1])?)?
                        .checked_add(u64::from(w[1]))?;
                }
                floats.checked_mul(4)
            }
            KernelParams::Mandelbrot { .. } => Some(0),
            KernelParams::Sha256Batch { count, len } => m(*count, *len),
        }
    }

    /// Exact output size in bytes (`None` on overflow).
    pub fn output_len(&self) -> Option<u64> {
        let m = |a: u32, b: u32| u64::from(a).checked_mul(u64::from(b));
        match self {
            KernelParams::MatmulF32 { m: rows, n, .. }
            | KernelParams::MatmulI8 { m: rows, n, .. } => m(*rows, *n)?.checked_mul(4),
            KernelParams::MlpF32 { batch, sizes } => m(*batch, *sizes.last()?)?.checked_mul(4),
            KernelParams::Mandelbrot { width, height, .. } => m(*width, *height)?.checked_mul(4),
            KernelParams::Sha256Batch { count, .. } => u64::from(*count).checked_mul(32),
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        if self.0.len() < N {
            return Err(invalid("kernel parameters are too short"));
        }
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        Ok(head.try_into().expect("length checked"))
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.take()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_round_trips_within_64_bytes() {
        let all = [
            KernelParams::MatmulF32 { m: 3, n: 5, k: 7 },
            KernelParams::MatmulI8 { m: 1, n: 1, k: 1 },
            KernelParams::MlpF32 {
                batch: 4,
                sizes: vec![16; MLP_MAX_SIZES],
            },
            KernelParams::Mandelbrot {
                width: 64,
                height: 48,
                cx: -0.5,
                cy: 0.0,
                scale: 0.01,
                max_iter: 256,
            },
            KernelParams::Sha256Batch { count: 10, len: 0 },
        ];
        for p in all {
            let bytes = p.encode();
            assert!(bytes.len() <= concord::constants::MAX_PARAMS_LEN);
            assert_eq!(
                KernelParams::decode(p.kernel().id(), &bytes, &Limits::default()).unwrap(),
                p
            );
        }
    }

    #[test]
    fn sizes() {
        let p = KernelParams::MatmulF32 { m: 2, n: 3, k: 4 };
        assert_eq!(
            (p.input_len(), p.output_len()),
            (Some((8 + 12) * 4), Some(24))
        );
        let p = KernelParams::MlpF32 {
            batch: 2,
            sizes: vec![3, 4, 1],
        };
        // X 2×3, W0 3×4 + b0 4, W1 4×1 + b1 1
        assert_eq!(p.input_len(), Some((6 + 12 + 4 + 4 + 1) * 4));
        assert_eq!(p.output_len(), Some(8));
    }

    #[test]
    fn parse_and_reject_with_clear_messages() {
        assert_eq!(
            KernelParams::parse(Kernel::MatmulF32, "m=2, n=3,k=4").unwrap(),
            KernelParams::MatmulF32 { m: 2, n: 3, k: 4 }
        );
        assert_eq!(
            KernelParams::parse(Kernel::MlpF32, "batch=8,layers=16x32x4").unwrap(),
            KernelParams::MlpF32 {
                batch: 8,
                sizes: vec![16, 32, 4]
            }
        );
        let e = KernelParams::parse(Kernel::MatmulF32, "m=2,n=3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs parameter 'k'"), "{e}");
        let e = KernelParams::parse(Kernel::MatmulF32, "m=2,n=3,k=x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid number"), "{e}");
        let e = KernelParams::parse(Kernel::MatmulF32, "m=0,n=3,k=4")
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside"), "{e}");
        let e = KernelParams::parse(Kernel::Sha256Batch, "count=1,len=2,z=3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no parameter 'z'"), "{e}");
        let e = "matmul".parse::<Kernel>().unwrap_err().to_string();
        assert!(e.contains("matmul_f32"), "{e}");
    }

    #[test]
    fn untrusted_sizes_are_bounded_before_allocation() {
        let huge = KernelParams::MatmulF32 {
            m: 16_384,
            n: 16_384,
            k: 16_384,
        };
        assert!(huge.validate(&Limits::default()).is_err());
        let p = KernelParams::Sha256Batch {
            count: u32::MAX,
            len: u32::MAX,
        };
        assert!(p.validate(&Limits::default()).is_err());
        assert!(KernelParams::decode(1, &[1, 0, 0, 0], &Limits::default()).is_err());
        assert!(KernelParams::decode(9, &[], &Limits::default()).is_err());
    }
}
