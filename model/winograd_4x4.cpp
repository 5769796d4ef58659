#include "winograd_4x4.h"

#include "onednn.h"
#include "winograd_tiles.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <array>

namespace bft {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int kPoints = 25;

// F(2, 4) is F(4, 2) transposed (winograd_tiles.h's points): with F(4, 2)'s A^T, B^T and G,
// y = G^T [(A g) . (B^T d)] for a 4-tap g over a window of 5, 2 outputs. In 2D the weight goes to
// A g A^T (5x5), a row-major 4x4 kernel times kron(A, A) (25 x 16); the flipped kernel (the input's
// gradient) times kron(A J, A J), J the reversal; and the weight's gradient comes back from the 25
// points by the same kron(A, A), as A^T s A.
constexpr float kA[5][4] = {{1, 0, 0, 0}, {1, 1, 1, 1}, {1, -1, 1, -1}, {1, 2, 4, 8}, {0, 0, 0, 1}};

// kron(A, A) [25][16], or with `flipped` kron(A J, A J).
std::array<float, kPoints * 16> kron_a(bool flipped)
{
    std::array<float, kPoints * 16> k{};
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 5; ++j)
            for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b)
                    k[(i * 5 + j) * 16 + a * 4 + b] = flipped ? kA[i][3 - a] * kA[j][3 - b] : kA[i][a] * kA[j][b];
    return k;
}

const float* kron(bool flipped)
{
    static const std::array<float, kPoints * 16> plain = kron_a(false), flip = kron_a(true);
    return flipped ? flip.data() : plain.data();
}

// The 2x2 output tiles of a convolution of an ih x iw map (padding pad, 4x4 kernel, stride 1): th x
// tw per image, window (ty, tx) reading rows 2 ty - pad .. + 4 and columns likewise.
struct Grid {
    int64_t n, ih, iw, pad, oh, ow, th, tw;
    Grid(int64_t n_, int64_t ih_, int64_t iw_, int64_t pad_)
        : n(n_), ih(ih_), iw(iw_), pad(pad_), oh(ih_ + 2 * pad_ - 3), ow(iw_ + 2 * pad_ - 3), th((oh + 1) / 2),
          tw((ow + 1) / 2)
    {
    }
    int64_t tiles() const { return n * th * tw; }
};

// G^T m G for 16 channels: the 2x2 outputs of the 25 products at m + p * point_stride, y[u * 2 + v]
// (kLanes each).
//   G^T = [1 1 1 1 0; 0 1 -1 2 1]
#define BFT_WINOGRAD4_GT(m, r)                                                                           \
    {                                                                                                    \
        r[0] = m(0) + m(1) + m(2) + m(3);                                                                \
        r[1] = m(1) - m(2) + 2.0f * m(3) + m(4);                                                         \
    }
BFT_VECTOR_CLONES void output_tile2x2(const float* __restrict m, int64_t point_stride, float* __restrict y)
{
#define BFT_IN(x, a, b) x = BFT_LOAD(m + ((a) * 5 + (b)) * point_stride);
#define BFT_OUT(u, w, value) BFT_STORE(y + ((u) * 2 + (w)) * kLanes, value);
    BFT_SEPARABLE(5, 2, BFT_IN, BFT_WINOGRAD4_GT, BFT_OUT)
#undef BFT_IN
#undef BFT_OUT
}

// G d G^T for 16 channels: a 2x2 tile of the output's gradient (d[u * 2 + v]) to its 25 points.
//   G = [1 0; 1 1; 1 -1; 1 2; 0 1]
#define BFT_WINOGRAD4_G(d, r)                                                                            \
    {                                                                                                    \
        r[0] = d(0);                                                                                     \
        r[1] = d(0) + d(1);                                                                              \
        r[2] = d(0) - d(1);                                                                              \
        r[3] = d(0) + 2.0f * d(1);                                                                       \
        r[4] = d(1);                                                                                     \
    }
BFT_VECTOR_CLONES void gradient_tile2x2(const float* const* __restrict d, float* __restrict v, int64_t point_stride)
{
#define BFT_IN(x, u, w) x = BFT_LOAD(d[(u) * 2 + (w)]);
#define BFT_OUT(a, b, value) BFT_STORE(v + ((a) * 5 + (b)) * point_stride, value);
    BFT_SEPARABLE(2, 5, BFT_IN, BFT_WINOGRAD4_G, BFT_OUT)
#undef BFT_IN
#undef BFT_OUT
}

// Per tile of g, what `each(tile, image, ty, tx)` does, the threads taking tiles in turn.
template <class Each>
void for_tiles(const Grid& g, const Each& each)
{
    at::parallel_for(0, g.tiles(), 16, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t)
            each(t, t / (g.th * g.tw), t / g.tw % g.th, t % g.tw);
    });
}

