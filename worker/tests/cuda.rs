//! The CUDA backend without (and with) a GPU:
//! - the kernels' CUDA source, compiled as C++ against the emulation header and launched with the
//!   backend's geometry, equals the CPU backend bit for bit on edge sizes;
//! - NVRTC compiles every kernel with the worker's real options for sm_80 and sm_90, and ptxas
//!   assembles the PTX (registers and spills reported); CI requires the tools
//!   (`CONCORD_REQUIRE_CUDA_TOOLS=1`) and fails rather than skips without them;
//! - on a machine with a CUDA device, the GPU equals the CPU bit for bit (skipped, with the
//!   reason, elsewhere).

use concord_client::kernels::{KernelParams, Limits};
use concord_worker::cuda;
use concord_worker::kernels::run_cpu;
use rand::{Rng, SeedableRng};

fn cases() -> Vec<KernelParams> {
    let mut v = vec![];
    for (m, n, k) in [
        (1, 1, 1),
        (16, 16, 16),
        (17, 19, 33),
        (3, 40, 5),
        (33, 2, 70),
    ] {
        v.push(KernelParams::MatmulF32 { m, n, k });
        v.push(KernelParams::MatmulI8 { m, n, k });
    }
    v.push(KernelParams::MlpF32 {
        batch: 5,
        sizes: vec![7, 17, 3],
    });
    v.push(KernelParams::MlpF32 {
        batch: 1,
        sizes: vec![1, 1],
    });
    v.push(KernelParams::Mandelbrot {
        width: 21,
        height: 9,
        cx: -0.7,
        cy: 0.1,
        scale: 0.13,
        max_iter: 200,
    });
    v.push(KernelParams::Mandelbrot {
        width: 1,
        height: 1,
        cx: 0.0,
        cy: 0.0,
        scale: 1.0,
        max_iter: 1,
    });
    // sha256 padding edges (55, 56, 64, 119, 120 bytes) and a grid of more than one block.
    for (count, len) in [
        (1, 0),
        (3, 55),
        (2, 56),
        (2, 64),
        (2, 119),
        (1, 120),
        (130, 9),
    ] {
        v.push(KernelParams::Sha256Batch { count, len });
    }
    v
}

fn input_for(p: &KernelParams, rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    let len = p.input_len().unwrap() as usize;
    match p {
        KernelParams::MatmulF32 { .. } | KernelParams::MlpF32 { .. } => (0..len / 4)
            .flat_map(|_| rng.gen_range(-2.0f32..2.0).to_le_bytes())
            .collect(),
        _ => (0..len).map(|_| rng.gen()).collect(),
    }
}

#[test]
fn emulated_cuda_kernels_equal_the_cpu_backend() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for p in cases() {
        let input = input_for(&p, &mut rng);
        let cpu = run_cpu(&p, &input, &Limits::default()).unwrap();
        let gpu_code = cuda::emulation::run(&p, &input);
        assert_eq!(cpu, gpu_code, "{p:?}");
    }
}

fn ptxas() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("CONCORD_PTXAS") {
        return Some(p.into());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("ptxas"))
            .find(|p| p.exists())
    })
}

#[test]
fn nvrtc_compiles_and_ptxas_assembles_every_kernel() {
    let required = std::env::var("CONCORD_REQUIRE_CUDA_TOOLS").is_ok_and(|v| v == "1");
    if !cuda::nvrtc_available() {
        assert!(
            !required,
            "CONCORD_REQUIRE_CUDA_TOOLS=1 but libnvrtc.so.12 is not loadable (LD_LIBRARY_PATH?)"
        );
        eprintln!("SKIPPED: libnvrtc.so.12 not found; scripts/test.sh installs it (pip nvidia-cuda-nvrtc-cu12)");
        return;
    }
    let ptxas = ptxas();
    assert!(
        ptxas.is_some() || !required,
        "CONCORD_REQUIRE_CUDA_TOOLS=1 but ptxas is not found (CONCORD_PTXAS?)"
    );
    let dir = std::env::temp_dir().join(format!("concord-ptx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (arch, sm) in [("compute_80", "sm_80"), ("compute_90", "sm_90")] {
        let ptx = cuda::compile_ptx(arch)
            .unwrap_or_else(|e| panic!("{arch}: {e}"))
            .to_src();
        for f in cuda::ENTRY_POINTS {
            assert!(ptx.contains(&format!(".entry {f}")), "{arch}: no entry {f}");
        }
        // --fmad=false: the only fused multiply-adds in the PTX are the explicit fmaf calls of the
        // matmul kernels (fma.rn.f32); no f64 fma is introduced into mandelbrot.
        assert!(ptx.contains("fma.rn.f32"));
        assert!(
            !ptx.contains("fma.rn.f64"),
            "{arch}: an f64 fma was contracted"
        );
        let Some(ptxas) = &ptxas else {
            eprintln!("SKIPPED ptxas: not found (set CONCORD_PTXAS)");
            continue;
        };
        let path = dir.join(format!("kernels_{sm}.ptx"));
        std::fs::write(&path, &ptx).unwrap();
        let out = std::process::Command::new(ptxas)
            .args(["-v", &format!("-arch={sm}"), "-o"])
            .arg(dir.join(format!("kernels_{sm}.cubin")))
            .arg(&path)
            .output()
            .expect("ptxas runs");
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "ptxas {sm} failed:\n{log}");
        for line in log.lines().filter(|l| {
            l.contains("registers") || l.contains("spill") || l.contains("Compiling entry")
        }) {
            println!("{sm}: {}", line.trim());
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn gpu_equals_cpu_when_a_device_is_present() {
    let gpu = match cuda::CudaBackend::detect() {
        Ok(g) => g,
        Err(reason) => {
            eprintln!("SKIPPED: no CUDA device: {reason}");
            return;
        }
    };
    println!(
        "device: {} (cc {}, {} MiB)",
        gpu.name, gpu.compute_capability, gpu.vram_mib
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut all = cases();
    all.push(KernelParams::MatmulF32 {
        m: 512,
        n: 384,
        k: 1000,
    });
    all.push(KernelParams::Mandelbrot {
        width: 800,
        height: 600,
        cx: -0.5,
        cy: 0.0,
        scale: 0.004,
        max_iter: 1000,
    });
    for p in all {
        let input = input_for(&p, &mut rng);
        let cpu = run_cpu(&p, &input, &Limits::default()).unwrap();
        assert_eq!(gpu.run(&p, &input).unwrap(), cpu, "{p:?}");
    }
}
