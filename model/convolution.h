// Convolutions of the inference engine.
// - conv2d: routes CPU inference straight to oneDNN (through its own API where built with it, with
//   weights packed once: onednn.h), whose kernels LibTorch 1.13's heuristics skip
//   for small feature maps (falling back to im2col + BLAS, 5-20x slower there).
// - conv2d_by_taps: a convolution with few output channels and a wide kernel (the ResNets' last
//   7x7 layer, 64 -> 3 or 1), which oneDNN runs at a sixth of its usual rate, as a 1x1 convolution
//   to every tap's products (at full rate) and their sum at each output's offsets.
// - conv_transpose2d_s2: a stride-2 transposed convolution as four ordinary convolutions, one per
//   output phase ("sub-pixel"). LibTorch's CPU conv_transpose2d runs on a slow path (about 65% of
//   the pose generator's time); ordinary convolutions run through oneDNN. Same results, same autograd.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace bft {

at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                  at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups);

// conv2d_by_taps's weights: weight [O, C, k, k] as a 1x1 convolution [O*k*k, C, 1, 1], channel
// o*k*k + ky*k + kx being weight[o, :, ky, kx]. Depends only on the weight: cache it.
at::Tensor tap_weights(const at::Tensor& weight);

// Equals conv2d(x, weight, bias) with stride 1, no padding, for float32 inference on the CPU; k is
// the kernel's size and tap_weight = tap_weights(weight).
at::Tensor conv2d_by_taps(const at::Tensor& x, const at::Tensor& tap_weight, int64_t k, const at::Tensor& bias);

// The four phase kernels of a transposed convolution weight [in, out, k, k], as ordinary conv
// weights [out, in, kh, kw] in phase order (0,0), (0,1), (1,0), (1,1); undefined where no kernel tap
// reaches a phase. Depends only on the weight: cache it.
std::vector<at::Tensor> subpixel_weights(const at::Tensor& weight, int64_t padding);

// Equals at::conv_transpose2d(x, weight, bias, stride 2, padding, output_padding) for a square
// kernel, groups 1, dilation 1. `phase_weights`: subpixel_weights(weight, padding), or empty to
// derive them here.
at::Tensor conv_transpose2d_s2(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding,
                               int64_t output_padding, const std::vector<at::Tensor>& phase_weights = {});

// The same where each output phase has at most 16 positions (the U-Net's innermost levels at
// batch 1), float32 inference on AVX-512: each phase by kernels::small_map_conv_into straight into
// its rows and columns of the output, the phase weights packed once by small_map_phases(weight,
// padding) (undefined where no tap reaches a phase; bf16_weights: packed as bf16 for the fast
// preview, up to 16 positions a phase). Undefined where it does not run.
// Whether it runs for x into out_channels (a cheap check before packing anything).
bool small_map_transpose_fits(const at::Tensor& x, int64_t out_channels, int64_t k, int64_t padding,
                              int64_t output_padding, bool bf16_weights = false);
std::vector<at::Tensor> small_map_phases(const at::Tensor& weight, int64_t padding, bool bf16_weights = false);
at::Tensor conv_transpose2d_s2_small_map(const at::Tensor& x, const std::vector<at::Tensor>& packed_phases, int64_t k,
                                         const at::Tensor& bias, int64_t padding, int64_t output_padding);

} // namespace bft
