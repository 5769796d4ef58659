#include "winograd_stride2.h"

#include "amx.h"
#include "errors.h"
#include "kernels.h"
#include "onednn.h"
#include "winograd_tiles.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define BFT_X86 1
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

namespace bft {

namespace {

// F(4, 2)'s transforms (B^T, A^T, the 5x5 input tile): winograd_tiles.h; its G below.
// F(2, 2) with the points 0, 1 and infinity, all in integers (exact transforms):
//   B^T = [1 -1 0; 0 1 0; 0 -1 1], A^T = [1 1 0; 0 1 1], G = [1 0; 1 1; 0 1].
constexpr int kMaxPoints = 25;
constexpr double kG4[5][2] = {{1, 0}, {1, 1}, {1, -1}, {1, 2}, {0, 1}};
constexpr double kG2[3][2] = {{1, 0}, {1, 1}, {0, 1}};

#define BFT_WINOGRAD2_BT3(d, r)                                                                          \
    {                                                                                                    \
        r[0] = d(0) - d(1);                                                                              \
        r[1] = d(1);                                                                                     \
        r[2] = d(2) - d(1);                                                                              \
    }
#define BFT_WINOGRAD2_AT2(m, r)                                                                          \
    {                                                                                                    \
        r[0] = m(0) + m(1);                                                                              \
        r[1] = m(1) + m(2);                                                                              \
    }

// What a window reads outside the map where its values pass a normalisation and a ReLU: whatever
// they are normalised to, the ReLU makes them 0 (zeros would become -mean * inv, not 0).
alignas(64) const float kNegInf[kLanes] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY,
                                           -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY,
                                           -INFINITY, -INFINITY, -INFINITY, -INFINITY};

// The body of an output transform of W x W points to M x M outputs by the 1D transform T1D, plus
// the bias: point p at m + p * point_stride; y[u * M + w] the outputs.
#define BFT_POINT_IN(x, a, b) x = BFT_LOAD(m + ((a) * window + (b)) * point_stride);
#define BFT_TILE_OUT(u, w, value) BFT_STORE(y + ((u) * tile + (w)) * kLanes, (value) + bv);
#define BFT_OUTPUT_TILE(W, M, T1D)                                                                       \
    {                                                                                                    \
        constexpr int window = W, tile = M;                                                              \
        const Vec bv = BFT_LOAD(bias);                                                                   \
        BFT_SEPARABLE(W, M, BFT_POINT_IN, T1D, BFT_TILE_OUT)                                             \
    }

// A^T m A for 16 channels, plus the bias: point p at m + p * point_stride; y[u * 4 + w] the outputs.
BFT_VECTOR_CLONES void output_tile4(const float* __restrict m, int64_t point_stride, const float* __restrict bias,
                                    float* __restrict y)
{
    BFT_OUTPUT_TILE(5, 4, BFT_WINOGRAD2_AT)
}

// The same for F(2x2, 2x2): 3x3 windows, 2x2 outputs.
BFT_VECTOR_CLONES void input_tile2(const float* const* __restrict d, float* __restrict v, int64_t point_stride,
                                   const Activation& act)
{
    BFT_INPUT_TILE(3, BFT_WINOGRAD2_BT3)
}

BFT_VECTOR_CLONES void output_tile2(const float* __restrict m, int64_t point_stride, const float* __restrict bias,
                                    float* __restrict y)
{
    BFT_OUTPUT_TILE(3, 2, BFT_WINOGRAD2_AT2)
}

#ifdef BFT_X86
// For AMX products (amx.h): each point's 16 values split into bf16 hi and lo as they are stored
// (hi at v + p * point_stride, lo lo_offset further on) by the AVX-512 bf16 conversion (two
// conversions, a widening shift and a subtraction per 16 values). These run only where
// amx::usable(), which implies AVX-512 bf16.
#define BFT_POINT_OUT_SPLIT(a, b, value)                                                                 \
    {                                                                                                    \
        const __m512 split_x = (__m512)(value);                                                          \
        const __m256i split_hi = (__m256i)_mm512_cvtneps_pbh(split_x);                                   \
        const __m512i split_wide = _mm512_maskz_cvtepu16_epi32(0xffff, split_hi);                        \
        const __m512 split_back = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xffff, split_wide, 16));  \
        const __m256i split_lo = (__m256i)_mm512_cvtneps_pbh(_mm512_sub_ps(split_x, split_back));        \
        uint16_t* split_at = v + ((a) * window + (b)) * point_stride;                                    \
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(split_at), split_hi);                             \
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(split_at + lo_offset), split_lo);                 \
    }
