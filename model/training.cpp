#include "training.h"

#include "checkpoint.h"
#include "errors.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/serialize.h>

#include <filesystem>

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

void TrainStep::set_lr(double lr)
{
    for (auto* opt : {opt_g_.get(), opt_d_.get()})
        if (opt)
            for (auto& group : opt->param_groups())
                static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

void TrainStep::save_state(const std::string& dir) const
{
    namespace fs = std::filesystem;
    fs::create_directories(dir);
    auto save = [&](const torch::optim::Optimizer& opt, const std::string& name) {
        const std::string tmp = dir + "/" + name + ".tmp";
        torch::save(opt, tmp);
        fs::rename(tmp, dir + "/" + name);
    };
    save(*opt_g_, "optimizer_G.pt");
    if (d_) {
        save(*opt_d_, "optimizer_D.pt");
        std::vector<std::pair<std::string, at::Tensor>> state;
        for (const auto& p : d_->named_parameters())
            state.emplace_back(p.key(), p.value().detach().cpu());
        write_state_dict(dir + "/net_D.pth", state);
    }
}

void TrainStep::load_state(const std::string& dir)
{
    try {
        torch::load(*opt_g_, dir + "/optimizer_G.pt");
        if (d_) {
            torch::load(*opt_d_, dir + "/optimizer_D.pt");
            const StateDict sd = read_state_dict(dir + "/net_D.pth");
            torch::NoGradGuard no_grad;
            auto params = d_->named_parameters();
            for (const auto& [k, t] : sd.entries) {
                at::Tensor* p = params.find(k);
                if (!p || !p->sizes().equals(t.sizes()))
                    throw Error(dir + "/net_D.pth", "does not fit the discriminator (" + k + ")");
                p->copy_(t);
            }
        }
    } catch (const c10::Error& e) {
        throw Error(dir, std::string("cannot restore the optimiser state: ") + e.what_without_backtrace());
    }
}

namespace {

// Targets may hold NaN where there is no reading (depth holes): L1 over the readings only.
at::Tensor masked_l1(const at::Tensor& output, const at::Tensor& target, const at::Tensor& valid)
{
    if (!valid.defined())
        return at::l1_loss(output, target);
    const at::Tensor diff = (output - at::nan_to_num(target)).abs() * valid;
    return diff.sum() / valid.sum().clamp_min(1.0);
}

} // namespace

StepLosses TrainStep::run(const at::Tensor& input, const at::Tensor& guide, const at::Tensor& target_in)
{
    torch::AutoGradMode grad(true);
    StepLosses losses;
    // Missing readings: masked out of L1; for D, real and fake alike show -1 there, so holes
    // tell it nothing about which is which.
    at::Tensor valid, target = target_in;
    if (at::isnan(target_in).any().item<bool>()) {
        valid = at::isfinite(target_in).to(target_in.scalar_type());
        target = at::nan_to_num(target_in, -1.0);
    }
    const at::Tensor raw_fake = g_->forward(input, guide);
    const at::Tensor fake = valid.defined() ? at::where(valid > 0, raw_fake, at::full({}, -1.0, raw_fake.options())) : raw_fake;
    if (!config_.use_gan) {
        opt_g_->zero_grad();
        at::Tensor l1 = masked_l1(raw_fake, target, valid);
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
    const at::Tensor g_l1 = masked_l1(raw_fake, target, valid) * config_.lambda_l1;
    (g_gan + g_l1).backward();
    opt_g_->step();
    losses.g_gan = g_gan.item<double>();
    losses.g_l1 = g_l1.item<double>();
    losses.d_fake = d_fake.item<double>();
    losses.d_real = d_real.item<double>();
    return losses;
}

} // namespace bft
