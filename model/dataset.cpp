#include "dataset.h"

#include "atomic_file.h"
#include "depth.h"
#include "errors.h"
#include "image_io.h"
#include "json_file.h"
#include "npy.h"
#include "opencv_io.h"
#include "texture.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

namespace bft {

namespace fs = std::filesystem;

namespace {

const char* const kRoles[3] = {"input", "guide", "target"};

// The file of a sample's role: <root>/<split>/<role>/<id>.<any ext>; empty if none.
std::string find_file(const DatasetInfo& info, const std::string& split, const char* role, const std::string& id)
{
    const fs::path dir = fs::path(info.root) / split / role;
    for (const char* ext : {".png", ".jpg", ".jpeg", ".json", ".npy", ".bmp", ".tif", ".tiff", ".webp"}) {
        fs::path p = dir / (id + ext);
        if (fs::is_regular_file(p))
            return p.string();
    }
    return {};
}

bool has_ext(const std::string& path, const char* ext)
{
    return fs::path(path).extension() == ext;
}

at::Tensor load_npy_checked(const std::string& path, int channels)
{
    at::Tensor t = read_npy(path).to(at::kFloat);
    if (t.dim() != 3 || t.size(0) != channels)
        throw Error(path, "expected a " + std::to_string(channels) + " x H x W array");
    if (!at::isfinite(t).all().item<bool>())
        throw Error(path, "contains NaN or infinite values");
    if (t.abs().max().item<float>() > 1.0f + 1e-4f)
        throw Error(path, "values out of range (expected [-1, 1])");
    return t;
}

// RGBA PNG -> 4-channel texture guide (Lab' of the patch where alpha > 0, blank elsewhere).
at::Tensor load_texture_guide(const std::string& path)
{
    const cv::Mat raw = decode_image_file(path);
    if (raw.channels() != 4 || raw.depth() != CV_8U)
        throw Error(path, "a texture guide is an 8-bit RGBA PNG (alpha marks the patches)");
    cv::Mat rgba;
    cv::cvtColor(raw, rgba, cv::COLOR_BGRA2RGBA);
    at::Tensor hwc = at::from_blob(rgba.data, {rgba.rows, rgba.cols, 4}, at::kByte).to(at::kFloat) / 255;
    at::Tensor rgb = hwc.narrow(2, 0, 3).permute({2, 0, 1}).contiguous();
    at::Tensor mask = hwc.select(2, 3) > 0.5;
    at::Tensor lab = texture::lab_to_unit(texture::rgb_to_lab(rgb));
    at::Tensor guide = at::ones({4, rgba.rows, rgba.cols}, at::kFloat);
    guide.narrow(0, 0, 3).copy_(at::where(mask.unsqueeze(0), lab, at::ones_like(lab)));
    guide[3].copy_(at::where(mask, at::ones({}, at::kFloat), at::full({}, -1.0f)));
    return guide;
}

at::Tensor load_role(const DatasetInfo& info, const std::string& path, int role, int channels, int* height, int* width)
{
    if (has_ext(path, ".npy"))
        return load_npy_checked(path, channels);
    const std::string& task = info.task;
    if (task == "pose" && role == 1) {
        if (!has_ext(path, ".json"))
            throw Error(path, "pose guides are OpenPose JSON files (or .npy keypoint maps)");
        const auto file = pose::read_openpose_json(path);
        if (file.people.size() != 1)
            throw Error(path, "expected one person, found " + std::to_string(file.people.size()));
        if (*height <= 0)
            throw Error(path, "the pose's image size is unknown (its input image is missing)");
        return pose::keypoint_maps(file.people[0], *height, *width, info.pose_style);
    }
    if (task == "depth" && role != 1) {
        depth::FileOptions o;
        o.units_per_metre = info.units_per_metre;
        o.range8 = {info.near_m, info.far_m};
        at::Tensor metres = depth::read_depth(path, o);
        if ((metres > info.far_m + 1e-3).any().item<bool>())
            throw Error(path, "values out of range (deeper than far_m = " + std::to_string(info.far_m) + " m)");
        const at::Tensor unit = depth::to_unit(metres, {info.near_m, info.far_m});
        if (info.holes && role == 2) // no reading: NaN, which losses and metrics leave out
            return at::where(metres > 0, unit, at::full({}, std::numeric_limits<float>::quiet_NaN()));
        return unit;
    }
    if (task == "texture" && role == 1)
        return load_texture_guide(path);
    if (!is_image_path(path))
        throw Error(path, "unexpected file type for the " + std::string(kRoles[role]));
    if (task == "texture" && role == 2)
        return texture::rgb_unit_to_lab_unit(read_image(path, 3));
    if (task == "texture" && role == 0)
        return texture::lab_to_unit(texture::rgb_to_lab(((read_image(path, 1) + 1) / 2).expand({3, -1, -1}).contiguous()))
            .narrow(0, 0, 1)
            .contiguous();
    return read_image(path, channels);
}

} // namespace

DatasetInfo DatasetInfo::for_task(const std::string& task, const std::string& root)
{
    DatasetInfo info;
    info.root = root;
    info.task = task;
    if (task == "pose")
        info.input_nc = 3, info.guide_nc = 18, info.output_nc = 3;
    else if (task == "depth")
        info.input_nc = 1, info.guide_nc = 3, info.output_nc = 1;
    else if (task == "texture")
        info.input_nc = 1, info.guide_nc = 4, info.output_nc = 3;
    else
        throw Error("unknown task '" + task + "' (expected pose, depth or texture)");
    return info;
}

DatasetInfo DatasetInfo::read(const std::string& root)
{
    const std::string path = (fs::path(root) / "dataset.json").string();
    const nlohmann::json j = read_json_file(path);
    try {
        if (!j.is_object() || j.value("format", "") != "bft-dataset")
            throw Error(path, "not a bFT dataset description (\"format\" must be \"bft-dataset\")");
        DatasetInfo info = for_task(j.at("task").get<std::string>(), root);
        info.input_nc = static_cast<int>(json_integer(j, "input_nc", info.input_nc, 1, 64, path));
        info.guide_nc = static_cast<int>(json_integer(j, "guide_nc", info.guide_nc, 1, 64, path));
        info.output_nc = static_cast<int>(json_integer(j, "output_nc", info.output_nc, 1, 64, path));
        if (j.contains("pose")) {
            const auto& p = j["pose"];
            info.pose_style.radius = static_cast<float>(json_number(p, "radius", info.pose_style.radius, 0, 1000, path));
            info.pose_style.inside = static_cast<float>(json_number(p, "inside", info.pose_style.inside, -1e6, 1e6, path));
            info.pose_style.outside = static_cast<float>(json_number(p, "outside", info.pose_style.outside, -1e6, 1e6, path));
        }
        if (j.contains("depth")) {
            const auto& d = j["depth"];
            info.units_per_metre = static_cast<float>(json_number(d, "units_per_metre", info.units_per_metre, 1e-6, 1e9, path));
            info.near_m = static_cast<float>(json_number(d, "near_m", info.near_m, 0, 1e6, path));
            info.far_m = static_cast<float>(json_number(d, "far_m", info.far_m, 0, 1e6, path));
            info.factor = static_cast<int>(json_integer(d, "factor", info.factor, 1, 64, path));
            info.holes = d.value("holes", false);
        }
        if (!(info.far_m > info.near_m) || info.units_per_metre <= 0 || info.factor < 1)
            throw Error(path, "invalid depth settings");
        for (int c : {info.input_nc, info.guide_nc, info.output_nc})
            if (c < 1 || c > 64)
                throw Error(path, "invalid channel count " + std::to_string(c));
        return info;
    } catch (const nlohmann::json::exception& e) {
        throw Error(path, std::string("invalid field: ") + e.what());
    } catch (const Error& e) {
        const std::string m = e.what();
        throw Error(m.rfind(path, 0) == 0 ? m : path + ": " + m);
    }
}

void DatasetInfo::write() const
{
    nlohmann::json j = {{"format", "bft-dataset"}, {"version", 1},      {"task", task},
                        {"input_nc", input_nc},    {"guide_nc", guide_nc}, {"output_nc", output_nc}};
    if (task == "pose")
        j["pose"] = {{"radius", pose_style.radius}, {"inside", pose_style.inside}, {"outside", pose_style.outside}};
    if (task == "depth")
        j["depth"] = {{"units_per_metre", units_per_metre}, {"near_m", near_m}, {"far_m", far_m}, {"factor", factor}, {"holes", holes}};
    fs::create_directories(root);
    write_file_atomically((fs::path(root) / "dataset.json").string(), j.dump(2) + "\n");
}

std::vector<std::string> sample_ids(const DatasetInfo& info, const std::string& split)
{
    std::set<std::string> ids;
    for (const char* role : kRoles) {
        const fs::path dir = fs::path(info.root) / split / role;
        std::error_code ec;
        if (!fs::is_directory(dir, ec))
            continue;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.is_regular_file() && e.path().filename().string()[0] != '.')
                ids.insert(e.path().stem().string());
    }
    return {ids.begin(), ids.end()};
}

