// The common interface of the four generators and the factory that builds one from an ArchSpec.
// Parameter names are exactly the keys of the reference implementation's state_dict().
#pragma once

#include "arch.h"
#include "cuda_support.h"
#include "engine.h"
#include "film.h"

#include <torch/nn/module.h>

#include <memory>

namespace bft {

class GeneratorImpl : public torch::nn::Module {
public:
    explicit GeneratorImpl(const ArchSpec& spec) : spec_(spec) {}
    const ArchSpec& spec() const { return spec_; }

    // input: N x input_nc x H x W, guide: N x guide_nc x H x W, float32 in [-1, 1]; H and W multiples
    // of spec().size_multiple(). Returns N x output_nc x H x W float32 in [-1, 1], or an undefined tensor
    // when options.cancel turned true. With options.film, every gamma/beta map is also stored there.
    // With autograd on (training) it is the plain differentiable formulation; under no-grad or
    // inference mode, the fused engine.
    virtual at::Tensor run(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options) = 0;

    // Biases whose effect a per-channel normalisation right after them removes (a convolution
    // before an InstanceNorm, or before the FiLM normalisation when nothing else reads its output).
    // They change no output, and their gradient is zero but for rounding noise, which Adam's first
    // steps turn into full-size steps of random sign; training leaves them as they are.
    virtual std::vector<at::Tensor> absorbed_biases() const = 0;

    // run() for inference (autograd off): on CUDA, unless gamma/beta maps are captured or
    // options.cuda_graph is off, replayed as a CUDA graph; elsewhere run() itself.
    at::Tensor infer(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options);
    int cuda_graph_captures() { return cuda_graphs_.captures(); }

    at::Tensor forward(const at::Tensor& input, const at::Tensor& guide, FilmMaps* film = nullptr)
    {
        ForwardOptions options;
        options.film = film;
        return run(input, guide, options);
    }

    // The fast path's derived weights (bf16 copies, fused bottlenecks, Winograd-domain kernels):
    // their size, and letting them go (a forward makes those it needs again).
    int64_t derived_weight_bytes() { return weight_cache_.bytes(); }
    void release_derived_weights()
    {
        cuda_graphs_.clear(); // they read the derived weights
        weight_cache_.clear();
    }

protected:
    WeightCache weight_cache_; // derived weights of the fast path (bf16 copies, fused bottlenecks, sub-pixel phases, taps, Winograd)
    CudaGraphs cuda_graphs_;

private:
    ArchSpec spec_;
};

using Generator = std::shared_ptr<GeneratorImpl>;

// Builds the network of `spec` with freshly initialised weights (LibTorch's defaults).
Generator make_generator(const ArchSpec& spec);

} // namespace bft
