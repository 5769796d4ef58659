// Winograd F(4x4, 2x2) for the U-Net's 4x4 stride-2 layers (padding 1), where oneDNN's direct
// kernels already run at this CPU's peak and only fewer multiplications are left to win:
// - the transposed convolution's four output phases are 2x2 convolutions over the same input; with
//   phase 1's tiles one pixel behind phase 0's, all four read the same 5x5 windows, so one input
//   transform serves them and each of the 25 products is one GEMM into 4 x out channels;
// - the convolution is a 2x2 convolution over its input split by row and column parity (4 x in
//   channels), the split done by the input transform as it reads.
// 25 multiplications per 16 outputs where direct takes 64 (Lavin & Gray 2016, arXiv 1509.09308;
// the points 0, 1, -1, 2 and infinity). Float32 inference on the CPU, channels-last or NCHW input,
// channels-last output; within a few 1e-6 (relative to the largest output) of the direct algorithm.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft {

// Whether these kernels take the layer (float32 on the CPU, channels multiples of 16).
bool winograd_s2_fits(const at::Tensor& x, int64_t in_channels, int64_t out_channels);

// A transposed convolution's weight [C, K, 4, 4] (padding 1) in the Winograd domain: [25, C, 4K],
// columns phase (0,0), (0,1), (1,0), (1,1) then out channel. 6.25x the weight: make it once.
at::Tensor winograd_s2_transpose_weights(const at::Tensor& weight);
// Equals at::conv_transpose2d(x, weight, bias, stride 2, padding 1, output padding 0).
at::Tensor winograd_s2_conv_transpose(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias);

// A convolution's weight [K, C, 4, 4] (stride 2, padding 1) in the Winograd domain: [25, 4C, K],
// rows row parity, column parity, then in channel.
at::Tensor winograd_s2_conv_weights(const at::Tensor& weight);
// Equals at::conv2d(x, weight, bias, stride 2, padding 1).
at::Tensor winograd_s2_conv(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias);

} // namespace bft
