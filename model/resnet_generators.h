// The ResNet-based generators: bFT_Resnet (bi-directional FiLM) and uFT_resnet (guide -> input
// FiLM only). Both: 7x7 stems, three stride-2 convs per stream, FiLM after the stem and after each
// stride-2 conv, n_blocks ResNet blocks at 1/8 scale, three transposed convs back up.
#pragma once

#include "generator.h"
#include "layers.h"

#include <torch/nn/modules/conv.h>

#include <vector>

namespace bft {

// Layers both ResNet generators share, registered in the reference's order by the subclasses.
class ResnetGeneratorBase : public GeneratorImpl {
public:
    using GeneratorImpl::GeneratorImpl;

protected:
    void build_encoders(bool guide_norms);
    void build_trunk();
    // reflection pad + 7x7 conv of either stream, in the encoder's layout.
    at::Tensor stem(const at::Tensor& in, torch::nn::Conv2dImpl& conv, Ops& ops);
    // The residual blocks' convolutions and the decoder's transposed ones (each before an InstanceNorm).
    std::vector<at::Tensor> absorbed_biases() const override;
    // Both streams' stems into x and g, checking for cancellation after each; false if cancelled.
    bool stems(const at::Tensor& input, const at::Tensor& guide, Ops& ops, at::Tensor& x, at::Tensor& g);
    // resnet blocks, decoder: shared tail of the forward pass (undefined when cancelled).
    at::Tensor decode(at::Tensor x, Ops& ops);

    torch::nn::Sequential padding_in_, padding_g_;
    torch::nn::Conv2d stem_in_{nullptr}, stem_g_{nullptr};
    std::vector<torch::nn::Conv2d> down_in_, down_g_; // conv1..3, conv1_g..3_g
    torch::nn::Sequential resnet_, pre_decoder_, decoder_;
    std::vector<ResnetBlock> blocks_;
    std::vector<torch::nn::ConvTranspose2d> up_;
    torch::nn::Conv2d out_conv_{nullptr};
};

class BftResnetImpl : public ResnetGeneratorBase {
public:
    explicit BftResnetImpl(const ArchSpec& spec);
    at::Tensor run(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options) override;
    // Also the input stream's last convolution: the guide stream has ended, nothing but the FiLM
    // normalisation reads it.
    std::vector<at::Tensor> absorbed_biases() const override;

private:
    // [level-1]: bottlenecks predicting from the input stream (alpha_, beta_) and from the guide (g_*).
    std::vector<torch::nn::Sequential> alpha_, beta_, g_alpha_, g_beta_;
};

class UftResnetImpl : public ResnetGeneratorBase {
public:
    explicit UftResnetImpl(const ArchSpec& spec);
    at::Tensor run(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options) override;
    // Also the input stream's stem and downsampling convolutions: only the FiLM normalisation reads them.
    std::vector<at::Tensor> absorbed_biases() const override;

private:
    std::vector<torch::nn::Sequential> alpha_, beta_; // predict from the guide stream
};

} // namespace bft
