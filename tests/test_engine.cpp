// The inference engine against LibTorch's own operators and against the training formulation:
// the sub-pixel transposed convolution for every stride-2 configuration the networks use (and more),
// the fused kernels in both layouts and precisions, oneDNN's Winograd convolutions against the direct
// ones (alone and in a whole generator), the bf16 preview's error, precision switches, the weight
// cache after training steps, and cancellation.
#include "test_support.h"

#include "amx.h"
#include "checkpoint.h"
#include "convolution.h"
#include "cuda_support.h"
#include "errors.h"
#include "film.h"
#include "fused_training.h"
#include "gemm_convolution.h"
#include "inference.h"
#include "kernels.h"
#include "layers.h"
#include "live.h"
#include "npy.h"
#include "onednn.h"
#include "runtime.h"
#include "winograd.h"
#include "winograd_stride2.h"

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>
#include <thread>
#include <tuple>

namespace bft {
namespace {

struct TransposeCase {
    int64_t k, padding, output_padding, h, w;
};
// The parameters as gtest (and CTest) name the cases, not their bytes.
void PrintTo(const TransposeCase& c, std::ostream* os)
{
    *os << "k" << c.k << "_pad" << c.padding << "_outpad" << c.output_padding << "_" << c.h << "x" << c.w;
}

class SubpixelTranspose : public ::testing::TestWithParam<TransposeCase> {};

TEST_P(SubpixelTranspose, MatchesConvTranspose2dForwardAndBackward)
{
    const auto c = GetParam();
    at::manual_seed(7);
    at::Tensor x = at::randn({2, 5, c.h, c.w}).requires_grad_();
    at::Tensor w = at::randn({5, 3, c.k, c.k}).requires_grad_();
    at::Tensor b = at::randn({3}).requires_grad_();
    at::Tensor ref = at::conv_transpose2d(x, w, b, 2, c.padding, c.output_padding);
    at::Tensor ours = conv_transpose2d_s2(x, w, b, c.padding, c.output_padding);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-5);

    at::Tensor g = at::randn(ref.sizes());
    auto grads_ref = torch::autograd::grad({ref}, {x, w, b}, {g});
    auto grads = torch::autograd::grad({ours}, {x, w, b}, {g});
    for (size_t k = 0; k < 3; ++k)
        EXPECT_LE((grads[k] - grads_ref[k]).abs().max().item<double>(), 1e-4) << "gradient " << k;

    // Inference takes another way on the CPU: each phase padded by exactly what it needs (oneDNN's
    // padding before and after apart), in either layout.
    at::NoGradGuard no_grad;
    for (const bool channels_last : {false, true}) {
        const at::Tensor xi = channels_last ? x.detach().contiguous(at::MemoryFormat::ChannelsLast) : x.detach();
        const at::Tensor y = conv_transpose2d_s2(xi, w.detach(), b.detach(), c.padding, c.output_padding);
        ASSERT_EQ(y.sizes(), ref.sizes());
        EXPECT_LE((y - ref.detach()).abs().max().item<double>(), 1e-5) << (channels_last ? "channels-last" : "NCHW");
    }
}

INSTANTIATE_TEST_SUITE_P(
    AllConfigurations, SubpixelTranspose,
    ::testing::Values(TransposeCase{3, 1, 1, 8, 8},   // bFT ResNet decoder
                      TransposeCase{3, 1, 1, 5, 7},   // ... odd sizes
                      TransposeCase{4, 1, 0, 8, 8},   // bFT U-Net decoder
                      TransposeCase{4, 1, 0, 1, 1},   // ... its innermost level
                      TransposeCase{4, 1, 0, 3, 6},
                      TransposeCase{3, 0, 0, 4, 5},   // odd output sizes (uneven phases)
                      TransposeCase{3, 1, 0, 6, 3},
                      TransposeCase{4, 2, 1, 5, 5},
                      TransposeCase{2, 0, 0, 4, 4},
                      TransposeCase{5, 2, 1, 3, 4},
                      TransposeCase{1, 0, 1, 3, 3})); // phases no tap reaches: bias only

// The phases of outputs larger than the caches go in by kernels::put_phase: each phase into its own
// rows and columns, uneven phases (odd output sizes), a batch and channels that are not whole cache
// lines included; refused where a phase does not fit.
TEST(PutPhase, WritesEachPhaseIntoItsRowsAndColumns)
{
    at::manual_seed(31);
    for (const int64_t c : {64, 24})
        for (const auto& size : {std::array<int64_t, 3>{1, 13, 17}, std::array<int64_t, 3>{2, 8, 6}}) {
            SCOPED_TRACE(::testing::Message() << c << " channels, " << size[0] << "x" << size[1] << "x" << size[2]);
            const auto cl = at::MemoryFormat::ChannelsLast;
            const at::Tensor want = at::randn({size[0], c, size[1], size[2]}).contiguous(cl);
            at::Tensor out = at::full_like(want, std::nanf(""));
            for (int64_t a = 0; a < 2; ++a)
                for (int64_t b = 0; b < 2; ++b) {
                    const at::Tensor phase = want.slice(2, a, size[1], 2).slice(3, b, size[2], 2).contiguous(cl);
                    ASSERT_TRUE(kernels::put_phase(phase, out, a, b));
                }
            EXPECT_TRUE(at::equal(out, want));
            const at::Tensor phase = want.slice(2, 0, size[1], 2).slice(3, 0, size[2], 2).contiguous(cl);
            if (size[1] % 2 == 1)
                EXPECT_FALSE(kernels::put_phase(phase, out, 1, 0)); // phase (1, 0) has a row fewer
            EXPECT_FALSE(kernels::put_phase(phase.to(at::kDouble), out, 0, 0));
            EXPECT_FALSE(kernels::put_phase(phase.contiguous(), out, 0, 0)); // NCHW
        }
    // Through the transposed convolution, an output of 16 MB (the pose decoder's last layer at 256).
    c10::InferenceMode inference;
    const at::Tensor x = at::randn({1, 32, 128, 128}).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor w = at::randn({32, 64, 3, 3}) / 10.0, b = at::randn({64});
    const at::Tensor ours = conv_transpose2d_s2(x, w, b, 1, 1);
    const at::Tensor ref = at::conv_transpose2d(x, w, b, 2, 1, 1);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_GT(ours.nbytes(), size_t{8} << 20);
    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-4);
}

// Training's im2col + GEMM convolutions (the U-Net's innermost levels) against LibTorch's.
struct GemmCase {
    bool transposed;
    int64_t k, stride, padding, output_padding, h, w;
    bool bias;
    int64_t n = 3;
    bool channels_last = false; // the input's layout
    bool input_grad = true;     // whether the input needs a gradient (a network's first layer does not)
};
void PrintTo(const GemmCase& c, std::ostream* os)
{
    *os << (c.transposed ? "transposed_k" : "k") << c.k << "_s" << c.stride << "_pad" << c.padding << "_outpad"
        << c.output_padding << "_" << c.n << "x" << c.h << "x" << c.w << (c.bias ? "_bias" : "")
        << (c.channels_last ? "_channels_last" : "") << (c.input_grad ? "" : "_no_input_grad");
}

class GemmConvolution : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmConvolution, MatchesLibTorchForwardAndBackward)
{
    const auto c = GetParam();
    at::manual_seed(11);
    at::Tensor x = at::randn({c.n, 6, c.h, c.w})
                       .contiguous(c.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous)
                       .requires_grad_(c.input_grad);
    at::Tensor w = (c.transposed ? at::randn({6, 5, c.k, c.k}) : at::randn({5, 6, c.k, c.k})).requires_grad_();
    at::Tensor b = c.bias ? at::randn({5}).requires_grad_() : at::Tensor();
    at::Tensor ref = c.transposed ? at::conv_transpose2d(x, w, b, c.stride, c.padding, c.output_padding)
                                  : at::conv2d(x, w, b, c.stride, c.padding);
    at::Tensor ours = c.transposed ? conv_transpose2d_gemm(x, w, b, c.stride, c.padding, c.output_padding)
                                   : conv2d_gemm(x, w, b, c.stride, c.padding);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-5);

    std::vector<at::Tensor> inputs{w};
    if (c.input_grad)
        inputs.push_back(x);
    if (c.bias)
        inputs.push_back(b);
    const at::Tensor g = at::randn(ref.sizes()).contiguous(c.channels_last ? at::MemoryFormat::ChannelsLast
                                                                          : at::MemoryFormat::Contiguous);
    auto grads_ref = torch::autograd::grad({ref}, inputs, {g});
    auto grads = torch::autograd::grad({ours}, inputs, {g});
    for (size_t k = 0; k < inputs.size(); ++k)
        EXPECT_LE((grads[k] - grads_ref[k]).abs().max().item<double>(), 1e-4) << "gradient " << k;
}

INSTANTIATE_TEST_SUITE_P(
    NetworkConfigurations, GemmConvolution,
    ::testing::Values(GemmCase{false, 4, 2, 1, 0, 2, 2, false},  // the U-Net's innermost down (to 1x1)
                      GemmCase{false, 4, 2, 1, 0, 8, 8, true},   // its 4x4 level
                      GemmCase{false, 4, 2, 1, 0, 5, 7, true},   // odd sizes
                      GemmCase{false, 3, 1, 1, 0, 4, 3, true},   // stride 1
                      GemmCase{false, 4, 2, 1, 0, 8, 8, true, 1}, // a batch of one (pixels as rows: a view)
                      GemmCase{false, 4, 2, 1, 0, 4, 4, true, 2, true},   // a channels-last input
                      GemmCase{false, 4, 2, 1, 0, 4, 6, false, 2, false, false}, // no input gradient
                      GemmCase{false, 4, 1, 1, 0, 6, 6, false},  // a 4x4 kernel at stride 1
                      GemmCase{true, 4, 2, 1, 0, 1, 1, true},    // the U-Net's innermost up (from 1x1)
                      GemmCase{true, 4, 2, 1, 0, 3, 6, false},
                      GemmCase{true, 3, 2, 1, 1, 5, 7, true},    // the ResNet decoder's, odd sizes
                      GemmCase{true, 3, 2, 1, 1, 8, 8, true, 1}, // ... a batch of one
                      GemmCase{true, 4, 2, 1, 0, 2, 2, true, 1},
                      GemmCase{true, 4, 2, 1, 0, 3, 3, true, 2, true},    // a channels-last input
                      GemmCase{true, 4, 2, 1, 0, 2, 5, false, 2, false, false}, // no input gradient
                      GemmCase{true, 3, 2, 0, 0, 4, 5, true},    // odd output sizes
                      GemmCase{true, 5, 2, 2, 1, 3, 4, false},
                      GemmCase{true, 1, 2, 0, 1, 3, 3, true},    // positions no tap reaches: bias only
                      GemmCase{true, 3, 1, 1, 0, 4, 4, true}));  // stride 1

// The FiLM bottlenecks' 1x1 convolutions in training (one GEMM per image and group) against
// LibTorch's: one and two groups, a batch of one and of three, odd sizes, a channels-last input and
// gradient, with and without an input gradient.
TEST(GemmConvolution1x1, MatchesLibTorchForwardAndBackward)
{
    at::manual_seed(12);
    for (const int64_t groups : {1, 2})
        for (const int64_t n : {1, 3})
            for (const bool channels_last : {false, true})
                for (const bool input_grad : {true, false}) {
                    SCOPED_TRACE(::testing::Message() << "groups " << groups << ", batch " << n
                                                      << (channels_last ? ", channels last" : "")
                                                      << (input_grad ? "" : ", no input gradient"));
                    const auto layout = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
                    const at::Tensor x = at::randn({n, 6, 5, 7}).contiguous(layout).requires_grad_(input_grad);
                    const at::Tensor w = at::randn({10, 6 / groups, 1, 1}).requires_grad_();
                    const at::Tensor b = at::randn({10}).requires_grad_();
                    const at::Tensor ref = at::conv2d(x, w, b, at::IntArrayRef{1}, at::IntArrayRef{0}, at::IntArrayRef{1}, groups);
                    const at::Tensor ours = conv1x1_gemm(x, w, b, groups);
                    ASSERT_EQ(ours.sizes(), ref.sizes());
                    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-5);
                    std::vector<at::Tensor> inputs{w, b};
                    if (input_grad)
                        inputs.push_back(x);
                    const at::Tensor g = at::randn(ref.sizes()).contiguous(layout);
                    const auto grads_ref = torch::autograd::grad({ref}, inputs, {g});
                    const auto grads = torch::autograd::grad({ours}, inputs, {g});
                    for (size_t k = 0; k < inputs.size(); ++k)
                        EXPECT_LE((grads[k] - grads_ref[k]).abs().max().item<double>(), 1e-4) << "gradient " << k;
                }
}

// A PatchGAN's last layer in training (a GEMM into every tap, then shifted sums) against LibTorch's
// convolution: one to three outputs, paddings 0 to 2, odd sizes, a batch of one and of three, with
// and without an input gradient, and without a bias.
TEST(GemmConvolutionTaps, MatchesLibTorchForwardAndBackward)
{
    at::manual_seed(5);
    for (const int64_t outputs : {1, 3})
        for (const int64_t padding : {0, 1, 2})
            for (const int64_t n : {1, 3})
                for (const bool input_grad : {true, false}) {
                    SCOPED_TRACE(::testing::Message() << outputs << " outputs, padding " << padding << ", batch " << n
                                                      << (input_grad ? "" : ", no input gradient"));
                    const at::Tensor x = at::randn({n, 20, 7, 6}).requires_grad_(input_grad);
                    const at::Tensor w = at::randn({outputs, 20, 4, 4}).requires_grad_();
                    const at::Tensor b = outputs == 3 ? at::Tensor() : at::randn({outputs}).requires_grad_();
                    const at::Tensor ref = at::conv2d(x, w, b, at::IntArrayRef{1}, at::IntArrayRef{padding});
                    const at::Tensor ours = conv2d_taps_gemm(x, w, b, padding);
                    ASSERT_EQ(ours.sizes(), ref.sizes());
                    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-4);
                    std::vector<at::Tensor> inputs{w};
                    if (b.defined())
                        inputs.push_back(b);
                    if (input_grad)
                        inputs.push_back(x);
                    const at::Tensor g = at::randn(ref.sizes());
                    const auto grads_ref = torch::autograd::grad({ref}, inputs, {g});
                    const auto grads = torch::autograd::grad({ours}, inputs, {g});
                    for (size_t k = 0; k < inputs.size(); ++k)
                        EXPECT_LE((grads[k] - grads_ref[k]).abs().max().item<double>(), 1e-4) << "gradient " << k;
                }
}

// Training's FiLM node (film_modulate_fused: statistics, modulation and ReLU as one autograd
// function) against the ATen formulation autograd differentiates: values and every gradient, with
// and without the ReLU, in float64 (the formulas) and float32 (their rounding), odd sizes, a batch
// of one and of three, a channels-last input, and the one-pixel-wide planes of the U-Net's inner levels.
TEST(FilmTraining, FusedNodeMatchesTheFormulaAndItsGradients)
{
    at::manual_seed(21);
    struct Shape {
        int64_t n, c, h, w;
    };
    for (const auto dtype : {at::kDouble, at::kFloat})
        for (const Shape s : {Shape{1, 3, 5, 7}, Shape{3, 4, 8, 8}, Shape{2, 5, 2, 1}, Shape{2, 16, 33, 31}})
            for (const bool relu : {false, true})
                for (const bool channels_last : {false, true}) {
                    SCOPED_TRACE(::testing::Message() << c10::toString(dtype) << " " << s.n << "x" << s.c << "x" << s.h
                                                      << "x" << s.w << (relu ? ", ReLU" : "")
                                                      << (channels_last ? ", channels last" : ""));
                    const auto layout = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
                    const auto opts = at::TensorOptions().dtype(dtype);
                    const at::Tensor x = (at::randn({s.n, s.c, s.h, s.w}, opts) * 2 + 0.5).contiguous(layout).requires_grad_();
                    const at::Tensor gb = at::randn({s.n, 2 * s.c, s.h, s.w}, opts).requires_grad_();
                    at::Tensor ref = film_modulate(x, gb.narrow(1, 0, s.c), gb.narrow(1, s.c, s.c));
                    if (relu)
                        ref = at::relu(ref);
                    const at::Tensor ours = film_modulate_fused(x, gb, relu);
                    ASSERT_EQ(ours.sizes(), ref.sizes());
                    const double tol = dtype == at::kDouble ? 1e-10 : 1e-4;
                    EXPECT_LE((ours - ref).abs().max().item<double>(), tol);
                    const at::Tensor g = at::randn(ref.sizes(), opts);
                    const auto grads_ref = torch::autograd::grad({ref}, {x, gb}, {g});
                    const auto grads = torch::autograd::grad({ours}, {x, gb}, {g});
                    for (size_t k = 0; k < 2; ++k)
                        EXPECT_LE((grads[k] - grads_ref[k]).abs().max().item<double>(), tol) << "gradient " << k;
                }
}

