// Guides of the three tasks: keypoint maps and OpenPose JSON (with real files of other tools),
// flips with the left/right swap, depth files and conversions, low-resolution and sparse depth
// inputs, Lab conversion, sketches and texture patch guides.
#include "test_support.h"

#include "baselines.h"
#include "depth.h"
#include "errors.h"
#include "image_io.h"
#include "pose.h"
#include "texture.h"

#include <gtest/gtest.h>

namespace bft {
namespace {

pose::Pose sample_pose()
{
    pose::Pose p;
    for (int k = 0; k < pose::kKeypoints; ++k) {
        auto& q = p.points[static_cast<size_t>(k)];
        q.x = static_cast<float>(10 + 3 * k);
        q.y = static_cast<float>(50 - 2 * k); // every disc lies inside a 64 x 80 image
        q.confidence = 1;
        q.present = k != 9 && k != 16; // two missing
    }
    return p;
}

TEST(Pose, KeypointMapsAreSolidDiscsOfRadiusFour)
{
    const auto p = sample_pose();
    const at::Tensor maps = pose::keypoint_maps(p, 64, 80);
    ASSERT_EQ(maps.sizes(), (std::vector<int64_t>{18, 64, 80}));
    // Integer points with dx^2 + dy^2 <= 16: 49 pixels at 1, the rest 0 (PG2's maps).
    EXPECT_EQ((maps[0] == 1).sum().item<int64_t>(), 49);
    EXPECT_EQ((maps[0] == 0).sum().item<int64_t>(), 64 * 80 - 49);
    EXPECT_EQ(maps[0][50][10].item<float>(), 1.0f);
    EXPECT_EQ(maps[0][50][14].item<float>(), 1.0f);
    EXPECT_EQ(maps[0][50][15].item<float>(), 0.0f);
    EXPECT_EQ(maps[0][53][13].item<float>(), 0.0f); // 3^2 + 3^2 > 16: outside the disc
    EXPECT_EQ(maps[9].abs().sum().item<float>(), 0.0f); // missing keypoint: empty map
    pose::MapStyle style;
    style.radius = 2;
    style.outside = -1;
    const at::Tensor small = pose::keypoint_maps(p, 64, 80, style);
    EXPECT_EQ((small[0] == 1).sum().item<int64_t>(), 13);
    EXPECT_EQ(small[9].min().item<float>(), -1.0f);
}

TEST(Pose, MapsConvertBackToKeypoints)
{
    const auto p = sample_pose();
    for (bool gaussian : {false, true}) {
        pose::MapStyle style;
        style.gaussian = gaussian;
        const auto back = pose::pose_from_maps(pose::keypoint_maps(p, 64, 80, style), style);
        for (int k = 0; k < pose::kKeypoints; ++k) {
            const auto& a = p.points[static_cast<size_t>(k)];
            const auto& b = back.points[static_cast<size_t>(k)];
            ASSERT_EQ(a.present, b.present) << pose::keypoint_name(k);
            if (a.present) {
                EXPECT_NEAR(a.x, b.x, 1e-4) << pose::keypoint_name(k);
                EXPECT_NEAR(a.y, b.y, 1e-4) << pose::keypoint_name(k);
            }
        }
    }
}

TEST(Pose, FlipSwapsLeftAndRight)
{
    const auto p = sample_pose();
    const auto f = pose::flipped(p, 80);
    EXPECT_EQ(f.points[5].x, 79 - p.points[2].x); // left shoulder <- right shoulder
    EXPECT_EQ(f.points[2].y, p.points[5].y);
    EXPECT_EQ(f.points[0].x, 79 - p.points[0].x); // the nose stays the nose
    EXPECT_FALSE(f.points[12].present);           // left knee <- the missing right knee
    // Maps of the flipped pose = mirrored maps with the channels swapped.
    const at::Tensor maps = pose::keypoint_maps(p, 64, 80), fmaps = pose::keypoint_maps(f, 64, 80);
    for (int k = 0; k < pose::kKeypoints; ++k)
        EXPECT_TRUE(at::equal(fmaps[pose::mirrored(k)], maps[k].flip({1}))) << pose::keypoint_name(k);
    const auto twice = pose::flipped(f, 80);
    for (int k = 0; k < pose::kKeypoints; ++k)
        EXPECT_EQ(twice.points[static_cast<size_t>(k)].x, p.points[static_cast<size_t>(k)].x);
}

TEST(Pose, OpenPoseJsonRoundTrip)
{
    const auto dir = test::temp_dir("pose-json");
    pose::PoseFile file;
    file.people = {sample_pose(), pose::flipped(sample_pose(), 80)};
    file.canvas_width = 80;
    file.canvas_height = 64;
    pose::write_openpose_json(dir + "/p.json", file);
    const auto back = pose::read_openpose_json(dir + "/p.json");
    ASSERT_EQ(back.people.size(), 2u);
    EXPECT_EQ(back.canvas_width, 80);
    for (size_t i = 0; i < 2; ++i)
        for (int k = 0; k < pose::kKeypoints; ++k) {
            const auto& a = file.people[i].points[static_cast<size_t>(k)];
            const auto& b = back.people[i].points[static_cast<size_t>(k)];
            EXPECT_EQ(a.present, b.present);
            if (a.present) {
                EXPECT_FLOAT_EQ(a.x, b.x);
                EXPECT_FLOAT_EQ(a.y, b.y);
            }
        }
}

TEST(Pose, ReadsAControlNetEditorFile)
{
    const auto f = pose::read_openpose_json(test::shared_dir() + "/real/controlnet_coco18_pixels_pose_hand_fixed.json");
    ASSERT_EQ(f.people.size(), 1u);
    EXPECT_EQ(f.canvas_width, 768);
    EXPECT_EQ(f.canvas_height, 512);
    EXPECT_EQ(f.people[0].present_count(), 12); // 6 of 18 missing
    for (const auto& p : f.people[0].points)
        if (p.present) {
            EXPECT_GT(p.x, 1.0f); // pixels, not normalised
            EXPECT_LT(p.x, 768.0f);
            EXPECT_LT(p.y, 512.0f);
        }
}

TEST(Pose, ReadsBody25AndNormalisedCoordinates)
{
    std::string kp;
    for (int t = 0; t < 25; ++t)
        kp += (t ? "," : "") + std::to_string(0.01 * t) + ",0.5," + (t == 8 ? "0.9" : "0.8");
    const auto f = pose::parse_openpose_json(
        R"({"canvas_width": 200, "canvas_height": 100, "people": [{"pose_keypoints_2d": [)" + kp + "]}]}", "mem");
    ASSERT_EQ(f.people.size(), 1u);
    const auto& p = f.people[0];
    EXPECT_EQ(p.present_count(), 18);
    EXPECT_NEAR(p.points[8].x, 0.09 * 200, 1e-3); // COCO right hip = BODY_25 keypoint 9
    EXPECT_NEAR(p.points[17].x, 0.18 * 200, 1e-3); // left ear = BODY_25 18
    EXPECT_NEAR(p.points[0].y, 50, 1e-3);
}

TEST(Pose, BadFilesAreRefusedWithReasons)
{
    auto message = [](const std::string& text) -> std::string {
        try {
            pose::parse_openpose_json(text, "p.json");
        } catch (const Error& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_NE(message("{not json").find("p.json: not valid JSON"), std::string::npos);
    EXPECT_EQ(message("{\"version\": 1}"), "p.json: not an OpenPose file (no \"people\" list)");
    EXPECT_EQ(message(R"({"people": [{"pose_keypoints_2d": [1, 2, 3]}]})"),
              "p.json: person 0 has 3 keypoint numbers (expected 54 for COCO-18 or 75 for BODY_25)");
    EXPECT_EQ(pose::parse_openpose_json(R"({"people": []})", "p.json").people.size(), 0u);
}

TEST(Depth, FilesRoundTripWithinQuantisation)
{
    const auto dir = test::temp_dir("depth-files");
    at::Tensor d = at::rand({1, 30, 40}) * 5 + 0.5;
    d[0][3][4] = 0; // a hole survives as 0
    depth::write_depth(dir + "/d.png", d);
    const at::Tensor png = depth::read_depth(dir + "/d.png");
    EXPECT_LE((png - d).abs().max().item<float>(), 0.0005f + 1e-6f); // half a millimetre
    EXPECT_EQ(png[0][3][4].item<float>(), 0.0f);
    depth::FileOptions eight;
    eight.png_bits = 8;
    eight.range8 = {0.5f, 5.5f};
    depth::write_depth(dir + "/d8.png", d, eight);
    const at::Tensor png8 = depth::read_depth(dir + "/d8.png", eight);
    EXPECT_LE((png8 - d).abs().max().item<float>(), 5.0f / 254 / 2 + 1e-5f); // half an 8-bit step
    EXPECT_EQ(png8[0][3][4].item<float>(), 0.0f);
    depth::write_depth(dir + "/d.npy", d);
    EXPECT_TRUE(at::equal(depth::read_depth(dir + "/d.npy"), d));
    depth::FileOptions tenth_mm;
    tenth_mm.units_per_metre = 10000;
    EXPECT_THROW(depth::write_depth(dir + "/far.png", d + 10, tenth_mm), Error); // 15 m > 6.5535 m
    const at::Tensor unit = depth::to_unit(d, {0.5f, 5.5f});
    EXPECT_LE(unit.max().item<float>(), 1.0f);
    EXPECT_LE((depth::to_metres(depth::to_unit(d, {0, 6}), {0, 6}) - d).abs().max().item<float>(), 1e-5f);
}

TEST(Depth, ReadsARealKinectStyleMap)
{
    const at::Tensor d = depth::read_depth(test::shared_dir() + "/real/redwood_depth_00000.png");
    ASSERT_EQ(d.sizes(), (std::vector<int64_t>{1, 480, 640}));
    const double holes = (d == 0).to(at::kFloat).mean().item<double>();
    EXPECT_NEAR(holes, 0.13, 0.03);
    const at::Tensor valid = d.masked_select(d > 0);
    // The raw readings span 0.955-2.702 m (shared/real's README quotes a robust 0.98-2.63).
    EXPECT_NEAR(valid.min().item<float>(), 0.955f, 0.001f);
    EXPECT_NEAR(valid.max().item<float>(), 2.702f, 0.001f);
    EXPECT_THROW(depth::read_depth(test::shared_dir() + "/real/redwood_color_00000.jpg"), Error);
}

TEST(Depth, LowResolutionInputAndSparseSamples)
{
    at::Tensor ramp = (at::arange(64, at::kFloat) / 16 + 1).view({1, 1, 64}).expand({1, 48, 64}).contiguous();
    ramp[0][10][10] = 0;                                      // a hole
    const at::Tensor low = depth::low_resolution_input(ramp, 8);
    ASSERT_EQ(low.sizes(), ramp.sizes());
    EXPECT_LE((low - depth::fill_holes(ramp)).abs().max().item<float>(), 0.3f); // a ramp survives
    EXPECT_GT(low[0][10][10].item<float>(), 0.5f);                               // holes are filled first
    const std::vector<depth::Sample> samples = {{5, 5, 1.0f}, {50, 40, 3.0f}};
    const at::Tensor dense = depth::densify(samples, 48, 64);
    EXPECT_EQ(dense[0][5][5].item<float>(), 1.0f);
    EXPECT_EQ(dense[0][40][50].item<float>(), 3.0f);
    EXPECT_EQ(dense[0][0][0].item<float>(), 1.0f);   // nearest sample
    EXPECT_EQ(dense[0][47][63].item<float>(), 3.0f);
    const at::Tensor smooth = depth::densify(samples, 48, 64, 4.0f);
    EXPECT_GT(smooth.min().item<float>(), 0.99f);
    EXPECT_LT(smooth.max().item<float>(), 3.01f);
    EXPECT_THROW(depth::densify({{1, 1, -2.0f}}, 4, 4), Error);
}

TEST(Texture, LabMatchesReferenceValuesAndRoundTrips)
{
    at::Tensor rgb = at::zeros({3, 1, 3});
    rgb[0][0][0] = 1;             // red
    rgb.select(2, 1).fill_(1);    // white
    const at::Tensor lab = texture::rgb_to_lab(rgb);
    // skimage.color.rgb2lab: red = (53.2408, 80.0925, 67.2032), white = (100, -0.0025, 0.0119)
    // (its matrix and white point do not quite agree), black = 0.
    EXPECT_NEAR(lab[0][0][0].item<float>(), 53.2408f, 1e-3);
    EXPECT_NEAR(lab[1][0][0].item<float>(), 80.0925f, 1e-3);
    EXPECT_NEAR(lab[2][0][0].item<float>(), 67.2032f, 1e-3);
    EXPECT_NEAR(lab[0][0][1].item<float>(), 100.0f, 1e-3);
    EXPECT_NEAR(lab[1][0][1].item<float>(), -0.0025f, 1e-3);
    EXPECT_NEAR(lab[0][0][2].item<float>(), 0.0f, 1e-3);
    const at::Tensor any = at::rand({3, 16, 16});
    EXPECT_LE((texture::lab_to_rgb(texture::rgb_to_lab(any)) - any).abs().max().item<float>(), 1e-4f);
    const at::Tensor unit = texture::rgb_unit_to_lab_unit(any * 2 - 1);
    EXPECT_LE(unit.abs().max().item<float>(), 1.0f);
    EXPECT_LE((texture::lab_unit_to_rgb_unit(unit) - (any * 2 - 1)).abs().max().item<float>(), 2e-4f);
}

TEST(Texture, SketchOfARealPhotoIsDarkLinesOnWhite)
{
    const at::Tensor photo = (read_image(test::shared_dir() + "/real/texturegan_flask_photo_tshirt.jpg", 3) + 1) / 2;
    const at::Tensor sketch = texture::sketch_from_image(photo);
    ASSERT_EQ(sketch.sizes(), (std::vector<int64_t>{1, 256, 256}));
    const double white = (sketch > 0.9).to(at::kFloat).mean().item<double>();
    const double dark = (sketch < -0.5).to(at::kFloat).mean().item<double>();
    EXPECT_GT(white, 0.8);  // mostly paper
    EXPECT_GT(dark, 0.005); // but there are lines
    EXPECT_LT(dark, 0.15);
}

TEST(Texture, PatchGuideHasLabWherePlacedAndMask)
{
    const at::Tensor patch = at::full({3, 10, 8}, 0.25f);
    const at::Tensor g = texture::patch_guide({{patch, 5, 4}, {patch, 60, 60}}, 64, 64);
    ASSERT_EQ(g.sizes(), (std::vector<int64_t>{4, 64, 64}));
    EXPECT_EQ(g[3][4][5].item<float>(), 1.0f);
    EXPECT_EQ(g[0][13][12].item<float>(), 0.25f);
    EXPECT_EQ(g[3][14][5].item<float>(), -1.0f); // below the patch
    EXPECT_EQ(g[0][14][5].item<float>(), 1.0f);  // the blank texture
    EXPECT_EQ((g[3] == 1).sum().item<int64_t>(), 10 * 8 + 4 * 4); // the second patch is clipped
}

} // namespace
} // namespace bft

TEST(Baselines, JointBilateralUpsamplingKeepsEdgesThatTheColourHas)
{
    // A depth step at x = 37 (not on a block border) with the same step in the RGB: joint
    // bilateral upsampling puts the edge where the colour changes, bicubic blurs it.
    const int H = 64, W = 64, f = 8;
    at::Tensor metres = at::full({1, H, W}, 2.0f);
    metres.narrow(2, 37, W - 37).fill_(5.0f);
    at::Tensor rgb = at::full({3, H, W}, 0.2f);
    rgb.narrow(2, 37, W - 37).fill_(0.9f);
    const at::Tensor low = bft::baselines::low_resolution(metres, f);
    ASSERT_EQ(low.size(1), H / f);
    const at::Tensor jbu = bft::baselines::joint_bilateral_upsample(low, rgb);
    const at::Tensor bicubic = bft::depth::low_resolution_input(metres, f);
    const double e_jbu = (jbu - metres).pow(2).mean().sqrt().item<double>();
    const double e_bicubic = (bicubic - metres).pow(2).mean().sqrt().item<double>();
    EXPECT_LT(e_jbu, 0.7 * e_bicubic) << e_jbu << " vs " << e_bicubic;
    // Flat depth stays flat whatever the colours.
    const at::Tensor flat = bft::baselines::joint_bilateral_upsample(at::full({1, 8, 8}, 3.0f), at::rand({3, H, W}));
    EXPECT_LT((flat - 3.0f).abs().max().item<float>(), 1e-5f);
}

TEST(Baselines, NearestColourFillTakesTheClosestPatchPixel)
{
    at::Tensor guide = at::ones({4, 16, 16});
    guide[3].fill_(-1.0f);
    guide.narrow(1, 0, 4).narrow(2, 0, 4).slice(0, 0, 3).fill_(0.25f); // patch A top-left
    guide.narrow(1, 0, 4).narrow(2, 0, 4)[3].fill_(1.0f);
    guide.narrow(1, 12, 4).narrow(2, 12, 4).slice(0, 0, 3).fill_(-0.5f); // patch B bottom-right
    guide.narrow(1, 12, 4).narrow(2, 12, 4)[3].fill_(1.0f);
    const at::Tensor out = bft::baselines::nearest_colour_fill(guide);
    ASSERT_EQ(out.size(0), 3);
    EXPECT_FLOAT_EQ(out[0][5][5].item<float>(), 0.25f);
    EXPECT_FLOAT_EQ(out[1][10][11].item<float>(), -0.5f);
    EXPECT_FLOAT_EQ(out[2][1][7].item<float>(), 0.25f); // 4 px from A, 11 from B
}
