// Importers of the paper's datasets: small files in each source layout are made here, imported,
// and the resulting samples checked as tensors (keypoints on the right pixels, ...).
#include "test_support.h"

#include "dataset.h"
#include "errors.h"
#include "image_io.h"
#include "importers.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace bft {
namespace {

namespace fs = std::filesystem;

// Market-1501 style: 64 wide, 128 high; each image a distinct flat colour.
void write_person(const std::string& path, float shade)
{
    at::Tensor img = at::full({3, 128, 64}, shade);
    img[0].fill_(-shade);
    write_image(path, img);
}

TEST(Importers, PosePairsPutKeypointsOnTheRightPixels)
{
    const std::string src = test::temp_dir("import-pose-src");
    const std::string dst = test::temp_dir("import-pose-dst") + "/data";
    fs::create_directories(src + "/train");
    fs::create_directories(src + "/test");
    write_person(src + "/train/a.jpg", -0.5f);
    write_person(src + "/train/b.jpg", 0.5f);
    write_person(src + "/train/c.jpg", 0.0f);
    write_person(src + "/test/d.jpg", 0.25f);
    write_person(src + "/test/e.jpg", -0.25f);
    // y before x. b's nose at (x 10, y 100): a swapped reader would put it at x 100 - off the image.
    std::string ys = "[100", xs = "[10";
    for (int k = 1; k < 18; ++k) {
        ys += k == 5 ? ", -1" : ", " + std::to_string(20 + 5 * k);
        xs += k == 5 ? ", -1" : ", " + std::to_string(30);
    }
    ys += "]", xs += "]";
    std::string none = "[-1";
    for (int k = 1; k < 18; ++k)
        none += ", -1";
    none += "]";
    std::ofstream(src + "/market-annotation-train.csv") << "name:keypoints_y:keypoints_x\n"
                                                        << "a.jpg: " << ys << ": " << xs << "\n"
                                                        << "b.jpg: " << ys << ": " << xs << "\n"
                                                        << "c.jpg: " << none << ": " << none << "\n";
    std::ofstream(src + "/market-pairs-train.csv") << "from,to\n"
                                                   << "a.jpg,b.jpg\n"
                                                   << "b.jpg,c.jpg\n"     // c: no joints detected
                                                   << "a.jpg,missing.jpg\n";
    std::ofstream(src + "/market-annotation-test.csv") << "name:keypoints_y:keypoints_x\n"
                                                       << "e.jpg: " << ys << ": " << xs << "\n";
    std::ofstream(src + "/market-pairs-test.csv") << "from,to\n"
                                                  << "d.jpg,e.jpg\n";

    const importers::Report r = importers::import_pose_pairs(src, dst);
    EXPECT_EQ(r.written, 2);
    ASSERT_EQ(r.skipped.size(), 2u) << r.text();
    EXPECT_NE(r.skipped[0].message.find("no detected joints"), std::string::npos) << r.text();
    EXPECT_NE(r.skipped[1].message.find("missing.jpg"), std::string::npos) << r.text();
    EXPECT_EQ(r.counts, (std::vector<std::pair<std::string, int>>{{"train", 1}, {"val", 1}}));
    EXPECT_TRUE(check_dataset(dst).ok()) << check_dataset(dst).text();

    const DatasetInfo info = DatasetInfo::read(dst);
    const Sample s = load_sample(info, "train", "000000");
    ASSERT_EQ(s.guide.size(0), 18);
    ASSERT_EQ(s.guide.size(1), 128);
    ASSERT_EQ(s.guide.size(2), 64);
    EXPECT_FLOAT_EQ(s.guide[0][100][10].item<float>(), 1.0f); // nose at row 100, column 10
    EXPECT_FLOAT_EQ(s.guide[0][10][100 % 64].item<float>(), 0.0f);
    EXPECT_EQ(s.guide[5].sum().item<float>(), 0.0f); // the missing joint has an empty map
    // input = a, target = b: their colours.
    EXPECT_NEAR(s.input[1][64][32].item<float>(), -0.5f, 0.02f);
    EXPECT_NEAR(s.target[1][64][32].item<float>(), 0.5f, 0.02f);

    // Again: everything is already there, nothing is redone.
    const importers::Report again = importers::import_pose_pairs(src, dst);
    EXPECT_EQ(again.written, 0);
    EXPECT_EQ(again.kept, 2);
}

TEST(Importers, PosePairsStopAndResume)
{
    const std::string src = test::temp_dir("import-resume-src");
    const std::string dst = test::temp_dir("import-resume-dst") + "/data";
    fs::create_directories(src + "/train");
    std::ofstream ann(src + "/x-annotation-train.csv");
    std::ofstream pairs(src + "/x-pairs-train.csv");
    ann << "name:keypoints_y:keypoints_x\n";
    pairs << "from,to\n";
    for (int i = 0; i < 6; ++i) {
        write_person(src + "/train/" + std::to_string(i) + ".png", 0.1f * i);
        std::string ys = "[", xs = "[";
        for (int k = 0; k < 18; ++k)
            ys += (k ? ", " : "") + std::to_string(10 + k), xs += (k ? ", " : "") + std::to_string(5 + i);
        ann << i << ".png: " << ys << "]: " << xs << "]\n";
        if (i > 0)
            pairs << i - 1 << ".png," << i << ".png\n";
    }
    ann.close();
    pairs.close();
    importers::Progress stop_after_two{[](int done, int) { return done < 2; }};
    const importers::Report first = importers::import_pose_pairs(src, dst, stop_after_two);
    EXPECT_EQ(first.written, 2);
    const importers::Report rest = importers::import_pose_pairs(src, dst);
    EXPECT_EQ(rest.kept, 2);
    EXPECT_EQ(rest.written, 3);
    EXPECT_EQ(rest.counts.front().second, 5);
}

TEST(Importers, PosePairsRefuseAFolderOfSomethingElse)
{
    const std::string src = test::temp_dir("import-bad-src");
    EXPECT_THROW(importers::import_pose_pairs(src, src + "/out"), Error);
    EXPECT_THROW(importers::import_pose_pairs(src + "/nope", src + "/out"), Error);
}

} // namespace
} // namespace bft