// Training's instance-norm node (instance_norm_fused: statistics, normalisation and an optional
// (leaky) ReLU as one autograd function) against LibTorch's instance norm and activations.
TEST(FilmTraining, FusedInstanceNormMatchesLibTorchAndItsGradients)
{
    at::manual_seed(22);
    for (const auto dtype : {at::kDouble, at::kFloat})
        for (const auto sizes : {std::vector<int64_t>{1, 3, 5, 7}, std::vector<int64_t>{3, 16, 33, 31},
                                 std::vector<int64_t>{2, 5, 2, 2}})
            for (const double slope : {-1.0, 0.0, 0.2}) { // -1: no activation
                SCOPED_TRACE(::testing::Message() << c10::toString(dtype) << " " << sizes[0] << "x" << sizes[1] << "x"
                                                  << sizes[2] << "x" << sizes[3] << ", slope " << slope);
                const at::Tensor x =
                    (at::randn(sizes, at::TensorOptions().dtype(dtype)) * 2 - 0.5).requires_grad_();
                at::Tensor ref = instance_norm(x);
                if (slope >= 0)
                    ref = at::leaky_relu(ref, slope);
                const at::Tensor ours = instance_norm_fused(x, slope >= 0, std::max(slope, 0.0));
                ASSERT_EQ(ours.sizes(), ref.sizes());
                const double tol = dtype == at::kDouble ? 1e-10 : 1e-4;
                EXPECT_LE((ours - ref).abs().max().item<double>(), tol);
                const at::Tensor g = at::randn(ref.sizes(), x.options());
                const at::Tensor grad_ref = torch::autograd::grad({ref}, {x}, {g})[0];
                const at::Tensor grad = torch::autograd::grad({ours}, {x}, {g})[0];
                EXPECT_LE((grad - grad_ref).abs().max().item<double>(), tol);
            }
}

// The ResNet trunk's padded norms (kernels::instance_norm_padded) against LibTorch's instance norm,
// ReLU, sum and reflection padding: the norms exactly (the same float operations), the sum within
// one rounding; the residual form in place in the padded map it is given.
TEST(ReflectPad, PaddedInstanceNormsMatchNormThenPad)
{
    at::manual_seed(17);
    c10::InferenceMode inference;
    for (const int64_t pad : {1, 2})
        for (const bool relu : {false, true}) {
            SCOPED_TRACE(::testing::Message() << "pad " << pad << (relu ? ", ReLU" : ""));
            const at::Tensor h = at::randn({2, 5, 9, 7}) * 3 + 1;
            at::Tensor norm = kernels::instance_norm(h, relu);
            EXPECT_LE((norm - (relu ? at::relu(instance_norm(h)) : instance_norm(h))).abs().max().item<double>(), 1e-5);
            const at::Tensor padded = kernels::instance_norm_padded(h, relu, pad);
            EXPECT_TRUE(at::equal(padded, at::reflection_pad2d(norm, {pad, pad, pad, pad})));
            const at::Tensor x = at::randn({2, 5, 9, 7});
            at::Tensor residual = at::reflection_pad2d(x, {pad, pad, pad, pad});
            const at::Tensor sum = kernels::instance_norm_padded(h, false, pad, residual);
            EXPECT_TRUE(sum.is_same(residual));
            // The sum may round once (an FMA) where norm-then-add rounds twice.
            const at::Tensor ref = at::reflection_pad2d(x + kernels::instance_norm(h, false), {pad, pad, pad, pad});
            EXPECT_LE((sum - ref).abs().max().item<double>(), 1e-6 * ref.abs().max().item<double>());
        }
    EXPECT_THROW(kernels::instance_norm_padded(at::randn({1, 2, 3, 3}), false, 1, at::zeros({1, 2, 4, 4})), Error);
}

// The channels-last trunk's block end (kernels::instance_norm_add): norm plus residual against the
// norm then the sum, per image of a batch, into a new map or over x; not for other layouts.
TEST(ReflectPad, ChannelsLastNormPlusResidualMatchesNormThenAdd)
{
    at::manual_seed(19);
    c10::InferenceMode inference;
    const auto cl = at::MemoryFormat::ChannelsLast;
    for (const auto& shape : {std::vector<int64_t>{2, 40, 9, 7}, std::vector<int64_t>{1, 512, 8, 8}}) {
        const at::Tensor h = (at::randn(shape) * 3 + 1).contiguous(cl);
        const at::Tensor x = at::randn(shape).contiguous(cl);
        const at::Tensor ref = x.to(at::kDouble) + instance_norm(h.to(at::kDouble));
        const auto close = [&](const at::Tensor& y) {
            ASSERT_TRUE(y.defined());
            EXPECT_TRUE(y.is_contiguous(cl));
            EXPECT_LE((y.to(at::kDouble) - ref).abs().max().item<double>(), 1e-5 * ref.abs().max().item<double>());
        };
        const at::Tensor fresh = kernels::instance_norm_add(h, x);
        close(fresh);
        EXPECT_FALSE(fresh.is_same(h));
        at::Tensor over = h.clone();
        const at::Tensor in_place = kernels::instance_norm_add(over, x, /*in_place=*/true);
        close(in_place);
        EXPECT_TRUE(in_place.is_same(over));
    }
    EXPECT_FALSE(kernels::instance_norm_add(at::randn({1, 4, 5, 5}), at::randn({1, 4, 5, 5})).defined()); // NCHW
    EXPECT_FALSE(kernels::instance_norm_add(at::randn({1, 4, 5, 5}).contiguous(cl), at::randn({1, 4, 5, 5})).defined());
}

// The engine's reflection padding against LibTorch's, in both layouts and precisions.
TEST(ReflectPad, MatchesLibTorchInEveryLayoutAndPrecision)
{
    at::manual_seed(3);
    for (const bool channels_last : {false, true})
        for (const auto dtype : {at::kFloat, at::kBFloat16})
            for (const int64_t c : {1, 5})
                for (const int64_t pad : {1, 3}) {
                    SCOPED_TRACE(testing::Message() << "channels_last " << channels_last << " dtype " << dtype << " C " << c
                                                    << " pad " << pad);
                    const at::Tensor x = at::randn({2, c, 7, 9});
                    const at::Tensor in = x.to(dtype).contiguous(channels_last ? at::MemoryFormat::ChannelsLast
                                                                               : at::MemoryFormat::Contiguous);
                    const at::Tensor ours = kernels::reflect_pad(in, pad);
                    // Copies only: exactly LibTorch's values (on the float copy of the same numbers).
                    const at::Tensor ref = at::reflection_pad2d(in.to(at::kFloat).contiguous(), {pad, pad, pad, pad});
                    ASSERT_EQ(ours.sizes(), ref.sizes());
                    EXPECT_EQ(ours.scalar_type(), dtype);
                    EXPECT_TRUE(at::equal(ours.to(at::kFloat), ref));
                    if (c > 1)
                        EXPECT_EQ(ours.is_contiguous(at::MemoryFormat::ChannelsLast) && !ours.is_contiguous(), channels_last);
                }
    EXPECT_THROW(kernels::reflect_pad(at::zeros({1, 2, 3, 8}), 3), Error); // as wide as the image
}

struct KernelCase {
    at::ScalarType dtype;
    bool channels_last;
    int64_t n, c, h, w;
};
void PrintTo(const KernelCase& k, std::ostream* os)
{
    *os << c10::toString(k.dtype) << (k.channels_last ? "_channels_last_" : "_nchw_") << k.n << "x" << k.c << "x" << k.h
        << "x" << k.w;
}

class FusedKernels : public ::testing::TestWithParam<KernelCase> {};

TEST_P(FusedKernels, MatchTheAtenFormulation)
{
    const auto k = GetParam();
    at::manual_seed(3);
    const auto fmt = k.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    at::Tensor x = (at::randn({k.n, k.c, k.h, k.w}) * 3 + 1).to(k.dtype).contiguous(fmt);
    at::Tensor gb = at::randn({k.n, 2 * k.c, k.h, k.w}).to(k.dtype).contiguous(fmt);
    const at::Tensor xf = x.to(at::kFloat), gbf = gb.to(at::kFloat);
    const at::Tensor ref = at::relu(film_modulate(xf, gbf.narrow(1, 0, k.c), gbf.narrow(1, k.c, k.c)));
    const at::Tensor ours = kernels::film_modulate(x, gb, /*relu=*/true);
    EXPECT_EQ(ours.scalar_type(), k.dtype);
    EXPECT_EQ(ours.sizes(), x.sizes());
    // fp32: summation order only; bf16: one rounding of the result (2^-8 relative).
    const double tol = k.dtype == at::kFloat ? 1e-5 : 0.02;
    EXPECT_LE((ours.to(at::kFloat) - ref).abs().max().item<double>(), tol * std::max(1.0, ref.abs().max().item<double>()));
    const at::Tensor ref_in = instance_norm(xf);
    EXPECT_LE((kernels::instance_norm(x, false).to(at::kFloat) - ref_in).abs().max().item<double>(), tol * 4);
    // The U-Net decoder's input: the skip's ReLU exactly, the norm's as above; channels-last out.
    const at::Tensor skip = at::randn({k.n, k.c + 3, k.h, k.w}).to(k.dtype).contiguous(fmt);
    const at::Tensor both = kernels::skip_concat(skip, x);
    ASSERT_EQ(both.sizes(), (std::vector<int64_t>{k.n, 2 * k.c + 3, k.h, k.w}));
    EXPECT_EQ(both.scalar_type(), k.dtype);
    EXPECT_TRUE(both.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(at::equal(both.narrow(1, 0, k.c + 3).to(at::kFloat), at::relu(skip.to(at::kFloat))));
    EXPECT_LE((both.narrow(1, k.c + 3, k.c).to(at::kFloat) - at::relu(ref_in)).abs().max().item<double>(), tol * 4);
    EXPECT_THROW(kernels::skip_concat(skip.narrow(2, 0, k.h - 1), x), Error); // maps of two sizes
}

INSTANTIATE_TEST_SUITE_P(
    LayoutsAndPrecisions, FusedKernels,
    ::testing::Values(KernelCase{at::kFloat, false, 1, 8, 37, 29}, KernelCase{at::kFloat, true, 1, 8, 37, 29},
                      KernelCase{at::kFloat, false, 2, 64, 64, 64}, KernelCase{at::kFloat, true, 2, 64, 64, 64},
                      KernelCase{at::kFloat, true, 1, 3, 130, 1}, KernelCase{at::kBFloat16, false, 1, 16, 33, 40},
                      KernelCase{at::kBFloat16, true, 2, 16, 33, 40}));

// The U-Net's last level in one kernel against its definition in float64: tanh(conv_transpose(
// ReLU(cat(skip, instance_norm(h))))) with stride 2, padding 1. Shapes: odd sizes, one pixel, a batch
// whose pixel blocks (256) cross images, NCHW and channels-last inputs, with and without a bias.
struct UnetOutputCase {
    int64_t n, skip_c, h_c, h, w, out_c;
    bool channels_last, bias;
};

class UnetOutput : public ::testing::TestWithParam<UnetOutputCase> {};

// ReLU(cat(skip, instance_norm(h))) in float64 (biased variance, + 1e-5): a U-Net decoder level's
// input by its definition.
at::Tensor decoder_input_double(const at::Tensor& skip, const at::Tensor& h)
{
    const at::Tensor hd = h.to(at::kDouble);
    const at::Tensor mean = hd.mean({2, 3}, true), var = (hd - mean).pow(2).mean({2, 3}, true);
    return at::relu(at::cat({skip.to(at::kDouble), (hd - mean) / at::sqrt(var + 1e-5)}, 1));
}

TEST_P(UnetOutput, MatchesTheLayersItReplaces)
{
    const auto k = GetParam();
    at::manual_seed(11);
    const auto fmt = k.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor skip = at::randn({k.n, k.skip_c, k.h, k.w}).contiguous(fmt);
    const at::Tensor h = (at::randn({k.n, k.h_c, k.h, k.w}) * 2 - 1).contiguous(fmt);
    const at::Tensor w = at::randn({k.skip_c + k.h_c, k.out_c, 4, 4}) * 0.1;
    const at::Tensor b = k.bias ? at::randn({k.out_c}) * 0.1 : at::Tensor();
    const at::Tensor in = decoder_input_double(skip, h);
    const at::Tensor ref =
        at::tanh(at::conv_transpose2d(in, w.to(at::kDouble), k.bias ? b.to(at::kDouble) : at::Tensor(), 2, 1));
    const at::Tensor ours = kernels::unet_output(skip, h, w, b);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_TRUE(ours.is_contiguous());
    EXPECT_LE((ours.to(at::kDouble) - ref).abs().max().item<double>(), 2e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, UnetOutput,
                         ::testing::Values(UnetOutputCase{1, 5, 3, 7, 9, 3, false, true},
                                           UnetOutputCase{1, 5, 3, 7, 9, 3, true, false},
                                           UnetOutputCase{2, 64, 64, 13, 11, 3, true, true},
                                           UnetOutputCase{3, 2, 1, 1, 1, 1, false, true},
                                           UnetOutputCase{1, 16, 16, 40, 33, 4, true, true}));

// Its tanh is its own (16 values at a time, in the rows' pass): over pre-activations up to about
// +-30, saturated ones included, still the float64 reference's.
TEST(UnetOutputChecks, SaturatesAsTanhDoes)
{
    at::manual_seed(12);
    const at::Tensor skip = at::randn({1, 16, 20, 17}), h = at::randn({1, 16, 20, 17});
    const at::Tensor w = at::randn({32, 3, 4, 4}), b = at::randn({3});
    const at::Tensor pre = at::conv_transpose2d(decoder_input_double(skip, h), w.to(at::kDouble), b.to(at::kDouble), 2, 1);
    ASSERT_GT(pre.abs().max().item<double>(), 15.0);
    const at::Tensor ours = kernels::unet_output(skip, h, w, b).to(at::kDouble);
    EXPECT_LE((ours - at::tanh(pre)).abs().max().item<double>(), 2e-5);
    EXPECT_LE(ours.abs().max().item<double>(), 1.0);
    EXPECT_GT((ours.abs() > 1.0 - 1e-6).sum().item<int64_t>(), 0);
}

TEST(UnetOutputChecks, RefuseWhatItCannotRun)
{
    const at::Tensor skip = at::randn({1, 4, 6, 6}), h = at::randn({1, 4, 6, 6});
    EXPECT_THROW(kernels::unet_output(skip, h.narrow(2, 0, 5), at::randn({8, 3, 4, 4}), {}), Error); // two sizes
    EXPECT_THROW(kernels::unet_output(skip, h, at::randn({7, 3, 4, 4}), {}), Error); // inputs != channels
    EXPECT_THROW(kernels::unet_output(skip, h, at::randn({8, 3, 3, 3}), {}), Error); // not 4 x 4
    EXPECT_THROW(kernels::unet_output(skip, h, at::randn({8, 3, 4, 4}), at::randn({2})), Error); // bias
    EXPECT_THROW(kernels::unet_output(skip.to(at::kDouble), h, at::randn({8, 3, 4, 4}), {}), Error);
    EXPECT_THROW(kernels::unet_output(skip.to(at::kBFloat16), h, at::randn({8, 3, 4, 4}), {}), Error); // mixed
}

// The bf16 preview's last layer: bf16 maps in, float32 out, as the float32 kernel on the same values
// but for the normalised rows' rounding to bf16 (skip_concat's in the preview): within 2^-8 of each
// input's size: measured 2.7e-3 at most, 4e-4 on average here; a tap or row off is off by far more.
TEST(UnetOutputChecks, TakesTheBf16PreviewsMaps)
{
    at::manual_seed(21);
    const auto cl = at::MemoryFormat::ChannelsLast;
    const at::Tensor skip = at::randn({2, 32, 9, 7}).to(at::kBFloat16).contiguous(cl);
    const at::Tensor h = (at::randn({2, 32, 9, 7}) * 3 + 1).to(at::kBFloat16).contiguous(cl);
    const at::Tensor w = at::randn({64, 3, 4, 4}) / 16, b = at::randn({3}) * 0.1;
    c10::InferenceMode inference;
    const at::Tensor got = kernels::unet_output(skip, h, w, b);
    const at::Tensor want = kernels::unet_output(skip.to(at::kFloat), h.to(at::kFloat), w, b);
    ASSERT_EQ(got.scalar_type(), at::kFloat);
    ASSERT_EQ(got.sizes(), want.sizes());
    const double err = (got - want).abs().max().item<double>();
    EXPECT_LE(err, 8e-3);
    EXPECT_GT(err, 0.0); // the rows really went through bf16
    EXPECT_LE((got - want).abs().mean().item<double>(), 1e-3);
}

// Features far from zero (a mean of 1000, unit spread, one pixel 50 away): statistics summed in one
// pass as sums of squares would lose the variance to rounding (about 6% here); the kernels' block
// moments, merged in fp64, match a double-precision reference on the same fp32 values.
TEST(FusedKernels, StatisticsHoldFarFromZero)
{
    at::manual_seed(11);
    for (const bool channels_last : {false, true}) {
        SCOPED_TRACE(channels_last ? "channels-last" : "NCHW");
        at::Tensor x = at::randn({1, 4, 48, 64}) + 1000;
        x.select(2, 0).select(2, 0).add_(50);
        const at::Tensor gb = at::randn({1, 8, 48, 64});
        const auto fmt = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
        const at::Tensor xd = x.to(at::kDouble), gbd = gb.to(at::kDouble);
        const at::Tensor mean = xd.mean({2, 3}, true);
        const at::Tensor ref_in = (xd - mean) / (xd.var({2, 3}, /*unbiased=*/false, true) + 1e-5).sqrt();
        const at::Tensor film = (xd - mean) / (xd.var({2, 3}, /*unbiased=*/true, true) + 1e-5).sqrt();
        const at::Tensor ref_film = gbd.narrow(1, 0, 4) * film + gbd.narrow(1, 4, 4);
        // fp32 resolves 1000 to 6e-5: that much error the input itself carries into (x - mean).
        const at::Tensor ours_in = kernels::instance_norm(x.contiguous(fmt), false).to(at::kDouble);
        EXPECT_LE((ours_in - ref_in).abs().max().item<double>(), 2e-4);
        const at::Tensor ours_film = kernels::film_modulate(x.contiguous(fmt), gb.contiguous(fmt), false).to(at::kDouble);
        EXPECT_LE((ours_film - ref_film).abs().max().item<double>(), 2e-4 * gb.abs().max().item<double>());
    }
}

// The FiLM bottleneck pair in blocks of pixels against the two convolutions it replaces (ReLU
// between, the second grouped), at sizes whose pixel count is no multiple of a block, and a batch.
TEST(FusedBottleneck, MatchesTheTwoConvolutions)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: the engine runs the two convolutions";
    at::manual_seed(5);
    for (const auto& s : {std::array<int64_t, 5>{1, 64, 37, 29, 100}, std::array<int64_t, 5>{2, 512, 9, 7, 100},
                          std::array<int64_t, 5>{3, 8, 5, 3, 3}}) {
        const int64_t n = s[0], c = s[1], h = s[2], w = s[3], depth = s[4];
        const at::Tensor x = at::randn({n, c, h, w}).contiguous(at::MemoryFormat::ChannelsLast);
        const at::Tensor w1 = at::randn({2 * depth, c, 1, 1}) / std::sqrt(double(c)), c1 = at::randn({2 * depth});
        const at::Tensor w2 = at::randn({2 * c, depth, 1, 1}) / std::sqrt(double(depth)), c2 = at::randn({2 * c});
        const int64_t one[] = {1, 1}, zero[] = {0, 0};
        const at::Tensor ref =
            at::conv2d(at::relu(at::conv2d(x.contiguous(), w1, c1)), w2, c2, one, zero, one, /*groups=*/2);
        const at::Tensor ours = kernels::film_bottleneck(x, w1, c1, w2, c2);
        ASSERT_TRUE(ours.defined());
        ASSERT_EQ(ours.sizes(), ref.sizes());
        EXPECT_TRUE(ours.is_contiguous(at::MemoryFormat::ChannelsLast));
        EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-5 * std::max(1.0, ref.abs().max().item<double>()))
            << n << "x" << c << "x" << h << "x" << w;
    }
    // What it does not run, the engine runs as before: NCHW input, other dtypes.
    const at::Tensor w1 = at::randn({8, 4, 1, 1}), c1 = at::randn({8}), w2 = at::randn({8, 4, 1, 1}), c2 = at::randn({8});
    EXPECT_FALSE(kernels::film_bottleneck(at::randn({1, 4, 6, 6}), w1, c1, w2, c2).defined());
    EXPECT_FALSE(kernels::film_bottleneck(at::randn({1, 4, 6, 6}).to(at::kDouble).contiguous(at::MemoryFormat::ChannelsLast),
                                          w1, c1, w2, c2)
                     .defined());
    EXPECT_THROW(kernels::film_bottleneck(at::randn({1, 5, 6, 6}).contiguous(at::MemoryFormat::ChannelsLast), w1, c1, w2, c2),
                 Error); // channels differ from the weight's
}

