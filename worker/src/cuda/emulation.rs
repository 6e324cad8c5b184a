//! The CUDA kernels' source compiled as C++ (see `cuda_emu.h`) and launched with the CUDA
//! backend's geometry on CPU threads: how CI executes the GPU code without a GPU. Small grids
//! only — every block's threads are OS threads.

use concord_client::kernels::KernelParams;

use crate::kernels::{f32_bytes, to_f32};

extern "C" {
    fn concord_emu_matmul_f32(a: *const f32, b: *const f32, c: *mut f32, m: u32, n: u32, k: u32);
    fn concord_emu_matmul_i8(a: *const i8, b: *const i8, c: *mut i32, m: u32, n: u32, k: u32);
    fn concord_emu_bias_relu(y: *mut f32, b: *const f32, rows: u32, cols: u32);
    fn concord_emu_mandelbrot(
        out: *mut u32,
        w: u32,
        h: u32,
        cx: f64,
        cy: f64,
        scale: f64,
        max_iter: u32,
    );
    fn concord_emu_sha256_batch(input: *const u8, out: *mut u8, count: u32, len: u32);
}

fn matmul_f32(a: &[f32], b: &[f32], m: u32, n: u32, k: u32) -> Vec<f32> {
    assert_eq!((a.len(), b.len()), ((m * k) as usize, (k * n) as usize));
    let mut c = vec![0.0f32; (m * n) as usize];
    // SAFETY: the slices have exactly the sizes the kernel indexes.
    unsafe { concord_emu_matmul_f32(a.as_ptr(), b.as_ptr(), c.as_mut_ptr(), m, n, k) };
    c
}

/// Runs `params` on `input` (already validated: sizes match) through the emulated kernels.
pub fn run(params: &KernelParams, input: &[u8]) -> Vec<u8> {
    match params {
        KernelParams::MatmulF32 { m, n, k } => {
            let f = to_f32(input);
            let (a, b) = f.split_at((m * k) as usize);
            f32_bytes(&matmul_f32(a, b, *m, *n, *k))
        }
        KernelParams::MatmulI8 { m, n, k } => {
            let (a, b) = input.split_at((m * k) as usize);
            let mut c = vec![0i32; (m * n) as usize];
            // SAFETY: sizes as above; i8 and u8 share a layout.
            unsafe {
                concord_emu_matmul_i8(
                    a.as_ptr().cast(),
                    b.as_ptr().cast(),
                    c.as_mut_ptr(),
                    *m,
                    *n,
                    *k,
                )
            };
            c.iter().flat_map(|v| v.to_le_bytes()).collect()
        }
        KernelParams::MlpF32 { batch, sizes } => {
            let f = to_f32(input);
            let (layers, x_off) = crate::kernels::mlp::layout(sizes);
            let mut x = f[x_off..x_off + (*batch * sizes[0]) as usize].to_vec();
            for l in layers {
                let (inp, out) = (l.inputs as u32, l.outputs as u32);
                let mut y = matmul_f32(
                    &x,
                    &f[l.weights..l.weights + l.inputs * l.outputs],
                    *batch,
                    out,
                    inp,
                );
                // SAFETY: y is batch×out, the bias has out entries.
                unsafe { concord_emu_bias_relu(y.as_mut_ptr(), f[l.bias..].as_ptr(), *batch, out) };
                x = y;
            }
            f32_bytes(&x)
        }
        KernelParams::Mandelbrot {
            width,
            height,
            cx,
            cy,
            scale,
            max_iter,
        } => {
            let mut out = vec![0u32; (width * height) as usize];
            // SAFETY: out is width×height.
            unsafe {
                concord_emu_mandelbrot(
                    out.as_mut_ptr(),
                    *width,
                    *height,
                    *cx,
                    *cy,
                    *scale,
                    *max_iter,
                )
            };
            out.iter().flat_map(|v| v.to_le_bytes()).collect()
        }
        KernelParams::Sha256Batch { count, len } => {
            let mut out = vec![0u8; *count as usize * 32];
            // SAFETY: input is count×len bytes, out count×32.
            unsafe { concord_emu_sha256_batch(input.as_ptr(), out.as_mut_ptr(), *count, *len) };
            out
        }
    }
}
