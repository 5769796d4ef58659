// The editor's door into the model library: plain C++ types only (no LibTorch, no Qt, no OpenCV
// in this header), so the widgets compile fast and never touch tensors. A LiveModel owns one
// generator and turns a guide description (keypoints, low-resolution depth, texture patches) into
// the network's tensors, runs it with cancellation, and hands back images and gamma/beta maps.
// Also the file helpers the editor needs (OpenPose JSON, depth maps, .npy, sketches).
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bft::live {

enum class Task { Pose, Texture, Depth };
const char* task_name(Task task); // "pose", "texture", "depth"
bool task_from_name(const std::string& name, Task* task);

// Planar float image: channels x height x width, row-major.
struct Raster {
    int channels = 0, height = 0, width = 0;
    std::vector<float> values;
    bool empty() const { return values.empty(); }
    float at(int c, int y, int x) const { return values[(static_cast<size_t>(c) * height + y) * width + x]; }
};

// 8-bit RGB, interleaved, rows tightly packed (width * 3 bytes).
struct Rgb8 {
    int width = 0, height = 0;
    std::vector<unsigned char> bytes;
    bool empty() const { return bytes.empty(); }
};

constexpr int kKeypoints = 18;
struct Keypoint {
    float x = 0, y = 0; // pixels of the image the request is made for
    bool present = false;
};
using Skeleton = std::array<Keypoint, kKeypoints>;
const char* keypoint_name(int k);
int mirrored_keypoint(int k);
struct Limb {
    int from, to;
    unsigned char r, g, b;
};
const std::vector<Limb>& limbs(); // OpenPose's COCO-18 limbs and colours
// A standing figure filling most of a width x height image.
Skeleton default_skeleton(int width, int height);

struct TexturePatch {
    Rgb8 texture;   // the patch's pixels, at request scale
    int x = 0, y = 0;
};

struct DepthRange {
    float near_m = 0.0f, far_m = 10.0f; // [-1, 1] of the network
};

struct Request {
    long long seq = 0;
    Task task = Task::Pose;
    int width = 0, height = 0;      // the size the network runs at
    bool bf16 = false;              // bf16, where the device has it (the editor asks where it is also faster)
    // Every convolution direct: no Winograd weights kept (4x the 3x3 layers' weights, about 500 MiB
    // for a full-size ResNet), at up to 3x the time of those layers. Weights kept for earlier
    // requests are let go when a request first asks for this.
    bool low_memory = false;
    bool fp32_high = false;         // fp32 with ForwardOptions::amx (bft translate --fp32-math high)
    bool capture_film = false;
    Rgb8 source;                    // pose: the person; depth: the RGB guide (width x height)
    Skeleton skeleton{};            // pose
    Raster sketch;                  // texture: 1 x H x W, L' in [-1, 1] (white 1)
    std::vector<TexturePatch> patches; // texture
    Raster low_depth;               // depth: 1 x h x w metres (0 = no reading), any lower resolution
    DepthRange range;               // depth
};

struct Result {
    long long seq = 0;
    Rgb8 image;                     // the output for display (depth: grey, near dark)
    Raster raw;                     // the output as the network gives it, [-1, 1] (depth: metres)
    Rgb8 guide_preview;             // what the network was given as guide, drawn for people
    std::map<std::string, Raster> film; // "gamma_g2i_L1", ... when captured
    double milliseconds = 0;        // the forward and its conversions
    bool bf16 = false;              // whether the preview precision was used
    bool cancelled = false;
};

struct ModelInfo {
    std::string path;
    std::string description;        // one line: architecture and sizes
    int input_nc = 0, guide_nc = 0, output_nc = 0;
    long long parameters = 0;
    bool task_known = false;
    Task task = Task::Pose;         // the task its channel counts fit
    int native_size = 0;            // from a model card (<name>.json beside the .pth), else 0
    std::string card_title;         // from the model card, else empty
};

// Reads the channels and architecture of a checkpoint without building the network (cheap).
// Throws bft::Error naming the file on anything wrong.
ModelInfo inspect(const std::string& checkpoint);

class LiveModel {
public:
    LiveModel();
    ~LiveModel();
    LiveModel(const LiveModel&) = delete;
    LiveModel& operator=(const LiveModel&) = delete;

    // Loads a checkpoint for `task`; throws bft::Error (file problems, or channels that do not fit
    // the task: "...takes 1 input channel, the pose task gives 3"). Keeps the previous model then.
    void load(const std::string& checkpoint, Task task);
    bool loaded() const;
    const ModelInfo& info() const;
    // "cpu", "cuda", "cuda:N"; throws when absent. Returns what now runs, for people.
    std::string set_device(const std::string& device, int threads);
    std::string device_description() const;
    // Whether bf16 previews pay here: the device runs bf16, and faster than fp32 (measured once).
    bool bf16_available() const;
    // Bytes of weights derived for speed (Winograd-domain, fused, ...) kept now: this model's, plus
    // oneDNN's packed copies, which are process-wide (other models' and training's count too).
    int64_t derived_weight_bytes() const;

    // Runs one request; `cancel` stops between layers (the result then says cancelled).
    // Throws bft::Error on bad requests (sizes, channels).
    Result run(const Request& request, const std::atomic<bool>* cancel = nullptr);

private:
    struct State;
    std::unique_ptr<State> d_;
};

std::vector<std::string> devices(); // "cpu", then "cuda:0", ...
int hardware_threads();

// Files, each throwing bft::Error naming the file on problems.
struct PoseFile {
    std::vector<Skeleton> people;
    int canvas_width = 0, canvas_height = 0;
};
PoseFile read_pose_json(const std::string& path);
void write_pose_json(const std::string& path, const Skeleton& skeleton, int width, int height);
Raster read_depth(const std::string& path, float units_per_metre = 1000); // 1 x H x W metres, 0 = none
void write_depth(const std::string& path, const Raster& metres); // .png (16-bit mm) or .npy
Raster read_npy(const std::string& path);                     // any float array, as C x H x W (N=1)
void write_npy(const std::string& path, const Raster& raster);
Raster read_image(const std::string& path, int channels);     // [-1, 1]
void write_image(const std::string& path, const Raster& unit, int bit_depth = 8);
Raster sketch_from(const Rgb8& image);                        // 1 x H x W, L' (white 1)
Rgb8 rgb8_from_unit(const Raster& unit);                      // C x H x W in [-1, 1] (C = 1 or 3) -> 8-bit RGB
Raster unit_from_rgb8(const Rgb8& image);                     // 8-bit RGB -> 3 x H x W in [-1, 1]
// The first k principal components of a map's channels over its pixels, each pixel projected on
// them: k x H x W (fewer where the map has fewer channels). The covariance by one multithreaded
// GEMM and its eigenvectors by LAPACK: the viewer's per-pixel loops took about 100 ms on the GUI
// thread for an ngf-64 map at 256. Each component's sign: its weights sum to a positive number.
// Throws bft::Error on an empty map or NaN/infinite values. Safe on a thread that takes signals.
Raster principal_components(const Raster& maps, int k);
Raster read_sketch(const std::string& path);                  // a grey drawing as L', as datasets load it
Raster area_downsample(const Raster& metres, int factor);     // zero readings ignored
Raster to_low_resolution_input(const Raster& metres, int factor); // as the depth task's input
Raster resize(const Raster& raster, int width, int height);   // bilinear (area when shrinking)

} // namespace bft::live