// The pair by our own blocks (kernels::pointwise_pair_rows) against the formula in float64: hidden
// widths of 1 to 13 vectors and outputs per group of 1 to 8 (every block shape and the column
// chunking), row counts that leave every block size short, one and two groups, hidden padding.
TEST(FusedBottleneck, OwnBlocksMatchTheFormula)
{
    if (!kernels::pointwise_pair_fits(64, 200, 128, 2))
        GTEST_SKIP() << "no AVX-512 here: oneDNN's or the GEMM path runs the pair";
    at::manual_seed(11);
    struct Case {
        int64_t in, hidden, groups, out, pixels;
    };
    for (const Case k : {Case{64, 200, 2, 128, 37}, Case{3, 40, 1, 16, 1}, Case{16, 96, 2, 64, 5}, Case{7, 112, 1, 96, 13},
                         Case{5, 16, 1, 112, 8}, Case{9, 32, 2, 160, 19}, Case{512, 200, 2, 1024, 6}, Case{33, 24, 1, 80, 3}}) {
        ASSERT_TRUE(kernels::pointwise_pair_fits(k.in, k.hidden, k.out, k.groups));
        const int64_t kh = k.hidden / k.groups, og = k.out / k.groups;
        const at::Tensor x = at::randn({k.pixels, k.in});
        const at::Tensor w1 = at::randn({k.hidden, k.in, 1, 1}) / std::sqrt(double(k.in)), c1 = at::randn({k.hidden});
        const at::Tensor w2 = at::randn({k.out, kh, 1, 1}) / std::sqrt(double(kh)), c2 = at::randn({k.out});
        const int64_t stride = kernels::pointwise_pair_hidden_stride(k.hidden);
        at::Tensor bias1 = at::zeros({stride});
        bias1.narrow(0, 0, k.hidden).copy_(c1);
        const at::Tensor a = kernels::pack_pointwise_pair_first(w1), b = kernels::pack_pointwise_pair_second(w2, k.groups);
        at::Tensor hid = at::full({k.pixels, stride}, std::nanf("")), y = at::full({k.pixels, k.out}, std::nanf(""));
        kernels::pointwise_pair_rows(x.data_ptr<float>(), k.pixels, k.in, a.data_ptr<float>(), bias1.data_ptr<float>(),
                                     k.hidden, b.data_ptr<float>(), c2.data_ptr<float>(), k.groups, k.out,
                                     hid.data_ptr<float>(), y.data_ptr<float>());
        auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
        const at::Tensor h = at::relu(at::matmul(d(x), d(w1).reshape({k.hidden, k.in}).t()) + d(c1));
        std::vector<at::Tensor> parts;
        for (int64_t g = 0; g < k.groups; ++g)
            parts.push_back(at::matmul(h.narrow(1, g * kh, kh), d(w2).reshape({k.out, kh}).narrow(0, g * og, og).t()));
        const at::Tensor ref = at::cat(parts, 1) + d(c2);
        EXPECT_LE((d(y) - ref).abs().max().item<double>(), 1e-5 * std::max(1.0, ref.abs().max().item<double>()))
            << k.in << " -> " << k.hidden << " -> " << k.out << " in " << k.groups << " groups, " << k.pixels << " rows";
        EXPECT_LE((d(hid).narrow(1, 0, k.hidden) - h).abs().max().item<double>(),
                  1e-5 * std::max(1.0, h.abs().max().item<double>()));
    }
    EXPECT_FALSE(kernels::pointwise_pair_fits(64, 200, 100, 2)); // 50 outputs per group: no whole vectors
    EXPECT_FALSE(kernels::pointwise_pair_fits(64, 201, 128, 2)); // hidden channels that do not split in two
}

// The same pair slice by slice of pixels, through oneDNN's channels-last 1x1 kernels and (fp32 on
// maps of 256+ pixels: the first and last shapes) through ours: slices that cross image
// boundaries, a short last slice, fp32 and bf16; and the slices handed to a consumer, which must
// together be the whole result.
TEST(FusedBottleneck, OneDnnSlicesMatchTheTwoConvolutions)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: the engine runs the two convolutions";
    at::manual_seed(6);
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    bool ran = false;
    for (const at::ScalarType t : {at::kFloat, at::kBFloat16}) {
        for (const auto& s : {std::array<int64_t, 5>{1, 64, 37, 29, 100}, std::array<int64_t, 5>{2, 512, 9, 7, 100},
                              std::array<int64_t, 5>{3, 8, 5, 3, 3}, std::array<int64_t, 5>{1, 64, 64, 61, 100}}) {
            const int64_t n = s[0], c = s[1], h = s[2], w = s[3], depth = s[4];
            const at::Tensor x = at::randn({n, c, h, w}).to(t).contiguous(at::MemoryFormat::ChannelsLast);
            const at::Tensor w1 = (at::randn({2 * depth, c, 1, 1}) / std::sqrt(double(c))).to(t), c1 = at::randn({2 * depth}).to(t);
            const at::Tensor w2 = (at::randn({2 * c, depth, 1, 1}) / std::sqrt(double(depth))).to(t), c2 = at::randn({2 * c}).to(t);
            for (const bool own : {true, false}) {
                SCOPED_TRACE(own ? "our kernel where it runs" : "oneDNN's");
                const at::Tensor ours = onednn::pointwise_pair(x, w1, c1, w2, c2, 2, own);
                if (!ours.defined())
                    continue; // no channels-last 1x1 kernels on this CPU (AVX2): kernels::film_bottleneck runs
                ran = true;
                // The reference in fp32 from the same (rounded) values; bf16 rounds the hidden map too.
                auto f = [](const at::Tensor& v) { return v.to(at::kFloat).contiguous(); };
                const at::Tensor ref =
                    at::conv2d(at::relu(at::conv2d(f(x), f(w1), f(c1))), f(w2), f(c2), one, zero, one, /*groups=*/2);
                ASSERT_EQ(ours.sizes(), ref.sizes());
                EXPECT_EQ(ours.scalar_type(), t);
                EXPECT_TRUE(ours.is_contiguous(at::MemoryFormat::ChannelsLast));
                const double tol = t == at::kFloat ? 1e-5 : 2e-2;
                EXPECT_LE((f(ours) - ref).abs().max().item<double>(), tol * std::max(1.0, ref.abs().max().item<double>()))
                    << at::toString(t) << " " << n << "x" << c << "x" << h << "x" << w;
                // The consumer's slices, from several threads, laid side by side: exactly the result.
                at::Tensor rows = at::full({n * h * w, 2 * c}, std::nanf("")).to(t);
                std::mutex m;
                int readies = 0;
                const bool sliced = onednn::pointwise_pair_slices(
                    x, w1, c1, w2, c2, 2,
                    [&](int64_t first, int64_t pixels, const void* data) {
                        std::lock_guard<std::mutex> lock(m);
                        std::memcpy(static_cast<char*>(rows.data_ptr()) + first * 2 * c * rows.element_size(), data,
                                    static_cast<size_t>(pixels * 2 * c * rows.element_size()));
                    },
                    [&] { ++readies; }, own);
                ASSERT_TRUE(sliced);
                EXPECT_EQ(readies, 1);
                EXPECT_TRUE(at::equal(rows, ours.permute({0, 2, 3, 1}).reshape({n * h * w, 2 * c})));
            }
        }
    }
    if (!ran)
        GTEST_SKIP() << "oneDNN has no channels-last 1x1 kernels on this CPU";
    // What it does not take: NCHW input, mismatched weights, a dtype mix.
    const at::Tensor w1 = at::randn({8, 4, 1, 1}), c1 = at::randn({8}), w2 = at::randn({8, 4, 1, 1}), c2 = at::randn({8});
    const at::Tensor cl = at::randn({1, 4, 6, 6}).contiguous(at::MemoryFormat::ChannelsLast);
    EXPECT_FALSE(onednn::pointwise_pair(at::randn({1, 4, 6, 5}), w1, c1, w2, c2, 2).defined());
    EXPECT_FALSE(onednn::pointwise_pair(at::randn({1, 5, 6, 6}).contiguous(at::MemoryFormat::ChannelsLast), w1, c1, w2, c2, 2)
                     .defined());
    EXPECT_FALSE(onednn::pointwise_pair(cl, w1.to(at::kBFloat16), c1, w2, c2, 2).defined());
    EXPECT_TRUE(onednn::pointwise_pair(cl, w1, c1, w2, c2, 2).defined());
}

struct DirectCase {
    at::ScalarType dtype;
    int64_t n, c, h, w, o, k, stride, padding, groups;
    bool channels_last;
};
void PrintTo(const DirectCase& d, std::ostream* os)
{
    *os << c10::toString(d.dtype) << "_" << d.n << "x" << d.c << "x" << d.h << "x" << d.w << "_to_" << d.o << "_k" << d.k
        << "_s" << d.stride << "_pad" << d.padding << "_g" << d.groups << (d.channels_last ? "_channels_last" : "_nchw");
}

class PackedConvolution : public ::testing::TestWithParam<DirectCase> {};

