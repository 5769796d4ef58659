// FusedAdam: torch::optim::Adam with its per-parameter update done in one pass over memory on the
// CPU. LibTorch's Adam makes eight passes per parameter (mul_, add_, mul_, addcmul_, sqrt, div,
// add_, addcdiv_), about a sixth of a texture U-Net training step on 2 cores; the fused loop reads
// the parameter, its gradient and both moments once and writes them once. Same state (step,
// exp_avg, exp_avg_sq), so its archives load into torch::optim::Adam and the other way round.
// Anything the loop does not cover (CUDA, other dtypes, amsgrad, non-contiguous) takes Adam's own
// path, as does the whole step then.
#pragma once

#include <torch/optim/adam.h>

namespace bft {

class FusedAdam : public torch::optim::Adam {
public:
    using torch::optim::Adam::Adam;
    at::Tensor step(LossClosure closure = nullptr) override;
    // Drops the gradients instead of zeroing them: the next backward pass writes them afresh
    // instead of adding to zeros (a fill and an add over every parameter saved). Adam skips a
    // parameter without a gradient, as it does one that never had one.
    void clear_grads();
};

} // namespace bft
