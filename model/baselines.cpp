#include "baselines.h"

#include "depth.h"
#include "errors.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace bft::baselines {

at::Tensor low_resolution(const at::Tensor& metres, int factor)
{
    if (factor < 1)
        throw Error("the downsampling factor must be at least 1");
    const at::Tensor filled = depth::fill_holes(metres).to(at::kFloat).contiguous();
    cv::Mat full(static_cast<int>(filled.size(1)), static_cast<int>(filled.size(2)), CV_32F, filled.data_ptr<float>());
    cv::Mat low;
    cv::resize(full, low, cv::Size(std::max(1, full.cols / factor), std::max(1, full.rows / factor)), 0, 0, cv::INTER_AREA);
    return at::from_blob(low.ptr<float>(), {1, low.rows, low.cols}, at::kFloat).clone();
}

at::Tensor joint_bilateral_upsample(const at::Tensor& low, const at::Tensor& rgb01, double sigma_spatial, double sigma_range,
                                    int radius)
{
    if (low.dim() != 3 || low.size(0) != 1 || rgb01.dim() != 3 || rgb01.size(0) != 3)
        throw Error("joint bilateral upsampling takes a 1 x h x w map and a 3 x H x W guide");
    const int64_t h = low.size(1), w = low.size(2), H = rgb01.size(1), W = rgb01.size(2);
    const at::Tensor guide = rgb01.to(at::kFloat);
    // Each low-resolution reading's colour: the guide averaged over its block.
    const at::Tensor block_rgb = at::adaptive_avg_pool2d(guide.unsqueeze(0), {h, w}).squeeze(0); // 3 x h x w
    // Output pixel centres in low-resolution coordinates (align_corners = false).
    const at::Tensor ys = (at::arange(H, at::kFloat) + 0.5) * (static_cast<double>(h) / H) - 0.5;
    const at::Tensor xs = (at::arange(W, at::kFloat) + 0.5) * (static_cast<double>(w) / W) - 0.5;
    const at::Tensor y0 = ys.round().to(at::kLong), x0 = xs.round().to(at::kLong);
    // Exponents of all window offsets first, then normalised by their maximum per pixel: where
    // every reading's colour is far from the pixel's, plain exp() would underflow to 0/0.
    std::vector<at::Tensor> exponents, values;
    const at::Tensor flat_low = low[0].reshape({-1});
    const at::Tensor flat_rgb = block_rgb.reshape({3, -1});
    for (int dy = -radius; dy <= radius; ++dy)
        for (int dx = -radius; dx <= radius; ++dx) {
            const at::Tensor qy = (y0 + dy).clamp(0, h - 1), qx = (x0 + dx).clamp(0, w - 1);
            const at::Tensor dist2 = (ys - qy.to(at::kFloat)).pow(2).unsqueeze(1) + (xs - qx.to(at::kFloat)).pow(2).unsqueeze(0);
            const at::Tensor idx = (qy.unsqueeze(1) * w + qx.unsqueeze(0)).reshape({-1}); // H*W
            values.push_back(flat_low.index_select(0, idx).reshape({H, W}));
            const at::Tensor c = flat_rgb.index_select(1, idx).reshape({3, H, W});
            const at::Tensor range2 = (c - guide).pow(2).sum(0);
            exponents.push_back(-dist2 / (2 * sigma_spatial * sigma_spatial) - range2 / (2 * sigma_range * sigma_range));
        }
    const at::Tensor e = at::stack(exponents);
    const at::Tensor weight = at::exp(e - std::get<0>(e.max(0, true)));
    return ((weight * at::stack(values)).sum(0) / weight.sum(0)).unsqueeze(0);
}

at::Tensor nearest_colour_fill(const at::Tensor& guide)
{
    if (guide.dim() != 3 || guide.size(0) != 4)
        throw Error("the texture guide has 4 channels (Lab' and a mask)");
    const int H = static_cast<int>(guide.size(1)), W = static_cast<int>(guide.size(2));
    const at::Tensor mask = guide[3].gt(0).to(at::kByte).contiguous();
    if (mask.sum().item<int64_t>() == 0)
        return guide.slice(0, 0, 3).clone();
    // distanceTransform measures to the nearest zero pixel: zeros on the patches.
    cv::Mat off(H, W, CV_8U);
    const uint8_t* m = mask.data_ptr<uint8_t>();
    for (int i = 0; i < H * W; ++i)
        off.data[i] = m[i] ? 0 : 255;
    cv::Mat dist, labels;
    cv::distanceTransform(off, dist, labels, cv::DIST_L2, cv::DIST_MASK_5, cv::DIST_LABEL_PIXEL);
    // Labels number the zero pixels; map each label to its pixel's index.
    std::vector<int64_t> label_pixel(static_cast<size_t>(H) * W + 1, 0);
    for (int i = 0; i < H * W; ++i)
        if (m[i])
            label_pixel[static_cast<size_t>(labels.ptr<int>()[i])] = i;
    std::vector<int64_t> source(static_cast<size_t>(H) * W);
    for (int i = 0; i < H * W; ++i)
        source[static_cast<size_t>(i)] = label_pixel[static_cast<size_t>(labels.ptr<int>()[i])];
    const at::Tensor idx = at::from_blob(source.data(), {H * W}, at::kLong).clone();
    return guide.slice(0, 0, 3).reshape({3, -1}).index_select(1, idx).reshape({3, H, W});
}

} // namespace bft::baselines
