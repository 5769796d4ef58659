#include "image_io.h"

#include "atomic_file.h"
#include "errors.h"
#include "opencv_io.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>

namespace bft {

std::string lower_extension(const std::string& path)
{
    auto dot = path.find_last_of('.');
    auto slash = path.find_last_of('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return "";
    std::string ext = path.substr(dot);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

bool is_image_path(const std::string& path)
{
    const std::string ext = lower_extension(path);
    for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
        if (ext == e)
            return true;
    return false;
}

at::Tensor read_image(const std::string& path, int channels, ImageInfo* info)
{
    if (channels != 1 && channels != 3)
        throw Error(path, "images can give 1 or 3 channels, the model needs " + std::to_string(channels) +
                              " (use a .npy tensor instead)");
    const cv::Mat raw = decode_image_file(path);
    const int depth = raw.depth();
    if (depth != CV_8U && depth != CV_16U)
        throw Error(path, "unsupported sample type (only 8- and 16-bit images)");
    if (info) {
        info->width = raw.cols;
        info->height = raw.rows;
        info->channels = raw.channels();
        info->bit_depth = depth == CV_16U ? 16 : 8;
    }
    cv::Mat converted;
    const int src = raw.channels();
    if (channels == 3) {
        if (src == 1)
            cv::cvtColor(raw, converted, cv::COLOR_GRAY2RGB);
        else if (src == 3)
            cv::cvtColor(raw, converted, cv::COLOR_BGR2RGB);
        else if (src == 4)
            cv::cvtColor(raw, converted, cv::COLOR_BGRA2RGB);
        else
            throw Error(path, "unsupported channel count " + std::to_string(src));
    } else {
        if (src == 1)
            converted = raw;
        else if (src == 3)
            cv::cvtColor(raw, converted, cv::COLOR_BGR2GRAY);
        else if (src == 4)
            cv::cvtColor(raw, converted, cv::COLOR_BGRA2GRAY);
        else
            throw Error(path, "unsupported channel count " + std::to_string(src));
    }
    cv::Mat f;
    const double full = depth == CV_16U ? 65535.0 : 255.0;
    converted.convertTo(f, CV_32F, 2.0 / full, -1.0);
    if (!f.isContinuous())
        f = f.clone();
    at::Tensor hwc = at::from_blob(f.data, {f.rows, f.cols, channels}, at::kFloat);
    // clone(): for one channel the permute is already contiguous and would still point into `f`.
    return hwc.permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
}

void write_image(const std::string& path, const at::Tensor& tensor, int bit_depth)
{
    at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat);
    if (t.dim() == 4 && t.size(0) == 1)
        t = t[0];
    if (t.dim() != 3 || (t.size(0) != 1 && t.size(0) != 3))
        throw Error(path, "only 1- or 3-channel results can be written as images (use .npy)");
    const std::string ext = lower_extension(path);
    if (!is_image_path(path))
        throw Error(path, "unknown image type '" + ext + "' (use .png, .jpg, .bmp, .tif or .npy)");
    if (bit_depth == 16 && ext != ".png" && ext != ".tif" && ext != ".tiff")
        throw Error(path, "16-bit images need .png or .tif");
    const int c = static_cast<int>(t.size(0));
    const double full = bit_depth == 16 ? 65535.0 : 255.0;
    at::Tensor hwc = ((t.clamp(-1, 1) + 1) * (full / 2)).round().permute({1, 2, 0}).contiguous();
    cv::Mat f(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC(c), hwc.data_ptr<float>());
    cv::Mat out;
    f.convertTo(out, bit_depth == 16 ? CV_16U : CV_8U);
    if (c == 3)
        cv::cvtColor(out, out, cv::COLOR_RGB2BGR);
    write_image_file(path, out);
}

} // namespace bft
