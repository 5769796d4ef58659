#include "training.h"

#include "checkpoint.h"
#include "distributed.h"
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
        return std::make_unique<FusedAdam>(
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

TrainStep::~TrainStep() = default;

void TrainStep::data_parallel(std::shared_ptr<dist::Group> group)
{
    std::vector<at::Tensor> all = g_->parameters();
    if (d_)
        for (const auto& p : d_->parameters())
            all.push_back(p);
    group->broadcast(all);
    reduce_g_ = std::make_unique<dist::GradientReducer>(group, g_->parameters());
    if (d_)
        reduce_d_ = std::make_unique<dist::GradientReducer>(group, d_->parameters());
}

double TrainStep::allreduce_ms() const
{
    return (reduce_g_ ? reduce_g_->allreduce_ms() : 0) + (reduce_d_ ? reduce_d_->allreduce_ms() : 0);
}

double TrainStep::allreduce_exposed_ms() const
{
    return (reduce_g_ ? reduce_g_->exposed_ms() : 0) + (reduce_d_ ? reduce_d_->exposed_ms() : 0);
}

namespace {
// A backward pass whose gradients are averaged over the ranks when training data parallel. The
// generator's absorbed biases get a zero gradient: theirs is rounding noise (generator.h).
void backward(const at::Tensor& loss, dist::GradientReducer* reducer, const std::vector<at::Tensor>& absorbed = {})
{
    if (reducer)
        reducer->begin();
    loss.backward();
    if (reducer)
        reducer->finish();
    for (const auto& b : absorbed)
        if (b.grad().defined())
            b.grad().zero_();
}
} // namespace

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

namespace {

// One micro-batch: samples k, k + K, k + 2K, ... of the batch (the same strided split as the
// ranks' shards, so that K micro-batches here sum in the order K ranks' gradients do).
struct Micro {
    at::Tensor input, guide, target, valid;
};

std::vector<Micro> split(const at::Tensor& input, const at::Tensor& guide, const at::Tensor& target, int parts)
{
    const int64_t n = input.size(0);
    if (parts < 1 || n % parts != 0)
        throw Error("a batch of " + std::to_string(n) + " does not split into " + std::to_string(parts) + " micro-batches");
    std::vector<Micro> out;
    for (int k = 0; k < parts; ++k) {
        Micro m;
        if (parts == 1) {
            m.input = input, m.guide = guide, m.target = target;
        } else {
            const at::Tensor idx = at::arange(k, n, parts, at::TensorOptions().dtype(at::kLong).device(input.device()));
            m.input = input.index_select(0, idx), m.guide = guide.index_select(0, idx), m.target = target.index_select(0, idx);
        }
        // Missing readings: masked out of L1; for D, real and fake alike show -1 there, so holes
        // tell it nothing about which is which.
        if (at::isnan(m.target).any().item<bool>()) {
            m.valid = at::isfinite(m.target).to(m.target.scalar_type());
            m.target = at::nan_to_num(m.target, -1.0);
        }
        out.push_back(std::move(m));
    }
    return out;
}

at::Tensor masked_fake(const at::Tensor& raw, const at::Tensor& valid)
{
    return valid.defined() ? at::where(valid > 0, raw, at::full({}, -1.0, raw.options())) : raw;
}

} // namespace

StepLosses TrainStep::run(const at::Tensor& input, const at::Tensor& guide, const at::Tensor& target, int micro_batches)
{
    torch::AutoGradMode grad(true);
    StepLosses losses;
    const std::vector<Micro> parts = split(input, guide, target, micro_batches);
    const size_t last = parts.size() - 1;
    // Each micro-batch's loss weighs 1/K (exact: K is a power of two in practice, and x * 1 = x);
    // the ranks' gradients are averaged in the last backward pass only (DDP's no_sync).
    const double scale = 1.0 / static_cast<double>(parts.size());
    if (!config_.use_gan) {
        opt_g_->clear_grads();
        for (size_t k = 0; k < parts.size(); ++k) {
            const Micro& m = parts[k];
            const at::Tensor l1 = masked_l1(g_->forward(m.input, m.guide), m.target, m.valid);
            backward(l1 * scale, k == last ? reduce_g_.get() : nullptr, g_->absorbed_biases());
            losses.g_l1 += l1.item<double>() * scale;
        }
        opt_g_->step();
        return losses;
    }
    // D: real triples towards 1, fake ones (G held fixed) towards 0. With one micro-batch G's
    // output and its graph serve both updates; with several, G runs again for its own update, so
    // that only one micro-batch's graph is alive at a time.
    std::vector<at::Tensor> kept(parts.size());
    for (auto& p : d_->parameters())
        p.requires_grad_(true);
    opt_d_->clear_grads();
    for (size_t k = 0; k < parts.size(); ++k) {
        const Micro& m = parts[k];
        at::Tensor raw;
        if (parts.size() == 1) {
            raw = kept[k] = g_->forward(m.input, m.guide);
        } else {
            // D only needs G's output here; G's own update runs it again with its graph.
            torch::NoGradGuard no_grad;
            raw = g_->forward(m.input, m.guide);
        }
        // Fake and real triples as one batch: D's instance norms see each sample alone, so this is
        // the two passes in one, with GEMMs twice as tall and one weight gradient instead of a sum of two.
        const int64_t n = m.input.size(0);
        const at::Tensor pred = d_->forward(at::cat({at::cat({m.input, m.guide, masked_fake(raw, m.valid).detach()}, 1),
                                                     at::cat({m.input, m.guide, m.target}, 1)}, 0));
        const at::Tensor pred_fake = pred.narrow(0, 0, n), pred_real = pred.narrow(0, n, n);
        const at::Tensor d_fake = at::mse_loss(pred_fake, at::zeros_like(pred_fake));
        const at::Tensor d_real = at::mse_loss(pred_real, at::ones_like(pred_real));
        backward((d_fake + d_real) * (0.5 * scale), k == last ? reduce_d_.get() : nullptr);
        losses.d_fake += d_fake.item<double>() * scale;
        losses.d_real += d_real.item<double>() * scale;
    }
    opt_d_->step();
    // G: fool D, and stay close to the target.
    for (auto& p : d_->parameters())
        p.requires_grad_(false);
    opt_g_->clear_grads();
    for (size_t k = 0; k < parts.size(); ++k) {
        const Micro& m = parts[k];
        const at::Tensor raw = kept[k].defined() ? kept[k] : g_->forward(m.input, m.guide);
        kept[k] = at::Tensor();
        const at::Tensor pred = d_->forward(at::cat({m.input, m.guide, masked_fake(raw, m.valid)}, 1));
        const at::Tensor g_gan = at::mse_loss(pred, at::ones_like(pred));
        const at::Tensor g_l1 = masked_l1(raw, m.target, m.valid) * config_.lambda_l1;
        backward((g_gan + g_l1) * scale, k == last ? reduce_g_.get() : nullptr, g_->absorbed_biases());
        losses.g_gan += g_gan.item<double>() * scale;
        losses.g_l1 += g_l1.item<double>() * scale;
    }
    opt_g_->step();
    return losses;
}

} // namespace bft
