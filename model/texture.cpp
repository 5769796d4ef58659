#include "texture.h"

#include "errors.h"

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <vector>

namespace bft::texture {

namespace {

// sRGB (linear) -> XYZ, and the D65 white point, as skimage.color uses them.
constexpr double kRgbToXyz[3][3] = {{0.412453, 0.357580, 0.180423},
                                    {0.212671, 0.715160, 0.072169},
                                    {0.019334, 0.119193, 0.950227}};
constexpr double kWhite[3] = {0.95047, 1.0, 1.08883};

at::Tensor matrix(const double (&m)[3][3])
{
    return at::tensor({m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2]}, at::kDouble)
        .view({3, 3});
}

at::Tensor apply(const at::Tensor& m, const at::Tensor& chw) // 3x3 matrix on a 3 x H x W image
{
    return at::einsum("ij,jhw->ihw", {m, chw});
}

void check3(const at::Tensor& t, const char* what)
{
    if (t.dim() != 3 || t.size(0) != 3)
        throw Error(std::string(what) + ": expected a 3 x H x W image");
}

} // namespace

at::Tensor rgb_to_lab(const at::Tensor& rgb01)
{
    check3(rgb01, "rgb_to_lab");
    const at::Tensor c = rgb01.to(at::kDouble).clamp(0, 1);
    const at::Tensor linear = at::where(c > 0.04045, ((c + 0.055) / 1.055).pow(2.4), c / 12.92);
    at::Tensor xyz = apply(matrix(kRgbToXyz), linear);
    xyz = xyz / at::tensor({kWhite[0], kWhite[1], kWhite[2]}, at::kDouble).view({3, 1, 1});
    const at::Tensor f = at::where(xyz > 0.008856, xyz.pow(1.0 / 3), 7.787 * xyz + 16.0 / 116);
    const at::Tensor L = 116 * f[1] - 16;
    const at::Tensor a = 500 * (f[0] - f[1]);
    const at::Tensor b = 200 * (f[1] - f[2]);
    return at::stack({L, a, b}).to(at::kFloat);
}

at::Tensor lab_to_rgb(const at::Tensor& lab)
{
    check3(lab, "lab_to_rgb");
    const at::Tensor l = lab.to(at::kDouble);
    const at::Tensor fy = (l[0] + 16) / 116;
    const at::Tensor fx = fy + l[1] / 500;
    const at::Tensor fz = (fy - l[2] / 200).clamp_min(0);
    at::Tensor f = at::stack({fx, fy, fz});
    at::Tensor xyz = at::where(f > 0.2068966, f.pow(3), (f - 16.0 / 116) / 7.787);
    xyz = xyz * at::tensor({kWhite[0], kWhite[1], kWhite[2]}, at::kDouble).view({3, 1, 1});
    const at::Tensor linear = apply(at::inverse(matrix(kRgbToXyz)), xyz).clamp_min(0);
    const at::Tensor c = at::where(linear > 0.0031308, 1.055 * linear.pow(1 / 2.4) - 0.055, linear * 12.92);
    return c.clamp(0, 1).to(at::kFloat);
}

at::Tensor lab_to_unit(const at::Tensor& lab)
{
    check3(lab, "lab_to_unit");
    return at::stack({(lab[0] - 50) / 50, lab[1] / 128, lab[2] / 128});
}

at::Tensor unit_to_lab(const at::Tensor& unit)
{
    check3(unit, "unit_to_lab");
    return at::stack({unit[0] * 50 + 50, unit[1] * 128, unit[2] * 128});
}

at::Tensor rgb_unit_to_lab_unit(const at::Tensor& rgb_unit)
{
    return lab_to_unit(rgb_to_lab((rgb_unit + 1) / 2));
}

at::Tensor lab_unit_to_rgb_unit(const at::Tensor& lab_unit)
{
    return lab_to_rgb(unit_to_lab(lab_unit)) * 2 - 1;
}

at::Tensor sketch_from_image(const at::Tensor& rgb01)
{
    check3(rgb01, "sketch_from_image");
    const at::Tensor hwc = (rgb01.clamp(0, 1) * 255).round().to(at::kByte).permute({1, 2, 0}).contiguous();
    cv::Mat rgb(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>());
    cv::Mat gray, blurred, edges;
    cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
    cv::GaussianBlur(gray, blurred, cv::Size(0, 0), 1.2);
    cv::Canny(blurred, edges, 30, 90); // fixed thresholds: product photos are mostly plain background
    cv::Mat drawing = 255 - edges; // dark lines on white
    cv::GaussianBlur(drawing, drawing, cv::Size(3, 3), 0.5);
    // L of a grey level g: the lightness of the sRGB grey (g, g, g).
    at::Tensor g = at::from_blob(drawing.data, {1, drawing.rows, drawing.cols}, at::kByte).to(at::kFloat) / 255;
    at::Tensor lab = rgb_to_lab(g.expand({3, -1, -1}).contiguous());
    return ((lab[0] - 50) / 50).unsqueeze(0);
}

at::Tensor patch_guide(const std::vector<Patch>& patches, int height, int width)
{
    at::Tensor guide = at::ones({4, height, width}, at::kFloat);
    guide[3].fill_(-1);
    for (const auto& p : patches) {
        check3(p.lab_unit, "patch_guide");
        const int h = static_cast<int>(p.lab_unit.size(1)), w = static_cast<int>(p.lab_unit.size(2));
        const int y0 = std::max(0, p.y), x0 = std::max(0, p.x);
        const int y1 = std::min(height, p.y + h), x1 = std::min(width, p.x + w);
        if (y1 <= y0 || x1 <= x0)
            continue;
        guide.narrow(0, 0, 3).narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0)
            .copy_(p.lab_unit.narrow(1, y0 - p.y, y1 - y0).narrow(2, x0 - p.x, x1 - x0));
        guide[3].narrow(0, y0, y1 - y0).narrow(1, x0, x1 - x0).fill_(1);
    }
    return guide;
}

} // namespace bft::texture
