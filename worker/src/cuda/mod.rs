//! The CUDA backend (cudarc: driver API + NVRTC, both loaded dynamically).
//!
//! `kernels.cu` is compiled at start-up by NVRTC, with `--fmad=false`, straight to a CUBIN for the
//! device's own `sm_XY`: no PTX is JIT-compiled by the driver, so a driver older than NVRTC loads
//! it as long as it knows the GPU (PTX from NVRTC 12.9 is ISA 8.8, which only 12.9 drivers take).
//! The kernels write `fmaf` exactly where the protocol's definitions have an fma, keep every
//! reduction's order, store NaN as the canonical `0x7FC00000` and use no atomics, so their bytes
//! equal the CPU backend's.
//!
//! Each job gets its own stream; every launch is a bounded piece ([`geometry`]); results are
//! copied back and the stream synchronised before they are used. An error that leaves the
//! context unusable (an illegal address, a launch failure: CUDA's "sticky" errors) marks the
//! backend unhealthy, after which it refuses work with that reason and the worker computes on the
//! CPU until it is restarted. Without a driver or a device, [`CudaBackend::detect`] says why.

pub mod emulation;
pub mod geometry;

use std::ffi::{c_char, c_int, CString};
use std::sync::{Arc, OnceLock};

use concord_client::kernels::{KernelParams, Limits};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DeviceRepr, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::Ptx;

use crate::kernels::{check_input, f32_bytes, to_f32, KernelError};
use geometry::Launch;

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

/// The NVRTC options every build of the kernels uses, besides the architecture.
pub const NVRTC_OPTIONS: [&str; 4] = [
    "--fmad=false",
    "--prec-div=true",
    "--prec-sqrt=true",
    "--ftz=false",
];

/// Why the GPU did not produce an output.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// The parameters or the input were refused (the CPU backend refuses them the same way).
    #[error(transparent)]
    Input(#[from] KernelError),
    /// A CUDA call failed; the backend is still usable.
    #[error("CUDA: {0}")]
    Cuda(String),
    /// An earlier error left the context unusable; restart the worker to use the GPU again.
    #[error("the GPU context is unusable after an earlier error ({0}); restart the worker to use the GPU again")]
    Unhealthy(String),
}

/// Whether libnvrtc can be loaded (it needs no GPU).
pub fn nvrtc_available() -> bool {
    // SAFETY: only tries to dlopen the library.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// NVRTC's version, (major, minor).
pub fn nvrtc_version() -> Result<(i32, i32), String> {
    if !nvrtc_available() {
        return Err("libnvrtc.so.12 not found (install the CUDA toolkit or pip's nvidia-cuda-nvrtc-cu12 and add it to LD_LIBRARY_PATH)".into());
    }
    let (mut major, mut minor): (c_int, c_int) = (0, 0);
    // SAFETY: two out-pointers to live integers.
    unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| format!("nvrtcVersion: {e:?}"))?;
    Ok((major, minor))
}

/// The `sm_XY` architectures this NVRTC can compile for (compute capability ×10).
pub fn nvrtc_architectures() -> Result<Vec<u16>, String> {
    nvrtc_version()?;
    let mut count: c_int = 0;
    // SAFETY: an out-pointer to a live integer.
    unsafe { cudarc::nvrtc::sys::nvrtcGetNumSupportedArchs(&mut count) }
        .result()
        .map_err(|e| format!("{e:?}"))?;
    let mut archs = vec![0 as c_int; count.max(0) as usize];
    // SAFETY: the buffer holds `count` integers.
    unsafe { cudarc::nvrtc::sys::nvrtcGetSupportedArchs(archs.as_mut_ptr()) }
        .result()
        .map_err(|e| format!("{e:?}"))?;
    Ok(archs.into_iter().map(|a| a as u16).collect())
}

/// What NVRTC produced: PTX text for `compute_XY`, a CUBIN for `sm_XY`.
pub enum Compiled {
    Ptx(String),
    Cubin(Vec<u8>),
}

