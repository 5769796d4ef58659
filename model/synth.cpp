#include "synth.h"

#include "atomic_file.h"
#include "depth.h"
#include "errors.h"
#include "image_io.h"
#include "opencv_io.h"
#include "texture.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>

namespace bft::synth {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Every random choice of a sample comes from here: seeded by (seed, index), so samples are
// independent of each other and of the thread that makes them.
class Rng {
public:
    Rng(uint64_t seed, int index) : gen_(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index) * 0xBF58476D1CE4E5B9ull + 1) {}
    double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(gen_); }
    int integer(int a, int b) { return std::uniform_int_distribution<int>(a, b)(gen_); } // inclusive
    bool chance(double p) { return uniform(0, 1) < p; }
    cv::Scalar colour(double lo = 0, double hi = 255)
    {
        return cv::Scalar(uniform(lo, hi), uniform(lo, hi), uniform(lo, hi));
    }
    std::mt19937_64& gen() { return gen_; }

private:
    std::mt19937_64 gen_;
};

at::Tensor rgb_to_tensor(const cv::Mat& rgb) // CV_8UC3 RGB -> 3 x H x W in [-1, 1]
{
    at::Tensor t = at::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, at::kByte).to(at::kFloat);
    return (t / 127.5 - 1).permute({2, 0, 1}).contiguous();
}

cv::Mat tensor_to_rgb(const at::Tensor& chw) // 3 x H x W in [-1, 1] -> CV_8UC3 RGB
{
    at::Tensor hwc = ((chw.clamp(-1, 1) + 1) * 127.5).round().to(at::kByte).permute({1, 2, 0}).contiguous();
    return cv::Mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>()).clone();
}

cv::Scalar scaled(const cv::Scalar& c, double f)
{
    return cv::Scalar(std::min(255.0, c[0] * f), std::min(255.0, c[1] * f), std::min(255.0, c[2] * f));
}

// Fills `mask` (CV_8U) of `img` with a pattern: 0 plain, 1 stripes, 2 checks, 3 dots.
void fill_pattern(cv::Mat& img, const cv::Mat& mask, int kind, const cv::Scalar& a, const cv::Scalar& b, double period,
                  double angle, Rng& rng)
{
    cv::Mat layer(img.size(), img.type(), a);
    const double ca = std::cos(angle), sa = std::sin(angle);
    if (kind == 1 || kind == 2) {
        for (int y = 0; y < img.rows; ++y)
            for (int x = 0; x < img.cols; ++x) {
                const double u = (x * ca + y * sa) / period, v = (-x * sa + y * ca) / period;
                const bool on = kind == 1 ? (static_cast<int>(std::floor(u)) & 1)
                                          : ((static_cast<int>(std::floor(u)) + static_cast<int>(std::floor(v))) & 1);
                if (on)
                    layer.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(b[0]), static_cast<uchar>(b[1]),
                                                          static_cast<uchar>(b[2]));
            }
    } else if (kind == 3) {
        const double r = period * rng.uniform(0.15, 0.3);
        for (double y = std::fmod(rng.uniform(0, period), period); y < img.rows; y += period)
            for (double x = std::fmod(rng.uniform(0, period), period); x < img.cols; x += period)
                cv::circle(layer, cv::Point2d(x, y), static_cast<int>(std::max(1.0, r)), b, cv::FILLED, cv::LINE_AA);
    }
    layer.copyTo(img, mask);
}

// ------------------------------------------------------------------------------------------
// pose: a 2-D figure facing the viewer (its right side on the image's left).

struct Figure {
    double scale;                        // body height in pixels
    double shoulder, hip, upper_arm, fore_arm, thigh, shin, torso, neck, head;
    cv::Scalar skin, shirt, shirt2, pants, shoes, hair, background, background2;
    int shirt_pattern;
    double pattern_period, pattern_angle;
    bool long_sleeves, skirt;
};

struct Angles { // radians; 0 = straight down for limbs
    double lean, r_arm, r_elbow, l_arm, l_elbow, r_leg, r_knee, l_leg, l_knee, head_tilt;
    double cx, top;                     // neck position
};

Figure make_figure(Rng& rng, int size)
{
    Figure f;
    f.scale = size * rng.uniform(0.62, 0.78);
    const double s = f.scale;
    f.head = s * rng.uniform(0.065, 0.075);
    f.neck = s * 0.04;
    f.torso = s * rng.uniform(0.27, 0.31);
    f.shoulder = s * rng.uniform(0.09, 0.12);
    f.hip = s * rng.uniform(0.055, 0.075);
    f.upper_arm = s * rng.uniform(0.15, 0.17);
    f.fore_arm = s * rng.uniform(0.13, 0.15);
    f.thigh = s * rng.uniform(0.21, 0.24);
    f.shin = s * rng.uniform(0.2, 0.23);
    const double tone = rng.uniform(0.35, 1.0);
    f.skin = cv::Scalar(95 + 150 * tone, 60 + 130 * tone, 40 + 115 * tone);
    f.shirt = rng.colour(20, 235);
    f.shirt2 = rng.colour(20, 235);
    f.pants = rng.colour(10, 200);
    f.shoes = rng.colour(0, 120);
    f.hair = rng.chance(0.7) ? scaled(rng.colour(30, 120), 0.6) : rng.colour(120, 230);
    f.background = rng.colour(120, 250);
    f.background2 = scaled(f.background, rng.uniform(0.7, 1.0));
    f.shirt_pattern = rng.integer(0, 3);
    f.pattern_period = s * rng.uniform(0.03, 0.07);
    f.pattern_angle = rng.uniform(0, kPi);
    f.long_sleeves = rng.chance(0.5);
    f.skirt = rng.chance(0.25);
    return f;
}

