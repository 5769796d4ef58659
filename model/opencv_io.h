// Image files <-> OpenCV matrices, for the model library's own .cpp files (OpenCV stays out of
// the public headers): one place that reads, size-checks and decodes, and one that encodes and
// writes atomically, with errors that name the file.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace bft {

// Decodes an image file as stored (IMREAD_UNCHANGED: channels and bit depth kept, BGR order).
// Throws bft::Error naming the file: missing, empty, undecodable, or larger than 16384 px a side.
cv::Mat decode_image_file(const std::string& path);

// Encodes `image` (BGR order) in the format of `path`'s extension and writes it atomically.
void write_image_file(const std::string& path, const cv::Mat& image);

} // namespace bft
