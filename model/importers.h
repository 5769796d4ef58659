// Importers from the layouts the paper's datasets come in to our dataset format (dataset.h).
// Every importer writes dataset.json first, then one sample at a time (each file atomically), so
// it can be stopped and started again: samples already complete are kept, not redone. Nothing is
// dropped silently: every skipped row or broken file is in the report with the reason.
#pragma once

#include "dataset.h"

#include <functional>
#include <string>
#include <vector>

namespace bft::importers {

struct Report {
    std::vector<std::pair<std::string, int>> counts; // samples per split in the destination
    int written = 0, kept = 0;                       // this run wrote / found complete already
    std::vector<DatasetProblem> skipped;             // what was not imported, and why
    std::vector<DatasetProblem> notes;               // imported, with something worth knowing
    std::string text() const;
};

struct Progress {
    // done, total; return false to stop (the import can be resumed).
    std::function<bool(int, int)> callback;
    bool operator()(int done, int total) const { return !callback || callback(done, total); }
};

// DeepFashion / Market-1501 pose pairs as Pose-Transfer, PG2 and pose-gan distribute them: under
// `src`, the image folders train/ and test/, `*-annotation-{train,test}.csv` (name:keypoints_y:
// keypoints_x, COCO-18, y before x, -1 = missing) and `*-pairs-{train,test}.csv` (from,to).
// Each pair becomes a sample: input = `from` image, guide = `to` keypoints (OpenPose JSON),
// target = `to` image; train -> train, test -> val.
Report import_pose_pairs(const std::string& src, const std::string& dst, const Progress& progress = {});

// NYU Depth v2, `nyu_depth_v2_labeled.mat` (MATLAB v7.3 = HDF5; `images` 3 x 640 x 480 and
// `depths` 640 x 480 in metres per frame, stored transposed), read with libhdf5. The first
// `train_count` frames go to train/, the rest to val/, as the paper's depth loader splits them
// (1000 / 449); or, with `splits_file` (the official `splits.mat`: `trainNdxs`, `testNdxs`,
// 1-based), the official 795 / 654. Guide: the RGB; target: the depth (16-bit PNG, mm); input: the
// depth reduced by `factor` (area) and brought back with bicubic interpolation, as the task's
// low-resolution input - or, with `inputs_dir`, the authors' own precomputed inputs, the files
// their depth loader reads: `input_<factor>x_train.mat` (v7.3) and `input_<factor>x_test.mat` (v5),
// H x W x 1 x N in [0, 1] = [0, `inputs_scale_m`] metres, frame k of each = k-th frame of its split.
// MATLAB v5 files are read with libmatio.
struct NyuOptions {
    int factor = 8;          // 4, 8 or 16
    int train_count = 1000;
    std::string splits_file; // splits.mat: the official split instead of the first train_count
    std::string inputs_dir;  // the authors' input_<F>x_{train,test}.mat instead of our inputs
    float inputs_scale_m = 10; // metres that 1.0 stands for in those files
};
Report import_nyu(const std::string& mat_file, const std::string& dst, const NyuOptions& options = {},
                  const Progress& progress = {});

// TextureGAN folders, the layout the authors' texture loader reads: `src/{train,val}_{img,skg,seg}/
// <class>/<name>.jpg` (photo, sketch, object mask), matched by class and name. Each image is scaled
// so its shorter side is `size` and centre-cropped (the loader's test transform); the guide gets
// one square patch of the photo, 40-60 px at 128 (scaled with `size`), centred on a random pixel
// of the mask away from the border, as the loader draws them (deterministic for `seed`).
struct TextureGanOptions {
    int size = 128;
    uint64_t seed = 0;
};
Report import_texturegan(const std::string& src, const std::string& dst, const TextureGanOptions& options = {},
                         const Progress& progress = {});

// pix2pix aligned pairs: `src/{train,val,test}/<name>.<ext>`, each image A | B side by side
// (test -> val). A is the input and B the target (or the other way with b_to_a). Guides: the file
// with the same name in `guides/<split>/` or `guides/` (pose: OpenPose JSON, texture: RGBA PNG);
// for texture without guides, one patch of B is drawn inside B's object (what is not its white
// background), as for TextureGAN.
struct Pix2PixOptions {
    std::string task = "texture"; // pose or texture
    std::string guides;           // folder; required for pose
    bool b_to_a = false;
    uint64_t seed = 0;
};
Report import_pix2pix(const std::string& src, const std::string& dst, const Pix2PixOptions& options = {},
                      const Progress& progress = {});

// RGB-D frames from common recorders: `src/` holds a colour folder (color/, colour/, rgb/ or
// image/) and depth/ of 16-bit PNGs in 1/`depth_scale` metres (1000: millimetres; 5000: TUM RGB-D).
// Frames pair by name, or by time as TUM's associate.py does when they carry timestamps (TUM's
// rgb.txt and depth.txt, or times as names: nearest first, at most `max_time_difference` apart), or
// by order when the names differ but the counts agree (reported). A depth
// of 0 is "no reading": kept as a hole (dataset.json "holes": true), which training and metrics
// leave out, never learnt as zero. The last `val_fraction` of the frames (in order: video frames
// next to each other are near-copies) is the validation split. `size` > 0 scales the shorter side
// to it and centre-crops a square (depth by nearest neighbour, so holes stay holes).
struct RgbdOptions {
    float depth_scale = 1000;
    float far_m = 10;
    int factor = 8;
    int size = 0;
    double val_fraction = 0.1;
    double max_time_difference = 0.02; // seconds, when frames carry timestamps
};
Report import_rgbd(const std::string& src, const std::string& dst, const RgbdOptions& options = {},
                   const Progress& progress = {});

// Any of the above by its format name (pose-pairs, nyu, texturegan, pix2pix, rgbd), with the
// options of that format taken from `options`: the one door the CLI and the editor go through.
struct Options {
    NyuOptions nyu;
    TextureGanOptions texturegan;
    Pix2PixOptions pix2pix;
    RgbdOptions rgbd;
};
const std::vector<std::string>& formats();
Report import(const std::string& format, const std::string& src, const std::string& dst, const Options& options = {},
              const Progress& progress = {});

} // namespace bft::importers