Angles make_angles(Rng& rng, const Figure& f, int size)
{
    Angles a;
    a.lean = rng.uniform(-0.12, 0.12);
    // Arms: from hanging down (0) to raised sideways (up to ~150 degrees), elbows bend inwards.
    a.r_arm = rng.uniform(-0.3, 2.6);
    a.l_arm = rng.uniform(-0.3, 2.6);
    a.r_elbow = rng.uniform(0, 2.2);
    a.l_elbow = rng.uniform(0, 2.2);
    // Legs: spread a little, sometimes stepping; knees bend backwards (here: towards the midline).
    a.r_leg = rng.uniform(-0.15, 0.55);
    a.l_leg = rng.uniform(-0.15, 0.55);
    a.r_knee = rng.chance(0.5) ? rng.uniform(0, 1.2) : 0;
    a.l_knee = rng.chance(0.5) ? rng.uniform(0, 1.2) : 0;
    a.head_tilt = rng.uniform(-0.25, 0.25);
    a.cx = size / 2.0 + rng.uniform(-0.08, 0.08) * size;
    a.top = (size - f.scale) / 2 + f.head * 2 + f.neck + rng.uniform(-0.03, 0.03) * size;
    return a;
}

// Direction of a limb at `angle` from straight down, mirrored for the figure's right side (which
// is on the image's left): positive angles swing outwards.
cv::Point2d limb_dir(double angle, bool right_side)
{
    const double s = right_side ? -1 : 1;
    return {s * std::sin(angle), std::cos(angle)};
}

pose::Pose skeleton(const Figure& f, const Angles& a)
{
    pose::Pose p;
    auto set = [&](int k, cv::Point2d q) {
        auto& kp = p.points[static_cast<size_t>(k)];
        kp.x = static_cast<float>(q.x);
        kp.y = static_cast<float>(q.y);
        kp.confidence = 1;
        kp.present = true;
    };
    const cv::Point2d neck(a.cx, a.top);
    const cv::Point2d down(std::sin(a.lean), std::cos(a.lean)), side(std::cos(a.lean), -std::sin(a.lean));
    const cv::Point2d pelvis = neck + down * f.torso;
    const cv::Point2d r_sh = neck - side * f.shoulder, l_sh = neck + side * f.shoulder;
    const cv::Point2d r_hip = pelvis - side * f.hip, l_hip = pelvis + side * f.hip;
    const cv::Point2d r_el = r_sh + limb_dir(a.r_arm + a.lean, true) * f.upper_arm;
    const cv::Point2d l_el = l_sh + limb_dir(a.l_arm - a.lean, false) * f.upper_arm;
    const cv::Point2d r_wr = r_el + limb_dir(a.r_arm + a.lean - a.r_elbow, true) * f.fore_arm;
    const cv::Point2d l_wr = l_el + limb_dir(a.l_arm - a.lean - a.l_elbow, false) * f.fore_arm;
    const cv::Point2d r_kn = r_hip + limb_dir(a.r_leg + a.lean, true) * f.thigh;
    const cv::Point2d l_kn = l_hip + limb_dir(a.l_leg - a.lean, false) * f.thigh;
    const cv::Point2d r_an = r_kn + limb_dir(a.r_leg + a.lean - a.r_knee * 0.6, true) * f.shin;
    const cv::Point2d l_an = l_kn + limb_dir(a.l_leg - a.lean - a.l_knee * 0.6, false) * f.shin;
    const cv::Point2d up(-std::sin(a.lean + a.head_tilt), -std::cos(a.lean + a.head_tilt));
    const cv::Point2d across(-up.y, up.x);
    const cv::Point2d head_c = neck + up * (f.neck + f.head);
    const cv::Point2d nose = head_c - up * (f.head * 0.15);
    set(0, nose);
    set(1, neck);
    set(2, r_sh), set(3, r_el), set(4, r_wr);
    set(5, l_sh), set(6, l_el), set(7, l_wr);
    set(8, r_hip), set(9, r_kn), set(10, r_an);
    set(11, l_hip), set(12, l_kn), set(13, l_an);
    set(14, head_c + up * (f.head * 0.25) - across * (f.head * 0.38)); // right eye: image left
    set(15, head_c + up * (f.head * 0.25) + across * (f.head * 0.38));
    set(16, head_c + up * (f.head * 0.05) - across * (f.head * 0.98));
    set(17, head_c + up * (f.head * 0.05) + across * (f.head * 0.98));
    return p;
}

void capsule(cv::Mat& img, cv::Point2d a, cv::Point2d b, double width, const cv::Scalar& c)
{
    // Shaded: a darker rim and a lighter core suggest a round limb.
    cv::line(img, a, b, scaled(c, 0.72), static_cast<int>(width), cv::LINE_AA);
    cv::line(img, a, b, c, static_cast<int>(std::max(1.0, width * 0.72)), cv::LINE_AA);
    cv::line(img, a, b, scaled(c, 1.12), static_cast<int>(std::max(1.0, width * 0.3)), cv::LINE_AA);
}