#define BFT_INPUT_TILE_SPLIT(W, T1D)                                                                     \
    {                                                                                                    \
        BFT_ACTIVATION_SETUP                                                                             \
        constexpr int window = W;                                                                        \
        BFT_SEPARABLE(W, W, BFT_WINDOW_IN, T1D, BFT_POINT_OUT_SPLIT)                                     \
    }
#define BFT_SPLIT_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

BFT_SPLIT_TARGET void input_tile4_split(const float* const* __restrict d, uint16_t* __restrict v,
                                        int64_t point_stride, int64_t lo_offset, const Activation& act)
{
    BFT_INPUT_TILE_SPLIT(5, BFT_WINOGRAD2_BT)
}

BFT_SPLIT_TARGET void input_tile2_split(const float* const* __restrict d, uint16_t* __restrict v,
                                        int64_t point_stride, int64_t lo_offset, const Activation& act)
{
    BFT_INPUT_TILE_SPLIT(3, BFT_WINOGRAD2_BT3)
}
#else
constexpr void (*input_tile4_split)(const float* const*, uint16_t*, int64_t, int64_t, const Activation&) = nullptr;
constexpr void (*input_tile2_split)(const float* const*, uint16_t*, int64_t, int64_t, const Activation&) = nullptr;
#endif

// One tile size's geometry and transforms.
struct Scheme {
    int tile, window, points;
    void (*input)(const float* const*, float*, int64_t, const Activation&);
    void (*input_split)(const float* const*, uint16_t*, int64_t, int64_t, const Activation&);
    void (*output)(const float*, int64_t, const float*, float*);
    const double* g; // window x 2
};

Scheme scheme(int tile)
{
    if (tile == 4)
        return {4, 5, 25, input_tile4, input_tile4_split, output_tile4, &kG4[0][0]};
    if (tile == 2)
        return {2, 3, 9, input_tile2, input_tile2_split, output_tile2, &kG2[0][0]};
    throw Error("Winograd F(m x m, 2x2): tiles of 2 or 4 only");
}

// Where an input transform writes for AMX products: hi values at p, lo values lo further on.
struct SplitOut {
    uint16_t* p;
    int64_t lo;
    SplitOut operator+(int64_t offset) const { return {p + offset, lo}; }
};

// One window's 16 channels transformed to v: float32 rows, or split into bf16 halves.
void transform_window(const Scheme& sc, const float* const* d, float* v, int64_t point_stride, const Activation& act)
{
    sc.input(d, v, point_stride, act);
}
void transform_window(const Scheme& sc, const float* const* d, SplitOut v, int64_t point_stride,
                      const Activation& act)
{
    sc.input_split(d, v.p, point_stride, v.lo, act);
}

// G g G^T for a batch of 2x2 kernels [..., 2, 2] (double): [..., points].
at::Tensor to_winograd_domain(const at::Tensor& g, const Scheme& sc)
{
    const at::Tensor gm = at::from_blob(const_cast<double*>(sc.g), {sc.window, 2}, at::kDouble);
    const auto sizes = g.sizes().vec();
    const at::Tensor flat = g.reshape({-1, 2, 2});
    const at::Tensor u = at::matmul(at::matmul(gm, flat), gm.t()); // n x window x window
    std::vector<int64_t> out(sizes.begin(), sizes.end() - 2);
    out.push_back(sc.points);
    return u.reshape(out);
}

// u's product rows (points x columns) and the values each sums over: u is [rows, inner, 1, 1]
// (oneDNN's products) or [rows / 64, inner, 64] (winograd_s2_own_products).
int64_t product_rows(const at::Tensor& u)
{
    return u.dim() == 3 ? u.size(0) * 64 : u.size(0);
}

// Where the AMX products' rows lie (split into bf16 hi and lo by the input transforms): tile t's
// row at t row, point p's values in it at p point, `inner` hi then `inner` lo. Rows as the float32
// path's (a tile's transform stores one run of memory: point-major rows, 50 runs a tile, took twice
// as long to store), 32 bf16 values longer a point and a row against L1 set aliasing, room for rows
// up to a multiple of 32 (what amx::products reads; rows past the chunk's are never written, and
// only ever reach rows of products that are thrown away).
struct SplitLayout {
    int64_t point, row, rows;
};

SplitLayout split_layout(int64_t tiles, int64_t inner, int points)
{
    const int64_t point = 2 * inner + 32, row = points * point + 32;
    return {point, row, (tiles + 31) / 32 * 32};
}

