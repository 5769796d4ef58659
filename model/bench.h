// Forward-pass benchmarks of a generator: latency over repeated runs after warm-up (median and
// spread) and peak memory, as a report for people and as JSON.
#pragma once

#include "generator.h"

#include <c10/core/Device.h>

#include <functional>
#include <string>
#include <vector>

namespace bft {

struct BenchConfig {
    int height = 256, width = 256, batch = 1;
    // At least one warm-up forward always runs. Five: bf16 forwards on the AMX Xeon ran about 25%
    // slower in their first four (texture at 128: 9.5, 8.9, 8.1, 7.5 ms, then 7.0-7.4).
    int warmup = 5, runs = 10;
    Precision precision = Precision::FP32;
    bool winograd = true; // false: every convolution direct (ForwardOptions::winograd)
    bool amx = false;     // ForwardOptions::amx (--fp32-math high)
    bool cuda_graph = true; // CUDA: forwards replayed as CUDA graphs (ForwardOptions::cuda_graph)
    c10::Device device = c10::Device(c10::kCPU);
    std::string source; // checkpoint path or "preset <name>", for the report
    std::string profile_path; // if set, one more forward is traced there (Chrome trace JSON)
    int cancel_trials = 0;    // if > 0: forwards cancelled at random moments, timing how soon they return
};

struct BenchReport {
    ArchSpec spec;
    BenchConfig config;
    int threads = 1;
    int64_t params = 0;
    int run_height = 0, run_width = 0; // after padding to what the network takes
    std::vector<double> times_ms;
    double median_ms = 0, mean_ms = 0, min_ms = 0, max_ms = 0, p10_ms = 0, p90_ms = 0, stdev_ms = 0;
    // CPU, MiB: growth of the resident set's high-water mark during the timed forwards (the
    // activations), the memory the first forward added for good (derived weights: bf16 copies,
    // fused and sub-pixel kernels), and the process's peak resident set.
    double peak_forward_mib = 0, derived_weights_mib = 0, peak_process_mib = 0;
    std::string memory_kind; // "cpu-rss" or "cuda-allocated"
    bool cuda_graphs = false; // the timed forwards were CUDA graph replays
    bool amx = false;         // their U-Net Winograd products ran on AMX tiles (engine.h: amx_products_run)
    double graph_vs_direct_max_abs = 0; // then: a replay's output against the kernel-by-kernel forward's
    std::string what = "forward"; // or "train-step", "train-step-l1"
    // Time from setting the cancel flag to the stale forward's return (when a new request can start).
    std::vector<double> cancel_latency_ms;

    std::string to_json() const;
    std::string summary() const; // a few lines for a terminal
};

// Times training steps instead (training.h: forward, backward and Adam for G and D, the paper's
// loss; `use_gan` false: L1 alone) on random inputs and targets. `net` is trained in place.
BenchReport run_train_bench(const Generator& net, const BenchConfig& config, bool use_gan,
                            const std::function<bool(int, int)>& progress = {});

// Runs warm-up and timed forwards on random inputs in [-1, 1]. `progress(done, total)` is called
// after each forward; returning false cancels (the report then holds the runs done so far).
BenchReport run_bench(GeneratorImpl& net, const BenchConfig& config,
                      const std::function<bool(int, int)>& progress = {});

} // namespace bft