cv::Mat draw_figure(const Figure& f, const pose::Pose& p, int size, Rng& rng)
{
    cv::Mat img(size, size, CV_8UC3);
    for (int y = 0; y < size; ++y) { // background gradient
        const double t = static_cast<double>(y) / size;
        img.row(y).setTo(f.background * (1 - t) + f.background2 * t);
    }
    auto pt = [&](int k) { return cv::Point2d(p.points[static_cast<size_t>(k)].x, p.points[static_cast<size_t>(k)].y); };
    const double limb = f.scale * 0.055, leg = f.scale * 0.07;
    // Legs first (behind the torso), then the torso with its pattern, arms, head.
    for (auto [h, k, an] : {std::tuple{8, 9, 10}, std::tuple{11, 12, 13}}) {
        capsule(img, pt(h), pt(k), leg, f.pants);
        capsule(img, pt(k), pt(an), leg * 0.85, f.pants);
        cv::ellipse(img, pt(an) + cv::Point2d(0, leg * 0.25), cv::Size2d(leg * 0.75, leg * 0.4), 0, 0, 360, f.shoes,
                    cv::FILLED, cv::LINE_AA);
    }
    std::vector<cv::Point> torso = {pt(2), pt(5), pt(11), pt(8)};
    if (f.skirt) {
        const cv::Point2d hips = (pt(8) + pt(11)) / 2, knees = (pt(9) + pt(12)) / 2;
        std::vector<cv::Point> skirt = {pt(8), pt(11), knees + (pt(12) - pt(9)) * 0.75 + cv::Point2d(leg, 0),
                                        knees - (pt(12) - pt(9)) * 0.75 - cv::Point2d(leg, 0)};
        (void)hips;
        cv::fillConvexPoly(img, skirt, f.pants, cv::LINE_AA);
    }
    cv::Mat mask = cv::Mat::zeros(img.size(), CV_8U);
    cv::fillConvexPoly(mask, torso, 255, cv::LINE_AA);
    cv::dilate(mask, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
    fill_pattern(img, mask, f.shirt_pattern, f.shirt, f.shirt2, f.pattern_period, f.pattern_angle, rng);
    cv::polylines(img, torso, true, scaled(f.shirt, 0.6), 1, cv::LINE_AA);
    capsule(img, pt(1), pt(0) * 0.3 + pt(1) * 0.7, f.scale * 0.05, f.skin); // neck
    for (auto [s, e, w] : {std::tuple{2, 3, 4}, std::tuple{5, 6, 7}}) {
        capsule(img, pt(s), pt(e), limb, f.shirt);
        capsule(img, pt(e), pt(w), limb * 0.85, f.long_sleeves ? f.shirt : f.skin);
        cv::circle(img, pt(w), static_cast<int>(limb * 0.5), f.skin, cv::FILLED, cv::LINE_AA);
    }
    const cv::Point2d head_c = (pt(14) + pt(15)) / 2 * 0.5 + (pt(16) + pt(17)) / 2 * 0.5;
    const double r = cv::norm(pt(16) - pt(17)) / 2;
    cv::circle(img, head_c + cv::Point2d(0, -r * 0.25), static_cast<int>(r * 1.08), f.hair, cv::FILLED, cv::LINE_AA);
    cv::ellipse(img, head_c + cv::Point2d(0, r * 0.1), cv::Size2d(r * 0.92, r * 1.05), 0, 0, 360, f.skin, cv::FILLED,
                cv::LINE_AA);
    for (int k : {14, 15})
        cv::circle(img, pt(k), std::max(1, static_cast<int>(r * 0.13)), cv::Scalar(30, 30, 40), cv::FILLED, cv::LINE_AA);
    cv::ellipse(img, pt(0) + cv::Point2d(0, r * 0.42), cv::Size2d(r * 0.3, r * 0.12), 0, 0, 180, cv::Scalar(120, 40, 50),
                std::max(1, static_cast<int>(r * 0.08)), cv::LINE_AA);
    return img;
}

Sample pose_sample(const Options& o, int index, pose::Pose* guide_pose)
{
    Rng rng(o.seed, index);
    const Figure f = make_figure(rng, o.size);
    const pose::Pose a = skeleton(f, make_angles(rng, f, o.size));
    const pose::Pose b = skeleton(f, make_angles(rng, f, o.size));
    Rng pattern_a(o.seed + 1, index), pattern_b(o.seed + 1, index); // same clothing in both images
    Sample s;
    s.input = rgb_to_tensor(draw_figure(f, a, o.size, pattern_a));
    s.target = rgb_to_tensor(draw_figure(f, b, o.size, pattern_b));
    s.guide = pose::keypoint_maps(b, o.size, o.size);
    if (guide_pose)
        *guide_pose = b;
    return s;
}

// ------------------------------------------------------------------------------------------
// depth: ray casting a room with primitives.

struct Hit {
    double t = 1e30;
    cv::Vec3d normal;
    int object = -1;
};

struct Primitive {
    enum Kind { Plane, Box, Sphere, Cylinder } kind = Plane;
    cv::Vec3d centre, half; // box half sizes (local), sphere radius in half[0], cylinder radius half[0] height half[1]
    cv::Vec3d normal;       // plane
    double offset = 0;      // plane: n . p = offset
    double yaw = 0;         // boxes turn about the vertical axis
    cv::Vec3d colour, colour2;
    int pattern = 0;        // 0 plain, 1 stripes, 2 checks, 3 dots, 4 posters (walls)
    double period = 0.3;
};

bool intersect(const Primitive& p, const cv::Vec3d& o, const cv::Vec3d& d, Hit& hit, int id)
{
    switch (p.kind) {
    case Primitive::Plane: {
        const double den = p.normal.dot(d);
        if (std::abs(den) < 1e-9)
            return false;
        const double t = (p.offset - p.normal.dot(o)) / den;
        if (t <= 1e-6 || t >= hit.t)
            return false;
        hit = {t, p.normal, id};
        return true;
    }
    case Primitive::Sphere: {
        const cv::Vec3d oc = o - p.centre;
        const double b = oc.dot(d), c = oc.dot(oc) - p.half[0] * p.half[0], disc = b * b - c;
        if (disc < 0)
            return false;
        const double t = -b - std::sqrt(disc);
        if (t <= 1e-6 || t >= hit.t)
            return false;
        cv::Vec3d n = (o + d * t - p.centre) / p.half[0];
        hit = {t, n, id};
        return true;
    }
    case Primitive::Box: {
        // In the box's frame (turned by yaw about y).
        const double c = std::cos(p.yaw), s = std::sin(p.yaw);
        auto to_local = [&](const cv::Vec3d& v) { return cv::Vec3d(c * v[0] + s * v[2], v[1], -s * v[0] + c * v[2]); };
        const cv::Vec3d lo = to_local(o - p.centre), ld = to_local(d);
        double t0 = -1e30, t1 = 1e30;
        int axis = -1;
        double sign = 1;
        for (int k = 0; k < 3; ++k) {
            if (std::abs(ld[k]) < 1e-12) {
                if (std::abs(lo[k]) > p.half[k])
                    return false;
                continue;
            }
            double a = (-p.half[k] - lo[k]) / ld[k], b = (p.half[k] - lo[k]) / ld[k];
            double sg = -1;
            if (a > b) {
                std::swap(a, b);
                sg = 1;
            }
            if (a > t0) {
                t0 = a;
                axis = k;
                sign = sg;
            }
            t1 = std::min(t1, b);
        }
        if (t0 > t1 || t0 <= 1e-6 || t0 >= hit.t || axis < 0)
            return false;
        cv::Vec3d ln(0, 0, 0);
        ln[axis] = sign;
        hit = {t0, cv::Vec3d(c * ln[0] - s * ln[2], ln[1], s * ln[0] + c * ln[2]), id};
        return true;
    }
    case Primitive::Cylinder: {
        const cv::Vec3d oc = o - p.centre;
        const double a = d[0] * d[0] + d[2] * d[2];
        if (a < 1e-12)
            return false;
        const double b = oc[0] * d[0] + oc[2] * d[2], c = oc[0] * oc[0] + oc[2] * oc[2] - p.half[0] * p.half[0];
        const double disc = b * b - a * c;
        if (disc < 0)
            return false;
        double t = (-b - std::sqrt(disc)) / a;
        const double y = oc[1] + d[1] * t;
        if (t > 1e-6 && t < hit.t && std::abs(y) <= p.half[1]) {
            hit = {t, cv::Vec3d(oc[0] + d[0] * t, 0, oc[2] + d[2] * t) / p.half[0], id};
            return true;
        }
        // The top cap.
        if (std::abs(d[1]) > 1e-12) {
            t = (p.half[1] - oc[1]) / d[1];
            const double x = oc[0] + d[0] * t, z = oc[2] + d[2] * t;
            if (t > 1e-6 && t < hit.t && x * x + z * z <= p.half[0] * p.half[0]) {
                hit = {t, cv::Vec3d(0, 1, 0), id};
                return true;
            }
        }
        return false;
    }
    }
    return false;
}

cv::Vec3d surface_colour(const Primitive& p, const cv::Vec3d& q, const cv::Vec3d& n)
{
    // Texture coordinates: the two world axes most parallel to the surface.
    double u, v;
    if (std::abs(n[1]) > 0.7)
        u = q[0], v = q[2];
    else if (std::abs(n[0]) > 0.7)
        u = q[2], v = q[1];
    else
        u = q[0], v = q[1];
    u /= p.period, v /= p.period;
    switch (p.pattern) {
    case 1: return (static_cast<int64_t>(std::floor(u)) & 1) ? p.colour2 : p.colour;
    case 2: return ((static_cast<int64_t>(std::floor(u)) + static_cast<int64_t>(std::floor(v))) & 1) ? p.colour2 : p.colour;
    case 3: {
        const double fu = u - std::floor(u) - 0.5, fv = v - std::floor(v) - 0.5;
        return fu * fu + fv * fv < 0.08 ? p.colour2 : p.colour;
    }
    case 4: { // posters: flat rectangles of colour on the wall (texture edges, no depth edges)
        const double pu = std::floor(u / 3), pv = std::floor(v / 2);
        const double fu = u / 3 - pu, fv = v / 2 - pv;
        const bool poster = fu > 0.2 && fu < 0.8 && fv > 0.25 && fv < 0.85 && (static_cast<int64_t>(pu + 3 * pv) % 3 != 0);
        if (!poster)
            return p.colour;
        const double h = std::fmod(std::abs(pu * 12.9898 + pv * 78.233) * 43.7585, 1.0);
        return cv::Vec3d(60 + 180 * h, 60 + 180 * std::fmod(h * 7.1, 1.0), 60 + 180 * std::fmod(h * 3.3, 1.0));
    }
    default: return p.colour;
    }
}

Sample depth_sample(const Options& o, int index)
{
    Rng rng(o.seed, index);
    const int n = o.size;
    auto colour = [&](double lo, double hi) { return cv::Vec3d(rng.uniform(lo, hi), rng.uniform(lo, hi), rng.uniform(lo, hi)); };
    const double cam_h = rng.uniform(1.1, 1.7);
    const double pitch = rng.uniform(-0.35, -0.1); // looking slightly down
    const double f = n / (2 * std::tan(rng.uniform(0.45, 0.6)));
    const double room_d = rng.uniform(5.5, 9.0), room_w = rng.uniform(2.5, 4.0);
    std::vector<Primitive> scene;
    Primitive floor;
    floor.normal = {0, 1, 0}, floor.offset = -cam_h, floor.colour = colour(80, 200), floor.colour2 = floor.colour * 0.8;
    floor.pattern = rng.integer(0, 2), floor.period = rng.uniform(0.3, 0.8);
    scene.push_back(floor);
    Primitive back;
    back.normal = {0, 0, 1}, back.offset = room_d, back.colour = colour(120, 235), back.colour2 = back.colour * 0.85;
    back.pattern = rng.chance(0.6) ? 4 : 1, back.period = rng.uniform(0.25, 0.5);
    scene.push_back(back);
    for (double side : {-1.0, 1.0}) {
        Primitive wall;
        wall.normal = {side, 0, 0}, wall.offset = side * room_w, wall.colour = colour(110, 230), wall.colour2 = wall.colour * 0.85;
        wall.pattern = rng.chance(0.5) ? 4 : rng.integer(0, 1), wall.period = rng.uniform(0.25, 0.5);
        scene.push_back(wall);
    }
    const int objects = rng.integer(3, 6);
    for (int k = 0; k < objects; ++k) {
        Primitive p;
        p.kind = static_cast<Primitive::Kind>(rng.integer(1, 3));
        const double z = rng.uniform(1.6, room_d - 0.8), x = rng.uniform(-0.6, 0.6) * std::min(room_w, z * 0.6);
        p.colour = colour(40, 240), p.colour2 = colour(40, 240), p.pattern = rng.integer(0, 3), p.period = rng.uniform(0.08, 0.25);
        if (p.kind == Primitive::Box) {
            p.half = {rng.uniform(0.15, 0.6), rng.uniform(0.15, 0.7), rng.uniform(0.15, 0.6)};
            p.centre = {x, -cam_h + p.half[1] + (rng.chance(0.2) ? rng.uniform(0.3, 0.9) : 0), z};
            p.yaw = rng.uniform(0, kPi / 2);
        } else if (p.kind == Primitive::Sphere) {
            p.half = {rng.uniform(0.15, 0.5), 0, 0};
            p.centre = {x, -cam_h + p.half[0] + (rng.chance(0.3) ? rng.uniform(0.2, 0.8) : 0), z};
        } else {
            p.half = {rng.uniform(0.1, 0.35), rng.uniform(0.2, 0.9), 0};
            p.centre = {x, -cam_h + p.half[1], z};
        }
        scene.push_back(p);
    }
    const cv::Vec3d light = cv::normalize(cv::Vec3d(rng.uniform(-0.6, 0.6), 1.0, rng.uniform(-0.8, -0.2)));
    const double cp = std::cos(pitch), sp = std::sin(pitch);

    at::Tensor depth = at::zeros({1, n, n}, at::kFloat);
    cv::Mat rgb(n, n, CV_8UC3);
    auto dacc = depth.accessor<float, 3>();
    for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) {
            // Camera ray, pitched about the x axis; depth is z in the camera's frame.
            const cv::Vec3d cam((x + 0.5 - n / 2.0) / f, -(y + 0.5 - n / 2.0) / f, 1.0);
            const cv::Vec3d d = cv::normalize(cv::Vec3d(cam[0], cp * cam[1] + sp * cam[2], -sp * cam[1] + cp * cam[2]));
            Hit hit;
            for (size_t k = 0; k < scene.size(); ++k)
                intersect(scene[k], {0, 0, 0}, d, hit, static_cast<int>(k));
            cv::Vec3d c(0, 0, 0);
            if (hit.object >= 0) {
                const cv::Vec3d q = d * hit.t;
                const cv::Vec3d local(q[0], cp * q[1] - sp * q[2], sp * q[1] + cp * q[2]); // back to camera axes
                dacc[0][y][x] = static_cast<float>(std::min(local[2], 10.0));
                cv::Vec3d nrm = cv::normalize(hit.normal);
                if (nrm.dot(d) > 0)
                    nrm = -nrm;
                const double shade = 0.35 + 0.65 * std::max(0.0, nrm.dot(light));
                c = surface_colour(scene[static_cast<size_t>(hit.object)], q, nrm) * shade;
            }
            rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(c[0]), cv::saturate_cast<uchar>(c[1]),
                                                cv::saturate_cast<uchar>(c[2]));
        }
    const depth::Range range{0, 10};
    Sample s;
    s.target = depth::to_unit(depth, range);
    s.input = depth::to_unit(depth::low_resolution_input(depth, o.depth_factor), range);
    s.guide = rgb_to_tensor(rgb);
    return s;
}

