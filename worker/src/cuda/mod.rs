//! The CUDA backend (cudarc: driver API + NVRTC, both loaded dynamically).
//!
//! `kernels.cu` is compiled at start-up by NVRTC with `--fmad=false` for the device's own
//! architecture; the kernels write `fmaf` exactly where the protocol's definitions have an fma,
//! keep every reduction's order and use no atomics, so their bytes equal the CPU backend's.
//! Without a driver or a device, [`CudaBackend::detect`] says why and the worker falls back to
//! the CPU backend.

pub mod emulation;

use std::sync::Arc;

use concord_client::kernels::KernelParams;
use cudarc::driver::{CudaContext, CudaFunction, CudaStream, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx};

use crate::kernels::{f32_bytes, to_f32};

/// The kernels' CUDA C source.
pub const SOURCE: &str = include_str!("kernels.cu");

/// Kernel entry points in [`SOURCE`].
pub const ENTRY_POINTS: [&str; 5] = [
    "matmul_f32",
    "matmul_i8",
    "bias_relu",
    "mandelbrot",
    "sha256_batch",
];

/// The NVRTC options every build of the kernels uses (`arch` like `compute_90`).
pub fn compile_options(arch: &'static str) -> CompileOptions {
    CompileOptions {
        fmad: Some(false),
        prec_div: Some(true),
        prec_sqrt: Some(true),
        ftz: Some(false),
        arch: Some(arch),
        name: Some("concord_kernels.cu".into()),
        ..Default::default()
    }
}

/// Whether libnvrtc can be loaded (it needs no GPU).
pub fn nvrtc_available() -> bool {
    // SAFETY: only tries to dlopen the library.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// Compiles [`SOURCE`] to PTX for `arch`.
pub fn compile_ptx(arch: &'static str) -> Result<Ptx, String> {
    if !nvrtc_available() {
        return Err("libnvrtc.so.12 not found (install the CUDA toolkit or pip's nvidia-cuda-nvrtc-cu12 and add it to LD_LIBRARY_PATH)".into());
    }
    compile_ptx_with_opts(SOURCE, compile_options(arch)).map_err(|e| format!("NVRTC failed: {e:?}"))
}

/// A CUDA device with the kernels loaded.
pub struct CudaBackend {
    stream: Arc<CudaStream>,
    funcs: Vec<CudaFunction>,
    pub name: String,
    /// Compute capability, major × 10 + minor.
    pub compute_capability: u16,
    pub vram_mib: u32,
}

fn arch_name(cc: u16) -> &'static str {
    match cc {
        0..=79 => "compute_75",
        80..=85 => "compute_80",
        86..=88 => "compute_86",
        89 => "compute_89",
        _ => "compute_90",
    }
}

