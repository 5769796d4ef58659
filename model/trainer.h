// The training loop: a run folder per run (config.json, log.jsonl of losses, checkpoints/),
// the paper's learning-rate schedule (constant, then linear decay to zero), background data
// loading with flips, checkpoints every N steps and at the end (the generator as a .pth that the
// authors' code and ours load; optimiser and discriminator state beside it), the last K kept,
// validation L1 and the best checkpoint kept, exact resumption, progress and cancellation.
// Data parallel over a dist::Group (distributed.h): each rank trains on its shard of every global
// batch with averaged gradients; only rank 0 writes the run folder; a run resumes on any world size.
#pragma once

#include "arch.h"
#include "training.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace bft {

namespace dist {
class Group;
} // namespace dist

struct TrainOptions {
    std::string data_dir;           // a dataset folder (dataset.h)
    std::string out_dir;            // the run folder
    std::string from;               // a checkpoint to fine-tune; empty: from scratch with `arch`
    ArchSpec arch;                  // from scratch: the generator (channels must fit the dataset)
    int steps = 1000;
    int batch = 4;                  // the global batch: split evenly over the ranks when data parallel
    int accumulate = 1;             // each rank's share in this many micro-batches (gradients add up)
    std::string device = "cpu";     // cpu, cuda, cuda:N
    int decay_from = -1;            // step where the linear decay starts (-1: half way)
    TrainConfig step;               // loss and optimiser settings (step.lr: the rate in force)
    // How the rate in force came from the rate asked for (lr_asked, meant for a batch of
    // lr_base_batch): "fixed" keeps it, "linear" scales it by batch / lr_base_batch, "sqrt" by the
    // square root of that (Goyal et al. 2017; Krizhevsky 2014). Applied when the run is made.
    std::string lr_rule = "fixed";
    double lr_asked = 0;
    int lr_base_batch = 0;          // 0: the global batch
    int checkpoint_every = 500, keep_last = 3, val_every = 500, val_samples = 16;
    // Every N steps (0: never) a sheet of the first 4 validation samples, input | guide | output |
    // target, as samples/step_NNNNNNN.png in the run folder.
    int preview_every = 0;
    uint64_t seed = 0;
    int loader_threads = 2;
    bool flip = true;               // augmentation: random horizontal flips (pose keypoints swap sides)
};

struct TrainProgress {
    int step = 0, total = 0;
    StepLosses losses;
    double steps_per_s = 0, eta_s = 0, lr = 0;
    double val_l1 = -1; // when a validation ran at this step
    std::string preview_png; // when a sample sheet was written at this step
    int world = 1;      // ranks training together
    double allreduce_ms = 0, allreduce_exposed_ms = 0; // this step's gradient all-reduces (data parallel)
};

class Trainer {
public:
    // A new run in options.out_dir; with a group, every rank of it calls this together.
    explicit Trainer(TrainOptions options, std::shared_ptr<dist::Group> group = nullptr);
    // Continue where the last checkpoint left off, on any number of ranks (the global batch stays).
    // `device` and `accumulate` (when not empty / 0) replace the run's own.
    static Trainer resume(const std::string& run_dir, std::shared_ptr<dist::Group> group = nullptr,
                          const std::string& device = "", int accumulate = 0);

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
    // Data parallel: the shared set-up once every rank has its generator.
    void join_group();
    bool writer() const; // rank 0 (or alone): the one that writes the run folder
    int rank() const;
    int world() const;

    TrainOptions options_;
    std::shared_ptr<dist::Group> group_;
    std::unique_ptr<TrainStep> train_;
    int step_ = 0;
    double best_val_ = -1;
    bool poisoned_ = false; // the weights took a NaN step: do not checkpoint them
};

} // namespace bft