/// Compiles [`SOURCE`] with [`NVRTC_OPTIONS`] for `arch` (`compute_XY` gives PTX, `sm_XY` a CUBIN).
pub fn compile(arch: &str) -> Result<Compiled, String> {
    use cudarc::nvrtc::{result, sys};
    nvrtc_version()?;
    let src = CString::new(SOURCE).expect("no NUL in the source");
    let name = CString::new("concord_kernels.cu").expect("no NUL");
    let prog = result::create_program(&src, Some(&name))
        .map_err(|e| format!("nvrtcCreateProgram: {e:?}"))?;
    let mut options: Vec<String> = NVRTC_OPTIONS.iter().map(|s| s.to_string()).collect();
    options.push(format!("--gpu-architecture={arch}"));
    // SAFETY: `prog` is live until destroyed below; the buffers are sized by NVRTC's own answers.
    let out = unsafe {
        let compiled = result::compile_program(prog, &options).map_err(|e| {
            let log = result::get_program_log(prog)
                .map(|l| {
                    std::ffi::CStr::from_ptr(l.as_ptr())
                        .to_string_lossy()
                        .into_owned()
                })
                .unwrap_or_default();
            format!("NVRTC failed for {arch}: {e:?}\n{log}")
        });
        let out = compiled.and_then(|()| {
            if arch.starts_with("sm_") {
                let mut size = 0usize;
                sys::nvrtcGetCUBINSize(prog, &mut size)
                    .result()
                    .map_err(|e| format!("{e:?}"))?;
                let mut cubin = vec![0u8; size];
                sys::nvrtcGetCUBIN(prog, cubin.as_mut_ptr().cast::<c_char>())
                    .result()
                    .map_err(|e| format!("{e:?}"))?;
                Ok(Compiled::Cubin(cubin))
            } else {
                let ptx = result::get_ptx(prog).map_err(|e| format!("{e:?}"))?;
                Ok(Compiled::Ptx(
                    std::ffi::CStr::from_ptr(ptx.as_ptr())
                        .to_string_lossy()
                        .into_owned(),
                ))
            }
        });
        result::destroy_program(prog).ok();
        out
    };
    out
}

/// A CUDA device with the kernels loaded.
pub struct CudaBackend {
    ctx: Arc<CudaContext>,
    funcs: Vec<CudaFunction>,
    /// Why the context became unusable, once it has.
    unhealthy: OnceLock<String>,
    pub name: String,
    /// Compute capability, major × 10 + minor.
    pub compute_capability: u16,
    pub vram_mib: u32,
    /// Driver API version (for example 12040 for 12.4) and NVRTC's (major, minor).
    pub driver_version: i32,
    pub nvrtc_version: (i32, i32),
}

/// Whether a CUDA driver library can be loaded and reports at least one device.
pub fn device_present() -> bool {
    // SAFETY: only tries to dlopen the driver.
    let loadable = unsafe { cudarc::driver::sys::is_culib_present() };
    loadable && CudaContext::device_count().is_ok_and(|n| n > 0)
}

