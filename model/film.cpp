#include "film.h"

#include "vectorize.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include <cmath>

namespace bft {

namespace nn = torch::nn;

void append_film_bottleneck(nn::Sequential& seq, int nc, int depth)
{
    seq->push_back(nn::Conv2d(nn::Conv2dOptions(nc, depth, 1)));
    seq->push_back(nn::ReLU(nn::ReLUOptions()));
    seq->push_back(nn::Conv2d(nn::Conv2dOptions(depth, nc, 1)));
}

nn::Sequential film_bottleneck(int nc, int depth)
{
    nn::Sequential seq;
    append_film_bottleneck(seq, nc, depth);
    return seq;
}

at::Tensor run_film_bottleneck(const nn::Sequential& seq, size_t first, const at::Tensor& x)
{
    auto h = seq->ptr(first)->as<nn::Conv2dImpl>()->forward(x);
    h = at::relu(h);
    return seq->ptr(first + 2)->as<nn::Conv2dImpl>()->forward(h);
}

at::Tensor film_modulate(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta)
{
    // Matches calc_mean_std of the reference: unbiased variance, eps added before the sqrt. The
    // variance from the centred values this needs anyway: LibTorch 1.13's var (and var_mean) took
    // 3-4x longer forward and longer backward (2 threads, 4 x 64 x 64 x 64: 4.8 + 11.4 ms against
    // 1.7 + 7.7), for the same two-pass arithmetic.
    const int64_t count = x.size(2) * x.size(3);
    const at::Tensor centred = x - x.mean({2, 3}, /*keepdim=*/true);
    const at::Tensor var = (centred * centred).sum({2, 3}, /*keepdim=*/true) / static_cast<double>(count - 1);
    return at::addcmul(beta, gamma, centred * (var + 1e-5).rsqrt());
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One (n, c) plane of HW values: g and b its gamma and beta planes. Mean and 1/sqrt(var + 1e-5)
// from the centred values as film_modulate, accumulated in double. Templates inlined into the
// vectorised float clones below (GCC 12 clones no templates) and a plain double version (tests).
template <typename T>
inline __attribute__((always_inline)) void film_plane_forward_body(const T* __restrict x, const T* __restrict g,
                                                                   const T* __restrict b, T* __restrict y, int64_t hw,
                                                                   bool relu, T* __restrict stats)
{
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < hw; ++i)
        sum += x[i];
    const T mean = static_cast<T>(sum / static_cast<double>(hw));
    double sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < hw; ++i) {
        const T d = x[i] - mean;
        sq += static_cast<double>(d) * d;
    }
    const T inv = static_cast<T>(1.0 / std::sqrt(sq / static_cast<double>(hw - 1) + 1e-5));
    if (relu) {
        for (int64_t i = 0; i < hw; ++i) {
            const T v = g[i] * ((x[i] - mean) * inv) + b[i];
            y[i] = v > 0 ? v : T(0);
        }
    } else {
        for (int64_t i = 0; i < hw; ++i)
            y[i] = g[i] * ((x[i] - mean) * inv) + b[i];
    }
    stats[0] = mean;
    stats[1] = inv;
}

// Its gradients, for out = gamma * xh + beta [then ReLU: y, the output, is given], xh = (x - mean)
// * inv: dbeta = go (zero where the ReLU cut), dgamma = dbeta * xh, and with h = dbeta * gamma,
// dx = inv * (h - mean(h) - xh * sum(h * xh) / (hw - 1)) (the unbiased variance's derivative).
template <typename T>
inline __attribute__((always_inline)) void film_plane_backward_body(const T* __restrict x, const T* __restrict g,
                                                                    const T* __restrict y, const T* __restrict go,
                                                                    const T* __restrict stats, T* __restrict dx,
                                                                    T* __restrict dg, T* __restrict db, int64_t hw)
{
    const T mean = stats[0], inv = stats[1];
    if (y) {
        for (int64_t i = 0; i < hw; ++i)
            db[i] = y[i] > 0 ? go[i] : T(0);
    } else {
        for (int64_t i = 0; i < hw; ++i)
            db[i] = go[i];
    }
    double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
    for (int64_t i = 0; i < hw; ++i) {
        const T xh = (x[i] - mean) * inv;
        dg[i] = db[i] * xh;
        const T h = db[i] * g[i];
        s1 += h;
        s2 += static_cast<double>(h) * xh;
    }
    const T a = static_cast<T>(s1 / static_cast<double>(hw)), c = static_cast<T>(s2 / static_cast<double>(hw - 1));
    for (int64_t i = 0; i < hw; ++i)
        dx[i] = inv * (db[i] * g[i] - a - (x[i] - mean) * inv * c);
}