Sample load_sample(const DatasetInfo& info, const std::string& split, const std::string& id)
{
    Sample s;
    s.id = id;
    std::string files[3];
    for (int r = 0; r < 3; ++r) {
        files[r] = find_file(info, split, kRoles[r], id);
        if (files[r].empty())
            throw Error((fs::path(info.root) / split / kRoles[r] / id).string() + ".*",
                        std::string("missing ") + kRoles[r] + " file for sample '" + id + "'");
    }
    int h = 0, w = 0;
    const int channels[3] = {info.input_nc, info.guide_nc, info.output_nc};
    at::Tensor t[3];
    for (int r : {0, 2, 1}) { // the guide last: a pose JSON takes the image's size
        t[r] = load_role(info, files[r], r, channels[r], &h, &w);
        if (t[r].size(0) != channels[r])
            throw Error(files[r], "has " + std::to_string(t[r].size(0)) + " channels, the task needs " +
                                      std::to_string(channels[r]));
        if (h == 0) {
            h = static_cast<int>(t[r].size(1));
            w = static_cast<int>(t[r].size(2));
        } else if (t[r].size(1) != h || t[r].size(2) != w) {
            throw Error(files[r], "is " + std::to_string(t[r].size(2)) + "x" + std::to_string(t[r].size(1)) +
                                      " but the sample's input is " + std::to_string(w) + "x" + std::to_string(h));
        }
    }
    s.input = t[0];
    s.guide = t[1];
    s.target = t[2];
    return s;
}

