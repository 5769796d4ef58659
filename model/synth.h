// Synthetic worlds: procedural paired data for each task, so that the project can train and
// demonstrate itself without downloading anything. Deterministic for a seed (same seed, same
// bytes), written in the dataset format of dataset.h.
//
// - pose: an articulated 2-D figure (head with hair and face, torso, limbs as shaded capsules;
//   skin, clothing colours and patterns vary per sample) drawn in pose A and pose B with plausible
//   joint angles; sample = image in A, keypoints of B (OpenPose JSON), image in B.
// - depth: a room (floor, walls with posters and stripes) with boxes, spheres and cylinders seen
//   by a pinhole camera, ray-cast to z-depth and to a shaded, textured RGB image, so that colour
//   edges include depth edges but also texture edges that are not depth edges; sample = low-res
//   depth (dataset factor), RGB guide, full depth.
// - texture: bag- or shoe-like silhouettes with inner seams, filled with stripes, checks, dots,
//   noise, gradients or texture photos; sample = sketch (outline and seams), a patch of the
//   object's own texture with its mask, the object in Lab.
#pragma once

#include "dataset.h"

#include <functional>
#include <string>
#include <vector>

namespace bft::synth {

struct Options {
    std::string task;            // pose, depth, texture
    int count = 100;
    int size = 256;
    uint64_t seed = 0;
    int depth_factor = 8;        // 4, 8 or 16
    std::string textures_dir;    // texture task: photos to fill objects with (optional)
    double val_fraction = 0.1;   // share of samples in val/
    int threads = 0;             // 0: all cores
};

// One sample (tensors in [-1, 1], the task's channels); `guide_pose` gets pose B for the pose task.
Sample make_sample(const Options& options, int index, pose::Pose* guide_pose = nullptr,
                   const std::vector<at::Tensor>* texture_photos = nullptr);

// Writes options.count samples and dataset.json under out_dir. progress(done, total) may cancel.
void write_dataset(const Options& options, const std::string& out_dir, const std::function<bool(int, int)>& progress = {});

// A sheet of samples, one row each: input | guide (as a picture) | [output |] target, written as
// PNG; depth is colour-mapped, Lab shown as RGB, pose guides drawn as skeletons.
void write_sample_sheet(const DatasetInfo& info, const std::vector<Sample>& samples,
                        const std::vector<at::Tensor>* outputs, const std::string& png_path);
// A contact sheet of a dataset's first `count` samples of `split`.
void write_contact_sheet(const std::string& dataset_dir, const std::string& split, int count, const std::string& png_path);

} // namespace bft::synth
