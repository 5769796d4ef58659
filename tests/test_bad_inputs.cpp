// The bad-input matrix: for each kind of file people hand us (source image, depth map, checkpoint,
// OpenPose JSON, dataset folder, texture image), the ways it can be wrong - empty, truncated,
// another type under the right extension, wrong channels, an absurd size in the header, NaN or
// Inf, unreadable (a folder where a file should be) - through the CLI. Each must end with exit
// code 1 and one line naming the file, and leave the output it was asked to write untouched.
// Good files under paths with spaces and non-ASCII names must work. (Session files are the
// editor's: the studio tests feed it the same matrix.)
#include "test_support.h"

#include "checkpoint.h"
#include "image_io.h"
#include "npy.h"
#include "synth.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <limits>

namespace bft {
namespace {

namespace fs = std::filesystem;

std::string q(const std::string& s) { return "'" + s + "'"; }
std::string fixture(const std::string& name) { return test::parity_dir() + "/" + name + "/weights.pth"; }

// A PNG whose header claims 100000 x 100000 pixels (the rest is cut off).
std::string absurd_png()
{
    std::string b = "\x89PNG\r\n\x1a\n";
    b += std::string("\0\0\0\x0d", 4) + "IHDR";
    for (uint32_t v : {100000u, 100000u})
        for (int s = 24; s >= 0; s -= 8)
            b += static_cast<char>((v >> s) & 0xFF);
    b += std::string("\x08\x02\0\0\0", 5) + "CRCX";
    return b;
}

struct Kind {
    std::string name, ext;
    std::string good;                                    // a valid file of this kind
    std::function<std::string(const std::string&)> cmd; // the bft arguments that read `file`
};

class BadInputs : public ::testing::Test {
protected:
    void SetUp() override
    {
        // One folder per test: CTest runs them side by side, and temp_dir empties the folder.
        dir_ = test::temp_dir(std::string("bad-inputs-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        out_ = dir_ + "/out put.png";
        write_image(dir_ + "/person.png", at::rand({3, 64, 64}) * 2 - 1);
        write_image(dir_ + "/rgb.png", at::rand({3, 48, 64}) * 2 - 1);
        write_image(dir_ + "/sketch.png", at::rand({1, 64, 64}) * 2 - 1);
        write_npy(dir_ + "/depth.npy", at::rand({1, 12, 16}) * 5 + 0.5);
    }

    // Runs the command on `file`; expects failure, one line naming the file, the output untouched.
    void expect_refused(const Kind& k, const std::string& variant, const std::string& file)
    {
        test::write_bytes(out_, "KEEP");
        const test::Run r = test::run_cli(k.cmd(file));
        SCOPED_TRACE(k.name + " / " + variant + ": " + r.output);
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1);
        EXPECT_NE(r.output.find(fs::path(file).filename().string()), std::string::npos);
        EXPECT_TRUE(test::read_bytes(out_) == "KEEP") << "the output was overwritten";
    }

    std::string dir_, out_;
};

TEST_F(BadInputs, EveryKindOfFileEveryWayWrong)
{
    const std::string real = test::shared_dir() + "/real/";
    const std::string pose_json = real + "controlnet_coco18_pixels_pose_hand_fixed.json";
    auto translate = [&](const std::string& model, const std::string& rest) {
        return "translate --device cpu --threads 1 --checkpoint " + q(fixture(model)) + " " + rest + " --output " + q(out_);
    };
    std::vector<Kind> kinds{
        {"source image", ".png", dir_ + "/person.png",
         [&](const std::string& f) { return translate("pose_resnet", "--input " + q(f) + " --guide " + q(pose_json)); }},
        {"depth map", ".png", real + "redwood_depth_00000.png",
         [&](const std::string& f) { return translate("depth_resnet", "--guide " + q(real + "redwood_color_00000.jpg") + " --depth " + q(f)); }},
        {"checkpoint", ".pth", fixture("pose_resnet"),
         [&](const std::string& f) {
             return "translate --device cpu --threads 1 --checkpoint " + q(f) + " --input " + q(dir_ + "/person.png") + " --guide " + q(pose_json) +
                    " --output " + q(out_);
         }},
        {"OpenPose JSON", ".json", pose_json,
         [&](const std::string& f) { return translate("pose_resnet", "--input " + q(dir_ + "/person.png") + " --guide " + q(f)); }},
        {"texture image", ".png", real + "texturegan_flask_photo_tshirt.jpg",
         [&](const std::string& f) {
             // A patch layout whose one texture is `f`.
             const std::string layout = fs::path(f).parent_path().string() + "/layout.json";
             test::write_bytes(layout, R"({"image_width": 64, "image_height": 64, "textures": [")" + fs::path(f).filename().string() +
                                           R"("], "patches": [{"texture": 0, "x": 10, "y": 10, "width": 20, "height": 20}]})");
             return translate("texture_unet", "--input " + q(dir_ + "/sketch.png") + " --guide " + q(layout));
         }},
    };
    int n = 0;
    for (const Kind& k : kinds) {
        const std::string good = test::read_bytes(k.good);
        ASSERT_FALSE(good.empty()) << k.good;
        const std::string base = dir_ + "/" + std::to_string(n++) + "-";
        auto make = [&](const std::string& variant, const std::string& bytes) {
            const std::string f = base + variant + k.ext;
            test::write_bytes(f, bytes);
            return f;
        };
        expect_refused(k, "empty", make("empty", ""));
        expect_refused(k, "truncated", make("truncated", good.substr(0, good.size() / 2)));
        expect_refused(k, "another type", make("text", "this is text, not the file its name says\n"));
        if (k.ext == ".png")
            expect_refused(k, "absurd header", make("absurd", absurd_png()));
        if (k.ext == ".json" || k.ext == ".pth")
            expect_refused(k, "an image under its name", make("png", test::read_bytes(dir_ + "/person.png")));
        const std::string folder = base + "folder" + k.ext;
        fs::create_directories(folder);
        expect_refused(k, "a folder, not a file", folder);
        expect_refused(k, "missing", base + "missing" + k.ext);
        // The same good file under a name with spaces and non-ASCII characters works.
        const std::string odd_dir = dir_ + "/dossier à espaces " + std::to_string(n);
        fs::create_directories(odd_dir);
        const std::string odd = odd_dir + "/ünïcödé 名前" + (k.ext == ".png" ? fs::path(k.good).extension().string() : k.ext);
        fs::copy_file(k.good, odd);
        const test::Run ok = test::run_cli(k.cmd(odd));
        EXPECT_EQ(ok.exit_code, 0) << k.name << ": " << ok.output;
    }
}

