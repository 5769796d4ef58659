#include "opencv_io.h"

#include "atomic_file.h"
#include "errors.h"

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <vector>

namespace bft {

namespace {
constexpr int kMaxSide = 16384; // refuse absurd images
} // namespace

cv::Mat decode_image_file(const std::string& path)
{
    const std::string bytes = read_file(path, size_t(1) << 30);
    if (bytes.empty())
        throw Error(path, "file is empty");
    cv::Mat raw;
    try {
        raw = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
                           cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        throw Error(path, std::string("cannot decode image: ") + e.what());
    }
    if (raw.empty())
        throw Error(path, "not an image, or a corrupt one (cannot decode it)");
    if (raw.cols > kMaxSide || raw.rows > kMaxSide)
        throw Error(path, "image is too large (" + std::to_string(raw.cols) + "x" + std::to_string(raw.rows) + ")");
    return raw;
}

void write_image_file(const std::string& path, const cv::Mat& image)
{
    std::vector<uchar> buf;
    try {
        if (!cv::imencode(std::filesystem::path(path).extension().string(), image, buf))
            throw Error(path, "cannot encode image");
    } catch (const cv::Exception& e) {
        throw Error(path, std::string("cannot encode image: ") + e.what());
    }
    write_file_atomically(path, std::string(buf.begin(), buf.end()));
}

} // namespace bft