// oneDNN's direct convolutions with packed weights, against LibTorch's, in every configuration the
// generators use; and the packed weight follows in-place changes of the weight (training steps).
TEST_P(PackedConvolution, MatchesLibTorchAndFollowsTheWeight)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API";
    const auto k = GetParam();
    if (k.dtype == at::kBFloat16 && !bf16_supported(c10::Device(c10::kCPU)))
        GTEST_SKIP() << "this CPU has no AVX512-BF16";
    at::manual_seed(17);
    const auto fmt = k.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor x = at::randn({k.n, k.c, k.h, k.w}).to(k.dtype).contiguous(fmt);
    at::Tensor w = (at::randn({k.o, k.c / k.groups, k.k, k.k}) / std::sqrt(static_cast<double>(k.c / k.groups * k.k * k.k))).to(k.dtype);
    const at::Tensor b = (at::randn({k.o}) * 0.1).to(k.dtype);
    const int64_t stride[] = {k.stride, k.stride}, padding[] = {k.padding, k.padding};
    auto check = [&] {
        c10::InferenceMode inference;
        const at::Tensor ours = onednn::conv2d(x, w, b, stride, padding, k.groups);
        ASSERT_TRUE(ours.defined());
        const at::Tensor ref = at::conv2d(x.to(at::kFloat), w.to(at::kFloat), b.to(at::kFloat), stride, padding, 1, k.groups);
        ASSERT_EQ(ours.sizes(), ref.sizes());
        EXPECT_EQ(ours.is_contiguous(fmt), true) << "the result keeps the input's layout";
        const double tol = k.dtype == at::kFloat ? 1e-5 : 0.02; // bf16: one rounding of the result
        EXPECT_LE((ours.to(at::kFloat) - ref).abs().max().item<double>(), tol * std::max(1.0, ref.abs().max().item<double>()));
        // With the ReLU fused into the kernel (the FiLM bottlenecks' first layer).
        const at::Tensor fused = onednn::conv2d(x, w, b, stride, padding, k.groups, onednn::Algorithm::Direct, /*relu=*/true);
        ASSERT_TRUE(fused.defined());
        EXPECT_LE((fused.to(at::kFloat) - at::relu(ref)).abs().max().item<double>(),
                  tol * std::max(1.0, ref.abs().max().item<double>()));
    };
    check();
    check(); // from the packed weight
    w.mul_(-0.5); // an optimizer step, in place: the packed copy must follow
    check();
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, PackedConvolution,
    ::testing::Values(DirectCase{at::kFloat, 1, 18, 38, 30, 64, 7, 1, 0, 1, true},     // ResNet stem (reflect-padded)
                      DirectCase{at::kFloat, 2, 64, 33, 20, 128, 3, 2, 1, 1, true},    // ResNet down, odd sizes
                      DirectCase{at::kFloat, 1, 64, 16, 16, 200, 1, 1, 0, 1, true},    // fused bottleneck, first
                      DirectCase{at::kFloat, 1, 200, 16, 16, 128, 1, 1, 0, 2, true},   // ... and grouped second
                      DirectCase{at::kFloat, 1, 512, 2, 2, 512, 4, 2, 1, 1, false},    // U-Net inner down, NCHW
                      DirectCase{at::kFloat, 1, 1024, 1, 1, 512, 2, 1, 1, 1, false},   // a sub-pixel phase at 1x1
                      DirectCase{at::kFloat, 1, 1, 32, 24, 16, 4, 2, 1, 1, false},     // one input channel
                      DirectCase{at::kBFloat16, 1, 64, 17, 23, 128, 3, 1, 1, 1, true}, // the bf16 preview
                      DirectCase{at::kBFloat16, 1, 256, 4, 4, 256, 4, 2, 1, 1, false}));

struct TapsCase {
    int64_t n, c, h, w, o, k;
    bool channels_last, bias;
};
void PrintTo(const TapsCase& t, std::ostream* os)
{
    *os << t.n << "x" << t.c << "x" << t.h << "x" << t.w << "_to_" << t.o << "_k" << t.k
        << (t.channels_last ? "_channels_last" : "_nchw") << (t.bias ? "_bias" : "");
}

class ConvolutionByTaps : public ::testing::TestWithParam<TapsCase> {};

TEST_P(ConvolutionByTaps, MatchesTheDirectConvolution)
{
    const auto t = GetParam();
    at::manual_seed(13);
    const auto fmt = t.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor x = at::randn({t.n, t.c, t.h, t.w}).contiguous(fmt);
    const at::Tensor w = at::randn({t.o, t.c, t.k, t.k}) / std::sqrt(static_cast<double>(t.c * t.k * t.k));
    const at::Tensor b = t.bias ? at::randn({t.o}) : at::Tensor();
    c10::InferenceMode inference;
    const at::Tensor ours = conv2d_by_taps(x, tap_weights(w), t.k, b);
    const at::Tensor ref = at::conv2d(x.contiguous(), w, b);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-5 * std::max(1.0, ref.abs().max().item<double>()));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvolutionByTaps,
    ::testing::Values(TapsCase{1, 64, 262, 262, 3, 7, false, true}, // the pose and texture ResNets' last layer
                      TapsCase{2, 64, 21, 30, 1, 7, true, true},    // depth's, a batch, odd sizes
                      TapsCase{1, 16, 9, 12, 4, 5, false, false},
                      TapsCase{1, 16, 5, 5, 2, 5, false, true},    // one output pixel
                      TapsCase{2, 32, 12, 37, 2, 7, true, false},  // rows that end in part blocks
                      TapsCase{1, 48, 10, 29, 4, 5, true, true},
                      TapsCase{1, 20, 9, 11, 3, 5, true, true}));  // 20 channels: the 1x1 + tap-sum path

// The direct kernel behind conv2d_by_taps runs wherever the CPU has AVX2 (or AVX-512) and the
// channels fill its vectors: otherwise the fast path would be silently dead. Its AVX2 twin runs
// here too (forced), for every output count and rows that end in part blocks, on AVX-512 machines.
TEST(ConvolutionByTaps, DirectKernelRunsOnVectorCpus)
{
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        GTEST_SKIP() << "no AVX2 with FMA on this CPU";
    c10::InferenceMode inference;
    at::manual_seed(5);
    for (const bool avx2_only : {false, true})
        for (const int64_t o : {1, 2, 3, 4}) {
            SCOPED_TRACE(::testing::Message() << o << " outputs" << (avx2_only ? ", AVX2 kernel" : ""));
            const at::Tensor x = at::randn({1, 64, 13, 19}).contiguous(at::MemoryFormat::ChannelsLast);
            const at::Tensor w = at::randn({o, 64, 7, 7}) / std::sqrt(64.0 * 49.0);
            const at::Tensor b = at::randn({o});
            const at::Tensor y = kernels::conv_few_outputs(x, tap_weights(w), 7, b, avx2_only);
            ASSERT_TRUE(y.defined());
            const at::Tensor ref = at::conv2d(x.contiguous().to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble));
            EXPECT_LE((y.to(at::kDouble) - ref).abs().max().item<double>(),
                      1e-5 * std::max(1.0, ref.abs().max().item<double>()));
        }
    // Reflection-padded as it reads (the ResNets' last layer): against reflect_pad then the same
    // kernel, bit for bit, and LibTorch; a batch of two (rows of both images in the threads' rings),
    // both kernels, padding 1 to 3, maps as small as the padding allows.
    for (const bool avx2_only : {false, true})
        for (const auto& shape : {std::array<int64_t, 4>{1, 13, 19, 3}, std::array<int64_t, 4>{2, 9, 6, 3},
                                  std::array<int64_t, 4>{1, 4, 4, 3}, std::array<int64_t, 4>{1, 5, 8, 1}}) {
            SCOPED_TRACE(::testing::Message() << shape[0] << "x" << shape[1] << "x" << shape[2] << " reflect "
                                              << shape[3] << (avx2_only ? ", AVX2 kernel" : ""));
            const int64_t k = shape[3] == 1 ? 3 : 7;
            const at::Tensor x = at::randn({shape[0], 32, shape[1], shape[2]}).contiguous(at::MemoryFormat::ChannelsLast);
            const at::Tensor w = at::randn({3, 32, k, k}) / std::sqrt(32.0 * k * k), b = at::randn({3});
            const at::Tensor y = kernels::conv_few_outputs(x, tap_weights(w), k, b, avx2_only, shape[3]);
            ASSERT_TRUE(y.defined());
            const at::Tensor padded = kernels::reflect_pad(x, shape[3]);
            EXPECT_TRUE(at::equal(y, kernels::conv_few_outputs(padded, tap_weights(w), k, b, avx2_only)));
            const int64_t r = shape[3];
            const at::Tensor ref = at::conv2d(at::reflection_pad2d(x.contiguous().to(at::kDouble), {r, r, r, r}),
                                              w.to(at::kDouble), b.to(at::kDouble));
            EXPECT_LE((y.to(at::kDouble) - ref).abs().max().item<double>(),
                      1e-5 * std::max(1.0, ref.abs().max().item<double>()));
        }
    const at::Tensor x = at::randn({1, 64, 13, 13}).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor w = at::randn({3, 64, 7, 7});
    // Reflection by as much as the map's size or more: refused, as reflect_pad refuses it.
    EXPECT_FALSE(kernels::conv_few_outputs(x.narrow(2, 0, 3), tap_weights(w), 7, at::Tensor(), false, 3).defined());
    // Not for it: more outputs than its registers hold, channels that do not fill a vector.
    EXPECT_FALSE(kernels::conv_few_outputs(x, tap_weights(at::randn({5, 64, 7, 7})), 7, at::Tensor()).defined());
    EXPECT_FALSE(kernels::conv_few_outputs(x.narrow(1, 0, 20), tap_weights(w.narrow(1, 0, 20)), 7, at::Tensor()).defined());
#else
    GTEST_SKIP() << "x86-64 only";
#endif
}

// A convolution of keypoint-like maps (a few small discs, the rest zeros) by the nonzero values'
// contributions, against LibTorch in float64: discs at the borders (the reflection padding's copies),
// a batch of two, with and without a bias; dense maps are refused.
TEST(SparseInputConv, MatchesTheDenseConvolution)
{
    c10::InferenceMode inference;
    at::manual_seed(12);
    for (const int64_t n : {1, 2})
        for (const bool bias : {true, false}) {
            SCOPED_TRACE(::testing::Message() << "batch " << n << (bias ? " bias" : ""));
            at::Tensor maps = at::zeros({n, 18, 40, 37});
            for (int64_t i = 0; i < n; ++i)
                for (int64_t c = 0; c < 18; ++c) {
                    const int64_t y = (c * 7 + i * 3) % 40, x = (c * 11 + i * 5) % 37; // corners and edges included
                    maps[i][c].narrow(0, std::max<int64_t>(0, y - 2), 3).narrow(1, std::max<int64_t>(0, x - 2), 3).fill_(1.0);
                }
            maps[0][3][0][0] = -0.5; // a value of the other sign
            const at::Tensor x = at::reflection_pad2d(maps, {3, 3, 3, 3}).contiguous(at::MemoryFormat::ChannelsLast);
            const at::Tensor w = at::randn({16, 18, 7, 7}) / 20.0, b = bias ? at::randn({16}) : at::Tensor();
            const kernels::SparseInput in = kernels::sparse_input(x, 0.05);
            ASSERT_TRUE(in.valid);
            const at::Tensor y = kernels::sparse_input_conv(in, kernels::pack_sparse_input_conv(w), b);
            const at::Tensor ref =
                at::conv2d(x.to(at::kDouble), w.to(at::kDouble), bias ? b.to(at::kDouble) : at::Tensor());
            ASSERT_TRUE(y.defined());
            ASSERT_EQ(y.sizes(), ref.sizes());
            EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast));
            EXPECT_LE((y.to(at::kDouble) - ref).abs().max().item<double>(), 1e-5 * std::max(1.0, ref.abs().max().item<double>()));
            EXPECT_GT(ref.abs().max().item<double>(), 0.1); // the discs reach the output
        }
    EXPECT_FALSE(kernels::sparse_input(at::randn({1, 3, 16, 16}), 0.01).valid); // an image: dense
    EXPECT_FALSE(kernels::sparse_input(at::zeros({1, 3, 16, 16}, at::kDouble), 0.01).valid); // float32 only
    EXPECT_TRUE(kernels::sparse_input(at::zeros({1, 3, 16, 16}), 0.01).valid); // nothing at all: bias only
}

// The bf16 preview's guide stem: the float32 scatter, its result rounded once to bf16 (the dense bf16
// convolution would round the weights as well), the layout the encoder expects.
TEST(SparseInputConv, Bf16PreviewStemIsTheFloat32OneRounded)
{
    if (!bf16_supported(c10::Device(c10::kCPU)))
        GTEST_SKIP() << "this CPU has no AVX512-BF16";
    at::manual_seed(13);
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(18, 64, 7)); // a parameter, as the stems' (outside inference mode)
    c10::InferenceMode inference;
    at::Tensor maps = at::zeros({1, 18, 40, 37});
    for (int64_t c = 0; c < 18; ++c)
        maps[0][c].narrow(0, (c * 7) % 38, 3).narrow(1, (c * 11) % 35, 3).fill_(1.0);
    WeightCache cache;
    ForwardOptions o;
    o.precision = Precision::BF16;
    Ops ops(o, cache, maps);
    const at::Tensor y = ops.conv_sparse_input(ops.prepare(maps, /*channels_last=*/true), *conv);
    EXPECT_EQ(y.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast));
    const at::Tensor ref = at::conv2d(maps.to(at::kDouble), conv->weight.to(at::kDouble), conv->bias.to(at::kDouble));
    ASSERT_EQ(y.sizes(), ref.sizes());
    const at::Tensor err = (y.to(at::kDouble) - ref).abs() - ref.abs() * std::ldexp(1.0, -8); // one rounding
    EXPECT_LE(err.max().item<double>(), 1e-6);
}

