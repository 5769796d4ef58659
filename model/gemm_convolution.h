// Training convolutions as GEMMs: at small feature maps im2col and one GEMM over the whole batch;
// 1x1 ones (the FiLM bottlenecks) as one GEMM per image on NCHW memory; stride-1 ones into a few
// outputs (a PatchGAN's last layer) as one GEMM per image into every tap.
// LibTorch runs a training convolution through oneDNN with the weight reordered into oneDNN's
// layout for the forward and for the backward pass, and the weight's gradient reordered back: at
// the U-Net's innermost levels (512 x 512 x 4 x 4 weights over 4x4 to 1x1 maps) those copies, not
// the arithmetic, took the time (a 512 -> 512 layer at 2x2, batch 4: 21 ms forward and backward,
// against 1.7 ms of GEMM). Here the weight is read where it lies, by oneDNN's GEMM
// (onednn::sgemm; at::mm where the build has no oneDNN). Float32 on the CPU, square kernels, first
// derivatives only (their backward passes are not differentiable again).
#pragma once

#include <ATen/core/Tensor.h>

namespace bft {

// Equals at::conv2d(x, weight, bias, stride, padding) for a square kernel, groups 1, dilation 1;
// differentiable in x, weight and bias (bias may be undefined).
at::Tensor conv2d_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t stride,
                       int64_t padding);

// Equals at::conv2d(x, weight, bias, 1, padding) for a square kernel into a few outputs (a PatchGAN's
// last layer): per image one GEMM of the pixels against every tap, then shifted sums; differentiable
// likewise. Its buffers hold N x H x W x outputs x k x k values: for few outputs only.
at::Tensor conv2d_taps_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding);

// Equals at::conv2d(x, weight, bias, 1, 0, 1, groups) for a 1x1 weight (bias defined): per image and
// group one GEMM on NCHW memory; differentiable in x, weight and bias.
at::Tensor conv1x1_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t groups);

// Equals at::conv_transpose2d(x, weight, bias, stride, padding, output_padding) for a square kernel,
// groups 1, dilation 1; differentiable likewise.
at::Tensor conv_transpose2d_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t stride,
                                 int64_t padding, int64_t output_padding);

} // namespace bft
