#include "discriminator.h"

#include "gemm_convolution.h"

#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/instancenorm.h>

#include <algorithm>
#include <variant>

namespace bft {

namespace nn = torch::nn;

PatchDiscriminatorImpl::PatchDiscriminatorImpl(int input_nc, int ndf, int n_layers)
{
    auto conv = [](int in, int out, int stride) {
        return nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(stride).padding(1)); // bias: InstanceNorm has none
    };
    auto lrelu = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
    auto norm = [](int c) { return nn::InstanceNorm2d(nn::InstanceNorm2dOptions(c).affine(false).track_running_stats(false)); };
    model_->push_back(conv(input_nc, ndf, 2));
    model_->push_back(lrelu());
    int mult = 1;
    for (int n = 1; n < n_layers; ++n) {
        const int prev = mult;
        mult = std::min(1 << n, 8);
        model_->push_back(conv(ndf * prev, ndf * mult, 2));
        model_->push_back(norm(ndf * mult));
        model_->push_back(lrelu());
    }
    const int prev = mult;
    mult = std::min(1 << n_layers, 8);
    model_->push_back(conv(ndf * prev, ndf * mult, 1));
    model_->push_back(norm(ndf * mult));
    model_->push_back(lrelu());
    model_->push_back(conv(ndf * mult, 1, 1));
    register_module("model", model_);
}

// Convolution options hold variants: c10's in LibTorch 1.13, std's in 2.x; unqualified calls find
// either (std's by these declarations, c10's by argument-dependent lookup).
using std::get_if;
using std::holds_alternative;

at::Tensor PatchDiscriminatorImpl::forward(const at::Tensor& x)
{
    // The last layer (into one channel) on the CPU as a GEMM into its taps and shifted sums: for
    // LibTorch's convolution it was a reorder of its weight and its one-channel output into
    // oneDNN's blocked layout, each way (texture training step, batch 4: about 8 -> 4 ms).
    auto* last = model_->ptr(model_->size() - 1)->as<nn::Conv2dImpl>();
    const auto& o = last->options;
    const auto* padding = get_if<torch::ExpandingArray<2>>(&o.padding());
    if (!x.is_cpu() || x.scalar_type() != at::kFloat || o.out_channels() > 4 || (*o.stride())[0] != 1 ||
        (*o.stride())[1] != 1 || (*o.dilation())[0] != 1 || (*o.dilation())[1] != 1 || o.groups() != 1 ||
        (*o.kernel_size())[0] != (*o.kernel_size())[1] || !padding || (**padding)[0] != (**padding)[1] ||
        !holds_alternative<torch::enumtype::kZeros>(o.padding_mode()))
        return model_->forward(x);
    at::Tensor h = x;
    for (auto it = model_->begin(); it + 1 != model_->end(); ++it)
        h = it->forward<at::Tensor>(h);
    return conv2d_taps_gemm(h, last->weight, last->bias, (**padding)[0]);
}

} // namespace bft
