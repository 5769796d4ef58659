// The execution context of one forward pass: which precision and memory layout the layers run in,
// the fused inference kernels (with the plain ATen formulation when autograd is recording, for
// training), a cache of derived weights (bf16 copies, fused bottlenecks), cancellation between
// layers, and gamma/beta capture. The generators express their forward passes through it.
#pragma once

#include "film.h"

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace bft {

enum class Precision {
    FP32, // parity with the reference
    BF16, // fast preview: convolutions in bfloat16, normalisation statistics in fp32
};
std::string precision_name(Precision p);       // "fp32", "bf16"
Precision precision_from_name(const std::string& name); // throws bft::Error on others
// Whether this machine runs bf16 convolutions natively (CPU: AVX512-BF16; CUDA: always).
bool bf16_supported(const c10::Device& device);
// Whether bf16 is also the faster precision here. Not every CPU with AVX512-BF16 runs it faster:
// a Xeon without AMX (or with AMX hidden by its hypervisor) runs oneDNN's bf16 convolutions at
// half its fp32 rate. Measured once per process on the CPU (a 256-channel 3x3 convolution in both
// precisions, about 50 ms); CUDA: always.
struct Bf16Speed {
    bool supported = false, faster = false;
    double fp32_ms = 0, bf16_ms = 0; // the measurement, for messages (CPU only)
};
const Bf16Speed& bf16_speed(const c10::Device& device);
// A sentence for people where bf16 does not pay ("this CPU has no bf16 instructions ...", "bf16 runs
// slower than fp32 on this CPU ..."); empty where it does.
std::string bf16_drawback(const c10::Device& device);

struct ForwardOptions {
    FilmMaps* film = nullptr;                   // capture gamma/beta maps here when set
    Precision precision = Precision::FP32;
    const std::atomic<bool>* cancel = nullptr;  // when it turns true, the forward stops at the next layer
    // fp32 on the CPU: wide 3x3 convolutions by Winograd F(4x4, 3x3), oneDNN's where it has a kernel
    // (AVX-512), winograd.h's elsewhere (within 1e-5 of the direct algorithm), and the U-Net's 4x4
    // stride-2 layers over large maps by F(4x4, 2x2) or F(2x2, 2x2) (winograd_stride2.h); false:
    // every convolution direct, as LibTorch runs them.
    bool winograd = true;
    // With winograd: winograd.h's even where oneDNN has a kernel (for tests on AVX-512 machines).
    bool own_winograd = false;
    // fp32 on the CPU: the U-Net's own Winograd products on AMX tiles as bf16x3 (amx.h; PyTorch's
    // set_float32_matmul_precision("high")), where this CPU has AMX. Opt-in: the texture U-Net at
    // 256 (ngf 16, random weights) then differs from the direct path by 7-12e-5 (once 1.2e-4),
    // against 1e-5 with float32 FMAs (the default, "highest"), and the parity bound is 1e-4.
    bool amx = false;
    // CUDA inference without gamma/beta capture: GeneratorImpl::infer replays whole forwards as CUDA
    // graphs (cuda_support.h). A replay runs to its end: cancellation is checked before it.
    bool cuda_graph = true;
    // Each layer (Ops' conv, film, ...) shows as a `bft::layer::*` range in a profile; with this on a
    // GPU it also waits for its kernels before it returns, so that the range holds the layer's time
    // on the device (bft bench --profile).
    bool sync_layers = false;
};

// Whether a forward with these options runs the U-Net's Winograd products on AMX tiles
// (ForwardOptions::amx): float32 CPU inference with Winograd, on a CPU that allows AMX.
bool amx_products_run(const ForwardOptions& options, const c10::Device& device);

// Derived weights (a bf16 copy, two bottlenecks fused into one), rebuilt when any source tensor
// is replaced or modified in place (its version counter moves), e.g. by a training step.
class WeightCache {
public:
    std::vector<at::Tensor> get(int tag, const std::vector<at::Tensor>& sources,
                                const std::function<std::vector<at::Tensor>()>& make);
    at::Tensor get_one(int tag, const std::vector<at::Tensor>& sources, const std::function<at::Tensor()>& make);
    void clear();
    int64_t bytes(); // of every derived weight kept now

private:
    struct Entry {
        std::vector<const void*> impls;
        std::vector<int64_t> versions;
        std::vector<at::Tensor> value;
        bool filled = false;
    };
    std::mutex mutex_;
    std::map<std::pair<const void*, int>, Entry> entries_;
};

class Ops {
public:
    Ops(const ForwardOptions& options, WeightCache& cache, const at::Tensor& like);

    bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
    // Cached derived weights are used when autograd is off (inference); the fused CPU kernels
    // also need the CPU (elsewhere the same formulas run as ATen ops, statistics in fp32).
    bool fast() const { return fast_; }
    at::ScalarType dtype() const { return dtype_; }

    // Converts to this pass's dtype and the given layout (channels-last or not).
    at::Tensor prepare(const at::Tensor& x, bool channels_last) const;
    at::Tensor output(const at::Tensor& y) const; // back to float32, NCHW

    // input_slope != 1: the layer's input is leaky_relu(x, input_slope) (the U-Net encoder's), which
    // Winograd's stride-2 kernels apply as they read; elsewhere a pass of its own, in place in
    // inference (as the reference's inplace activation: x's owner must allow it).
    at::Tensor conv(const at::Tensor& x, torch::nn::Conv2dImpl& conv, float input_slope = 1.0f);
    // conv() of an input that may be almost all zeros (keypoint maps): their contributions alone
    // where it is (kernels::sparse_input_conv), conv() where not.
    at::Tensor conv_sparse_input(const at::Tensor& x, torch::nn::Conv2dImpl& conv);
    at::Tensor conv_transpose(const at::Tensor& x, torch::nn::ConvTranspose2dImpl& conv, int64_t padding,
                              int64_t output_padding);
    // gamma and beta of one direction at one level, stacked: N x 2C x H x W.
    at::Tensor film_params(const at::Tensor& x, const torch::nn::Sequential& alpha, size_t alpha_first,
                           const torch::nn::Sequential& beta, size_t beta_first);
    // may_overwrite: the result may take x's memory where nothing else refers to it.
    at::Tensor film(const at::Tensor& x, const at::Tensor& gamma_beta, bool relu, bool may_overwrite = true);
    // film(x, film_params(source, ...), relu) with the maps recorded as `dir` at `level`; in CPU
    // inference the bottleneck's slices modulate x as they are made (gamma and beta, twice x's size,
    // are never written as channels-last maps: pose at 256, about 5 ms a forward), and go straight
    // to the recorded planar maps where recording.
    // alpha_first, beta_first: where each bottleneck starts in its Sequential, as for film_params.
    at::Tensor film_from(const at::Tensor& x, const at::Tensor& source, const torch::nn::Sequential& alpha,
                         size_t alpha_first, const torch::nn::Sequential& beta, size_t beta_first, bool relu,
                         bool may_overwrite, const char* dir, int level);
    at::Tensor instance_norm(const at::Tensor& x, bool relu);
    // ReLU(cat(skip, instance_norm(h))) along channels: a U-Net decoder level's input.
    at::Tensor skip_concat(const at::Tensor& skip, const at::Tensor& h);
    at::Tensor reflect_pad(const at::Tensor& x, int64_t pad);
    // conv(reflect_pad(x, pad), m), on the CPU in fp32 inference for wide kernels into a few channels
    // (the ResNets' last layer) without the padded map: kernels::conv_few_outputs pads as it reads.
    at::Tensor reflect_pad_conv(const at::Tensor& x, int64_t pad, torch::nn::Conv2dImpl& m);
    // conv_transpose(skip_concat(skip, h), conv) with padding 1: a U-Net decoder level. Where
    // Winograd's kernels take the layer, without the concatenated map (its input transform reads both).
    at::Tensor skip_conv_transpose(const at::Tensor& skip, const at::Tensor& h, torch::nn::ConvTranspose2dImpl& conv);
    // The U-Net's last level: tanh(conv_transpose(skip_concat(skip, h), conv)), padding 1. In CPU
    // float32 inference into a few channels, one kernel (kernels::unet_output) without the
    // concatenated map.
    at::Tensor unet_output(const at::Tensor& skip, const at::Tensor& h, torch::nn::ConvTranspose2dImpl& conv);
    // Whether a ResNet trunk on x runs on padded maps (CPU inference in float32 NCHW): each block's
    // instance norms write the next convolution's reflection-padded input, the second one adding
    // the block's input in place (kernels::instance_norm_padded); no padding or sum passes.
    bool padded_trunk(const at::Tensor& x) const;
    // Whether a ResNet trunk on x runs channels-last through winograd.h's reflection-padded
    // F(4x4, 3x3) with our products instead (CPU inference in float32, AVX-512, up to 512 tiles):
    // each block is reflect_conv, reflect_conv reading the norm and ReLU, then instance_norm_add.
    bool reflect_trunk(const at::Tensor& x, int64_t channels) const;
    // conv(reflect_pad(x', 1), m), x' = x or, with `normalize`, ReLU(instance_norm(x)).
    at::Tensor reflect_conv(const at::Tensor& x, torch::nn::Conv2dImpl& m, bool normalize);
    // instance_norm(x) + residual, in x's memory where x is no one else's.
    at::Tensor instance_norm_add(const at::Tensor& x, const at::Tensor& residual);
    // instance_norm then reflect_pad by `pad`; with `residual`: residual's interior += it, in place.
    at::Tensor instance_norm_padded(const at::Tensor& x, bool relu, int64_t pad, const at::Tensor& residual = {});
    void record(const char* dir, int level, const at::Tensor& gamma_beta);

private:
    at::Tensor cast(const at::Tensor& w, int tag);
    // The γ and β bottlenecks of one direction as one pair (film_params): first weight and bias
    // (both hidden layers), second weight and bias (two groups), cached in this pass's dtype.
    std::array<at::Tensor, 4> fused_pair(const torch::nn::Conv2dImpl& a1, const torch::nn::Conv2dImpl& a2,
                                         const torch::nn::Conv2dImpl& b1, const torch::nn::Conv2dImpl& b2);
    int tag(int base) const;
    // conv2d_by_taps' weight for m (convolution.h: tap_weights), cached.
    at::Tensor tap_weight(const torch::nn::Conv2dImpl& m);
    // The layer's weight for winograd_stride2.h with tiles of `tile`, cached: for oneDNN's products,
    // or for our own where x makes few tiles.
    at::Tensor winograd_s2_weight(const at::Tensor& x, const at::Tensor& weight, int tile, bool transposed);

    FilmMaps* film_;
    const std::atomic<bool>* cancel_;
    WeightCache& cache_;
    bool fast_;
    bool cpu_;
    bool winograd_;     // oneDNN's
    bool own_winograd_; // winograd.h, where oneDNN has none
    bool winograd_s2_;  // winograd_stride2.h
    bool amx_;          // ForwardOptions::amx, where this CPU allows it
    bool reflect_winograd_; // winograd.h's reflection-padded F(4x4, 3x3) for the ResNet trunk
    bool sync_layers_;  // ForwardOptions::sync_layers, on a GPU
    at::ScalarType dtype_;
};

} // namespace bft
