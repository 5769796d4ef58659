// One optimisation step of the paper's objective, as the reference's GuidedPix2PixModel makes it:
// with the GAN, D is updated on (input, guide, output) triples with the LSGAN loss
// (0.5 * (MSE(D(fake), 0) + MSE(D(real), 1))), then G on MSE(D(fake), 1) + lambda * L1; without
// it, G on the plain L1 loss. Adam for both (lr 2e-4, beta1 0.5, beta2 0.999 by default).
// The training loop around it (schedules, checkpoints, data) builds on this.
#pragma once

#include "discriminator.h"
#include "generator.h"

#include "optimizer.h"

#include <memory>

namespace bft {

namespace dist {
class Group;
class GradientReducer;
} // namespace dist

struct TrainConfig {
    bool use_gan = true;
    double lambda_l1 = 100;
    double lr = 2e-4, beta1 = 0.5, beta2 = 0.999;
    int ndf = 64, n_layers_d = 3;
};

struct StepLosses {
    double g_l1 = 0, g_gan = 0, d_real = 0, d_fake = 0;
};

class TrainStep {
public:
    TrainStep(Generator generator, const TrainConfig& config, const c10::Device& device);
    ~TrainStep();
    // input, guide, target: N x C x H x W on the step's device, in [-1, 1]. With micro_batches K > 1
    // the batch is processed in K parts (samples k, k + K, ...) whose gradients add up before the
    // optimisers step: the same update (but for rounding), with the memory of N / K samples. Where
    // targets have holes, each part's L1 is the mean over its own readings, as each rank's is.
    StepLosses run(const at::Tensor& input, const at::Tensor& guide, const at::Tensor& target, int micro_batches = 1);

    Generator generator() const { return g_; }
    PatchDiscriminator discriminator() const { return d_; }
    // Sets the learning rate of both optimisers (schedules).
    void set_lr(double lr);
    // Data parallel from here on (DDP's semantics): rank 0's weights of G and D are broadcast, and
    // every backward pass averages the gradients over the ranks before the optimisers step.
    void data_parallel(std::shared_ptr<dist::Group> group);
    // All-reduce time of the last step, ms: in all, and the part the backward pass did not hide.
    double allreduce_ms() const;
    double allreduce_exposed_ms() const;
    // Optimiser and discriminator state, for exact resumption (LibTorch archives; D also as .pth).
    void save_state(const std::string& dir) const;
    void load_state(const std::string& dir);

private:
    Generator g_;
    PatchDiscriminator d_{nullptr};
    TrainConfig config_;
    std::unique_ptr<FusedAdam> opt_g_, opt_d_;
    std::unique_ptr<dist::GradientReducer> reduce_g_, reduce_d_;
};

} // namespace bft