// ------------------------------------------------------------------------------------------
// texture: bags and shoes.

// A silhouette: its outline, the seams drawn inside it, and extra filled parts (a bag's handle).
struct Shape {
    std::vector<cv::Point> outline;
    std::vector<std::vector<cv::Point>> seams;
    std::vector<std::vector<cv::Point>> solids;
};

cv::Point ipt(double x, double y)
{
    return {static_cast<int>(std::lround(x)), static_cast<int>(std::lround(y))};
}

Shape bag_shape(Rng& rng, int n)
{
    Shape shape;
    const double cx = n / 2.0 + rng.uniform(-0.05, 0.05) * n, bottom = n * rng.uniform(0.82, 0.9);
    const double w_bottom = n * rng.uniform(0.55, 0.75), w_top = w_bottom * rng.uniform(0.65, 1.0);
    const double top = n * rng.uniform(0.35, 0.45), round = n * rng.uniform(0.03, 0.08);
    auto& body = shape.outline;
    body.push_back(ipt(cx - w_top / 2, top));
    body.push_back(ipt(cx + w_top / 2, top));
    for (int k = 0; k <= 8; ++k) { // bottom right corner, rounded
        const double a = k / 8.0 * kPi / 2;
        body.push_back(ipt(cx + w_bottom / 2 - round + round * std::cos(a), bottom - round + round * std::sin(a)));
    }
    for (int k = 0; k <= 8; ++k) { // bottom left corner
        const double a = kPi / 2 + k / 8.0 * kPi / 2;
        body.push_back(ipt(cx - w_bottom / 2 + round + round * std::cos(a), bottom - round + round * std::sin(a)));
    }
    // The handle: a band between two arcs above the body.
    const double hw = w_top * rng.uniform(0.25, 0.4), hh = (top - n * 0.08) * rng.uniform(0.6, 1.0);
    std::vector<cv::Point> outer, inner;
    cv::ellipse2Poly(ipt(cx, top), cv::Size(static_cast<int>(hw), static_cast<int>(hh)), 0, 180, 360, 10, outer);
    cv::ellipse2Poly(ipt(cx, top), cv::Size(static_cast<int>(hw * 0.8), static_cast<int>(hh * 0.8)), 0, 180, 360, 10, inner);
    shape.seams.push_back(outer);
    shape.seams.push_back(inner);
    std::vector<cv::Point> band = outer;
    band.insert(band.end(), inner.rbegin(), inner.rend());
    shape.solids.push_back(band);
    // Inner seams: a flap, and sometimes a pocket.
    const double flap = top + (bottom - top) * rng.uniform(0.2, 0.4);
    shape.seams.push_back({ipt(cx - w_top / 2 * 0.98, flap), ipt(cx, flap + n * 0.05), ipt(cx + w_top / 2 * 0.98, flap)});
    if (rng.chance(0.6)) {
        const double pw = w_bottom * rng.uniform(0.25, 0.45), py = top + (bottom - top) * rng.uniform(0.5, 0.6);
        shape.seams.push_back({ipt(cx - pw / 2, py), ipt(cx + pw / 2, py), ipt(cx + pw / 2, py + pw * 0.6),
                               ipt(cx - pw / 2, py + pw * 0.6), ipt(cx - pw / 2, py)});
    }
    return shape;
}