// The products with u in bf16 halves (winograd_s2_own_products(u, true)) over the rows at split:
// amx::products on each block of 64 columns, the threads taking blocks in turn; into m as products()
// writes it.
void amx_products(const uint16_t* split, const SplitLayout& sl, int64_t tiles, const at::Tensor& u, float* mp,
                  int64_t ldm, int points, int64_t gs_out)
{
    RECORD_FUNCTION("bft::winograd_amx_products", std::vector<c10::IValue>());
    const int64_t inner = u.size(1), blocks = u.size(0), cols = blocks * 64 / points, per_point = cols / 64;
    const uint16_t* up = reinterpret_cast<const uint16_t*>(u.data_ptr());
    at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
            const int64_t p = b / per_point, c0 = b % per_point * 64;
            const uint16_t* hi = split + p * sl.point;
            amx::products(hi, hi + inner, sl.row, tiles, inner, up + b * inner * 128, mp + p * gs_out + c0, ldm,
                          b + 1 < end ? up + (b + 1) * inner * 128 : nullptr);
        }
    });
}

// The products, into m: v is [1, points x inner, tiles, 1] channels-last (tile t's row at
// t v.stride(2), point p's values in it at p gs_in), m likewise with `cols` columns a point (gs_out).
// With u [points x cols, inner, 1, 1] (point p's product rows p cols ...), one grouped 1x1
// convolution over the tiles, a group per point: oneDNN keeps u packed and runs all the points in
// one parallel pass. With u in blocks of 64 columns (winograd_s2_own_products),
// kernels::rows_times_packed on each block, the threads taking blocks in turn: on few tiles each
// block's weights stay in L1 while every tile passes over them. oneDNN's take dense rows (gs_in =
// inner, gs_out = cols); ours padded ones (in_chunks).
void products(const at::Tensor& v, const at::Tensor& u, const at::Tensor& m, int points, int64_t gs_in,
              int64_t gs_out)
{
    if (u.dim() == 3) {
        RECORD_FUNCTION("bft::winograd_own_products", std::vector<c10::IValue>());
        const int64_t inner = u.size(1), blocks = u.size(0), cols = blocks * 64 / points, tiles = v.size(2);
        const float* vp = v.data_ptr<float>();
        const float* up = u.data_ptr<float>();
        float* mp = m.data_ptr<float>();
        const int64_t per_point = cols / 64;
        at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
            for (int64_t b = begin; b < end; ++b) {
                const int64_t p = b / per_point, c0 = b % per_point * 64;
                const float* next = b + 1 < end ? up + (b + 1) * inner * 64 : nullptr;
                kernels::rows_times_packed(vp + p * gs_in, v.stride(2), tiles, inner, up + b * inner * 64,
                                           mp + p * gs_out + c0, m.stride(2), next);
            }
        });
        return;
    }
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    if (!onednn::conv2d(v, u, at::Tensor(), one, zero, points, onednn::Algorithm::Direct, false, {}, m).defined())
        throw Error("Winograd F(m x m, 2x2): oneDNN has no kernel for its products");
}

// [1, channels, tiles, 1] channels-last over `data`, tile t's row at data + t row_stride.
at::Tensor tile_rows(float* data, int64_t channels, int64_t tiles, int64_t row_stride)
{
    return at::from_blob(data, {1, channels, tiles, 1}, {row_stride * tiles, 1, row_stride, row_stride}, at::kFloat);
}

// The out channels u was made for, after checking the call (u's rows: points x phases x K).
int64_t checked_out_channels(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias, const Scheme& sc,
                             bool transposed, const char* what)
{
    if (x.dim() != 4 || x.scalar_type() != at::kFloat || !x.is_cpu() || x.size(1) % kLanes != 0 ||
        (u.dim() != 4 && !(u.dim() == 3 && u.size(2) == (u.scalar_type() == at::kBFloat16 ? 128 : 64))) ||
        u.size(1) != (transposed ? 1 : 4) * x.size(1) ||
        (u.scalar_type() != at::kFloat &&
         !(u.dim() == 3 && u.scalar_type() == at::kBFloat16 && winograd_s2_amx_fits(u.size(1)))) ||
        !u.is_contiguous())
        throw Error(std::string(what) + ": unsupported input");
    const int64_t rows_per_channel = sc.points * (transposed ? 4 : 1), k = product_rows(u) / rows_per_channel;
    if (product_rows(u) != rows_per_channel * k || (u.dim() == 3 && k % 64 != 0))
        throw Error(std::string(what) + ": the weight was made for another tile size");
    if (k % kLanes != 0 || (bias.defined() && bias.numel() != k))
        throw Error(std::string(what) + ": unsupported input");
    return k;
}

