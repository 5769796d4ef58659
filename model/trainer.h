// The training loop: a run folder per run (config.json, log.jsonl of losses, checkpoints/),
// the paper's learning-rate schedule (constant, then linear decay to zero), background data
// loading with flips, checkpoints every N steps and at the end (the generator as a .pth that the
// authors' code and ours load; optimiser and discriminator state beside it), the last K kept,
// validation L1 and the best checkpoint kept, exact resumption, progress and cancellation.
#pragma once

#include "arch.h"
#include "training.h"

#include <atomic>
#include <functional>
#include <string>

namespace bft {

struct TrainOptions {
    std::string data_dir;           // a dataset folder (dataset.h)
    std::string out_dir;            // the run folder
    std::string from;               // a checkpoint to fine-tune; empty: from scratch with `arch`
    ArchSpec arch;                  // from scratch: the generator (channels must fit the dataset)
    int steps = 1000, batch = 4;
    int decay_from = -1;            // step where the linear decay starts (-1: half way)
    TrainConfig step;               // loss and optimiser settings
    int checkpoint_every = 500, keep_last = 3, val_every = 500, val_samples = 16;
    uint64_t seed = 0;
    int loader_threads = 2;
    bool flip = true;               // augmentation: random horizontal flips (pose keypoints swap sides)
};

struct TrainProgress {
    int step = 0, total = 0;
    StepLosses losses;
    double steps_per_s = 0, eta_s = 0, lr = 0;
    double val_l1 = -1; // when a validation ran at this step
};

class Trainer {
public:
    explicit Trainer(TrainOptions options);           // a new run in options.out_dir
    static Trainer resume(const std::string& run_dir); // continue where the last checkpoint left off

    // Trains until options.steps or until `cancel`; either way the last state is checkpointed.
    // Returns the step reached. An error mid-run (a bad file, a full disk, NaN losses, out of
    // memory) checkpoints the last good state where it can and throws bft::Error saying so.
    int run(const std::function<void(const TrainProgress&)>& progress, const std::atomic<bool>* cancel = nullptr);

    const TrainOptions& options() const { return options_; }
    int step() const { return step_; }
    std::string last_checkpoint() const; // path of the newest generator .pth, or empty
    // The generator being trained (for previews between steps, from the thread that runs it).
    Generator generator() const;

private:
    Trainer() = default;
    void run_steps(const std::function<void(const TrainProgress&)>& progress, const std::atomic<bool>* cancel);
    void checkpoint(bool final);
    double validate();
    void write_config() const;
    // A fresh run's starting point: the reference's N(0, 0.02) init for D (and for G unless it was
    // loaded), seeded from the options.
    void init_fresh(Generator& g, bool init_generator);

    TrainOptions options_;
    std::unique_ptr<TrainStep> train_;
    int step_ = 0;
    double best_val_ = -1;
    bool poisoned_ = false; // the weights took a NaN step: do not checkpoint them
};

} // namespace bft
