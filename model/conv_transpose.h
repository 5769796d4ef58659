// Stride-2 transposed convolution as four ordinary convolutions, one per output phase
// ("sub-pixel" convolution). LibTorch's CPU conv_transpose2d runs on a slow path (about 65% of the
// pose generator's time); ordinary convolutions run through oneDNN. Same results, same autograd.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft {

// Equals at::conv_transpose2d(x, weight, bias, stride 2, padding, output_padding) for a square
// kernel, groups 1, dilation 1. weight: [in, out, k, k] as ConvTranspose2d stores it.
at::Tensor conv_transpose2d_s2(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding,
                               int64_t output_padding);

} // namespace bft
