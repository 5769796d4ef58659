// Texture guides, as the original texture task (TextureGAN's data) makes them:
// - colour: sRGB in [0, 1] -> CIE Lab (D65, the formulas of skimage.color.rgb2lab that the reference
//   uses), then scaled to about [-1, 1]: L' = (L - 50) / 50, a' = a / 128, b' = b / 128;
// - the input: the L' channel of a sketch (thin dark lines on white);
// - the guide: 4 channels, the texture patches' Lab' where placed and 1 elsewhere in all three
//   colour channels (the reference's blank texture), and a mask: 1 on the patches, -1 elsewhere;
// - the target and the output: the object's Lab'.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace bft::texture {

at::Tensor rgb_to_lab(const at::Tensor& rgb01); // 3 x H x W, [0, 1] -> L [0, 100], a, b
at::Tensor lab_to_rgb(const at::Tensor& lab);   // inverse, clamped to [0, 1]
at::Tensor lab_to_unit(const at::Tensor& lab);  // (L - 50) / 50, a / 128, b / 128
at::Tensor unit_to_lab(const at::Tensor& unit);

// RGB in [-1, 1] (the image tensors of image_io) <-> Lab' and back.
at::Tensor rgb_unit_to_lab_unit(const at::Tensor& rgb_unit);
at::Tensor lab_unit_to_rgb_unit(const at::Tensor& lab_unit);

// A line drawing of an image (3 x H x W RGB in [0, 1]): Canny edges (thresholds 30 / 90) of the
// blurred luminance, one pixel wide, dark on white, lightly anti-aliased. Returns the
// input channel: 1 x H x W, L' of the drawing (white 1, black -1).
at::Tensor sketch_from_image(const at::Tensor& rgb01);

struct Patch {
    at::Tensor lab_unit; // 3 x h x w
    int x = 0, y = 0;    // top-left corner in the guide; parts outside it are clipped
};
// The 4-channel guide of the texture task.
at::Tensor patch_guide(const std::vector<Patch>& patches, int height, int width);

} // namespace bft::texture
