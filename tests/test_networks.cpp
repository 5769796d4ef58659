// The generators beyond the fixtures: all four build and run, capture names the right maps, and
// `translate` handles any image size, bad channels, size mismatches and NaN.
#include "test_support.h"

#include "checkpoint.h"
#include "errors.h"
#include "inference.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <set>

namespace bft {
namespace {

ArchSpec spec_of(Arch arch, int num_downs = 6)
{
    ArchSpec s;
    s.arch = arch;
    s.input_nc = 1, s.guide_nc = 4, s.output_nc = 3, s.ngf = 4, s.n_blocks = 1, s.num_downs = num_downs;
    return s;
}

const c10::Device kCpu(c10::kCPU);

TEST(Networks, CaptureNamesEveryLevelAndDirection)
{
    struct Case {
        Arch arch;
        int num_downs;
        std::vector<std::string> levels_g2i, levels_i2g;
    };
    const std::vector<Case> cases = {
        {Arch::BftResnet, 6, {"L1", "L2", "L3", "L4"}, {"L1", "L2", "L3"}},
        {Arch::UftResnet, 6, {"L1", "L2", "L3", "L4"}, {}},
        {Arch::BftUnet, 7, {"L2", "L3", "L4", "L5", "L6"}, {"L2", "L3", "L4", "L5", "L6"}},
        {Arch::UftUnet, 6, {"L2", "L3", "L4", "L5"}, {}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(arch_name(c.arch));
        Generator net = make_generator(spec_of(c.arch, c.num_downs));
        net->eval();
        const int side = 1 << c.num_downs;
        const auto t = translate(*net, at::rand({1, 1, side, side}) * 2 - 1, at::rand({1, 4, side, side}) * 2 - 1, kCpu, true);
        EXPECT_EQ(t.output.sizes(), (std::vector<int64_t>{1, 3, side, side}));
        EXPECT_LE(t.output.abs().max().item<float>(), 1.0f); // tanh output
        std::set<std::string> expected;
        for (const auto& l : c.levels_g2i)
            expected.insert("gamma_g2i_" + l), expected.insert("beta_g2i_" + l);
        for (const auto& l : c.levels_i2g)
            expected.insert("gamma_i2g_" + l), expected.insert("beta_i2g_" + l);
        std::set<std::string> got;
        for (const auto& [name, map] : t.film) {
            got.insert(name);
            EXPECT_TRUE(at::isfinite(map).all().item<bool>()) << name;
        }
        EXPECT_EQ(got, expected);
    }
}

// The biases training leaves alone (generator.h) are exactly those that change no output: probed in
// float64, where their gradients are zero to the last digits and every other parameter's is not.
TEST(Networks, AbsorbedBiasesAreExactlyThoseThatChangeNothing)
{
    for (Arch arch : {Arch::BftResnet, Arch::UftResnet, Arch::BftUnet, Arch::UftUnet}) {
        SCOPED_TRACE(arch_name(arch));
        ArchSpec spec = spec_of(arch);
        spec.ngf = 2;
        Generator net = make_generator(spec);
        net->to(at::kDouble);
        net->train();
        at::manual_seed(1);
        const at::Tensor input = at::rand({2, 1, 64, 64}, at::kDouble) * 2 - 1;
        const at::Tensor guide = at::rand({2, 4, 64, 64}, at::kDouble) * 2 - 1;
        const at::Tensor out = net->forward(input, guide);
        (out * at::randn_like(out)).sum().backward();
        std::set<const void*> absorbed;
        for (const auto& b : net->absorbed_biases())
            absorbed.insert(b.unsafeGetTensorImpl());
        EXPECT_FALSE(absorbed.empty());
        size_t found = 0;
        for (const auto& p : net->named_parameters()) {
            if (!p.value().grad().defined()) { // unused by the forward, as in the reference (bFT_Resnet's last i2g bottleneck)
                EXPECT_FALSE(absorbed.count(p.value().unsafeGetTensorImpl())) << p.key();
                continue;
            }
            const double g = p.value().grad().abs().max().item<double>();
            if (absorbed.count(p.value().unsafeGetTensorImpl())) {
                ++found;
                EXPECT_EQ(p.key().substr(p.key().size() - 5), ".bias") << p.key();
                EXPECT_LT(g, 1e-10) << p.key();
            } else {
                EXPECT_GT(g, 1e-9) << p.key() << " changes the output but is not trained";
            }
        }
        EXPECT_EQ(found, absorbed.size());
        // And moving them moves nothing (the differentiable formulation: float64 throughout).
        const at::Tensor before = net->forward(input, guide).detach();
        {
            at::NoGradGuard no_grad;
            for (const auto& b : net->absorbed_biases())
                b.add_(0.5);
        }
        EXPECT_LT((net->forward(input, guide) - before).abs().max().item<double>(), 1e-10);
    }
}

TEST(Networks, UnetNeedsSixDowns)
{
    EXPECT_THROW(make_generator(spec_of(Arch::BftUnet, 5)), Error);
    EXPECT_NO_THROW(make_generator(spec_of(Arch::BftUnet, 6)));
}

class TranslateSizes : public ::testing::Test {
protected:
    void SetUp() override { g_ = load_generator(test::parity_dir() + "/pose_resnet/weights.pth"); }
    LoadedGenerator g_;
};

TEST_F(TranslateSizes, AnySizeIsPaddedAndCroppedBack)
{
    for (auto [h, w] : std::vector<std::pair<int, int>>{{50, 37}, {5, 9}, {1, 1}, {64, 72}}) {
        SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w));
        const auto t = translate(*g_.net, at::rand({3, h, w}) * 2 - 1, at::rand({18, h, w}) * 2 - 1, kCpu, true);
        EXPECT_EQ(t.output.sizes(), (std::vector<int64_t>{1, 3, h, w}));
        EXPECT_TRUE(at::isfinite(t.output).all().item<bool>());
        // Each level is cropped to the part that covers the image: ceil(side / scale).
        EXPECT_EQ(t.film.at("gamma_g2i_L1").size(2), h);
        EXPECT_EQ(t.film.at("gamma_g2i_L4").size(3), (w + 7) / 8);
    }
}

TEST_F(TranslateSizes, SizesThatFitAreNotPadded)
{
    at::Tensor x = at::rand({1, 3, 64, 48}) * 2 - 1, g = at::rand({1, 18, 64, 48}) * 2 - 1;
    const auto t = translate(*g_.net, x, g, kCpu);
    at::Tensor direct;
    {
        c10::InferenceMode mode;
        direct = g_.net->forward(x, g);
    }
    EXPECT_TRUE(at::equal(t.output, direct));
}

TEST_F(TranslateSizes, BadInputsAreRefusedWithReasons)
{
    auto message = [&](at::Tensor x, at::Tensor g) -> std::string {
        try {
            translate(*g_.net, x, g, kCpu);
        } catch (const Error& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_EQ(message(at::zeros({1, 64, 64}), at::zeros({18, 64, 64})), "input has 1 channels, the model takes 3");
    EXPECT_EQ(message(at::zeros({3, 64, 64}), at::zeros({3, 64, 64})), "guide has 3 channels, the model takes 18");
    EXPECT_EQ(message(at::zeros({3, 64, 64}), at::zeros({18, 32, 64})),
              "input is 64x64 but guide is 64x32 (they must be the same size)");
    at::Tensor nan = at::zeros({3, 16, 16});
    nan[0][3][4] = NAN;
    EXPECT_EQ(message(nan, at::zeros({18, 16, 16})), "input contains NaN or infinite values");
    EXPECT_EQ(message(at::zeros({3, 16, 16}), at::full({18, 16, 16}, INFINITY)), "guide contains NaN or infinite values");
    EXPECT_EQ(message(at::zeros({16, 16}), at::zeros({18, 16, 16})), "input must be NCHW or CHW, got 2 dimensions");
}

} // namespace
} // namespace bft
