// Winograd F(4x4, 2x2) for the U-Net's 4x4 stride-2 layers (padding 1), where oneDNN's direct
// kernels already run at this CPU's peak and only fewer multiplications are left to win:
// - the transposed convolution's four output phases are 2x2 convolutions over the same input; with
//   phase 1's tiles one pixel behind phase 0's, all four read the same 5x5 windows, so one input
//   transform serves them and each of the 25 products is one GEMM into 4 x out channels; on small
//   maps, where those shared windows make many more tiles than each phase's own ((h + 1)^2 against
//   h^2 outputs), phase by phase instead (a product per point and phase, into out channels);
// - the convolution is a 2x2 convolution over its input split by row and column parity (4 x in
//   channels), the split done by the input transform as it reads.
// F(4x4, 2x2) takes 25 multiplications per 16 outputs where direct takes 64 (Lavin & Gray 2016,
// arXiv 1509.09308; the points 0, 1, -1, 2 and infinity), over weights 6.25x the direct ones';
// F(2x2, 2x2) (tile 2: the points 0, 1 and infinity, exact transforms) 9 per 4, over 2.25x, for
// layers with fewer tiles. Float32 inference on the CPU, channels-last or NCHW input, channels-last
// output; within a few 1e-6 (relative to the largest output) of the direct algorithm.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft {

// Whether these kernels take the layer (float32 on the CPU, channels multiples of 16).
bool winograd_s2_fits(const at::Tensor& x, int64_t in_channels, int64_t out_channels);
// How many tiles of `tile` x `tile` outputs (4 or 2) a batch x makes: of the convolution's outputs,
// or of the transposed convolution's output phases (shared or each phase's own, whichever it runs
// with): the products' row count.
int64_t winograd_s2_tiles(const at::Tensor& x, bool transposed, int tile);

// A transposed convolution's weight [C, K, 4, 4] (padding 1) in the Winograd domain for tiles of
// `tile` (4 or 2): [points x 4K, C, 1, 1], per point the columns of phase (0,0), (0,1), (1,0), (1,1)
// then out channel. Make it once.
at::Tensor winograd_s2_transpose_weights(const at::Tensor& weight, int tile = 4);
// Equals at::conv_transpose2d(x, weight, bias, stride 2, padding 1, output padding 0), given
// u = winograd_s2_transpose_weights(weight, tile) with the same tile (the out channels are read
// from u's size; a bias, where given, must match them).
at::Tensor winograd_s2_conv_transpose(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias, int tile = 4);

// The U-Net decoder's level: winograd_s2_conv_transpose(ReLU(cat(skip, instance_norm(h)))) (the
// map kernels::skip_concat makes) without that map: the input transform reads the skip's channels
// rectified and h's normalised (biased variance, as the decoder's InstanceNorm) and rectified. skip
// and h: float32 maps of one size, channels multiples of 16; u made for both maps' channels.
at::Tensor winograd_s2_skip_conv_transpose(const at::Tensor& skip, const at::Tensor& h, const at::Tensor& u,
                                           const at::Tensor& bias, int tile = 4);

// A convolution's weight [K, C, 4, 4] (stride 2, padding 1) in the Winograd domain:
// [points x K, 4C, 1, 1], per row parity, column parity, then in channel.
at::Tensor winograd_s2_conv_weights(const at::Tensor& weight, int tile = 4);
// Equals at::conv2d(leaky_relu(x, input_slope), weight, bias, stride 2, padding 1), given
// u = winograd_s2_conv_weights(weight, tile); the activation (input_slope 1: none) applied as the
// input is read, x unchanged: no pass over memory of its own (the U-Net encoder's LeakyReLU).
at::Tensor winograd_s2_conv(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias, int tile = 4,
                            float input_slope = 1.0f);

// Whether AMX can run the products of `inner` values each (winograd_s2_own_products(u, true)): a
// CPU that allows AMX (amx.h), and a multiple of 32 values, what its tiles read a row.
bool winograd_s2_amx_fits(int64_t inner);

// u (either kind above) for the products by hand, where a batch makes few tiles (kernels.h:
// rows_times_packed; AVX-512): [points x columns / 64, inner, 64], blocks of 64 product columns,
// for every out channel count a multiple of 64. With amx (amx.h: usable(), and a multiple of 32
// values a product), the same blocks in bfloat16 halves, [blocks, inner, 128]: float32 products as
// bf16x3 on AMX tiles. The functions above take any of these; make it once.
at::Tensor winograd_s2_own_products(const at::Tensor& u, bool amx = false);

} // namespace bft
