// Concord kernel catalogue v1, CUDA backend.
//
// Compiled at start-up by NVRTC with --fmad=false: no multiply-add is ever contracted, and the
// kernels write fmaf() exactly where the protocol's definitions have an fma. Reductions keep the
// definitions' order (k = 0, 1, ..., K-1) and use no atomics, so every output is bit-identical to
// the CPU backend's. The same text is compiled as C++ for the CPU (cuda_emu.h) and run in CI.

#define CONCORD_TILE 16

// C[i][j] = fold over k of acc = fmaf(A[i][k], B[k][j], acc), acc from +0.0f.
// Tiled through shared memory; each thread owns one C[i][j] and walks k in order.
extern "C" __global__ void matmul_f32(const float* A, const float* B, float* C,
                                      unsigned m, unsigned n, unsigned k) {
    __shared__ float As[CONCORD_TILE][CONCORD_TILE];
    __shared__ float Bs[CONCORD_TILE][CONCORD_TILE];
    unsigned tx = threadIdx.x, ty = threadIdx.y;
    unsigned row = blockIdx.y * CONCORD_TILE + ty;
    unsigned col = blockIdx.x * CONCORD_TILE + tx;
    float acc = 0.0f;
    for (unsigned t = 0; t < k; t += CONCORD_TILE) {
        As[ty][tx] = (row < m && t + tx < k) ? A[(size_t)row * k + t + tx] : 0.0f;
        Bs[ty][tx] = (t + ty < k && col < n) ? B[(size_t)(t + ty) * n + col] : 0.0f;
        __syncthreads();
        unsigned lim = k - t < CONCORD_TILE ? k - t : CONCORD_TILE;
        for (unsigned kk = 0; kk < lim; ++kk) {
            acc = fmaf(As[ty][kk], Bs[kk][tx], acc);
        }
        __syncthreads();
    }
    if (row < m && col < n) {
        C[(size_t)row * n + col] = acc;
    }
}

// i8 inputs, wrapping i32 accumulation in k order (unsigned arithmetic wraps by definition).
extern "C" __global__ void matmul_i8(const signed char* A, const signed char* B, int* C,
                                     unsigned m, unsigned n, unsigned k) {
    __shared__ int As[CONCORD_TILE][CONCORD_TILE];
    __shared__ int Bs[CONCORD_TILE][CONCORD_TILE];
    unsigned tx = threadIdx.x, ty = threadIdx.y;
    unsigned row = blockIdx.y * CONCORD_TILE + ty;
    unsigned col = blockIdx.x * CONCORD_TILE + tx;
    unsigned acc = 0u;
    for (unsigned t = 0; t < k; t += CONCORD_TILE) {
        As[ty][tx] = (row < m && t + tx < k) ? (int)A[(size_t)row * k + t + tx] : 0;
        Bs[ty][tx] = (t + ty < k && col < n) ? (int)B[(size_t)(t + ty) * n + col] : 0;
        __syncthreads();
        unsigned lim = k - t < CONCORD_TILE ? k - t : CONCORD_TILE;
        for (unsigned kk = 0; kk < lim; ++kk) {
            acc += (unsigned)(As[ty][kk] * Bs[kk][tx]);
        }
        __syncthreads();
    }
    if (row < m && col < n) {
        C[(size_t)row * n + col] = (int)acc;
    }
}

// mlp_f32 layer epilogue: Y[i][j] = relu(Y[i][j] + b[j]), relu(v) = v > 0 ? v : +0.0f.
extern "C" __global__ void bias_relu(float* Y, const float* b, unsigned rows, unsigned cols) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx < rows * cols) {
        float v = Y[idx] + b[idx % cols];
        Y[idx] = v > 0.0f ? v : 0.0f;
    }
}

// Escape-time counts in f64; every operation rounded separately (--fmad=false).
extern "C" __global__ void mandelbrot(unsigned* out, unsigned width, unsigned height,
                                      double cx, double cy, double scale, unsigned max_iter) {
    unsigned px = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned py = blockIdx.y * blockDim.y + threadIdx.y;
    if (px >= width || py >= height) {
        return;
    }
    double x0 = cx + ((double)px - (double)width / 2.0) * scale;
    double y0 = cy + ((double)py - (double)height / 2.0) * scale;
    double x = 0.0, y = 0.0;
    unsigned i = 0;
    while (i < max_iter && x * x + y * y <= 4.0) {
        double xt = x * x - y * y + x0;
        y = 2.0 * x * y + y0;
        x = xt;
        ++i;
    }
    out[(size_t)py * width + px] = i;
}

// sha256 of message i (len bytes) into out[32 i .. 32 i + 32]; one thread per message.
__constant__ unsigned CONCORD_K256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

__device__ unsigned concord_rotr(unsigned x, unsigned n) { return (x >> n) | (x << (32u - n)); }

__device__ void concord_sha256_block(unsigned* h, const unsigned char* p) {
    unsigned w[64];
    for (int i = 0; i < 16; ++i) {
        w[i] = ((unsigned)p[4 * i] << 24) | ((unsigned)p[4 * i + 1] << 16) | ((unsigned)p[4 * i + 2] << 8) | (unsigned)p[4 * i + 3];
    }
    for (int i = 16; i < 64; ++i) {
        unsigned s0 = concord_rotr(w[i - 15], 7) ^ concord_rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        unsigned s1 = concord_rotr(w[i - 2], 17) ^ concord_rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    unsigned a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
        unsigned t1 = hh + (concord_rotr(e, 6) ^ concord_rotr(e, 11) ^ concord_rotr(e, 25)) + ((e & f) ^ (~e & g)) + CONCORD_K256[i] + w[i];
        unsigned t2 = (concord_rotr(a, 2) ^ concord_rotr(a, 13) ^ concord_rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

extern "C" __global__ void sha256_batch(const unsigned char* in, unsigned char* out,
                                        unsigned count, unsigned len) {
    unsigned idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= count) {
        return;
    }
    const unsigned char* msg = in + (size_t)idx * len;
    unsigned h[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                     0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    unsigned full = len / 64;
    for (unsigned blk = 0; blk < full; ++blk) {
        concord_sha256_block(h, msg + (size_t)blk * 64);
    }
    unsigned char tail[128];
    unsigned rem = len - full * 64;
    for (unsigned i = 0; i < 128; ++i) {
        tail[i] = 0;
    }
    for (unsigned i = 0; i < rem; ++i) {
        tail[i] = msg[(size_t)full * 64 + i];
    }
    tail[rem] = 0x80;
    unsigned tail_len = rem + 9 <= 64 ? 64 : 128;
    unsigned long long bits = (unsigned long long)len * 8ull;
    for (int i = 0; i < 8; ++i) {
        tail[tail_len - 1 - i] = (unsigned char)(bits >> (8 * i));
    }
    concord_sha256_block(h, tail);
    if (tail_len == 128) {
        concord_sha256_block(h, tail + 64);
    }
    for (int i = 0; i < 8; ++i) {
        out[(size_t)idx * 32 + 4 * i] = (unsigned char)(h[i] >> 24);
        out[(size_t)idx * 32 + 4 * i + 1] = (unsigned char)(h[i] >> 16);
        out[(size_t)idx * 32 + 4 * i + 2] = (unsigned char)(h[i] >> 8);
        out[(size_t)idx * 32 + 4 * i + 3] = (unsigned char)h[i];
    }
}