void save_sample(const DatasetInfo& info, const std::string& split, const std::string& id, const at::Tensor& input,
                 const at::Tensor& guide, const at::Tensor& target, const pose::Pose* guide_pose)
{
    const fs::path base = fs::path(info.root) / split;
    for (const char* role : kRoles)
        fs::create_directories(base / role);
    auto path = [&](const char* role, const char* ext) { return (base / role / (id + ext)).string(); };
    depth::FileOptions o;
    o.units_per_metre = info.units_per_metre;
    const depth::Range range{info.near_m, info.far_m};
    if (info.task == "pose") {
        write_image(path("input", ".png"), input);
        write_image(path("target", ".png"), target);
        if (!guide_pose)
            throw Error("save_sample: a pose sample needs its keypoints");
        pose::PoseFile f;
        f.people = {*guide_pose};
        f.canvas_width = static_cast<int>(input.size(2));
        f.canvas_height = static_cast<int>(input.size(1));
        pose::write_openpose_json(path("guide", ".json"), f);
    } else if (info.task == "depth") {
        depth::write_depth(path("input", ".png"), depth::to_metres(input, range), o);
        write_image(path("guide", ".png"), guide);
        depth::write_depth(path("target", ".png"), depth::to_metres(target, range), o);
    } else {
        write_image(path("input", ".png"), texture::lab_unit_to_rgb_unit(input.expand({3, -1, -1}) *
                                                                          at::tensor({1.0f, 0.0f, 0.0f}).view({3, 1, 1}))
                                               .narrow(0, 0, 1));
        // RGBA: the patch colours where the mask is on, transparent elsewhere.
        at::Tensor rgb = (texture::lab_unit_to_rgb_unit(guide.narrow(0, 0, 3)) + 1) / 2;
        at::Tensor alpha = (guide[3] > 0).to(at::kFloat).unsqueeze(0);
        at::Tensor rgba = (at::cat({rgb * alpha, alpha}) * 255).round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
        cv::Mat m(static_cast<int>(rgba.size(0)), static_cast<int>(rgba.size(1)), CV_8UC4, rgba.data_ptr<uint8_t>());
        cv::Mat bgra;
        cv::cvtColor(m, bgra, cv::COLOR_RGBA2BGRA);
        write_image_file(path("guide", ".png"), bgra);
        write_image(path("target", ".png"), texture::lab_unit_to_rgb_unit(target));
    }
}

Sample flipped(const Sample& s, const std::string& task)
{
    Sample out = s;
    out.input = s.input.flip({2});
    out.target = s.target.flip({2});
    at::Tensor g = s.guide.flip({2});
    if (task == "pose" && g.size(0) == pose::kKeypoints) {
        std::vector<int64_t> order(pose::kKeypoints);
        for (int k = 0; k < pose::kKeypoints; ++k)
            order[static_cast<size_t>(pose::mirrored(k))] = k; // new channel m(k) holds old channel k
        g = g.index_select(0, at::tensor(order, at::kLong));
    }
    out.guide = g.contiguous();
    return out;
}

std::string DatasetReport::text() const
{
    std::ostringstream s;
    for (const auto& [split, n] : split_counts)
        s << split << ": " << n << " samples\n";
    for (const auto& p : problems)
        s << p.file << ": " << p.message << "\n";
    s << (problems.empty() ? "no problems found\n" : std::to_string(problems.size()) + " problems\n");
    return s.str();
}

std::string DatasetReport::json() const
{
    nlohmann::json j;
    j["splits"] = nlohmann::json::object();
    for (const auto& [split, n] : split_counts)
        j["splits"][split] = n;
    j["problems"] = nlohmann::json::array();
    for (const auto& p : problems)
        j["problems"].push_back({{"file", p.file}, {"message", p.message}});
    j["ok"] = ok();
    return j.dump();
}