TEST_F(BadInputs, WrongChannelsNaNAndInfinity)
{
    const std::string real = test::shared_dir() + "/real/";
    const Kind depth{"depth map", ".npy", "", [&](const std::string& f) {
                         return "translate --device cpu --threads 1 --checkpoint " + q(fixture("depth_resnet")) + " --guide " + q(dir_ + "/rgb.png") +
                                " --depth " + q(f) + " --output " + q(out_);
                     }};
    for (const auto& [variant, value] : {std::pair<std::string, float>{"nan", std::numeric_limits<float>::quiet_NaN()},
                                         {"inf", std::numeric_limits<float>::infinity()},
                                         {"negative", -2.0f}}) {
        at::Tensor t = at::rand({1, 12, 16}) * 5 + 0.5;
        t[0][3][4] = value;
        const std::string f = dir_ + "/depth-" + variant + ".npy";
        write_npy(f, t);
        expect_refused(depth, variant, f);
    }
    // An RGB image is not a depth map.
    expect_refused(depth, "three channels", dir_ + "/rgb.png");

    // A raw .npy input with NaN, or with the wrong channels, for a pose model.
    const Kind input{"input array", ".npy", "", [&](const std::string& f) {
                         return "translate --device cpu --threads 1 --checkpoint " + q(fixture("pose_resnet")) + " --input " + q(f) + " --guide " +
                                q(real + "controlnet_coco18_pixels_pose_hand_fixed.json") + " --output " + q(out_);
                     }};
    at::Tensor nan_input = at::zeros({3, 64, 64});
    nan_input[1][2][3] = std::numeric_limits<float>::quiet_NaN();
    write_npy(dir_ + "/nan-input.npy", nan_input);
    write_npy(dir_ + "/two-channels.npy", at::zeros({2, 64, 64}));
    const Kind raw{"raw input", ".npy", "", [&](const std::string& f) {
                       return "translate --device cpu --threads 1 --checkpoint " + q(fixture("pose_resnet")) + " --input " + q(f) + " --guide " +
                              q(dir_ + "/guide.npy") + " --output " + q(out_);
                   }};
    write_npy(dir_ + "/guide.npy", at::zeros({18, 64, 64}));
    expect_refused(raw, "NaN", dir_ + "/nan-input.npy");
    expect_refused(raw, "two channels", dir_ + "/two-channels.npy");
    // A pose JSON of 17 keypoints, and one whose coordinates overflow to infinity.
    std::string seventeen = R"({"people": [{"pose_keypoints_2d": [)";
    for (int i = 0; i < 17; ++i)
        seventeen += std::string(i ? "," : "") + "10,10,1";
    seventeen += "]}]}";
    test::write_bytes(dir_ + "/seventeen.json", seventeen);
    const Kind pose{"OpenPose JSON", ".json", "", [&](const std::string& f) {
                        return "translate --device cpu --threads 1 --checkpoint " + q(fixture("pose_resnet")) + " --input " + q(dir_ + "/person.png") +
                               " --guide " + q(f) + " --output " + q(out_);
                    }};
    expect_refused(pose, "17 keypoints", dir_ + "/seventeen.json");
    test::write_bytes(dir_ + "/huge.json", R"({"people": [{"pose_keypoints_2d": [1e999, 10, 1]}]})");
    expect_refused(pose, "infinite coordinate", dir_ + "/huge.json");

    // Checkpoints: NaN weights (a diverged run), and another task's model.
    StateDict sd = read_state_dict(fixture("pose_resnet"));
    sd.entries[3].second = sd.entries[3].second.clone();
    sd.entries[3].second.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
    write_state_dict(dir_ + "/nan weights.pth", sd.entries);
    const Kind ckpt{"checkpoint", ".pth", "", [&](const std::string& f) {
                        return "translate --device cpu --threads 1 --checkpoint " + q(f) + " --input " + q(dir_ + "/person.png") + " --guide " +
                               q(real + "controlnet_coco18_pixels_pose_hand_fixed.json") + " --output " + q(out_);
                    }};
    expect_refused(ckpt, "NaN weights", dir_ + "/nan weights.pth");
    test::write_bytes(out_, "KEEP");
    const test::Run other = test::run_cli("translate --device cpu --checkpoint " + q(fixture("depth_resnet")) + " --input " + q(dir_ + "/person.png") +
                                          " --guide " + q(dir_ + "/guide.npy") + " --output " + q(out_));
    EXPECT_EQ(other.exit_code, 1) << other.output;
    EXPECT_TRUE(test::read_bytes(out_) == "KEEP") << "the output was overwritten";
}