fn driver_version() -> Result<i32, String> {
    let mut v: c_int = 0;
    // SAFETY: an out-pointer to a live integer (the driver library is loaded by the caller).
    unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) }
        .result()
        .map_err(|e| format!("cuDriverGetVersion: {e:?}"))?;
    Ok(v)
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
        let driver_version = driver_version()?;
        let ctx = CudaContext::new(0).map_err(|e| format!("cannot open device 0: {e:?}"))?;
        // Wait for the GPU by blocking on the driver, not by spinning a core the CPU kernels need.
        ctx.set_blocking_synchronize()
            .map_err(|e| format!("cannot set blocking sync: {e:?}"))?;
        let (major, minor) = ctx.compute_capability().map_err(|e| format!("{e:?}"))?;
        let cc = (major * 10 + minor) as u16;
        let name = ctx.name().unwrap_or_else(|_| "unknown GPU".into());
        let vram_mib = (ctx.total_mem().unwrap_or(0) >> 20) as u32;
        let nvrtc_version = nvrtc_version()?;
        let archs = nvrtc_architectures()?;
        if !archs.contains(&cc) {
            return Err(format!(
                "NVRTC {}.{} cannot compile for sm_{cc} ({name}); it knows sm_{:?}. Install an NVRTC that does (pip nvidia-cuda-nvrtc-cu12 or the CUDA toolkit)",
                nvrtc_version.0, nvrtc_version.1, archs
            ));
        }
        let cubin = match compile(&format!("sm_{cc}"))? {
            Compiled::Cubin(c) => c,
            Compiled::Ptx(_) => unreachable!("sm_ architectures give a CUBIN"),
        };
        let module = ctx.load_module(Ptx::from_binary(cubin)).map_err(|e| {
            format!(
                "the driver ({}.{}) refused the kernels compiled for sm_{cc}: {e:?}",
                driver_version / 1000,
                driver_version % 1000 / 10
            )
        })?;
        let funcs = ENTRY_POINTS
            .iter()
            .map(|f| module.load_function(f).map_err(|e| format!("{f}: {e:?}")))
            .collect::<Result<_, _>>()?;
        Ok(CudaBackend {
            ctx,
            funcs,
            unhealthy: OnceLock::new(),
            name,
            compute_capability: cc,
            vram_mib,
            driver_version,
            nvrtc_version,
        })
    }

    /// Why the backend refuses work, if it does.
    pub fn unhealthy(&self) -> Option<String> {
        self.unhealthy.get().cloned()
    }

    /// Runs a job on the GPU: the same checks as the CPU backend first, then its own stream.
    pub fn run(&self, params: &KernelParams, input: &[u8]) -> Result<Vec<u8>, GpuError> {
        if let Some(reason) = self.unhealthy() {
            return Err(GpuError::Unhealthy(reason));
        }
        check_input(params, input, &Limits::default())?;
        let result = self.ctx.new_stream().map_err(cuda).and_then(|stream| {
            let out = self.run_on(&stream, params, input)?;
            stream.synchronize().map_err(cuda)?;
            Ok(out)
        });
        if let Err(GpuError::Cuda(e)) = &result {
            // A sticky error also fails a plain context synchronisation: then nothing on this
            // context will work again.
            if let Err(sticky) = self.ctx.synchronize() {
                let reason = format!("{e}; then {sticky:?}");
                tracing::error!(%reason, "the CUDA context is unusable; computing on the CPU until restart");
                let _ = self.unhealthy.set(reason.clone());
                return Err(GpuError::Unhealthy(reason));
            }
        }
        result
    }

    fn cfg(l: Launch) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (l.grid.0, l.grid.1, 1),
            block_dim: (l.block.0, l.block.1, 1),
            shared_mem_bytes: 0,
        }
    }

    fn download<T: DeviceRepr + Default + Clone>(
        s: &Arc<CudaStream>,
        d: &CudaSlice<T>,
    ) -> Result<Vec<T>, GpuError> {
        let mut host = vec![T::default(); d.len()];
        s.memcpy_dtoh(d, &mut host).map_err(cuda)?;
        // The copy into pageable memory is asynchronous: wait for it before the bytes are used.
        s.synchronize().map_err(cuda)?;
        Ok(host)
    }

    fn matmul_f32(
        &self,
        s: &Arc<CudaStream>,
        a: &[f32],
        b: &[f32],
        m: u32,
        n: u32,
        k: u32,
    ) -> Result<CudaSlice<f32>, GpuError> {
        let da = s.clone_htod(a).map_err(cuda)?;
        let db = s.clone_htod(b).map_err(cuda)?;
        let mut dc = s.alloc_zeros::<f32>((m * n) as usize).map_err(cuda)?;
        for l in geometry::matmul(m, n, k) {
            let mut launch = s.launch_builder(&self.funcs[0]);
            launch
                .arg(&da)
                .arg(&db)
                .arg(&mut dc)
                .arg(&m)
                .arg(&n)
                .arg(&k)
                .arg(&l.offset);
            // SAFETY: argument types and buffer sizes match the kernel's signature.
            unsafe { launch.launch(Self::cfg(l)) }.map_err(cuda)?;
        }
        Ok(dc)
    }

    fn run_on(
        &self,
        s: &Arc<CudaStream>,
        params: &KernelParams,
        input: &[u8],
    ) -> Result<Vec<u8>, GpuError> {
        Ok(match params {
            KernelParams::MatmulF32 { m, n, k } => {
                let f = to_f32(input);
                let (a, b) = f.split_at((m * k) as usize);
                let dc = self.matmul_f32(s, a, b, *m, *n, *k)?;
                f32_bytes(&Self::download(s, &dc)?)
            }
            KernelParams::MatmulI8 { m, n, k } => {
                let (a, b) = input.split_at((m * k) as usize);
                let da = s.clone_htod(a).map_err(cuda)?;
                let db = s.clone_htod(b).map_err(cuda)?;
                let mut dc = s.alloc_zeros::<i32>((m * n) as usize).map_err(cuda)?;
                for l in geometry::matmul(*m, *n, *k) {
                    let mut launch = s.launch_builder(&self.funcs[1]);
                    launch
                        .arg(&da)
                        .arg(&db)
                        .arg(&mut dc)
                        .arg(m)
                        .arg(n)
                        .arg(k)
                        .arg(&l.offset);
                    // SAFETY: as above; u8 and signed char share a layout.
                    unsafe { launch.launch(Self::cfg(l)) }.map_err(cuda)?;
                }
                Self::download(s, &dc)?
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
                        s,
                        &x,
                        &f[l.weights..l.weights + l.inputs * l.outputs],
                        *batch,
                        out,
                        inp,
                    )?;
                    let db = s.clone_htod(&f[l.bias..l.bias + l.outputs]).map_err(cuda)?;
                    let mut launch = s.launch_builder(&self.funcs[2]);
                    launch.arg(&mut dy).arg(&db).arg(batch).arg(&out);
                    // SAFETY: dy is batch×out, db has out entries.
                    unsafe { launch.launch(Self::cfg(geometry::bias_relu(*batch, out))) }
                        .map_err(cuda)?;
                    x = Self::download(s, &dy)?;
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
                let mut d = s
                    .alloc_zeros::<u32>((width * height) as usize)
                    .map_err(cuda)?;
                for l in geometry::mandelbrot(*width, *height, *max_iter) {
                    let mut launch = s.launch_builder(&self.funcs[3]);
                    launch
                        .arg(&mut d)
                        .arg(width)
                        .arg(height)
                        .arg(cx)
                        .arg(cy)
                        .arg(scale)
                        .arg(max_iter)
                        .arg(&l.offset);
                    // SAFETY: d is width×height.
                    unsafe { launch.launch(Self::cfg(l)) }.map_err(cuda)?;
                }
                Self::download(s, &d)?
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect()
            }
            KernelParams::Sha256Batch { count, len } => {
                let din = s
                    .clone_htod(if input.is_empty() { &[0u8][..] } else { input })
                    .map_err(cuda)?;
                let mut dout = s.alloc_zeros::<u8>(*count as usize * 32).map_err(cuda)?;
                for l in geometry::sha256_batch(*count, *len) {
                    let mut launch = s.launch_builder(&self.funcs[4]);
                    launch
                        .arg(&din)
                        .arg(&mut dout)
                        .arg(count)
                        .arg(len)
                        .arg(&l.offset);
                    // SAFETY: din holds count×len bytes (at least one), dout count×32.
                    unsafe { launch.launch(Self::cfg(l)) }.map_err(cuda)?;
                }
                Self::download(s, &dout)?
            }
        })
    }
}

