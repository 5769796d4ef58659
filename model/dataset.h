// The paired-data folder format of bFT Studio, its checker, and a loader with augmentation and
// background loading.
//
//   <root>/dataset.json
//   <root>/<split>/{input,guide,target}/<id>.<ext>      split: train, val (and test)
//
// dataset.json: {"format": "bft-dataset", "version": 1, "task": "pose"|"depth"|"texture",
//   "input_nc", "guide_nc", "output_nc", and per task:
//   "pose":  {"radius": 4, "inside": 1, "outside": 0}          keypoint-map style (pose.h)
//   "depth": {"units_per_metre": 1000, "near_m": 0, "far_m": 10, "factor": 8, "holes": false}
// Files by task (every file may instead be a .npy tensor, C x H x W in [-1, 1], taken as it is):
//   pose:    input RGB image, guide OpenPose JSON (rendered to keypoint maps on load), target RGB image
//   depth:   input 16-bit PNG (the low-resolution depth upsampled to full size), guide RGB image,
//            target 16-bit PNG; depths map to [-1, 1] through [near_m, far_m]
//   texture: input grey sketch, guide RGBA PNG (the texture patches where alpha > 0, converted to
//            Lab'; blank elsewhere; alpha is the mask), target RGB image (converted to Lab')
#pragma once

#include "pose.h"

#include <ATen/core/Tensor.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace bft {

struct DatasetInfo {
    std::string root;
    std::string task; // pose, depth, texture
    int input_nc = 0, guide_nc = 0, output_nc = 0;
    pose::MapStyle pose_style;
    float units_per_metre = 1000, near_m = 0, far_m = 10;
    // Depth targets with missing readings (0 in the file, as RGB-D cameras write them): loaded as
    // NaN, and left out of every loss and metric instead of being learnt as a depth of zero.
    bool holes = false;
    int factor = 8;

    static DatasetInfo read(const std::string& root); // throws bft::Error naming dataset.json
    void write() const;                               // atomic
    static DatasetInfo for_task(const std::string& task, const std::string& root);
};

struct Sample {
    std::string id;
    at::Tensor input, guide, target; // C x H x W float in [-1, 1]
};

// Ids present in any of the split's three folders, sorted.
std::vector<std::string> sample_ids(const DatasetInfo& info, const std::string& split);
// Loads one sample; throws bft::Error naming the file at fault.
Sample load_sample(const DatasetInfo& info, const std::string& split, const std::string& id);
// Writes one sample in the task's file types (images, JSON) from tensors (pose guides are given
// as keypoints, since maps do not go back to JSON losslessly).
void save_sample(const DatasetInfo& info, const std::string& split, const std::string& id, const at::Tensor& input,
                 const at::Tensor& guide, const at::Tensor& target, const pose::Pose* guide_pose = nullptr);

// Horizontal flip of a sample; for pose, the keypoint maps also trade left and right.
Sample flipped(const Sample& s, const std::string& task);

struct DatasetProblem {
    std::string file; // path, or the folder for problems of a whole split
    std::string message;
};
struct DatasetReport {
    std::vector<std::pair<std::string, int>> split_counts; // complete samples per split
    std::vector<DatasetProblem> problems;
    bool ok() const { return problems.empty(); }
    std::string text() const;
    std::string json() const;
};
// Reads every file of every split and reports each problem by file: a missing partner, an
// unreadable file, wrong channels, sizes that differ within a sample, values out of range.
// `progress(done, total)` may cancel by returning false.
DatasetReport check_dataset(const std::string& root, const std::function<bool(int, int)>& progress = {});

// Batches of shuffled samples, loaded and augmented by background threads.
class DataLoader {
public:
    struct Options {
        int batch = 1;
        bool shuffle = true, flip = true;
        int threads = 2;
        uint64_t seed = 0;
        int prefetch = 4;      // batches
        size_t first_batch = 0; // resume: batch k of the endless sequence comes first
        // Data parallel: `batch` is the global batch; this rank loads the positions r, r + world, ...
        // of each (DistributedSampler's split), so that the ranks' batches together are what one
        // process would load, and no two ranks load the same sample.
        int rank = 0, world = 1;
    };
    DataLoader(DatasetInfo info, std::string split, Options options);
    ~DataLoader();
    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;

    size_t size() const { return ids_.size(); }
    // input, guide, target stacked: N x C x H x W (N = batch / world). Epochs follow each other;
    // throws the first load error (bft::Error naming the file).
    std::vector<at::Tensor> next();

private:
    void work();

    DatasetInfo info_;
    std::string split_;
    Options options_;
    std::vector<std::string> ids_;
    std::mutex mutex_;
    std::condition_variable ready_, space_;
    std::map<size_t, std::vector<at::Tensor>> done_; // finished batches by index, handed out in order
    std::string error_;
    size_t next_batch_ = 0;   // next batch index a worker takes, across epochs
    size_t next_deliver_ = 0; // next batch index next() returns
    std::vector<std::thread> workers_;
    std::atomic<bool> stop_{false};
};

} // namespace bft
