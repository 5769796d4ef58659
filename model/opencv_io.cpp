#include "opencv_io.h"

#include "atomic_file.h"
#include "errors.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace bft {

namespace {
constexpr int kMaxSide = 16384; // refuse absurd images

uint32_t be(const std::string& b, size_t at, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
    return v;
}
uint32_t le(const std::string& b, size_t at, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
    return v;
}

// The size an image file's header declares, read before any decoding, so that a header that
// claims 100000 x 100000 is refused before anything is allocated for it. Only the formats we
// accept (PNG, JPEG, BMP, TIFF, WebP) are decoded at all: fewer decoders, fewer ways in.
// Returns the format's name; throws naming the file on an unknown or damaged header.
std::string declared_size(const std::string& path, const std::string& b, int64_t* width, int64_t* height)
{
    const auto need = [&](size_t n) {
        if (b.size() < n)
            throw Error(path, "truncated image header");
    };
    if (b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
        need(24);
        *width = be(b, 16, 4), *height = be(b, 20, 4);
        // Checked here because libpng would print to stderr about it; bytes after IEND are allowed.
        if (b.rfind(std::string("\0\0\0\0IEND\xAE\x42\x60\x82", 12)) == std::string::npos)
            throw Error(path, "truncated PNG (no IEND chunk)");
        return "PNG";
    }
    if (b.size() >= 3 && static_cast<uint8_t>(b[0]) == 0xFF && static_cast<uint8_t>(b[1]) == 0xD8) {
        // Walk the segments to the first start-of-frame (SOF0-15 but DHT, JPG, DAC).
        size_t i = 2;
        while (i + 4 <= b.size()) {
            if (static_cast<uint8_t>(b[i]) != 0xFF)
                throw Error(path, "damaged JPEG header");
            const uint8_t marker = static_cast<uint8_t>(b[i + 1]);
            if (marker == 0xFF) {
                ++i;
                continue;
            }
            const uint32_t length = be(b, i + 2, 2);
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                need(i + 9);
                *height = be(b, i + 5, 2), *width = be(b, i + 7, 2);
                // Entropy-coded data never holds FF D9 (an FF there is followed by 00 or a restart
                // marker), so an end-of-image marker after the frame header is the file's own.
                const size_t eoi = b.rfind("\xFF\xD9");
                if (eoi == std::string::npos || eoi < i)
                    throw Error(path, "truncated JPEG (no end-of-image marker)");
                return "JPEG";
            }
            if (length < 2)
                throw Error(path, "damaged JPEG header");
            i += 2 + length;
        }
        throw Error(path, "truncated JPEG (no frame header)");
    }
    if (b.size() >= 2 && b[0] == 'B' && b[1] == 'M') {
        need(26);
        if (le(b, 14, 4) == 12) { // OS/2 core header: 16-bit width and height
            *width = le(b, 18, 2), *height = le(b, 20, 2);
        } else {
            *width = static_cast<int32_t>(le(b, 18, 4));
            *height = std::abs(static_cast<int64_t>(static_cast<int32_t>(le(b, 22, 4))));
        }
        return "BMP";
    }
    if (b.size() >= 4 && (b.compare(0, 4, "II*\0") == 0 || b.compare(0, 4, "MM\0*") == 0)) {
        const bool little = b[0] == 'I';
        const auto get = [&](size_t at, int n) { return little ? le(b, at, n) : be(b, at, n); };
        need(8);
        const size_t ifd = get(4, 4);
        need(ifd + 2);
        const size_t entries = get(ifd, 2);
        *width = *height = -1;
        for (size_t e = 0; e < entries; ++e) {
            const size_t at = ifd + 2 + 12 * e;
            need(at + 12);
            const uint32_t tag = get(at, 2), type = get(at + 2, 2);
            const uint32_t value = type == 3 ? get(at + 8, 2) : get(at + 8, 4);
            if (tag == 256)
                *width = value;
            else if (tag == 257)
                *height = value;
        }
        if (*width < 0 || *height < 0)
            throw Error(path, "TIFF without a width and height");
        return "TIFF";
    }
    if (b.size() >= 12 && b.compare(0, 4, "RIFF") == 0 && b.compare(8, 4, "WEBP") == 0) {
        need(30);
        const std::string chunk = b.substr(12, 4);
        if (chunk == "VP8 ") {
            *width = le(b, 26, 2) & 0x3FFF, *height = le(b, 28, 2) & 0x3FFF;
        } else if (chunk == "VP8L") {
            const uint32_t bits = le(b, 21, 4);
            *width = (bits & 0x3FFF) + 1, *height = ((bits >> 14) & 0x3FFF) + 1;
        } else if (chunk == "VP8X") {
            *width = le(b, 24, 3) + 1, *height = le(b, 27, 3) + 1;
        } else {
            throw Error(path, "unknown WebP chunk");
        }
        return "WebP";
    }
    throw Error(path, "not an image of a kind this program reads (PNG, JPEG, BMP, TIFF, WebP)");
}
} // namespace

cv::Mat decode_image_file(const std::string& path)
{
    const std::string bytes = read_file(path, size_t(1) << 30);
    if (bytes.empty())
        throw Error(path, "file is empty");
    int64_t declared_w = 0, declared_h = 0;
    const std::string kind = declared_size(path, bytes, &declared_w, &declared_h);
    if (declared_w < 1 || declared_h < 1 || declared_w > kMaxSide || declared_h > kMaxSide)
        throw Error(path, "the " + kind + " header declares " + std::to_string(declared_w) + "x" + std::to_string(declared_h) +
                              " pixels; refused (at most " + std::to_string(kMaxSide) + " a side)");
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
