// The `bft` command line as a user meets it: help, exit codes, one-line errors naming the file,
// info in text and JSON, bench's JSON report, convert.
#include "test_support.h"

#include "amx.h"
#include "checkpoint.h"
#include "depth.h"
#include "image_io.h"
#include "npy.h"

#include <ATen/ATen.h>

#include <gtest/gtest.h>

#include <map>

#include <filesystem>

namespace bft {
namespace {

namespace fs = std::filesystem;

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
    r = test::run_cli("bench --preset texture --fp32-math medium");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("--fp32-math takes high or highest, not 'medium'"), std::string::npos) << r.output;
    EXPECT_EQ(line_count(r.output), 1u);
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

// `bft translate --guide` takes the guide files the editor imports, and runs them as the editor does.
TEST(Cli, TranslateTakesEveryGuideFileTheEditorImports)
{
    const auto dir = test::temp_dir("cli-guides");
    const std::string real = test::shared_dir() + "/real/";
    auto translate = [&](const std::string& model, const std::string& rest) {
        return test::run_cli("translate --device cpu --checkpoint " + q(fixture(model)) + " " + rest);
    };
    // Pose: ControlNet's editor's JSON (768x512 canvas) on a 96x64 person: scaled to the image.
    write_image(dir + "/person.png", at::rand({3, 64, 96}) * 2 - 1);
    auto r = translate("pose_resnet", "--input " + q(dir + "/person.png") + " --guide " + q(real + "controlnet_coco18_pixels_pose_hand_fixed.json") +
                                          " --output " + q(dir + "/pose.png"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ImageInfo info;
    read_image(dir + "/pose.png", 3, &info);
    EXPECT_EQ(info.width, 96);
    EXPECT_EQ(info.height, 64);
    // Two people, BODY_25, normalised coordinates: --person picks one, and picking the other differs.
    std::string people = R"({"canvas_width": 96, "canvas_height": 64, "people": [)";
    for (int person = 0; person < 2; ++person) {
        people += std::string(person ? "," : "") + R"({"pose_keypoints_2d": [)";
        for (int k = 0; k < 25; ++k)
            people += std::string(k ? "," : "") + std::to_string(0.2 + 0.5 * person + 0.01 * k) + "," + std::to_string(0.1 + 0.03 * k) + ",0.9";
        people += "]}";
    }
    people += "]}";
    test::write_bytes(dir + "/two people.json", people);
    r = translate("pose_resnet", "--input " + q(dir + "/person.png") + " --guide " + q(dir + "/two people.json") + " --person 1 --output " + q(dir + "/p1.npy"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = translate("pose_resnet", "--input " + q(dir + "/person.png") + " --guide " + q(dir + "/two people.json") + " --output " + q(dir + "/p0.npy"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("2 people; the first was taken"), std::string::npos) << r.output;
    EXPECT_GT((read_npy(dir + "/p0.npy") - read_npy(dir + "/p1.npy")).abs().max().item<float>(), 1e-3f);
    r = translate("pose_resnet", "--input " + q(dir + "/person.png") + " --guide " + q(dir + "/two people.json") + " --person 2 --output " + q(dir + "/x.png"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("two people.json"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("person 2 does not exist"), std::string::npos) << r.output;

    // Texture: the editor's patch layout (made for a 256x256 image) on a 64x64 sketch; moving the patch changes the result.
    fs::copy_file(real + "texturegan_flask_sketch_tshirt.jpg", dir + "/sketch.jpg");
    write_image(dir + "/layout.texture-1.png", at::rand({3, 20, 20}) * 2 - 1);
    auto layout = [&](int x) {
        return R"({"image_width": 256, "image_height": 256, "textures": ["layout.texture-1.png"], "patches": [{"texture": 0, "x": )" +
               std::to_string(x) + R"(, "y": 100, "width": 60, "height": 60}]})";
    };
    test::write_bytes(dir + "/layout.json", layout(60));
    r = translate("texture_unet", "--input " + q(dir + "/sketch.jpg") + " --guide " + q(dir + "/layout.json") + " --output " + q(dir + "/t1.npy"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    test::write_bytes(dir + "/layout.json", layout(140));
    r = translate("texture_unet", "--input " + q(dir + "/sketch.jpg") + " --guide " + q(dir + "/layout.json") + " --output " + q(dir + "/t2.npy"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const at::Tensor t1 = read_npy(dir + "/t1.npy");
    EXPECT_EQ(t1.size(0), 3);
    EXPECT_EQ(t1.size(1), 256);
    EXPECT_GT((t1 - read_npy(dir + "/t2.npy")).abs().max().item<float>(), 1e-3f);
    test::write_bytes(dir + "/broken.json", R"({"image_width": 256, "image_height": 256, "textures": ["missing.png"], "patches": []})");
    r = translate("texture_unet", "--input " + q(dir + "/sketch.jpg") + " --guide " + q(dir + "/broken.json") + " --output " + q(dir + "/t3.png"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("missing.png"), std::string::npos) << r.output;

    // Depth: a 16-bit PNG (Redwood, mm) and sparse points give depth out, in metres.
    r = translate("depth_resnet", "--guide " + q(real + "redwood_color_00000.jpg") + " --depth " + q(real + "redwood_depth_00000.png") +
                                      " --output " + q(dir + "/d.npy"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const at::Tensor d = read_npy(dir + "/d.npy");
    EXPECT_EQ(d.size(-1), 640);
    EXPECT_EQ(d.size(-2), 480);
    EXPECT_TRUE(((d >= 0) & (d <= 10)).all().item<bool>());
    test::write_bytes(dir + "/points.csv", "x,y,metres\n10,10,1.5\n600,400,3.0\n320, 240, 2.25 # centre\n");
    r = translate("depth_resnet", "--guide " + q(real + "redwood_color_00000.jpg") + " --depth " + q(dir + "/points.csv") + " --output " + q(dir + "/p.png"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(depth::read_depth(dir + "/p.png").size(2), 640);
    test::write_bytes(dir + "/bad points.txt", "10 10 1.5\n900 10 2\n");
    r = translate("depth_resnet", "--guide " + q(real + "redwood_color_00000.jpg") + " --depth " + q(dir + "/bad points.txt") + " --output " + q(dir + "/q.png"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("bad points.txt"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("line 2"), std::string::npos) << r.output;
    r = translate("pose_resnet", "--input " + q(dir + "/person.png") + " --guide " + q(dir + "/person.png") + " --depth " + q(dir + "/points.csv") + " --output " + q(dir + "/x.png"));
    EXPECT_EQ(r.exit_code, 2) << r.output; // --depth is for depth models
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
    EXPECT_EQ(j["fp32_math"], "highest");
    EXPECT_EQ(j["amx"], false);
    // fp32-math high says whether AMX ran it (the U-Net's products; this CPU's tiles or none).
    r = test::run_cli("bench --preset texture --ngf 16 --size 64 --runs 1 --warmup 1 --threads 1 --device cpu --json "
                      "--fp32-math high", /*stdout_only=*/true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto high = nlohmann::json::parse(r.output);
    EXPECT_EQ(high["fp32_math"], "high");
    EXPECT_EQ(high["amx"], amx::usable());
}

TEST(Cli, BenchProfilesEveryLayer)
{
    const auto dir = test::temp_dir("cli-bench-profile");
    auto r = test::run_cli("bench --preset pose --ngf 4 --size 64 --runs 1 --warmup 1 --threads 1 --device cpu "
                           "--profile " + q(dir + "/trace.json"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto trace = nlohmann::json::parse(test::read_bytes(dir + "/trace.json"));
    std::map<std::string, int> layers;
    for (const auto& e : trace)
        if (e.contains("name") && e["name"].get<std::string>().rfind("bft::layer::", 0) == 0 && e.value("ph", "") == "X")
            ++layers[e["name"].get<std::string>()];
    // The pose ResNet's layers, each a range of its own (on a GPU each also waits for its kernels).
    EXPECT_GE(layers["bft::layer::conv"], 20); // 9 blocks of two, the stems, the encoders
    EXPECT_GE(layers["bft::layer::conv_transpose"], 2);
    // Its 7 FiLM modulations (4 levels from the guide, 3 from the input): on AVX-512 the bottleneck's
    // slices modulate as they are made (one range each), elsewhere the two layers apart.
    if (layers["bft::layer::film_params"] == 0) {
        EXPECT_EQ(layers["bft::layer::film_from"], 7);
    } else {
        EXPECT_EQ(layers["bft::layer::film_params"], 7);
        EXPECT_EQ(layers["bft::layer::film"], 7);
        EXPECT_EQ(layers["bft::layer::film_from"], 0); // no empty ranges of an attempt that cannot run
    }
    EXPECT_GE(layers["bft::layer::instance_norm"], 18);
    // The stems' and the last layer's at least; the trunk's 18 are written by its norms on the CPU
    // in fp32 (Ops::padded_trunk), padding layers of their own elsewhere.
    EXPECT_GE(layers["bft::layer::reflect_pad"], 3);
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