Shape shoe_shape(Rng& rng, int n)
{
    Shape shape;
    auto& seams = shape.seams;
    // A side view: sole along the bottom, a rounded toe on one side, the ankle opening on top.
    const bool left = rng.chance(0.5);
    const double len = n * rng.uniform(0.75, 0.9), x0 = (n - len) / 2, sole = n * rng.uniform(0.68, 0.76);
    const double height = n * rng.uniform(0.28, 0.42), toe_h = height * rng.uniform(0.3, 0.45);
    std::vector<cv::Point2d> pts;
    const int steps = 24;
    for (int k = 0; k <= steps; ++k) { // top line from heel to toe: collar, then the vamp sloping down
        const double t = static_cast<double>(k) / steps;
        const double y = sole - (t < 0.35 ? height : height - (height - toe_h) * std::pow((t - 0.35) / 0.65, 0.8));
        pts.emplace_back(x0 + t * len, y);
    }
    for (int k = 0; k <= 8; ++k) { // toe: a quarter ellipse down to the sole
        const double a = k / 8.0 * kPi / 2;
        pts.emplace_back(x0 + len + toe_h * 0.3 * std::sin(a), sole - toe_h * std::cos(a));
    }
    pts.emplace_back(x0 + len, sole + n * 0.04);
    pts.emplace_back(x0, sole + n * 0.04);
    for (auto p : pts)
        shape.outline.emplace_back(static_cast<int>(left ? n - p.x : p.x), static_cast<int>(p.y));
    auto flip = [&](double x) { return static_cast<int>(left ? n - x : x); };
    seams.push_back({cv::Point(flip(x0), static_cast<int>(sole)), cv::Point(flip(x0 + len + toe_h * 0.3), static_cast<int>(sole))});
    seams.push_back({cv::Point(flip(x0 + len * 0.3), static_cast<int>(sole - height * 0.95)),
                     cv::Point(flip(x0 + len * 0.55), static_cast<int>(sole - height * 0.55)),
                     cv::Point(flip(x0 + len * 0.55), static_cast<int>(sole))});
    for (int k = 0; k < rng.integer(2, 4); ++k) { // laces
        const double t = 0.42 + 0.08 * k;
        const double y = sole - (height - (height - toe_h) * std::pow((t - 0.35) / 0.65, 0.8));
        seams.push_back({cv::Point(flip(x0 + t * len - n * 0.02), static_cast<int>(y + n * 0.03)),
                         cv::Point(flip(x0 + t * len + n * 0.03), static_cast<int>(y + n * 0.01))});
    }
    return shape;
}

