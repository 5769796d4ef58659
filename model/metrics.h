// Image metrics for evaluation, on tensors in [-1, 1] (C x H x W or N x C x H x W):
// L1 (mean absolute difference), PSNR (peak-to-peak 2), SSIM (Wang et al. 2004: Gaussian window 11,
// sigma 1.5, K1 0.01, K2 0.03, on values mapped to [0, 1], averaged over channels and pixels), and
// RMSE in metres for depth through the dataset's range.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft::metrics {

// b is the target: NaN there marks a missing reading (depth holes), left out of every metric.
double l1(const at::Tensor& a, const at::Tensor& b);
double psnr(const at::Tensor& a, const at::Tensor& b); // +inf for identical images
double ssim(const at::Tensor& a, const at::Tensor& b);
double depth_rmse_m(const at::Tensor& a_unit, const at::Tensor& b_unit, float near_m, float far_m);

} // namespace bft::metrics
