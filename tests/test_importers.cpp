// Importers of the paper's datasets: small files in each source layout are made here, imported,
// and the resulting samples checked as tensors (keypoints on the right pixels, ...).
#include "test_support.h"

#include "dataset.h"
#include "errors.h"
#include "image_io.h"
#include "importers.h"
#include "metrics.h"
#include "training.h"
#include "generator.h"

#include "depth.h"

#include <ATen/ATen.h>
#include <hdf5.h>
#include <matio.h>
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

// A miniature nyu_depth_v2_labeled.mat written as MATLAB v7.3 does: column-major, so HDF5 sees
// frames x 3 x W x H and frames x W x H. Pixel (y, x) of frame n: colour (n, x, y) scaled, depth
// 1 + 0.1 n + 0.01 x + 0.001 y metres - distinct everywhere, so transposition errors show.
void write_nyu(const std::string& path, int n, int w, int h)
{
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    std::vector<uint8_t> images(static_cast<size_t>(n) * 3 * w * h);
    std::vector<float> depths(static_cast<size_t>(n) * w * h);
    for (int i = 0; i < n; ++i)
        for (int x = 0; x < w; ++x)
            for (int y = 0; y < h; ++y) {
                for (int c = 0; c < 3; ++c)
                    images[((static_cast<size_t>(i) * 3 + c) * w + x) * h + y] = static_cast<uint8_t>(c == 0 ? 10 * i : c == 1 ? 4 * x : 4 * y);
                depths[(static_cast<size_t>(i) * w + x) * h + y] = 1.0f + 0.1f * i + 0.01f * x + 0.001f * y;
            }
    const hsize_t di[4] = {static_cast<hsize_t>(n), 3, static_cast<hsize_t>(w), static_cast<hsize_t>(h)};
    const hsize_t dd[3] = {static_cast<hsize_t>(n), static_cast<hsize_t>(w), static_cast<hsize_t>(h)};
    const hid_t si = H5Screate_simple(4, di, nullptr), sd = H5Screate_simple(3, dd, nullptr);
    const hid_t ai = H5Dcreate2(f, "images", H5T_NATIVE_UINT8, si, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t ad = H5Dcreate2(f, "depths", H5T_NATIVE_FLOAT, sd, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ai, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, images.data());
    H5Dwrite(ad, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, depths.data());
    H5Dclose(ai), H5Dclose(ad), H5Sclose(si), H5Sclose(sd), H5Fclose(f);
}

TEST(Importers, NyuMatGivesMetresOnTheRightPixelsAndThePapersSplit)
{
    const std::string dir = test::temp_dir("import-nyu");
    write_nyu(dir + "/nyu.mat", 5, 32, 24);
    importers::NyuOptions o;
    o.factor = 4;
    o.train_count = 3;
    const importers::Report r = importers::import_nyu(dir + "/nyu.mat", dir + "/data", o);
    EXPECT_EQ(r.written, 5) << r.text();
    EXPECT_EQ(r.counts, (std::vector<std::pair<std::string, int>>{{"train", 3}, {"val", 2}}));
    EXPECT_TRUE(check_dataset(dir + "/data").ok()) << check_dataset(dir + "/data").text();
    const DatasetInfo info = DatasetInfo::read(dir + "/data");
    EXPECT_EQ(info.factor, 4);
    // val/000004 is frame 5 (index 4): depth at row 7, column 20 = 1 + 0.4 + 0.2 + 0.007 m.
    const at::Tensor metres = depth::read_depth(dir + "/data/val/target/000004.png");
    ASSERT_EQ(metres.size(1), 24); // H
    ASSERT_EQ(metres.size(2), 32); // W
    EXPECT_NEAR(metres[0][7][20].item<float>(), 1.607f, 0.0006f);
    const Sample s = load_sample(info, "val", "000004");
    EXPECT_NEAR((s.guide[1][7][20].item<float>() + 1) * 127.5f, 80.0f, 0.6f); // green = 4 x
    EXPECT_NEAR((s.guide[2][7][20].item<float>() + 1) * 127.5f, 28.0f, 0.6f); // blue = 4 y
    // The input is the low-resolution version: smooth, but close to the depth on average.
    const at::Tensor input = depth::read_depth(dir + "/data/val/input/000004.png");
    EXPECT_LT((input - metres).abs().mean().item<float>(), 0.01f);
    EXPECT_GT((input - metres).abs().max().item<float>(), 0.0f);
    // Not an HDF5 file: refused with the reason.
    test::write_bytes(dir + "/v5.mat", "MATLAB 5.0 MAT-file, not HDF5");
    try {
        importers::import_nyu(dir + "/v5.mat", dir + "/other");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("v7.3"), std::string::npos) << e.what();
    }
}

