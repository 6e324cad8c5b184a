//! The CUDA backend without (and with) a GPU:
//! - the kernels' CUDA source, compiled as C++ against the emulation header and launched with the
//!   backend's geometry, equals the CPU backend bit for bit: edge tiles, sizes that are not
//!   multiples of the tile or the k stage, several blocks, and NaN / ±Inf / −0 / subnormal /
//!   overflowing inputs;
//! - NVRTC compiles every kernel with the worker's real options: PTX for compute_80 and
//!   compute_90, which ptxas assembles without spills, and CUBINs for sm_70 … sm_90 (what the
//!   worker loads); CI requires the tools (`CONCORD_REQUIRE_CUDA_TOOLS=1`) and fails rather than
//!   skips without them;
//! - on a machine with a CUDA device, the GPU equals the CPU bit for bit, and detection failing
//!   there is a failure, not a skip (skipped, with the reason, only where there is no device).

use concord_client::kernels::{KernelParams, Limits};
use concord_worker::cuda;
use concord_worker::kernels::{run_cpu, KernelError};
use rand::{Rng, SeedableRng};

fn cases() -> Vec<KernelParams> {
    let mut v = vec![];
    for (m, n, k) in [
        (1, 1, 1),
        (16, 16, 16),
        (17, 19, 33),
        (3, 40, 5),
        (33, 2, 70),
        // several 128×128 tiles in both directions, k not a multiple of the 8 / 16 stage
        (130, 129, 20),
        (129, 257, 9),
        (7, 131, 4),
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
    v.push(KernelParams::MlpF32 {
        batch: 130,
        sizes: vec![9, 131, 2],
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

/// Mostly ordinary floats, with NaNs (payloads, both signs), ±Inf, ±0, subnormals and values
/// whose products overflow; random bytes for the other kernels.
fn input_for(p: &KernelParams, rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    let len = p.input_len().unwrap() as usize;
    match p {
        KernelParams::MatmulF32 { .. } | KernelParams::MlpF32 { .. } => (0..len / 4)
            .flat_map(|_| {
                let v = match rng.gen_range(0..60) {
                    0 => f32::from_bits(0x7FC0_0001 | rng.gen_range(0..0x3F_FFFF)),
                    1 => f32::from_bits(0xFF80_0001 | rng.gen_range(0..0x3F_FFFF)),
                    2 => f32::INFINITY,
                    3 => f32::NEG_INFINITY,
                    4 => -0.0,
                    5 => f32::from_bits(rng.gen_range(1..0x80_0000)),
                    6 => rng.gen_range(1e37f32..3e38),
                    _ => rng.gen_range(-2.0f32..2.0),
                };
                v.to_le_bytes()
            })
            .collect(),
        _ => (0..len).map(|_| rng.gen()).collect(),
    }
}

#[test]
fn emulated_cuda_kernels_equal_the_cpu_backend() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut nans = 0;
    for p in cases() {
        let input = input_for(&p, &mut rng);
        let cpu = run_cpu(&p, &input, &Limits::default()).unwrap();
        let gpu_code = cuda::emulation::run(&p, &input).unwrap();
        assert_eq!(cpu, gpu_code, "{p:?}");
        if matches!(p, KernelParams::MatmulF32 { .. }) {
            nans += cpu
                .as_chunks::<4>()
                .0
                .iter()
                .filter(|b| u32::from_le_bytes(**b) == 0x7FC0_0000)
                .count();
        }
    }
    assert!(
        nans > 0,
        "the inputs produced no NaN output: the canonical-NaN rule went untested"
    );
}

#[test]
fn emulated_cuda_kernels_refuse_short_and_long_inputs() {
    let p = KernelParams::MatmulF32 { m: 3, n: 4, k: 5 };
    let len = p.input_len().unwrap() as usize;
    for bad in [len - 4, len + 4, 0] {
        let input = vec![0u8; bad];
        let err = cuda::emulation::run(&p, &input).unwrap_err();
        assert!(
            matches!(err, KernelError::InputSize { got, .. } if got == bad as u64),
            "{err}"
        );
        assert_eq!(run_cpu(&p, &input, &Limits::default()).unwrap_err(), err);
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

fn nvrtc_or_skip() -> bool {
    let required = std::env::var("CONCORD_REQUIRE_CUDA_TOOLS").is_ok_and(|v| v == "1");
    if cuda::nvrtc_available() {
        return true;
    }
    assert!(
        !required,
        "CONCORD_REQUIRE_CUDA_TOOLS=1 but libnvrtc.so.12 is not loadable (LD_LIBRARY_PATH?)"
    );
    eprintln!("SKIPPED: libnvrtc.so.12 not found; scripts/test.sh installs it (pip nvidia-cuda-nvrtc-cu12)");
    false
}

#[test]
fn nvrtc_compiles_and_ptxas_assembles_every_kernel_without_spills() {
    if !nvrtc_or_skip() {
        return;
    }
    let required = std::env::var("CONCORD_REQUIRE_CUDA_TOOLS").is_ok_and(|v| v == "1");
    let ptxas = ptxas();
    assert!(
        ptxas.is_some() || !required,
        "CONCORD_REQUIRE_CUDA_TOOLS=1 but ptxas is not found (CONCORD_PTXAS?)"
    );
    let dir = std::env::temp_dir().join(format!("concord-ptx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (arch, sm) in [("compute_80", "sm_80"), ("compute_90", "sm_90")] {
        let cuda::Compiled::Ptx(ptx) =
            cuda::compile(arch).unwrap_or_else(|e| panic!("{arch}: {e}"))
        else {
            panic!("{arch}: expected PTX");
        };
        for f in cuda::ENTRY_POINTS {
            assert!(ptx.contains(&format!(".entry {f}")), "{arch}: no entry {f}");
        }
        // --fmad=false: the only fused multiply-adds in the PTX are the explicit fmaf calls of the
        // matmul kernels (fma.rn.f32); no f64 fma is introduced into mandelbrot; matmul_i8 uses
        // dp4a.
        assert!(ptx.contains("fma.rn.f32"));
        assert!(
            ptx.contains("dp4a.s32.s32"),
            "{arch}: matmul_i8 does not use dp4a"
        );
        assert!(
            !ptx.contains("fma.rn.f64"),
            "{arch}: an f64 fma was contracted"
        );
        assert!(!ptx.contains("atom."), "{arch}: an atomic crept in");
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
        let mut entries = 0;
        for line in log.lines() {
            if line.contains("registers")
                || line.contains("spill")
                || line.contains("Compiling entry")
            {
                println!("{sm}: {}", line.trim());
            }
            if line.contains("spill stores") {
                entries += 1;
                assert!(
                    line.contains("0 bytes spill stores, 0 bytes spill loads"),
                    "{sm} spills: {line}"
                );
            }
        }
        assert!(
            entries >= cuda::ENTRY_POINTS.len(),
            "{sm}: ptxas reported no spill line per entry:\n{log}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn nvrtc_builds_a_cubin_for_every_supported_architecture() {
    if !nvrtc_or_skip() {
        return;
    }
    let archs = cuda::nvrtc_architectures().unwrap();
    let (major, _) = cuda::nvrtc_version().unwrap();
    // CUDA 13 dropped Volta (sm_70); CI's NVRTC 12.9 must still build it.
    let wanted: &[u16] = if major <= 12 {
        &[70, 75, 80, 86, 89, 90]
    } else {
        &[75, 80, 86, 89, 90]
    };
    for &cc in wanted {
        assert!(
            archs.contains(&cc),
            "NVRTC {:?} does not know sm_{cc}",
            cuda::nvrtc_version()
        );
        match cuda::compile(&format!("sm_{cc}")).unwrap_or_else(|e| panic!("sm_{cc}: {e}")) {
            cuda::Compiled::Cubin(bin) => {
                assert_eq!(&bin[..4], b"\x7fELF", "sm_{cc}: not an ELF image");
                println!("sm_{cc}: CUBIN {} bytes", bin.len());
            }
            cuda::Compiled::Ptx(_) => panic!("sm_{cc}: expected a CUBIN"),
        }
    }
}

#[test]
fn gpu_equals_cpu_when_a_device_is_present() {
    if !cuda::device_present() {
        eprintln!("SKIPPED: no CUDA device (no libcuda.so, or the driver reports no device)");
        return;
    }
    // A device is here: failing to use it is a failure, not a skip.
    let gpu = cuda::CudaBackend::detect()
        .unwrap_or_else(|e| panic!("a CUDA device is present but unusable: {e}"));
    println!(
        "device: {} (cc {}, {} MiB, driver {}, NVRTC {:?})",
        gpu.name, gpu.compute_capability, gpu.vram_mib, gpu.driver_version, gpu.nvrtc_version
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut all = cases();
    all.push(KernelParams::MatmulF32 {
        m: 512,
        n: 384,
        k: 1000,
    });
    all.push(KernelParams::MatmulF32 {
        m: 1031,
        n: 1029,
        k: 515,
    });
    all.push(KernelParams::MatmulI8 {
        m: 1031,
        n: 1029,
        k: 515,
    });
    all.push(KernelParams::MlpF32 {
        batch: 300,
        sizes: vec![257, 513, 10],
    });
    all.push(KernelParams::Mandelbrot {
        width: 800,
        height: 600,
        cx: -0.5,
        cy: 0.0,
        scale: 0.004,
        max_iter: 1000,
    });
    // Several launches (pieces) per job.
    all.push(KernelParams::Mandelbrot {
        width: 2048,
        height: 2048,
        cx: -0.5,
        cy: 0.0,
        scale: 0.0015,
        max_iter: 2000,
    });
    all.push(KernelParams::Sha256Batch {
        count: 300_000,
        len: 1000,
    });
    for p in all {
        let input = input_for(&p, &mut rng);
        let cpu = run_cpu(&p, &input, &Limits::default()).unwrap();
        let out = gpu.run(&p, &input).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        assert!(out == cpu, "{p:?}: GPU and CPU differ");
    }
    // Inputs of the wrong size are refused before anything touches the device.
    let p = KernelParams::MatmulF32 {
        m: 64,
        n: 64,
        k: 64,
    };
    let err = gpu.run(&p, &vec![0u8; 64 * 64 * 8 - 4]).unwrap_err();
    assert!(
        matches!(err, cuda::GpuError::Input(KernelError::InputSize { .. })),
        "{err}"
    );
    assert!(gpu.unhealthy().is_none());
}
