// Pose guides: 18 keypoints in the OpenPose COCO-18 order, their keypoint maps (the pose task's
// 18-channel guide), OpenPose JSON in and out, horizontal flips with the left/right swap, and the
// skeleton drawn in OpenPose's colours.
//
// Keypoint maps follow the data of "Pose Guided Person Image Generation" (PG2), on which the
// paper's DeepFashion set is built: one H x W map per keypoint, `inside` (1) on the solid disc of
// pixels whose distance to the keypoint (coordinates truncated to whole pixels) is at most
// `radius` (4), `outside` (0) elsewhere; a missing keypoint leaves its map at `outside`. The
// Gaussian variant (PG2's alternative) puts exp(-d^2 / (2 sigma^2)) inside the disc.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bft::pose {

constexpr int kKeypoints = 18;

// "nose", "neck", "right_shoulder", ..., "left_ear" (COCO-18 order).
const char* keypoint_name(int k);
// The keypoint that a horizontal flip turns k into (right <-> left; nose and neck stay).
int mirrored(int k);

struct Keypoint {
    float x = 0, y = 0;       // pixels, origin at the top-left pixel's centre
    float confidence = 0;     // as read (1 for keypoints we place)
    bool present = false;
};

struct Pose {
    std::array<Keypoint, kKeypoints> points{};
    int present_count() const;
};

// Limbs as OpenPose draws the COCO-18 skeleton: (from, to) pairs, and their RGB colours.
struct Limb {
    int from, to;
    uint8_t r, g, b;
};
const std::vector<Limb>& limbs();

// Mirror around the vertical centre line of an image `width` pixels wide: x -> width - 1 - x,
// and left and right keypoints trade places.
Pose flipped(const Pose& pose, int width);
Pose scaled(const Pose& pose, float sx, float sy);

struct MapStyle {
    float radius = 4;      // pixels
    float inside = 1;      // value at the keypoint
    float outside = 0;     // value elsewhere
    bool gaussian = false; // exp(-d^2/(2 sigma^2)) inside the disc instead of a constant
    float sigma = 4;
};

// 18 x height x width float maps.
at::Tensor keypoint_maps(const Pose& pose, int height, int width, const MapStyle& style = {});
// The inverse: each map's keypoint at the centre of mass of its values above the midpoint between
// `outside` and `inside`; a map without such values gives a missing keypoint.
Pose pose_from_maps(const at::Tensor& maps, const MapStyle& style = {});

// OpenPose JSON (`people[].pose_keypoints_2d`: x, y, confidence triples; confidence 0 = missing).
// COCO-18 (54 numbers) and BODY_25 (75, mapped to COCO-18) are read; coordinates normalised to
// [0, 1] (as some pose editors write them) are scaled by the canvas size when the file gives one.
struct PoseFile {
    std::vector<Pose> people;
    int canvas_width = 0, canvas_height = 0; // 0 when the file does not say
};
PoseFile read_openpose_json(const std::string& path);
PoseFile parse_openpose_json(const std::string& text, const std::string& source);
void write_openpose_json(const std::string& path, const PoseFile& file); // atomic; COCO-18, "version": 1.3
std::string openpose_json(const PoseFile& file);

// Draws limbs (thickness px) and joints onto an RGB image (H x W x 3, uint8, row-major).
void draw_skeleton(uint8_t* rgb, int width, int height, const Pose& pose, int thickness = 4);

} // namespace bft::pose
