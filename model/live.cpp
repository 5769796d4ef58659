#include "live.h"

#include "arch.h"
#include "checkpoint.h"
#include "depth.h"
#include "errors.h"
#include "generator.h"
#include "image_io.h"
#include "inference.h"
#include "json_file.h"
#include "npy.h"
#include "onednn.h"
#include "pose.h"
#include "runtime.h"
#include "texture.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>

namespace bft::live {

namespace fs = std::filesystem;

const char* task_name(Task task)
{
    switch (task) {
    case Task::Pose: return "pose";
    case Task::Texture: return "texture";
    case Task::Depth: return "depth";
    }
    return "?";
}

bool task_from_name(const std::string& name, Task* task)
{
    for (Task t : {Task::Pose, Task::Texture, Task::Depth})
        if (name == task_name(t)) {
            *task = t;
            return true;
        }
    return false;
}

namespace {

// Channel counts of each task (input, guide, output), as in the paper's presets.
struct Channels {
    int input, guide, output;
};
Channels task_channels(Task task)
{
    switch (task) {
    case Task::Pose: return {3, pose::kKeypoints, 3};
    case Task::Texture: return {1, 4, 3};
    case Task::Depth: return {1, 3, 1};
    }
    return {0, 0, 0};
}

at::Tensor to_tensor(const Raster& r)
{
    if (r.empty() || r.values.size() != static_cast<size_t>(r.channels) * r.height * r.width)
        throw Error("an image of " + std::to_string(r.width) + "x" + std::to_string(r.height) + " has the wrong number of values");
    return at::from_blob(const_cast<float*>(r.values.data()), {r.channels, r.height, r.width}, at::kFloat).clone();
}

Raster to_raster(at::Tensor t)
{
    t = t.detach().to(at::kCPU, at::kFloat).contiguous();
    while (t.dim() > 3 && t.size(0) == 1)
        t = t.squeeze(0);
    if (t.dim() == 2)
        t = t.unsqueeze(0);
    if (t.dim() != 3)
        throw Error("expected an image-shaped array, got " + std::to_string(t.dim()) + " dimensions");
    Raster r;
    r.channels = static_cast<int>(t.size(0));
    r.height = static_cast<int>(t.size(1));
    r.width = static_cast<int>(t.size(2));
    r.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    return r;
}

// RGB8 -> 3 x H x W in [-1, 1].
at::Tensor rgb_unit(const Rgb8& image)
{
    if (image.empty() || image.bytes.size() != static_cast<size_t>(image.width) * image.height * 3)
        throw Error("the source image is missing or has the wrong size");
    at::Tensor hwc = at::from_blob(const_cast<unsigned char*>(image.bytes.data()), {image.height, image.width, 3}, at::kByte);
    return hwc.permute({2, 0, 1}).to(at::kFloat).div_(127.5).sub_(1.0).contiguous();
}

// C x H x W in [-1, 1] (C = 1 or 3) -> RGB8.
Rgb8 to_rgb8(at::Tensor unit)
{
    unit = unit.detach().to(at::kCPU, at::kFloat);
    if (unit.dim() == 4)
        unit = unit[0];
    if (unit.size(0) == 1)
        unit = unit.expand({3, unit.size(1), unit.size(2)});
    at::Tensor hwc = unit.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
    Rgb8 out;
    out.height = static_cast<int>(hwc.size(0));
    out.width = static_cast<int>(hwc.size(1));
    out.bytes.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
    return out;
}

pose::Pose to_pose(const Skeleton& s)
{
    pose::Pose p;
    for (int k = 0; k < kKeypoints; ++k) {
        p.points[k].x = s[k].x;
        p.points[k].y = s[k].y;
        p.points[k].present = s[k].present;
        p.points[k].confidence = s[k].present ? 1.0f : 0.0f;
    }
    return p;
}

Skeleton from_pose(const pose::Pose& p)
{
    Skeleton s{};
    for (int k = 0; k < kKeypoints; ++k)
        s[k] = {p.points[k].x, p.points[k].y, p.points[k].present};
    return s;
}

at::Tensor resize_tensor(const at::Tensor& chw, int width, int height, bool bicubic)
{
    if (chw.size(1) == height && chw.size(2) == width)
        return chw;
    at::Tensor x = chw.unsqueeze(0);
    if (bicubic)
        return at::upsample_bicubic2d(x, {height, width}, false).squeeze(0);
    if (width <= chw.size(2) && height <= chw.size(1))
        return at::adaptive_avg_pool2d(x, {height, width}).squeeze(0);
    return at::upsample_bilinear2d(x, {height, width}, false).squeeze(0);
}

// Model cards sit beside the weights: pose.pth + pose.json {"title", "size", ...}.
void read_card(ModelInfo& info)
{
    const fs::path card = fs::path(info.path).replace_extension(".json");
    if (!fs::exists(card))
        return;
    try {
        const nlohmann::json j = read_json_file(card.string());
        info.native_size = static_cast<int>(json_integer(j, "size", 0, 0, 16384, card.string()));
        info.card_title = j.value("title", std::string());
    } catch (const std::exception&) {
        // A broken card costs its hints only; the weights still load.
    }
}

} // namespace

const char* keypoint_name(int k) { return pose::keypoint_name(k); }
int mirrored_keypoint(int k) { return pose::mirrored(k); }

const std::vector<Limb>& limbs()
{
    static const std::vector<Limb> table = [] {
        std::vector<Limb> out;
        for (const pose::Limb& l : pose::limbs())
            out.push_back({l.from, l.to, l.r, l.g, l.b});
        return out;
    }();
    return table;
}

Skeleton default_skeleton(int width, int height)
{
    // A person standing, arms slightly out, in units of the figure's height (COCO-18 order).
    static const float xy[kKeypoints][2] = {
        {0.00f, 0.06f},  {0.00f, 0.17f},  {-0.10f, 0.18f}, {-0.14f, 0.34f}, {-0.16f, 0.48f}, {0.10f, 0.18f},
        {0.14f, 0.34f},  {0.16f, 0.48f},  {-0.06f, 0.50f}, {-0.07f, 0.72f}, {-0.07f, 0.94f}, {0.06f, 0.50f},
        {0.07f, 0.72f},  {0.07f, 0.94f},  {-0.02f, 0.04f}, {0.02f, 0.04f},  {-0.05f, 0.05f}, {0.05f, 0.05f},
    };
    const float scale = 0.8f * static_cast<float>(height);
    const float top = 0.1f * static_cast<float>(height);
    Skeleton s{};
    for (int k = 0; k < kKeypoints; ++k)
        s[k] = {0.5f * static_cast<float>(width - 1) + xy[k][0] * scale, top + xy[k][1] * scale, true};
    return s;
}

ModelInfo inspect(const std::string& checkpoint)
{
    const StateDict sd = read_state_dict(checkpoint);
    const ArchSpec spec = infer_arch(sd, checkpoint);
    ModelInfo info;
    info.path = checkpoint;
    info.description = spec.describe();
    info.input_nc = spec.input_nc;
    info.guide_nc = spec.guide_nc;
    info.output_nc = spec.output_nc;
    for (const auto& kv : normalize_keys(sd))
        info.parameters += kv.second.numel();
    for (Task t : {Task::Pose, Task::Texture, Task::Depth}) {
        const Channels c = task_channels(t);
        if (c.input == spec.input_nc && c.guide == spec.guide_nc && c.output == spec.output_nc) {
            info.task_known = true;
            info.task = t;
        }
    }
    read_card(info);
    return info;
}

struct LiveModel::State {
    Generator net;
    ModelInfo info;
    Task task = Task::Pose;
    c10::Device device{c10::kCPU};
    bool low_memory = false; // of the last request
};

LiveModel::LiveModel() : d_(std::make_unique<State>()) {}
LiveModel::~LiveModel() = default;

void LiveModel::load(const std::string& checkpoint, Task task)
{
    LoadedGenerator loaded = load_generator(checkpoint);
    const ArchSpec& spec = loaded.net->spec();
    const Channels want = task_channels(task);
    if (spec.input_nc != want.input || spec.guide_nc != want.guide || spec.output_nc != want.output) {
        std::string fits;
        for (Task t : {Task::Pose, Task::Texture, Task::Depth}) {
            const Channels c = task_channels(t);
            if (c.input == spec.input_nc && c.guide == spec.guide_nc && c.output == spec.output_nc)
                fits = std::string(" It is a model for the ") + task_name(t) + " task: switch the task first.";
        }
        throw Error(checkpoint + ": the model takes " + std::to_string(spec.input_nc) + " input and " +
                    std::to_string(spec.guide_nc) + " guide channels and makes " + std::to_string(spec.output_nc) +
                    "; the " + task_name(task) + " task has " + std::to_string(want.input) + ", " +
                    std::to_string(want.guide) + " and " + std::to_string(want.output) + "." +
                    (fits.empty() ? " It fits none of the tasks." : fits));
    }
    loaded.net->to(d_->device);
    loaded.net->eval();
    ModelInfo info;
    info.path = checkpoint;
    info.description = spec.describe();
    info.input_nc = spec.input_nc;
    info.guide_nc = spec.guide_nc;
    info.output_nc = spec.output_nc;
    info.parameters = loaded.params;
    info.task_known = true;
    info.task = task;
    read_card(info);
    d_->net = loaded.net;
    d_->info = info;
    d_->task = task;
}

bool LiveModel::loaded() const { return static_cast<bool>(d_->net); }
const ModelInfo& LiveModel::info() const { return d_->info; }

std::string LiveModel::set_device(const std::string& device, int threads)
{
    const c10::Device dev = resolve_device(device);
    bft::set_threads(threads);
    if (d_->net)
        d_->net->to(dev);
    d_->device = dev;
    return device_description();
}

std::string LiveModel::device_description() const { return bft::device_description(d_->device); }
bool LiveModel::bf16_available() const { return bf16_speed(d_->device).faster; }

int64_t LiveModel::derived_weight_bytes() const
{
    return onednn::packed_weights().bytes + (d_->net ? d_->net->derived_weight_bytes() : 0);
}

Result LiveModel::run(const Request& rq, const std::atomic<bool>* cancel)
{
    if (!d_->net)
        throw Error("no model is loaded");
    if (rq.task != d_->task)
        throw Error(std::string("the loaded model is for the ") + task_name(d_->task) + " task, not " + task_name(rq.task));
    if (rq.width < 1 || rq.height < 1)
        throw Error("nothing to translate: the image is empty");
    const auto t0 = std::chrono::steady_clock::now();
    const int w = rq.width, h = rq.height;
    at::Tensor input, guide, guide_view;
    switch (rq.task) {
    case Task::Pose: {
        input = resize_tensor(rgb_unit(rq.source), w, h, false);
        // Keypoint maps as the datasets make them (dataset.cpp): 1 on a disc, 0 elsewhere.
        guide = pose::keypoint_maps(to_pose(rq.skeleton), h, w);
        std::vector<uint8_t> canvas(static_cast<size_t>(w) * h * 3, 0);
        pose::draw_skeleton(canvas.data(), w, h, to_pose(rq.skeleton), std::max(1, w / 64));
        guide_view = at::from_blob(canvas.data(), {h, w, 3}, at::kByte).permute({2, 0, 1}).to(at::kFloat).div(127.5).sub(1.0);
        break;
    }
    case Task::Texture: {
        input = resize_tensor(to_tensor(rq.sketch), w, h, false);
        std::vector<texture::Patch> patches;
        for (const TexturePatch& p : rq.patches)
            patches.push_back({texture::rgb_unit_to_lab_unit(rgb_unit(p.texture)), p.x, p.y});
        guide = texture::patch_guide(patches, h, w);
        // For people: the sketch with the patches' colours where placed.
        at::Tensor mask = guide.slice(0, 3, 4).gt(0);
        at::Tensor sketch_rgb = texture::lab_unit_to_rgb_unit(at::cat({input, at::zeros({2, h, w})}, 0));
        guide_view = at::where(mask, texture::lab_unit_to_rgb_unit(guide.slice(0, 0, 3)), sketch_rgb);
        break;
    }
    case Task::Depth: {
        guide = resize_tensor(rgb_unit(rq.source), w, h, false);
        at::Tensor low = depth::fill_holes(to_tensor(rq.low_depth));
        at::Tensor up = at::upsample_bicubic2d(low.unsqueeze(0), {h, w}, false).squeeze(0);
        input = depth::to_unit(up, {rq.range.near_m, rq.range.far_m});
        guide_view = guide;
        break;
    }
    }
    TranslateOptions opt;
    opt.capture_film = rq.capture_film;
    opt.precision = rq.bf16 && bf16_supported(d_->device) ? Precision::BF16 : Precision::FP32;
    opt.cancel = cancel;
    opt.winograd = !rq.low_memory;
    opt.amx = rq.fp32_high;
    if (rq.low_memory && !d_->low_memory) {
        // The Winograd kernels (oneDNN's packed ones, or winograd.h's) go; the direct path's are
        // made again as the forward needs them.
        onednn::release_packed_weights();
        d_->net->release_derived_weights();
    }
    d_->low_memory = rq.low_memory;
    Result out;
    out.seq = rq.seq;
    out.bf16 = opt.precision == Precision::BF16;
    Translation tr = translate(*d_->net, input, guide, d_->device, opt);
    if (cancel && cancel->load()) {
        out.cancelled = true;
        return out;
    }
    at::Tensor y = tr.output[0];
    switch (rq.task) {
    case Task::Pose: out.image = to_rgb8(y); out.raw = to_raster(y); break;
    case Task::Texture:
        out.image = to_rgb8(texture::lab_unit_to_rgb_unit(y));
        out.raw = to_raster(y);
        break;
    case Task::Depth:
        out.image = to_rgb8(y);
        out.raw = to_raster(depth::to_metres(y, {rq.range.near_m, rq.range.far_m}));
        break;
    }
    out.guide_preview = to_rgb8(guide_view);
    for (auto& kv : tr.film)
        out.film[kv.first] = to_raster(kv.second);
    out.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

std::vector<std::string> devices()
{
    std::vector<std::string> out{"cpu"};
    for (int i = 0; i < cuda_device_count(); ++i)
        out.push_back("cuda:" + std::to_string(i));
    return out;
}

int hardware_threads() { return bft::hardware_threads(); }

PoseFile read_pose_json(const std::string& path)
{
    const pose::PoseFile f = pose::read_openpose_json(path);
    PoseFile out;
    out.canvas_width = f.canvas_width;
    out.canvas_height = f.canvas_height;
    for (const pose::Pose& p : f.people)
        out.people.push_back(from_pose(p));
    return out;
}

void write_pose_json(const std::string& path, const Skeleton& skeleton, int width, int height)
{
    pose::PoseFile f;
    f.people.push_back(to_pose(skeleton));
    f.canvas_width = width;
    f.canvas_height = height;
    pose::write_openpose_json(path, f);
}

Raster read_depth(const std::string& path, float units_per_metre)
{
    depth::FileOptions o;
    o.units_per_metre = units_per_metre;
    return to_raster(depth::read_depth(path, o));
}
Rgb8 rgb8_from_unit(const Raster& unit) { return to_rgb8(to_tensor(unit)); }
Raster unit_from_rgb8(const Rgb8& image) { return to_raster(rgb_unit(image)); }
void write_depth(const std::string& path, const Raster& metres) { depth::write_depth(path, to_tensor(metres)); }
Raster read_npy(const std::string& path)
{
    at::Tensor t = bft::read_npy(path);
    if (!at::isFloatingType(t.scalar_type()))
        t = t.to(at::kFloat);
    try {
        return to_raster(t);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
}
void write_npy(const std::string& path, const Raster& raster) { bft::write_npy(path, to_tensor(raster)); }
Raster read_image(const std::string& path, int channels) { return to_raster(bft::read_image(path, channels)); }
void write_image(const std::string& path, const Raster& unit, int bit_depth) { bft::write_image(path, to_tensor(unit), bit_depth); }

Raster principal_components(const Raster& maps, int k)
{
    const int64_t c = maps.channels, n = static_cast<int64_t>(maps.height) * maps.width;
    if (c < 1 || n < 1 || k < 1 || static_cast<int64_t>(maps.values.size()) != c * n)
        throw Error("principal components of an empty or inconsistent map");
    const at::Tensor x = at::from_blob(const_cast<float*>(maps.values.data()), {c, n}, at::kFloat);
    // LAPACK may answer NaN with NaN eigenvectors rather than an error.
    if (!at::isfinite(x).all().item<bool>())
        throw Error("the map has NaN or infinite values");
    Raster out;
    try {
        const at::Tensor centred = (x - x.mean(1, true)).contiguous(); // ATen's sums are pairwise: float will do
        // LibTorch's BLAS, not oneDNN's GEMM: this runs on the GUI thread, which takes signals, and
        // oneDNN's JIT GEMM must not be interrupted by one (runtime.h).
        const at::Tensor cov = at::mm(centred, centred.t()).to(at::kDouble) / static_cast<double>(n);
        const int64_t m = std::min<int64_t>(k, c);
        // eigh: ascending eigenvalues; the largest m, largest first.
        at::Tensor v = std::get<1>(at::linalg_eigh(cov)).narrow(1, c - m, m).flip({1});
        v = (v * at::where(v.sum(0) < 0, -1.0, 1.0)).t().to(at::kFloat).contiguous(); // m x c
        out.channels = static_cast<int>(m);
        out.height = maps.height;
        out.width = maps.width;
        out.values.resize(static_cast<size_t>(m * n));
        at::Tensor projected = at::from_blob(out.values.data(), {m, n}, at::kFloat);
        at::mm_out(projected, v, centred);
    } catch (const c10::Error& e) {
        throw Error(std::string("principal components: ") + e.what_without_backtrace());
    }
    return out;
}

Raster sketch_from(const Rgb8& image) { return to_raster(texture::sketch_from_image(rgb_unit(image).add(1.0).div_(2.0))); }

Raster read_sketch(const std::string& path)
{
    const at::Tensor grey01 = (bft::read_image(path, 1) + 1) / 2;
    return to_raster(texture::lab_to_unit(texture::rgb_to_lab(grey01.expand({3, -1, -1}).contiguous())).narrow(0, 0, 1));
}

Raster area_downsample(const Raster& metres, int factor)
{
    at::Tensor m = to_tensor(metres);
    at::Tensor valid = m.gt(0).to(at::kFloat);
    const int h = std::max(1, metres.height / factor), w = std::max(1, metres.width / factor);
    at::Tensor sum = at::adaptive_avg_pool2d(m.unsqueeze(0), {h, w}).squeeze(0);
    at::Tensor count = at::adaptive_avg_pool2d(valid.unsqueeze(0), {h, w}).squeeze(0);
    return to_raster(at::where(count.gt(0), sum / count.clamp_min(1e-6), at::zeros_like(sum)));
}

Raster to_low_resolution_input(const Raster& metres, int factor)
{
    return to_raster(depth::low_resolution_input(to_tensor(metres), factor));
}

Raster resize(const Raster& raster, int width, int height)
{
    return to_raster(resize_tensor(to_tensor(raster), width, height, false));
}

} // namespace bft::live
