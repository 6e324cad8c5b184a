//! Kernel throughput: the CPU backend against a reference library (`matrixmultiply`'s sgemm,
//! multithreaded, same sizes), and the CUDA kernels when a device is present.
//!
//! `cargo bench -p concord-worker --bench kernels` prints a table (README and BENCHMARKS.md).

use std::time::{Duration, Instant};

use concord_client::kernels::{KernelParams, Limits};
use concord_worker::{cuda, kernels};

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

fn main() {
    let threads = rayon::current_num_threads();
    println!("CPU: {threads} threads\n");
    println!("| matmul_f32 (n×n×n) | Concord CPU GFLOP/s | matrixmultiply GFLOP/s | ratio |");
    println!("|---|---:|---:|---:|");
    for n in [128usize, 256, 512, 1024] {
        let a = floats(n * n);
        let b = floats(n * n);
        let flops = 2.0 * (n as f64).powi(3);
        let reps = if n >= 1024 { 2 } else { 5 };
        let ours = best(reps, || {
            std::hint::black_box(kernels::matmul::matmul_f32(&a, &b, n, n, n));
        });
        let mut c = vec![0f32; n * n];
        let theirs = best(reps, || unsafe {
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                n as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        });
        let (g1, g2) = (
            flops / ours.as_secs_f64() / 1e9,
            flops / theirs.as_secs_f64() / 1e9,
        );
        println!("| {n} | {g1:.2} | {g2:.2} | {:.2} |", g1 / g2);
    }

    println!("\n| kernel | size | time | throughput |");
    println!("|---|---|---:|---:|");
    let limits = Limits::default();
    let cases = [
        (
            "matmul_i8",
            KernelParams::MatmulI8 {
                m: 512,
                n: 512,
                k: 512,
            },
            2.0 * 512f64.powi(3) / 1e9,
            "GOP/s",
        ),
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

    match cuda::CudaBackend::detect() {
        Ok(gpu) => {
            println!(
                "\nCUDA: {} (cc {}, {} MiB)",
                gpu.name, gpu.compute_capability, gpu.vram_mib
            );
            println!("| matmul_f32 (n×n×n) | Concord CUDA GFLOP/s (incl. transfers) |");
            println!("|---|---:|");
            for n in [1024u32, 2048, 4096] {
                let p = KernelParams::MatmulF32 { m: n, n, k: n };
                let input: Vec<u8> = floats(2 * (n * n) as usize)
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect();
                let t = best(3, || {
                    std::hint::black_box(gpu.run(&p, &input).unwrap());
                });
                println!(
                    "| {n} | {:.1} |",
                    2.0 * f64::from(n).powi(3) / t.as_secs_f64() / 1e9
                );
            }
            println!("(cuBLAS comparison: not linked in this build; see BENCHMARKS.md)");
        }
        Err(reason) => println!("\nCUDA: skipped ({reason})"),
    }
}
