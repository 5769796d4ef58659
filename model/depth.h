// Depth guides and depth maps: files (16-bit PNG in millimetres by default, 8-bit PNG with a
// range, float .npy in metres), the mapping to [-1, 1] through a recorded range so results map
// back to metres, the depth task's low-resolution input, and dense input maps from sparse samples.
//
// Conventions: depth maps are 1 x H x W float tensors in metres; 0 means "no reading" (as in
// Kinect-style 16-bit PNGs).
//
// Low-resolution input (the paper's NYU task: the input is the low-resolution depth upsampled back
// to full size): holes are first filled with the nearest valid reading; the map is then reduced by
// `factor` with area averaging (each low-resolution pixel is the mean of its factor x factor block)
// and brought back to full size with bicubic interpolation (OpenCV INTER_CUBIC, a = -0.75, pixel
// centres aligned as in align_corners=False).
//
// Sparse samples (what a user paints): each pixel takes the depth of its nearest sample (a
// Voronoi fill; OpenCV's 5x5-mask Euclidean distance transform), then a Gaussian blur of `smooth_sigma` pixels softens
// the cell borders (0 turns it off).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace bft::depth {

struct Range {
    float near_m = 0.0f; // maps to -1
    float far_m = 10.0f; // maps to 1
};

at::Tensor to_unit(const at::Tensor& metres, const Range& range);   // clamped to [-1, 1]
at::Tensor to_metres(const at::Tensor& unit, const Range& range);

struct FileOptions {
    float units_per_metre = 1000; // 16-bit PNG: millimetres
    Range range8;                 // 8-bit PNG: 1 -> near, 255 -> far (0 stays "no reading")
    int png_bits = 16;            // what write_depth writes: 16 or 8
};

// .png (16- or 8-bit, one channel), .npy (H x W or 1 x H x W, metres). Throws bft::Error naming
// the file on anything else (colour PNG, NaN or negative values in .npy, ...).
at::Tensor read_depth(const std::string& path, const FileOptions& options = {});
// .png: 16-bit in units (values beyond 65535 units are an error) or, with png_bits = 8, 8-bit over
// range8 (clamped); .npy: float metres. Atomic.
void write_depth(const std::string& path, const at::Tensor& metres, const FileOptions& options = {});

at::Tensor fill_holes(const at::Tensor& metres); // nearest valid reading; all-hole maps stay 0
at::Tensor low_resolution_input(const at::Tensor& metres, int factor);

struct Sample {
    float x, y;   // pixels
    float metres; // > 0
};
at::Tensor densify(const std::vector<Sample>& samples, int height, int width, float smooth_sigma = 0);

} // namespace bft::depth
