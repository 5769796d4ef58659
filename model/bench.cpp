#include "bench.h"

#include "checkpoint.h"
#include "cuda_support.h"
#include "inference.h"
#include "runtime.h"
#include "training.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sstream>

namespace bft {

namespace {

// VmHWM / VmRSS of this process in MiB, from /proc (0 where unavailable).
double proc_status_mib(const std::string& field)
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(field + ":", 0) == 0)
            return std::stod(line.substr(field.size() + 1)) / 1024.0; // kB
    return 0;
}

// A forward's memory: the resident set on the CPU, the caching allocator's bytes in use on CUDA;
// now, and the high-water mark since it was last reset (reset_peak_rss, cuda_reset_peak).
double held_mib(const c10::Device& d) { return d.is_cuda() ? cuda_allocated_mib(d) : proc_status_mib("VmRSS"); }
double peak_mib(const c10::Device& d) { return d.is_cuda() ? cuda_peak_allocated_mib(d) : proc_status_mib("VmHWM"); }

void reset_peak_rss()
{
    // Writing 5 resets VmHWM to the current RSS (Linux >= 4.0).
    std::ofstream f("/proc/self/clear_refs");
    f << "5";
}

void sync(const c10::Device& d)
{
    if (d.is_cuda())
        torch::cuda::synchronize(d.index());
}

double percentile(std::vector<double> v, double q)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos)), hi = static_cast<size_t>(std::ceil(pos));
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

std::string json_string(const std::string& s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
            continue;
        }
        out += c;
    }
    return out + "\"";
}

} // namespace

namespace {
void summarise(BenchReport& r)
{
    const auto& t = r.times_ms;
    if (t.empty())
        return;
    r.median_ms = percentile(t, 0.5);
    r.p10_ms = percentile(t, 0.1);
    r.p90_ms = percentile(t, 0.9);
    r.min_ms = *std::min_element(t.begin(), t.end());
    r.max_ms = *std::max_element(t.begin(), t.end());
    r.mean_ms = std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(t.size());
    double var = 0;
    for (double x : t)
        var += (x - r.mean_ms) * (x - r.mean_ms);
    r.stdev_ms = t.size() > 1 ? std::sqrt(var / static_cast<double>(t.size() - 1)) : 0;
}
} // namespace

