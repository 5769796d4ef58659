#include "pose.h"

#include "atomic_file.h"
#include "errors.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <sstream>

namespace bft::pose {

namespace {

constexpr const char* kNames[kKeypoints] = {
    "nose",      "neck",       "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip",      "right_knee",  "right_ankle", "left_hip",
    "left_knee", "left_ankle", "right_eye",      "left_eye",    "right_ear",   "left_ear",
};

// COCO-18 index of each BODY_25 keypoint 0..18 (BODY_25's 8 is the mid-hip, which COCO-18 lacks).
constexpr int kBody25ToCoco[19] = {0, 1, 2, 3, 4, 5, 6, 7, -1, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};

} // namespace

const char* keypoint_name(int k)
{
    return k >= 0 && k < kKeypoints ? kNames[k] : "?";
}

int mirrored(int k)
{
    static constexpr int kMirror[kKeypoints] = {0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16};
    return kMirror[k];
}

int Pose::present_count() const
{
    int n = 0;
    for (const auto& p : points)
        n += p.present;
    return n;
}

const std::vector<Limb>& limbs()
{
    // OpenPose's COCO-18 limb order and colours.
    static const std::vector<Limb> kLimbs = {
        {1, 2, 255, 0, 0},     {1, 5, 255, 85, 0},   {2, 3, 255, 170, 0},  {3, 4, 255, 255, 0},
        {5, 6, 170, 255, 0},   {6, 7, 85, 255, 0},   {1, 8, 0, 255, 0},    {8, 9, 0, 255, 85},
        {9, 10, 0, 255, 170},  {1, 11, 0, 255, 255}, {11, 12, 0, 170, 255}, {12, 13, 0, 85, 255},
        {1, 0, 0, 0, 255},     {0, 14, 85, 0, 255},  {14, 16, 170, 0, 255}, {0, 15, 255, 0, 255},
        {15, 17, 255, 0, 170},
    };
    return kLimbs;
}

Pose flipped(const Pose& pose, int width)
{
    Pose out;
    for (int k = 0; k < kKeypoints; ++k) {
        Keypoint p = pose.points[static_cast<size_t>(k)];
        p.x = static_cast<float>(width - 1) - p.x;
        out.points[static_cast<size_t>(mirrored(k))] = p;
    }
    return out;
}

Pose scaled(const Pose& pose, float sx, float sy)
{
    Pose out = pose;
    for (auto& p : out.points) {
        p.x *= sx;
        p.y *= sy;
    }
    return out;
}

at::Tensor keypoint_maps(const Pose& pose, int height, int width, const MapStyle& style)
{
    at::Tensor maps = at::full({kKeypoints, height, width}, style.outside, at::kFloat);
    auto acc = maps.accessor<float, 3>();
    const int r = static_cast<int>(std::floor(style.radius));
    for (int k = 0; k < kKeypoints; ++k) {
        const Keypoint& p = pose.points[static_cast<size_t>(k)];
        // Far outside the image (or not a number) draws nothing, and must not reach the int casts.
        if (!p.present || !(p.x > -r - 1.0f && p.y > -r - 1.0f && p.x < width + r + 1.0f && p.y < height + r + 1.0f))
            continue;
        // PG2 truncates the coordinates to whole pixels before drawing the disc.
        const int cx = static_cast<int>(p.x), cy = static_cast<int>(p.y);
        for (int dy = -r; dy <= r; ++dy)
            for (int dx = -r; dx <= r; ++dx) {
                const int y = cy + dy, x = cx + dx;
                const float d2 = static_cast<float>(dx * dx + dy * dy);
                if (y < 0 || y >= height || x < 0 || x >= width || std::sqrt(d2) > style.radius)
                    continue;
                const float v = style.gaussian
                                    ? style.outside + (style.inside - style.outside) *
                                                          std::exp(-d2 / (2 * style.sigma * style.sigma))
                                    : style.inside;
                acc[k][y][x] = v;
            }
    }
    return maps;
}

Pose pose_from_maps(const at::Tensor& maps_in, const MapStyle& style)
{
    if (maps_in.dim() != 3 || maps_in.size(0) != kKeypoints)
        throw Error("keypoint maps must be 18 x H x W");
    const at::Tensor maps = maps_in.to(at::kFloat).contiguous();
    const float mid = (style.inside + style.outside) / 2;
    const bool up = style.inside > style.outside;
    Pose pose;
    const int64_t h = maps.size(1), w = maps.size(2);
    at::Tensor ys = at::arange(h, at::kFloat).view({h, 1}).expand({h, w});
    at::Tensor xs = at::arange(w, at::kFloat).view({1, w}).expand({h, w});
    for (int k = 0; k < kKeypoints; ++k) {
        at::Tensor m = up ? (maps[k] > mid) : (maps[k] < mid);
        const double n = m.sum().item<double>();
        if (n == 0)
            continue;
        auto& p = pose.points[static_cast<size_t>(k)];
        p.present = true;
        p.confidence = 1;
        p.x = static_cast<float>((xs * m).sum().item<double>() / n);
        p.y = static_cast<float>((ys * m).sum().item<double>() / n);
    }
    return pose;
}

PoseFile parse_openpose_json(const std::string& text, const std::string& source)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(source, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("people") || !j["people"].is_array())
        throw Error(source, "not an OpenPose file (no \"people\" list)");
    PoseFile file;
    auto dimension = [&](const char* key) {
        if (!j.contains(key))
            return 0;
        if (!j[key].is_number() || j[key].get<double>() < 1 || j[key].get<double>() > 1e6)
            throw Error(source, std::string("invalid ") + key);
        return static_cast<int>(j[key].get<double>());
    };
    file.canvas_width = dimension("canvas_width");
    file.canvas_height = dimension("canvas_height");
    int index = 0;
    for (const auto& person : j["people"]) {
        const std::string who = "person " + std::to_string(index++);
        if (!person.is_object() || !person.contains("pose_keypoints_2d") || !person["pose_keypoints_2d"].is_array())
            throw Error(source, who + " has no pose_keypoints_2d");
        const auto& kp = person["pose_keypoints_2d"];
        const size_t n = kp.size();
        if (n != 54 && n != 75)
            throw Error(source, who + " has " + std::to_string(n) +
                                    " keypoint numbers (expected 54 for COCO-18 or 75 for BODY_25)");
        Pose pose;
        for (size_t t = 0; t < n / 3; ++t) {
            const int k = n == 54 ? static_cast<int>(t) : (t < 19 ? kBody25ToCoco[t] : -1);
            if (k < 0)
                continue;
            float v[3];
            for (int c = 0; c < 3; ++c) {
                const auto& e = kp[3 * t + static_cast<size_t>(c)];
                if (!e.is_number())
                    throw Error(source, who + ": keypoint " + keypoint_name(k) + " is not a number");
                v[c] = e.get<float>();
                if (!std::isfinite(v[c]))
                    throw Error(source, who + ": keypoint " + keypoint_name(k) + " is not finite");
            }
            auto& p = pose.points[static_cast<size_t>(k)];
            p.x = v[0], p.y = v[1], p.confidence = v[2];
            p.present = v[2] > 0;
        }
        file.people.push_back(pose);
    }
    // Normalised coordinates: every present keypoint within [0, 1] and a canvas to scale by.
    bool normalised = file.canvas_width > 1 && file.canvas_height > 1;
    bool any = false;
    for (const auto& pose : file.people)
        for (const auto& p : pose.points)
            if (p.present) {
                any = true;
                normalised = normalised && p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1;
            }
    if (any && normalised)
        for (auto& pose : file.people)
            pose = scaled(pose, static_cast<float>(file.canvas_width), static_cast<float>(file.canvas_height));
    return file;
}

