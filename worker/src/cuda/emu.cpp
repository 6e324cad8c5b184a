// Launchers for the emulated kernels. The launch geometry (grid, block, pieces) comes from the
// Rust side (cuda/geometry.rs), the same that the CUDA backend uses.
#include "cuda_emu.h"
#include "kernels.cu"

#define CONCORD_EMU_GEOMETRY unsigned gx, unsigned gy, unsigned bx, unsigned by
#define CONCORD_EMU_LAUNCH(call) concord_emu_launch(dim3{gx, gy, 1}, dim3{bx, by, 1}, [&] { call; })

extern "C" void concord_emu_matmul_f32(CONCORD_EMU_GEOMETRY, const float* A, const float* B, float* C, unsigned m, unsigned n, unsigned k, unsigned row0) {
    CONCORD_EMU_LAUNCH(matmul_f32(A, B, C, m, n, k, row0));
}

extern "C" void concord_emu_matmul_i8(CONCORD_EMU_GEOMETRY, const signed char* A, const signed char* B, int* C, unsigned m, unsigned n, unsigned k, unsigned row0) {
    CONCORD_EMU_LAUNCH(matmul_i8(A, B, C, m, n, k, row0));
}

extern "C" void concord_emu_bias_relu(CONCORD_EMU_GEOMETRY, float* Y, const float* b, unsigned rows, unsigned cols) {
    CONCORD_EMU_LAUNCH(bias_relu(Y, b, rows, cols));
}

extern "C" void concord_emu_mandelbrot(CONCORD_EMU_GEOMETRY, unsigned* out, unsigned w, unsigned h, double cx, double cy, double scale, unsigned max_iter, unsigned row0) {
    CONCORD_EMU_LAUNCH(mandelbrot(out, w, h, cx, cy, scale, max_iter, row0));
}

extern "C" void concord_emu_sha256_batch(CONCORD_EMU_GEOMETRY, const unsigned char* in, unsigned char* out, unsigned count, unsigned len, unsigned first) {
    CONCORD_EMU_LAUNCH(sha256_batch(in, out, count, len, first));
}