Sample texture_sample(const Options& o, int index, const std::vector<at::Tensor>* photos)
{
    Rng rng(o.seed, index);
    const int n = o.size;
    const Shape shape = rng.chance(0.5) ? bag_shape(rng, n) : shoe_shape(rng, n);
    const auto& outline = shape.outline;
    const auto& seams = shape.seams;
    cv::Mat mask = cv::Mat::zeros(n, n, CV_8U);
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{outline}, 255, cv::LINE_AA);
    if (!shape.solids.empty())
        cv::fillPoly(mask, shape.solids, 255, cv::LINE_AA);
    cv::threshold(mask, mask, 127, 255, cv::THRESH_BINARY);

    // The fill: a procedural texture, or a texture photo when some are given.
    cv::Mat fill(n, n, CV_8UC3);
    if (photos && !photos->empty() && rng.chance(0.5)) {
        const at::Tensor& photo = (*photos)[static_cast<size_t>(rng.integer(0, static_cast<int>(photos->size()) - 1))];
        cv::Mat p = tensor_to_rgb(photo);
        cv::resize(p, fill, cv::Size(n, n), 0, 0, cv::INTER_AREA);
    } else {
        const int kind = rng.integer(0, 5);
        const cv::Scalar a = rng.colour(20, 240), b = rng.colour(20, 240);
        const double period = n * rng.uniform(0.03, 0.12), angle = rng.uniform(0, kPi);
        cv::Mat all(n, n, CV_8U, cv::Scalar(255));
        if (kind <= 3) {
            fill_pattern(fill, all, kind, a, b, period, angle, rng);
        } else if (kind == 4) { // smooth noise
            cv::Mat noise(std::max(2, n / 16), std::max(2, n / 16), CV_32FC3);
            cv::randu(noise, 0, 1);
            cv::Mat up;
            cv::resize(noise, up, cv::Size(n, n), 0, 0, cv::INTER_CUBIC);
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x) {
                    const cv::Vec3f v = up.at<cv::Vec3f>(y, x);
                    const double t = std::clamp((v[0] + v[1] + v[2]) / 3.0, 0.0, 1.0);
                    const cv::Scalar c = a * (1 - t) + b * t;
                    fill.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(c[0]), cv::saturate_cast<uchar>(c[1]),
                                                         cv::saturate_cast<uchar>(c[2]));
                }
        } else { // gradient
            for (int y = 0; y < n; ++y)
                for (int x = 0; x < n; ++x) {
                    const double t = std::clamp(((x - n / 2.0) * std::cos(angle) + (y - n / 2.0) * std::sin(angle)) / n + 0.5, 0.0, 1.0);
                    const cv::Scalar c = a * (1 - t) + b * t;
                    fill.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(c[0]), cv::saturate_cast<uchar>(c[1]),
                                                         cv::saturate_cast<uchar>(c[2]));
                }
        }
    }
    // Shading: darker towards the silhouette's edge, for a rounded look.
    cv::Mat dist;
    cv::distanceTransform(mask, dist, cv::DIST_L2, 3);
    cv::Mat object(n, n, CV_8UC3, cv::Scalar(255, 255, 255));
    for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x)
            if (mask.at<uchar>(y, x)) {
                const double shade = 0.7 + 0.3 * std::min(1.0, dist.at<float>(y, x) / (n * 0.08));
                const cv::Vec3b c = fill.at<cv::Vec3b>(y, x);
                object.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(c[0] * shade),
                                                       cv::saturate_cast<uchar>(c[1] * shade),
                                                       cv::saturate_cast<uchar>(c[2] * shade));
            }
    // The sketch: outline and seams, dark on white, as TextureGAN's sketches look.
    cv::Mat sketch(n, n, CV_8UC3, cv::Scalar(255, 255, 255));
    const int line = std::max(1, n / 160);
    cv::polylines(sketch, std::vector<std::vector<cv::Point>>{outline}, true, cv::Scalar(20, 20, 20), line, cv::LINE_AA);
    for (const auto& s : seams)
        cv::polylines(sketch, std::vector<std::vector<cv::Point>>{s}, false, cv::Scalar(40, 40, 40), line, cv::LINE_AA);
    cv::polylines(object, std::vector<std::vector<cv::Point>>{outline}, true, cv::Scalar(25, 25, 25), line, cv::LINE_AA);
    for (const auto& s : seams)
        cv::polylines(object, std::vector<std::vector<cv::Point>>{s}, false, cv::Scalar(45, 45, 45), line, cv::LINE_AA);

    Sample s;
    s.target = texture::rgb_unit_to_lab_unit(rgb_to_tensor(object));
    s.input = texture::rgb_unit_to_lab_unit(rgb_to_tensor(sketch)).narrow(0, 0, 1).contiguous();
    // A patch of the object's own texture, 20-40 px at 128 px (the reference's default), inside the
    // object (its eroded mask).
    const int side = std::max(4, static_cast<int>(std::lround(rng.uniform(20, 40) * n / 128.0)));
    cv::Mat eroded;
    cv::erode(mask, eroded, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(side, side)));
    std::vector<cv::Point> inside;
    cv::findNonZero(eroded, inside);
    std::vector<texture::Patch> patches;
    if (!inside.empty()) {
        const cv::Point c = inside[static_cast<size_t>(rng.integer(0, static_cast<int>(inside.size()) - 1))];
        const int x = std::clamp(c.x - side / 2, 0, n - side), y = std::clamp(c.y - side / 2, 0, n - side);
        patches.push_back({s.target.narrow(1, y, side).narrow(2, x, side).clone(), x, y});
    }
    s.guide = texture::patch_guide(patches, n, n);
    return s;
}

