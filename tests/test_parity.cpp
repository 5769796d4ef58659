// Parity with the authors' implementation: every case of the official-parity fixtures (made by
// their models/networks.py) gives the same outputs and gamma/beta maps within the manifest's
// tolerance, and our parameter names are exactly their state_dict keys.
#include "test_support.h"

#include "checkpoint.h"
#include "inference.h"
#include "npy.h"

#include <gtest/gtest.h>

#include <set>

namespace bft {
namespace {

class Parity : public ::testing::TestWithParam<std::string> {
protected:
    nlohmann::json entry() const
    {
        for (const auto& c : test::parity_manifest())
            if (c["name"] == GetParam())
                return c;
        throw std::runtime_error("no parity case " + GetParam());
    }
    std::string file(const std::string& name) const { return test::parity_dir() + "/" + GetParam() + "/" + name; }
};

double max_abs_diff(const at::Tensor& a, const at::Tensor& b)
{
    return (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
}

TEST_P(Parity, InferredArchitectureMatchesManifest)
{
    const auto c = entry();
    const StateDict sd = read_state_dict(file("weights.pth"));
    EXPECT_EQ(format_name(sd.format), c["fmt"].get<std::string>());
    EXPECT_EQ(sd.entries.size(), c["state_dict_keys"].get<size_t>());
    const ArchSpec s = infer_arch(sd, file("weights.pth"));
    EXPECT_EQ(arch_name(s.arch), c["arch"].get<std::string>());
    EXPECT_EQ(s.input_nc, c["input_nc"].get<int>());
    EXPECT_EQ(s.guide_nc, c["guide_nc"].get<int>());
    EXPECT_EQ(s.output_nc, c["output_nc"].get<int>());
    EXPECT_EQ(s.ngf, c["ngf"].get<int>());
    EXPECT_EQ(s.bottleneck_depth, c["bottleneck_depth"].get<int>());
    if (c.contains("n_blocks"))
        EXPECT_EQ(s.n_blocks, c["n_blocks"].get<int>());
    if (c.contains("num_downs"))
        EXPECT_EQ(s.num_downs, c["num_downs"].get<int>());
}

TEST_P(Parity, ParameterNamesAreTheStateDictKeys)
{
    const StateDict sd = read_state_dict(file("weights.pth"));
    Generator net = make_generator(infer_arch(sd, file("weights.pth")));
    std::set<std::string> file_keys, ours;
    for (const auto& [k, t] : sd.entries)
        file_keys.insert(k);
    for (const auto& p : net->named_parameters())
        ours.insert(p.key());
    EXPECT_EQ(file_keys, ours);
    // Same order as the reference registers them, so the checkpoints we write read naturally.
    auto state = generator_state(*net);
    ASSERT_EQ(state.size(), sd.entries.size());
    for (size_t k = 0; k < state.size(); ++k)
        EXPECT_EQ(state[k].first, sd.entries[k].first) << "at position " << k;
}

TEST_P(Parity, OutputAndFilmMapsMatchTheReference)
{
    const auto c = entry();
    const double tol = c["tolerance_max_abs"].get<double>();
    LoadedGenerator g = load_generator(file("weights.pth"));
    const at::Tensor input = read_npy(file("input.npy"));
    const at::Tensor guide = read_npy(file("guide.npy"));
    const at::Tensor expected = read_npy(file("output.npy"));
    const Translation t = translate(*g.net, input, guide, c10::Device(c10::kCPU), /*capture_film=*/true);
    ASSERT_EQ(t.output.sizes(), expected.sizes());
    EXPECT_LE(max_abs_diff(t.output, expected), tol);
    // The reference's output is far from trivial: a broken network could not pass by accident.
    EXPECT_NEAR(expected.abs().mean().item<double>(), c["output_abs_mean"].get<double>(), 1e-4);

    for (const auto& m : c["film_maps"]) {
        for (const std::string kind : {"gamma", "beta"}) {
            const std::string name = kind + "_" + m.get<std::string>();
            SCOPED_TRACE(name);
            ASSERT_TRUE(t.film.count(name));
            const at::Tensor ref = read_npy(file(name + ".npy"));
            ASSERT_EQ(t.film.at(name).sizes(), ref.sizes());
            EXPECT_LE(max_abs_diff(t.film.at(name), ref), tol);
        }
    }
    // Capture is off by default and changes nothing.
    const Translation plain = translate(*g.net, input, guide, c10::Device(c10::kCPU));
    EXPECT_TRUE(plain.film.empty());
    EXPECT_EQ(max_abs_diff(plain.output, t.output), 0.0);
}

// Training runs the same network through autograd's formulation (LibTorch's convolutions, the
// U-Net's innermost levels by im2col and GEMM): it too must reproduce the reference.
TEST_P(Parity, TrainingFormulationMatchesTheReference)
{
    const auto c = entry();
    LoadedGenerator g = load_generator(file("weights.pth"));
    const at::Tensor input = read_npy(file("input.npy")).requires_grad_(); // N x C x H x W, sizes the network takes
    const at::Tensor out = g.net->forward(input, read_npy(file("guide.npy")));
    ASSERT_TRUE(out.requires_grad());
    EXPECT_LE(max_abs_diff(out.detach(), read_npy(file("output.npy"))), c["tolerance_max_abs"].get<double>());
}

TEST_P(Parity, CliTranslateReproducesTheOutput)
{
    const auto dir = test::temp_dir("parity-cli-" + GetParam());
    const auto run = test::run_cli("translate --checkpoint '" + file("weights.pth") + "' --input '" + file("input.npy") +
                                   "' --guide '" + file("guide.npy") + "' --output '" + dir + "/out.npy' --film-dir '" +
                                   dir + "/film' --device cpu");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const auto c = entry();
    EXPECT_LE(max_abs_diff(read_npy(dir + "/out.npy"), read_npy(file("output.npy"))),
              c["tolerance_max_abs"].get<double>());
    for (const auto& m : c["film_maps"])
        EXPECT_LE(max_abs_diff(read_npy(dir + "/film/gamma_" + m.get<std::string>() + ".npy"),
                               read_npy(file("gamma_" + m.get<std::string>() + ".npy"))),
                  c["tolerance_max_abs"].get<double>());
}

std::vector<std::string> case_names()
{
    std::vector<std::string> names;
    try {
        for (const auto& c : test::parity_manifest())
            names.push_back(c["name"]);
    } catch (const std::exception&) {
        names.push_back("fixtures_missing"); // makes the suite fail loudly instead of running nothing
    }
    return names;
}

INSTANTIATE_TEST_SUITE_P(Official, Parity, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

TEST(ParityManifest, CoversEveryArchitectureFamilyAndBothFormats)
{
    std::set<std::string> archs, formats;
    for (const auto& c : test::parity_manifest()) {
        archs.insert(c["arch"]);
        formats.insert(c["fmt"]);
    }
    EXPECT_TRUE(archs.count("bFT_resnet") && archs.count("bFT_unet") && archs.count("uFT_resnet"));
    EXPECT_EQ(formats, (std::set<std::string>{"legacy", "zip"}));
}

} // namespace
} // namespace bft
