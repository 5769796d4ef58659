// The Winograd F(4, 2) machinery that winograd_stride2.cpp (the U-Net's stride-2 layers, inference)
// and winograd_4x4.cpp (the PatchGAN's 4x4 stride-1 layer, training) share: 16 channels as one
// vector value, F(4, 2)'s input and output transforms, and the 5x5 input tile. Internal to those
// two files (an anonymous namespace: each gets its own copy of the vector clones).
//
// F(4, 2) by Toom-Cook with the points 0, 1, -1, 2 and infinity: a window d of 5 gives the 4
// outputs y(u) = g0 d(u) + g1 d(u + 1) as A^T [(G g) . (B^T d)] (A^T the evaluation of a degree-3
// polynomial at the points, B^T the transposed inverse of the degree-4 one). In 2D, B^T d B and so on.
// Float32 rounding, against float64: 4-13e-6 of the largest output at 256 to 1024 channels of random
// data (the products' sums dominate; F(2x2, 2x2) less).
//   B^T = [1 -1/2 -1 1/2 0; 0 1 1/2 -1/2 0; 0 -1/3 1/2 -1/6 0; 0 -1/6 0 1/6 0; 0 2 -1 -2 1],
//   A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1] (written out in the macros below),
//   G   = [1 0; 1 1; 1 -1; 1 2; 0 1].
#pragma once

#include "vectorize.h"

#include <cstdint>

namespace bft {
namespace {

constexpr int kLanes = 16;
alignas(64) const float kZeros[kLanes] = {};

// 16 channels as one value (GCC's vector extension: one AVX-512 register in the x86-64-v4 clone,
// two or four narrower ones in the others); loads and stores need only float alignment.
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
typedef float UnalignedVec __attribute__((vector_size(kLanes * sizeof(float)), aligned(alignof(float))));

// (Macros: functions taking or returning Vec would change the ABI between the clones.)
#define BFT_LOAD(p) (*reinterpret_cast<const UnalignedVec*>(p))
#define BFT_STORE(p, v) (*reinterpret_cast<UnalignedVec*>(p) = (v))

// B^T and A^T's rows written out (the zeros of the matrices above skipped).
#define BFT_WINOGRAD2_BT(d, r)                                                                           \
    {                                                                                                    \
        r[0] = d(0) - 0.5f * d(1) - d(2) + 0.5f * d(3);                                                  \
        r[1] = d(1) + 0.5f * d(2) - 0.5f * d(3);                                                         \
        r[2] = (-1.0f / 3) * d(1) + 0.5f * d(2) + (-1.0f / 6) * d(3);                                    \
        r[3] = (1.0f / 6) * (d(3) - d(1));                                                               \
        r[4] = 2.0f * (d(1) - d(3)) - d(2) + d(4);                                                       \
    }
#define BFT_WINOGRAD2_AT(m, r)                                                                           \
    {                                                                                                    \
        r[0] = m(0) + m(1) + m(2) + m(3);                                                                \
        r[1] = m(1) - m(2) + 2.0f * m(3);                                                                \
        r[2] = m(1) + m(2) + 4.0f * m(3);                                                                \
        r[3] = m(1) - m(2) + 8.0f * m(3) + m(4);                                                         \
    }

// How the input transform reads a window's 16 channels: normalised first where mean is given
// ((value - mean) * inv, per channel), then leaky_relu(value, slope) unless slope is 1; slope 0 is a
// ReLU that makes NaN 0 (as kernels::skip_concat's), any other keeps it (as LibTorch's leaky_relu).
struct Activation {
    float slope = 1.0f;
    const float* mean = nullptr;
    const float* inv = nullptr;
};

// A window value as the layer's input (see Activation).
#define BFT_ACTIVATE(x)                                                                                  \
    {                                                                                                    \
        if (act.mean)                                                                                    \
            x = (x - mean) * inv;                                                                        \
        if (act.slope == 0.0f)                                                                           \
            x = x > 0 ? x : zero;                                                                        \
        else if (act.slope != 1.0f)                                                                      \
            x = x > 0 ? x : x * act.slope;                                                               \
    }
#define BFT_ACTIVATION_SETUP                                                                             \
    const Vec zero = {};                                                                                 \
    const Vec mean = act.mean ? BFT_LOAD(act.mean) : zero;                                               \
    const Vec inv = act.mean ? BFT_LOAD(act.inv) : zero;

// B^T d B for 16 channels: d[r * 5 + s] points at window pixel (r, s)'s 16 values (kZeros or
// kNegInf outside the map), read through act; point p goes to v + p * point_stride.
BFT_VECTOR_CLONES void input_tile4(const float* const* __restrict d, float* __restrict v, int64_t point_stride,
                                   const Activation& act)
{
    BFT_ACTIVATION_SETUP
    constexpr int kWindow = 5;
    Vec t[kWindow][kWindow]; // [point row][window column]
    for (int s = 0; s < kWindow; ++s) {
        Vec in[kWindow], col[kWindow];
        for (int r = 0; r < kWindow; ++r) {
            in[r] = BFT_LOAD(d[r * kWindow + s]);
            BFT_ACTIVATE(in[r])
        }
#define BFT_D(r) in[r]
        BFT_WINOGRAD2_BT(BFT_D, col)
#undef BFT_D
        for (int a = 0; a < kWindow; ++a)
            t[a][s] = col[a];
    }
    for (int a = 0; a < kWindow; ++a) {
        Vec row[kWindow];
#define BFT_D(s) t[a][s]
        BFT_WINOGRAD2_BT(BFT_D, row)
#undef BFT_D
        for (int b = 0; b < kWindow; ++b)
            BFT_STORE(v + (a * kWindow + b) * point_stride, row[b]);
    }
}

} // namespace
} // namespace bft