// Whether a transposed convolution of an h x w map runs phase by phase (see conv_transpose_of):
// where that makes at most 85% of the shared windows' tiles. The Xeon, 2 threads, ms, shared /
// per phase / direct: 1024 -> 256 from 16x16, F(2x2, 2x2) (81 / 64 tiles) 6.0 / 5.3 / 6.2; 512 ->
// 128 from 32x32, F(4x4, 2x2) (81 / 64) 4.7 / 4.45 / 6.0; 256 -> 64 from 64x64 (289 / 256: 89%)
// 4.3 / 4.75 / 5.8: fewer tiles pay, narrower products (K columns against 4K) cost.
bool phase_by_phase(int64_t h, int64_t w, int64_t m)
{
    const int64_t shared = ((h + m) / m) * ((w + m) / m), own = ((h + m - 1) / m) * ((w + m - 1) / m);
    return own * 20 <= shared * 17;
}

// The tile grid over one image: the convolution's outputs, or (transposed) each phase's outputs:
// phase by phase h x w of them, else phase 1's a row and a column behind phase 0's in shared
// windows, so h + 1 rows and w + 1 columns.
std::pair<int64_t, int64_t> tile_grid(int64_t h, int64_t w, bool transposed, int64_t m)
{
    int64_t rows = (h - 2) / 2 + 1, cols = (w - 2) / 2 + 1;
    if (transposed) {
        const bool own = phase_by_phase(h, w, m);
        rows = own ? h : h + 1;
        cols = own ? w : w + 1;
    }
    return {(rows + m - 1) / m, (cols + m - 1) / m};
}

// The tiles in chunks, each transformed, multiplied and transformed back before the next: whole,
// the texture U-Net's transformed inputs and products at 256 x 256 took 15 MB and put its forward's
// peak above PyTorch's. But each chunk streams the weights again (512 -> 128 from 32x32 in two
// chunks: 2 x 2.7 ms of products, one: 3.9), so a chunk holds at least as much as the weights.
// input(t, v) writes tile t's rows of `inner` values at v (point p at v + p inner); output(t, m)
// reads its rows of `cols` products at m.
constexpr int64_t kChunkBytes = 4 << 20;
// Chunk buffers up to this size stay with the thread for its next call: fresh ones at every layer
// raised the forward's peak (heap fragmentation) by 10 MB at batch 4. The texture U-Net at 256 needs
// 17.2 MB (512 -> 128 from 32x32, padded rows: 16.4 unpadded); at 16 MB it took a fresh one every
// forward and its forward's peak rose from 27 to 55-67 MiB.
constexpr int64_t kKeptBytes = 20 << 20;

// The calling thread's chunk buffer, at least `floats` long (one per thread, whatever the layer).
at::Tensor chunk_buffer(int64_t floats)
{
    thread_local at::Tensor kept;
    if (kept.defined() && kept.numel() >= floats)
        return kept;
    kept.reset(); // before the new one: not both at once
    at::Tensor work = at::empty({floats}, at::kFloat);
    if (work.nbytes() <= static_cast<size_t>(kKeptBytes))
        kept = work;
    return work;
}

