// The fine-tuning panel's door into training (plain C++ types only, like live.h): checking a
// dataset, making a synthetic one, starting, resuming and running a training job with progress,
// preview sheets and cancellation, and reading a run folder back (log, checkpoints, previews) so
// that a run can be reopened after the app was closed or killed.
//
// A run folder (trainer.h) holds config.json, log.jsonl, checkpoints/step_NNNNNNN/, best_net_G.pth;
// the panel adds studio.json (its preview interval) and samples/step_NNNNNNN.png (validation sheets:
// input | guide | output | target).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bft::live {

struct DatasetSummary {
    std::string task;                                       // from dataset.json
    int input_nc = 0, guide_nc = 0, output_nc = 0;
    std::vector<std::pair<std::string, int>> counts;        // complete samples per split
    std::vector<std::pair<std::string, std::string>> problems; // file, what is wrong
    bool ok() const { return problems.empty(); }
};
// Every file of every split; `progress(done, total)` may cancel by returning false. Throws
// bft::Error when the folder is not a dataset at all (no readable dataset.json).
DatasetSummary check_dataset(const std::string& dir, const std::function<bool(int, int)>& progress = {});
// `bft synth` as a function: a deterministic synthetic dataset to try things on.
void make_synthetic_dataset(const std::string& task, int count, int size, uint64_t seed, const std::string& dir,
                            const std::function<bool(int, int)>& progress = {});

// Importing a dataset from the layout it is distributed in (importers.h): "pose-pairs", "nyu",
// "texturegan", "pix2pix" or "rgbd".
struct ImportRequest {
    std::string format, source, destination;
    int factor = 8;            // nyu, rgbd
    std::string splits_file, inputs_dir; // nyu: the official split; the authors' inputs
    float depth_scale = 1000;  // rgbd
    std::string task = "texture", guides; // pix2pix
};
struct ImportSummary {
    std::vector<std::pair<std::string, int>> counts;
    int written = 0, kept = 0;
    std::vector<std::pair<std::string, std::string>> skipped; // file, why
    bool stopped = false;
    std::string text;
};
// progress(done, total) may stop by returning false; running it again resumes.
ImportSummary import_dataset(const ImportRequest& request, const std::function<bool(int, int)>& progress = {});

struct TrainRequest {
    std::string data_dir, run_dir;
    std::string from;        // a checkpoint to fine-tune; empty: from scratch
    bool one_way = false;    // from scratch: the uFT (one-way FiLM) generator instead of bFT
    int ngf = 32;            // from scratch
    int steps = 1000, batch = 4;
    double lr = 2e-4, lambda_l1 = 100;
    bool gan = true, flip = true;
    int val_every = 100, preview_every = 100, checkpoint_every = 200;
    uint64_t seed = 0;
    std::string device = "cpu";
    // Data parallel: more than one runs `bft train --nproc N` (bft_program) as its own processes,
    // one rank per GPU when the device is CUDA; the job follows rank 0's log as one run.
    int processes = 1;
    std::string bft_program;
};

struct TrainTick {
    int step = 0, total = 0;
    double g_l1 = 0, g_gan = 0, d_real = 0, d_fake = 0;
    double steps_per_s = 0, eta_s = 0;
    double val_l1 = -1; // when a validation ran at this step
};

struct RunCheckpoint {
    std::string path; // the generator .pth
    int step = 0;
    double val_l1 = -1;
};

struct RunInfo {
    std::string run_dir, data_dir, task, arch;
    int steps = 0, step_reached = 0, preview_every = 0;
    bool finished = false;
    std::vector<TrainTick> log;
    std::vector<RunCheckpoint> checkpoints; // oldest first; best_net_G.pth last when present (step = its step)
    std::vector<std::pair<int, std::string>> previews; // step, PNG path
};
// Reads a run folder; throws bft::Error naming the file when it is not one.
RunInfo read_run(const std::string& run_dir);

class TrainingJob {
public:
    static std::unique_ptr<TrainingJob> start(const TrainRequest& request); // throws bft::Error
    // `how` gives the device, processes and program to go on with (the rest is the run's own).
    static std::unique_ptr<TrainingJob> resume(const std::string& run_dir, const TrainRequest& how = {});
    ~TrainingJob();

    // Trains until the last step or until `stop` (then the state is checkpointed, so resume()
    // continues exactly). Blocking: call it from a worker thread. Throws bft::Error on failures
    // mid-run, after checkpointing what was trained where it could.
    int run(const std::function<void(const TrainTick&)>& on_tick,
            const std::function<void(const std::string& png, int step)>& on_preview, const std::atomic<bool>* stop);

    std::string run_dir() const;
    int step() const;
    int total() const;

private:
    TrainingJob();
    int run_processes(const std::function<void(const TrainTick&)>& on_tick,
                      const std::function<void(const std::string&, int)>& on_preview, const std::atomic<bool>* stop);
    struct State;
    std::unique_ptr<State> d_;
};

} // namespace bft::live
