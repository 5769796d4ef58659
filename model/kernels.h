// Fused kernels: the inference engine's normalisation (padded for the ResNet trunk), tap sums,
// few-output and small-map convolutions and reflection padding, and the training's Adam update.
// Each normalisation kernel reads its input once for statistics and once for the result, instead of
// the five or six full passes the ATen formulation makes:
//   film_modulate:  y = gamma * (x - mean) / sqrt(var_unbiased + 1e-5) + beta   [+ ReLU]
//   instance_norm:  y = (x - mean) / sqrt(var_biased + 1e-5)                     [+ ReLU]
// x: N x C x H x W, float32 or bfloat16, contiguous in NCHW or channels-last; statistics are
// always accumulated in fp32 (blocks) and fp64 (across blocks). No autograd: inference only.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <vector>

namespace bft::kernels {

// gamma_beta: N x 2C x H x W, gamma in channels [0, C), beta in [C, 2C) (the output of the fused
// bottleneck), same dtype and memory format as x.
// in_place: the result overwrites x (when x is contiguous in its layout), saving a feature map.
at::Tensor film_modulate(const at::Tensor& x, const at::Tensor& gamma_beta, bool relu, bool in_place = false);
at::Tensor instance_norm(const at::Tensor& x, bool relu, bool in_place = false);
// instance_norm(x) + residual (no ReLU) in one pass after the statistics: the ResNet block's end on
// the channels-last trunk. Float32 channels-last x and residual of one size and layout; in_place:
// written over x. Undefined where the maps are not so.
at::Tensor instance_norm_add(const at::Tensor& x, const at::Tensor& residual, bool in_place = false);
// The same for float32 NCHW x, written reflection-padded by `pad` (the next 3x3 convolution's
// input, without a padding pass of its own). With `residual` (a padded map of that size, the
// ResNet block's input): residual's interior += the normalised x, its border reflected again, in
// place, and returned (the block's output, padded for the next block).
at::Tensor instance_norm_padded(const at::Tensor& x, bool relu, int64_t pad, const at::Tensor& residual = {});

// The FiLM modulation in two halves, for a caller that makes gamma and beta a slice of pixels at a
// time (onednn::pointwise_pair_slices) and never writes them to a map. Per image and channel of a
// channels-last float32 or bfloat16 x (N*C values, image-major), the mean and 1/sqrt(var + 1e-5):
struct Statistics {
    std::vector<float> mean, inv;
};
Statistics channel_statistics(const at::Tensor& x, bool unbiased);
// ... and y = gamma * (x - mean) * inv + beta [+ ReLU] for `pixels` channels-last pixels from pixel
// `first` (counted over N x H x W; a run may cross images), gamma_beta being those pixels' rows of 2C
// values in x's dtype (gamma, then beta). y: x itself or a map like it. Safe to call from several
// threads on disjoint runs.
void modulate_rows(const at::Tensor& x, const at::Tensor& y, const Statistics& s, int64_t first, int64_t pixels,
                   const void* gamma_beta, bool relu);

// x (N x C x H x W, any dtype and strides, on the CPU) as contiguous NCHW float32 (x itself where it
// is that already: not always a copy). Where channels are adjacent in memory (channels-last maps,
// and channel ranges of them: the gamma/beta halves the editor's viewer records), image row by
// image row as rows_to_planar's runs, where LibTorch's copy gathers value by value (a ResNet's
// recorded maps at 256: about 120 MB a forward).
at::Tensor planar_float(const at::Tensor& x);
// The other way: a contiguous NCHW float32 x with 2 to 16 channels (the networks' inputs: the
// texture guide's Lab patch and mask) as a channels-last copy, image row by image row; undefined
// where x is not that. LibTorch's copy took 0.29 ms for the guide at 256 x 256.
at::Tensor channels_last_float(const at::Tensor& x);

// leaky_relu_(x, slope) in place for a dense bfloat16 CPU map (NCHW or channels-last): the negative
// values times slope in float32, rounded to nearest even as LibTorch's, in one vectorised pass
// over the threads (the U-Net encoder's activation in the bf16 preview: LibTorch's took 0.9 ms of
// the texture forward at 128, batch 4; this 0.40). False, x untouched, where x is not that.
bool leaky_relu_bf16_(const at::Tensor& x, float slope);

// Pixels first .. first + pixels - 1 (counted over N x H x W) of channels-last rows (`rows`: pixels x
// C values of type t, float32 or bfloat16) into y (N x C x H x W float32, contiguous NCHW), by tiles:
// the FiLM slices' gamma/beta rows recorded for the viewer while in cache. Safe to call from several
// threads on disjoint runs.
void rows_to_planar(const void* rows, at::ScalarType t, int64_t first, int64_t pixels, const at::Tensor& y);

// The U-Net decoder's input, ReLU(cat(skip, instance_norm(h))) along channels, in one pass after
// h's statistics, where the norm, LibTorch's cat and a ReLU made three (64 + 64 channels at 128 x
// 128, in cache: 1.23 -> 0.77 ms). skip and h: float32 or bfloat16 maps of one size, any layout;
// the result channels-last.
at::Tensor skip_concat(const at::Tensor& skip, const at::Tensor& h);

// A stride-2 transposed convolution's output phase (a, b) (float32, channels-last, (Ho - a + 1) / 2
// x (Wo - b + 1) / 2) into its rows and columns (2m + a, 2n + b) of out (channels-last): each
// pixel's channels copied whole, rows over the threads. False, nothing written, where it does not
// fit.
bool put_phase(const at::Tensor& phase, const at::Tensor& out, int64_t a, int64_t b);

// The U-Net's last level, tanh(conv_transpose(ReLU(cat(skip, instance_norm(h))), weight, stride 2,
// padding 1) + bias), without its C-channel input map: each input row's concatenated channels in a
// thread's buffer, their GEMM with weight as [C, O*16] (every tap's product, in cache), then each
// output pixel of the two output rows whose three input rows are done sums its four taps and takes
// its tanh (ours: within about 2e-7 of std::tanh). skip and h: float32 (or both bf16: the rows as
// skip_concat makes them in bf16, then widened) maps of one size, any layout; weight [C, O, 4, 4]
// float32 (C = both maps' channels, O few: the image's), bias O values or undefined; the result
// N x O x 2H x 2W NCHW float32.
at::Tensor unet_output(const at::Tensor& skip, const at::Tensor& h, const at::Tensor& weight, const at::Tensor& bias);

// A FiLM bottleneck pair (both 1x1 convolutions, nc -> 2*depth, ReLU, grouped 2*depth -> 2*nc) in
// blocks of pixels whose hidden channels stay in cache: x N x C x H x W float32 channels-last, w1
// [2D, C, 1, 1], c1 [2D], w2 [2C', D, 1, 1] (two groups), c2 [2C']; the result N x 2C' x H x W
// channels-last. The hidden map (2 x 100 channels at full size: the widest of a ResNet forward)
// never reaches memory. Undefined where it does not run (another dtype, device or layout, no oneDNN).
at::Tensor film_bottleneck(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& c1, const at::Tensor& w2,
                           const at::Tensor& c2);

// The second half of a convolution with few output channels computed by taps (convolution.h,
// conv2d_by_taps): taps is N x (O*k*k) x Hp x Wp in channels-last float32, channel o*k*k + ky*k + kx
// holding every pixel's product with weight[o, :, ky, kx]; the result, N x O x (Hp-k+1) x (Wp-k+1)
// NCHW, sums each output's k*k taps at their offsets, plus bias (O values, or undefined).
at::Tensor tap_sum(const at::Tensor& taps, int64_t out_channels, int64_t k, const at::Tensor& bias);

// A stride-1 convolution into a few output channels (1 to 4) with a wide kernel, direct: x is
// N x C x Hp x Wp float32 channels-last (already padded), tap_weight is tap_weights(weight)
// (convolution.h: [O*k*k, C], row o*k*k + ky*k + kx), the result N x O x (Hp-k+1) x (Wp-k+1) NCHW
// plus bias (O values, or undefined). Each block of output pixels keeps its O sums per pixel in
// vector registers across all k*k taps and C channels (AVX-512 or AVX2 with FMA, picked at run
// time), so the taps never reach memory. Undefined where it does not run (no such CPU, C not a
// multiple of the vector width, O > 4): the caller takes conv2d_by_taps's 1x1 + tap_sum path.
// avx2_only: the AVX2 kernel even where AVX-512 is there (tests: so that both kernels run here).
// reflect > 0: x is not padded yet; the convolution reads it reflection-padded by `reflect` on each
// side (as reflect_pad), each thread padding the k rows it reads into a ring of its own, so that
// the padded map is never written (the ResNets' last layer at 256: 17.6 MB); undefined also where
// reflect >= x's height or width.
at::Tensor conv_few_outputs(const at::Tensor& x, const at::Tensor& tap_weight, int64_t k, const at::Tensor& bias,
                            bool avx2_only = false, int64_t reflect = 0);

// Convolutions over small maps (inference, float32, AVX-512): the U-Net's innermost layers, where
// at batch 1 a 512 -> 512 layer has 1 to 16 output positions (per phase, for a transposed one) and
// 16-32 MB of weights, so reading the weights is the work. oneDNN's kernels read them at 11-14 GB/s
// here; these make one pass over weights packed by blocks of 16 output channels, prefetched ahead,
// with every position's sums in registers. From 17 to 64 positions (512 -> 512 into 8x8, 1024 ->
// 512 phases from 8x8) the sums are the work: blocks of 6 positions by 64 channels over 128 input
// channels of weights that stay in L1 meanwhile (the Xeon, texture at 256: 2.15 -> 1.84 and
// 4.1 -> 3.5 ms against oneDNN's direct kernels).
// A strided convolution (k x k, stride s, zero padding p) of a channels-last x: weights packed by
// pack_small_map_conv(weight [O, C, kh, kw]), the result N x O x Ho x Wo channels-last plus bias.
// bf16_weights (the fast preview): the weights packed as bf16, half the bytes to stream, converted
// to float32 as they are read (the sums, input and output stay float32); up to 16 positions.
at::Tensor pack_small_map_conv(const at::Tensor& weight, bool bf16_weights = false);
at::Tensor small_map_conv(const at::Tensor& x, const at::Tensor& packed, int64_t k, int64_t stride, int64_t padding,
                          const at::Tensor& bias);
// The general form, written into part of a larger map: an out_rows x out_cols convolution with a
// kh x kw kernel, whose output (r, c) reads x from (r * stride - pad_top, c * stride - pad_left)
// (padding may be negative: an offset; zeros wherever x ends), goes to pixel (row0 + r * step,
// col0 + c * step) of y (N x O x H' x W' float32 channels-last): a transposed convolution's output
// phases interleave so (convolution.h, conv_transpose2d_s2_small_map). False, y untouched, where
// it does not run.
bool small_map_conv_into(const at::Tensor& x, const at::Tensor& packed, int64_t kh, int64_t kw, int64_t stride,
                         int64_t pad_top, int64_t pad_left, int64_t out_rows, int64_t out_cols, const at::Tensor& bias,
                         const at::Tensor& y, int64_t row0, int64_t col0, int64_t step);
// Whether these run here (AVX-512) for a layer with `positions` output positions per phase (all
// images together) and C in, O out channels, with float32 or bf16 weights; undefined results where
// they do not.
bool small_map_fits(int64_t positions, int64_t in_channels, int64_t out_channels, bool bf16_weights = false);

// y rows = x rows times w, 64 columns (float32, AVX-512, single-threaded): `rows` rows of k values
// at x (row stride ldx), w packed [k][64], results to y (row stride ldy), overwritten. The same
// blocks as the wide small-map kernel; `after` (or nullptr): the weights the caller multiplies
// next, prefetched into L2 while the last block runs. Winograd's products on few tiles
// (winograd_stride2.h: winograd_s2_own_products). rows_times_packed_fits: whether it runs here.
bool rows_times_packed_fits();
void rows_times_packed(const float* x, int64_t ldx, int64_t rows, int64_t k, const float* w, float* y, int64_t ldy,
                       const float* after);

// The FiLM bottleneck pair (onednn::pointwise_pair's job) on channels-last rows of float32, by hand
// (AVX-512): hidden = ReLU(x w1 + b1), then per group g of `groups`, y's columns g*O/G.. = hidden's
// columns g*H/G.. times that group's w2 + b2. oneDNN's 1x1 kernels ran this pair at 61% of this
// machine's FMA peak (K = 64 and 100-channel groups suit their blocking badly).
// Where it runs: AVX-512, O/groups a multiple of 16.
bool pointwise_pair_fits(int64_t in, int64_t hidden, int64_t out, int64_t groups);
// w1 [H, C, 1, 1] -> [C][hidden stride] (zero-padded), w2 [O, H/G, 1, 1] -> [G][H/G][O/G].
at::Tensor pack_pointwise_pair_first(const at::Tensor& w1);
at::Tensor pack_pointwise_pair_second(const at::Tensor& w2, int64_t groups);
int64_t pointwise_pair_hidden_stride(int64_t hidden); // H rounded up to 16
// x: pixels x in; b1: hidden stride values (the padding zero); hid: pixels x hidden stride of
// scratch; y: pixels x out.
void pointwise_pair_rows(const float* x, int64_t pixels, int64_t in, const float* w1, const float* b1, int64_t hidden,
                         const float* w2, const float* b2, int64_t groups, int64_t out, float* hid, float* y);

// A stride-1 convolution (k x k, no padding: x comes padded) of an input that is almost all zeros
// (the pose guide's keypoint maps: about 900 of 1.2 M values nonzero at 256 x 256) as the sum of
// each nonzero value's contributions, for float32 x on the CPU: weights packed by
// pack_sparse_input_conv(weight [O, C, k, k]); the result N x O x Ho x Wo channels-last plus bias.
// sparse_input(x, max_density) lists x's nonzero values (float32 N x C x H x W on the CPU), row by
// row; not valid where more than max_density of them are nonzero (the caller runs the dense one).
struct SparseInput {
    struct Value {
        int32_t col, channel;
        float value;
    };
    bool valid = false;
    std::array<int64_t, 4> sizes{};
    std::vector<std::vector<Value>> rows; // per image and row
};
SparseInput sparse_input(const at::Tensor& x, double max_density);
at::Tensor pack_sparse_input_conv(const at::Tensor& weight);
at::Tensor sparse_input_conv(const SparseInput& x, const at::Tensor& packed, const at::Tensor& bias);

// Reflection padding by `pad` on each side (as at::reflection_pad2d) of an N x C x H x W tensor of
// any dtype, contiguous in NCHW or channels-last (the result in the same layout): whole rows (or
// pixels) copied at once. LibTorch's copies element by element (1 ms for each 512 x 32 x 32 map of
// the ResNet trunk), has no bf16 version and answers channels-last in NCHW. Throws bft::Error where
// pad >= H or W.
at::Tensor reflect_pad(const at::Tensor& x, int64_t pad);
// Index i of a reflection-padded axis of `size` samples in the unpadded one (as reflection_pad2d).
inline int64_t mirror(int64_t i, int64_t size)
{
    return i < 0 ? -i : (i >= size ? 2 * size - 2 - i : i);
}

// One Adam update (optimizer.h) over n float32 elements, in torch::optim::Adam's order of operations:
//   g += weight_decay * p;  m = m * beta1 + (1 - beta1) * g;  v = v * beta2 + (1 - beta2) * g * g;
//   p += neg_step * m / (sqrt(v) / bias_correction2_sqrt + eps)
struct AdamScalars {
    float beta1, beta2, one_minus_beta1, one_minus_beta2, weight_decay, bias_correction2_sqrt, eps, neg_step;
};
void adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamScalars& s);

} // namespace bft::kernels
