// The inference engine's rewrites against LibTorch's own operators: the sub-pixel transposed
// convolution for every stride-2 configuration the networks use (and more), odd sizes included,
// forward and backward.
#include "convolution.h"

#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

namespace bft {
namespace {

struct TransposeCase {
    int64_t k, padding, output_padding, h, w;
};

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

} // namespace
} // namespace bft