template <class Input, class Output>
void in_chunks(int64_t tiles, int64_t inner, int64_t cols, int points, const at::Tensor& u, const Input& input,
               const Output& output)
{
    const int64_t tile_bytes = points * (inner + cols) * static_cast<int64_t>(sizeof(float));
    const int64_t chunk_bytes = std::max<int64_t>(kChunkBytes, u.nbytes());
    const int64_t chunks = std::max<int64_t>(1, (tiles * tile_bytes + chunk_bytes / 2) / chunk_bytes);
    const int64_t size = (tiles + chunks - 1) / chunks;
    // For our own products, each point's values (gs_in, gs_out) and each tile's row (ldv, ldm) a line
    // longer than they need: their natural lengths are often multiples of 4 KB (F(4x4, 2x2) phase by
    // phase from 32x32, 512 -> 128: points 8 KB apart, tiles 200 KB), so that a tile's 25 point
    // stores and the products' six rows each fell into one L1 set. The Xeon, texture at 256, each
    // layer's fastest of 4 alternated runs: that layer 4.13 -> 3.89 ms, 128 -> 256 into 32x32 1.88 ->
    // 1.60, all layers 45.1 -> 44.5. oneDNN's products take dense rows.
    const int64_t pad = u.dim() == 3 ? kLanes : 0;
    const int64_t gs_in = inner + pad, gs_out = cols + pad;
    const int64_t ldv = points * gs_in + pad, ldm = points * gs_out + pad;
    // AMX (u in bf16 halves): the input transforms store each point's values split into bf16 halves
    // (split_layout), so that no float32 chunk passes through memory.
    const bool amx = u.scalar_type() == at::kBFloat16;
    const SplitLayout sl = split_layout(size, inner, points);
    const int64_t in_floats = amx ? (sl.rows * sl.row + 1) / 2 : ldv * size; // two bf16 a float
    const at::Tensor work = chunk_buffer(in_floats + ldm * size);
    float* vp = work.data_ptr<float>();
    uint16_t* split = reinterpret_cast<uint16_t*>(vp);
    float* mp = vp + in_floats;
    for (int64_t first = 0; first < tiles; first += size) {
        const int64_t count = std::min(size, tiles - first);
        {
            RECORD_FUNCTION("bft::winograd_input", std::vector<c10::IValue>());
            at::parallel_for(first, first + count, 1, [&](int64_t begin, int64_t end) {
                for (int64_t t = begin; t < end; ++t)
                    if (amx)
                        input(t, SplitOut{split + (t - first) * sl.row, inner}, sl.point);
                    else
                        input(t, vp + (t - first) * ldv, gs_in);
            });
        }
        // Always `size` rows (a shorter last chunk multiplies the previous chunk's leftovers too, and
        // ignores them, a row of products depending on its own row only): another row count would
        // be another oneDNN kernel and packed weight.
        if (amx)
            amx_products(split, sl, size, u, mp, ldm, points, gs_out);
        else
            products(tile_rows(vp, points * inner, size, ldv), u, tile_rows(mp, points * cols, size, ldm), points,
                     gs_in, gs_out);
        RECORD_FUNCTION("bft::winograd_output", std::vector<c10::IValue>());
        at::parallel_for(first, first + count, 1, [&](int64_t begin, int64_t end) {
            for (int64_t t = begin; t < end; ++t)
                output(t, mp + (t - first) * ldm, gs_out);
        });
    }
}

// Points d at a window's pixels, (row0 + step r, col0 + step s) for r, s < win, of the image x
// (h x w, c channels, channels-last) offset to its first channel; `outside` outside the map.
void window(const float* x, int64_t h, int64_t w, int64_t c, int64_t row0, int64_t col0, int64_t step, int win,
            const float** d, const float* outside = kZeros)
{
    for (int r = 0; r < win; ++r)
        for (int s = 0; s < win; ++s) {
            const int64_t row = row0 + step * r, col = col0 + step * s;
            d[r * win + s] = row >= 0 && row < h && col >= 0 && col < w ? x + (row * w + col) * c : outside;
        }
}

// A 4x4 weight in float64 on the CPU, for the transforms.
at::Tensor weight_in_double(const at::Tensor& weight)
{
    if (weight.dim() != 4 || weight.size(2) != 4 || weight.size(3) != 4)
        throw Error("Winograd F(m x m, 2x2): expected a 4x4 weight");
    return weight.detach().to(at::kCPU, at::kDouble);
}

// The channels-last result [n, k, ho, wo] and the bias as float32 (zeros where undefined).
std::pair<at::Tensor, at::Tensor> result_and_bias(const at::Tensor& x, int64_t k, int64_t ho, int64_t wo,
                                                  const at::Tensor& bias)
{
    return {at::empty({x.size(0), k, ho, wo}, x.options().memory_format(at::MemoryFormat::ChannelsLast)),
            bias.defined() ? bias.detach().to(at::kFloat).contiguous() : at::zeros({k}, x.options())};
}

} // namespace

int64_t winograd_s2_tiles(const at::Tensor& x, bool transposed, int tile)
{
    if (!transposed && (x.size(2) < 2 || x.size(3) < 2))
        return 0;
    const auto [th, tw] = tile_grid(x.size(2), x.size(3), transposed, scheme(tile).tile);
    return x.size(0) * th * tw;
}

bool winograd_s2_fits(const at::Tensor& x, int64_t in_channels, int64_t out_channels)
{
    return x.dim() == 4 && x.is_cpu() && x.scalar_type() == at::kFloat && in_channels % kLanes == 0 &&
           out_channels % kLanes == 0 && onednn::available();
}

