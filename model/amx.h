// Float32 products on AMX tiles (Intel's Advanced Matrix Extensions, bf16): each float32 value split
// into two bfloat16 (hi = bf16(x), lo = bf16(x - hi): about 16 mantissa bits), and a product as
// hi·hi + hi·lo + lo·hi, summed in float32 ("bf16x3": what PyTorch's
// torch.set_float32_matmul_precision("high") allows; cuDNN's default TF32 keeps 10 bits). About
// 4-5e-6 of the largest product where float32 FMAs make 1e-6; at 3x the bf16 work it still runs
// 1.5-1.9x our float32 AVX-512 products (one thread, 64-320 rows). The Winograd transforms amplify
// it: 6-8e-5 of a layer's largest output for F(4x4, 2x2), 1e-5 for F(2x2, 2x2). Used for the U-Net's
// Winograd products where ForwardOptions::amx asks (bft bench --fp32-math high) and the CPU allows.
#pragma once

#include <cstdint>

namespace bft::amx {

// Whether this CPU has AMX bf16 (and AVX-512 bf16 for the splits) and the kernel lets this process
// use its tile data (Linux: arch_prctl ARCH_REQ_XCOMP_PERM, asked once).
bool usable();

// The weights' packed form for products(): w [k][64] float32 (k a multiple of 32) to hi and lo
// bfloat16 in pairs of rows, [k / 2][64][2] each (the layout TDPBF16PS reads), hi then lo at out
// (2 k 64 values). Plain C++: runs anywhere.
void pack_weights(const float* w, int64_t k, uint16_t* out);

// x's rows (`rows` rows of k float32 at row stride ldx) split into hi and lo bfloat16 rows of stride
// lda at hi and lo, rows up to padded_rows zero. Rounds to nearest even, as the hardware converts
// (which also flushes denormal inputs, as TDPBF16PS ignores them). An infinite hi (x infinite or
// beyond bf16's range) leaves lo NaN: such inputs give NaN, as Winograd's transforms of them would
// in float32. Plain C++, the reference form: the engine's Winograd transforms split as they store
// (winograd_stride2.cpp, AVX-512 bf16).
void split_rows(const float* x, int64_t ldx, int64_t rows, int64_t padded_rows, int64_t k, uint16_t* hi,
                uint16_t* lo, int64_t lda);

// y (rows x 64 float32, row stride ldy, overwritten) = the rows split at hi, lo (row stride lda,
// rows rounded up to 32 there) times the weights packed at w (pack_weights). k a multiple of 32.
// `after` (or nullptr): the weights the caller multiplies next, prefetched into L2 meanwhile.
// Needs usable(); single-threaded (each thread its own tile configuration).
void products(const uint16_t* hi, const uint16_t* lo, int64_t lda, int64_t rows, int64_t k, const uint16_t* w,
              float* y, int64_t ldy, const uint16_t* after);

} // namespace bft::amx
