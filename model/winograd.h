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

// The same F(4x4, 3x3) for the ResNet trunk's layers (ReflectionPad2d(1), then the 3x3
// convolution) by hand (AVX-512), where oneDNN's Winograd kernels took 6.2 ms a layer and this
// takes 4.5-4.8 (the Xeon, pose at 256: 512 channels, 32x32, 64 tiles): each tile is read 16
// channels at a time from the unpadded channels-last map (the reflection done by its indices) and
// transformed in registers, the 36 products go through kernels::rows_times_packed (tiles as rows,
// the weights streamed once with their prefetches), and the outputs are written channels-last
// with the bias. Where `mean` and `inv` are given (per image and channel, N * C each: the biased
// statistics' mean and 1/sqrt(var + 1e-5)), the input is read as ReLU((x - mean) * inv): the
// block's instance norm and ReLU before its second convolution, without a pass of their own.
// Whether it runs: AVX-512, float32 on the CPU, in channels a multiple of 16, out a multiple of 64.
bool winograd_reflect_fits(const at::Tensor& x, int64_t out_channels);
// Output tiles (rows of each product) of a batch x: N * ceil(H / 4) * ceil(W / 4).
int64_t winograd_reflect_tiles(const at::Tensor& x);
// u = winograd_weights(weight) as the products' blocks of 64 out channels: [36 * O / 64, C, 64].
at::Tensor winograd_own_weights(const at::Tensor& u);
// Equals conv2d(reflection_pad(x', 1), weight, bias) (x' = x, or ReLU of x normalised as above),
// given own = winograd_own_weights(winograd_weights(weight)); x channels-last, H and W of 2 or more.
at::Tensor winograd_reflect_conv3x3(const at::Tensor& x, const at::Tensor& own, const at::Tensor& bias,
                                    const float* mean = nullptr, const float* inv = nullptr);

} // namespace bft