at::Tensor winograd_s2_transpose_weights(const at::Tensor& weight, int tile)
{
    const Scheme sc = scheme(tile);
    const at::Tensor w = weight_in_double(weight);
    const int64_t c = weight.size(0), k = weight.size(1);
    // Padding 1: output row 2i reads input rows i - 1, i through taps 3, 1; row 2i + 1 reads i, i + 1
    // through taps 2, 0 (window positions u, u + 1 of its tile, which sits a row behind).
    const int64_t taps[2][2] = {{3, 1}, {2, 0}};
    std::vector<at::Tensor> phases;
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
            const at::Tensor rows = at::tensor({taps[a][0], taps[a][1]}, at::kLong);
            const at::Tensor cols = at::tensor({taps[b][0], taps[b][1]}, at::kLong);
            phases.push_back(w.index_select(2, rows).index_select(3, cols)); // C, K, 2, 2
        }
    const at::Tensor g = at::stack(phases, 2);    // C, K, 4, 2, 2
    const at::Tensor u = to_winograd_domain(g, sc); // C, K, 4, points
    return u.permute({3, 2, 1, 0}).reshape({sc.points * 4 * k, c, 1, 1}).to(at::kFloat).contiguous();
}

at::Tensor winograd_s2_conv_weights(const at::Tensor& weight, int tile)
{
    const Scheme sc = scheme(tile);
    const at::Tensor w = weight_in_double(weight);
    const int64_t k = weight.size(0), c = weight.size(1);
    // Tap 2 dy + p of the 2x2 kernel over (row parity p, window row dy): K, C, dy, p, dx, q.
    const at::Tensor g = w.view({k, c, 2, 2, 2, 2}).permute({0, 3, 5, 1, 2, 4}); // K, p, q, C, dy, dx
    const at::Tensor u = to_winograd_domain(g, sc);                                 // K, p, q, C, points
    return u.permute({4, 0, 1, 2, 3}).reshape({sc.points * k, 4 * c, 1, 1}).to(at::kFloat).contiguous();
}

bool winograd_s2_amx_fits(int64_t inner)
{
    return amx::usable() && inner % 32 == 0;
}

at::Tensor winograd_s2_own_products(const at::Tensor& u, bool amx)
{
    if (u.dim() != 4 || u.size(0) % 64 != 0 || u.size(2) != 1 || u.size(3) != 1 || u.scalar_type() != at::kFloat)
        throw Error("Winograd F(m x m, 2x2): own products take weights with a multiple of 64 product rows");
    if (!kernels::rows_times_packed_fits())
        throw Error("Winograd F(m x m, 2x2): own products need AVX-512");
    const at::Tensor blocks = u.reshape({u.size(0) / 64, 64, u.size(1)}).transpose(1, 2).contiguous();
    if (!amx)
        return blocks;
    const int64_t inner = u.size(1);
    if (!winograd_s2_amx_fits(inner))
        throw Error("Winograd F(m x m, 2x2): AMX products need AMX and a multiple of 32 values a product");
    at::Tensor packed = at::empty({blocks.size(0), inner, 128}, at::kBFloat16);
    const float* src = blocks.data_ptr<float>();
    uint16_t* dst = reinterpret_cast<uint16_t*>(packed.data_ptr());
    at::parallel_for(0, blocks.size(0), 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b)
            amx::pack_weights(src + b * inner * 64, inner, dst + b * inner * 128);
    });
    return packed;
}

