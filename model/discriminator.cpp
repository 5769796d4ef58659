#include "discriminator.h"

#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/instancenorm.h>

#include <algorithm>

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

at::Tensor PatchDiscriminatorImpl::forward(const at::Tensor& x)
{
    return model_->forward(x);
}

} // namespace bft
