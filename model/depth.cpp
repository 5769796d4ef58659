#include "depth.h"

#include "atomic_file.h"
#include "errors.h"
#include "npy.h"
#include "opencv_io.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace bft::depth {

namespace {

bool ends_with(const std::string& s, const std::string& suffix)
{
    if (s.size() < suffix.size())
        return false;
    std::string tail = s.substr(s.size() - suffix.size());
    std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return std::tolower(c); });
    return tail == suffix;
}

cv::Mat as_mat(const at::Tensor& map) // 1 x H x W float -> CV_32F view (caller keeps the tensor alive)
{
    return cv::Mat(static_cast<int>(map.size(1)), static_cast<int>(map.size(2)), CV_32F, map.data_ptr<float>());
}

at::Tensor from_mat(const cv::Mat& m)
{
    cv::Mat f;
    m.convertTo(f, CV_32F);
    return at::from_blob(f.data, {1, f.rows, f.cols}, at::kFloat).clone();
}

at::Tensor checked(const at::Tensor& metres, const char* what)
{
    if (metres.dim() != 3 || metres.size(0) != 1)
        throw Error(std::string(what) + ": depth maps are 1 x H x W");
    return metres.to(at::kFloat).contiguous();
}

} // namespace

at::Tensor to_unit(const at::Tensor& metres, const Range& r)
{
    return ((metres - r.near_m) / (r.far_m - r.near_m) * 2 - 1).clamp(-1, 1);
}

at::Tensor to_metres(const at::Tensor& unit, const Range& r)
{
    return (unit + 1) / 2 * (r.far_m - r.near_m) + r.near_m;
}

at::Tensor read_depth(const std::string& path, const FileOptions& options)
{
    if (ends_with(path, ".npy")) {
        at::Tensor t = read_npy(path).to(at::kFloat);
        if (t.dim() == 2)
            t = t.unsqueeze(0);
        if (t.dim() != 3 || t.size(0) != 1)
            throw Error(path, "a depth .npy must be H x W or 1 x H x W");
        if (!at::isfinite(t).all().item<bool>())
            throw Error(path, "depth contains NaN or infinite values");
        if ((t < 0).any().item<bool>())
            throw Error(path, "depth contains negative values");
        return t.contiguous();
    }
    if (!ends_with(path, ".png"))
        throw Error(path, "depth maps are read from .png (16- or 8-bit) or .npy");
    const cv::Mat raw = decode_image_file(path);
    if (raw.channels() != 1)
        throw Error(path, "a depth map has one channel, this image has " + std::to_string(raw.channels()));
    if (raw.depth() == CV_16U)
        return from_mat(raw) / options.units_per_metre;
    if (raw.depth() == CV_8U) {
        const auto& r = options.range8;
        at::Tensor v = from_mat(raw);
        return at::where(v > 0, (v - 1) / 254 * (r.far_m - r.near_m) + r.near_m, at::zeros_like(v));
    }
    throw Error(path, "unsupported PNG sample type (8- or 16-bit only)");
}

void write_depth(const std::string& path, const at::Tensor& metres_in, const FileOptions& options)
{
    const at::Tensor metres = checked(metres_in.detach().cpu(), path.c_str());
    if (!at::isfinite(metres).all().item<bool>())
        throw Error(path, "depth contains NaN or infinite values");
    if (ends_with(path, ".npy"))
        return write_npy(path, metres);
    if (!ends_with(path, ".png"))
        throw Error(path, "depth maps are written as .png (16-bit) or .npy");
    if (options.png_bits == 8) {
        const auto& r = options.range8;
        at::Tensor levels = ((metres - r.near_m) / (r.far_m - r.near_m) * 254 + 1).round().clamp(1, 255);
        levels = at::where(metres > 0, levels, at::zeros_like(levels)).to(at::kByte).contiguous();
        return write_image_file(path, cv::Mat(static_cast<int>(levels.size(1)), static_cast<int>(levels.size(2)), CV_8U,
                                              levels.data_ptr<uint8_t>()));
    }
    at::Tensor units = (metres * options.units_per_metre).round();
    if ((units < 0).any().item<bool>() || (units > 65535).any().item<bool>())
        throw Error(path, "depth beyond what a 16-bit PNG holds at " + std::to_string(options.units_per_metre) +
                              " units per metre (0 .. " + std::to_string(65535 / options.units_per_metre) + " m)");
    cv::Mat out;
    as_mat(units).convertTo(out, CV_16U);
    write_image_file(path, out);
}

at::Tensor fill_holes(const at::Tensor& metres_in)
{
    const at::Tensor metres = checked(metres_in, "fill_holes");
    cv::Mat d = as_mat(metres);
    cv::Mat holes = (d <= 0) | (d != d); // zero or NaN
    if (cv::countNonZero(holes) == 0)
        return metres.clone();
    if (cv::countNonZero(holes) == static_cast<int>(holes.total()))
        return at::zeros_like(metres);
    // Nearest valid pixel: distance transform of the holes, labelled by nearest zero (valid) pixel.
    cv::Mat dist, labels;
    cv::distanceTransform(holes, dist, labels, cv::DIST_L2, cv::DIST_MASK_5, cv::DIST_LABEL_PIXEL);
    std::vector<float> value_of_label(static_cast<size_t>(d.total()) + 1, 0.0f);
    for (int y = 0; y < d.rows; ++y)
        for (int x = 0; x < d.cols; ++x)
            if (!holes.at<uchar>(y, x))
                value_of_label[static_cast<size_t>(labels.at<int>(y, x))] = d.at<float>(y, x);
    at::Tensor out = metres.clone();
    cv::Mat o = as_mat(out);
    for (int y = 0; y < d.rows; ++y)
        for (int x = 0; x < d.cols; ++x)
            if (holes.at<uchar>(y, x))
                o.at<float>(y, x) = value_of_label[static_cast<size_t>(labels.at<int>(y, x))];
    return out;
}

at::Tensor low_resolution_input(const at::Tensor& metres, int factor)
{
    if (factor < 1)
        throw Error("the downsampling factor must be at least 1");
    const at::Tensor filled = fill_holes(metres);
    cv::Mat full = as_mat(filled);
    const int lw = std::max(1, full.cols / factor), lh = std::max(1, full.rows / factor);
    cv::Mat low, up;
    cv::resize(full, low, cv::Size(lw, lh), 0, 0, cv::INTER_AREA);
    cv::resize(low, up, full.size(), 0, 0, cv::INTER_CUBIC);
    return from_mat(up).clamp_min(0);
}

at::Tensor densify(const std::vector<Sample>& samples, int height, int width, float smooth_sigma)
{
    if (height < 1 || width < 1)
        throw Error("densify: empty size");
    at::Tensor sparse = at::zeros({1, height, width}, at::kFloat);
    auto acc = sparse.accessor<float, 3>();
    for (const auto& s : samples) {
        if (!(s.metres > 0) || !std::isfinite(s.metres))
            throw Error("densify: a sample's depth must be a positive number");
        const int x = static_cast<int>(std::lround(s.x)), y = static_cast<int>(std::lround(s.y));
        if (x >= 0 && x < width && y >= 0 && y < height)
            acc[0][y][x] = s.metres;
    }
    at::Tensor dense = fill_holes(sparse);
    if (smooth_sigma > 0 && !samples.empty()) {
        cv::Mat m = as_mat(dense), blurred;
        cv::GaussianBlur(m, blurred, cv::Size(0, 0), smooth_sigma, smooth_sigma, cv::BORDER_REFLECT);
        dense = from_mat(blurred);
    }
    return dense;
}

} // namespace bft::depth
