#include "winograd.h"

#include "errors.h"
#include "onednn.h"
#include "vectorize.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <vector>

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

} // namespace bft