std::vector<at::Tensor> load_photos(const std::string& dir)
{
    std::vector<at::Tensor> photos;
    if (dir.empty())
        return photos;
    if (!fs::is_directory(dir))
        throw Error(dir, "not a folder of texture photos");
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && is_image_path(e.path().string()))
            files.push_back(e.path().string());
    std::sort(files.begin(), files.end()); // directory order is not stable: keep runs deterministic
    for (const auto& f : files)
        photos.push_back(read_image(f, 3));
    if (photos.empty())
        throw Error(dir, "no images in the texture folder");
    return photos;
}

} // namespace

Sample make_sample(const Options& o, int index, pose::Pose* guide_pose, const std::vector<at::Tensor>* photos)
{
    if (o.size < 32 || o.size > 2048)
        throw Error("synthetic samples are 32 to 2048 pixels wide");
    if (o.task == "pose")
        return pose_sample(o, index, guide_pose);
    if (o.task == "depth")
        return depth_sample(o, index);
    if (o.task == "texture")
        return texture_sample(o, index, photos);
    throw Error("unknown task '" + o.task + "' (expected pose, depth or texture)");
}

void write_dataset(const Options& o, const std::string& out_dir, const std::function<bool(int, int)>& progress)
{
    if (o.count < 1)
        throw Error("--count must be at least 1");
    if (o.task == "depth" && o.depth_factor != 4 && o.depth_factor != 8 && o.depth_factor != 16)
        throw Error("the depth factor is 4, 8 or 16");
    DatasetInfo info = DatasetInfo::for_task(o.task, out_dir);
    info.factor = o.depth_factor;
    info.near_m = 0, info.far_m = 10;
    info.write();
    const std::vector<at::Tensor> photos = load_photos(o.textures_dir);
    const int val = static_cast<int>(std::lround(o.count * o.val_fraction));
    std::atomic<int> done{0};
    std::atomic<bool> cancelled{false};
    std::string error;
    std::mutex error_mutex;
    // Samples are independent: spread them over threads (each its own single-threaded ATen).
    const int threads = std::max(1, o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency()));
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            at::set_num_threads(1);
            while (!cancelled) {
                const int i = next++;
                if (i >= o.count)
                    return;
                try {
                    pose::Pose b;
                    const Sample s = make_sample(o, i, &b, &photos);
                    char id[16];
                    std::snprintf(id, sizeof id, "%06d", i);
                    save_sample(info, i < o.count - val ? "train" : "val", id, s.input, s.guide, s.target, &b);
                } catch (const std::exception& e) {
                    std::lock_guard<std::mutex> lock(error_mutex);
                    if (error.empty())
                        error = e.what();
                    cancelled = true;
                }
                const int d = ++done;
                if (progress && !progress(d, o.count))
                    cancelled = true;
            }
        });
    for (auto& t : pool)
        t.join();
    if (!error.empty())
        throw Error(error);
}

