// oneDNN primitives that LibTorch does not reach: its CPU convolutions always ask oneDNN for the
// direct algorithm, while the ResNet trunk's 3x3 convolutions (wide, stride 1, 87% of a pose
// forward's arithmetic) run up to 3x faster as oneDNN's Winograd F(4x4, 3x3), which does 4x fewer
// multiplications. Built where oneDNN's headers are found (Debian: libdnnl-dev, the same libdnnl
// that libtorch links); elsewhere winograd_available() is false and callers use the direct path.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

namespace bft::onednn {

// Whether this build has oneDNN's API and oneDNN has a Winograd kernel for this CPU (AVX-512).
bool winograd_available();

// A convolution with a 3x3 kernel, stride 1, no padding, groups 1, by Winograd F(4x4, 3x3), in
// float32 on the CPU. x: N x C x H x W (H, W >= 3), any layout; weight: O x C x 3 x 3; bias: O or
// undefined. Returns an NCHW tensor, or an undefined one where oneDNN has no Winograd kernel for
// this shape (the caller then runs the direct convolution).
// `transformed_weight(layout, make)` lets the caller cache the weight in oneDNN's Winograd layout (a
// byte tensor, 4x the weight): it returns the buffer kept for this weight and `layout` (a key that
// oneDNN's choice of layout gives, the same for most input shapes: previews and full-size results
// share one), or calls make() for a new one and keeps it.
using WeightStore = std::function<at::Tensor(at::IntArrayRef layout, const std::function<at::Tensor()>& make)>;
at::Tensor winograd_conv3x3(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            const WeightStore& transformed_weight);

} // namespace bft::onednn
