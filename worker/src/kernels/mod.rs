//! The kernel catalogue's CPU backend: the reference semantics of docs/protocol.md, made fast
//! (multithreaded with rayon, cache-friendly loop orders that keep every reduction's order), so
//! its bytes are the protocol's bytes.
//!
//! Every kernel takes the decoded parameters and the input bytes and returns the output bytes;
//! sizes are checked against the parameters first, so untrusted input never drives allocation.

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

/// Runs the kernel on the CPU backend.
pub fn run_cpu(
    params: &KernelParams,
    input: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, KernelError> {
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
    Ok(match params {
        KernelParams::MatmulF32 { m, n, k } => {
            let (a, b) = split_f32(input, (*m as usize) * (*k as usize));
            let c = matmul::matmul_f32(&a, &b, *m as usize, *n as usize, *k as usize);
            f32_bytes(&c)
        }
        KernelParams::MatmulI8 { m, n, k } => {
            let (a, b) = input.split_at((*m as usize) * (*k as usize));
            let a: Vec<i8> = a.iter().map(|&x| x as i8).collect();
            let b: Vec<i8> = b.iter().map(|&x| x as i8).collect();
            let c = matmul::matmul_i8(&a, &b, *m as usize, *n as usize, *k as usize);
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

fn split_f32(bytes: &[u8], first: usize) -> (Vec<f32>, Vec<f32>) {
    let all = to_f32(bytes);
    let (a, b) = all.split_at(first);
    (a.to_vec(), b.to_vec())
}

pub(crate) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
