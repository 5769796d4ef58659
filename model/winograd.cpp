#include "winograd.h"

#include "errors.h"
#include "kernels.h"
#include "onednn.h"
#include "vectorize.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace bft {

namespace {

// F(4x4, 3x3) with the points 0, +-1, +-2 and infinity (Lavin & Gray): a 6x6 input tile d gives
// the 4x4 output tile A^T [(G w G^T) . (B^T d B)] A, with
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] (written out in the macros below),
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};

// B^T d for 6 values d(0..5) down a column or along a row: the rows of B^T above, written out.
#define BFT_WINOGRAD_BT(d, r)                                                                            \
    {                                                                                                    \
        r[0] = 4 * d(0) - 5 * d(2) + d(4);                                                               \
        r[1] = -4 * d(1) - 4 * d(2) + d(3) + d(4);                                                       \
        r[2] = 4 * d(1) - 4 * d(2) - d(3) + d(4);                                                        \
        r[3] = -2 * d(1) - d(2) + 2 * d(3) + d(4);                                                       \
        r[4] = 2 * d(1) - d(2) - 2 * d(3) + d(4);                                                        \
        r[5] = 4 * d(1) - 5 * d(3) + d(5);                                                               \
    }
// A^T m: the rows of A^T above.
#define BFT_WINOGRAD_AT(m, r)                                                                            \
    {                                                                                                    \
        r[0] = m(0) + m(1) + m(2) + m(3) + m(4);                                                          \
        r[1] = m(1) - m(2) + 2 * m(3) - 2 * m(4);                                                        \
        r[2] = m(1) + m(2) + 4 * m(3) + 4 * m(4);                                                        \
        r[3] = m(1) - m(2) + 8 * m(3) - 8 * m(4) + m(5);                                                 \
    }

// One plane (a channel of an image): `x` is hq x wq, whole tiles (hq = 4 th + 2, wq = 4 tw + 2);
// writes B^T d B of tile (ty, tx), point p, at v[p * point_stride + ty * tw + tx]. Along each row
// first, every input row once (the tiles' rows overlap), with each tile's 6 values spread apart so
// that the arithmetic runs over tiles; then down the columns, vectorised over tiles. `row` is
// hq x 6 x tw scratch, `e` 6 x tw.
BFT_VECTOR_CLONES void input_plane(const float* __restrict x, int64_t hq, int64_t wq, int64_t th, int64_t tw,
                                   float* __restrict v, int64_t point_stride, float* __restrict row, float* __restrict e)
{
    for (int64_t y = 0; y < hq; ++y) {
        const float* in = x + y * wq;
        for (int64_t tx = 0; tx < tw; ++tx)
            for (int b = 0; b < 6; ++b)
                e[b * tw + tx] = in[4 * tx + b];
        float* out = row + y * 6 * tw;
        for (int64_t tx = 0; tx < tw; ++tx) {
#define BFT_D(b) e[(b) * tw + tx]
            float r[6];
            BFT_WINOGRAD_BT(BFT_D, r)
#undef BFT_D
            for (int j = 0; j < 6; ++j)
                out[j * tw + tx] = r[j];
        }
    }
    for (int64_t ty = 0; ty < th; ++ty)
        for (int j = 0; j < 6; ++j) {
            const float* col = row + 4 * ty * 6 * tw + j * tw;
            float* out = v + j * point_stride + ty * tw;
            for (int64_t tx = 0; tx < tw; ++tx) {
#define BFT_D(a) col[(a) * 6 * tw + tx]
                float r[6];
                BFT_WINOGRAD_BT(BFT_D, r)
#undef BFT_D
                for (int i = 0; i < 6; ++i)
                    out[i * 6 * point_stride + tx] = r[i];
            }
        }
}

