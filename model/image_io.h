// Images <-> tensors for the CLI and the editor: 8- and 16-bit PNG/JPEG/... through OpenCV,
// mapped linearly to [-1, 1] (0 -> -1, full scale -> 1) as the reference's loaders do, and back.
// Task-specific encodings (keypoint maps, Lab, depth ranges) build on these.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace bft {

struct ImageInfo {
    int width = 0, height = 0;
    int channels = 0;  // as stored in the file
    int bit_depth = 8; // 8 or 16
};

// Reads an image as a C x H x W float tensor in [-1, 1] with `channels` channels: 1 (grayscale,
// converted from colour if needed) or 3 (RGB, converted from grayscale if needed).
// Throws bft::Error naming the file if it is missing, not an image, or empty.
at::Tensor read_image(const std::string& path, int channels, ImageInfo* info = nullptr);

// Writes a C x H x W (or 1 x C x H x W) tensor in [-1, 1] (clamped) as an image with 1 or 3
// channels, 8- or 16-bit (16 only for PNG), atomically; the format follows the extension.
void write_image(const std::string& path, const at::Tensor& chw, int bit_depth = 8);

// True for file names the image functions handle (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp).
bool is_image_path(const std::string& path);
// ".png" for "a/b.PNG"; empty when the file name has no extension.
std::string lower_extension(const std::string& path);

} // namespace bft
