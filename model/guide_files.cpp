#include "guide_files.h"

#include "errors.h"
#include "image_io.h"
#include "json_file.h"
#include "opencv_io.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bft::live {

namespace fs = std::filesystem;

namespace {

void check_size(const std::string& what, int width, int height)
{
    if (width < 1 || height < 1 || width > 16384 || height > 16384)
        throw Error(what, "the image size " + std::to_string(width) + "x" + std::to_string(height) + " is not usable");
}

} // namespace

Skeleton read_pose_guide(const std::string& path, int width, int height, int person, std::string* note)
{
    check_size(path, width, height);
    const PoseFile f = read_pose_json(path);
    if (f.people.empty())
        throw Error(path, "no person in the file");
    if (person >= static_cast<int>(f.people.size()))
        throw Error(path, "has " + std::to_string(f.people.size()) + " people; person " + std::to_string(person) +
                              " does not exist (they are numbered from 0)");
    if (person < 0 && f.people.size() > 1 && note)
        *note = path + ": " + std::to_string(f.people.size()) + " people; the first was taken (choose one by its index)";
    Skeleton s = f.people[static_cast<size_t>(std::max(person, 0))];
    for (const Keypoint& p : s)
        if (!std::isfinite(p.x) || !std::isfinite(p.y) || std::abs(p.x) > 1e6f || std::abs(p.y) > 1e6f)
            throw Error(path, "a keypoint lies at an impossible position");
    if (f.canvas_width > 0 && f.canvas_height > 0) {
        // Pixel centres map to pixel centres, as the editor scales an imported pose.
        const float sx = static_cast<float>(width) / f.canvas_width, sy = static_cast<float>(height) / f.canvas_height;
        for (Keypoint& p : s) {
            p.x = (p.x + 0.5f) * sx - 0.5f;
            p.y = (p.y + 0.5f) * sy - 0.5f;
        }
    }
    return s;
}

Raster read_depth_guide(const std::string& path, int width, int height, float units_per_metre)
{
    if (!(units_per_metre > 0))
        throw Error(path, "the depth scale must be positive");
    const std::string ext = lower_extension(path);
    if (ext == ".txt" || ext == ".csv") {
        check_size(path, width, height);
        std::ifstream in(path);
        if (!in)
            throw Error(path, "cannot be read (missing, or no permission)");
        Raster r;
        r.channels = 1, r.width = width, r.height = height;
        r.values.assign(static_cast<size_t>(width) * height, 0.0f);
        std::string line;
        int n = 0, points = 0;
        while (std::getline(in, line)) {
            ++n;
            if (n > 10'000'000)
                throw Error(path, "too many lines for a file of points");
            const size_t hash = line.find('#');
            if (hash != std::string::npos)
                line.resize(hash);
            for (char& c : line)
                if (c == ',' || c == ';' || c == '\t' || c == '\r')
                    c = ' ';
            std::istringstream row(line);
            double x = 0, y = 0, m = 0;
            if (!(row >> x)) {
                if (line.find_first_not_of(' ') == std::string::npos || points == 0)
                    continue; // blank, or a header line before the first point
                throw Error(path, "line " + std::to_string(n) + " is not 'x y metres'");
            }
            if (!(row >> y >> m))
                throw Error(path, "line " + std::to_string(n) + " is not 'x y metres'");
            if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(m) || m <= 0)
                throw Error(path, "line " + std::to_string(n) + ": the depth must be a positive number of metres and x, y finite");
            const long xi = std::lround(x), yi = std::lround(y);
            if (xi < 0 || yi < 0 || xi >= width || yi >= height)
                throw Error(path, "line " + std::to_string(n) + ": (" + std::to_string(xi) + ", " + std::to_string(yi) + ") lies outside the " +
                                      std::to_string(width) + "x" + std::to_string(height) + " image");
            r.values[static_cast<size_t>(yi) * width + static_cast<size_t>(xi)] = static_cast<float>(m);
            ++points;
        }
        if (points == 0)
            throw Error(path, "no 'x y metres' points in the file");
        return r;
    }
    return read_depth(path, units_per_metre); // a map: depth.h checks its type and values
}

std::vector<TexturePatch> read_patch_layout(const std::string& path, int width, int height)
{
    check_size(path, width, height);
    const nlohmann::json j = read_json_file(path);
    try {
        const int iw = static_cast<int>(json_integer(j, "image_width", 0, 1, 16384, path, true));
        const int ih = static_cast<int>(json_integer(j, "image_height", 0, 1, 16384, path, true));
        std::vector<cv::Mat> textures;
        for (const auto& name : j.at("textures")) {
            const fs::path file = fs::path(path).parent_path() / name.get<std::string>();
            cv::Mat m = decode_image_file(file.string());
            if (m.depth() != CV_8U)
                m.convertTo(m, CV_8U, 1.0 / 257.0);
            cv::Mat rgb;
            if (m.channels() == 1)
                cv::cvtColor(m, rgb, cv::COLOR_GRAY2RGB);
            else if (m.channels() == 4)
                cv::cvtColor(m, rgb, cv::COLOR_BGRA2RGB);
            else
                cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
            textures.push_back(rgb);
        }
        const double sx = static_cast<double>(width) / iw, sy = static_cast<double>(height) / ih;
        std::vector<TexturePatch> out;
        for (const auto& p : j.at("patches")) {
            const int t = static_cast<int>(json_integer(p, "texture", 0, 0, 1 << 20, path, true));
            if (t >= static_cast<int>(textures.size()))
                throw Error(path, "a patch names texture " + std::to_string(t) + " of " + std::to_string(textures.size()));
            const double x = json_number(p, "x", 0, -1e6, 1e6, path, true), y = json_number(p, "y", 0, -1e6, 1e6, path, true);
            const double w = json_number(p, "width", 0, 1, 16384, path, true), h = json_number(p, "height", 0, 1, 16384, path, true);
            if (!(w >= 1 && h >= 1 && w <= 16384 && h <= 16384 && std::isfinite(x) && std::isfinite(y) && std::abs(x) < 1e6 && std::abs(y) < 1e6))
                throw Error(path, "a patch has an unusable size or position");
            // In the target's pixels, a patch is at most twice the image: the rest would be clipped.
            const double px = x * sx, py = y * sy, pws = w * sx, phs = h * sy;
            if (std::abs(px) > 1e6 || std::abs(py) > 1e6 || pws > 2.0 * width || phs > 2.0 * height)
                throw Error(path, "a patch is far larger than the image, or far outside it");
            TexturePatch tp;
            tp.x = static_cast<int>(std::lround(px));
            tp.y = static_cast<int>(std::lround(py));
            const int pw = std::max(1, static_cast<int>(std::lround(pws))), ph = std::max(1, static_cast<int>(std::lround(phs)));
            cv::Mat scaled;
            cv::resize(textures[static_cast<size_t>(t)], scaled, cv::Size(pw, ph), 0, 0, cv::INTER_AREA);
            tp.texture.width = pw;
            tp.texture.height = ph;
            tp.texture.bytes.assign(scaled.data, scaled.data + static_cast<size_t>(pw) * ph * 3);
            out.push_back(std::move(tp));
        }
        if (out.empty())
            throw Error(path, "has no patches");
        return out;
    } catch (const nlohmann::json::exception& e) {
        throw Error(path, std::string("not a patch layout (") + e.what() + ")");
    } catch (const cv::Exception& e) {
        throw Error(path, std::string("a texture cannot be scaled (") + e.what() + ")");
    }
}

} // namespace bft::live