void write_sample_sheet(const DatasetInfo& info, const std::vector<Sample>& samples,
                        const std::vector<at::Tensor>* outputs, const std::string& png_path)
{
    if (samples.empty())
        throw Error(png_path, "no samples to draw");
    auto colourise = [](const at::Tensor& unit) {
        // Missing readings (NaN) show as the near end, as the camera's zeros would.
        at::Tensor v = ((at::nan_to_num(unit[0], -1.0).clamp(-1, 1) + 1) * 127.5).round().to(at::kByte).contiguous();
        cv::Mat grey(static_cast<int>(v.size(0)), static_cast<int>(v.size(1)), CV_8U, v.data_ptr<uint8_t>()), c;
        cv::applyColorMap(grey, c, cv::COLORMAP_TURBO);
        cv::cvtColor(c, c, cv::COLOR_BGR2RGB);
        return c.clone();
    };
    // An output or target as a picture: depth colour-mapped, Lab back to RGB, RGB as it is.
    auto picture = [&](const at::Tensor& t) {
        if (info.task == "depth")
            return colourise(t);
        if (info.task == "texture")
            return tensor_to_rgb(texture::lab_unit_to_rgb_unit(t));
        return tensor_to_rgb(t);
    };
    const int columns = outputs ? 4 : 3, gap = 4;
    std::vector<cv::Mat> rows;
    for (size_t i = 0; i < samples.size(); ++i) {
        const Sample& s = samples[i];
        const int h = static_cast<int>(s.input.size(1)), w = static_cast<int>(s.input.size(2));
        cv::Mat a, g;
        if (info.task == "pose") {
            a = tensor_to_rgb(s.input);
            g = cv::Mat(h, w, CV_8UC3, cv::Scalar(20, 20, 20));
            pose::draw_skeleton(g.data, w, h, pose::pose_from_maps(s.guide, info.pose_style), std::max(2, w / 96));
        } else if (info.task == "depth") {
            a = colourise(s.input);
            g = tensor_to_rgb(s.guide);
        } else {
            a = tensor_to_rgb(texture::lab_unit_to_rgb_unit(at::cat({s.input, at::zeros({2, h, w})})));
            // The guide: the patch over the sketch, its mask's border in red.
            g = a.clone();
            cv::Mat patch = tensor_to_rgb(texture::lab_unit_to_rgb_unit(s.guide.narrow(0, 0, 3)));
            at::Tensor m = (s.guide[3] > 0).to(at::kByte).mul(255).contiguous();
            cv::Mat mask(h, w, CV_8U, m.data_ptr<uint8_t>());
            patch.copyTo(g, mask);
            std::vector<std::vector<cv::Point>> contours;
            cv::findContours(mask.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
            cv::drawContours(g, contours, -1, cv::Scalar(230, 30, 30), 1, cv::LINE_AA);
        }
        std::vector<cv::Mat> cells = {a, g};
        if (outputs)
            cells.push_back(picture((*outputs)[i]));
        cells.push_back(picture(s.target));
        cv::Mat row(h, columns * w + (columns - 1) * gap, CV_8UC3, cv::Scalar(255, 255, 255));
        for (int c = 0; c < columns; ++c)
            cells[static_cast<size_t>(c)].copyTo(row(cv::Rect(c * (w + gap), 0, w, h)));
        rows.push_back(row);
        rows.push_back(cv::Mat(gap, row.cols, CV_8UC3, cv::Scalar(255, 255, 255)));
    }
    rows.pop_back();
    cv::Mat sheet, bgr;
    cv::vconcat(rows, sheet);
    cv::cvtColor(sheet, bgr, cv::COLOR_RGB2BGR);
    write_image_file(png_path, bgr);
}

void write_contact_sheet(const std::string& dataset_dir, const std::string& split, int count, const std::string& png_path)
{
    const DatasetInfo info = DatasetInfo::read(dataset_dir);
    auto ids = sample_ids(info, split);
    if (ids.empty())
        throw Error((fs::path(dataset_dir) / split).string(), "no samples");
    ids.resize(std::min(ids.size(), static_cast<size_t>(std::max(1, count))));
    std::vector<Sample> samples;
    for (const auto& id : ids)
        samples.push_back(load_sample(info, split, id));
    write_sample_sheet(info, samples, nullptr, png_path);
}

} // namespace bft::synth
