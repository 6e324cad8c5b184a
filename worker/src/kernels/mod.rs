//! The kernel catalogue's CPU backend: the reference semantics of docs/protocol.md, made fast
//! (multithreaded with rayon, cache-friendly loop orders that keep every reduction's order), so
//! its bytes are the protocol's bytes.
//!
//! Every kernel takes the decoded parameters and the input bytes and returns the output bytes;
//! sizes are checked against the parameters first, so untrusted input never drives allocation.

mod gemm;
#[cfg(target_arch = "x86_64")]
mod gemm_x86;
pub mod isa;
pub mod mandelbrot;
pub mod matmul;
pub mod mlp;
pub mod sha256_batch;

use concord_client::kernels::{KernelParams, Limits};

/// Why a kernel refused to run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KernelError {
    #[error("invalid parameters: {0}")]
    Params(String),
    #[error("{kernel} expects {expected} input bytes for these parameters, got {got}")]
    InputSize {
        kernel: &'static str,
        expected: u64,
        got: u64,
    },
}

/// The checks every backend makes before touching the input: the parameters are within the
/// limits and the input has exactly the size they imply (shorter or longer is refused, so no
/// backend slices past its end and no two backends disagree on what they accept).
pub fn check_input(
    params: &KernelParams,
    input: &[u8],
    limits: &Limits,
) -> Result<(), KernelError> {
    params
        .validate(limits)
        .map_err(|e| KernelError::Params(e.to_string()))?;
    let expected = params.input_len().expect("validated");
    if input.len() as u64 != expected {
        return Err(KernelError::InputSize {
            kernel: params.kernel().name(),
            expected,
            got: input.len() as u64,
        });
    }
    Ok(())
}

/// Runs the kernel on the CPU backend.
pub fn run_cpu(
    params: &KernelParams,
    input: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, KernelError> {
    check_input(params, input, limits)?;
    Ok(match params {
        KernelParams::MatmulF32 { m, n, k } => {
            let f = to_f32(input);
            let (a, b) = f.split_at((*m as usize) * (*k as usize));
            let c = matmul::matmul_f32(a, b, *m as usize, *n as usize, *k as usize);
            f32_bytes(&c)
        }
        KernelParams::MatmulI8 { m, n, k } => {
            let (a, b) = input.split_at((*m as usize) * (*k as usize));
            let c = matmul::matmul_i8(as_i8(a), as_i8(b), *m as usize, *n as usize, *k as usize);
            c.iter().flat_map(|v| v.to_le_bytes()).collect()
        }
        KernelParams::MlpF32 { batch, sizes } => {
            let floats: Vec<f32> = to_f32(input);
            f32_bytes(&mlp::mlp_f32(&floats, *batch as usize, sizes))
        }
        KernelParams::Mandelbrot {
            width,
            height,
            cx,
            cy,
            scale,
            max_iter,
        } => mandelbrot::mandelbrot(*width, *height, *cx, *cy, *scale, *max_iter)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        KernelParams::Sha256Batch { count, len } => {
            sha256_batch::sha256_batch(input, *count as usize, *len as usize)
        }
    })
}

pub(crate) fn to_f32(bytes: &[u8]) -> Vec<f32> {
    bytes
        .as_chunks::<4>()
        .0
        .iter()
        .map(|c| f32::from_le_bytes(*c))
        .collect()
}

/// The bytes as i8 (same size and alignment, every bit pattern valid).
pub(crate) fn as_i8(bytes: &[u8]) -> &[i8] {
    // SAFETY: u8 and i8 have the same layout.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), bytes.len()) }
}

pub(crate) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
