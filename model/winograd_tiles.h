// The Winograd F(4, 2) machinery that winograd_stride2.cpp (the U-Net's stride-2 layers, inference)
// and winograd_4x4.cpp (the PatchGAN's 4x4 stride-1 layer, training) share: 16 channels as one
// vector value, F(4, 2)'s input and output transforms, every tile transform's separable loops, and
// the 5x5 input tile. Internal to those two files (an anonymous namespace: each gets its own copy of
// the vector clones).
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

// A tile's 2D transform by a 1D one, columns first: T1D(get, r) writes r[0 .. OUT) from get(0 ..
// IN). LOAD(x, r, s) sets x to the tile's value at row r, column s; then t[a][s] = T1D(column s)[a]
// and STORE(a, b, value) takes T1D(t's row a)[b]. Every tile transform here is one of these, with its
// own 1D transform, loads and stores (a macro: functions taking Vec would change the ABI between
// the clones).
#define BFT_SEPARABLE(IN, OUT, LOAD, T1D, STORE)                                                         \
    {                                                                                                    \
        Vec sep_t[OUT][IN];                                                                              \
        for (int sep_s = 0; sep_s < (IN); ++sep_s) {                                                     \
            Vec sep_in[IN], sep_col[OUT];                                                                \
            for (int sep_r = 0; sep_r < (IN); ++sep_r)                                                   \
                LOAD(sep_in[sep_r], sep_r, sep_s)                                                        \
            T1D(BFT_SEPARABLE_IN, sep_col)                                                               \
            for (int sep_a = 0; sep_a < (OUT); ++sep_a)                                                  \
                sep_t[sep_a][sep_s] = sep_col[sep_a];                                                    \
        }                                                                                                \
        for (int sep_a = 0; sep_a < (OUT); ++sep_a) {                                                    \
            Vec sep_row[OUT];                                                                            \
            T1D(BFT_SEPARABLE_ROW, sep_row)                                                              \
            for (int sep_b = 0; sep_b < (OUT); ++sep_b)                                                  \
                STORE(sep_a, sep_b, sep_row[sep_b])                                                      \
        }                                                                                                \
    }
#define BFT_SEPARABLE_IN(i) sep_in[i]
#define BFT_SEPARABLE_ROW(i) sep_t[sep_a][i]

// The body of an input transform of W x W windows by the 1D transform T1D: d[r * W + s] points at
// window pixel (r, s)'s 16 values, read through act; point p goes to v + p * point_stride.
#define BFT_WINDOW_IN(x, r, s)                                                                           \
    {                                                                                                    \
        x = BFT_LOAD(d[(r) * window + (s)]);                                                             \
        BFT_ACTIVATE(x)                                                                                  \
    }
#define BFT_POINT_OUT(a, b, value) BFT_STORE(v + ((a) * window + (b)) * point_stride, value);
#define BFT_INPUT_TILE(W, T1D)                                                                           \
    {                                                                                                    \
        BFT_ACTIVATION_SETUP                                                                             \
        constexpr int window = W;                                                                        \
        BFT_SEPARABLE(W, W, BFT_WINDOW_IN, T1D, BFT_POINT_OUT)                                           \
    }

// B^T d B for 16 channels: d[r * 5 + s] points at window pixel (r, s)'s 16 values (kZeros or
// kNegInf outside the map), read through act; point p goes to v + p * point_stride.
BFT_VECTOR_CLONES void input_tile4(const float* const* __restrict d, float* __restrict v, int64_t point_stride,
                                   const Activation& act)
{
    BFT_INPUT_TILE(5, BFT_WINOGRAD2_BT)
}

} // namespace
} // namespace bft
