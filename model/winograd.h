// Winograd F(4x4, 3x3) convolutions for CPUs where oneDNN has no Winograd kernel (its own needs
// AVX-512): the ResNet trunk's wide 3x3 layers, 87% of a pose forward's arithmetic, as 36
// matrix products of a quarter of the direct algorithm's multiplications (Lavin & Gray 2016,
// arXiv 1509.09308). The tiles are transformed by vectorised loops, the 36 products run on oneDNN's
// GEMM (LibTorch's BLAS in builds without oneDNN's API). Float32 inference on the CPU; within about
// 1e-5 (relative to the largest output) of the direct convolution.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft {

// The weight [O, I, 3, 3] in the Winograd domain: [36, O, I] (G w G^T per pair, computed in fp64).
// Four times the weight's size; make it once and keep it while the weight is unchanged.
at::Tensor winograd_weights(const at::Tensor& weight);

// Equals at::conv2d(x, weight, bias) (stride 1, no padding, 3x3) for x NCHW or channels-last float32
// of at least 3x3, given u = winograd_weights(weight); the result is NCHW. bias may be undefined.
at::Tensor winograd_conv3x3(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias);

} // namespace bft
