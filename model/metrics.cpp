#include "metrics.h"

#include "errors.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

namespace bft::metrics {

namespace {

at::Tensor batch(const at::Tensor& t)
{
    return (t.dim() == 3 ? t.unsqueeze(0) : t).to(at::kDouble);
}

void same(const at::Tensor& a, const at::Tensor& b)
{
    if (!a.sizes().equals(b.sizes()))
        throw Error("metrics: the images differ in size");
}

// a - b over the pixels where both are numbers: targets mark missing readings with NaN.
at::Tensor valid_diff(const at::Tensor& a, const at::Tensor& b)
{
    const at::Tensor d = a.to(at::kDouble) - b.to(at::kDouble);
    return d.masked_select(at::isfinite(d));
}

} // namespace

double l1(const at::Tensor& a, const at::Tensor& b)
{
    same(a, b);
    return valid_diff(a, b).abs().mean().item<double>();
}

double psnr(const at::Tensor& a, const at::Tensor& b)
{
    same(a, b);
    const double mse = valid_diff(a, b).pow(2).mean().item<double>();
    return mse == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(4.0 / mse);
}

double ssim(const at::Tensor& a_in, const at::Tensor& b_in_raw)
{
    same(a_in, b_in_raw);
    // Missing readings take the other image's value there: they count as neither match nor mismatch
    // beyond their window (SSIM is local, so a hole cannot simply be skipped).
    const at::Tensor b_in = at::where(at::isfinite(b_in_raw), b_in_raw, a_in);
    const at::Tensor a = (batch(a_in) + 1) / 2, b = (batch(b_in) + 1) / 2;
    const int64_t c = a.size(1);
    // Separable Gaussian window, applied per channel (groups = c), valid region only.
    const int64_t size = 11;
    const double sigma = 1.5;
    at::Tensor g = at::arange(size, at::kDouble) - (size - 1) / 2.0;
    g = at::exp(-(g * g) / (2 * sigma * sigma));
    g = g / g.sum();
    const at::Tensor window = at::outer(g, g).expand({c, 1, size, size}).contiguous();
    if (a.size(2) < size || a.size(3) < size)
        throw Error("metrics: SSIM needs images of at least 11x11");
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    auto blur = [&](const at::Tensor& x) {
        return at::conv2d(x, window, at::Tensor(), at::IntArrayRef(one), at::IntArrayRef(zero), at::IntArrayRef(one), c);
    };
    const at::Tensor mu_a = blur(a);
    const at::Tensor mu_b = blur(b);
    const at::Tensor saa = blur(a * a) - mu_a * mu_a;
    const at::Tensor sbb = blur(b * b) - mu_b * mu_b;
    const at::Tensor sab = blur(a * b) - mu_a * mu_b;
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    const at::Tensor map = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a * mu_a + mu_b * mu_b + c1) * (saa + sbb + c2));
    return map.mean().item<double>();
}

double depth_rmse_m(const at::Tensor& a_unit, const at::Tensor& b_unit, float near_m, float far_m)
{
    same(a_unit, b_unit);
    const double scale = (far_m - near_m) / 2.0; // [-1, 1] -> metres
    return std::sqrt(valid_diff(a_unit, b_unit).pow(2).mean().item<double>()) * scale;
}

} // namespace bft::metrics
