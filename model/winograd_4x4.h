// Winograd F(2x2, 4x4) for training's 4x4 stride-1 convolutions: the PatchGAN's widest layer
// (256 -> 512 channels, LibTorch's oneDNN at about 290 GFLOP/s took a fifth of the texture
// training step, forward and backward, in it alone). 25 multiplications per 2x2 outputs where
// direct takes 64, the same points as winograd_stride2.h's F(4x4, 2x2) (winograd_tiles.h), whose
// transposed algorithm this is: weights to A g A^T, windows to B^T d B, products back by G^T m G.
// The backward pass is two more of the same kind: the input's gradient a convolution of the output's
// with the weight flipped, the weight's gradient F(4x4, 2x2) over the same transformed windows
// (kept from the forward) and the output gradient's 2x2 tiles. Products by oneDNN's GEMM. Float32
// on the CPU, within a few 1e-6 (relative to the largest value) of the direct convolution.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft {

// Whether conv2d_winograd4 takes this layer: x float32 on the CPU, a [O, C, 4, 4] weight with C and
// O multiples of 16 and at least 64 (the layers whose products pay), padding 0 to 3 (the input's
// gradient pads 3 - padding), at least one output, oneDNN's GEMM in the build.
bool winograd4_fits(const at::Tensor& x, const at::Tensor& weight, int64_t padding);

// Equals at::conv2d(x, weight, bias, stride 1, padding) for a [O, C, 4, 4] weight; differentiable in
// x, weight and bias (bias may be undefined; first derivatives only). The result is channels-last.
at::Tensor conv2d_winograd4(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding);

} // namespace bft
