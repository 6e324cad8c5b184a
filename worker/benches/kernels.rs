//! Kernel throughput, side by side in one run: Concord's CPU `matmul_f32` (the active path,
//! plus every other path this CPU has) against OpenBLAS `cblas_sgemm` (with the `openblas`
//! feature: links the system libopenblas; `scripts/bench.sh` installs it) and `matrixmultiply`
//! (multithreaded), n = 128 … 2048, with the machine's peak; `matmul_i8` against the previous
//! kernel and OpenBLAS sgemm on the same integers as f32 (exact while |sums| < 2^24, so k ≤ 1024);
//! the other kernels; the CUDA kernels against cuBLAS when a device is present.
//!
//! `scripts/bench.sh` (or `cargo bench -p concord-worker --bench kernels [--features openblas]`)
//! prints the tables recorded in BENCHMARKS.md. All products write into preallocated buffers.

use std::time::{Duration, Instant};

use concord_client::kernels::{KernelParams, Limits};
use concord_worker::kernels::isa::Isa;
use concord_worker::{cuda, kernels};

#[cfg(feature = "openblas")]
mod openblas {
    use std::ffi::c_int;
    #[link(name = "openblas")]
    extern "C" {
        #[allow(clippy::too_many_arguments)]
        pub fn cblas_sgemm(
            order: c_int,
            ta: c_int,
            tb: c_int,
            m: c_int,
            n: c_int,
            k: c_int,
            alpha: f32,
            a: *const f32,
            lda: c_int,
            b: *const f32,
            ldb: c_int,
            beta: f32,
            c: *mut f32,
            ldc: c_int,
        );
        pub fn openblas_set_num_threads(n: c_int);
        pub fn openblas_get_config() -> *const std::ffi::c_char;
    }
    /// Row-major C = A·B (m×k times k×n), OpenBLAS's threads.
    pub fn sgemm(a: &[f32], b: &[f32], c: &mut [f32], m: usize, n: usize, k: usize) {
        const ROW_MAJOR: c_int = 101;
        const NO_TRANS: c_int = 111;
        // SAFETY: the slices have the sizes the call reads and writes.
        unsafe {
            cblas_sgemm(
                ROW_MAJOR,
                NO_TRANS,
                NO_TRANS,
                m as c_int,
                n as c_int,
                k as c_int,
                1.0,
                a.as_ptr(),
                k as c_int,
                b.as_ptr(),
                n as c_int,
                0.0,
                c.as_mut_ptr(),
                n as c_int,
            )
        }
    }
    pub fn init(threads: usize) -> String {
        // SAFETY: plain setters and a static string.
        unsafe {
            openblas_set_num_threads(threads as c_int);
            std::ffi::CStr::from_ptr(openblas_get_config())
                .to_string_lossy()
                .into_owned()
        }
    }
}

/// Best of `reps` runs after one warm-up.
fn best<F: FnMut()>(reps: usize, mut f: F) -> Duration {
    f();
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn floats(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 % 1000) as f32) / 500.0 - 1.0)
        .collect()
}

fn mm_sgemm(a: &[f32], b: &[f32], c: &mut [f32], m: usize, n: usize, k: usize) {
    // SAFETY: row-major operands of the stated sizes.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

/// The CPU's clock in GHz as /proc/cpuinfo reports it (the current, not the boost, clock).
fn clock_ghz() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let mhz: f64 = info
        .lines()
        .find(|l| l.starts_with("cpu MHz"))?
        .split(':')
        .nth(1)?
        .trim()
        .parse()
        .ok()?;
    Some(mhz / 1000.0)
}

/// A pause between libraries: OpenBLAS's threads keep spinning for a while after a call (its
/// THREAD_TIMEOUT, about 0.1 s), which would otherwise steal the cores from whoever runs next.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

fn gflops(flops: f64, t: Duration) -> f64 {
    flops / t.as_secs_f64() / 1e9
}