// The small-map kernels (the U-Net's innermost layers at batch 1) against LibTorch in float64: the
// encoder's 4x4 stride-2 convolutions and stride-2 transposed ones (phase by phase) from 1 to 16
// output positions (a batch of two included, rows padded to a power of two, taps that only reach
// padding skipped), a 3x3 stride-1 one, with and without a bias; the wide kernel from 17 to 64
// positions (blocks of 6 positions and 1 to 4 vectors of channels, in channels in blocks of 128
// and a shorter last); and not where positions exceed 64. Weights packed as bf16 (the preview) up
// to 16 positions, against the rounded weights in float64, and not beyond.
TEST(SmallMapKernels, MatchLibTorchFromOneToSixtyFourPositions)
{
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("avx512f"))
        GTEST_SKIP() << "no AVX-512 on this CPU";
    c10::InferenceMode inference;
    at::manual_seed(9);
    auto close = [](const at::Tensor& y, const at::Tensor& ref) {
        ASSERT_TRUE(y.defined());
        ASSERT_EQ(y.sizes(), ref.sizes());
        EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast));
        EXPECT_LE((y.to(at::kDouble) - ref).abs().max().item<double>(), 1e-5 * std::max(1.0, ref.abs().max().item<double>()));
    };
    struct Conv {
        int64_t n, h, w, k, stride, padding;
    };
    struct Channels {
        int64_t in, out;
    };
    for (const Conv c : {Conv{1, 2, 2, 4, 2, 1}, Conv{1, 4, 4, 4, 2, 1}, Conv{1, 8, 8, 4, 2, 1}, Conv{2, 4, 4, 4, 2, 1},
                         Conv{1, 6, 5, 4, 2, 1}, Conv{1, 4, 4, 3, 1, 1}, Conv{1, 16, 16, 4, 2, 1}, Conv{2, 6, 10, 4, 2, 1},
                         Conv{1, 7, 9, 3, 1, 1}})
        for (const Channels ch : {Channels{24, 32}, Channels{136, 48}, Channels{16, 80}})
        for (const bool bias : {true, false}) {
            SCOPED_TRACE(::testing::Message() << "conv " << c.n << "x" << c.h << "x" << c.w << " k" << c.k << " s"
                                              << c.stride << " " << ch.in << " -> " << ch.out << (bias ? " bias" : ""));
            const at::Tensor x = at::randn({c.n, ch.in, c.h, c.w}).contiguous(at::MemoryFormat::ChannelsLast);
            const at::Tensor w = at::randn({ch.out, ch.in, c.k, c.k}) / 20.0;
            const at::Tensor b = bias ? at::randn({ch.out}) : at::Tensor();
            const at::Tensor ref = at::conv2d(x.to(at::kDouble), w.to(at::kDouble), bias ? b.to(at::kDouble) : at::Tensor(),
                                              at::IntArrayRef{c.stride}, at::IntArrayRef{c.padding});
            close(kernels::small_map_conv(x, kernels::pack_small_map_conv(w), c.k, c.stride, c.padding, b), ref);
            // Weights packed as bf16 (the preview), up to 16 positions: exact sums of the rounded weights.
            const at::Tensor w16 = w.to(at::kBFloat16).to(at::kDouble);
            const at::Tensor y16 = kernels::small_map_conv(x, kernels::pack_small_map_conv(w, true), c.k, c.stride, c.padding, b);
            if (c.n * ref.size(2) * ref.size(3) <= 16)
                close(y16, at::conv2d(x.to(at::kDouble), w16, bias ? b.to(at::kDouble) : at::Tensor(),
                                      at::IntArrayRef{c.stride}, at::IntArrayRef{c.padding}));
            else
                EXPECT_FALSE(y16.defined());
        }
    // Transposed, stride 2: the U-Net's (k 4, padding 1) and every other kernel, padding and output
    // padding phase_taps handles (first taps that start before or after the input, phases of unequal
    // size: k 3 without output padding, phases no tap reaches: k 1), through the phase weights the
    // engine's other path uses.
    struct Transposed {
        int64_t k, padding, output_padding;
    };
    for (const Transposed t : {Transposed{4, 1, 0}, Transposed{3, 1, 1}, Transposed{3, 1, 0}, Transposed{1, 0, 1},
                               Transposed{5, 2, 1}, Transposed{2, 0, 0}})
        for (const auto& shape : {std::vector<int64_t>{1, 1, 1}, std::vector<int64_t>{1, 2, 2}, std::vector<int64_t>{1, 4, 4},
                                  std::vector<int64_t>{2, 2, 2}, std::vector<int64_t>{1, 3, 2}, std::vector<int64_t>{1, 8, 8},
                                  std::vector<int64_t>{2, 4, 5}})
            for (const bool bias : {true, false}) {
                SCOPED_TRACE(::testing::Message() << "transposed k" << t.k << " p" << t.padding << " op" << t.output_padding
                                                  << " " << shape[0] << "x" << shape[1] << "x" << shape[2]
                                                  << (bias ? " bias" : ""));
                const at::Tensor x = at::randn({shape[0], 24, shape[1], shape[2]}).contiguous(at::MemoryFormat::ChannelsLast);
                const at::Tensor w = at::randn({24, 48, t.k, t.k}) / 20.0;
                const at::Tensor b = bias ? at::randn({48}) : at::Tensor();
                const at::Tensor ref = at::conv_transpose2d(x.to(at::kDouble), w.to(at::kDouble),
                                                            bias ? b.to(at::kDouble) : at::Tensor(), 2, t.padding,
                                                            t.output_padding);
                close(conv_transpose2d_s2_small_map(x, small_map_phases(w, t.padding), t.k, b, t.padding, t.output_padding),
                      ref);
                if (shape[0] * shape[1] * shape[2] <= 16) // at most 16 positions a phase: bf16 weights too
                    close(conv_transpose2d_s2_small_map(x, small_map_phases(w, t.padding, true), t.k, b, t.padding,
                                                        t.output_padding),
                          at::conv_transpose2d(x.to(at::kDouble), w.to(at::kBFloat16).to(at::kDouble),
                                               bias ? b.to(at::kDouble) : at::Tensor(), 2, t.padding, t.output_padding));
            }
    EXPECT_FALSE(conv_transpose2d_s2_small_map(at::randn({1, 24, 9, 9}).contiguous(at::MemoryFormat::ChannelsLast),
                                               small_map_phases(at::randn({24, 48, 4, 4}), 1), 4, {}, 1, 0)
                     .defined()); // 81 positions per phase
    EXPECT_FALSE(conv_transpose2d_s2_small_map(at::randn({1, 24, 5, 5}).contiguous(at::MemoryFormat::ChannelsLast),
                                               small_map_phases(at::randn({24, 48, 4, 4}), 1, true), 4, {}, 1, 0)
                     .defined()); // 25 positions per phase: more than bf16 weights run
    const at::Tensor wide = at::randn({1, 24, 18, 18}).contiguous(at::MemoryFormat::ChannelsLast); // 81 positions
    EXPECT_FALSE(kernels::small_map_conv(wide, kernels::pack_small_map_conv(at::randn({32, 24, 4, 4})), 4, 2, 1, {}).defined());
#else
    GTEST_SKIP() << "x86-64 only";
#endif
}

struct WinogradCase {
    int64_t n, c, h, w, o;
    bool channels_last, bias;
};
void PrintTo(const WinogradCase& k, std::ostream* os)
{
    *os << k.n << "x" << k.c << "x" << k.h << "x" << k.w << "_to_" << k.o << (k.channels_last ? "_channels_last" : "_nchw")
        << (k.bias ? "_bias" : "");
}

// A case's input, weight (the fixtures' init) and bias; both Winograd suites test on these.
std::tuple<at::Tensor, at::Tensor, at::Tensor> winograd_inputs(const WinogradCase& k)
{
    at::manual_seed(11);
    const auto fmt = k.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    at::Tensor x = at::randn({k.n, k.c, k.h, k.w}).contiguous(fmt);
    at::Tensor w = at::randn({k.o, k.c, 3, 3}) / std::sqrt(9.0 * static_cast<double>(k.c));
    at::Tensor b = k.bias ? at::randn({k.o}) * 0.1 : at::Tensor();
    return {x, w, b};
}

class WinogradConvolution : public ::testing::TestWithParam<WinogradCase> {};

TEST_P(WinogradConvolution, MatchesTheDirectConvolution)
{
    if (!onednn::winograd_available())
        GTEST_SKIP() << "no oneDNN Winograd kernel in this build or on this CPU";
    const auto [x, w, b] = winograd_inputs(GetParam());
    c10::InferenceMode inference;
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    const onednn::PackedStats before = onednn::packed_weights();
    const at::Tensor ours = onednn::conv2d(x, w, b, one, zero, 1, onednn::Algorithm::Winograd);
    ASSERT_TRUE(ours.defined()) << "oneDNN took no Winograd kernel for this shape";
    const at::Tensor ref = at::conv2d(x.contiguous(), w, b);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    // The rounding of F(4x4, 3x3)'s transforms: measured at most 2.6e-6 of the largest output (against
    // float64, 10x the direct algorithm's 3e-7); whole generators stay within 2e-6 of the direct path.
    const double err = (ours - ref).abs().max().item<double>();
    EXPECT_LE(err, 5e-6 * ref.abs().max().item<double>());
    EXPECT_GT(err, 0.0); // not the direct algorithm in disguise
    // The transformed weight (F(4x4, 3x3): 4x the weight; F(2x2, 3x3), oneDNN's choice for tiny
    // maps: 1.8x) is made once and reused.
    EXPECT_EQ(onednn::packed_weights().count, before.count + 1);
    EXPECT_GT(onednn::packed_weights().bytes - before.bytes, w.nbytes());
    EXPECT_TRUE(at::equal(onednn::conv2d(x, w, b, one, zero, 1, onednn::Algorithm::Winograd), ours));
    EXPECT_EQ(onednn::packed_weights().count, before.count + 1);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, WinogradConvolution,
    ::testing::Values(WinogradCase{1, 512, 34, 34, 512, false, true},  // the authors' pose trunk at 256x256
                      WinogradCase{2, 128, 18, 18, 128, false, false}, // the demo models' trunk, a batch
                      WinogradCase{1, 256, 23, 37, 128, false, true},  // odd sizes: partial 4x4 tiles
                      WinogradCase{1, 128, 3, 5, 256, true, true}));  // the least it takes, channels-last

// A bFT ResNet with pose channels and ngf 16 (a 128-channel trunk), in eval mode.
Generator small_resnet(int n_blocks)
{
    ArchSpec spec;
    spec.ngf = 16;
    spec.n_blocks = n_blocks;
    Generator net = make_generator(spec);
    net->eval();
    return net;
}

// winograd.h's F(4x4, 3x3), which the engine runs where oneDNN has no Winograd kernel (AVX2).
class OwnWinograd : public ::testing::TestWithParam<WinogradCase> {};

TEST_P(OwnWinograd, MatchesTheDirectConvolution)
{
    const auto k = GetParam();
    const auto [x, w, b] = winograd_inputs(k);
    c10::InferenceMode inference;
    const at::Tensor u = winograd_weights(w);
    EXPECT_EQ(u.sizes(), (std::vector<int64_t>{36, k.o, k.c}));
    const at::Tensor ours = winograd_conv3x3(x, u, b);
    const at::Tensor ref = at::conv2d(x.contiguous().to(at::kDouble), w.to(at::kDouble),
                                      b.defined() ? b.to(at::kDouble) : at::Tensor());
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_TRUE(ours.is_contiguous());
    // Against float64: measured 0.04-1.1e-5 of the largest output over these shapes (oneDNN's F(4x4,
    // 3x3): 2.6e-6 against fp32); a tile placed one pixel off, or a missing bias, is off by far more.
    const double scale = ref.abs().max().item<double>();
    const double err = (ours.to(at::kDouble) - ref).abs().max().item<double>();
    EXPECT_LE(err, 2e-5 * scale);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, OwnWinograd,
    ::testing::Values(WinogradCase{1, 512, 34, 34, 512, false, true},  // the authors' pose trunk at 256x256
                      WinogradCase{2, 128, 18, 18, 128, false, false}, // the demo models' trunk, a batch
                      WinogradCase{1, 256, 23, 37, 128, false, true},  // odd sizes: partial 4x4 tiles
                      WinogradCase{3, 64, 7, 10, 32, true, true},      // channels-last, partial tiles, a batch
                      WinogradCase{1, 128, 3, 5, 256, true, true}));  // the least it takes, channels-last

TEST(OwnWinograd, RefusesWhatItCannotRun)
{
    const at::Tensor u = winograd_weights(at::randn({8, 4, 3, 3}));
    EXPECT_THROW(winograd_conv3x3(at::randn({1, 5, 8, 8}), u, at::Tensor()), Error); // channels differ
    EXPECT_THROW(winograd_conv3x3(at::randn({1, 4, 2, 8}), u, at::Tensor()), Error); // under 3x3
    EXPECT_THROW(winograd_conv3x3(at::randn({1, 4, 8, 8}).to(at::kDouble), u, at::Tensor()), Error);
    EXPECT_THROW(winograd_weights(at::randn({8, 4, 5, 5})), Error);
}

// winograd.h's reflection-padded F(4x4, 3x3) with our products (the ResNet trunk on few tiles),
// with and without the instance norm and ReLU read into its input, against float64.
struct ReflectCase {
    int64_t n, c, h, w, o;
};
void PrintTo(const ReflectCase& k, std::ostream* os)
{
    *os << k.n << "x" << k.c << "x" << k.h << "x" << k.w << "_to_" << k.o;
}

class ReflectWinograd : public ::testing::TestWithParam<ReflectCase> {};

TEST_P(ReflectWinograd, MatchesPaddingThenTheDirectConvolution)
{
    const auto k = GetParam();
    at::manual_seed(15);
    const at::Tensor x = (at::randn({k.n, k.c, k.h, k.w}) * 1.5 + 0.7).contiguous(at::MemoryFormat::ChannelsLast);
    if (!winograd_reflect_fits(x, k.o))
        GTEST_SKIP() << "no AVX-512 here: the trunk stays with oneDNN's Winograd or winograd.h's";
    const at::Tensor w = at::randn({k.o, k.c, 3, 3}) / std::sqrt(9.0 * static_cast<double>(k.c)), b = at::randn({k.o});
    c10::InferenceMode inference;
    const at::Tensor own = winograd_own_weights(winograd_weights(w));
    for (const bool normalize : {false, true}) {
        SCOPED_TRACE(normalize ? "normalised and rectified as read" : "as it is");
        const at::Tensor xd = x.to(at::kDouble);
        // The biased statistics per image and channel, as the instance norm's.
        const at::Tensor var = xd.var({2, 3}, /*unbiased=*/false, /*keepdim=*/true), mean = xd.mean({2, 3}, true);
        const at::Tensor in = normalize ? ((xd - mean) / (var + 1e-5).sqrt()).relu() : xd;
        const at::Tensor ref = at::conv2d(at::reflection_pad2d(in, {1, 1, 1, 1}), w.to(at::kDouble), b.to(at::kDouble));
        const at::Tensor m32 = mean.to(at::kFloat).flatten().contiguous(), inv32 = (var + 1e-5).rsqrt().to(at::kFloat).flatten().contiguous();
        const at::Tensor before = x.clone();
        const at::Tensor ours = winograd_reflect_conv3x3(x, own, b, normalize ? m32.data_ptr<float>() : nullptr,
                                                         normalize ? inv32.data_ptr<float>() : nullptr);
        EXPECT_TRUE(at::equal(x, before));
        EXPECT_TRUE(ours.is_contiguous(at::MemoryFormat::ChannelsLast));
        ASSERT_EQ(ours.sizes(), ref.sizes());
        // Measured 1e-7 to 1e-5 of the largest output (as winograd_conv3x3's); a tap or point
        // swapped, a border reflected wrong or a missing bias is off by far more.
        const double scale = ref.abs().max().item<double>();
        EXPECT_LE((ours.to(at::kDouble) - ref).abs().max().item<double>(), 3e-5 * scale);
    }
    // An NCHW input gives the same; what it cannot run is refused.
    EXPECT_TRUE(at::equal(winograd_reflect_conv3x3(x.contiguous(), own, b), winograd_reflect_conv3x3(x, own, b)));
    EXPECT_THROW(winograd_reflect_conv3x3(x.narrow(1, 0, k.c - 16), own, b), Error);
    EXPECT_THROW(winograd_reflect_conv3x3(x, own, b.narrow(0, 0, k.o - 1)), Error);
    EXPECT_THROW(winograd_own_weights(winograd_weights(w.narrow(0, 0, k.o - 16))), Error);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ReflectWinograd,
    ::testing::Values(ReflectCase{1, 128, 32, 32, 128}, // the trunk's 64 tiles (the authors' pose model: 512 channels)
                      ReflectCase{2, 32, 13, 10, 64},   // a batch, partial tiles, uneven sizes
                      ReflectCase{1, 16, 2, 3, 64},     // the least: one tile, mostly reflection and cut
                      ReflectCase{1, 64, 5, 4, 192}));  // 5 rows: a window past the padded map

// winograd_stride2.h's F(4x4, 2x2) for the U-Net's 4x4 stride-2 layers (padding 1), both ways.
class WinogradStride2 : public ::testing::TestWithParam<WinogradCase> {};

// A case's input, 4x4 weight (transposed: [in, out, 4, 4]) and bias.
std::tuple<at::Tensor, at::Tensor, at::Tensor> stride2_inputs(const WinogradCase& k, bool transposed)
{
    at::manual_seed(transposed ? 12 : 13);
    const auto fmt = k.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor x = at::randn({k.n, k.c, k.h, k.w}).contiguous(fmt);
    // Each output sums 4 (transposed) or 16 taps per in channel: outputs of about unit size.
    const at::Tensor w = transposed ? at::randn({k.c, k.o, 4, 4}) / std::sqrt(4.0 * static_cast<double>(k.c))
                                    : at::randn({k.o, k.c, 4, 4}) / std::sqrt(16.0 * static_cast<double>(k.c));
    const at::Tensor b = k.bias ? at::randn({k.o}) * 0.1 : at::Tensor();
    return {x, w, b};
}

// u for oneDNN's products and, where they run (AVX-512, out channels a multiple of 64), the same
// for our own, and on AMX (a multiple of 32 values a product) as bf16x3 (--fp32-math high).
std::vector<at::Tensor> product_kinds(const at::Tensor& u, int64_t out_channels)
{
    std::vector<at::Tensor> kinds{u};
    if (kernels::rows_times_packed_fits() && out_channels % 64 == 0)
        kinds.push_back(winograd_s2_own_products(u));
    if (kernels::rows_times_packed_fits() && out_channels % 64 == 0 && winograd_s2_amx_fits(u.size(1)))
        kinds.push_back(winograd_s2_own_products(u, true));
    return kinds;
}

const char* products_name(const at::Tensor& u)
{
    return u.dim() != 3 ? "oneDNN's products" : u.scalar_type() == at::kBFloat16 ? "AMX products" : "own products";
}

// Against float64, of the largest output: measured 4-13e-6 with float32 products (F(2x2, 2x2)
// less); with bf16x3 on AMX 6-8e-5 for F(4x4, 2x2), whose transforms amplify the products' 4e-6,
// and 1e-5 for F(2x2, 2x2). A phase's tile one pixel off, a tap swapped or a missing bias is off by
// far more.
double products_bound(const at::Tensor& u)
{
    return u.scalar_type() == at::kBFloat16 ? 1.5e-4 : 3e-5;
}