// B^T d B of every window of x (channels-last, c channels) into v [25][tiles][c].
void windows(const float* x, int64_t c, const Grid& g, float* v)
{
    RECORD_FUNCTION("bft::winograd4_windows", std::vector<c10::IValue>());
    const int64_t stride = g.tiles() * c;
    for_tiles(g, [&](int64_t t, int64_t img, int64_t ty, int64_t tx) {
        const float* d[kPoints];
        for (int64_t c0 = 0; c0 < c; c0 += kLanes) {
            for (int r = 0; r < 5; ++r)
                for (int s = 0; s < 5; ++s) {
                    const int64_t iy = 2 * ty - g.pad + r, ix = 2 * tx - g.pad + s;
                    d[r * 5 + s] = iy >= 0 && iy < g.ih && ix >= 0 && ix < g.iw ? x + ((img * g.ih + iy) * g.iw + ix) * c + c0
                                                                              : kZeros;
                }
            input_tile4(d, v + t * c + c0, stride, Activation{});
        }
    });
}

// Products [25][tiles][k] back to the outputs (channels-last N x k x oh x ow).
void outputs(const float* m, int64_t k, const Grid& g, float* y)
{
    RECORD_FUNCTION("bft::winograd4_outputs", std::vector<c10::IValue>());
    const int64_t stride = g.tiles() * k;
    for_tiles(g, [&](int64_t t, int64_t img, int64_t ty, int64_t tx) {
        alignas(64) float tile[4 * kLanes];
        for (int64_t k0 = 0; k0 < k; k0 += kLanes) {
            output_tile2x2(m + t * k + k0, stride, tile);
            for (int u = 0; u < 2; ++u)
                for (int w = 0; w < 2; ++w) {
                    const int64_t oy = 2 * ty + u, ox = 2 * tx + w;
                    if (oy < g.oh && ox < g.ow)
                        std::copy_n(tile + (u * 2 + w) * kLanes, kLanes, y + ((img * g.oh + oy) * g.ow + ox) * k + k0);
                }
        }
    });
}

// G dy G^T of every 2x2 tile of the output's gradient (channels-last, k channels; zeros past its
// edge) into v [25][tiles][k].
void gradient_tiles(const float* dy, int64_t k, const Grid& g, float* v)
{
    RECORD_FUNCTION("bft::winograd4_gradient_tiles", std::vector<c10::IValue>());
    const int64_t stride = g.tiles() * k;
    for_tiles(g, [&](int64_t t, int64_t img, int64_t ty, int64_t tx) {
        const float* d[4];
        for (int64_t k0 = 0; k0 < k; k0 += kLanes) {
            for (int u = 0; u < 2; ++u)
                for (int w = 0; w < 2; ++w) {
                    const int64_t oy = 2 * ty + u, ox = 2 * tx + w;
                    d[u * 2 + w] = oy < g.oh && ox < g.ow ? dy + ((img * g.oh + oy) * g.ow + ox) * k + k0 : kZeros;
                }
            gradient_tile2x2(d, v + t * k + k0, stride);
        }
    });
}

// The weight [O, C, 4, 4] at the 25 points: [25][O][C], per point A g A^T (or the flipped kernel's).
at::Tensor weight_points(const at::Tensor& weight, bool flipped)
{
    const at::Tensor w = weight.contiguous();
    const int64_t pairs = w.size(0) * w.size(1);
    at::Tensor u = at::empty({kPoints, w.size(0), w.size(1)}, w.options());
    onednn::gemm(false, true, kPoints, pairs, 16, kron(flipped), 16, w.data_ptr<float>(), 16, u.data_ptr<float>());
    return u;
}

// Per point p: out_p = a_p op(b_p), a [25][rows][inner], b [25][...], out [25][rows][cols].
void products(const float* a, int64_t rows, int64_t inner, const float* b, bool trans_b, int64_t cols, float* out)
{
    RECORD_FUNCTION("bft::winograd4_products", std::vector<c10::IValue>());
    for (int p = 0; p < kPoints; ++p)
        onednn::gemm(false, trans_b, rows, cols, inner, a + p * rows * inner, inner, b + p * inner * cols,
                     trans_b ? inner : cols, out + p * rows * cols);
}

const auto kChannelsLast = at::MemoryFormat::ChannelsLast;