impl CudaBackend {
    /// Finds device 0 and compiles the kernels for it; `Err` says why the GPU cannot be used.
    pub fn detect() -> Result<CudaBackend, String> {
        // SAFETY: only tries to dlopen the driver; creating a context without one would panic.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err("no CUDA driver (libcuda.so) on this machine".into());
        }
        let count = CudaContext::device_count().map_err(|e| format!("CUDA driver error: {e:?}"))?;
        if count < 1 {
            return Err("the CUDA driver reports no device".into());
        }
        let ctx = CudaContext::new(0).map_err(|e| format!("cannot open device 0: {e:?}"))?;
        let (major, minor) = ctx.compute_capability().map_err(|e| format!("{e:?}"))?;
        let cc = (major * 10 + minor) as u16;
        let name = ctx.name().unwrap_or_else(|_| "unknown GPU".into());
        let vram_mib = (ctx.total_mem().unwrap_or(0) >> 20) as u32;
        let ptx = compile_ptx(arch_name(cc))?;
        let module = ctx
            .load_module(ptx)
            .map_err(|e| format!("cannot load the kernels: {e:?}"))?;
        let funcs = ENTRY_POINTS
            .iter()
            .map(|f| module.load_function(f).map_err(|e| format!("{f}: {e:?}")))
            .collect::<Result<_, _>>()?;
        Ok(CudaBackend {
            stream: ctx.default_stream(),
            funcs,
            name,
            compute_capability: cc,
            vram_mib,
        })
    }

    fn grid2(w: u32, h: u32) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (w.div_ceil(16), h.div_ceil(16), 1),
            block_dim: (16, 16, 1),
            shared_mem_bytes: 0,
        }
    }

    fn grid1(n: u32, block: u32) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (n.div_ceil(block).max(1), 1, 1),
            block_dim: (block, 1, 1),
            shared_mem_bytes: 0,
        }
    }

    fn matmul_f32(
        &self,
        a: &[f32],
        b: &[f32],
        m: u32,
        n: u32,
        k: u32,
    ) -> Result<cudarc::driver::CudaSlice<f32>, String> {
        let s = &self.stream;
        let e = |e: cudarc::driver::DriverError| format!("{e:?}");
        let da = s.clone_htod(a).map_err(e)?;
        let db = s.clone_htod(b).map_err(e)?;
        let mut dc = s.alloc_zeros::<f32>((m * n) as usize).map_err(e)?;
        let mut l = s.launch_builder(&self.funcs[0]);
        l.arg(&da).arg(&db).arg(&mut dc).arg(&m).arg(&n).arg(&k);
        // SAFETY: argument types and buffer sizes match the kernel's signature.
        unsafe { l.launch(Self::grid2(n, m)) }.map_err(e)?;
        Ok(dc)
    }

    /// Runs a validated job on the GPU.
    pub fn run(&self, params: &KernelParams, input: &[u8]) -> Result<Vec<u8>, String> {
        let s = &self.stream;
        let e = |e: cudarc::driver::DriverError| format!("{e:?}");
        Ok(match params {
            KernelParams::MatmulF32 { m, n, k } => {
                let f = to_f32(input);
                let (a, b) = f.split_at((m * k) as usize);
                let dc = self.matmul_f32(a, b, *m, *n, *k)?;
                f32_bytes(&s.clone_dtoh(&dc).map_err(e)?)
            }
            KernelParams::MatmulI8 { m, n, k } => {
                let (a, b) = input.split_at((m * k) as usize);
                let da = s.clone_htod(a).map_err(e)?;
                let db = s.clone_htod(b).map_err(e)?;
                let mut dc = s.alloc_zeros::<i32>((m * n) as usize).map_err(e)?;
                let mut l = s.launch_builder(&self.funcs[1]);
                l.arg(&da).arg(&db).arg(&mut dc).arg(m).arg(n).arg(k);
                // SAFETY: as above; u8 and signed char share a layout.
                unsafe { l.launch(Self::grid2(*n, *m)) }.map_err(e)?;
                s.clone_dtoh(&dc)
                    .map_err(e)?
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect()
            }
            KernelParams::MlpF32 { batch, sizes } => {
                let f = to_f32(input);
                let (layers, x_off) = crate::kernels::mlp::layout(sizes);
                let mut x = f[x_off..x_off + (*batch * sizes[0]) as usize].to_vec();
                for l in layers {
                    let (inp, out) = (l.inputs as u32, l.outputs as u32);
                    let mut dy = self.matmul_f32(
                        &x,
                        &f[l.weights..l.weights + l.inputs * l.outputs],
                        *batch,
                        out,
                        inp,
                    )?;
                    let db = s.clone_htod(&f[l.bias..l.bias + l.outputs]).map_err(e)?;
                    let mut launch = s.launch_builder(&self.funcs[2]);
                    launch.arg(&mut dy).arg(&db).arg(batch).arg(&out);
                    // SAFETY: dy is batch×out, db has out entries.
                    unsafe { launch.launch(Self::grid1(batch * out, 256)) }.map_err(e)?;
                    x = s.clone_dtoh(&dy).map_err(e)?;
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
                let mut d = s.alloc_zeros::<u32>((width * height) as usize).map_err(e)?;
                let mut l = s.launch_builder(&self.funcs[3]);
                l.arg(&mut d)
                    .arg(width)
                    .arg(height)
                    .arg(cx)
                    .arg(cy)
                    .arg(scale)
                    .arg(max_iter);
                // SAFETY: d is width×height.
                unsafe { l.launch(Self::grid2(*width, *height)) }.map_err(e)?;
                s.clone_dtoh(&d)
                    .map_err(e)?
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect()
            }
            KernelParams::Sha256Batch { count, len } => {
                let din = s
                    .clone_htod(if input.is_empty() { &[0u8][..] } else { input })
                    .map_err(e)?;
                let mut dout = s.alloc_zeros::<u8>(*count as usize * 32).map_err(e)?;
                let mut l = s.launch_builder(&self.funcs[4]);
                l.arg(&din).arg(&mut dout).arg(count).arg(len);
                // SAFETY: din holds count×len bytes (at least one), dout count×32.
                unsafe { l.launch(Self::grid1(*count, 128)) }.map_err(e)?;
                s.clone_dtoh(&dout).map_err(e)?
            }
        })
    }
}