DatasetReport check_dataset(const std::string& root, const std::function<bool(int, int)>& progress)
{
    DatasetReport report;
    DatasetInfo info;
    try {
        info = DatasetInfo::read(root);
    } catch (const Error& e) {
        report.problems.push_back({(fs::path(root) / "dataset.json").string(), e.what()});
        return report;
    }
    std::vector<std::pair<std::string, std::string>> work; // split, id
    for (const char* split : {"train", "val", "test"}) {
        if (!fs::is_directory(fs::path(root) / split))
            continue;
        for (const auto& id : sample_ids(info, split))
            work.emplace_back(split, id);
        report.split_counts.emplace_back(split, 0);
    }
    if (report.split_counts.empty())
        report.problems.push_back({root, "no train, val or test folder"});
    int done = 0;
    for (const auto& [split, id] : work) {
        try {
            load_sample(info, split, id);
            for (auto& sc : report.split_counts)
                if (sc.first == split)
                    ++sc.second;
        } catch (const Error& e) {
            const std::string m = e.what();
            const auto sep = m.find(": ");
            report.problems.push_back(sep == std::string::npos ? DatasetProblem{root, m}
                                                               : DatasetProblem{m.substr(0, sep), m.substr(sep + 2)});
        } catch (const std::exception& e) {
            report.problems.push_back({(fs::path(root) / split / id).string(), e.what()});
        }
        if (progress && !progress(++done, static_cast<int>(work.size())))
            break;
    }
    return report;
}

DataLoader::DataLoader(DatasetInfo info, std::string split, Options options)
    : info_(std::move(info)), split_(std::move(split)), options_(options)
{
    ids_ = sample_ids(info_, split_);
    if (ids_.empty())
        throw Error((fs::path(info_.root) / split_).string(), "no samples");
    if (options_.batch < 1)
        throw Error("batch size must be at least 1");
    if (options_.world < 1 || options_.rank < 0 || options_.rank >= options_.world || options_.batch % options_.world != 0)
        throw Error("the batch of " + std::to_string(options_.batch) + " does not split evenly over " +
                    std::to_string(options_.world) + " ranks");
    next_batch_ = next_deliver_ = options_.first_batch;
    for (int t = 0; t < std::max(1, options_.threads); ++t)
        workers_.emplace_back([this] { work(); });
}

DataLoader::~DataLoader()
{
    stop_ = true;
    space_.notify_all();
    ready_.notify_all();
    for (auto& t : workers_)
        t.join();
}

void DataLoader::work()
{
    const size_t n = ids_.size();
    const size_t per_epoch = std::max<size_t>(1, n / static_cast<size_t>(options_.batch));
    while (!stop_) {
        size_t b;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            space_.wait(lock, [&] {
                return stop_ || next_batch_ < next_deliver_ + static_cast<size_t>(options_.prefetch);
            });
            if (stop_)
                return;
            b = next_batch_++;
        }
        // The order of epoch e is a permutation seeded by (seed, e): the same every run.
        const size_t epoch = b / per_epoch, first = (b % per_epoch) * static_cast<size_t>(options_.batch);
        std::vector<size_t> order(n);
        for (size_t i = 0; i < n; ++i)
            order[i] = i;
        std::mt19937_64 rng(options_.seed * 1000003 + epoch);
        if (options_.shuffle)
            std::shuffle(order.begin(), order.end(), rng);
        std::vector<at::Tensor> inputs, guides, targets;
        std::string error;
        try {
            for (int k = options_.rank; k < options_.batch; k += options_.world) {
                const size_t pos = (first + static_cast<size_t>(k)) % n;
                Sample s = load_sample(info_, split_, ids_[order[pos]]);
                std::mt19937_64 coin(options_.seed ^ (epoch * 7919 + pos * 104729 + 17));
                if (options_.flip && (coin() & 1))
                    s = flipped(s, info_.task);
                inputs.push_back(s.input);
                guides.push_back(s.guide);
                targets.push_back(s.target);
            }
        } catch (const std::exception& e) {
            error = e.what();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error.empty()) {
            if (error_.empty())
                error_ = error;
        } else {
            try {
                done_[b] = {at::stack(inputs), at::stack(guides), at::stack(targets)};
            } catch (const std::exception& e) {
                if (error_.empty())
                    error_ = (fs::path(info_.root) / split_).string() + ": samples of different sizes in one batch (" +
                             e.what() + ")";
            }
        }
        ready_.notify_all();
    }
}

std::vector<at::Tensor> DataLoader::next()
{
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return !error_.empty() || done_.count(next_deliver_); });
    if (!error_.empty())
        throw Error(error_);
    auto batch = std::move(done_[next_deliver_]);
    done_.erase(next_deliver_++);
    space_.notify_all();
    return batch;
}

} // namespace bft
