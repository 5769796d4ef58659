#include "fused_training.h"

#include "vectorize.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

namespace bft {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The bodies are templates inlined into vectorised float clones (GCC 12 clones no templates) and
// plain double versions (the tests' float64).
#define BFT_INLINE inline __attribute__((always_inline))

// Mean and 1/sqrt(var + 1e-5) of one plane from its centred values, accumulated in double; var
// divides by `divisor`: hw - 1 for FiLM (the reference's calc_mean_std), hw for instance norm.
template <typename T>
BFT_INLINE void plane_statistics(const T* __restrict x, int64_t hw, int64_t divisor, T& mean, T& inv)
{
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < hw; ++i)
        sum += x[i];
    mean = static_cast<T>(sum / static_cast<double>(hw));
    double sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < hw; ++i) {
        const T d = x[i] - mean;
        sq += static_cast<double>(d) * d;
    }
    inv = static_cast<T>(1.0 / std::sqrt(sq / static_cast<double>(divisor) + 1e-5));
}

// y = act(scale * xh + shift) (kFilm) or act(xh), xh = (x - mean) * inv; act (kAct): v > 0 ? v :
// slope * v. The flags are template arguments so that each loop vectorises without branches.
template <typename T, bool kFilm, bool kAct>
BFT_INLINE void plane_forward(const T* __restrict x, const T* __restrict scale, const T* __restrict shift,
                              T* __restrict y, int64_t hw, int64_t divisor, T slope, T* __restrict stats)
{
    T mean, inv;
    plane_statistics(x, hw, divisor, mean, inv);
    for (int64_t i = 0; i < hw; ++i) {
        const T xh = (x[i] - mean) * inv;
        const T v = kFilm ? scale[i] * xh + shift[i] : xh;
        y[i] = kAct && !(v > 0) ? slope * v : v;
    }
    stats[0] = mean;
    stats[1] = inv;
}

// Its gradients. d = go * act'(v), the sign of v read from y (FiLM: v is not xh's sign) or xh;
// dshift = d, dscale = d * xh; with h = d * scale (d without scale),
// dx = inv * (h - sum(h) / hw - xh * sum(h * xh) / divisor) (the variance's derivative).
// d is written to `d`: dshift, or dx as scratch (so neither is restrict).
template <typename T, bool kFilm, bool kAct>
BFT_INLINE void plane_backward(const T* __restrict x, const T* __restrict scale, const T* __restrict y,
                               const T* __restrict go, const T* __restrict stats, int64_t hw, int64_t divisor, T slope,
                               T* dx, T* __restrict dscale, T* d)
{
    const T mean = stats[0], inv = stats[1];
    double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
    for (int64_t i = 0; i < hw; ++i) {
        const T xh = (x[i] - mean) * inv;
        T di = go[i];
        if (kAct && !((kFilm ? y[i] : xh) > 0))
            di *= slope;
        d[i] = di;
        if (kFilm)
            dscale[i] = di * xh;
        const T h = kFilm ? di * scale[i] : di;
        s1 += h;
        s2 += static_cast<double>(h) * xh;
    }
    const T a = static_cast<T>(s1 / static_cast<double>(hw)), c = static_cast<T>(s2 / static_cast<double>(divisor));
    for (int64_t i = 0; i < hw; ++i) {
        const T h = kFilm ? d[i] * scale[i] : d[i];
        dx[i] = inv * (h - a - (x[i] - mean) * inv * c);
    }
}

template <typename T>
BFT_INLINE void forward_plane_any(const T* x, const T* scale, const T* shift, T* y, int64_t hw, int64_t divisor,
                                  bool act, T slope, T* stats)
{
    if (scale)
        act ? plane_forward<T, true, true>(x, scale, shift, y, hw, divisor, slope, stats)
            : plane_forward<T, true, false>(x, scale, shift, y, hw, divisor, slope, stats);
    else
        act ? plane_forward<T, false, true>(x, scale, shift, y, hw, divisor, slope, stats)
            : plane_forward<T, false, false>(x, scale, shift, y, hw, divisor, slope, stats);
}

