// Guides as files, the ones the editor imports and exports, read into the editor's request types
// (live.h) so that `bft translate` runs exactly what the editor runs: OpenPose JSON for pose (one
// person of several by index, scaled from the file's canvas to the image), depth maps and sparse
// depth points for depth, and texture patch layouts for texture. No LibTorch in this header.
// Every function throws bft::Error naming the file and the problem.
#pragma once

#include "live.h"

#include <string>
#include <vector>

namespace bft::live {

// The skeleton of person `person` (-1: the first, noting in `note` when there are several) of an
// OpenPose JSON (COCO-18 or BODY_25; pixel or normalised coordinates), in the pixels of a
// width x height image: a file made for another canvas size is scaled to it.
Skeleton read_pose_guide(const std::string& path, int width, int height, int person = -1, std::string* note = nullptr);

// Depth for the depth task's input, in metres (0 = no reading), at the file's own resolution:
// a depth map (.png: 16-bit in 1/`units_per_metre` m, or .npy in metres), or sparse points, a
// text file (.txt, .csv) of "x y metres" lines in the pixels of a width x height image (commas or
// spaces; # comments), returned at that size with 0 where there is no point.
Raster read_depth_guide(const std::string& path, int width, int height, float units_per_metre = 1000);

// A texture patch layout as the editor's "Export patch layout" writes it: JSON with image_width,
// image_height, textures (PNG files beside it) and patches ({texture: index, x, y, width, height}
// in that image's pixels); returned scaled to a width x height image, each texture resized to its
// patch.
std::vector<TexturePatch> read_patch_layout(const std::string& path, int width, int height);

} // namespace bft::live