BFT_VECTOR_CLONES void film_plane_forward(const float* x, const float* g, const float* b, float* y, int64_t hw,
                                          bool relu, float* stats)
{
    film_plane_forward_body(x, g, b, y, hw, relu, stats);
}

void film_plane_forward(const double* x, const double* g, const double* b, double* y, int64_t hw, bool relu,
                        double* stats)
{
    film_plane_forward_body(x, g, b, y, hw, relu, stats);
}

BFT_VECTOR_CLONES void film_plane_backward(const float* x, const float* g, const float* y, const float* go,
                                           const float* stats, float* dx, float* dg, float* db, int64_t hw)
{
    film_plane_backward_body(x, g, y, go, stats, dx, dg, db, hw);
}

void film_plane_backward(const double* x, const double* g, const double* y, const double* go, const double* stats,
                         double* dx, double* dg, double* db, int64_t hw)
{
    film_plane_backward_body(x, g, y, go, stats, dx, dg, db, hw);
}

// film_modulate (+ ReLU) as one autograd node, two passes over each plane each way: the formula's
// chain of ATen operations (mean, centre, square, sum, rsqrt, products, the slices of the fused
// gamma/beta map and their zero-filled backward) took about 18 ms of a 600 ms texture training step.
struct FusedFilm : public torch::autograd::Function<FusedFilm> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x_any, const at::Tensor& gb_any, bool relu)
    {
        RECORD_FUNCTION("bft::film_fused", std::vector<c10::IValue>());
        const at::Tensor x = x_any.contiguous(), gb = gb_any.contiguous();
        const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
        at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
        at::Tensor stats = at::empty({N * C, 2}, x.options());
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "film_fused", [&] {
            const scalar_t *xp = x.data_ptr<scalar_t>(), *gp = gb.data_ptr<scalar_t>();
            scalar_t *yp = y.data_ptr<scalar_t>(), *sp = stats.data_ptr<scalar_t>();
            at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
                for (int64_t p = begin; p < end; ++p) {
                    const scalar_t* g = gp + ((p / C) * 2 * C + p % C) * HW;
                    film_plane_forward(xp + p * HW, g, g + C * HW, yp + p * HW, HW, relu, sp + 2 * p);
                }
            });
        });
        ctx->saved_data["relu"] = relu;
        ctx->save_for_backward({x, gb, stats, relu ? y : at::Tensor()});
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        RECORD_FUNCTION("bft::film_fused_backward", std::vector<c10::IValue>());
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &x = saved[0], &gb = saved[1], &stats = saved[2], &y = saved[3];
        const at::Tensor go = grads[0].contiguous();
        const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
        at::Tensor dx = at::empty_like(x), dgb = at::empty_like(gb);
        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "film_fused_backward", [&] {
            const scalar_t *xp = x.data_ptr<scalar_t>(), *gp = gb.data_ptr<scalar_t>(), *sp = stats.data_ptr<scalar_t>();
            const scalar_t *yp = y.defined() ? y.data_ptr<scalar_t>() : nullptr, *gop = go.data_ptr<scalar_t>();
            scalar_t *dxp = dx.data_ptr<scalar_t>(), *dgp = dgb.data_ptr<scalar_t>();
            at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
                for (int64_t p = begin; p < end; ++p) {
                    const int64_t off = ((p / C) * 2 * C + p % C) * HW;
                    film_plane_backward(xp + p * HW, gp + off, yp ? yp + p * HW : nullptr, gop + p * HW, sp + 2 * p,
                                        dxp + p * HW, dgp + off, dgp + off + C * HW, HW);
                }
            });
        });
        return {dx, dgb, at::Tensor()};
    }
};

} // namespace

at::Tensor film_modulate_fused(const at::Tensor& x, const at::Tensor& gamma_beta, bool relu)
{
    TORCH_CHECK(x.dim() == 4 && gamma_beta.dim() == 4 && gamma_beta.size(0) == x.size(0) &&
                    gamma_beta.size(1) == 2 * x.size(1) && gamma_beta.size(2) == x.size(2) &&
                    gamma_beta.size(3) == x.size(3) && gamma_beta.scalar_type() == x.scalar_type() && x.is_cpu(),
                "film_modulate_fused: gamma/beta do not match the features");
    return FusedFilm::apply(x, gamma_beta, relu);
}

} // namespace bft
