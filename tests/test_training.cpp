// The training step of the paper's objective: the discriminator's parameter names follow the
// reference, and steps on a fixed sample fit it (L1 falls), with and without the GAN.
#include "training.h"

#include <gtest/gtest.h>

#include <set>

namespace bft {
namespace {

TEST(Training, DiscriminatorKeysFollowTheReference)
{
    PatchDiscriminator d(8);
    std::set<std::string> keys;
    for (const auto& p : d->named_parameters())
        keys.insert(p.key());
    std::set<std::string> expected;
    for (int i : {0, 2, 5, 8, 11})
        for (const char* kind : {"weight", "bias"})
            expected.insert("model." + std::to_string(i) + "." + kind);
    EXPECT_EQ(keys, expected);
    EXPECT_EQ(d->forward(at::zeros({1, 8, 64, 64})).sizes(), (std::vector<int64_t>{1, 1, 6, 6})); // 70x70 patches
}

TEST(Training, StepsFitAFixedSample)
{
    for (bool gan : {true, false}) {
        SCOPED_TRACE(gan ? "L1 + LSGAN" : "L1");
        at::manual_seed(11);
        ArchSpec s;
        s.arch = Arch::BftUnet;
        s.input_nc = 1, s.guide_nc = 4, s.output_nc = 3, s.ngf = 8, s.num_downs = 6;
        TrainConfig c;
        c.use_gan = gan;
        c.lr = 1e-3;
        c.ndf = 8;
        TrainStep step(make_generator(s), c, c10::Device(c10::kCPU));
        const at::Tensor x = at::rand({2, 1, 64, 64}) * 2 - 1, g = at::rand({2, 4, 64, 64}) * 2 - 1;
        const at::Tensor y = at::rand({2, 3, 64, 64}).mul(0.5).sub(0.25);
        const StepLosses first = step.run(x, g, y);
        StepLosses last;
        for (int k = 0; k < 40; ++k)
            last = step.run(x, g, y);
        EXPECT_LT(last.g_l1, first.g_l1 * 0.6);
        if (gan) {
            EXPECT_GT(first.d_real + first.d_fake, 0.0);
            EXPECT_TRUE(std::isfinite(last.g_gan));
        }
    }
}

} // namespace
} // namespace bft
