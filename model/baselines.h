// Classical baselines that the demo models' cards report beside the networks, so their numbers
// mean something: joint bilateral upsampling for depth (Kopf et al., SIGGRAPH 2007), and a
// nearest-colour fill of the texture patches.
#pragma once

#include <ATen/core/Tensor.h>

namespace bft::baselines {

// The low-resolution map the depth task's input is made from (holes filled, area-averaged by
// `factor`), as depth::low_resolution_input computes it before its bicubic upsampling.
at::Tensor low_resolution(const at::Tensor& metres, int factor); // 1 x H/f x W/f

// Joint bilateral upsampling of `low` (1 x h x w metres) to the size of `rgb01` (3 x H x W in
// [0, 1]): each output pixel is a weighted mean of the low-resolution readings within `radius`
// low-resolution pixels, weighted by a spatial Gaussian (sigma in low-resolution pixels) and a
// range Gaussian on the RGB difference between the pixel and the reading's block colour. The
// defaults were the best of a small grid on a synthetic depth set of another seed than the
// demo model's held-out set (wider spatial kernels blur more than bicubic interpolation does).
at::Tensor joint_bilateral_upsample(const at::Tensor& low, const at::Tensor& rgb01, double sigma_spatial = 0.5,
                                    double sigma_range = 0.1, int radius = 2);

// Every pixel takes the colour (all channels of the guide's Lab') of the nearest patch pixel;
// the texture guide's mask is channel 3 (> 0 on patches). Without patches: the blank guide.
at::Tensor nearest_colour_fill(const at::Tensor& texture_guide);

} // namespace bft::baselines