TEST_P(WinogradStride2, TransposedMatchesConvTranspose2d)
{
    const auto k = GetParam();
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: no F(m x m, 2x2)";
    const auto [x, w, b] = stride2_inputs(k, true);
    c10::InferenceMode inference;
    const at::Tensor ref = at::conv_transpose2d(x.contiguous().to(at::kDouble), w.to(at::kDouble),
                                                b.defined() ? b.to(at::kDouble) : at::Tensor(), 2, 1);
    const double scale = ref.abs().max().item<double>();
    for (const int tile : {4, 2}) {
        SCOPED_TRACE(tile == 4 ? "F(4x4, 2x2)" : "F(2x2, 2x2)");
        for (const at::Tensor& u : product_kinds(winograd_s2_transpose_weights(w, tile), k.o)) {
            SCOPED_TRACE(products_name(u));
            const at::Tensor ours = winograd_s2_conv_transpose(x, u, b, tile);
            ASSERT_EQ(ours.sizes(), ref.sizes());
            EXPECT_LE((ours.to(at::kDouble) - ref).abs().max().item<double>(), products_bound(u) * scale);
        }
    }
}

TEST_P(WinogradStride2, ConvolutionMatchesConv2d)
{
    const auto k = GetParam();
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: no F(m x m, 2x2)";
    const auto [x, w, b] = stride2_inputs(k, false);
    c10::InferenceMode inference;
    for (const int tile : {4, 2}) {
        SCOPED_TRACE(tile == 4 ? "F(4x4, 2x2)" : "F(2x2, 2x2)");
        for (const at::Tensor& u : product_kinds(winograd_s2_conv_weights(w, tile), k.o)) {
            for (const float slope : {1.0f, 0.2f}) {
            SCOPED_TRACE(::testing::Message() << products_name(u) << ", slope " << slope);
            if (k.h < 2 || k.w < 2) { // no output (conv2d refuses it too)
                EXPECT_THROW(winograd_s2_conv(x, u, b, tile), Error);
                continue;
            }
            // Without an activation, and with the U-Net encoder's leaky ReLU applied as it reads (x
            // itself unchanged).
            const at::Tensor before = x.clone();
            const at::Tensor ours = winograd_s2_conv(x, u, b, tile, slope);
            EXPECT_TRUE(at::equal(x, before));
            const at::Tensor ref = at::conv2d(at::leaky_relu(x.contiguous().to(at::kDouble), slope), w.to(at::kDouble),
                                              b.defined() ? b.to(at::kDouble) : at::Tensor(), 2, 1);
            ASSERT_EQ(ours.sizes(), ref.sizes());
            const double scale = ref.abs().max().item<double>();
            EXPECT_LE((ours.to(at::kDouble) - ref).abs().max().item<double>(), products_bound(u) * scale);
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, WinogradStride2,
    ::testing::Values(WinogradCase{1, 512, 32, 32, 128, true, true},  // the authors' U-Net at 256: 81 tiles
                      WinogradCase{2, 64, 16, 16, 32, true, false},   // a batch, whole tiles
                      WinogradCase{1, 32, 9, 14, 48, false, true},    // odd and uneven sizes: partial tiles
                      WinogradCase{3, 16, 5, 7, 16, true, true},      // a batch of partial tiles
                      WinogradCase{1, 16, 2, 3, 32, false, true},     // the least: one tile, mostly padding
                      WinogradCase{1, 16, 1, 1, 16, true, false},     // a single pixel
                      WinogradCase{3, 64, 72, 72, 64, true, true}));  // several chunks (both schemes), across images, the last shorter

// Winograd's products land in a buffer the caller keeps (onednn::conv2d's `into`).
TEST(PackedConvolutionInto, WritesTheResultWhereAsked)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API";
    at::manual_seed(14);
    const at::Tensor x = at::randn({1, 32, 6, 5}).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor w = at::randn({48, 8, 1, 1}); // 4 groups
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    c10::InferenceMode inference;
    const at::Tensor fresh = onednn::conv2d(x, w, at::Tensor(), one, zero, 4);
    ASSERT_TRUE(fresh.defined());
    at::Tensor into = at::full({1, 48, 6, 5}, std::nanf("")).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor got = onednn::conv2d(x, w, at::Tensor(), one, zero, 4, onednn::Algorithm::Direct, false, {}, into);
    EXPECT_EQ(got.data_ptr(), into.data_ptr());
    EXPECT_TRUE(at::equal(into, fresh));
    const int64_t dilation[] = {1, 1};
    const at::Tensor want = at::conv2d(x, w, at::Tensor(), one, zero, dilation, 4);
    EXPECT_LT((into - want).abs().max().item<float>(), 1e-5f);
    // Not the result's shape or layout: refused, nothing written.
    EXPECT_THROW(onednn::conv2d(x, w, at::Tensor(), one, zero, 4, onednn::Algorithm::Direct, false, {},
                                at::empty({1, 48, 6, 4}).contiguous(at::MemoryFormat::ChannelsLast)),
                 Error);
    EXPECT_THROW(onednn::conv2d(x, w, at::Tensor(), one, zero, 4, onednn::Algorithm::Direct, false, {}, at::empty({1, 48, 6, 5})),
                 Error);
}

// A decoder level without the concatenated map: the input transform rectifies the skip and
// normalises and rectifies h itself. h's mean far from 0: pixels outside the map must stay 0 after
// the normalisation (as zeros they would become -mean / std).
struct SkipCase {
    int64_t n, skip_c, h_c, h, w, k;
};

class WinogradSkipConcat : public ::testing::TestWithParam<SkipCase> {};

TEST_P(WinogradSkipConcat, MatchesTheConcatenationsTransposedConvolution)
{
    const auto k = GetParam();
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: no F(m x m, 2x2)";
    at::manual_seed(21);
    const at::Tensor skip = at::randn({k.n, k.skip_c, k.h, k.w}).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor h = at::randn({k.n, k.h_c, k.h, k.w}) * 2 + 3; // NCHW: the kernel takes either
    const at::Tensor w = at::randn({k.skip_c + k.h_c, k.k, 4, 4}) * 0.05, b = at::randn({k.k});
    const at::Tensor in = decoder_input_double(skip, h);
    const at::Tensor ref = at::conv_transpose2d(in, w.to(at::kDouble), b.to(at::kDouble), 2, 1);
    const double scale = ref.abs().max().item<double>();
    c10::InferenceMode inference;
    for (const int tile : {4, 2}) {
        SCOPED_TRACE(tile == 4 ? "F(4x4, 2x2)" : "F(2x2, 2x2)");
        for (const at::Tensor& u : product_kinds(winograd_s2_transpose_weights(w, tile), k.k)) {
            SCOPED_TRACE(u.dim() == 3 ? "own products" : "oneDNN's products");
            const at::Tensor ours = winograd_s2_skip_conv_transpose(skip, h, u, b, tile);
            ASSERT_EQ(ours.sizes(), ref.sizes());
            EXPECT_LE((ours.to(at::kDouble) - ref).abs().max().item<double>(), 3e-5 * scale);
        }
    }
    // Channels that are not whole groups of 16 in either map, and maps of two sizes, are refused.
    const at::Tensor u = winograd_s2_transpose_weights(w, 4);
    EXPECT_THROW(winograd_s2_skip_conv_transpose(skip.narrow(1, 0, 8), h, u, b), Error);
    EXPECT_THROW(winograd_s2_skip_conv_transpose(skip, h.narrow(2, 0, k.h - 1), u, b), Error);
}

INSTANTIATE_TEST_SUITE_P(Shapes, WinogradSkipConcat,
                         ::testing::Values(SkipCase{1, 32, 16, 9, 14, 48},   // odd and uneven sizes: partial tiles
                                           SkipCase{3, 16, 32, 5, 7, 16},    // a batch (statistics per image)
                                           SkipCase{1, 16, 16, 1, 1, 32},    // a single pixel, all else outside
                                           SkipCase{2, 64, 64, 40, 40, 32},   // several chunks across images
                                           SkipCase{1, 32, 32, 12, 13, 64})); // 64 out channels: own products too

TEST(WinogradStride2, RefusesWhatItCannotRun)
{
    const at::Tensor ut = winograd_s2_transpose_weights(at::randn({16, 32, 4, 4}));
    const at::Tensor uc = winograd_s2_conv_weights(at::randn({32, 16, 4, 4}));
    EXPECT_THROW(winograd_s2_conv_transpose(at::randn({1, 32, 8, 8}), ut, at::Tensor()), Error); // channels differ
    EXPECT_THROW(winograd_s2_conv_transpose(at::randn({1, 16, 8, 8}).to(at::kDouble), ut, at::Tensor()), Error);
    EXPECT_THROW(winograd_s2_conv_transpose(at::randn({1, 16, 8, 8}), ut, at::randn({5})), Error); // bias
    EXPECT_THROW(winograd_s2_conv(at::randn({1, 16, 1, 1}), uc, at::Tensor()), Error);             // under 2x2
    EXPECT_THROW(winograd_s2_conv(at::randn({1, 8, 8, 8}), uc, at::Tensor()), Error);              // channels differ
    EXPECT_THROW(winograd_s2_conv_weights(at::randn({32, 16, 3, 3})), Error);
    EXPECT_THROW(winograd_s2_transpose_weights(at::randn({16, 32, 3, 3})), Error);
    EXPECT_THROW(winograd_s2_transpose_weights(at::randn({16, 32, 4, 4}), 3), Error); // tiles of 2 or 4
    EXPECT_THROW(winograd_s2_conv(at::randn({1, 16, 8, 8}), uc, at::Tensor(), 2), Error); // made for tiles of 4
    // Own products: blocks of 64 product columns, so out channels in 64s.
    if (kernels::rows_times_packed_fits()) {
        EXPECT_THROW(winograd_s2_own_products(winograd_s2_conv_weights(at::randn({48, 16, 4, 4}), 2)), Error);
        const at::Tensor own = winograd_s2_own_products(winograd_s2_conv_weights(at::randn({64, 16, 4, 4}), 4));
        EXPECT_THROW(winograd_s2_conv(at::randn({1, 16, 8, 8}), own, at::Tensor(), 2), Error); // made for tiles of 4
        // 16 out channels make 4 x 9 x 16 product rows, whole blocks, but not whole blocks a phase.
        const at::Tensor narrow = winograd_s2_own_products(winograd_s2_transpose_weights(at::randn({16, 16, 4, 4}), 2));
        EXPECT_THROW(winograd_s2_conv_transpose(at::randn({1, 16, 8, 8}), narrow, at::Tensor(), 2), Error);
        // bf16 halves where AMX cannot take them (no AMX here, or products over 16 values, not a
        // multiple of 32): refused, not multiplied by nothing.
        const at::Tensor halves = at::zeros({100, 16, 128}, at::kBFloat16); // 25 points x 4 phases x 64
        EXPECT_THROW(winograd_s2_conv_transpose(at::randn({1, 16, 8, 8}), halves, at::Tensor(), 4), Error);
    }
    // Channels that are not multiples of 16: the engine keeps such layers direct.
    EXPECT_FALSE(winograd_s2_fits(at::randn({1, 24, 8, 8}), 24, 32));
    EXPECT_FALSE(winograd_s2_fits(at::randn({1, 16, 8, 8}).to(at::kDouble), 16, 32));
}

// The texture U-Net at 256 (ngf 16): its second and third levels and their transposed
// counterparts have 64 tiles or more and run F(4x4, 2x2), its fourth level's convolutions
// F(2x2, 2x2); the forward stays within parity of the direct path and of autograd's formulation,
// and follows its weights.
TEST(WinogradInTheEngine, UnetStride2LayersStayWithinParity)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: no F(4x4, 2x2)";
    ArchSpec spec = task_preset("texture");
    spec.ngf = 16;
    Generator net = make_generator(spec);
    net->eval();
    at::manual_seed(7);
    const at::Tensor x = at::rand({1, 1, 256, 256}) * 2 - 1, g = at::rand({1, 4, 256, 256}) * 2 - 1;
    auto run = [&](bool winograd) {
        c10::InferenceMode inference;
        ForwardOptions o;
        o.winograd = winograd;
        return net->run(x, g, o);
    };
    const at::Tensor direct = run(false), wino = run(true);
    EXPECT_FALSE(at::equal(direct, wino)); // F(4x4, 2x2) really ran
    EXPECT_LE((direct - wino).abs().max().item<double>(), 1e-4);
    EXPECT_LE((net->forward(x, g).detach() - wino).abs().max().item<double>(), 1e-4);
    {
        torch::NoGradGuard no_grad; // an optimizer step: the transformed weights must follow
        for (auto& p : net->parameters())
            p.mul_(1.01);
    }
    const at::Tensor after = run(true);
    EXPECT_LE((net->forward(x, g).detach() - after).abs().max().item<double>(), 1e-4);
    EXPECT_GT((after - wino).abs().max().item<double>(), 1e-3);
}

// amx.h's halves: hi + lo holds a float32 to about 2^-17 of it, hi is bf16 rounded to nearest even
// (ties too), and the weights' pairs of rows land where TDPBF16PS reads them. Runs on any CPU.
TEST(Amx, SplitsAndPacksAsDocumented)
{
    auto bf = [](uint16_t h) {
        const uint32_t u = static_cast<uint32_t>(h) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    };
    at::manual_seed(3);
    const at::Tensor x = at::randn({3, 64}) * 100;
    std::vector<float> rows(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
    rows[5] = 1.00390625f; // halfway between bf16 1 and 1 + 2^-7: even is 1
    rows[6] = 1.01171875f; // halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6
    const int64_t lda = 96;
    std::vector<uint16_t> hi(4 * lda, 7), lo(4 * lda, 7);
    amx::split_rows(rows.data(), 64, 3, 4, 64, hi.data(), lo.data(), lda);
    EXPECT_EQ(bf(hi[5]), 1.0f);
    EXPECT_EQ(bf(hi[6]), 1.015625f);
    for (int64_t r = 0; r < 3; ++r)
        for (int64_t c = 0; c < 64; ++c) {
            const float v = rows[r * 64 + c], h = bf(hi[r * lda + c]), l = bf(lo[r * lda + c]);
            EXPECT_LE(std::fabs(v - h), std::fabs(v) / 256) << r << "," << c;
            EXPECT_LE(std::fabs(v - h - l), std::fabs(v) / 65536) << r << "," << c;
        }
    for (int64_t c = 0; c < 64; ++c) // the padding row is zero
        EXPECT_EQ(hi[3 * lda + c] | lo[3 * lda + c], 0);
    const at::Tensor w = at::randn({32, 64});
    std::vector<uint16_t> packed(2 * 32 * 64);
    amx::pack_weights(w.data_ptr<float>(), 32, packed.data());
    for (int64_t i = 0; i < 32; ++i)
        for (int64_t c = 0; c < 64; ++c) {
            const int64_t at = (i / 2) * 128 + c * 2 + (i & 1);
            const float v = w[i][c].item<float>();
            EXPECT_LE(std::fabs(v - bf(packed[at]) - bf(packed[32 * 64 + at])), std::fabs(v) / 65536);
        }
}

// The bf16x3 products on AMX tiles (where this CPU has them): within 2e-5 of the largest product
// (float32 FMAs: about 1e-6), for row counts that are and are not multiples of 32, over k chunks.
TEST(Amx, ProductsStayCloseToFloat64)
{
    if (!amx::usable())
        GTEST_SKIP() << "no AMX here";
    at::manual_seed(5);
    for (const int64_t rows : {32, 45, 100}) {
        const int64_t k = 320, ldy = 80, lda = k + 32, padded = (rows + 31) / 32 * 32;
        const at::Tensor x = at::randn({rows, k}), w = at::randn({k, 64});
        std::vector<uint16_t> hi(padded * lda), lo(padded * lda), packed(2 * k * 64);
        amx::split_rows(x.data_ptr<float>(), k, rows, padded, k, hi.data(), lo.data(), lda);
        amx::pack_weights(w.data_ptr<float>(), k, packed.data());
        at::Tensor y = at::full({rows, ldy}, 12345.0f);
        amx::products(hi.data(), lo.data(), lda, rows, k, packed.data(), y.data_ptr<float>(), ldy, nullptr);
        const at::Tensor ref = at::matmul(x.to(at::kDouble), w.to(at::kDouble));
        const double err = (y.slice(1, 0, 64).to(at::kDouble) - ref).abs().max().item<double>();
        EXPECT_LE(err, 2e-5 * ref.abs().max().item<double>()) << rows << " rows";
        EXPECT_TRUE(at::all(y.slice(1, 64) == 12345.0f).item<bool>()) << "wrote past its 64 columns";
    }
}

// --fp32-math high: the texture U-Net at 256 with the products on AMX stays within 3e-4 of the
// direct path (float32 FMAs: 1e-5; with AMX 7-12e-5 in six draws of random weights), and really ran.
TEST(WinogradInTheEngine, AmxProductsStayNearParity)
{
    if (!onednn::available() || !amx::usable())
        GTEST_SKIP() << "no AMX (or no oneDNN API) here";
    ArchSpec spec = task_preset("texture");
    spec.ngf = 16;
    at::manual_seed(11);
    Generator net = make_generator(spec);
    net->eval();
    const at::Tensor x = at::rand({1, 1, 256, 256}) * 2 - 1, g = at::rand({1, 4, 256, 256}) * 2 - 1;
    auto run = [&](bool winograd, bool amx) {
        c10::InferenceMode inference;
        ForwardOptions o;
        o.winograd = winograd;
        o.amx = amx;
        return net->run(x, g, o);
    };
    const at::Tensor direct = run(false, false), fma = run(true, false), tiles = run(true, true);
    EXPECT_LE((direct - fma).abs().max().item<double>(), 1e-4);
    EXPECT_LE((direct - tiles).abs().max().item<double>(), 3e-4);
    EXPECT_GT((fma - tiles).abs().max().item<double>(), 1e-7); // not the float32 path again
}

// onednn::gemm serves Winograd's products and the GEMM convolutions: oneDNN's sgemm and the
// LibTorch fallback (builds without oneDNN's API) must read the same strided, transposed operands.
TEST(Gemm, BothWaysMatchAtMmForEveryTransposeAndLeadingDimension)
{
    const int64_t m = 7, n = 5, k = 9, pad = 3;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            // Stored row-major with padded rows: op(A) is m x k, A itself k x m when transposed.
            const at::Tensor a_store = at::randn({ta ? k : m, (ta ? m : k) + pad});
            const at::Tensor b_store = at::randn({tb ? n : k, (tb ? k : n) + pad});
            const at::Tensor a = a_store.narrow(1, 0, ta ? m : k), b = b_store.narrow(1, 0, tb ? k : n);
            const at::Tensor want = at::mm(ta ? a.t() : a, tb ? b.t() : b);
            for (bool use_onednn : {true, false}) {
                at::Tensor c = at::full({m, n}, std::nanf(""));
                onednn::gemm(ta, tb, m, n, k, a_store.data_ptr<float>(), a_store.size(1), b_store.data_ptr<float>(),
                             b_store.size(1), c.data_ptr<float>(), use_onednn);
                EXPECT_LT((c - want).abs().max().item<float>(), 1e-5f)
                    << "trans_a " << ta << " trans_b " << tb << " oneDNN " << use_onednn;
            }
        }
}

TEST(WinogradInTheEngine, GeneratorStaysWithinParityOfTheDirectPath)
{
    // oneDNN's Winograd where it has a kernel, winograd.h's elsewhere: either way within parity.
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: the engine runs no Winograd";
    Generator net = small_resnet(2); // a 128-channel trunk, where the engine turns to Winograd
    at::manual_seed(5);
    // A 32x30 trunk: 64 output tiles, as many as winograd.h's path asks for.
    const at::Tensor x = at::rand({1, 3, 256, 240}) * 2 - 1, g = at::rand({1, 18, 256, 240}) * 2 - 1;
    // Whichever the engine picks here, then winograd.h's by request (the same where oneDNN has none).
    for (const bool own : {false, true}) {
        SCOPED_TRACE(own ? "winograd.h's Winograd" : "the engine's choice");
        auto run = [&](bool winograd) {
            c10::InferenceMode inference;
            ForwardOptions o;
            o.winograd = winograd;
            o.own_winograd = own;
            return net->run(x, g, o);
        };
        const at::Tensor direct = run(false), wino = run(true);
        EXPECT_FALSE(at::equal(direct, wino)); // Winograd really ran
        EXPECT_LE((direct - wino).abs().max().item<double>(), 1e-4);
        const at::Tensor plain = net->forward(x, g).detach(); // autograd's formulation
        EXPECT_LE((plain - wino).abs().max().item<double>(), 1e-4);
        {
            torch::NoGradGuard no_grad; // an optimizer step: the transformed weights must follow
            for (auto& p : net->parameters())
                p.mul_(1.01);
        }
        const at::Tensor after = run(true);
        EXPECT_LE((net->forward(x, g).detach() - after).abs().max().item<double>(), 1e-4);
        EXPECT_GT((after - wino).abs().max().item<double>(), 1e-3);
    }
}

// The ResNet trunk by winograd.h's reflection-padded F(4x4, 3x3) (Ops::reflect_trunk) where it has
// 64 to 128 tiles: a 32x32 trunk of 128 channels. Within parity of the direct path and of autograd's
// formulation; bit for bit not what oneDNN's Winograd on the padded NCHW trunk gives (so it ran).
TEST(WinogradInTheEngine, ReflectTrunkStaysWithinParity)
{
    if (!onednn::available() || !kernels::rows_times_packed_fits())
        GTEST_SKIP() << "no AVX-512 or no oneDNN API here: the trunk stays as it was";
    Generator net = small_resnet(2);
    at::manual_seed(9);
    const at::Tensor x = at::rand({1, 3, 256, 256}) * 2 - 1, g = at::rand({1, 18, 256, 256}) * 2 - 1;
    auto run = [&](bool winograd, bool own) {
        c10::InferenceMode inference;
        ForwardOptions o;
        o.winograd = winograd;
        o.own_winograd = own; // winograd.h's NCHW F(4x4, 3x3), not the reflection-padded one
        return net->run(x, g, o);
    };
    const at::Tensor direct = run(false, false), reflect = run(true, false), nchw = run(true, true);
    EXPECT_FALSE(at::equal(reflect, nchw));
    EXPECT_LE((direct - reflect).abs().max().item<double>(), 1e-4);
    EXPECT_LE((net->forward(x, g).detach() - reflect).abs().max().item<double>(), 1e-4);
    // Two images: 128 tiles, still ours, each image as it was alone.
    const at::Tensor x2 = at::cat({x, x.flip(3)}), g2 = at::cat({g, g.flip(3)});
    c10::InferenceMode inference;
    const at::Tensor pair = net->run(x2, g2, ForwardOptions{});
    EXPECT_LE((pair[0] - reflect[0]).abs().max().item<double>(), 1e-5);
    {
        torch::NoGradGuard no_grad; // an optimizer step: the transformed weights must follow
        for (auto& p : net->parameters())
            p.mul_(1.01);
    }
    const at::Tensor after = net->run(x, g, ForwardOptions{});
    EXPECT_GT((after - reflect).abs().max().item<double>(), 1e-3);
}

// winograd.h's Winograd runs only where the batch has 64 output tiles or more (engine.cpp).
TEST(WinogradInTheEngine, OursOnlyWhereABatchHasEnoughTiles)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: the engine runs no Winograd";
    Generator net = small_resnet(1);
    at::manual_seed(6);
    const at::Tensor x = at::rand({4, 3, 128, 128}) * 2 - 1, g = at::rand({4, 18, 128, 128}) * 2 - 1;
    auto run = [&](const at::Tensor& xs, const at::Tensor& gs, bool winograd) {
        c10::InferenceMode inference;
        ForwardOptions o;
        o.winograd = winograd;
        o.own_winograd = true;
        return net->run(xs, gs, o);
    };
    // One image: a 16x16 trunk, 16 tiles: direct, to the bit.
    const at::Tensor x1 = x.narrow(0, 0, 1), g1 = g.narrow(0, 0, 1);
    EXPECT_TRUE(at::equal(run(x1, g1, true), run(x1, g1, false)));
    // Four: 64 tiles: Winograd.
    EXPECT_FALSE(at::equal(run(x, g, true), run(x, g, false)));
}