// One MATLAB file of `version` (v5 compressed, as MATLAB saves by default, or v7.3 = HDF5) with
// the given variables (column-major, as MATLAB holds them).
struct MatVar {
    std::string name;
    std::vector<size_t> dims;
    std::vector<double> data;
};
void write_mat(const std::string& path, mat_ft version, const std::vector<MatVar>& vars)
{
    mat_t* m = Mat_CreateVer(path.c_str(), nullptr, version);
    ASSERT_NE(m, nullptr) << path;
    for (const MatVar& v : vars) {
        std::vector<size_t> dims = v.dims;
        std::vector<float> single(v.data.begin(), v.data.end()); // the authors' inputs are single
        std::vector<double> copy = v.data;
        const bool is_single = v.name.rfind("input_", 0) == 0;
        matvar_t* var = is_single ? Mat_VarCreate(v.name.c_str(), MAT_C_SINGLE, MAT_T_SINGLE, static_cast<int>(dims.size()), dims.data(), single.data(), 0)
                                  : Mat_VarCreate(v.name.c_str(), MAT_C_DOUBLE, MAT_T_DOUBLE, static_cast<int>(dims.size()), dims.data(), copy.data(), 0);
        ASSERT_NE(var, nullptr);
        EXPECT_EQ(Mat_VarWrite(m, var, version == MAT_FT_MAT5 ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE), 0);
        Mat_VarFree(var);
    }
    Mat_Close(m);
}

// The authors' low-resolution inputs: H x W x 1 x N in [0, 1], value 0.1 + 0.01 k + 0.001 x + 0.0001 y
// at (y, x) of the split's frame k.
MatVar authors_inputs(const std::string& name, int frames, int w, int h)
{
    MatVar v{name, {static_cast<size_t>(h), static_cast<size_t>(w), 1, static_cast<size_t>(frames)}, {}};
    for (int k = 0; k < frames; ++k)
        for (int x = 0; x < w; ++x)
            for (int y = 0; y < h; ++y)
                v.data.push_back(0.1 + 0.01 * k + 0.001 * x + 0.0001 * y);
    return v;
}

