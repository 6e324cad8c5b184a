//! The CUDA kernels' source compiled as C++ (see `cuda_emu.h`) and launched with the CUDA
//! backend's geometry ([`super::geometry`]) on CPU threads: how CI executes the GPU code without
//! a GPU. Small grids only — every block's threads are OS threads.

use concord_client::kernels::{KernelParams, Limits};

use super::geometry::{self, Launch};
use crate::kernels::{check_input, f32_bytes, to_f32, KernelError};

extern "C" {
    fn concord_emu_matmul_f32(
        gx: u32,
        gy: u32,
        bx: u32,
        by: u32,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        m: u32,
        n: u32,
        k: u32,
        row0: u32,
    );
    fn concord_emu_matmul_i8(
        gx: u32,
        gy: u32,
        bx: u32,
        by: u32,
        a: *const i8,
        b: *const i8,
        c: *mut i32,
        m: u32,
        n: u32,
        k: u32,
        row0: u32,
    );
    fn concord_emu_bias_relu(
        gx: u32,
        gy: u32,
        bx: u32,
        by: u32,
        y: *mut f32,
        b: *const f32,
        rows: u32,
        cols: u32,
    );
    fn concord_emu_mandelbrot(
        gx: u32,
        gy: u32,
        bx: u32,
        by: u32,
        out: *mut u32,
        w: u32,
        h: u32,
        cx: f64,
        cy: f64,
        scale: f64,
        max_iter: u32,
        row0: u32,
    );
    fn concord_emu_sha256_batch(
        gx: u32,
        gy: u32,
        bx: u32,
        by: u32,
        input: *const u8,
        out: *mut u8,
        count: u32,
        len: u32,
        first: u32,
    );
}

fn matmul_f32(a: &[f32], b: &[f32], m: u32, n: u32, k: u32) -> Vec<f32> {
    assert_eq!((a.len(), b.len()), ((m * k) as usize, (k * n) as usize));
    let mut c = vec![0.0f32; (m * n) as usize];
    for Launch {
        grid,
        block,
        offset,
    } in geometry::matmul(m, n, k)
    {
        // SAFETY: the slices have exactly the sizes the kernel indexes.
        unsafe {
            concord_emu_matmul_f32(
                grid.0,
                grid.1,
                block.0,
                block.1,
                a.as_ptr(),
                b.as_ptr(),
                c.as_mut_ptr(),
                m,
                n,
                k,
                offset,
            )
        };
    }
    c
}

/// Runs `params` on `input` through the emulated kernels, after the same checks as the CPU
/// backend (parameters within the limits, input of exactly the parameters' size).
pub fn run(params: &KernelParams, input: &[u8]) -> Result<Vec<u8>, KernelError> {
    check_input(params, input, &Limits::default())?;
    Ok(match params {
        KernelParams::MatmulF32 { m, n, k } => {
            let f = to_f32(input);
            let (a, b) = f.split_at((m * k) as usize);
            f32_bytes(&matmul_f32(a, b, *m, *n, *k))
        }
        KernelParams::MatmulI8 { m, n, k } => {
            let (a, b) = input.split_at((m * k) as usize);
            let mut c = vec![0i32; (m * n) as usize];
            for Launch {
                grid,
                block,
                offset,
            } in geometry::matmul(*m, *n, *k)
            {
                // SAFETY: sizes as above; i8 and u8 share a layout.
                unsafe {
                    concord_emu_matmul_i8(
                        grid.0,
                        grid.1,
                        block.0,
                        block.1,
                        a.as_ptr().cast(),
                        b.as_ptr().cast(),
                        c.as_mut_ptr(),
                        *m,
                        *n,
                        *k,
                        offset,
                    )
                };
            }
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
                let Launch { grid, block, .. } = geometry::bias_relu(*batch, out);
                // SAFETY: y is batch×out, the bias has out entries.
                unsafe {
                    concord_emu_bias_relu(
                        grid.0,
                        grid.1,
                        block.0,
                        block.1,
                        y.as_mut_ptr(),
                        f[l.bias..].as_ptr(),
                        *batch,
                        out,
                    )
                };
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
            for Launch {
                grid,
                block,
                offset,
            } in geometry::mandelbrot(*width, *height, *max_iter)
            {
                // SAFETY: out is width×height.
                unsafe {
                    concord_emu_mandelbrot(
                        grid.0,
                        grid.1,
                        block.0,
                        block.1,
                        out.as_mut_ptr(),
                        *width,
                        *height,
                        *cx,
                        *cy,
                        *scale,
                        *max_iter,
                        offset,
                    )
                };
            }
            out.iter().flat_map(|v| v.to_le_bytes()).collect()
        }
        KernelParams::Sha256Batch { count, len } => {
            let mut out = vec![0u8; *count as usize * 32];
            for Launch {
                grid,
                block,
                offset,
            } in geometry::sha256_batch(*count, *len)
            {
                // SAFETY: input is count×len bytes, out count×32.
                unsafe {
                    concord_emu_sha256_batch(
                        grid.0,
                        grid.1,
                        block.0,
                        block.1,
                        input.as_ptr(),
                        out.as_mut_ptr(),
                        *count,
                        *len,
                        offset,
                    )
                };
            }
            out
        }
    })
}
