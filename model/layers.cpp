#include "layers.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/padding.h>

#include <variant>

namespace bft {

namespace nn = torch::nn;

at::Tensor instance_norm(const at::Tensor& x)
{
    return at::instance_norm(x, {}, {}, {}, {}, /*use_input_stats=*/true, /*momentum=*/0.1, /*eps=*/1e-5,
                             at::globalContext().userEnabledCuDNN());
}

at::Tensor reflect_pad(const at::Tensor& x, int64_t pad)
{
    return at::reflection_pad2d(x, {pad, pad, pad, pad});
}

// Convolution options hold variants: c10's in LibTorch 1.13, std's in 2.x; unqualified calls find
// either (std's by these declarations, c10's by argument-dependent lookup).
using std::get_if;
using std::holds_alternative;

int64_t square_conv_padding(const torch::nn::Conv2dImpl& m)
{
    const auto& o = m.options;
    const auto* padding = get_if<torch::ExpandingArray<2>>(&o.padding());
    auto square = [](const auto& a) { return (*a)[0] == (*a)[1]; };
    const bool ok = padding && square(o.kernel_size()) && square(o.stride()) && square(*padding) &&
                    (*o.dilation())[0] == 1 && (*o.dilation())[1] == 1 && o.groups() == 1 &&
                    holds_alternative<torch::enumtype::kZeros>(o.padding_mode());
    return ok ? (**padding)[0] : -1;
}

ResnetBlockImpl::ResnetBlockImpl(int dim)
{
    auto in_opts = nn::InstanceNorm2dOptions(dim).affine(false).track_running_stats(false);
    conv_block_->push_back(nn::ReflectionPad2d(1));
    conv_a_ = push(conv_block_, nn::Conv2d(nn::Conv2dOptions(dim, dim, 3)));
    conv_block_->push_back(nn::InstanceNorm2d(in_opts));
    conv_block_->push_back(nn::ReLU());
    conv_block_->push_back(nn::ReflectionPad2d(1));
    conv_b_ = push(conv_block_, nn::Conv2d(nn::Conv2dOptions(dim, dim, 3)));
    conv_block_->push_back(nn::InstanceNorm2d(in_opts));
    register_module("conv_block", conv_block_);
}

at::Tensor ResnetBlockImpl::forward(const at::Tensor& x)
{
    WeightCache cache;
    Ops ops(ForwardOptions{}, cache, x);
    return run(x, ops);
}

at::Tensor ResnetBlockImpl::run(const at::Tensor& x, Ops& ops)
{
    auto h = ops.instance_norm(ops.conv(ops.reflect_pad(x, 1), *conv_a_), /*relu=*/true);
    h = ops.instance_norm(ops.conv(ops.reflect_pad(h, 1), *conv_b_), /*relu=*/false);
    return x + h;
}

at::Tensor ResnetBlockImpl::run_reflect(const at::Tensor& x, Ops& ops)
{
    const at::Tensor h = ops.reflect_conv(x, *conv_a_, /*normalize=*/false);
    return ops.instance_norm_add(ops.reflect_conv(h, *conv_b_, /*normalize=*/true), x);
}

at::Tensor ResnetBlockImpl::run_padded(const at::Tensor& xp, Ops& ops)
{
    const at::Tensor hp = ops.instance_norm_padded(ops.conv(xp, *conv_a_), /*relu=*/true, 1);
    return ops.instance_norm_padded(ops.conv(hp, *conv_b_), /*relu=*/false, 1, xp);
}

} // namespace bft
