// Datasets: synthetic worlds (determinism, validity, what they contain), the checker on good and
// deliberately broken datasets (each problem reported by file), the loader's batches, order and
// flips, contact sheets, and the CLI around them.
#include "test_support.h"

#include "dataset.h"
#include "errors.h"
#include "image_io.h"
#include "npy.h"
#include "synth.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace bft {
namespace {

namespace fs = std::filesystem;

std::string make_synth(const std::string& name, const std::string& task, int count = 6, int size = 64, uint64_t seed = 3)
{
    const std::string dir = test::temp_dir(name);
    synth::Options o;
    o.task = task;
    o.count = count;
    o.size = size;
    o.seed = seed;
    o.threads = 2;
    synth::write_dataset(o, dir);
    return dir;
}

std::map<std::string, std::string> all_files(const std::string& dir)
{
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            files[fs::relative(e.path(), dir).string()] = test::read_bytes(e.path().string());
    return files;
}

class SynthTask : public ::testing::TestWithParam<std::string> {};

TEST_P(SynthTask, SameSeedSameBytesOtherSeedOtherData)
{
    const auto a = all_files(make_synth("synth-a-" + GetParam(), GetParam()));
    const auto b = all_files(make_synth("synth-b-" + GetParam(), GetParam()));
    const auto c = all_files(make_synth("synth-c-" + GetParam(), GetParam(), 6, 64, 4));
    EXPECT_EQ(a.size(), 1u + 6 * 3);
    EXPECT_TRUE(a == b);
    EXPECT_FALSE(a == c);
}

TEST_P(SynthTask, DatasetsPassTheCheckerAndLoad)
{
    const std::string dir = make_synth("synth-check-" + GetParam(), GetParam(), 10, 64);
    const DatasetReport r = check_dataset(dir);
    EXPECT_TRUE(r.ok()) << r.text();
    ASSERT_EQ(r.split_counts.size(), 2u);
    EXPECT_EQ(r.split_counts[0], (std::pair<std::string, int>{"train", 9}));
    EXPECT_EQ(r.split_counts[1], (std::pair<std::string, int>{"val", 1}));
    const DatasetInfo info = DatasetInfo::read(dir);
    const Sample s = load_sample(info, "train", "000000");
    EXPECT_EQ(s.input.size(0), info.input_nc);
    EXPECT_EQ(s.guide.size(0), info.guide_nc);
    EXPECT_EQ(s.target.size(0), info.output_nc);
    for (const auto& t : {s.input, s.guide, s.target}) {
        EXPECT_EQ(t.size(1), 64);
        EXPECT_LE(t.abs().max().item<float>(), 1.0f + 1e-4f);
        EXPECT_GT(t.std().item<float>(), 0.01f); // not blank
    }
}

INSTANTIATE_TEST_SUITE_P(Tasks, SynthTask, ::testing::Values("pose", "depth", "texture"));

TEST(Synth, SamplesHoldWhatTheTaskNeeds)
{
    synth::Options o;
    o.size = 96;
    o.task = "pose";
    pose::Pose b;
    const Sample p = synth::make_sample(o, 0, &b);
    EXPECT_EQ(b.present_count(), 18);
    EXPECT_FALSE(at::equal(p.input, p.target)); // pose A and pose B differ
    EXPECT_TRUE(at::equal(p.guide, pose::keypoint_maps(b, 96, 96)));
    o.task = "depth";
    const Sample d = synth::make_sample(o, 0);
    EXPECT_LT((d.input - d.target).abs().mean().item<float>(), 0.1f); // low-res of the same scene
    EXPECT_GT((d.input - d.target).abs().max().item<float>(), 0.01f);
    o.task = "texture";
    const Sample t = synth::make_sample(o, 0);
    const int64_t patch = (t.guide[3] > 0).sum().item<int64_t>();
    EXPECT_GE(patch, 15 * 15);
    EXPECT_LE(patch, 30 * 30 + 1);
    // The patch holds the object's own colours.
    const at::Tensor m = (t.guide[3] > 0).unsqueeze(0).expand({3, -1, -1});
    EXPECT_TRUE(at::allclose(t.guide.narrow(0, 0, 3).masked_select(m), t.target.masked_select(m)));
}

TEST(Datasets, SavedSamplesLoadBackWithinQuantisation)
{
    // Each task's files (PNG, 16-bit PNG, OpenPose JSON, RGBA patch PNG) carry the tensors exactly
    // up to their quantisation.
    for (const std::string task : {"pose", "depth", "texture"}) {
        SCOPED_TRACE(task);
        synth::Options o;
        o.task = task;
        o.size = 64;
        pose::Pose b;
        const Sample s = synth::make_sample(o, 2, &b);
        DatasetInfo info = DatasetInfo::for_task(task, test::temp_dir("roundtrip-" + task));
        info.write();
        save_sample(info, "train", "x", s.input, s.guide, s.target, &b);
        const Sample back = load_sample(info, "train", "x");
        // 8-bit images: half a step of 2/255 on [-1, 1]; Lab through 8-bit sRGB: about 1.5 L units.
        const double image_tol = task == "texture" ? 0.04 : 1.0 / 255 + 1e-4;
        const double depth_tol = 0.0005 / 10 * 2 + 1e-5; // half a millimetre over a 10 m range
        EXPECT_LE((back.input - s.input).abs().max().item<double>(), task == "depth" ? depth_tol : image_tol);
        EXPECT_LE((back.target - s.target).abs().max().item<double>(), task == "depth" ? depth_tol : image_tol);
        if (task == "pose")
            EXPECT_TRUE(at::equal(back.guide, s.guide)); // keypoints are stored exactly
        else if (task == "texture") {
            EXPECT_TRUE(at::equal(back.guide[3], s.guide[3])); // the mask exactly
            EXPECT_LE((back.guide - s.guide).abs().max().item<double>(), 0.04);
        } else
            EXPECT_LE((back.guide - s.guide).abs().max().item<double>(), image_tol);
    }
}

TEST(Datasets, TexturePhotosFillObjects)
{
    const std::string photos = test::temp_dir("photos");
    fs::copy_file(test::shared_dir() + "/real/texturegan_flask_photo_tshirt.jpg", photos + "/tshirt.jpg");
    synth::Options o;
    o.task = "texture";
    o.count = 8;
    o.size = 64;
    o.seed = 9;
    o.threads = 1;
    const std::string plain = test::temp_dir("photos-plain"), with = test::temp_dir("photos-with");
    synth::write_dataset(o, plain);
    o.textures_dir = photos;
    synth::write_dataset(o, with);
    EXPECT_FALSE(all_files(plain) == all_files(with));
    EXPECT_TRUE(check_dataset(with).ok());
    o.textures_dir = photos + "/none";
    EXPECT_THROW(synth::write_dataset(o, test::temp_dir("photos-bad")), Error);
}

TEST(Datasets, CheckerReportsEachProblemByFile)
{
    const std::string dir = make_synth("broken", "pose", 8, 64);
    const std::string tr = dir + "/train/";
    fs::remove(tr + "guide/000001.json");                                                      // missing partner
    test::write_bytes(tr + "input/000002.png", test::read_bytes(tr + "input/000002.png").substr(0, 60)); // truncated
    write_image(tr + "target/000003.png", at::zeros({3, 32, 64}));                              // size mismatch
    fs::remove(tr + "input/000004.png");
    write_npy(tr + "input/000004.npy", at::zeros({1, 64, 64}));                                 // wrong channels
    fs::remove(tr + "target/000005.png");
    write_npy(tr + "target/000005.npy", at::full({3, 64, 64}, 5.0f));                           // out of range
    test::write_bytes(tr + "guide/000006.json", "{\"people\": 3}");                             // foreign JSON
    const DatasetReport r = check_dataset(dir);
    EXPECT_FALSE(r.ok());
    auto problem_for = [&](const std::string& needle) -> std::string {
        for (const auto& p : r.problems)
            if (p.file.find(needle) != std::string::npos)
                return p.message;
        return "(not reported)";
    };
    EXPECT_NE(problem_for("guide/000001").find("missing guide file"), std::string::npos) << r.text();
    EXPECT_TRUE(problem_for("input/000002.png").find("truncated") != std::string::npos || problem_for("input/000002.png").find("corrupt") != std::string::npos);
    EXPECT_NE(problem_for("target/000003.png").find("is 64x32 but the sample's input is 64x64"), std::string::npos)
        << r.text();
    EXPECT_NE(problem_for("input/000004.npy").find("expected a 3 x H x W array"), std::string::npos) << r.text();
    EXPECT_NE(problem_for("target/000005.npy").find("values out of range"), std::string::npos) << r.text();
    EXPECT_NE(problem_for("guide/000006.json").find("not an OpenPose file"), std::string::npos) << r.text();
    EXPECT_EQ(r.problems.size(), 6u) << r.text();
    EXPECT_EQ(r.split_counts[0].second, 1); // 000000 and 000007 remain; 000007 is in val
    test::write_bytes(dir + "/dataset.json", "{\"format\": \"bft-dataset\", \"task\": \"juggling\"}");
    const DatasetReport bad = check_dataset(dir);
    ASSERT_EQ(bad.problems.size(), 1u);
    EXPECT_NE(bad.problems[0].message.find("unknown task 'juggling'"), std::string::npos) << bad.text();
}

TEST(Datasets, LoaderBatchesAreDeterministicAndFlipsSwapKeypoints)
{
    const std::string dir = make_synth("loader", "pose", 9, 64);
    const DatasetInfo info = DatasetInfo::read(dir);
    DataLoader::Options o;
    o.batch = 4;
    o.threads = 2;
    o.seed = 5;
    DataLoader a(info, "train", o), b(info, "train", o);
    EXPECT_EQ(a.size(), 8u);
    for (int k = 0; k < 5; ++k) { // across an epoch boundary
        const auto x = a.next(), y = b.next();
        ASSERT_EQ(x.size(), 3u);
        EXPECT_EQ(x[0].sizes(), (std::vector<int64_t>{4, 3, 64, 64}));
        EXPECT_EQ(x[1].sizes(), (std::vector<int64_t>{4, 18, 64, 64}));
        for (int r = 0; r < 3; ++r)
            EXPECT_TRUE(at::equal(x[static_cast<size_t>(r)], y[static_cast<size_t>(r)]));
    }
    // Flipping a pose sample mirrors the maps with left and right swapped: they show the flipped
    // keypoints (within the pixel that PG2's truncation of coordinates moves them by).
    const Sample s = load_sample(info, "train", "000000");
    const auto file = pose::read_openpose_json(dir + "/train/guide/000000.json");
    const Sample f = flipped(s, "pose");
    EXPECT_TRUE(at::equal(f.input, s.input.flip({2})));
    for (int k = 0; k < pose::kKeypoints; ++k)
        EXPECT_TRUE(at::equal(f.guide[pose::mirrored(k)], s.guide[k].flip({1})));
    const pose::Pose expected = pose::flipped(file.people[0], 64), seen = pose::pose_from_maps(f.guide);
    for (int k = 0; k < pose::kKeypoints; ++k) {
        const auto &e = expected.points[static_cast<size_t>(k)], &g = seen.points[static_cast<size_t>(k)];
        if (!e.present || e.x < 4 || e.x > 59 || e.y < 4 || e.y > 59) // discs clipped at the border shift
            continue;
        EXPECT_NEAR(g.x, e.x, 1.0) << pose::keypoint_name(k);
        EXPECT_NEAR(g.y, e.y, 1.0) << pose::keypoint_name(k);
    }
}

TEST(Datasets, ContactSheetHasOneRowPerSample)
{
    const std::string dir = make_synth("sheet", "texture", 5, 64);
    synth::write_contact_sheet(dir, "train", 3, dir + "/sheet.png");
    ImageInfo info;
    read_image(dir + "/sheet.png", 3, &info);
    EXPECT_EQ(info.width, 3 * 64 + 2 * 4);
    EXPECT_EQ(info.height, 3 * 64 + 2 * 4);
}

TEST(Datasets, CliSynthAndCheck)
{
    const std::string dir = test::temp_dir("cli-synth") + "/d";
    auto r = test::run_cli("synth --task depth --count 4 --size 64 --seed 1 --factor 4 --out '" + dir + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = test::run_cli("dataset check '" + dir + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("train: 4 samples"), std::string::npos) << r.output;
    fs::remove(dir + "/train/target/000002.png");
    r = test::run_cli("dataset check '" + dir + "' --json", /*stdout_only=*/true);
    EXPECT_EQ(r.exit_code, 1);
    const auto j = nlohmann::json::parse(r.output);
    EXPECT_FALSE(j["ok"].get<bool>());
    EXPECT_NE(j["problems"][0]["file"].get<std::string>().find("target/000002"), std::string::npos);
    EXPECT_EQ(test::run_cli("synth --task juggling --out '" + dir + "2'").exit_code, 1);
}

} // namespace
} // namespace bft
