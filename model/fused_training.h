// Training's fused autograd nodes on the CPU: a normalisation, its affine part and its activation
// as one node, two passes over each plane each way, where autograd's chain of ATen operations made
// ten or more (statistics, centring, products, the gamma/beta slices' zero-filled backward).
// Float32 or float64, first derivatives only; the callers fall back to the ATen formulation on
// other devices and types.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft {

// film_modulate (film.h) then a ReLU if relu: gamma_beta N x 2C x H x W, gamma in channels [0, C),
// beta in [C, 2C) (the fused bottleneck's output). Differentiable in x and gamma_beta.
at::Tensor film_modulate_fused(const at::Tensor& x, const at::Tensor& gamma_beta, bool relu);

// InstanceNorm2d(affine=False) (layers.h: biased variance, eps 1e-5), then, if activate, a leaky
// ReLU of that negative slope (0: a ReLU). Differentiable in x.
at::Tensor instance_norm_fused(const at::Tensor& x, bool activate, double negative_slope);

} // namespace bft
