//! Compiles the CUDA kernels' source as C++ against a small emulation header, so CI runs the GPU
//! code (indexing, tiling, bounds, barriers) on machines without a GPU.

fn main() {
    for f in [
        "src/cuda/kernels.cu",
        "src/cuda/cuda_emu.h",
        "src/cuda/emu.cpp",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
    cc::Build::new()
        .cpp(true)
        .std("c++20")
        .flag("-ffp-contract=off")
        .flag("-pthread")
        .flag("-fno-strict-aliasing")
        .flag_if_supported("-Wno-unknown-pragmas")
        .flag_if_supported("-Wno-unused-parameter")
        .include("src/cuda")
        .file("src/cuda/emu.cpp")
        .compile("concord_cuda_emu");
    println!("cargo:rustc-link-lib=pthread");
}