namespace {
// One run of the transposed convolution's input channels: a channels-last float32 map's (image 0,
// channel 0 at data), read through act (mean and inv: image 0's channels, image n's `channels`
// further on), pixels outside the map as `outside`.
struct Source {
    const float* data;
    int64_t channels;
    Activation act;
    const float* outside;
};

// The transposed convolution of the channels of `sources` one after another, maps of like's batch
// and size.
// Shared windows (per_phase false): with phase 1's tiles a pixel behind phase 0's, the four phases
// read one window per tile, transformed once, and each point's product makes all four phases'
// outputs (groups of 4K columns). Per phase: each phase's tiles exactly over its own h x w outputs,
// their windows a pixel apart, four input transforms a tile and a product group per point and
// phase (K columns): fewer tiles where a map is small ((h + 1)^2 against h^2 outputs a phase),
// narrower products. The same weights serve both (point-major, then phase).
at::Tensor conv_transpose_of(const std::vector<Source>& sources, const at::Tensor& like, const at::Tensor& u,
                             const at::Tensor& bias, const Scheme& sc, int64_t k)
{
    const int64_t n = like.size(0), h = like.size(2), w = like.size(3);
    const bool per_phase = phase_by_phase(h, w, sc.tile);
    int64_t c = 0;
    for (const Source& src : sources)
        c += src.channels;
    const int64_t ho = 2 * h, wo = 2 * w, m = sc.tile, win = sc.window;
    // Shared: tile (ty, tx) reads input rows m ty - 1 .. m ty + m - 1: phase 0's output rows
    // i = m ty + u and phase 1's i = m ty + u - 1. Per phase: phase a's tile reads from row
    // m ty - 1 + a, for its rows i = m ty + u.
    const auto [th, tw] = tile_grid(h, w, true, m);
    const auto [out, b] = result_and_bias(like, k, ho, wo, bias);
    const float* bp = b.data_ptr<float>();
    float* op = out.data_ptr<float>();
    // One window's channels, from its first row and column, to v (point p at v + p * point_stride).
    auto transform = [&](int64_t img, int64_t row0, int64_t col0, auto v, int64_t point_stride) {
        std::array<const float*, kMaxPoints> d;
        int64_t first = 0;
        for (const Source& src : sources) {
            const int64_t cs = src.channels;
            for (int64_t c0 = 0; c0 < cs; c0 += kLanes) {
                window(src.data + img * h * w * cs + c0, h, w, cs, row0, col0, 1, win, d.data(), src.outside);
                Activation act = src.act;
                if (act.mean) {
                    act.mean += img * cs + c0;
                    act.inv += img * cs + c0;
                }
                transform_window(sc, d.data(), v + first + c0, point_stride, act);
            }
            first += cs;
        }
    };
    auto input = [&](int64_t t, auto v, int64_t gs) {
        const int64_t img = t / (th * tw), ty = t / tw % th, tx = t % tw;
        if (!per_phase)
            return transform(img, m * ty - 1, m * tx - 1, v, gs);
        for (int64_t phase = 0; phase < 4; ++phase) // point p, phase q at (4 p + q) gs
            transform(img, m * ty - 1 + phase / 2, m * tx - 1 + phase % 2, v + phase * gs, 4 * gs);
    };
    // Phase 1's rows and columns lie one behind phase 0's in shared tiles.
    const int64_t behind = per_phase ? 0 : 1;
    auto output = [&](int64_t t, const float* mr, int64_t gs) {
        const int64_t img = t / (th * tw), ty = t / tw % th, tx = t % tw;
        alignas(64) float y[16 * kLanes];
        for (int64_t phase = 0; phase < 4; ++phase) {
            const int64_t a = phase / 2, bb = phase % 2;
            for (int64_t k0 = 0; k0 < k; k0 += kLanes) {
                if (per_phase)
                    sc.output(mr + phase * gs + k0, 4 * gs, bp + k0, y);
                else
                    sc.output(mr + phase * k + k0, gs, bp + k0, y);
                for (int64_t uu = 0; uu < m; ++uu) {
                    const int64_t i = m * ty + uu - a * behind;
                    if (i < 0 || i >= h)
                        continue;
                    for (int64_t ww = 0; ww < m; ++ww) {
                        const int64_t j = m * tx + ww - bb * behind;
                        if (j < 0 || j >= w)
                            continue;
                        float* dst = op + ((img * ho + 2 * i + a) * wo + 2 * j + bb) * k + k0;
                        std::memcpy(dst, y + (uu * m + ww) * kLanes, sizeof(float) * kLanes);
                    }
                }
            }
        }
    };
    if (per_phase)
        in_chunks(n * th * tw, c, k, 4 * sc.points, u, input, output);
    else
        in_chunks(n * th * tw, c, 4 * k, sc.points, u, input, output);
    return out;
}
} // namespace

at::Tensor winograd_s2_conv_transpose(const at::Tensor& x_in, const at::Tensor& u, const at::Tensor& bias, int tile)
{
    const Scheme sc = scheme(tile);
    const int64_t k = checked_out_channels(x_in, u, bias, sc, true, "Winograd F(m x m, 2x2) transposed convolution");
    RECORD_FUNCTION("bft::winograd_s2_conv_transpose", std::vector<c10::IValue>());
    const at::Tensor x = x_in.contiguous(at::MemoryFormat::ChannelsLast);
    return conv_transpose_of({Source{x.data_ptr<float>(), x.size(1), Activation{}, kZeros}}, x, u, bias, sc, k);
}