impl CudaBackend {
    /// Device-only GFLOP/s of this backend's `matmul_f32` kernel and of cuBLAS `sgemm` on the same
    /// n×n×n problem (best of `reps`, transfers excluded). cuBLAS does not keep the protocol's
    /// k order, so it is a speed reference, never a substitute.
    pub fn matmul_vs_cublas(&self, n: u32, reps: u32) -> Result<(f64, f64), String> {
        use cudarc::cublas::{sys::cublasOperation_t, CudaBlas, Gemm, GemmConfig};
        let e = |e: cudarc::driver::DriverError| format!("{e:?}");
        let s = &self.stream;
        let len = (n * n) as usize;
        let host: Vec<f32> = (0..len).map(|i| (i % 17) as f32 * 0.25 - 2.0).collect();
        let a = s.clone_htod(&host).map_err(e)?;
        let b = s.clone_htod(&host).map_err(e)?;
        let mut c = s.alloc_zeros::<f32>(len).map_err(e)?;
        let flops = 2.0 * f64::from(n).powi(3);
        let time = |f: &mut dyn FnMut() -> Result<(), String>| -> Result<f64, String> {
            f()?;
            let mut best = f64::MAX;
            for _ in 0..reps {
                s.synchronize().map_err(e)?;
                let t = std::time::Instant::now();
                f()?;
                s.synchronize().map_err(e)?;
                best = best.min(t.elapsed().as_secs_f64());
            }
            Ok(flops / best / 1e9)
        };
        let ours = time(&mut || {
            let mut l = s.launch_builder(&self.funcs[0]);
            l.arg(&a).arg(&b).arg(&mut c).arg(&n).arg(&n).arg(&n);
            // SAFETY: n×n buffers, the kernel's signature.
            unsafe { l.launch(Self::grid2(n, n)) }
                .map(|_| ())
                .map_err(e)
        })?;
        let blas = CudaBlas::new(s.clone()).map_err(|e| format!("cuBLAS unavailable: {e:?}"))?;
        let cfg = GemmConfig {
            transa: cublasOperation_t::CUBLAS_OP_N,
            transb: cublasOperation_t::CUBLAS_OP_N,
            m: n as i32,
            n: n as i32,
            k: n as i32,
            alpha: 1.0f32,
            lda: n as i32,
            ldb: n as i32,
            beta: 0.0f32,
            ldc: n as i32,
        };
        let mut c2 = s.alloc_zeros::<f32>(len).map_err(e)?;
        let theirs = time(&mut || {
            // SAFETY: column-major n×n operands (row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ).
            unsafe { blas.gemm(cfg, &b, &a, &mut c2) }.map_err(|e| format!("{e:?}"))
        })?;
        Ok((ours, theirs))
    }
}
