#include "resnet_generators.h"

#include "conv_transpose.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/padding.h>

namespace bft {

namespace nn = torch::nn;

namespace {
constexpr int kLevels = 3; // stride-2 convs per stream

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

at::Tensor ResnetGeneratorBase::decode(at::Tensor x)
{
    for (auto& block : blocks_)
        x = block->forward(x);
    for (auto& up : up_)
        x = at::relu(instance_norm(conv_transpose2d_s2(x, up->weight, up->bias, /*padding=*/1, /*output_padding=*/1)));
    return at::tanh(out_conv_->forward(reflect_pad(x, 3)));
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

at::Tensor BftResnetImpl::forward(const at::Tensor& input, const at::Tensor& guide, FilmMaps* film)
{
    at::Tensor x = stem_in_->forward(reflect_pad(input, 3));
    at::Tensor g = stem_g_->forward(reflect_pad(guide, 3));
    for (int level = 1; level <= kLevels + 1; ++level) {
        const size_t i = level - 1;
        // Both directions read the streams before either is modulated.
        auto gamma_g2i = run_film_bottleneck(g_alpha_[i], 0, g);
        auto beta_g2i = run_film_bottleneck(g_beta_[i], 0, g);
        record_film(film, "g2i", level, gamma_g2i, beta_g2i);
        if (level <= kLevels) {
            // At the last level the guide stream ends: the reference predicts no i2g maps there.
            auto gamma_i2g = run_film_bottleneck(alpha_[i], 0, x);
            auto beta_i2g = run_film_bottleneck(beta_[i], 0, x);
            record_film(film, "i2g", level, gamma_i2g, beta_i2g);
            g = at::relu(film_modulate(g, gamma_i2g, beta_i2g));
            g = down_g_[i]->forward(g);
        }
        x = at::relu(film_modulate(x, gamma_g2i, beta_g2i));
        if (level <= kLevels)
            x = down_in_[i]->forward(x);
    }
    return decode(x);
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

at::Tensor UftResnetImpl::forward(const at::Tensor& input, const at::Tensor& guide, FilmMaps* film)
{
    at::Tensor x = stem_in_->forward(reflect_pad(input, 3));
    at::Tensor g = stem_g_->forward(reflect_pad(guide, 3));
    for (int level = 1; level <= kLevels + 1; ++level) {
        const size_t i = level - 1;
        auto gamma = run_film_bottleneck(alpha_[i], 0, g);
        auto beta = run_film_bottleneck(beta_[i], 0, g);
        record_film(film, "g2i", level, gamma, beta);
        x = at::relu(film_modulate(x, gamma, beta));
        if (level <= kLevels) {
            x = down_in_[i]->forward(x);
            g = down_g_[i]->forward(at::relu(instance_norm(g)));
        }
    }
    return decode(x);
}

} // namespace bft
