#include "resnet_generators.h"


#include <torch/nn/modules/activation.h>
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/padding.h>

namespace bft {

namespace nn = torch::nn;

namespace {
constexpr int kLevels = 3; // stride-2 convs per stream
// Memory layout of each stage on the fast path, chosen by measurement (bft bench, ONEDNN_VERBOSE):
// the encoder and the decoder channels-last, which oneDNN's kernels for them work in (in NCHW, the
// decoder's phases were reordered in and out: 14 of 22 ms of reorders per depth forward at 256).
// The trunk in fp32 in NCHW, which its Winograd kernels reorder to their blocked layout either way;
// in bf16 (direct kernels) channels-last, which they work in: NCHW cost two reorders per
// convolution, 36 per pose forward (15 of 360 ms).
constexpr bool kChannelsLastEncoder = true;
constexpr bool kChannelsLastDecoder = true;

nn::InstanceNorm2d make_instance_norm(int nc)
{
    return nn::InstanceNorm2d(nn::InstanceNorm2dOptions(nc).affine(false).track_running_stats(false));
}
} // namespace

void ResnetGeneratorBase::build_encoders(bool guide_norms)
{
    const auto& s = spec();
    padding_in_->push_back(nn::ReflectionPad2d(3));
    stem_in_ = push(padding_in_, nn::Conv2d(nn::Conv2dOptions(s.input_nc, s.ngf, 7)));
    register_module("padding_in", padding_in_);
    for (int i = 0; i < kLevels; ++i) {
        int c = s.ngf << i;
        down_in_.push_back(register_module("conv" + std::to_string(i + 1),
                                           nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 3).stride(2).padding(1))));
    }
    padding_g_->push_back(nn::ReflectionPad2d(3));
    stem_g_ = push(padding_g_, nn::Conv2d(nn::Conv2dOptions(s.guide_nc, s.ngf, 7)));
    register_module("padding_g", padding_g_);
    for (int i = 0; i < kLevels; ++i) {
        int c = s.ngf << i;
        down_g_.push_back(register_module("conv" + std::to_string(i + 1) + "_g",
                                          nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 3).stride(2).padding(1))));
        if (guide_norms) // uFT_resnet's guide norms have no parameters; registered for a faithful module tree
            register_module("norm" + std::to_string(i + 1) + "_g", make_instance_norm(c));
    }
}

void ResnetGeneratorBase::build_trunk()
{
    const auto& s = spec();
    const int dim = s.ngf << kLevels;
    for (int i = 0; i < s.n_blocks; ++i)
        blocks_.push_back(push(resnet_, ResnetBlock(dim)));
    register_module("resnet", resnet_);
    for (int i = 0; i < kLevels; ++i) {
        int c = dim >> i;
        up_.push_back(push(pre_decoder_, nn::ConvTranspose2d(nn::ConvTranspose2dOptions(c, c / 2, 3)
                                                                  .stride(2).padding(1).output_padding(1))));
        pre_decoder_->push_back(make_instance_norm(c / 2));
        pre_decoder_->push_back(nn::ReLU());
    }
    register_module("pre_decoder", pre_decoder_);
    decoder_->push_back(nn::ReflectionPad2d(3));
    out_conv_ = push(decoder_, nn::Conv2d(nn::Conv2dOptions(s.ngf, s.output_nc, 7)));
    decoder_->push_back(nn::Tanh());
    register_module("decoder", decoder_);
}

at::Tensor ResnetGeneratorBase::stem(const at::Tensor& in, torch::nn::Conv2dImpl& conv, Ops& ops)
{
    // LibTorch's reflection padding answers a one-channel input in NCHW: prepare() gives it the
    // encoder's layout again (a view), so that the stem's output comes in it (oneDNN follows its
    // input); the last prepare() is for LibTorch's path (CUDA).
    const at::Tensor padded = ops.prepare(ops.reflect_pad(ops.prepare(in, kChannelsLastEncoder), 3), kChannelsLastEncoder);
    // Keypoint maps are almost all zeros: the pose guide's stem (18 -> 64, 7x7: 22 ms of a 283 ms
    // forward at 256) then costs what its few nonzero pixels do.
    return ops.prepare(ops.conv_sparse_input(padded, conv), kChannelsLastEncoder);
}

bool ResnetGeneratorBase::stems(const at::Tensor& input, const at::Tensor& guide, Ops& ops, at::Tensor& x, at::Tensor& g)
{
    x = stem(input, *stem_in_, ops);
    if (ops.cancelled())
        return false;
    g = stem(guide, *stem_g_, ops);
    return !ops.cancelled();
}