PoseFile read_openpose_json(const std::string& path)
{
    return parse_openpose_json(read_file(path, size_t(64) << 20), path);
}

std::string openpose_json(const PoseFile& file)
{
    nlohmann::json j;
    j["version"] = 1.3;
    j["people"] = nlohmann::json::array();
    for (const auto& pose : file.people) {
        nlohmann::json kp = nlohmann::json::array();
        for (const auto& p : pose.points) {
            kp.push_back(p.present ? p.x : 0.0f);
            kp.push_back(p.present ? p.y : 0.0f);
            kp.push_back(p.present ? (p.confidence > 0 ? p.confidence : 1.0f) : 0.0f);
        }
        j["people"].push_back({{"pose_keypoints_2d", kp}});
    }
    if (file.canvas_width > 0 && file.canvas_height > 0) {
        j["canvas_width"] = file.canvas_width;
        j["canvas_height"] = file.canvas_height;
    }
    return j.dump() + "\n";
}

void write_openpose_json(const std::string& path, const PoseFile& file)
{
    write_file_atomically(path, openpose_json(file));
}

void draw_skeleton(uint8_t* rgb, int width, int height, const Pose& pose, int thickness)
{
    cv::Mat img(height, width, CV_8UC3, rgb);
    // OpenCV rounds coordinates to int: keep to what it can hold (a line may still cross the image).
    Pose pose_in_reach = pose;
    for (Keypoint& p : pose_in_reach.points)
        p.present = p.present && std::isfinite(p.x) && std::isfinite(p.y) && std::abs(p.x) < 1e6f && std::abs(p.y) < 1e6f;
    const Pose& drawn = pose_in_reach;
    for (const auto& l : limbs()) {
        const auto& a = drawn.points[static_cast<size_t>(l.from)];
        const auto& b = drawn.points[static_cast<size_t>(l.to)];
        if (!a.present || !b.present)
            continue;
        cv::line(img, cv::Point2f(a.x, a.y), cv::Point2f(b.x, b.y), cv::Scalar(l.r, l.g, l.b), thickness, cv::LINE_AA);
    }
    for (int k = 0; k < kKeypoints; ++k) {
        const auto& p = drawn.points[static_cast<size_t>(k)];
        if (!p.present)
            continue;
        // The joint takes the colour of the limb that ends there (OpenPose's look).
        const Limb* colour = nullptr;
        for (const auto& l : limbs())
            if (l.to == k || (!colour && l.from == k))
                colour = &l;
        cv::circle(img, cv::Point2f(p.x, p.y), thickness, colour ? cv::Scalar(colour->r, colour->g, colour->b)
                                                                  : cv::Scalar(255, 255, 255),
                   cv::FILLED, cv::LINE_AA);
    }
}

} // namespace bft::pose