at::Tensor winograd_s2_skip_conv_transpose(const at::Tensor& skip_in, const at::Tensor& h_in, const at::Tensor& u,
                                           const at::Tensor& bias, int tile)
{
    const Scheme sc = scheme(tile);
    const char* what = "Winograd F(m x m, 2x2) transposed convolution of a skip concatenation";
    if (skip_in.dim() != 4 || h_in.dim() != 4 || skip_in.size(0) != h_in.size(0) || skip_in.size(2) != h_in.size(2) ||
        skip_in.size(3) != h_in.size(3) || skip_in.scalar_type() != at::kFloat || !skip_in.is_cpu() ||
        skip_in.size(1) % kLanes != 0 || h_in.size(1) % kLanes != 0)
        throw Error(std::string(what) + ": unsupported input");
    // The other checks are those of the whole input (h's type and device, both maps' channels): on
    // a stand-in of its shape, no data.
    const at::Tensor both = at::empty({0, skip_in.size(1) + h_in.size(1), 0, 0}, h_in.options());
    const int64_t k = checked_out_channels(both, u, bias, sc, true, what);
    RECORD_FUNCTION("bft::winograd_s2_skip_conv_transpose", std::vector<c10::IValue>());
    const auto cl = at::MemoryFormat::ChannelsLast;
    const at::Tensor skip = skip_in.contiguous(cl), h = h_in.contiguous(cl);
    const kernels::Statistics stats = kernels::channel_statistics(h, /*unbiased=*/false);
    const Activation relu{0.0f, nullptr, nullptr}, norm_relu{0.0f, stats.mean.data(), stats.inv.data()};
    return conv_transpose_of({Source{skip.data_ptr<float>(), skip.size(1), relu, kNegInf},
                              Source{h.data_ptr<float>(), h.size(1), norm_relu, kNegInf}},
                             h, u, bias, sc, k);
}

at::Tensor winograd_s2_conv(const at::Tensor& x_in, const at::Tensor& u, const at::Tensor& bias, int tile,
                            float input_slope)
{
    const Scheme sc = scheme(tile);
    const int64_t k = checked_out_channels(x_in, u, bias, sc, false, "Winograd F(m x m, 2x2) convolution");
    RECORD_FUNCTION("bft::winograd_s2_conv", std::vector<c10::IValue>());
    const at::Tensor x = x_in.contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    if (h < 2 || w < 2)
        throw Error("Winograd F(m x m, 2x2) convolution: input smaller than the kernel");
    const int64_t ho = (h - 2) / 2 + 1, wo = (w - 2) / 2 + 1, m = sc.tile, win = sc.window, inner = 4 * c;
    const auto [th, tw] = tile_grid(h, w, false, m);
    const auto [out, b] = result_and_bias(x, k, ho, wo, bias);
    const float* xp = x.data_ptr<float>();
    const float* bp = b.data_ptr<float>();
    float* op = out.data_ptr<float>();
    Activation act;
    act.slope = input_slope;
    // Output o reads input rows 2o - 1 .. 2o + 2: window row r of tile ty, parity p, is input row
    // 2 (m ty + r) - 1 + p.
    auto input = [&](int64_t t, auto v, int64_t gs) {
        const int64_t img = t / (th * tw), ty = t / tw % th, tx = t % tw;
        std::array<const float*, kMaxPoints> d;
        for (int64_t p = 0; p < 2; ++p)
            for (int64_t q = 0; q < 2; ++q)
                for (int64_t c0 = 0; c0 < c; c0 += kLanes) {
                    window(xp + img * h * w * c + c0, h, w, c, 2 * m * ty - 1 + p, 2 * m * tx - 1 + q, 2, win, d.data());
                    transform_window(sc, d.data(), v + (p * 2 + q) * c + c0, gs, act);
                }
    };
    auto output = [&](int64_t t, const float* mr, int64_t gs) {
        const int64_t img = t / (th * tw), ty = t / tw % th, tx = t % tw;
        alignas(64) float y[16 * kLanes];
        for (int64_t k0 = 0; k0 < k; k0 += kLanes) {
            sc.output(mr + k0, gs, bp + k0, y);
            for (int64_t uu = 0; uu < m && m * ty + uu < ho; ++uu)
                for (int64_t ww = 0; ww < m && m * tx + ww < wo; ++ww) {
                    float* dst = op + ((img * ho + m * ty + uu) * wo + m * tx + ww) * k + k0;
                    std::memcpy(dst, y + (uu * m + ww) * kLanes, sizeof(float) * kLanes);
                }
        }
    };
    in_chunks(n * th * tw, inner, k, sc.points, u, input, output);
    return out;
}

} // namespace bft
