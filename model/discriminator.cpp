#include "discriminator.h"

#include "fused_training.h"
#include "gemm_convolution.h"
#include "layers.h"
#include "winograd_4x4.h"

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
    if (!x.is_cpu() || x.scalar_type() != at::kFloat)
        return model_->forward(x);
    // On the CPU (training): each instance norm and its leaky ReLU as one autograd node, and the
    // last layer (into one channel) as a GEMM into its taps and shifted sums; for LibTorch's
    // convolution that layer was a reorder of its weight and its one-channel output into oneDNN's
    // blocked layout, each way (texture training step, batch 4: about 8 -> 4 ms).
    at::Tensor h = x;
    const size_t n = model_->size();
    for (size_t i = 0; i < n; ++i) {
        const std::shared_ptr<nn::Module> m = model_->ptr(i);
        if (const auto* norm = m->as<nn::InstanceNorm2dImpl>(); norm && i + 1 < n && !norm->options.affine() &&
                                                                 !norm->options.track_running_stats() &&
                                                                 norm->options.eps() == 1e-5) {
            if (const auto* act = model_->ptr(i + 1)->as<nn::LeakyReLUImpl>()) {
                h = instance_norm_fused(h, /*activate=*/true, act->options.negative_slope());
                ++i;
                continue;
            }
        }
        if (const auto* conv = m->as<nn::Conv2dImpl>();
            conv && i + 1 == n && conv->options.out_channels() <= 4 && (*conv->options.stride())[0] == 1)
            if (const int64_t padding = square_conv_padding(*conv); padding >= 0)
                return conv2d_taps_gemm(h, conv->weight, conv->bias, padding);
        // The wide stride-1 layer (256 -> 512 at ndf 64) by Winograd F(2x2, 4x4) (winograd_4x4.h): in
        // the texture training step at batch 4 its forward and backward passes 106 -> 69 ms, the step
        // 565 -> 476-487 ms.
        if (const auto* conv = m->as<nn::Conv2dImpl>(); conv && (*conv->options.stride())[0] == 1)
            if (const int64_t padding = square_conv_padding(*conv);
                padding >= 0 && winograd4_fits(h, conv->weight, padding)) {
                h = conv2d_winograd4(h, conv->weight, conv->bias, padding);
                continue;
            }
        h = (model_->begin() + static_cast<std::ptrdiff_t>(i))->forward<at::Tensor>(h);
    }
    return h;
}

} // namespace bft