BenchReport run_bench(GeneratorImpl& net, const BenchConfig& config, const std::function<bool(int, int)>& progress)
{
    BenchReport r;
    r.spec = net.spec();
    r.config = config;
    r.threads = at::get_num_threads();
    r.params = count_parameters(net);
    r.memory_kind = config.device.is_cuda() ? "cuda-allocated" : "cpu-rss";

    at::manual_seed(0);
    auto opts = at::TensorOptions().device(config.device).dtype(at::kFloat);
    c10::InferenceMode inference;
    // Sizes the network cannot take are padded as `bft translate` pads them; the padded size is what runs.
    at::Tensor input = pad_to_fit(at::rand({config.batch, r.spec.input_nc, config.height, config.width}, opts) * 2 - 1,
                                  r.spec.size_multiple(), r.spec.min_side());
    at::Tensor guide = pad_to_fit(at::rand({config.batch, r.spec.guide_nc, config.height, config.width}, opts) * 2 - 1,
                                  r.spec.size_multiple(), r.spec.min_side());
    r.run_height = static_cast<int>(input.size(2));
    r.run_width = static_cast<int>(input.size(3));

    const int total = std::max(1, config.warmup) + config.runs;
    int done = 0;
    ForwardOptions forward;
    forward.precision = config.precision;
    forward.winograd = config.winograd;
    forward.amx = config.amx;
    forward.cuda_graph = config.cuda_graph;
    // Memory, from the resident set: the warm-up builds the derived weights (bf16 copies, fused and
    // sub-pixel kernels), whose size is the growth over it; the timed forwards then show the
    // activations' peak as the high-water mark's growth. malloc_trim first, so that memory left
    // free in the heap (by loading, by the warm-up) does not hide either.
    auto trim = [] {
#if defined(__GLIBC__)
        malloc_trim(0);
#endif
    };
    // On CUDA the same from the caching allocator: what it holds after the warm-up (derived weights,
    // a CUDA graph's inputs and outputs) and its high-water mark above that.
    trim();
    sync(config.device);
    const double rss_start = held_mib(config.device);
    // A CUDA graph allocates its activations once, while it is captured in the warm-up, and keeps
    // them in a pool of its own: the peak is taken from before the warm-up there.
    cuda_reset_peak(config.device);
    for (int k = 0; k < std::max(1, config.warmup); ++k) {
        net.infer(input, guide, forward);
        sync(config.device);
        if (progress && !progress(++done, total))
            return r;
    }
    trim();
    const double rss_before = held_mib(config.device);
    r.derived_weights_mib = std::max(0.0, rss_before - rss_start);
    reset_peak_rss();
    // malloc_trim gave the heap's free pages back to the kernel, and the next forward faults them
    // in again (texture at 256 on the Xeon: about 2,000 pages, its time 47 -> 54 ms): untimed, as
    // an editor's forwards, which nothing trims, never pay it. Its activations count in the peak.
    if (config.device.is_cpu())
        net.infer(input, guide, forward);
    for (int k = 0; k < config.runs; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        at::Tensor y = net.infer(input, guide, forward);
        sync(config.device);
        const auto t1 = std::chrono::steady_clock::now();
        r.times_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        if (progress && !progress(++done, total))
            break;
    }
    r.peak_process_mib = peak_mib(config.device);
    r.peak_forward_mib = std::max(0.0, r.peak_process_mib - rss_before);
    r.cuda_graphs = net.cuda_graph_captures() > 0;
    r.amx = amx_products_run(forward, config.device);
    if (r.cuda_graphs) { // a replay computes what the kernels launched one by one compute
        ForwardOptions direct = forward;
        direct.cuda_graph = false;
        r.graph_vs_direct_max_abs = (net.infer(input, guide, forward) - net.run(input, guide, direct)).abs().max().item<double>();
    }
    if (!config.profile_path.empty()) { // kernel by kernel, as run(): a graph's replay would show as one call
        ForwardOptions profiled = forward;
        profiled.sync_layers = true; // on a GPU, each layer's range holds its kernels' time
        torch::autograd::profiler::RecordProfile trace(config.profile_path);
        net.run(input, guide, profiled);
        sync(config.device);
    }

    // Cancellation: a forward is stopped at a random moment; how long until it returns? One
    // long-lived worker thread runs them, as the editor's inference thread does.
    if (config.cancel_trials > 0 && !r.times_ms.empty()) {
        std::mutex m;
        std::condition_variable cv;
        int requested = 0, finished = 0;
        std::atomic<bool> stop{false};
        std::chrono::steady_clock::time_point returned;
        std::thread worker([&] {
            c10::InferenceMode mode;
            ForwardOptions cancellable = forward;
            cancellable.cancel = &stop;
            for (int k = 0; k < config.cancel_trials; ++k) {
                {
                    std::unique_lock<std::mutex> lock(m);
                    cv.wait(lock, [&] { return requested > k; });
                }
                net.run(input, guide, cancellable);
                sync(config.device);
                std::lock_guard<std::mutex> lock(m);
                returned = std::chrono::steady_clock::now();
                finished = k + 1;
                cv.notify_all();
            }
        });
        std::mt19937 rng(42);
        std::uniform_real_distribution<double> when(0.0, 0.9 * r.times_ms.front());
        for (int k = 0; k < config.cancel_trials; ++k) {
            stop = false;
            {
                std::lock_guard<std::mutex> lock(m);
                requested = k + 1;
            }
            cv.notify_all();
            std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(when(rng)));
            const auto t0 = std::chrono::steady_clock::now();
            stop = true;
            std::unique_lock<std::mutex> lock(m);
            cv.wait(lock, [&] { return finished > k; });
            r.cancel_latency_ms.push_back(std::max(0.0, std::chrono::duration<double, std::milli>(returned - t0).count()));
        }
        worker.join();
    }

    summarise(r);
    return r;
}

BenchReport run_train_bench(const Generator& net, const BenchConfig& config, bool use_gan,
                            const std::function<bool(int, int)>& progress)
{
    BenchReport r;
    r.spec = net->spec();
    r.config = config;
    r.threads = at::get_num_threads();
    r.params = count_parameters(*net);
    r.what = use_gan ? "train-step" : "train-step-l1";
    r.memory_kind = config.device.is_cuda() ? "cuda-allocated" : "cpu-rss";
    at::manual_seed(0);
    auto opts = at::TensorOptions().device(config.device).dtype(at::kFloat);
    const auto& s = r.spec;
    const int64_t h = config.height, w = config.width;
    at::Tensor input = pad_to_fit(at::rand({config.batch, s.input_nc, h, w}, opts) * 2 - 1, s.size_multiple(), s.min_side());
    at::Tensor guide = pad_to_fit(at::rand({config.batch, s.guide_nc, h, w}, opts) * 2 - 1, s.size_multiple(), s.min_side());
    at::Tensor target = pad_to_fit(at::rand({config.batch, s.output_nc, h, w}, opts) * 2 - 1, s.size_multiple(), s.min_side());
    r.run_height = static_cast<int>(input.size(2));
    r.run_width = static_cast<int>(input.size(3));
    TrainConfig tc;
    tc.use_gan = use_gan;
    TrainStep step(net, tc, config.device);
    const int total = std::max(1, config.warmup) + config.runs;
    int done = 0;
    const double rss_start = held_mib(config.device);
    reset_peak_rss();
    cuda_reset_peak(config.device);
    for (int k = 0; k < total; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        step.run(input, guide, target);
        sync(config.device);
        if (k >= std::max(1, config.warmup))
            r.times_ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (progress && !progress(++done, total))
            break;
    }
    r.peak_process_mib = peak_mib(config.device);
    r.peak_forward_mib = std::max(0.0, r.peak_process_mib - rss_start);
    if (!config.profile_path.empty()) {
        torch::autograd::profiler::RecordProfile trace(config.profile_path);
        step.run(input, guide, target);
        sync(config.device);
    }
    summarise(r);
    return r;
}

