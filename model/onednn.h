// Inference convolutions straight through oneDNN's own API, for two things LibTorch does not do:
// - weights kept in oneDNN's layout: at::mkldnn_convolution reorders a plain weight on every call,
//   which was half of a texture U-Net forward (its 512-channel 4x4 weights, at tiny feature maps);
//   here each weight is packed once (per layout oneDNN asks for) and reused until it changes;
// - Winograd F(4x4, 3x3): LibTorch only ever asks for the direct algorithm, while the ResNet trunk's
//   wide 3x3 convolutions (87% of a pose forward's arithmetic) run 3-4x faster by Winograd.
// And its GEMM, for training's im2col convolutions (gemm_convolution.h).
// Built where oneDNN's headers are found (Debian: libdnnl-dev, the same libdnnl that libtorch
// links); elsewhere (and on CUDA) the functions return undefined and callers run LibTorch's path.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace bft::onednn {

// Whether this build has oneDNN's API.
bool available();
// ... and oneDNN has a Winograd kernel for this CPU (AVX-512).
bool winograd_available();

enum class Algorithm { Direct, Winograd };

// conv2d(x, weight, bias, stride, padding, dilation 1, groups) for inference on the CPU, float32 or
// bfloat16 (x and weight alike; bias of either), x in NCHW or channels-last (the result in the same
// layout). Winograd: 3x3 kernels, stride 1, float32. Returns an undefined tensor where oneDNN has
// no kernel for it (the caller then runs LibTorch's convolution).
// The packed weight is kept beside the weight tensor while it lives and is unchanged (its version
// counter): pass long-lived weights (parameters, cached derived weights), not per-call temporaries.
// relu: the result's ReLU applied as the kernel writes it (no second pass over memory).
// padding_after: the bottom and right padding where they differ from padding's top and left (empty:
// the same); a transposed convolution's sub-pixel phases compute exactly their own outputs that way.
// into: where defined, the result is written there (the result's shape, dtype and layout, dense)
// and returned, instead of into fresh memory.
at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                  at::IntArrayRef padding, int64_t groups, Algorithm algorithm = Algorithm::Direct, bool relu = false,
                  at::IntArrayRef padding_after = {}, const at::Tensor& into = {});

// The FiLM bottleneck pair, y = conv1x1(relu(conv1x1(x, w1) + c1), w2, groups) + c2, over a
// channels-last x (float32 or bfloat16, weights and biases alike), run slice by slice of pixels so
// that the hidden map (the widest of a ResNet forward: 2 x 100 channels at full size) stays in a
// core's cache, by oneDNN's channels-last 1x1 kernels with packed weights, or, in float32 on maps
// of 256 pixels or more, by ours (kernels::pointwise_pair_rows; own_kernel = false: oneDNN's
// always, for tests). Returns an undefined tensor where those kernels are missing (CPUs without
// AVX-512) or x does not fit: the caller runs another path. The same caveat on weights as conv2d's.
at::Tensor pointwise_pair(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& c1, const at::Tensor& w2,
                          const at::Tensor& c2, int64_t groups, bool own_kernel = true);

// The same pair where its result is only an input to one more per-pixel pass (the FiLM modulation
// of the other stream): each slice's rows (pixels x 2C', channels-last, x's dtype) are handed to
// consume(first pixel, pixel count, rows) on the thread that made them, while they are in its
// cache, and never written to a map. Slices count pixels over N x H x W and may cross images. May
// be called from several threads at once. `ready`, where set, runs once before the first slice (to
// make what consume needs, only where the pair runs). Returns false, having run neither, where
// pointwise_pair would return undefined.
// Whether pointwise_pair_slices can run on this CPU at all (oneDNN's channels-last kernels: AVX-512),
// so that a caller need not open a profile range for an attempt that cannot run.
bool pointwise_slices_available();
using SliceConsumer = std::function<void(int64_t first, int64_t pixels, const void* rows)>;
bool pointwise_pair_slices(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& c1, const at::Tensor& w2,
                           const at::Tensor& c2, int64_t groups, const SliceConsumer& consume,
                           const std::function<void()>& ready = {}, bool own_kernel = true);

// The packed weights kept now (for tests and reports).
struct PackedStats {
    int64_t count = 0, bytes = 0;
};
PackedStats packed_weights();
// C = op(A) op(B) + beta C, row-major float32 (op: transposed where asked), by oneDNN's own GEMM,
// which picks its kernels for any x86 CPU, where the BLAS that LibTorch calls may not (Debian 12's
// OpenBLAS took this project's Xeon for a Prescott: 3-4x slower). Returns false without oneDNN.
bool sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc);
// C = op(A) op(B) into c (ldc = n), by sgemm where oneDNN is there, else LibTorch's BLAS on views of
// the same memory: always works. use_onednn false: LibTorch's way even here (for tests).
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, bool use_onednn = true);
// Lets every packed weight go (the next convolution of each packs its own again): to give back the
// memory of layouts no longer asked for (Winograd's, after switching to direct convolutions).
void release_packed_weights();

} // namespace bft::onednn
