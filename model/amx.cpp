// bf16x3 products on AMX tiles: see amx.h.
#include "amx.h"

#include <c10/util/BFloat16.h>

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define BFT_AMX 1
#endif

namespace bft::amx {
namespace {

// x as hi and lo bfloat16 bits, each rounded to nearest even (c10's rounding, as the hardware's).
void split(float x, uint16_t* hi, uint16_t* lo)
{
    const c10::BFloat16 h(x);
    *hi = h.x;
    *lo = c10::BFloat16(x - static_cast<float>(h)).x;
}

#ifdef BFT_AMX
bool cpu_has_amx()
{
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, nullptr) < 7)
        return false;
    __cpuid_count(7, 0, a, b, c, d);
    const bool tile = d & (1u << 24), bf16 = d & (1u << 22), avx512bw = b & (1u << 30);
    __cpuid_count(7, 1, a, b, c, d);
    const bool avx512bf16 = a & (1u << 5);
    return tile && bf16 && avx512bw && avx512bf16;
}

bool ask_for_tiles()
{
    constexpr long kReqXcompPerm = 0x1023, kXtileData = 18;
    return cpu_has_amx() && syscall(SYS_arch_prctl, kReqXcompPerm, kXtileData) == 0;
}

// Palette 1, all eight tiles 16 rows of 64 bytes: C 16x16 float32, A 16 rows x 32 bf16, B 16 pairs
// of rows x 16 columns.
struct alignas(64) TileConfig {
    uint8_t palette = 1, start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t bytes_per_row[16] = {64, 64, 64, 64, 64, 64, 64, 64};
    uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

// Weights in chunks of this many k: a chunk's 32 columns of hi and lo (32 KB) stay in L1 while every
// row group passes over them.
constexpr int64_t kChunk = 256;

// Tile numbers must be constants: A's two row tiles to 4, 5; B's two column tiles to 6, 7; then
// C's four tiles 0-3 += their products.
#define BFT_AMX_LOAD_A(a)                                                                                \
    _tile_loadd(4, a, sa);                                                                               \
    _tile_loadd(5, (a) + 16 * lda, sa);
#define BFT_AMX_LOAD_B(b)                                                                                \
    _tile_loadd(6, b, sb);                                                                               \
    _tile_loadd(7, (b) + 32, sb);
#define BFT_AMX_PRODUCTS                                                                                 \
    _tile_dpbf16ps(0, 4, 6);                                                                             \
    _tile_dpbf16ps(1, 4, 7);                                                                             \
    _tile_dpbf16ps(2, 5, 6);                                                                             \
    _tile_dpbf16ps(3, 5, 7);

// C (tiles 0-3: rows r, r + 16 x columns j, j + 16) over one chunk of k, three products a step:
// hi·hi, hi·lo, lo·hi.
__attribute__((target("amx-tile,amx-bf16"))) void products_tiles(const TileConfig& cfg, const uint16_t* hi,
                                                                  const uint16_t* lo, int64_t lda, int64_t rows,
                                                                  int64_t k, const uint16_t* w, float* y, int64_t ldy,
                                                                  const uint16_t* after)
{
    _tile_loadconfig(&cfg);
    // The next weights (2 k 64 values), a share of their lines at every step into L2.
    const int64_t groups = (rows + 31) / 32, sa = lda * 2, sb = 256, sy = ldy * 4;
    const char* next = reinterpret_cast<const char*>(after);
    const int64_t lines = k * 4, steps = k / 32 * 2 * groups, per_step = (lines + steps - 1) / steps;
    int64_t fetched = 0;
    const uint16_t* whi = w;
    const uint16_t* wlo = w + k * 64;
    alignas(64) float tail[32 * 64]; // the last group's rows where it has fewer than 32
    const bool partial = rows % 32 != 0;
    for (int64_t k0 = 0; k0 < k; k0 += kChunk) {
        const int64_t k1 = std::min(k, k0 + kChunk);
        for (int64_t j = 0; j < 64; j += 32)
            for (int64_t g = 0; g < groups; ++g) {
                const bool to_tail = partial && g == groups - 1;
                float* c = to_tail ? tail + j : y + g * 32 * ldy + j;
                const int64_t sc = to_tail ? 64 * 4 : sy, ldc = to_tail ? 64 : ldy;
                if (k0 == 0) {
                    _tile_zero(0);
                    _tile_zero(1);
                    _tile_zero(2);
                    _tile_zero(3);
                } else {
                    _tile_loadd(0, c, sc);
                    _tile_loadd(1, c + 16, sc);
                    _tile_loadd(2, c + 16 * ldc, sc);
                    _tile_loadd(3, c + 16 * ldc + 16, sc);
                }
                const uint16_t* ah = hi + g * 32 * lda;
                const uint16_t* al = lo + g * 32 * lda;
                for (int64_t s = k0; s < k1; s += 32) {
                    if (next)
                        for (int64_t q = 0; q < per_step && fetched < lines; ++q, ++fetched)
                            _mm_prefetch(next + fetched * 64, _MM_HINT_T1);
                    const uint16_t* bh = whi + s * 64 + j * 2;
                    const uint16_t* bl = wlo + s * 64 + j * 2;
                    BFT_AMX_LOAD_A(ah + s)
                    BFT_AMX_LOAD_B(bh)
                    BFT_AMX_PRODUCTS
                    BFT_AMX_LOAD_B(bl)
                    BFT_AMX_PRODUCTS
                    BFT_AMX_LOAD_A(al + s)
                    BFT_AMX_LOAD_B(bh)
                    BFT_AMX_PRODUCTS
                }
                _tile_stored(0, c, sc);
                _tile_stored(1, c + 16, sc);
                _tile_stored(2, c + 16 * ldc, sc);
                _tile_stored(3, c + 16 * ldc + 16, sc);
            }
    }
    // Another library's AMX kernels (oneDNN's, in the bf16 preview) load their own configuration.
    _tile_release();
    if (partial)
        for (int64_t r = (groups - 1) * 32; r < rows; ++r)
            std::memcpy(y + r * ldy, tail + (r - (groups - 1) * 32) * 64, 64 * sizeof(float));
}
#endif

} // namespace