// The editor's "Use Less Memory": a request with low_memory runs every convolution direct and lets
// the Winograd weights of earlier requests go; its result stays within parity of the fast path.
TEST(WinogradInTheEngine, LowMemoryRequestsLetTheTransformedWeightsGo)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN's API: the engine runs no Winograd";
    ArchSpec spec; // as above: a 128-channel trunk
    spec.ngf = 16;
    spec.n_blocks = 2;
    Generator net = make_generator(spec);
    const std::string path = test::temp_dir("low-memory") + "/pose.pth";
    write_state_dict(path, generator_state(*net));
    net = nullptr;
    live::LiveModel model;
    model.load(path, live::Task::Pose);
    live::Request rq;
    rq.task = live::Task::Pose;
    rq.width = 240; // a trunk as above
    rq.height = 256;
    rq.source.width = 240;
    rq.source.height = 256;
    rq.source.bytes.assign(240 * 256 * 3, 128);
    rq.skeleton = live::default_skeleton(240, 256);
    const live::Result fast = model.run(rq);
    const int64_t with_winograd = model.derived_weight_bytes();
    rq.low_memory = true;
    const live::Result low = model.run(rq);
    const int64_t direct_only = model.derived_weight_bytes();
    // Kept, the Winograd weights (4x their kernels) would come on top of the direct ones now packed
    // for the same layers: less than before means they went.
    EXPECT_LT(direct_only, with_winograd);
    ASSERT_EQ(low.raw.values.size(), fast.raw.values.size());
    double most = 0;
    bool differ = false;
    for (size_t i = 0; i < low.raw.values.size(); ++i) {
        most = std::max(most, static_cast<double>(std::abs(low.raw.values[i] - fast.raw.values[i])));
        differ = differ || low.raw.values[i] != fast.raw.values[i];
    }
    EXPECT_LE(most, 1e-4);
    EXPECT_TRUE(differ); // the two paths really differ (rounding)
}

// Above a size, the fused FiLM bottlenecks (2 x 100 channels) are made in slices of images and rows,
// and the last layer's tap products one image at a time (less memory): each image's result must
// stay what it is alone, and what the unsliced autograd formulation computes.
TEST(EngineSlices, WideIntermediatesMadeInSlicesKeepEveryPixel)
{
    Generator net = small_resnet(1); // its last layer (16 -> 3, 7x7) runs by taps
    at::manual_seed(9);
    // At 160x160, a batch of 3: the first level's bottleneck would be 61 MB (sliced by 65 rows: a
    // short last slice), the 147 tap products 49 MB, both over the engine's 32 MiB; one image alone
    // is under it.
    const at::Tensor x = at::rand({3, 3, 160, 160}) * 2 - 1, g = at::rand({3, 18, 160, 160}) * 2 - 1;
    at::Tensor batch;
    std::vector<at::Tensor> alone;
    {
        c10::InferenceMode inference;
        // Direct convolutions only: where the engine turns to Winograd depends on the batch (our own
        // asks for 64 tiles: this batch's 20x20 trunk has 75, one image 25), and its rounding differs.
        ForwardOptions direct;
        direct.winograd = false;
        batch = net->run(x, g, direct);
        for (int64_t n = 0; n < 3; ++n)
            alone.push_back(net->run(x.narrow(0, n, 1), g.narrow(0, n, 1), direct));
    }
    ASSERT_EQ(batch.sizes(), (std::vector<int64_t>{3, 3, 160, 160}));
    for (int64_t n = 0; n < 3; ++n)
        EXPECT_LE((batch.narrow(0, n, 1) - alone[n]).abs().max().item<double>(), 1e-5) << "image " << n;
    EXPECT_LE((net->forward(x, g).detach() - batch).abs().max().item<double>(), 1e-4); // autograd's formulation

    // One image of 256x256 x 300: its first level's bottleneck (61 MB) in slices of rows.
    const at::Tensor x1 = at::rand({1, 3, 256, 300}) * 2 - 1, g1 = at::rand({1, 18, 256, 300}) * 2 - 1;
    at::Tensor one;
    {
        c10::InferenceMode inference;
        one = net->run(x1, g1, {});
    }
    EXPECT_LE((net->forward(x1, g1).detach() - one).abs().max().item<double>(), 1e-4);
}

// The gamma/beta maps the editor's viewer records: taken from the fused FiLM slices' rows while in
// cache (kernels::rows_to_planar), or turned to NCHW by tiles where the unfused path made them
// channels-last (kernels::planar_float). Both exact copies; the recorded maps match the training
// formulation's, and recording changes nothing in the output.
TEST(FilmCapture, RowsAndChannelsLastMapsBecomePlanarExactly)
{
    at::manual_seed(21);
    for (const at::ScalarType t : {at::kFloat, at::kBFloat16}) {
        SCOPED_TRACE(t == at::kFloat ? "float32" : "bfloat16");
        // 2 images of 5 x 7 (35 pixels: not a multiple of 16), 40 channels (neither), runs of 13
        // pixels that cross the images' boundary and leave a short last run.
        const int64_t n = 2, c = 40, h = 5, w = 7;
        const at::Tensor rows = at::randn({n * h * w, c}).to(t);
        const at::Tensor y = at::full({n, c, h, w}, std::nanf(""));
        for (int64_t first = 0; first < n * h * w; first += 13)
            kernels::rows_to_planar(static_cast<const char*>(rows.data_ptr()) + first * c * rows.element_size(), t, first,
                                    std::min<int64_t>(13, n * h * w - first), y);
        EXPECT_TRUE(at::equal(y, rows.to(at::kFloat).view({n, h, w, c}).permute({0, 3, 1, 2})));
        EXPECT_THROW(kernels::rows_to_planar(rows.data_ptr(), t, 60, 11, y), Error); // past the map's 70 pixels

        // A channel range of a channels-last map (strides of 64 channels), and a plain NCHW map.
        const at::Tensor x = at::randn({n, 64, 9, 11}).to(t).contiguous(at::MemoryFormat::ChannelsLast);
        for (const at::Tensor& part : {x.narrow(1, 16, 24), x, x.contiguous()}) {
            const at::Tensor planar = kernels::planar_float(part);
            EXPECT_TRUE(planar.is_contiguous());
            EXPECT_EQ(planar.scalar_type(), at::kFloat);
            EXPECT_TRUE(at::equal(planar, part.to(at::kFloat)));
        }
    }
}

// The networks' inputs (the texture guide: Lab patch and mask) turned channels-last by rows: an
// exact copy, for rows longer and shorter than its runs of 64 pixels and several images; left to
// LibTorch (undefined) for one channel, more than 16, other types and strides.
TEST(Inputs, ChannelsLastCopiesAreExact)
{
    at::manual_seed(22);
    for (const auto& [n, c, h, w] : std::vector<std::array<int64_t, 4>>{{1, 4, 256, 256}, {2, 2, 5, 70}, {3, 16, 3, 9}}) {
        SCOPED_TRACE(::testing::Message() << n << "x" << c << "x" << h << "x" << w);
        const at::Tensor x = at::randn({n, c, h, w});
        const at::Tensor y = kernels::channels_last_float(x);
        ASSERT_TRUE(y.defined());
        EXPECT_TRUE(y.is_contiguous(at::MemoryFormat::ChannelsLast));
        EXPECT_TRUE(at::equal(y, x));
    }
    EXPECT_FALSE(kernels::channels_last_float(at::randn({1, 1, 8, 8})).defined());
    EXPECT_FALSE(kernels::channels_last_float(at::randn({1, 17, 8, 8})).defined());
    EXPECT_FALSE(kernels::channels_last_float(at::randn({1, 4, 8, 8}, at::kDouble)).defined());
    EXPECT_FALSE(kernels::channels_last_float(at::randn({1, 4, 8, 8}).contiguous(at::MemoryFormat::ChannelsLast)).defined());
}

