// Small building blocks shared by the generators: parameter-free ops written once, and the
// ResNet block whose parameter names follow the reference ("conv_block.1.*", "conv_block.5.*").
#pragma once

#include "engine.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

namespace bft {

// InstanceNorm2d(affine=False, track_running_stats=False): biased variance, eps 1e-5.
at::Tensor instance_norm(const at::Tensor& x);
at::Tensor reflect_pad(const at::Tensor& x, int64_t pad);
// The padding of a square convolution (kernel and stride), undilated and ungrouped, padded with
// zeros alike on every side; -1 for any other. What the engine's and the discriminator's own
// convolution paths (GEMMs, small-map kernels) take.
int64_t square_conv_padding(const torch::nn::Conv2dImpl& m);

class ResnetBlockImpl : public torch::nn::Module {
public:
    explicit ResnetBlockImpl(int dim);
    at::Tensor forward(const at::Tensor& x);
    at::Tensor run(const at::Tensor& x, Ops& ops);
    // The same on padded maps (Ops::padded_trunk): xp is the input padded by 1, and becomes the
    // output padded by 1 (in place).
    at::Tensor run_padded(const at::Tensor& xp, Ops& ops);
    // The same on channels-last maps (Ops::reflect_trunk): the convolutions pad as they read.
    at::Tensor run_reflect(const at::Tensor& x, Ops& ops);
    // Both convolutions feed an InstanceNorm: their biases change nothing (GeneratorImpl::absorbed_biases).
    std::vector<at::Tensor> absorbed_biases() const { return {conv_a_->bias, conv_b_->bias}; }

private:
    torch::nn::Sequential conv_block_;
    torch::nn::Conv2d conv_a_{nullptr}, conv_b_{nullptr};
};
TORCH_MODULE(ResnetBlock);

// Appends `module` to `seq` and returns it, so a typed handle and the reference's index-based
// parameter name come from one line.
template <class M>
M push(torch::nn::Sequential& seq, M module)
{
    seq->push_back(module);
    return module;
}

} // namespace bft
