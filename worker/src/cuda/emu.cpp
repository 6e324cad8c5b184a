// Launchers for the emulated kernels, with the launch geometry of the CUDA backend (cuda/mod.rs).
#include "cuda_emu.h"
#include "kernels.cu"

static unsigned up(unsigned a, unsigned b) { return (a + b - 1) / b; }

extern "C" void concord_emu_matmul_f32(const float* A, const float* B, float* C, unsigned m, unsigned n, unsigned k) {
    concord_emu_launch(dim3{up(n, 16), up(m, 16), 1}, dim3{16, 16, 1}, [&] { matmul_f32(A, B, C, m, n, k); });
}

extern "C" void concord_emu_matmul_i8(const signed char* A, const signed char* B, int* C, unsigned m, unsigned n, unsigned k) {
    concord_emu_launch(dim3{up(n, 16), up(m, 16), 1}, dim3{16, 16, 1}, [&] { matmul_i8(A, B, C, m, n, k); });
}

extern "C" void concord_emu_bias_relu(float* Y, const float* b, unsigned rows, unsigned cols) {
    concord_emu_launch(dim3{up(rows * cols, 256), 1, 1}, dim3{256, 1, 1}, [&] { bias_relu(Y, b, rows, cols); });
}

extern "C" void concord_emu_mandelbrot(unsigned* out, unsigned w, unsigned h, double cx, double cy, double scale, unsigned max_iter) {
    concord_emu_launch(dim3{up(w, 16), up(h, 16), 1}, dim3{16, 16, 1}, [&] { mandelbrot(out, w, h, cx, cy, scale, max_iter); });
}

extern "C" void concord_emu_sha256_batch(const unsigned char* in, unsigned char* out, unsigned count, unsigned len) {
    concord_emu_launch(dim3{up(count, 128), 1, 1}, dim3{128, 1, 1}, [&] { sha256_batch(in, out, count, len); });
}