// The bf16 preview's encoder activation by our own pass: bit for bit LibTorch's leaky_relu_ (its
// float32 product rounded to nearest even) over every bfloat16 value (ties, signed zeros, the
// largest, subnormals), in both layouts; NaN stays NaN. Other types and strided views are refused.
TEST(Inputs, Bf16LeakyReluIsLibTorchsBitForBit)
{
    const at::Tensor every = at::arange(65536, at::kInt).to(at::kShort).view(at::kBFloat16).reshape({2, 16, 64, 32});
    const at::Tensor nan = at::isnan(every);
    // 0.2, the U-Net's; 1 + 3 / 256, whose products with powers of two fall halfway between an odd
    // and an even bfloat16 (ties to round to the even one).
    for (const float slope : {0.2f, 1.01171875f}) {
        SCOPED_TRACE(slope);
        const at::Tensor theirs = at::leaky_relu(every, slope).masked_fill(nan, 0).contiguous();
        for (const auto fmt : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
            const at::Tensor ours = every.contiguous(fmt).clone(fmt);
            ASSERT_TRUE(kernels::leaky_relu_bf16_(ours, slope));
            EXPECT_TRUE(at::equal(at::isnan(ours), nan));
            EXPECT_TRUE(at::equal(ours.masked_fill(nan, 0).contiguous().view(at::kShort), theirs.view(at::kShort)));
        }
    }
    EXPECT_FALSE(kernels::leaky_relu_bf16_(at::randn({1, 2, 3, 4}), 0.2f));
    EXPECT_FALSE(kernels::leaky_relu_bf16_(every.narrow(3, 0, 3), 0.2f));
}

// The viewer's principal components: two known directions of a 5-channel map, the stronger first,
// each pixel's projection on them, the sign rule, and no more components than channels.
TEST(FilmCapture, PrincipalComponentsFindTheDirectionsOfMostVariance)
{
    at::manual_seed(23);
    const int64_t h = 40, w = 30, n = h * w;
    // Latent values with zero mean and no correlation in this very sample: the covariance is then
    // exactly 9-ish u1 u1' + 1-ish u2 u2', whose eigenvectors are u1 and u2.
    at::Tensor a = at::randn({n}, at::kDouble), b = at::randn({n}, at::kDouble);
    a = (a - a.mean()) * 3;
    b = b - b.mean();
    b = b - a * (a.dot(b) / a.dot(a));
    const at::Tensor u1 = at::tensor({1.0, 2.0, 0.0, 0.0, 1.0}, at::kDouble) / std::sqrt(6.0); // sums > 0
    const at::Tensor u2 = at::tensor({0.0, 0.0, -1.0, 1.0, 0.0}, at::kDouble) / std::sqrt(2.0);
    const at::Tensor offsets = at::tensor({5.0, -2.0, 0.5, 0.0, 1.0}, at::kDouble).unsqueeze(1);
    const at::Tensor maps = (offsets + u1.unsqueeze(1) * a + u2.unsqueeze(1) * b).to(at::kFloat).contiguous();
    live::Raster r;
    r.channels = 5;
    r.height = static_cast<int>(h);
    r.width = static_cast<int>(w);
    r.values.assign(maps.data_ptr<float>(), maps.data_ptr<float>() + maps.numel());
    const live::Raster pcs = live::principal_components(r, 3);
    ASSERT_EQ(pcs.channels, 3);
    ASSERT_EQ(pcs.height, h);
    ASSERT_EQ(pcs.width, w);
    const at::Tensor got = at::from_blob(const_cast<float*>(pcs.values.data()), {3, n}, at::kFloat).to(at::kDouble);
    // The projections are the latent values (the first's sign by the rule; u2 sums to zero).
    EXPECT_LE((got[0] - a).abs().max().item<double>(), 1e-3);
    EXPECT_LE((got[1].abs() - b.abs()).abs().max().item<double>(), 1e-3);
    EXPECT_LE(got[2].abs().max().item<double>(), 1e-3); // nothing left
    EXPECT_EQ(live::principal_components(r, 8).channels, 5);
    EXPECT_THROW(live::principal_components(live::Raster{}, 3), Error);
    r.values[17] = std::nanf("");
    EXPECT_THROW(live::principal_components(r, 3), Error); // a diverged model's maps
}

TEST(FilmCapture, RecordedMapsMatchTheTrainingFormulation)
{
    if (!onednn::pointwise_slices_available())
        GTEST_SKIP() << "no fused FiLM slices here (AVX-512 and oneDNN's API): recording takes the unfused path";
    Generator net = small_resnet(1);
    at::manual_seed(22);
    // Two images: the FiLM slices count pixels over the batch and cross from one image to the next.
    const at::Tensor x = at::rand({2, 3, 48, 40}) * 2 - 1, g = at::rand({2, 18, 48, 40}) * 2 - 1;
    FilmMaps recorded, reference;
    at::Tensor with, without;
    {
        c10::InferenceMode inference;
        ForwardOptions o;
        o.winograd = false;
        without = net->run(x, g, o);
        o.film = &recorded;
        with = net->run(x, g, o);
    }
    EXPECT_TRUE(at::equal(with, without)); // recording changes nothing
    const at::Tensor plain = net->forward(x, g, &reference).detach(); // autograd's formulation
    EXPECT_LE((plain - with).abs().max().item<double>(), 1e-4);
    ASSERT_EQ(recorded.size(), reference.size());
    EXPECT_GE(recorded.size(), 10u); // gamma and beta, both directions, every level
    for (const auto& [name, ref] : reference) {
        SCOPED_TRACE(name);
        ASSERT_TRUE(recorded.count(name));
        const at::Tensor& m = recorded.at(name);
        ASSERT_EQ(m.sizes(), ref.sizes());
        EXPECT_EQ(m.scalar_type(), at::kFloat);
        EXPECT_LE((m - ref.detach()).abs().max().item<double>(), 1e-4);
    }

    // The bf16 preview's slices record too (rows of bf16, maps of float32), changing nothing.
    if (!bf16_supported(c10::Device(c10::kCPU)))
        return;
    FilmMaps preview;
    at::Tensor with16, without16;
    {
        c10::InferenceMode inference;
        ForwardOptions o;
        o.precision = Precision::BF16;
        without16 = net->run(x, g, o);
        o.film = &preview;
        with16 = net->run(x, g, o);
    }
    EXPECT_TRUE(at::equal(with16, without16));
    ASSERT_EQ(preview.size(), recorded.size());
    for (const auto& [name, exact] : recorded) {
        SCOPED_TRACE(name + " (bf16)");
        ASSERT_TRUE(preview.count(name));
        EXPECT_EQ(preview.at(name).scalar_type(), at::kFloat);
        EXPECT_LE((preview.at(name) - exact).abs().max().item<double>(), 0.05 * std::max(1.0, exact.abs().max().item<double>()));
    }
}

class EngineOnFixture : public ::testing::Test {
protected:
    void SetUp() override
    {
        const std::string d = test::parity_dir() + "/pose_resnet/";
        g_ = load_generator(d + "weights.pth");
        input_ = read_npy(d + "input.npy");
        guide_ = read_npy(d + "guide.npy");
    }
    at::Tensor run(Precision p, const std::atomic<bool>* cancel = nullptr)
    {
        TranslateOptions o;
        o.precision = p;
        o.cancel = cancel;
        return translate(*g_.net, input_, guide_, c10::Device(c10::kCPU), o).output;
    }
    LoadedGenerator g_;
    at::Tensor input_, guide_;
};

double psnr(const at::Tensor& a, const at::Tensor& b) // values in [-1, 1]: peak-to-peak 2
{
    return 10 * std::log10(4.0 / (a - b).pow(2).mean().item<double>());
}

TEST_F(EngineOnFixture, Bf16PreviewStaysCloseToFp32)
{
    if (!bf16_supported(c10::Device(c10::kCPU)))
        GTEST_SKIP() << "this CPU has no AVX512-BF16";
    const at::Tensor exact = run(Precision::FP32), preview = run(Precision::BF16);
    // Measured on the parity fixtures (random weights, harsher than trained ones): 41.5-49.8 dB,
    // max error 0.05-0.11.
    EXPECT_GE(psnr(preview, exact), 35.0);
    EXPECT_LE((preview - exact).abs().max().item<double>(), 0.25);
    EXPECT_GT((preview - exact).abs().max().item<double>(), 0.0); // it really ran in bf16
}

TEST_F(EngineOnFixture, SwitchingPrecisionKeepsEachResult)
{
    if (!bf16_supported(c10::Device(c10::kCPU)))
        GTEST_SKIP() << "this CPU has no AVX512-BF16";
    const at::Tensor a = run(Precision::FP32);
    const at::Tensor b = run(Precision::BF16);
    const at::Tensor c = run(Precision::FP32);
    const at::Tensor d = run(Precision::BF16);
    EXPECT_TRUE(at::equal(a, c));
    EXPECT_TRUE(at::equal(b, d));
}

TEST_F(EngineOnFixture, DerivedWeightsFollowTrainingSteps)
{
    const at::Tensor before = run(Precision::FP32);
    if (bf16_supported(c10::Device(c10::kCPU)))
        run(Precision::BF16); // fill the caches of both precisions
    {
        torch::NoGradGuard no_grad; // what an optimizer step does: in-place updates
        for (auto& p : g_.net->parameters())
            p.mul_(1.01);
    }
    const at::Tensor after = run(Precision::FP32);
    // A fresh network with the same updated weights computes the same.
    Generator fresh = make_generator(g_.net->spec());
    StateDict sd;
    sd.entries = generator_state(*g_.net);
    load_weights(*fresh, sd, "memory");
    const at::Tensor expected = translate(*fresh, input_, guide_, c10::Device(c10::kCPU)).output;
    EXPECT_FALSE(at::equal(before, after));
    EXPECT_TRUE(at::equal(after, expected));
}

TEST_F(EngineOnFixture, TrainingFormulationMatchesTheFusedEngine)
{
    const at::Tensor fused = run(Precision::FP32);
    at::Tensor x = input_.clone().requires_grad_(), g = guide_.clone();
    const at::Tensor plain = g_.net->forward(x, g); // autograd on: ATen ops, differentiable
    ASSERT_TRUE(plain.requires_grad());
    EXPECT_LE((plain.detach() - fused).abs().max().item<double>(), 1e-4);
    plain.sum().backward();
    EXPECT_TRUE(x.grad().defined());
    EXPECT_TRUE(at::isfinite(x.grad()).all().item<bool>());
}

TEST_F(EngineOnFixture, CancelledForwardsStopAndReturnNothing)
{
    std::atomic<bool> cancel{true};
    EXPECT_FALSE(run(Precision::FP32, &cancel).defined());
    cancel = false;
    EXPECT_TRUE(run(Precision::FP32, &cancel).defined());

    // Mid-forward: a full-size generator takes hundreds of milliseconds; cancel it early.
    ArchSpec full = g_.net->spec();
    full.ngf = 64;
    full.n_blocks = 9;
    Generator big = make_generator(full);
    big->eval();
    std::atomic<bool> stop{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        stop = true;
    });
    TranslateOptions o;
    o.cancel = &stop;
    const auto t = translate(*big, at::zeros({1, 3, 256, 256}), at::zeros({1, 18, 256, 256}), c10::Device(c10::kCPU), o);
    canceller.join();
    EXPECT_FALSE(t.output.defined());
}

// --- CUDA graphs (cuda_support.h) -----------------------------------------------------------------

TEST_F(EngineOnFixture, CudaGraphsReplayWhatTheKernelsComputeAndFollowTheWeights)
{
    ForwardOptions direct;
    direct.cuda_graph = false;
    auto batch = [](const at::Tensor& t) { return t.dim() == 3 ? t.unsqueeze(0) : t; };
    // Where there is nothing to capture (the CPU), infer() is run() and nothing is captured.
    {
        c10::InferenceMode inference;
        const at::Tensor x = batch(input_), g = batch(guide_);
        EXPECT_TRUE(at::equal(g_.net->infer(x, g, {}), g_.net->run(x, g, direct)));
        CudaGraphs graphs;
        EXPECT_FALSE(graphs.run(x, g, 0, {}, [&](const at::Tensor& a, const at::Tensor& b) { return g_.net->run(a, b, {}); })
                         .defined());
    }
    EXPECT_EQ(g_.net->cuda_graph_captures(), 0);
    if (!cuda_available())
        GTEST_SKIP() << "no CUDA device: the capture and replay themselves are not run here";

    const c10::Device cuda = resolve_device("cuda");
    g_.net->to(cuda);
    c10::InferenceMode inference;
    auto check = [&](const at::Tensor& x, const at::Tensor& g, Precision p) {
        ForwardOptions o;
        o.precision = p;
        ForwardOptions d = direct;
        d.precision = p;
        const at::Tensor replay = g_.net->infer(x, g, o), kernels = g_.net->run(x, g, d);
        EXPECT_LE((replay - kernels).abs().max().item<double>(), p == Precision::FP32 ? 1e-6 : 1e-2);
    };
    const at::Tensor x = batch(input_).to(cuda), g = batch(guide_).to(cuda);
    check(x, g, Precision::FP32);
    EXPECT_EQ(g_.net->cuda_graph_captures(), 1);
    check(x * 0.5, g.flip(3), Precision::FP32); // new inputs, same graph
    EXPECT_EQ(g_.net->cuda_graph_captures(), 1);
    {
        torch::NoGradGuard no_grad; // an optimizer's in-place step: the graph is captured again
        for (auto& p : g_.net->parameters())
            p.mul_(1.01);
    }
    check(x, g, Precision::FP32);
    EXPECT_EQ(g_.net->cuda_graph_captures(), 2);
    check(x, g, Precision::BF16); // another precision, another graph
    EXPECT_EQ(g_.net->cuda_graph_captures(), 3);
}

// --- signals and the threads that compute (runtime.h) --------------------------------------------

std::atomic<int> g_signals_handled{0};
std::atomic<int> g_signals_on_compute{0};
std::atomic<pid_t> g_compute_tid{0};

void count_signal(int)
{
    g_signals_handled.fetch_add(1);
    if (static_cast<pid_t>(::syscall(SYS_gettid)) == g_compute_tid.load())
        g_signals_on_compute.fetch_add(1);
}

TEST(Runtime, SignalsAreHandledOffTheThreadThatComputes)
{
    if (!onednn::available())
        GTEST_SKIP() << "built without oneDNN";
    // oneDNN's JIT GEMM points rsp into the heap while it runs: a handler run on that thread writes
    // its frame there. As in `bft`, this (main) thread computes while signals keep coming.
    struct sigaction sa {};
    sa.sa_handler = count_signal;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(::sigaction(SIGUSR1, &sa, nullptr), 0); // left in place: a late signal must not end the process
    g_compute_tid = static_cast<pid_t>(::syscall(SYS_gettid));
    take_signals_on_own_thread();
    std::atomic<bool> done{false};
    std::thread sender([&] {
        while (!done) {
            ::kill(::getpid(), SIGUSR1); // to the process, as Ctrl-C is
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    // The shape of the GEMM that aborted a rank (a 1x1 convolution's weight gradient).
    const int64_t m = 32, n = 16, k = 512;
    std::vector<float> a(m * k, 1.0f), b(n * k, 0.5f), c(m * n);
    const auto t0 = std::chrono::steady_clock::now();
    int bad = 0;
    while (g_signals_handled.load() < 200 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
        ASSERT_TRUE(onednn::sgemm(false, true, m, n, k, a.data(), k, b.data(), k, 0.0f, c.data(), n));
        bad += std::count_if(c.begin(), c.end(), [&](float v) { return v != 0.5f * k; });
    }
    done = true;
    sender.join();
    const sigset_t set = async_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr); // the other tests of this process, as they were
    EXPECT_GE(g_signals_handled.load(), 200);
    EXPECT_EQ(g_signals_on_compute.load(), 0);
    EXPECT_EQ(bad, 0);
}

} // namespace
} // namespace bft