at::Tensor ResnetGeneratorBase::decode(at::Tensor x, Ops& ops)
{
    if (ops.cancelled())
        return {};
    // Channels-last (as the encoder leaves it) where the trunk runs reflect_trunk's kernels: each
    // convolution pads as it reads, the second reads the norm too.
    const bool reflect = !blocks_.empty() && ops.reflect_trunk(x, x.size(1));
    x = ops.prepare(x, /*channels_last=*/reflect || ops.dtype() != at::kFloat);
    if (reflect) {
        for (auto& block : blocks_) {
            x = block->run_reflect(x, ops);
            if (ops.cancelled())
                return {};
        }
    } else if (ops.padded_trunk(x) && !blocks_.empty()) {
        // Padded once; each block's norms then write the next convolution's padded input (pose at
        // 256: 18 padding passes and 9 sums of 8 MB maps fewer).
        at::Tensor xp = ops.reflect_pad(x, 1);
        x = at::Tensor();
        for (auto& block : blocks_) {
            xp = block->run_padded(xp, ops);
            if (ops.cancelled())
                return {};
        }
        x = xp.narrow(2, 1, xp.size(2) - 2).narrow(3, 1, xp.size(3) - 2);
    } else {
        for (auto& block : blocks_) {
            x = block->run(x, ops);
            if (ops.cancelled())
                return {};
        }
    }
    x = ops.prepare(x, kChannelsLastDecoder);
    for (auto& up : up_) {
        x = ops.conv_transpose(x, *up, /*padding=*/1, /*output_padding=*/1);
        if (ops.cancelled())
            return {};
        x = ops.instance_norm(x, /*relu=*/true);
    }
    if (ops.cancelled())
        return {};
    return ops.output(at::tanh(ops.reflect_pad_conv(x, 3, *out_conv_)));
}

std::vector<at::Tensor> ResnetGeneratorBase::absorbed_biases() const
{
    std::vector<at::Tensor> out;
    for (const auto& block : blocks_)
        for (const auto& b : block->absorbed_biases())
            out.push_back(b);
    for (const auto& up : up_)
        out.push_back(up->bias);
    return out;
}

BftResnetImpl::BftResnetImpl(const ArchSpec& spec) : ResnetGeneratorBase(spec)
{
    build_encoders(/*guide_norms=*/false);
    for (int level = 1; level <= kLevels + 1; ++level) {
        const int c = spec.ngf << (level - 1);
        const auto n = std::to_string(level);
        alpha_.push_back(register_module("bottleneck_alpha_" + n, film_bottleneck(c, spec.bottleneck_depth)));
        g_alpha_.push_back(register_module("G_bottleneck_alpha_" + n, film_bottleneck(c, spec.bottleneck_depth)));
        beta_.push_back(register_module("bottleneck_beta_" + n, film_bottleneck(c, spec.bottleneck_depth)));
        g_beta_.push_back(register_module("G_bottleneck_beta_" + n, film_bottleneck(c, spec.bottleneck_depth)));
    }
    build_trunk();
}

std::vector<at::Tensor> BftResnetImpl::absorbed_biases() const
{
    std::vector<at::Tensor> out = ResnetGeneratorBase::absorbed_biases();
    out.push_back(down_in_.back()->bias);
    return out;
}

at::Tensor BftResnetImpl::run(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options)
{
    Ops ops(options, weight_cache_, input);
    at::Tensor x, g;
    if (!stems(input, guide, ops, x, g))
        return {};
    for (int level = 1; level <= kLevels + 1; ++level) {
        const size_t i = level - 1;
        // Both directions read the streams before either is modulated: the guide's modulation
        // goes to a new map, the input's may overwrite it.
        // Cancellation is checked after every layer or two: a stale forward ends within one layer.
        at::Tensor g_next;
        if (level <= kLevels) {
            // At the last level the guide stream ends: the reference predicts no i2g maps there.
            g_next = ops.film_from(g, x, alpha_[i], 0, beta_[i], 0, /*relu=*/true, /*may_overwrite=*/false, "i2g", level);
            if (ops.cancelled())
                return {};
        }
        x = ops.film_from(x, g, g_alpha_[i], 0, g_beta_[i], 0, /*relu=*/true, /*may_overwrite=*/true, "g2i", level);
        if (ops.cancelled())
            return {};
        if (level <= kLevels) {
            g = ops.conv(g_next, *down_g_[i]);
            g_next = at::Tensor();
            if (ops.cancelled())
                return {};
            x = ops.conv(x, *down_in_[i]);
        }
        if (ops.cancelled())
            return {};
    }
    return decode(x, ops);
}

UftResnetImpl::UftResnetImpl(const ArchSpec& spec) : ResnetGeneratorBase(spec)
{
    build_encoders(/*guide_norms=*/true);
    for (int level = 1; level <= kLevels + 1; ++level) {
        const int c = spec.ngf << (level - 1);
        const auto n = std::to_string(level);
        alpha_.push_back(register_module("bottleneck_alpha_" + n, film_bottleneck(c, spec.bottleneck_depth)));
        beta_.push_back(register_module("bottleneck_beta_" + n, film_bottleneck(c, spec.bottleneck_depth)));
    }
    build_trunk();
}

std::vector<at::Tensor> UftResnetImpl::absorbed_biases() const
{
    std::vector<at::Tensor> out = ResnetGeneratorBase::absorbed_biases();
    out.push_back(stem_in_->bias);
    for (const auto& conv : down_in_)
        out.push_back(conv->bias);
    return out;
}

at::Tensor UftResnetImpl::run(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options)
{
    Ops ops(options, weight_cache_, input);
    at::Tensor x, g;
    if (!stems(input, guide, ops, x, g))
        return {};
    for (int level = 1; level <= kLevels + 1; ++level) {
        const size_t i = level - 1;
        x = ops.film_from(x, g, alpha_[i], 0, beta_[i], 0, /*relu=*/true, /*may_overwrite=*/true, "g2i", level);
        if (ops.cancelled())
            return {};
        if (level <= kLevels) {
            x = ops.conv(x, *down_in_[i]);
            g = ops.conv(ops.instance_norm(g, /*relu=*/true), *down_g_[i]);
        }
        if (ops.cancelled())
            return {};
    }
    return decode(x, ops);
}

} // namespace bft
