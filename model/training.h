// One optimisation step of the paper's objective, as the reference's GuidedPix2PixModel makes it:
// with the GAN, D is updated on (input, guide, output) triples with the LSGAN loss
// (0.5 * (MSE(D(fake), 0) + MSE(D(real), 1))), then G on MSE(D(fake), 1) + lambda * L1; without
// it, G on the plain L1 loss. Adam for both (lr 2e-4, beta1 0.5, beta2 0.999 by default).
// The training loop around it (schedules, checkpoints, data) builds on this.
#pragma once

#include "discriminator.h"
#include "generator.h"

#include <torch/optim/adam.h>

#include <memory>

namespace bft {

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
    // input, guide, target: N x C x H x W on the step's device, in [-1, 1].
    StepLosses run(const at::Tensor& input, const at::Tensor& guide, const at::Tensor& target);

    Generator generator() const { return g_; }
    PatchDiscriminator discriminator() const { return d_; }
    // Sets the learning rate of both optimisers (schedules).
    void set_lr(double lr);
    // Optimiser and discriminator state, for exact resumption (LibTorch archives; D also as .pth).
    void save_state(const std::string& dir) const;
    void load_state(const std::string& dir);

private:
    Generator g_;
    PatchDiscriminator d_{nullptr};
    TrainConfig config_;
    std::unique_ptr<torch::optim::Adam> opt_g_, opt_d_;
};

} // namespace bft
