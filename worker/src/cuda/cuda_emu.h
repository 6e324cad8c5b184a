// A small CUDA emulation for running kernels.cu on the CPU in CI: each block's threads run as OS
// threads, __syncthreads() is a barrier across them, __shared__ memory is one static array per
// kernel (blocks run one after another), and fmaf is the C library's correctly rounded fmaf.
// Compiled with -ffp-contract=off, so nothing is contracted behind the kernels' back.
#pragma once
#include <math.h>
#include <stddef.h>
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
