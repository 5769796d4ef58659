// Inference convolutions straight through oneDNN's own API, for two things LibTorch does not do:
// - weights kept in oneDNN's layout: at::mkldnn_convolution reorders a plain weight on every call,
//   which was half of a texture U-Net forward (its 512-channel 4x4 weights, at tiny feature maps);
//   here each weight is packed once (per layout oneDNN asks for) and reused until it changes;
// - Winograd F(4x4, 3x3): LibTorch only ever asks for the direct algorithm, while the ResNet trunk's
//   wide 3x3 convolutions (87% of a pose forward's arithmetic) run 3-4x faster by Winograd.
// Built where oneDNN's headers are found (Debian: libdnnl-dev, the same libdnnl that libtorch
// links); elsewhere (and on CUDA) the functions return undefined and callers run LibTorch's path.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

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
at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                  at::IntArrayRef padding, int64_t groups, Algorithm algorithm = Algorithm::Direct);

// The packed weights kept now (for tests and reports).
struct PackedStats {
    int64_t count = 0, bytes = 0;
};
PackedStats packed_weights();
// Lets every packed weight go (the next convolution of each packs its own again): to give back the
// memory of layouts no longer asked for (Winograd's, after switching to direct convolutions).
void release_packed_weights();

} // namespace bft::onednn