// One output channel, every tile: m[p * point_stride + q] holds point p of tile q (t of them);
// leaves A^T m A of tile q, output pixel (i, j), at y[(i * 4 + j) * t + q]. `s` is 24 x t scratch.
BFT_VECTOR_CLONES void output_points(const float* __restrict m, int64_t point_stride, int64_t t, float* __restrict s,
                                     float* __restrict y)
{
    for (int b = 0; b < 6; ++b)
        for (int64_t q = 0; q < t; ++q) {
#define BFT_M(a) m[((a) * 6 + b) * point_stride + q]
            float r[4];
            BFT_WINOGRAD_AT(BFT_M, r)
#undef BFT_M
            for (int i = 0; i < 4; ++i)
                s[(i * 6 + b) * t + q] = r[i];
        }
    for (int i = 0; i < 4; ++i)
        for (int64_t q = 0; q < t; ++q) {
#define BFT_M(b) s[(i * 6 + (b)) * t + q]
            float r[4];
            BFT_WINOGRAD_AT(BFT_M, r)
#undef BFT_M
            for (int j = 0; j < 4; ++j)
                y[(i * 4 + j) * t + q] = r[j];
        }
}

} // namespace

at::Tensor winograd_weights(const at::Tensor& weight)
{
    if (weight.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3)
        throw Error("Winograd F(4x4, 3x3): expected a 3x3 weight");
    const at::Tensor g = at::from_blob(const_cast<double*>(&kG[0][0]), {6, 3}, at::kDouble);
    const int64_t o = weight.size(0), i = weight.size(1);
    // As a batch of O * I 3x3 kernels, so that G broadcasts without copies of itself.
    const at::Tensor w = weight.detach().to(at::kCPU, at::kDouble).reshape({o * i, 3, 3});
    const at::Tensor u = at::matmul(at::matmul(g, w), g.t()); // O * I x 6 x 6
    return u.view({o, i, 36}).permute({2, 0, 1}).to(at::kFloat).contiguous();
}