fn main() {
    // `cargo bench --bench kernels -- f32` runs only the tables whose names contain "f32" (the
    // names: f32, paths, i8, others, cuda); no filter runs them all.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |table: &str| filter.is_empty() || filter.iter().any(|f| table.contains(f.as_str()));
    let threads = rayon::current_num_threads();
    let isa = Isa::active();
    let lanes = if isa == Isa::Avx512 { 16.0 } else { 8.0 };
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|i| {
            i.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    println!(
        "CPU: {model}, {threads} threads; Concord path: {} (available: {:?})",
        isa.name(),
        Isa::available()
    );
    let peak = clock_ghz().map(|ghz| {
        let p = threads as f64 * 2.0 * lanes * 2.0 * ghz;
        println!("peak: {threads} cores × 2 FMA units × {lanes} f32 lanes × 2 flops × {ghz:.2} GHz = {p:.0} GFLOP/s (reported clock; boost runs higher)");
        p
    });
    #[cfg(feature = "openblas")]
    println!("OpenBLAS: {}", openblas::init(threads));
    #[cfg(not(feature = "openblas"))]
    println!("OpenBLAS: not linked (build with --features openblas; scripts/bench.sh does)");

    // Rounds per size (CONCORD_BENCH_ROUNDS, default 5), each running the three libraries back
    // to back, best of several calls each. On shared vCPUs a neighbour's load comes and goes
    // within seconds: the GFLOP/s columns are each library's best round, and the ratios are the
    // median over rounds of the ratio within a round (so a library is compared with the others
    // under the same load), with their range.
    let rounds: usize = std::env::var("CONCORD_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    if run("f32") {
        println!("\n| matmul_f32 n×n×n | Concord GFLOP/s | OpenBLAS GFLOP/s | matrixmultiply GFLOP/s | ÷ OpenBLAS (median of {rounds} rounds; range) | ÷ matrixmultiply (median; range) | share of peak |");
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        for n in [128usize, 256, 512, 1024, 2048] {
            let a = floats(n * n);
            let b = floats(n * n);
            let mut c = vec![0f32; n * n];
            let flops = 2.0 * (n as f64).powi(3);
            let reps = if n >= 1024 { 3 } else { 20 };
            let mut times: Vec<[Option<Duration>; 3]> = Vec::new();
            for _ in 0..rounds {
                let ours = best(reps, || {
                    kernels::matmul::matmul_f32_into(isa, &a, &b, &mut c, n, n, n)
                });
                settle();
                #[cfg(feature = "openblas")]
                let blas = {
                    let t = best(reps, || openblas::sgemm(&a, &b, &mut c, n, n, n));
                    settle();
                    Some(t)
                };
                #[cfg(not(feature = "openblas"))]
                let blas = None;
                let mm = best(reps, || mm_sgemm(&a, &b, &mut c, n, n, n));
                settle();
                times.push([Some(ours), blas, Some(mm)]);
            }
            let best_of = |lib: usize| times.iter().filter_map(|t| t[lib]).min();
            let ratio = |lib: usize| -> String {
                let mut r: Vec<f64> = times
                    .iter()
                    .filter_map(|t| Some(t[lib]?.as_secs_f64() / t[0]?.as_secs_f64()))
                    .collect();
                if r.is_empty() {
                    return "–".into();
                }
                r.sort_by(f64::total_cmp);
                let median = if r.len() % 2 == 1 {
                    r[r.len() / 2]
                } else {
                    (r[r.len() / 2 - 1] + r[r.len() / 2]) / 2.0
                };
                format!("{median:.2} ({:.2}–{:.2})", r[0], r[r.len() - 1])
            };
            let gf = |lib: usize| {
                best_of(lib).map_or("–".into(), |t| format!("{:.1}", gflops(flops, t)))
            };
            let g = best_of(0).map_or(0.0, |t| gflops(flops, t));
            let share = peak.map_or("–".to_string(), |p| format!("{:.0} %", 100.0 * g / p));
            println!(
                "| {n} | {g:.1} | {} | {} | {} | {} | {share} |",
                gf(1),
                gf(2),
                ratio(1),
                ratio(2)
            );
        }
    }

    if run("paths") {
        println!("\n| matmul_f32 n = 1024, per path | GFLOP/s |");
        println!("|---|---:|");
        let n = 1024;
        let (a, b) = (floats(n * n), floats(n * n));
        let mut c = vec![0f32; n * n];
        for path in Isa::available() {
            let reps = if path == Isa::Portable { 1 } else { 3 };
            let t = best(reps, || {
                kernels::matmul::matmul_f32_into(path, &a, &b, &mut c, n, n, n)
            });
            println!(
                "| {} | {:.1} |",
                path.name(),
                gflops(2.0 * (n as f64).powi(3), t)
            );
        }
    }

    if run("i8") {
        println!("\n| matmul_i8 n×n×n | Concord GOP/s | previous kernel (portable) GOP/s | OpenBLAS sgemm on the same integers GOP/s | × previous | ÷ OpenBLAS |");
        println!("|---:|---:|---:|---:|---:|---:|");
        for n in [256usize, 512, 1024] {
            let a: Vec<i8> = (0..n * n).map(|i| (i * 7919 % 255) as u8 as i8).collect();
            let b: Vec<i8> = (0..n * n)
                .map(|i| (i * 104_729 % 253) as u8 as i8)
                .collect();
            let mut c = vec![0i32; n * n];
            let ops = 2.0 * (n as f64).powi(3);
            let reps = if n >= 1024 { 3 } else { 10 };
            let ours = best(reps, || {
                kernels::matmul::matmul_i8_into(isa, &a, &b, &mut c, n, n, n)
            });
            settle();
            let old = best(2, || {
                kernels::matmul::matmul_i8_into(Isa::Portable, &a, &b, &mut c, n, n, n)
            });
            settle();
            let (g, go) = (gflops(ops, ours), gflops(ops, old));
            #[cfg(not(feature = "openblas"))]
            let blas = ("–".to_string(), "–".to_string());
            #[cfg(feature = "openblas")]
            let blas = {
                let (af, bf): (Vec<f32>, Vec<f32>) = (
                    a.iter().map(|&v| f32::from(v)).collect(),
                    b.iter().map(|&v| f32::from(v)).collect(),
                );
                let mut cf = vec![0f32; n * n];
                let t = best(reps, || openblas::sgemm(&af, &bf, &mut cf, n, n, n));
                settle();
                let gb = gflops(ops, t);
                (format!("{gb:.1}"), format!("{:.2}", g / gb))
            };
            println!(
                "| {n} | {g:.1} | {go:.1} | {} | {:.1} | {} |",
                blas.0,
                g / go,
                blas.1
            );
        }
    }
    if run("others") {
        println!("\n| kernel | size | time | throughput |");
        println!("|---|---|---:|---:|");
        let limits = Limits::default();
        let cases = [
            (
                "mlp_f32",
                KernelParams::MlpF32 {
                    batch: 256,
                    sizes: vec![512, 512, 512, 10],
                },
                2.0 * 256.0 * (512.0 * 512.0 * 2.0 + 5120.0) / 1e9,
                "GFLOP/s",
            ),
            (
                "mandelbrot",
                KernelParams::Mandelbrot {
                    width: 1024,
                    height: 768,
                    cx: -0.5,
                    cy: 0.0,
                    scale: 3.0 / 1024.0,
                    max_iter: 256,
                },
                1024.0 * 768.0 / 1e6,
                "Mpixel/s",
            ),
            (
                "sha256_batch",
                KernelParams::Sha256Batch {
                    count: 65_536,
                    len: 256,
                },
                65_536.0 * 256.0 / 1e6,
                "MB/s",
            ),
        ];
        for (name, p, work, unit) in &cases {
            let input: Vec<u8> = match p {
                KernelParams::MlpF32 { .. } => floats(p.input_len().unwrap() as usize / 4)
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                _ => (0..p.input_len().unwrap())
                    .map(|i| (i % 251) as u8)
                    .collect(),
            };
            let t = best(3, || {
                std::hint::black_box(kernels::run_cpu(p, &input, &limits).unwrap());
            });
            let size = match p {
                KernelParams::MatmulI8 { m, n, k } => format!("{m}×{n}×{k}"),
                KernelParams::MlpF32 { batch, sizes } => format!("batch {batch}, {sizes:?}"),
                KernelParams::Mandelbrot {
                    width,
                    height,
                    max_iter,
                    ..
                } => format!("{width}×{height}, {max_iter} iter"),
                KernelParams::Sha256Batch { count, len } => format!("{count} × {len} B"),
                _ => String::new(),
            };
            println!(
                "| {name} | {size} | {:.1} ms | {:.2} {unit} |",
                t.as_secs_f64() * 1e3,
                work / t.as_secs_f64()
            );
        }
    }
    if !run("cuda") {
        return;
    }
    match cuda::CudaBackend::detect() {
        Ok(gpu) => {
            println!(
                "\nCUDA: {} (cc {}, {} MiB, driver {}, NVRTC {}.{})",
                gpu.name,
                gpu.compute_capability,
                gpu.vram_mib,
                gpu.driver_version,
                gpu.nvrtc_version.0,
                gpu.nvrtc_version.1
            );
            println!("| matmul_f32 n×n×n | Concord CUDA GFLOP/s (device only) | cuBLAS SGEMM GFLOP/s (FP32, no TF32) | ÷ cuBLAS | Concord job incl. transfers GFLOP/s |");
            println!("|---:|---:|---:|---:|---:|");
            for n in [1024u32, 2048, 4096, 8192] {
                let cmp = match gpu.matmul_vs_cublas(n, 5) {
                    Ok(c) => c,
                    Err(e) => {
                        println!("| {n} | error: {e} | | | |");
                        continue;
                    }
                };
                let p = KernelParams::MatmulF32 { m: n, n, k: n };
                let input: Vec<u8> = floats(2 * (n * n) as usize)
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                let t = best(2, || {
                    std::hint::black_box(gpu.run(&p, &input).unwrap());
                });
                let (blas, ratio) = match cmp.cublas {
                    Some(b) => (format!("{b:.0}"), format!("{:.2}", cmp.ours / b)),
                    None => (cmp.cublas_missing.unwrap_or_default(), "–".into()),
                };
                println!(
                    "| {n} | {:.0} | {blas} | {ratio} | {:.0} |",
                    cmp.ours,
                    gflops(2.0 * f64::from(n).powi(3), t)
                );
            }
            println!("\n| CUDA job (incl. transfers) | size | time | throughput |");
            println!("|---|---|---:|---:|");
            let jobs = [
                (
                    "matmul_i8",
                    KernelParams::MatmulI8 {
                        m: 4096,
                        n: 4096,
                        k: 4096,
                    },
                    2.0 * 4096f64.powi(3) / 1e9,
                    "GOP/s",
                ),
                (
                    "mandelbrot",
                    KernelParams::Mandelbrot {
                        width: 4096,
                        height: 4096,
                        cx: -0.5,
                        cy: 0.0,
                        scale: 3.0 / 4096.0,
                        max_iter: 1024,
                    },
                    4096.0 * 4096.0 / 1e6,
                    "Mpixel/s",
                ),
                (
                    "sha256_batch",
                    KernelParams::Sha256Batch {
                        count: 1 << 20,
                        len: 256,
                    },
                    (1u64 << 28) as f64 / 1e6,
                    "MB/s",
                ),
            ];
            for (name, p, work, unit) in jobs {
                let input: Vec<u8> = (0..p.input_len().unwrap())
                    .map(|i| (i % 251) as u8)
                    .collect();
                let t = best(2, || {
                    std::hint::black_box(gpu.run(&p, &input).unwrap());
                });
                println!(
                    "| {name} | {p:?} | {:.1} ms | {:.1} {unit} |",
                    t.as_secs_f64() * 1e3,
                    work / t.as_secs_f64()
                );
            }
        }
        Err(reason) => println!("\nCUDA: skipped ({reason})"),
    }
}
