// A small CUDA emulation for running kernels.cu on the CPU in CI: each block's threads run as OS
// threads, __syncthreads() is a barrier across them, __shared__ memory is one static array per
// kernel (blocks run one after another), and fmaf is the C library's correctly rounded fmaf.
// Compiled with -ffp-contract=off, so nothing is contracted behind the kernels' back.
#pragma once
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <barrier>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

inline thread_local dim3 threadIdx;
inline thread_local dim3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;
inline std::barrier<>* concord_emu_barrier = nullptr;

inline void __syncthreads() { concord_emu_barrier->arrive_and_wait(); }

#define __global__
#define __device__
#define __constant__
#define __shared__ static
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

// Not over-aligned here: the emulation's global buffers are Rust Vecs (4-byte aligned), where the
// GPU's come from cuMemAlloc (256-byte aligned) and the kernels only read float4 at multiples of 4.
struct float4 {
    float x, y, z, w;
};
struct int4 {
    int x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

inline float __int_as_float(int v) {
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

// Sum of the four signed byte products plus c, wrapping like the GPU's 32-bit adder.
inline int __dp4a(int a, int b, int c) {
    unsigned acc = (unsigned)c;
    for (int i = 0; i < 4; ++i) {
        int x = (signed char)(unsigned char)((unsigned)a >> (8 * i));
        int y = (signed char)(unsigned char)((unsigned)b >> (8 * i));
        acc += (unsigned)(x * y);
    }
    return (int)acc;
}

template <class F>
void concord_emu_launch(dim3 grid, dim3 block, F kernel) {
    blockDim = block;
    gridDim = grid;
    unsigned threads = block.x * block.y * block.z;
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                std::barrier<> bar(threads);
                concord_emu_barrier = &bar;
                std::vector<std::thread> pool;
                pool.reserve(threads);
                for (unsigned tz = 0; tz < block.z; ++tz)
                    for (unsigned ty = 0; ty < block.y; ++ty)
                        for (unsigned tx = 0; tx < block.x; ++tx)
                            pool.emplace_back([=] {
                                blockIdx = dim3{bx, by, bz};
                                threadIdx = dim3{tx, ty, tz};
                                kernel();
                            });
                for (auto& t : pool) t.join();
            }
}