at::Tensor winograd_conv3x3(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias)
{
    if (x.dim() != 4 || x.scalar_type() != at::kFloat || !x.is_cpu() || u.dim() != 3 || u.size(0) != 36 ||
        u.size(2) != x.size(1) || u.scalar_type() != at::kFloat || !u.is_cpu() || !u.is_contiguous() || x.size(2) < 3 ||
        x.size(3) < 3 || (bias.defined() && (bias.numel() != u.size(1) || !bias.is_cpu())))
        throw Error("Winograd F(4x4, 3x3): unsupported input");
    RECORD_FUNCTION("bft::winograd_conv3x3", std::vector<c10::IValue>());
    const int64_t n = x.size(0), c = x.size(1), o = u.size(1);
    const int64_t h = x.size(2) - 2, w = x.size(3) - 2;
    const int64_t th = (h + 3) / 4, tw = (w + 3) / 4, t = n * th * tw;
    // Zeros below and to the right where the map is not a whole number of tiles (cropped after).
    at::Tensor xp = x.contiguous();
    if (4 * th + 2 != x.size(2) || 4 * tw + 2 != x.size(3))
        xp = at::constant_pad_nd(xp, {0, 4 * tw + 2 - x.size(3), 0, 4 * th + 2 - x.size(2)}).contiguous();
    const int64_t hq = xp.size(2), wq = xp.size(3);

    // Tiles to the Winograd domain, a channel at a time: v[p][ch][img][ty][tx].
    at::Tensor v = at::empty({36, c, t}, x.options());
    const float* xq = xp.data_ptr<float>();
    float* vp = v.data_ptr<float>();
    at::parallel_for(0, c, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> row(static_cast<size_t>(hq * 6 * tw)), e(static_cast<size_t>(6 * tw));
        for (int64_t ch = begin; ch < end; ++ch)
            for (int64_t img = 0; img < n; ++img)
                input_plane(xq + (img * c + ch) * hq * wq, hq, wq, th, tw, vp + ch * t + img * th * tw, c * t, row.data(),
                            e.data());
    });
    // The 36 products, point by point: m[p] = u[p] (o x c) v[p] (c x t).
    // (One after the other, each on every thread: splitting the 36 between threads was no faster.)
    at::Tensor m = at::empty({36, o, t}, x.options());
    const float* up = u.data_ptr<float>();
    float* mp = m.data_ptr<float>();
    for (int64_t p = 0; p < 36; ++p)
        onednn::gemm(false, false, o, t, c, up + p * o * c, c, vp + p * c * t, t, mp + p * o * t);
    // And back, a channel at a time, with the bias, into the output rows (cropped where tiles
    // stick out).
    at::Tensor out = at::empty({n, o, h, w}, x.options());
    const at::Tensor b = bias.defined() ? bias.to(at::kFloat).contiguous() : at::zeros({o}, x.options());
    const float* bp = b.data_ptr<float>();
    float* op = out.data_ptr<float>();
    at::parallel_for(0, o, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> s(static_cast<size_t>(24 * t)), y(static_cast<size_t>(16 * t));
        for (int64_t oc = begin; oc < end; ++oc) {
            output_points(mp + oc * t, o * t, t, s.data(), y.data());
            const float bias_oc = bp[oc];
            for (int64_t img = 0; img < n; ++img)
                for (int64_t row = 0; row < h; ++row) {
                    const int64_t ty = row / 4, i = row % 4;
                    const float* yi = y.data() + i * 4 * t + (img * th + ty) * tw;
                    float* dst = op + ((img * o + oc) * h + row) * w;
                    for (int64_t col_x = 0; col_x < w; ++col_x)
                        dst[col_x] = yi[(col_x % 4) * t + col_x / 4] + bias_oc;
                }
        }
    });
    return out;
}

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
namespace {

// B^T d and A^T m on vectors of 16 channels (the rows written out in BFT_WINOGRAD_BT / _AT).
__attribute__((target("avx512f"))) inline void bt_vectors(const __m512* d, __m512* r)
{
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    // r0 = 4 d0 - 5 d2 + d4; r5 = 4 d1 - 5 d3 + d5
    r[0] = _mm512_fmadd_ps(four, d[0], _mm512_fnmadd_ps(five, d[2], d[4]));
    r[5] = _mm512_fmadd_ps(four, d[1], _mm512_fnmadd_ps(five, d[3], d[5]));
    // r1 = -4 (d1 + d2) + d3 + d4; r2 = 4 (d1 - d2) - d3 + d4
    const __m512 d34 = _mm512_add_ps(d[3], d[4]), d4m3 = _mm512_sub_ps(d[4], d[3]);
    r[1] = _mm512_fnmadd_ps(four, _mm512_add_ps(d[1], d[2]), d34);
    r[2] = _mm512_fmadd_ps(four, _mm512_sub_ps(d[1], d[2]), d4m3);
    // r3 = -2 d1 - d2 + 2 d3 + d4 = 2 (d3 - d1) + (d4 - d2); r4 = 2 (d1 - d3) + (d4 - d2)
    const __m512 d31 = _mm512_sub_ps(d[3], d[1]), d42 = _mm512_sub_ps(d[4], d[2]);
    r[3] = _mm512_fmadd_ps(two, d31, d42);
    r[4] = _mm512_fnmadd_ps(two, d31, d42);
}

__attribute__((target("avx512f"))) inline void at_vectors(const __m512* m, __m512* r)
{
    // r0 = m0 + (m1 + m2) + (m3 + m4); r1 = (m1 - m2) + 2 (m3 - m4); r2 = (m1 + m2) + 4 (m3 + m4);
    // r3 = (m1 - m2) + 8 (m3 - m4) + m5
    const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    r[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    r[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
    r[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
    r[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12), m[5]);
}

// Row (or column) i of a 6-wide window starting at `first` (padding 1 before it) in a map of n:
// the reflected index, or -1 past the padded map (those values only reach outputs that are cut).
inline int64_t reflected(int64_t first, int i, int64_t n)
{
    return first + i > n ? -1 : kernels::mirror(first + i, n);
}

// One tile of one image, 16 channels from c0: the 36 points to v[p * point_stride].
template <bool Normalize>
__attribute__((target("avx512f"))) void input_tile(const float* x, int64_t h, int64_t w, int64_t c, int64_t ty,
                                                   int64_t tx, int64_t c0, const float* mean, const float* inv, float* v,
                                                   int64_t point_stride)
{
    int64_t rows[6], cols[6];
    for (int i = 0; i < 6; ++i) {
        rows[i] = reflected(4 * ty - 1, i, h);
        cols[i] = reflected(4 * tx - 1, i, w);
    }
    __m512 mu = _mm512_setzero_ps(), sc = _mm512_setzero_ps();
    if constexpr (Normalize) {
        mu = _mm512_loadu_ps(mean + c0);
        sc = _mm512_loadu_ps(inv + c0);
    }
    const __m512 zero = _mm512_setzero_ps();
    __m512 t[6][6];
    for (int i = 0; i < 6; ++i) {
        __m512 d[6];
        for (int j = 0; j < 6; ++j) {
            if (rows[i] < 0 || cols[j] < 0) {
                d[j] = zero;
                continue;
            }
            d[j] = _mm512_loadu_ps(x + (rows[i] * w + cols[j]) * c + c0);
            if constexpr (Normalize)
                d[j] = _mm512_maskz_max_ps(0xffff, zero, _mm512_mul_ps(_mm512_sub_ps(d[j], mu), sc));
        }
        bt_vectors(d, t[i]); // along the row: t[i][k] = (d B)[i][k]
    }
    for (int k = 0; k < 6; ++k) {
        const __m512 col[6] = {t[0][k], t[1][k], t[2][k], t[3][k], t[4][k], t[5][k]};
        __m512 r[6];
        bt_vectors(col, r); // down the column: (B^T d B)[a][k]
        for (int a = 0; a < 6; ++a)
            _mm512_storeu_ps(v + (a * 6 + k) * point_stride, r[a]);
    }
}

// One tile of one image, 16 out channels from o0: m[p * point_stride] holds point p; A^T m A plus
// the bias to the tile's pixels of y (channels-last, o channels), those inside the map.
__attribute__((target("avx512f"))) void output_tile(const float* m, int64_t point_stride, const float* bias, float* y,
                                                    int64_t h, int64_t w, int64_t o, int64_t ty, int64_t tx, int64_t o0)
{
    __m512 s[4][6];
    for (int b = 0; b < 6; ++b) {
        __m512 col[6], r[4];
        for (int a = 0; a < 6; ++a)
            col[a] = _mm512_loadu_ps(m + (a * 6 + b) * point_stride);
        at_vectors(col, r);
        for (int i = 0; i < 4; ++i)
            s[i][b] = r[i];
    }
    const __m512 bv = bias ? _mm512_loadu_ps(bias + o0) : _mm512_setzero_ps();
    for (int i = 0; i < 4; ++i) {
        const int64_t row = 4 * ty + i;
        if (row >= h)
            break;
        __m512 r[4];
        at_vectors(s[i], r);
        for (int j = 0; j < 4; ++j) {
            const int64_t col = 4 * tx + j;
            if (col >= w)
                break;
            _mm512_storeu_ps(y + (row * w + col) * o + o0, _mm512_add_ps(r[j], bv));
        }
    }
}

} // namespace

bool winograd_reflect_fits(const at::Tensor& x, int64_t out_channels)
{
    return kernels::rows_times_packed_fits() && x.dim() == 4 && x.is_cpu() && x.scalar_type() == at::kFloat &&
           x.size(1) % 16 == 0 && x.size(1) > 0 && out_channels % 64 == 0 && out_channels > 0 && x.size(2) >= 2 &&
           x.size(3) >= 2;
}

at::Tensor winograd_reflect_conv3x3(const at::Tensor& x_in, const at::Tensor& own, const at::Tensor& bias,
                                    const float* mean, const float* inv)
{
    if (!winograd_reflect_fits(x_in, 64) || own.dim() != 3 || own.size(1) != x_in.size(1) || own.size(2) != 64 ||
        own.size(0) % 36 != 0 || !own.is_contiguous() || own.scalar_type() != at::kFloat ||
        (bias.defined() && bias.numel() != own.size(0) / 36 * 64) || (mean == nullptr) != (inv == nullptr))
        throw Error("Winograd F(4x4, 3x3), reflection-padded: unsupported input");
    RECORD_FUNCTION("bft::winograd_reflect_conv3x3", std::vector<c10::IValue>());
    const at::Tensor x = x_in.contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), blocks = own.size(0) / 36, o = blocks * 64;
    const int64_t th = (h + 3) / 4, tw = (w + 3) / 4, t = n * th * tw, cb = c / 16;
    // v[p][tile][ch], m[p][tile][out]: each point's product is tiles x c times c x o. In buffers the
    // calling thread keeps from layer to layer, up to 64 MiB: fresh ones (9.4 MB at 64 tiles of 512
    // channels) often came from the kernel page by page, faulted in as the transforms and products
    // first wrote them (the Xeon, pose at 256: the last 6 trunk layers 5 -> 7.4 ms in a profiled
    // forward, input transform 0.35 -> 1.3 ms). Not winograd_stride2.cpp's chunk buffer (a tensor
    // from LibTorch's allocator): with it the pose forward's measured peak was 12.6 MiB higher.
    constexpr size_t kKeptFloats = size_t{16} << 20;
    thread_local std::vector<float> kept;
    std::vector<float> once;
    const size_t need = static_cast<size_t>(36 * t * (c + o));
    std::vector<float>& scratch = need <= kKeptFloats ? kept : once;
    if (scratch.size() < need)
        scratch = std::vector<float>(need);
    const float* xp = x.data_ptr<float>();
    float* vp = scratch.data();
    {
        RECORD_FUNCTION("bft::winograd_input", std::vector<c10::IValue>());
        at::parallel_for(0, t * cb, 1, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                const int64_t tile = i / cb, c0 = (i % cb) * 16, img = tile / (th * tw), ty = tile / tw % th, tx = tile % tw;
                const float* image = xp + img * h * w * c;
                float* dst = vp + tile * c + c0;
                if (mean)
                    input_tile<true>(image, h, w, c, ty, tx, c0, mean + img * c, inv + img * c, dst, t * c);
                else
                    input_tile<false>(image, h, w, c, ty, tx, c0, nullptr, nullptr, dst, t * c);
            }
        });
    }
    const float* up = own.data_ptr<float>();
    float* mp = vp + 36 * t * c;
    {
        RECORD_FUNCTION("bft::winograd_own_products", std::vector<c10::IValue>());
        // Point by point, 64 out channels at a time: each thread streams its run of weight blocks once,
        // prefetching the next while it multiplies.
        at::parallel_for(0, 36 * blocks, 1, [&](int64_t begin, int64_t end) {
            for (int64_t q = begin; q < end; ++q) {
                const int64_t p = q / blocks, j = q % blocks;
                kernels::rows_times_packed(vp + p * t * c, c, t, c, up + q * c * 64, mp + p * t * o + j * 64, o,
                                           q + 1 < end ? up + (q + 1) * c * 64 : nullptr);
            }
        });
    }
    at::Tensor y = at::empty({n, o, h, w}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    const at::Tensor b = bias.defined() ? bias.to(at::kFloat).contiguous() : at::Tensor();
    const float* bp = b.defined() ? b.data_ptr<float>() : nullptr;
    float* yp = y.data_ptr<float>();
    {
        RECORD_FUNCTION("bft::winograd_output", std::vector<c10::IValue>());
        const int64_t ob = o / 16;
        at::parallel_for(0, t * ob, 1, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                const int64_t tile = i / ob, o0 = (i % ob) * 16, img = tile / (th * tw), ty = tile / tw % th, tx = tile % tw;
                output_tile(mp + tile * o + o0, t * o, bp, yp + img * h * w * o, h, w, o, ty, tx, o0);
            }
        });
    }
    return y;
}
#else
bool winograd_reflect_fits(const at::Tensor&, int64_t)
{
    return false;
}
at::Tensor winograd_reflect_conv3x3(const at::Tensor&, const at::Tensor&, const at::Tensor&, const float*, const float*)
{
    throw Error("Winograd F(4x4, 3x3), reflection-padded: not built for this CPU");
}
#endif

int64_t winograd_reflect_tiles(const at::Tensor& x)
{
    return x.size(0) * ((x.size(2) + 3) / 4) * ((x.size(3) + 3) / 4);
}

at::Tensor winograd_own_weights(const at::Tensor& u)
{
    if (u.dim() != 3 || u.size(0) != 36 || u.size(1) % 64 != 0)
        throw Error("Winograd F(4x4, 3x3): own products need [36, O, C] weights, O a multiple of 64");
    const int64_t o = u.size(1), c = u.size(2);
    return u.view({36, o / 64, 64, c}).permute({0, 1, 3, 2}).contiguous().view({36 * (o / 64), c, 64});
}

} // namespace bft