TEST(Importers, NyuOfficialSplitAndTheAuthorsOwnInputs)
{
    const std::string dir = test::temp_dir("import-nyu-options");
    write_nyu(dir + "/nyu.mat", 5, 32, 24);
    // splits.mat as NYU ships it (v5; 1-based column vectors): frames 2, 4, 5 train, 1 and 3 test.
    write_mat(dir + "/splits.mat", MAT_FT_MAT5, {{"trainNdxs", {3, 1}, {2, 4, 5}}, {"testNdxs", {2, 1}, {1, 3}}});
    importers::NyuOptions o;
    o.factor = 4;
    o.splits_file = dir + "/splits.mat";
    const importers::Report r = importers::import_nyu(dir + "/nyu.mat", dir + "/official", o);
    EXPECT_EQ(r.counts, (std::vector<std::pair<std::string, int>>{{"train", 3}, {"val", 2}})) << r.text();
    const DatasetInfo official = DatasetInfo::read(dir + "/official");
    EXPECT_EQ(sample_ids(official, "val"), (std::vector<std::string>{"000000", "000002"}));
    EXPECT_EQ(sample_ids(official, "train"), (std::vector<std::string>{"000001", "000003", "000004"}));
    // A splits file that names a frame the data does not have is refused, naming the file.
    write_mat(dir + "/bad-splits.mat", MAT_FT_MAT5, {{"trainNdxs", {1, 1}, {9}}, {"testNdxs", {1, 1}, {1}}});
    o.splits_file = dir + "/bad-splits.mat";
    try {
        importers::import_nyu(dir + "/nyu.mat", dir + "/bad", o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("bad-splits.mat"), std::string::npos) << e.what();
    }

    // The authors' inputs: train as v7.3 (their loader reads it with h5py), test as v5 (scipy).
    fs::create_directories(dir + "/authors");
    write_mat(dir + "/authors/input_4x_train.mat", MAT_FT_MAT73, {authors_inputs("input_4x_train", 3, 32, 24)});
    write_mat(dir + "/authors/input_4x_test.mat", MAT_FT_MAT5, {authors_inputs("input_4x_test", 2, 32, 24)});
    o = {};
    o.factor = 4;
    o.train_count = 3;
    o.inputs_dir = dir + "/authors";
    const importers::Report a = importers::import_nyu(dir + "/nyu.mat", dir + "/theirs", o);
    EXPECT_EQ(a.written, 5) << a.text();
    EXPECT_TRUE(check_dataset(dir + "/theirs").ok()) << check_dataset(dir + "/theirs").text();
    // val/000004 is the test file's frame 1: (row 7, column 20) = 10 m x (0.1 + 0.01 + 0.02 + 0.0007).
    const at::Tensor input = depth::read_depth(dir + "/theirs/val/input/000004.png");
    ASSERT_EQ(input.size(1), 24);
    ASSERT_EQ(input.size(2), 32);
    EXPECT_NEAR(input[0][7][20].item<float>(), 1.307f, 0.0006f);
    EXPECT_NEAR(depth::read_depth(dir + "/theirs/train/input/000001.png")[0][3][5].item<float>(), 10 * (0.1f + 0.01f + 0.005f + 0.0003f), 0.0006f);
    // A wrong scale is noticed: at 1 m per unit the inputs are a tenth of the depth.
    o.inputs_scale_m = 1;
    const importers::Report scaled = importers::import_nyu(dir + "/nyu.mat", dir + "/scaled", o);
    ASSERT_FALSE(scaled.notes.empty()) << scaled.text();
    EXPECT_NE(scaled.notes[0].message.find("scale"), std::string::npos) << scaled.text();
    // Files that do not hold this split's frames are refused, naming the file and the shapes.
    write_mat(dir + "/authors/input_4x_test.mat", MAT_FT_MAT5, {authors_inputs("input_4x_test", 3, 32, 24)});
    o.inputs_scale_m = 10;
    try {
        importers::import_nyu(dir + "/nyu.mat", dir + "/mismatch", o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("input_4x_test.mat"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("24 x 32 x 1 x 3"), std::string::npos) << e.what();
    }
    // Their inputs follow the paper's split; asking for both is an error, not a silent mix.
    o.splits_file = dir + "/splits.mat";
    EXPECT_THROW(importers::import_nyu(dir + "/nyu.mat", dir + "/both", o), Error);
}

TEST(Importers, TumRgbdPairsFramesByTimeAsAssociatePyDoes)
{
    // TUM RGB-D: rgb/ and depth/ named by timestamps that do not agree, with rgb.txt and depth.txt.
    const std::string src = test::temp_dir("import-tum");
    fs::create_directories(src + "/rgb");
    fs::create_directories(src + "/depth");
    const std::vector<std::string> rgb_times{"100.000000", "100.033000", "100.066000", "100.500000"};
    const std::vector<std::string> depth_times{"100.010000", "100.040000", "100.071000"}; // none near 100.5
    std::ofstream rgb_list(src + "/rgb.txt"), depth_list(src + "/depth.txt");
    rgb_list << "# color images\n# file: 'rgbd_dataset_freiburg1_xyz.bag'\n# timestamp filename\n";
    depth_list << "# depth maps\n# file: 'rgbd_dataset_freiburg1_xyz.bag'\n# timestamp filename\n";
    for (const std::string& t : rgb_times) {
        write_image(src + "/rgb/" + t + ".png", at::zeros({3, 16, 16}));
        rgb_list << t << " rgb/" << t << ".png\n";
    }
    for (size_t i = 0; i < depth_times.size(); ++i) {
        // Depth i reads (i + 1) metres, in TUM's units (5000 per metre).
        depth::FileOptions units;
        units.units_per_metre = 5000;
        depth::write_depth(src + "/depth/" + depth_times[i] + ".png", at::full({1, 16, 16}, static_cast<float>(i + 1)), units);
        depth_list << depth_times[i] << " depth/" << depth_times[i] << ".png\n";
    }
    rgb_list.close();
    depth_list.close();
    importers::RgbdOptions o;
    o.depth_scale = 5000;
    o.val_fraction = 0;
    const importers::Report r = importers::import_rgbd(src, src + "/data", o);
    EXPECT_EQ(r.written, 3) << r.text();
    ASSERT_EQ(r.skipped.size(), 1u) << r.text();
    EXPECT_NE(r.skipped[0].file.find("100.500000"), std::string::npos) << r.text();
    // In colour-time order, each colour frame with the depth nearest in time: 1, 2, 3 m.
    for (int i = 0; i < 3; ++i) {
        const at::Tensor d = depth::read_depth(src + "/data/train/target/00000" + std::to_string(i) + ".png");
        EXPECT_NEAR(d.mean().item<float>(), static_cast<float>(i + 1), 0.01f) << i;
    }
}

TEST(Importers, TextureGanFoldersOfTheRealFilesPutThePatchInsideTheMask)
{
    // The real TextureGAN files (../shared/real), in the authors' folder layout.
    const std::string src = test::temp_dir("import-tgan");
    const std::string real = test::shared_dir() + "/real/";
    for (const auto& [kind, file] : {std::pair<std::string, std::string>{"img", "photo"}, {"skg", "sketch"}, {"seg", "mask"}}) {
        fs::create_directories(src + "/train_" + kind + "/tshirt");
        fs::create_directories(src + "/val_" + kind + "/tshirt");
        fs::copy_file(real + "texturegan_flask_" + file + "_tshirt.jpg", src + "/train_" + kind + "/tshirt/a.jpg");
        fs::copy_file(real + "texturegan_flask_" + file + "_tshirt.jpg", src + "/val_" + kind + "/tshirt/b.jpg");
    }
    fs::copy_file(real + "texturegan_flask_photo_tshirt.jpg", src + "/train_img/tshirt/orphan.jpg"); // no sketch, no mask
    const importers::Report r = importers::import_texturegan(src, src + "/data");
    EXPECT_EQ(r.written, 2) << r.text();
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_NE(r.skipped[0].file.find("orphan"), std::string::npos);
    EXPECT_TRUE(check_dataset(src + "/data").ok()) << check_dataset(src + "/data").text();
    const DatasetInfo info = DatasetInfo::read(src + "/data");
    const Sample s = load_sample(info, "train", "000000");
    ASSERT_EQ(s.guide.size(1), 128);
    // The patch (mask channel > 0) is a square of 40-60 px, and inside the object's mask.
    const at::Tensor placed = s.guide[3] > 0;
    const int64_t area = placed.sum().item<int64_t>();
    EXPECT_GE(area, 40 * 40);
    EXPECT_LE(area, 60 * 60);
    const at::Tensor mask = read_image(real + "texturegan_flask_mask_tshirt.jpg", 1);
    const at::Tensor mask128 = at::upsample_nearest2d(mask.unsqueeze(0), {128, 128}).squeeze(0)[0] > 0;
    const at::Tensor rows = placed.any(1).nonzero(), cols = placed.any(0).nonzero();
    const int64_t cy = (rows.min().item<int64_t>() + rows.max().item<int64_t>()) / 2;
    const int64_t cx = (cols.min().item<int64_t>() + cols.max().item<int64_t>()) / 2;
    EXPECT_TRUE(mask128[cy][cx].item<bool>()) << "patch centre " << cx << "," << cy << " is off the object";
    // The patch holds the photo's colours there (Lab' of guide = Lab' of target).
    EXPECT_LT((s.guide.slice(0, 0, 3) - s.target).abs().masked_select(placed.unsqueeze(0).expand({3, -1, -1})).max().item<float>(), 0.03f);
    // Resumable and deterministic: a second run keeps both.
    EXPECT_EQ(importers::import_texturegan(src, src + "/data").kept, 2);
}

TEST(Importers, Pix2PixSplitsTheHalvesAndFindsGuidesByName)
{
    const std::string src = test::temp_dir("import-p2p");
    fs::create_directories(src + "/train");
    fs::create_directories(src + "/test");
    // A: a black line drawing on white; B: a red square object on white.
    for (const std::string& name : {std::string("train/x.png"), std::string("test/y.png")}) {
        at::Tensor ab = at::ones({3, 64, 128});
        ab.narrow(1, 30, 2).narrow(2, 10, 40).fill_(-1.0f);               // A: a line
        at::Tensor square = ab.narrow(1, 16, 32).narrow(2, 64 + 16, 32); // B: a red square
        square[0].fill_(1.0f), square[1].fill_(-1.0f), square[2].fill_(-1.0f);
        write_image(src + "/" + name, ab);
    }
    const importers::Report r = importers::import_pix2pix(src, src + "/data");
    EXPECT_EQ(r.written, 2) << r.text();
    EXPECT_EQ(r.counts, (std::vector<std::pair<std::string, int>>{{"train", 1}, {"val", 1}}));
    EXPECT_TRUE(check_dataset(src + "/data").ok()) << check_dataset(src + "/data").text();
    const Sample s = load_sample(DatasetInfo::read(src + "/data"), "train", "000000");
    ASSERT_EQ(s.input.size(0), 1);
    ASSERT_EQ(s.input.size(2), 64); // one half wide
    EXPECT_LT(s.input[0][30][20].item<float>(), -0.5f); // the line is in the input
    EXPECT_GT(s.target[1][32][32].item<float>(), 0.3f); // Lab' a of red: positive
    // The drawn patch is centred on the red object (it may reach past its edge, as the loader's do).
    const at::Tensor placed = s.guide[3] > 0;
    ASSERT_GT(placed.sum().item<int64_t>(), 0);
    const at::Tensor rows = placed.any(1).nonzero(), cols = placed.any(0).nonzero();
    const int64_t cy = (rows.min().item<int64_t>() + rows.max().item<int64_t>()) / 2;
    const int64_t cx = (cols.min().item<int64_t>() + cols.max().item<int64_t>()) / 2;
    EXPECT_GT(s.guide[1][cy][cx].item<float>(), 0.3f) << cx << "," << cy;
    // Pose pairs without keypoints are refused; with a guides folder each finds its JSON by name.
    importers::Pix2PixOptions pose;
    pose.task = "pose";
    EXPECT_THROW(importers::import_pix2pix(src, src + "/pose", pose), Error);
}

TEST(Importers, RgbdFramesKeepHolesAsHolesThatTrainingLeavesOut)
{
    // The real Redwood frame (16-bit mm depth with missing readings) as a one-frame recording.
    const std::string src = test::temp_dir("import-rgbd");
    fs::create_directories(src + "/color");
    fs::create_directories(src + "/depth");
    fs::copy_file(test::shared_dir() + "/real/redwood_color_00000.jpg", src + "/color/00000.jpg");
    fs::copy_file(test::shared_dir() + "/real/redwood_depth_00000.png", src + "/depth/00000.png");
    fs::copy_file(test::shared_dir() + "/real/redwood_color_00000.jpg", src + "/color/00001.jpg"); // no depth
    importers::RgbdOptions o;
    o.size = 96;
    o.val_fraction = 0;
    const importers::Report r = importers::import_rgbd(src, src + "/data", o);
    EXPECT_EQ(r.written, 1) << r.text();
    EXPECT_TRUE(check_dataset(src + "/data").ok()) << check_dataset(src + "/data").text();
    const DatasetInfo info = DatasetInfo::read(src + "/data");
    EXPECT_TRUE(info.holes);
    const Sample s = load_sample(info, "train", "000000");
    const at::Tensor holes = at::isnan(s.target);
    const int64_t n_holes = holes.sum().item<int64_t>();
    ASSERT_GT(n_holes, 0) << "the Redwood frame has missing readings";
    ASSERT_LT(n_holes, s.target.numel() / 2);
    EXPECT_TRUE(at::isfinite(s.input).all().item<bool>()); // the input is filled
    // Readings are in metres as the source's millimetres say: compare with the file directly.
    const at::Tensor raw = depth::read_depth(test::shared_dir() + "/real/redwood_depth_00000.png");
    EXPECT_NEAR(depth::to_metres(s.target, {info.near_m, info.far_m}).masked_select(~holes).mean().item<float>(),
                raw.masked_select(raw > 0).mean().item<float>(), 0.15f);
    // Metrics leave holes out: an output equal to the target where there are readings scores
    // perfectly whatever it says in the holes.
    const at::Tensor out = at::where(holes, at::full({}, 0.7f), s.target);
    EXPECT_NEAR(metrics::l1(out, s.target), 0.0, 1e-9);
    // A training step on the sample: finite losses (no NaN leaks into the gradients).
    ArchSpec spec = task_preset("depth");
    spec.ngf = 4;
    spec.n_blocks = 1;
    TrainConfig c;
    c.ndf = 8;
    TrainStep step(make_generator(spec), c, c10::Device(c10::kCPU));
    const StepLosses l = step.run(s.input.unsqueeze(0), s.guide.unsqueeze(0), s.target.unsqueeze(0));
    EXPECT_TRUE(std::isfinite(l.g_l1) && std::isfinite(l.g_gan) && std::isfinite(l.d_real) && std::isfinite(l.d_fake));
    for (const auto& p : step.generator()->parameters())
        ASSERT_TRUE(at::isfinite(p).all().item<bool>());
}

} // namespace
} // namespace bft