bool usable()
{
#ifdef BFT_AMX
    static const bool ok = ask_for_tiles();
    return ok;
#else
    return false;
#endif
}

void pack_weights(const float* w, int64_t k, uint16_t* out)
{
    uint16_t* hi = out;
    uint16_t* lo = out + k * 64;
    for (int64_t i = 0; i < k; ++i)
        for (int64_t c = 0; c < 64; ++c) {
            const int64_t at = (i / 2) * 128 + c * 2 + (i & 1);
            split(w[i * 64 + c], hi + at, lo + at);
        }
}

void split_rows(const float* x, int64_t ldx, int64_t rows, int64_t padded_rows, int64_t k, uint16_t* hi,
                uint16_t* lo, int64_t lda)
{
    for (int64_t r = 0; r < padded_rows; ++r)
        for (int64_t c = 0; c < k; ++c) {
            if (r < rows)
                split(x[r * ldx + c], hi + r * lda + c, lo + r * lda + c);
            else
                hi[r * lda + c] = lo[r * lda + c] = 0;
        }
}

void products(const uint16_t* hi, const uint16_t* lo, int64_t lda, int64_t rows, int64_t k, const uint16_t* w,
              float* y, int64_t ldy, const uint16_t* after)
{
    if (rows <= 0 || k <= 0)
        return;
#ifdef BFT_AMX
    static const TileConfig cfg;
    products_tiles(cfg, hi, lo, lda, rows, k, w, y, ldy, after);
#else
    (void)hi, (void)lo, (void)lda, (void)rows, (void)k, (void)w, (void)y, (void)ldy, (void)after;
#endif
}

} // namespace bft::amx