fn cuda(e: cudarc::driver::DriverError) -> GpuError {
    GpuError::Cuda(format!("{e:?}"))
}

/// One row of the CUDA matmul benchmark: device-only GFLOP/s (best of the repetitions,
/// transfers excluded) of Concord's kernel and of cuBLAS SGEMM (pedantic, no TF32).
pub struct CublasComparison {
    pub ours: f64,
    pub cublas: Option<f64>,
    /// Why cuBLAS was not measured, when it was not.
    pub cublas_missing: Option<String>,
}

impl CudaBackend {
    /// Compares this backend's `matmul_f32` with cuBLAS `sgemm` on an n×n×n problem. cuBLAS does
    /// not keep the protocol's k order, so it is a speed reference, never a substitute.
    pub fn matmul_vs_cublas(&self, n: u32, reps: u32) -> Result<CublasComparison, String> {
        use cudarc::cublas::{sys, CudaBlas, Gemm, GemmConfig};
        let e = |e: cudarc::driver::DriverError| format!("{e:?}");
        let s = self.ctx.new_stream().map_err(e)?;
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
            for l in geometry::matmul(n, n, n) {
                let mut launch = s.launch_builder(&self.funcs[0]);
                launch
                    .arg(&a)
                    .arg(&b)
                    .arg(&mut c)
                    .arg(&n)
                    .arg(&n)
                    .arg(&n)
                    .arg(&l.offset);
                // SAFETY: n×n buffers, the kernel's signature.
                unsafe { launch.launch(Self::cfg(l)) }.map_err(e)?;
            }
            Ok(())
        })?;
        // SAFETY: only tries to dlopen libcublas (cudarc panics on first use if it is absent).
        if !unsafe { sys::is_culib_present() } {
            return Ok(CublasComparison {
                ours,
                cublas: None,
                cublas_missing: Some("libcublas.so.12 not found".into()),
            });
        }
        let blas = CudaBlas::new(s.clone()).map_err(|e| format!("cuBLAS: {e:?}"))?;
        // Plain FP32 (CUBLAS_PEDANTIC_MATH: no TF32 tensor cores).
        // SAFETY: the handle is live.
        let status = unsafe {
            sys::cublasSetMathMode(*blas.handle(), sys::cublasMath_t::CUBLAS_PEDANTIC_MATH)
        };
        if status != sys::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
            return Err(format!("cublasSetMathMode: {status:?}"));
        }
        let cfg = GemmConfig {
            transa: sys::cublasOperation_t::CUBLAS_OP_N,
            transb: sys::cublasOperation_t::CUBLAS_OP_N,
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
        Ok(CublasComparison {
            ours,
            cublas: Some(theirs),
            cublas_missing: None,
        })
    }
}
