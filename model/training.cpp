#include "training.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

namespace bft {

TrainStep::TrainStep(Generator generator, const TrainConfig& config, const c10::Device& device)
    : g_(std::move(generator)), config_(config)
{
    g_->to(device);
    g_->train();
    auto adam = [&](const std::vector<at::Tensor>& params) {
        return std::make_unique<torch::optim::Adam>(
            params, torch::optim::AdamOptions(config.lr).betas({config.beta1, config.beta2}));
    };
    opt_g_ = adam(g_->parameters());
    if (config.use_gan) {
        const auto& s = g_->spec();
        d_ = PatchDiscriminator(s.input_nc + s.guide_nc + s.output_nc, config.ndf, config.n_layers_d);
        d_->to(device);
        d_->train();
        opt_d_ = adam(d_->parameters());
    }
}

StepLosses TrainStep::run(const at::Tensor& input, const at::Tensor& guide, const at::Tensor& target)
{
    torch::AutoGradMode grad(true);
    StepLosses losses;
    const at::Tensor fake = g_->forward(input, guide);
    if (!config_.use_gan) {
        opt_g_->zero_grad();
        at::Tensor l1 = at::l1_loss(fake, target);
        l1.backward();
        opt_g_->step();
        losses.g_l1 = l1.item<double>();
        return losses;
    }
    const at::Tensor real_ab = at::cat({input, guide, target}, 1);
    // D: real triples towards 1, fake ones (G held fixed) towards 0.
    for (auto& p : d_->parameters())
        p.requires_grad_(true);
    opt_d_->zero_grad();
    const at::Tensor pred_fake = d_->forward(at::cat({input, guide, fake.detach()}, 1));
    const at::Tensor pred_real = d_->forward(real_ab);
    const at::Tensor d_fake = at::mse_loss(pred_fake, at::zeros_like(pred_fake));
    const at::Tensor d_real = at::mse_loss(pred_real, at::ones_like(pred_real));
    ((d_fake + d_real) * 0.5).backward();
    opt_d_->step();
    // G: fool D, and stay close to the target.
    for (auto& p : d_->parameters())
        p.requires_grad_(false);
    opt_g_->zero_grad();
    const at::Tensor pred = d_->forward(at::cat({input, guide, fake}, 1));
    const at::Tensor g_gan = at::mse_loss(pred, at::ones_like(pred));
    const at::Tensor g_l1 = at::l1_loss(fake, target) * config_.lambda_l1;
    (g_gan + g_l1).backward();
    opt_g_->step();
    losses.g_gan = g_gan.item<double>();
    losses.g_l1 = g_l1.item<double>();
    losses.d_fake = d_fake.item<double>();
    losses.d_real = d_real.item<double>();
    return losses;
}

} // namespace bft