TEST_F(BadInputs, DatasetFoldersStopTrainingNamingTheFileAndWriteNoCheckpoint)
{
    const Kind data{"dataset folder", "", "", [&](const std::string& f) {
                        return "train --data " + q(f) + " --out " + q(dir_ + "/run-" + fs::path(f).filename().string()) + " --steps 1 --ngf 4";
                    }};
    auto expect_stopped = [&](const std::string& variant, const std::string& folder, const std::string& named) {
        const test::Run r = test::run_cli(data.cmd(folder));
        SCOPED_TRACE(variant + ": " + r.output);
        EXPECT_EQ(r.exit_code, 1);
        EXPECT_NE(r.output.find(named), std::string::npos);
        EXPECT_FALSE(fs::exists(dir_ + "/run-" + fs::path(folder).filename().string() + "/checkpoints/latest"));
    };
    fs::create_directories(dir_ + "/no json");
    expect_stopped("no dataset.json", dir_ + "/no json", "dataset.json");
    fs::create_directories(dir_ + "/binary json");
    test::write_bytes(dir_ + "/binary json/dataset.json", test::read_bytes(dir_ + "/person.png"));
    expect_stopped("dataset.json of another type", dir_ + "/binary json", "dataset.json");
    // A good synthetic set with one target replaced by a truncated image.
    synth::Options o;
    o.task = "texture";
    o.count = 4;
    o.size = 128;
    o.val_fraction = 0;
    synth::write_dataset(o, dir_ + "/broken sample");
    const std::string victim = dir_ + "/broken sample/train/target/000002.png";
    const std::string bytes = test::read_bytes(victim);
    test::write_bytes(victim, bytes.substr(0, bytes.size() / 3));
    expect_stopped("a truncated sample", dir_ + "/broken sample", "000002.png");
    expect_stopped("missing", dir_ + "/not there", "not there");
}

} // namespace
} // namespace bft
