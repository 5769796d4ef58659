// The PatchGAN discriminator of the paper's training (the reference's NLayerDiscriminator with
// InstanceNorm, conditioned on input, guide and output concatenated): 4x4 convs, stride 2 for the
// first n_layers, LeakyReLU 0.2; parameter names as in the reference ("model.0.weight", ...).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

namespace bft {

class PatchDiscriminatorImpl : public torch::nn::Module {
public:
    PatchDiscriminatorImpl(int input_nc, int ndf = 64, int n_layers = 3);
    at::Tensor forward(const at::Tensor& x);

private:
    torch::nn::Sequential model_;
};
TORCH_MODULE(PatchDiscriminator);

} // namespace bft
