// The `bft` command line as a user meets it: help, exit codes, one-line errors naming the file,
// info in text and JSON, bench's JSON report, convert.
#include "test_support.h"

#include "checkpoint.h"
#include "image_io.h"

#include <gtest/gtest.h>

namespace bft {
namespace {

std::string fixture(const std::string& name) { return test::parity_dir() + "/" + name + "/weights.pth"; }
std::string q(const std::string& s) { return "'" + s + "'"; }

size_t line_count(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, HelpForEveryCommand)
{
    auto top = test::run_cli("--help");
    EXPECT_EQ(top.exit_code, 0);
    for (const std::string cmd : {"info", "translate", "bench", "convert"}) {
        EXPECT_NE(top.output.find(cmd), std::string::npos);
        auto r = test::run_cli(cmd + " --help");
        EXPECT_EQ(r.exit_code, 0) << cmd;
        EXPECT_EQ(r.output.rfind("usage: bft " + cmd, 0), 0u) << r.output;
    }
    EXPECT_EQ(test::run_cli("").exit_code, 2);
    EXPECT_EQ(test::run_cli("frobnicate").exit_code, 2);
    EXPECT_EQ(test::run_cli("--version").output.rfind("bft ", 0), 0u);
}

TEST(Cli, UsageErrorsAreOneLine)
{
    auto r = test::run_cli("translate --checkpoint x.pth");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.output, "bft translate: --input is required (see 'bft translate --help')\n");
    r = test::run_cli("bench --preset pose --runs zero");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("--runs needs a whole number"), std::string::npos);
}

TEST(Cli, InfoPrintsTheInferredArchitecture)
{
    auto r = test::run_cli("info " + q(fixture("texture_unet")) + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto j = nlohmann::json::parse(r.output);
    EXPECT_EQ(j["arch"], "bFT_unet");
    EXPECT_EQ(j["input_nc"], 1);
    EXPECT_EQ(j["guide_nc"], 4);
    EXPECT_EQ(j["output_nc"], 3);
    EXPECT_EQ(j["ngf"], 8);
    EXPECT_EQ(j["num_downs"], 7);
    EXPECT_EQ(j["format"], "legacy");
    EXPECT_EQ(j["params"], count_parameters(*load_generator(fixture("texture_unet")).net));

    r = test::run_cli("info " + q(fixture("film_resnet")));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("arch:        uFT_resnet"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("n_blocks:    2"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("format:      zip"), std::string::npos) << r.output;
}

TEST(Cli, DamagedCheckpointsGetAOneLineErrorNamingTheFile)
{
    const auto dir = test::temp_dir("cli-damaged");
    const std::string bytes = test::read_bytes(fixture("pose_resnet"));
    std::string flipped = bytes;
    flipped[bytes.find("padding_in.1.weight") + 3] ^= 0x01; // a flipped bit in a key name
    const std::vector<std::pair<std::string, std::string>> files = {
        {"truncated.pth", bytes.substr(0, bytes.size() / 2)},
        {"flipped.pth", flipped},
        {"foreign.pth", "\x80\x02]q\x00."},
    };
    const std::string in = test::parity_dir() + "/pose_resnet/";
    for (const auto& [name, content] : files) {
        const std::string path = dir + "/" + name;
        test::write_bytes(path, content);
        for (const std::string cmd : {"info " + q(path), "translate --checkpoint " + q(path) + " --input " + q(in + "input.npy") +
                                                             " --guide " + q(in + "guide.npy") + " --output " + q(dir + "/o.npy")}) {
            auto r = test::run_cli(cmd);
            EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.output;
            EXPECT_EQ(line_count(r.output), 1u) << r.output;
            EXPECT_NE(r.output.find("error: " + path + ": "), std::string::npos) << r.output;
        }
    }
}

TEST(Cli, TranslateImagesOfAnySize)
{
    const auto dir = test::temp_dir("cli-images");
    // depth fixture: 1-channel input, RGB guide; a 16-bit depth map and its colour image from Redwood.
    auto r = test::run_cli("translate --checkpoint " + q(fixture("depth_resnet")) + " --input " +
                           q(test::shared_dir() + "/real/redwood_depth_00000.png") + " --guide " +
                           q(test::shared_dir() + "/real/redwood_color_00000.jpg") + " --output " + q(dir + "/d.png") +
                           " --device cpu");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ImageInfo info;
    read_image(dir + "/d.png", 1, &info);
    EXPECT_EQ(info.width, 640);
    EXPECT_EQ(info.height, 480);
    EXPECT_EQ(info.bit_depth, 16); // follows the input's bit depth
    r = test::run_cli("translate --checkpoint " + q(fixture("depth_resnet")) + " --input " +
                      q(test::shared_dir() + "/real/redwood_depth_00000.png") + " --guide " +
                      q(test::shared_dir() + "/real/texturegan_flask_photo_tshirt.jpg") + " --output " + q(dir + "/e.png"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("input is 640x480 but guide is 256x256"), std::string::npos) << r.output;
}

TEST(Cli, BenchWritesAJsonReport)
{
    const auto dir = test::temp_dir("cli-bench");
    auto r = test::run_cli("bench --preset texture --ngf 4 --size 64 --runs 3 --warmup 1 --threads 1 --device cpu --json "
                           "--report " + q(dir + "/report.json"),
                           /*stdout_only=*/true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto j = nlohmann::json::parse(r.output);
    EXPECT_EQ(j["model"]["arch"], "bFT_unet");
    EXPECT_EQ(j["model"]["ngf"], 4);
    EXPECT_EQ(j["runs"], 3);
    EXPECT_EQ(j["width"], 64);
    EXPECT_EQ(j["run_width"], 128); // 7 downs: padded to a multiple of 128, as translate does
    EXPECT_EQ(j["threads"], 1);
    EXPECT_EQ(j["times_ms"].size(), 3u);
    EXPECT_GT(j["median_ms"].get<double>(), 0.0);
    EXPECT_LE(j["min_ms"].get<double>(), j["median_ms"].get<double>());
    EXPECT_GE(j["max_ms"].get<double>(), j["median_ms"].get<double>());
    EXPECT_EQ(nlohmann::json::parse(test::read_bytes(dir + "/report.json")), j);
}

TEST(Cli, ConvertWritesACleanZipCheckpoint)
{
    const auto dir = test::temp_dir("cli-convert");
    auto r = test::run_cli("convert " + q(fixture("pose_resnet")) + " " + q(dir + "/pose.pth"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const StateDict a = read_state_dict(fixture("pose_resnet")), b = read_state_dict(dir + "/pose.pth");
    EXPECT_EQ(b.format, CheckpointFormat::Zip);
    ASSERT_EQ(a.entries.size(), b.entries.size());
    for (size_t k = 0; k < a.entries.size(); ++k)
        EXPECT_TRUE(at::equal(a.entries[k].second, b.entries[k].second)) << a.entries[k].first;
}

} // namespace
} // namespace bft
