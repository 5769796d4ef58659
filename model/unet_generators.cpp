#include "unet_generators.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/instancenorm.h>

#include <utility>

namespace bft {

namespace nn = torch::nn;

namespace {

// Memory layout of the fast path, by measurement: channels-last. oneDNN's kernels for the 4x4 and
// 2x2 layers (brgconv) work in it, so NCHW cost a reorder each way around every convolution:
// texture at 256 here 123-139 -> 88-107 ms.
constexpr bool kChannelsLast = true;

nn::InstanceNorm2d make_instance_norm(int nc)
{
    return nn::InstanceNorm2d(nn::InstanceNorm2dOptions(nc).affine(false).track_running_stats(false));
}

nn::Conv2dOptions down_opts(int in, int out)
{
    return nn::Conv2dOptions(in, out, 4).stride(2).padding(1);
}

nn::ConvTranspose2dOptions up_opts(int in, int out)
{
    return nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1);
}

// Channels of encoder level `level` (1-based): ngf, 2ngf, 4ngf, then 8ngf.
int level_channels(const ArchSpec& s, int level)
{
    return s.ngf << std::min(level - 1, 3);
}
} // namespace

UnetGeneratorBase::UnetGeneratorBase(const ArchSpec& spec) : GeneratorImpl(spec) {}

void UnetGeneratorBase::build_streams()
{
    const auto& s = spec();
    const int extra = s.num_downs - 5;
    const int c8 = s.ngf * 8;

    // Encoders: <prefix>1 is a bare conv, <prefix>2..4 and the extra levels in <prefix> start with
    // a LeakyReLU at index 0.
    auto add_encoder = [&](const std::string& prefix, int in_nc, std::vector<nn::Conv2d>& convs) {
        for (int level = 1; level <= 4; ++level) {
            nn::Sequential seq;
            const int in = level == 1 ? in_nc : level_channels(s, level - 1);
            if (level > 1)
                seq->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
            convs.push_back(push(seq, nn::Conv2d(down_opts(in, level_channels(s, level)))));
            register_module(prefix + std::to_string(level), seq);
        }
        nn::Sequential deeper;
        for (int i = 0; i < extra; ++i) {
            deeper->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
            convs.push_back(push(deeper, nn::Conv2d(down_opts(c8, c8))));
        }
        register_module(prefix, deeper);
    };
    add_encoder("downconv", s.input_nc, down_in_);
    nn::Sequential downconv5;
    downconv5->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
    inner_ = push(downconv5, nn::Conv2d(down_opts(c8, c8)));
    register_module("downconv5", downconv5);

    // Decoder: ReLU, transposed conv, InstanceNorm (Tanh at the output).
    auto up_seq = [&](nn::Sequential& seq, int in, int out, bool last) {
        seq->push_back(nn::ReLU());
        up_.push_back(push(seq, nn::ConvTranspose2d(up_opts(in, out))));
        if (last)
            seq->push_back(nn::Tanh());
        else
            seq->push_back(make_instance_norm(out));
    };
    nn::Sequential upconv1, upconv, upconv2, upconv3, upconv4, upconv5;
    up_seq(upconv1, c8, c8, false);
    register_module("upconv1", upconv1);
    for (int i = 0; i < extra; ++i)
        up_seq(upconv, 2 * c8, c8, false);
    register_module("upconv", upconv);
    up_seq(upconv2, 2 * c8, s.ngf * 4, false);
    register_module("upconv2", upconv2);
    up_seq(upconv3, s.ngf * 8, s.ngf * 2, false);
    register_module("upconv3", upconv3);
    up_seq(upconv4, s.ngf * 4, s.ngf, false);
    register_module("upconv4", upconv4);
    up_seq(upconv5, s.ngf * 2, s.output_nc, true);
    register_module("upconv5", upconv5);

    // Guide encoder: one level fewer (its innermost output would have nothing to modulate).
    add_encoder("G_downconv", s.guide_nc, down_g_);
}

std::pair<const nn::Sequential*, size_t> UnetGeneratorBase::level_bottleneck(int level,
                                                                             const std::vector<nn::Sequential>& named,
                                                                             const nn::Sequential& flat)
{
    if (level <= 4)
        return {&named[level - 2], 0};
    return {&flat, static_cast<size_t>(3 * (level - 5))};
}

at::Tensor UnetGeneratorBase::modulate(int level, const std::vector<nn::Sequential>& alpha, const nn::Sequential& alpha_flat,
                                       const std::vector<nn::Sequential>& beta, const nn::Sequential& beta_flat,
                                       const at::Tensor& target, const at::Tensor& source, bool may_overwrite,
                                       const char* dir, Ops& ops) const
{
    auto [a, a_first] = level_bottleneck(level, alpha, alpha_flat);
    auto [b, b_first] = level_bottleneck(level, beta, beta_flat);
    return ops.film_from(target, source, *a, a_first, *b, b_first, /*relu=*/false, may_overwrite, dir, level);
}

