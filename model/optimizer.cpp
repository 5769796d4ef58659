#include "optimizer.h"

#include "kernels.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

namespace bft {

namespace {

bool fusable(const at::Tensor& p, const torch::optim::AdamOptions& options)
{
    const at::Tensor& g = p.grad();
    return !options.amsgrad() && p.is_cpu() && p.scalar_type() == at::kFloat && p.is_contiguous() && !g.is_sparse() &&
           g.is_cpu() && g.scalar_type() == at::kFloat && g.is_contiguous() && g.sizes().equals(p.sizes());
}

// torch::optim keys a parameter's state by the address of its TensorImpl: written out as a string
// in LibTorch 1.13 (c10::guts::to_string, an ostream's <<), the pointer itself in 2.x.
template <typename Key>
Key state_key(at::TensorImpl* impl)
{
    if constexpr (std::is_same_v<Key, std::string>) {
        std::ostringstream s;
        s << impl;
        return s.str();
    } else {
        return impl;
    }
}

} // namespace

at::Tensor FusedAdam::step(LossClosure closure)
{
    for (auto& group : param_groups_)
        for (auto& p : group.params())
            if (p.grad().defined() && !fusable(p, static_cast<torch::optim::AdamOptions&>(group.options())))
                return torch::optim::Adam::step(closure);

    at::Tensor loss;
    if (closure) {
        at::AutoGradMode enable_grad(true);
        loss = closure();
    }
    RECORD_FUNCTION("bft::FusedAdam::step", std::vector<c10::IValue>());
    torch::NoGradGuard no_grad;
    for (auto& group : param_groups_) {
        const auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
        for (auto& p : group.params()) {
            if (!p.grad().defined())
                continue;
            const auto key = state_key<typename std::decay_t<decltype(state_)>::key_type>(p.unsafeGetTensorImpl());
            auto found = state_.find(key);
            if (found == state_.end()) {
                auto state = std::make_unique<torch::optim::AdamParamState>();
                state->step(0);
                state->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
                state->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
                found = state_.emplace(key, std::move(state)).first;
            }
            auto& state = static_cast<torch::optim::AdamParamState&>(*found->second);
            // Restored archives may hold moments in another layout: the loop walks all four alike.
            if (!state.exp_avg().is_contiguous())
                state.exp_avg(state.exp_avg().contiguous());
            if (!state.exp_avg_sq().is_contiguous())
                state.exp_avg_sq(state.exp_avg_sq().contiguous());
            state.step(state.step() + 1);
            const auto [beta1, beta2] = options.betas();
            const double bias_correction1 = 1 - std::pow(beta1, state.step());
            const double bias_correction2 = 1 - std::pow(beta2, state.step());
            const kernels::AdamScalars s{static_cast<float>(beta1),
                                static_cast<float>(beta2),
                                static_cast<float>(1 - beta1),
                                static_cast<float>(1 - beta2),
                                static_cast<float>(options.weight_decay()),
                                static_cast<float>(std::sqrt(bias_correction2)),
                                static_cast<float>(options.eps()),
                                static_cast<float>(-(options.lr() / bias_correction1))};
            float* pp = p.data_ptr<float>();
            const float* gp = p.grad().data_ptr<float>();
            float* mp = state.exp_avg().data_ptr<float>();
            float* vp = state.exp_avg_sq().data_ptr<float>();
            at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
                kernels::adam_update(pp + begin, gp + begin, mp + begin, vp + begin, end - begin, s);
            });
        }
    }
    return loss;
}

void FusedAdam::clear_grads()
{
    for (auto& group : param_groups_)
        for (auto& p : group.params())
            p.mutable_grad() = at::Tensor();
}

} // namespace bft