// x (N x c x ih x iw) convolved with the weight at its points u ([25][k][c] with trans_u, else
// [25][c][k]) into N x k x oh x ow, channels-last; v: x's windows, where the caller keeps them.
at::Tensor convolve(const at::Tensor& x, const Grid& g, const at::Tensor& u, bool trans_u, int64_t k,
                    at::Tensor* kept_windows = nullptr)
{
    const int64_t c = x.size(1), tiles = g.tiles();
    const at::Tensor xc = x.contiguous(kChannelsLast);
    at::Tensor v = at::empty({kPoints, tiles, c}, x.options());
    windows(xc.data_ptr<float>(), c, g, v.data_ptr<float>());
    at::Tensor m = at::empty({kPoints, tiles, k}, x.options());
    products(v.data_ptr<float>(), tiles, c, u.data_ptr<float>(), trans_u, k, m.data_ptr<float>());
    at::Tensor y = at::empty({g.n, k, g.oh, g.ow}, x.options().memory_format(kChannelsLast));
    outputs(m.data_ptr<float>(), k, g, y.data_ptr<float>());
    if (kept_windows)
        *kept_windows = v;
    return y;
}

struct Winograd4 : public torch::autograd::Function<Winograd4> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, int64_t padding)
    {
        RECORD_FUNCTION("bft::conv2d_winograd4", std::vector<c10::IValue>());
        const Grid g(x.size(0), x.size(2), x.size(3), padding);
        at::Tensor v;
        const at::Tensor y = convolve(x, g, weight_points(weight, false), /*trans_u=*/true, weight.size(0), &v);
        // The windows, for the weight's gradient (the PatchGAN's layer at batch 8: 13 MB).
        ctx->save_for_backward({v, weight});
        ctx->saved_data["shape"] = std::vector<int64_t>{x.size(0), x.size(2), x.size(3), padding};
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        TORCH_CHECK(!at::GradMode::is_enabled(), "Winograd F(2x2, 4x4): no double backward (create_graph)");
        RECORD_FUNCTION("bft::conv2d_winograd4_backward", std::vector<c10::IValue>());
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &v = saved[0], &weight = saved[1];
        const auto s = ctx->saved_data["shape"].toIntVector();
        const Grid g(s[0], s[1], s[2], s[3]);
        const int64_t o = weight.size(0), c = weight.size(1), tiles = g.tiles();
        const at::Tensor dy = grads[0].contiguous(kChannelsLast);
        at::Tensor grad_x, grad_w;
        if (ctx->needs_input_grad(0)) {
            // A convolution of dy with the weight flipped and its channels swapped, padded 3 - padding.
            const Grid back(g.n, g.oh, g.ow, 3 - g.pad);
            grad_x = convolve(dy, back, weight_points(weight, true), /*trans_u=*/false, c);
        }
        if (ctx->needs_input_grad(1)) {
            RECORD_FUNCTION("bft::winograd4_weight_gradient", std::vector<c10::IValue>());
            at::Tensor gd = at::empty({kPoints, tiles, o}, dy.options());
            gradient_tiles(dy.data_ptr<float>(), o, g, gd.data_ptr<float>());
            // Per point, the sum over tiles of dy's points times the windows' ([O][C]), then A^T s A.
            at::Tensor sums = at::empty({kPoints, o, c}, dy.options());
            for (int p = 0; p < kPoints; ++p)
                onednn::gemm(true, false, o, c, tiles, gd.data_ptr<float>() + p * tiles * o, o,
                             v.data_ptr<float>() + p * tiles * c, c, sums.data_ptr<float>() + p * o * c);
            grad_w = at::empty({o, c, 4, 4}, dy.options());
            onednn::gemm(true, false, o * c, 16, kPoints, sums.data_ptr<float>(), o * c, kron(false), 16,
                         grad_w.data_ptr<float>());
        }
        return {grad_x, grad_w, at::Tensor()};
    }
};

} // namespace

bool winograd4_fits(const at::Tensor& x, const at::Tensor& weight, int64_t padding)
{
    return x.dim() == 4 && x.is_cpu() && x.scalar_type() == at::kFloat && weight.dim() == 4 &&
           weight.scalar_type() == at::kFloat && weight.is_cpu() && weight.size(1) == x.size(1) && weight.size(2) == 4 &&
           weight.size(3) == 4 && x.size(1) % kLanes == 0 && weight.size(0) % kLanes == 0 && x.size(1) >= 64 &&
           weight.size(0) >= 64 && padding >= 0 && padding <= 3 && x.size(2) + 2 * padding >= 4 &&
           x.size(3) + 2 * padding >= 4 && onednn::available();
}

at::Tensor conv2d_winograd4(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding)
{
    TORCH_CHECK(winograd4_fits(x, weight, padding) &&
                    (!bias.defined() || (bias.numel() == weight.size(0) && bias.scalar_type() == at::kFloat)),
                "conv2d_winograd4: unsupported input");
    // The bias outside the node: LibTorch 1.13's custom functions take no undefined inputs (and the
    // PatchGAN's layer has none).
    const at::Tensor y = Winograd4::apply(x, weight, padding);
    return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
}

} // namespace bft
