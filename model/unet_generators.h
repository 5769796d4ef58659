// The U-Net-based generators: bFT_Unet (bi-directional FiLM) and uFT_Unet (guide -> input only).
// num_downs stride-2 convs in the input stream, num_downs-1 in the guide stream, FiLM after levels
// 2..num_downs-1, skip connections into num_downs transposed convs.
#pragma once

#include "generator.h"
#include "layers.h"

#include <torch/nn/modules/conv.h>

#include <vector>

namespace bft {

class UnetGeneratorBase : public GeneratorImpl {
public:
    explicit UnetGeneratorBase(const ArchSpec& spec);
    at::Tensor run(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options) override;
    // The decoder's transposed convolutions but the last (each before an InstanceNorm).
    std::vector<at::Tensor> absorbed_biases() const override;

protected:
    // Registers the encoders and the decoder in the reference's order; the subclass then adds its
    // bottlenecks.
    void build_streams();
    // Applies the FiLM of `level` (2..num_downs-1) to both streams, in place of x and g.
    virtual void transform(int level, at::Tensor& x, at::Tensor& g, Ops& ops) = 0;
    // The bottleneck Sequential and its first index for a level: L2-L4 have their own, deeper levels
    // share one flat Sequential (3 layers each), as the reference stores them.
    static std::pair<const torch::nn::Sequential*, size_t> level_bottleneck(
        int level, const std::vector<torch::nn::Sequential>& named, const torch::nn::Sequential& flat);
    // One direction at a level: `target` modulated by the gamma and beta that the bottlenecks predict
    // from `source` (Ops::film_from; recorded as `dir`), without a ReLU.
    at::Tensor modulate(int level, const std::vector<torch::nn::Sequential>& alpha, const torch::nn::Sequential& alpha_flat,
                        const std::vector<torch::nn::Sequential>& beta, const torch::nn::Sequential& beta_flat,
                        const at::Tensor& target, const at::Tensor& source, bool may_overwrite, const char* dir,
                        Ops& ops) const;

    std::vector<torch::nn::Conv2d> down_in_, down_g_; // downconv1..4 + extras; G_downconv1..4 + extras
    torch::nn::Conv2d inner_{nullptr};                // downconv5, the innermost
    std::vector<torch::nn::ConvTranspose2d> up_;      // upconv1, extras, upconv2..5
};

class BftUnetImpl : public UnetGeneratorBase {
public:
    explicit BftUnetImpl(const ArchSpec& spec);
    // Also the input stream's convolution of the last FiLM level: the guide stream ends there, so its
    // i2g maps go nowhere and only the normalisation reads that convolution.
    std::vector<at::Tensor> absorbed_biases() const override;

private:
    void transform(int level, at::Tensor& x, at::Tensor& g, Ops& ops) override;
    std::vector<torch::nn::Sequential> alpha_, beta_, g_alpha_, g_beta_; // levels 2..4
    torch::nn::Sequential alpha_x_, beta_x_, g_alpha_x_, g_beta_x_;     // levels 5.. (flat)
};

class UftUnetImpl : public UnetGeneratorBase {
public:
    explicit UftUnetImpl(const ArchSpec& spec);
    // Also the input stream's convolutions of levels 2..num_downs-1: only the FiLM normalisation reads them.
    std::vector<at::Tensor> absorbed_biases() const override;

private:
    void transform(int level, at::Tensor& x, at::Tensor& g, Ops& ops) override;
    std::vector<torch::nn::Sequential> g_alpha_, g_beta_;
    torch::nn::Sequential g_alpha_x_, g_beta_x_;
};

} // namespace bft