std::string BenchReport::to_json() const
{
    std::ostringstream s;
    s << std::setprecision(6);
    s << "{\"what\": \"" << what << "\", \"model\": " << spec.to_json() << ", \"source\": " << json_string(config.source)
      << ", \"params\": " << params << ", \"device\": " << json_string(config.device.str())
      << ", \"threads\": " << threads << ", \"batch\": " << config.batch << ", \"height\": " << config.height
      << ", \"width\": " << config.width << ", \"run_height\": " << run_height << ", \"run_width\": " << run_width
      << ", \"precision\": \"" << precision_name(config.precision) << "\", \"winograd\": "
      << (config.winograd ? "true" : "false") << ", \"fp32_math\": \"" << (config.amx ? "high" : "highest")
      << "\", \"amx\": " << (amx ? "true" : "false") << ", \"cuda_graph\": " << (cuda_graphs ? "true" : "false")
      << ", \"graph_vs_direct_max_abs\": " << graph_vs_direct_max_abs
      << ", \"warmup\": " << config.warmup
      << ", \"runs\": " << times_ms.size() << ", \"median_ms\": " << median_ms << ", \"mean_ms\": " << mean_ms
      << ", \"min_ms\": " << min_ms << ", \"max_ms\": " << max_ms << ", \"p10_ms\": " << p10_ms
      << ", \"p90_ms\": " << p90_ms << ", \"stdev_ms\": " << stdev_ms << ", \"times_ms\": [";
    for (size_t k = 0; k < times_ms.size(); ++k)
        s << (k ? ", " : "") << times_ms[k];
    s << "], \"cancel_latency_ms\": [";
    for (size_t k = 0; k < cancel_latency_ms.size(); ++k)
        s << (k ? ", " : "") << cancel_latency_ms[k];
    s << "], \"memory\": {\"kind\": \"" << memory_kind << "\", \"peak_forward_mib\": " << peak_forward_mib
      << ", \"derived_weights_mib\": " << derived_weights_mib
      << ", \"peak_process_mib\": " << peak_process_mib << "}}";
    return s.str();
}

std::string BenchReport::summary() const
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(1);
    s << spec.describe() << "\n";
    s << "  " << config.batch << "x" << config.height << "x" << config.width << " on " << config.device.str() << ", "
      << threads << " threads, " << (what == "forward" ? precision_name(config.precision) : what) << ", "
      << (what == "forward" && !config.winograd ? "direct convolutions only, " : "")
      << (cuda_graphs ? "CUDA graph, " : "")
      << (run_height != config.height || run_width != config.width
              ? "padded to " + std::to_string(run_width) + "x" + std::to_string(run_height) + ", "
              : std::string()) << times_ms.size() << " runs after " << config.warmup << " warm-up\n";
    if (cuda_graphs)
        s << "  CUDA graph replay against kernel by kernel: max difference " << std::scientific << graph_vs_direct_max_abs << std::fixed << "\n";
    s << "  median " << median_ms << " ms (p10 " << p10_ms << ", p90 " << p90_ms << ", min " << min_ms << ", max "
      << max_ms << ")\n";
    if (!cancel_latency_ms.empty())
        s << "  cancel -> return: median " << percentile(cancel_latency_ms, 0.5) << " ms, max "
          << *std::max_element(cancel_latency_ms.begin(), cancel_latency_ms.end()) << " ms over "
          << cancel_latency_ms.size() << " cancelled forwards\n";
    s << "  peak memory during forward +" << peak_forward_mib << " MiB, derived weights " << derived_weights_mib
      << " MiB (process peak " << peak_process_mib << " MiB)";
    return s.str();
}

} // namespace bft