at::Tensor UnetGeneratorBase::run(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options)
{
    Ops ops(options, weight_cache_, input);
    const int n = spec().num_downs;
    // prepare() again after the first conv: on LibTorch's path (CUDA) its layout is LibTorch's choice.
    at::Tensor x = ops.prepare(ops.conv(ops.prepare(input, kChannelsLast), *down_in_[0]), kChannelsLast);
    at::Tensor g = ops.prepare(ops.conv(ops.prepare(guide, kChannelsLast), *down_g_[0]), kChannelsLast);
    // Each down convolution's LeakyReLU is the conv's (Winograd's kernels apply it as they read).
    // Elsewhere inference rectifies in place, as the reference's inplace activations do: one feature
    // map less alive at a time. That also rewrites the skips, but every skip then passes a ReLU in the
    // decoder, and relu(leaky_relu(s)) == relu(s).
    constexpr float kSlope = 0.2f;
    auto relu = [&](at::Tensor t) { return ops.fast() ? t.relu_() : at::relu(t); };
    std::vector<at::Tensor> skips{x};
    for (int level = 2; level <= n - 1; ++level) {
        x = ops.conv(x, *down_in_[level - 1], kSlope);
        g = ops.conv(g, *down_g_[level - 1], kSlope);
        transform(level, x, g, ops);
        skips.push_back(x);
        if (ops.cancelled())
            return {};
    }
    // Each level: ReLU(cat(skip, norm(h))) into the next transposed convolution.
    at::Tensor h = ops.conv_transpose(relu(ops.conv(x, *inner_, kSlope)), *up_[0], /*padding=*/1, /*output_padding=*/0);
    for (int j = 1; j + 1 < n; ++j) {
        h = ops.skip_conv_transpose(skips[n - 1 - j], h, *up_[static_cast<size_t>(j)]);
        if (ops.cancelled())
            return {};
    }
    return ops.output(ops.unet_output(skips[0], h, *up_[static_cast<size_t>(n - 1)]));
}

std::vector<at::Tensor> UnetGeneratorBase::absorbed_biases() const
{
    std::vector<at::Tensor> out;
    for (size_t j = 0; j + 1 < up_.size(); ++j)
        out.push_back(up_[j]->bias);
    return out;
}

BftUnetImpl::BftUnetImpl(const ArchSpec& spec) : UnetGeneratorBase(spec)
{
    build_streams();
    const int d = spec.bottleneck_depth;
    for (int level = 2; level <= 4; ++level) {
        const int c = level_channels(spec, level);
        const auto n = std::to_string(level);
        alpha_.push_back(register_module("bottleneck_alpha_" + n, film_bottleneck(c, d)));
        beta_.push_back(register_module("bottleneck_beta_" + n, film_bottleneck(c, d)));
    }
    for (int i = 0; i < spec.num_downs - 5; ++i) {
        append_film_bottleneck(alpha_x_, spec.ngf * 8, d);
        append_film_bottleneck(beta_x_, spec.ngf * 8, d);
    }
    register_module("bottleneck_alpha", alpha_x_);
    register_module("bottleneck_beta", beta_x_);
    for (int level = 2; level <= 4; ++level) {
        const int c = level_channels(spec, level);
        const auto n = std::to_string(level);
        g_alpha_.push_back(register_module("G_bottleneck_alpha_" + n, film_bottleneck(c, d)));
        g_beta_.push_back(register_module("G_bottleneck_beta_" + n, film_bottleneck(c, d)));
    }
    for (int i = 0; i < spec.num_downs - 5; ++i) {
        append_film_bottleneck(g_alpha_x_, spec.ngf * 8, d);
        append_film_bottleneck(g_beta_x_, spec.ngf * 8, d);
    }
    register_module("G_bottleneck_alpha", g_alpha_x_);
    register_module("G_bottleneck_beta", g_beta_x_);
}

std::vector<at::Tensor> BftUnetImpl::absorbed_biases() const
{
    std::vector<at::Tensor> out = UnetGeneratorBase::absorbed_biases();
    out.push_back(down_in_[static_cast<size_t>(spec().num_downs - 2)]->bias);
    return out;
}

void BftUnetImpl::transform(int level, at::Tensor& x, at::Tensor& g, Ops& ops)
{
    // Both directions from the unmodulated streams: the guide's result to a new map, the input's
    // over its own where nothing else holds it.
    at::Tensor g_next = modulate(level, alpha_, alpha_x_, beta_, beta_x_, g, x, /*may_overwrite=*/false, "i2g", ops);
    x = modulate(level, g_alpha_, g_alpha_x_, g_beta_, g_beta_x_, x, g, /*may_overwrite=*/true, "g2i", ops);
    g = std::move(g_next);
}

UftUnetImpl::UftUnetImpl(const ArchSpec& spec) : UnetGeneratorBase(spec)
{
    build_streams();
    const int d = spec.bottleneck_depth;
    for (int level = 2; level <= 4; ++level) {
        const int c = level_channels(spec, level);
        const auto n = std::to_string(level);
        g_alpha_.push_back(register_module("G_bottleneck_alpha_" + n, film_bottleneck(c, d)));
        g_beta_.push_back(register_module("G_bottleneck_beta_" + n, film_bottleneck(c, d)));
        register_module("norm" + n + "_g", make_instance_norm(c));
    }
    register_module("norm_g", make_instance_norm(spec.ngf * 8));
    for (int i = 0; i < spec.num_downs - 5; ++i) {
        append_film_bottleneck(g_alpha_x_, spec.ngf * 8, d);
        append_film_bottleneck(g_beta_x_, spec.ngf * 8, d);
    }
    register_module("G_bottleneck_alpha", g_alpha_x_);
    register_module("G_bottleneck_beta", g_beta_x_);
}

std::vector<at::Tensor> UftUnetImpl::absorbed_biases() const
{
    std::vector<at::Tensor> out = UnetGeneratorBase::absorbed_biases();
    for (int level = 2; level <= spec().num_downs - 1; ++level)
        out.push_back(down_in_[static_cast<size_t>(level - 1)]->bias);
    return out;
}

void UftUnetImpl::transform(int level, at::Tensor& x, at::Tensor& g, Ops& ops)
{
    x = modulate(level, g_alpha_, g_alpha_x_, g_beta_, g_beta_x_, x, g, /*may_overwrite=*/true, "g2i", ops);
    g = ops.instance_norm(g, /*relu=*/false);
}

} // namespace bft
