// .npy and image files: round trips, layouts, bit depths, and clear errors on bad files.
#include "test_support.h"

#include "errors.h"
#include "image_io.h"
#include "npy.h"

#include <gtest/gtest.h>

namespace bft {
namespace {

TEST(Npy, RoundTripKeepsShapeAndValues)
{
    const auto dir = test::temp_dir("npy");
    at::Tensor t = at::randn({2, 3, 5, 7});
    write_npy(dir + "/t.npy", t);
    at::Tensor back = read_npy(dir + "/t.npy");
    EXPECT_EQ(back.sizes(), t.sizes());
    EXPECT_TRUE(at::equal(back, t));
    write_npy(dir + "/v.npy", at::arange(4, at::kFloat)); // 1-D: shape "(4,)"
    EXPECT_EQ(read_npy(dir + "/v.npy").sizes(), (std::vector<int64_t>{4}));
    write_npy(dir + "/s.npy", at::full({}, 2.5f)); // 0-D: shape "()"
    EXPECT_EQ(read_npy(dir + "/s.npy").item<float>(), 2.5f);
}

TEST(Npy, ReadsFortranOrderAndOtherDtypes)
{
    // float64, Fortran order, shape (2, 3): memory holds columns.
    std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
    header.append(64 - (10 + header.size() + 1) % 64, ' ');
    header += "\n";
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + char(header.size() & 0xff) + char(header.size() >> 8) + header;
    const double columns[] = {1, 4, 2, 5, 3, 6};
    bytes.append(reinterpret_cast<const char*>(columns), sizeof columns);
    at::Tensor t = parse_npy(bytes, "mem");
    EXPECT_EQ(t.scalar_type(), at::kDouble);
    EXPECT_TRUE(at::equal(t, at::arange(1, 7, at::kDouble).reshape({2, 3})));
}

TEST(Npy, BadFilesAreRefusedWithReasons)
{
    auto message = [](const std::string& bytes) -> std::string {
        try {
            parse_npy(bytes, "x.npy");
        } catch (const Error& e) {
            return e.what();
        }
        return "no error";
    };
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 10), }\n";
    std::string good = std::string("\x93NUMPY\x01\x00", 8) + char(header.size()) + '\0' + header;
    EXPECT_EQ(message("hello"), "x.npy: not a NumPy .npy file");
    EXPECT_EQ(message(good + std::string(40, '\0')), "x.npy: npy data is truncated: 40 of 400 bytes");
    std::string big = good;
    big.replace(big.find("(10, 10)"), 8, "(99999999, 99999999)");
    big[8] = char(big.size() - 10);
    EXPECT_NE(message(big).find("absurdly large"), std::string::npos);
    std::string be = good;
    be.replace(be.find("<f4"), 3, ">f4");
    EXPECT_NE(message(be).find("unsupported npy dtype '>f4'"), std::string::npos);
}

TEST(Images, EightAndSixteenBitRoundTrips)
{
    const auto dir = test::temp_dir("images");
    at::Tensor rgb = at::rand({3, 20, 30}) * 2 - 1;
    write_image(dir + "/rgb.png", rgb);
    ImageInfo info;
    at::Tensor back = read_image(dir + "/rgb.png", 3, &info);
    EXPECT_EQ(info.width, 30);
    EXPECT_EQ(info.height, 20);
    EXPECT_EQ(info.bit_depth, 8);
    EXPECT_LE((back - rgb).abs().max().item<float>(), 1.0f / 255 + 1e-6f); // one 8-bit step
    at::Tensor depth = at::rand({1, 20, 30}) * 2 - 1;
    write_image(dir + "/depth.png", depth, 16);
    back = read_image(dir + "/depth.png", 1, &info);
    EXPECT_EQ(info.bit_depth, 16);
    EXPECT_LE((back - depth).abs().max().item<float>(), 1.0f / 65535 + 1e-6f);
    // Channel order: a pure red image stays red.
    at::Tensor red = at::full({3, 4, 4}, -1.0f);
    red[0].fill_(1.0f);
    write_image(dir + "/red.png", red);
    EXPECT_TRUE(at::allclose(read_image(dir + "/red.png", 3), red, 0, 1e-6));
}

TEST(Images, ReadsRealFilesOfOtherTools)
{
    ImageInfo info;
    at::Tensor d = read_image(test::shared_dir() + "/real/redwood_depth_00000.png", 1, &info);
    EXPECT_EQ(info.bit_depth, 16);
    EXPECT_EQ(d.sizes(), (std::vector<int64_t>{1, 480, 640}));
    EXPECT_GE(d.min().item<float>(), -1.0f); // 0 = no reading maps to -1
    at::Tensor rgb = read_image(test::shared_dir() + "/real/redwood_color_00000.jpg", 3, &info);
    EXPECT_EQ(rgb.sizes(), (std::vector<int64_t>{3, 480, 640}));
    at::Tensor sketch = read_image(test::shared_dir() + "/real/texturegan_flask_sketch_tshirt.jpg", 1, &info);
    EXPECT_EQ(sketch.sizes(), (std::vector<int64_t>{1, 256, 256}));
    EXPECT_GT(sketch.mean().item<float>(), 0.5f); // mostly white paper
}

TEST(Images, CorruptAndMissingFilesGiveClearErrors)
{
    const auto dir = test::temp_dir("images-bad");
    test::write_bytes(dir + "/fake.png", "this is not a png");
    test::write_bytes(dir + "/empty.png", "");
    const std::string good = test::read_bytes(test::shared_dir() + "/real/redwood_color_00000.jpg");
    test::write_bytes(dir + "/cut.jpg", good.substr(0, 200));
    for (const std::string name : {"fake.png", "empty.png", "cut.jpg", "missing.png"}) {
        const std::string path = dir + "/" + name;
        try {
            read_image(path, 3);
            ADD_FAILURE() << "no error for " << name;
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
        }
    }
}

} // namespace
} // namespace bft