template <typename T>
BFT_INLINE void backward_plane_any(const T* x, const T* scale, const T* y, const T* go, const T* stats, int64_t hw,
                                   int64_t divisor, bool act, T slope, T* dx, T* dscale, T* d)
{
    if (scale)
        act ? plane_backward<T, true, true>(x, scale, y, go, stats, hw, divisor, slope, dx, dscale, d)
            : plane_backward<T, true, false>(x, scale, y, go, stats, hw, divisor, slope, dx, dscale, d);
    else
        act ? plane_backward<T, false, true>(x, scale, y, go, stats, hw, divisor, slope, dx, dscale, d)
            : plane_backward<T, false, false>(x, scale, y, go, stats, hw, divisor, slope, dx, dscale, d);
}

BFT_VECTOR_CLONES void forward_plane(const float* x, const float* scale, const float* shift, float* y, int64_t hw,
                                     int64_t divisor, bool act, float slope, float* stats)
{
    forward_plane_any(x, scale, shift, y, hw, divisor, act, slope, stats);
}

void forward_plane(const double* x, const double* scale, const double* shift, double* y, int64_t hw, int64_t divisor,
                   bool act, double slope, double* stats)
{
    forward_plane_any(x, scale, shift, y, hw, divisor, act, slope, stats);
}

BFT_VECTOR_CLONES void backward_plane(const float* x, const float* scale, const float* y, const float* go,
                                      const float* stats, int64_t hw, int64_t divisor, bool act, float slope, float* dx,
                                      float* dscale, float* d)
{
    backward_plane_any(x, scale, y, go, stats, hw, divisor, act, slope, dx, dscale, d);
}

void backward_plane(const double* x, const double* scale, const double* y, const double* go, const double* stats,
                    int64_t hw, int64_t divisor, bool act, double slope, double* dx, double* dscale, double* d)
{
    backward_plane_any(x, scale, y, go, stats, hw, divisor, act, slope, dx, dscale, d);
}

// What both nodes share: per (n, c) plane of x, statistics, the optional scale and shift planes
// (channels c and C + c of an N x 2C map), the activation. The FiLM keeps its output for the
// activation's mask (v = scale * xh + shift is not xh's sign); the instance norm needs only x.
struct PlaneNorm {
    bool film;       // scale and shift from gamma_beta
    int64_t divisor; // hw - 1 or hw
    bool act;
    double slope;

    template <typename F>
    static void each_plane(const at::Tensor& x, F&& f)
    {
        const int64_t C = x.size(1), HW = x.size(2) * x.size(3);
        at::parallel_for(0, x.size(0) * C, 1, [&](int64_t begin, int64_t end) {
            for (int64_t p = begin; p < end; ++p)
                f(p, p * HW, ((p / C) * 2 * C + p % C) * HW, C * HW);
        });
    }
};

at::Tensor norm_forward(AutogradContext* ctx, const at::Tensor& x_any, const at::Tensor& gb_any, const PlaneNorm& n)
{
    const at::Tensor x = x_any.contiguous(), gb = n.film ? gb_any.contiguous() : at::Tensor();
    const int64_t HW = x.size(2) * x.size(3);
    at::Tensor y = at::empty_like(x, at::MemoryFormat::Contiguous);
    at::Tensor stats = at::empty({x.size(0) * x.size(1), 2}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "norm_forward", [&] {
        const scalar_t *xp = x.data_ptr<scalar_t>(), *gp = n.film ? gb.data_ptr<scalar_t>() : nullptr;
        scalar_t *yp = y.data_ptr<scalar_t>(), *sp = stats.data_ptr<scalar_t>();
        PlaneNorm::each_plane(x, [&](int64_t p, int64_t at, int64_t g, int64_t half) {
            forward_plane(xp + at, gp ? gp + g : nullptr, gp ? gp + g + half : nullptr, yp + at, HW, n.divisor, n.act,
                          static_cast<scalar_t>(n.slope), sp + 2 * p);
        });
    });
    ctx->save_for_backward({x, gb, stats, n.film && n.act ? y : at::Tensor()});
    ctx->saved_data["film"] = n.film;
    ctx->saved_data["divisor"] = n.divisor;
    ctx->saved_data["act"] = n.act;
    ctx->saved_data["slope"] = n.slope;
    return y;
}

variable_list norm_backward(AutogradContext* ctx, const variable_list& grads)
{
    TORCH_CHECK(!at::GradMode::is_enabled(), "fused normalisation: no double backward (create_graph)");
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &gb = saved[1], &stats = saved[2], &y = saved[3];
    const bool film = ctx->saved_data["film"].toBool(), act = ctx->saved_data["act"].toBool();
    const int64_t divisor = ctx->saved_data["divisor"].toInt(), HW = x.size(2) * x.size(3);
    const double slope = ctx->saved_data["slope"].toDouble();
    const at::Tensor go = grads[0].contiguous();
    at::Tensor dx = at::empty_like(x), dgb = film ? at::empty_like(gb) : at::Tensor();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "norm_backward", [&] {
        const scalar_t *xp = x.data_ptr<scalar_t>(), *gp = film ? gb.data_ptr<scalar_t>() : nullptr;
        const scalar_t *yp = y.defined() ? y.data_ptr<scalar_t>() : nullptr, *gop = go.data_ptr<scalar_t>();
        const scalar_t* sp = stats.data_ptr<scalar_t>();
        scalar_t *dxp = dx.data_ptr<scalar_t>(), *dgp = film ? dgb.data_ptr<scalar_t>() : nullptr;
        PlaneNorm::each_plane(x, [&](int64_t p, int64_t at, int64_t g, int64_t half) {
            backward_plane(xp + at, gp ? gp + g : nullptr, yp ? yp + at : nullptr, gop + at, sp + 2 * p, HW, divisor, act,
                           static_cast<scalar_t>(slope), dxp + at, dgp ? dgp + g : nullptr,
                           dgp ? dgp + g + half : dxp + at);
        });
    });
    return {dx, dgb};
}

struct FusedFilm : public torch::autograd::Function<FusedFilm> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gamma_beta, bool relu)
    {
        RECORD_FUNCTION("bft::film_fused", std::vector<c10::IValue>());
        return norm_forward(ctx, x, gamma_beta, PlaneNorm{true, x.size(2) * x.size(3) - 1, relu, 0.0});
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        RECORD_FUNCTION("bft::film_fused_backward", std::vector<c10::IValue>());
        const variable_list g = norm_backward(ctx, grads);
        return {g[0], g[1], at::Tensor()};
    }
};

struct FusedInstanceNorm : public torch::autograd::Function<FusedInstanceNorm> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, bool activate, double slope)
    {
        RECORD_FUNCTION("bft::instance_norm_fused", std::vector<c10::IValue>());
        return norm_forward(ctx, x, at::Tensor(), PlaneNorm{false, x.size(2) * x.size(3), activate, slope});
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        RECORD_FUNCTION("bft::instance_norm_fused_backward", std::vector<c10::IValue>());
        return {norm_backward(ctx, grads)[0], at::Tensor(), at::Tensor()};
    }
};

void check_features(const at::Tensor& x, const char* what)
{
    TORCH_CHECK(x.dim() == 4 && x.is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble), what,
                ": float32 or float64 N x C x H x W CPU features only");
}

} // namespace

at::Tensor film_modulate_fused(const at::Tensor& x, const at::Tensor& gamma_beta, bool relu)
{
    check_features(x, "film_modulate_fused");
    TORCH_CHECK(gamma_beta.dim() == 4 && gamma_beta.size(0) == x.size(0) && gamma_beta.size(1) == 2 * x.size(1) &&
                    gamma_beta.size(2) == x.size(2) && gamma_beta.size(3) == x.size(3) &&
                    gamma_beta.scalar_type() == x.scalar_type() && gamma_beta.is_cpu(),
                "film_modulate_fused: gamma/beta do not match the features");
    return FusedFilm::apply(x, gamma_beta, relu);
}

at::Tensor instance_norm_fused(const at::Tensor& x, bool activate, double negative_slope)
{
    check_features(x, "instance_norm_fused");
    return FusedInstanceNorm::apply(x, activate, negative_slope);
}

} // namespace bft
