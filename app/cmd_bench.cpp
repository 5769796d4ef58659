// `bft bench`: forward latency and peak memory of a checkpoint or a preset architecture.
#include "cli_args.h"
#include "commands.h"

#include "atomic_file.h"
#include "bench.h"
#include "checkpoint.h"
#include "errors.h"
#include "runtime.h"

#include <unistd.h>

#include <csignal>
#include <iostream>

namespace bft::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

// "256" or "256x192" (width x height).
void parse_size(const std::string& text, int* width, int* height)
{
    try {
        size_t x = text.find('x');
        size_t used = 0;
        if (x == std::string::npos) {
            *width = *height = std::stoi(text, &used);
            if (used != text.size())
                throw std::invalid_argument(text);
        } else {
            *width = std::stoi(text.substr(0, x), &used);
            *height = std::stoi(text.substr(x + 1));
        }
    } catch (const std::exception&) {
        throw UsageError("--size needs N or WxH, got '" + text + "'");
    }
    if (*width < 1 || *height < 1 || *width > 8192 || *height > 8192)
        throw UsageError("--size out of range: " + text);
}

} // namespace

int cmd_bench(int argc, char** argv)
{
    Args args("bench", "Measures the forward latency (median and spread over --runs after --warmup) and the peak\n"
                       "memory of a generator, from a checkpoint or a preset architecture with random weights.");
    args.option("checkpoint", "FILE", "generator weights (.pth); or use --preset")
        .option("preset", "TASK", "pose, depth or texture: the paper's full-size generator of that task")
        .option("ngf", "N", "with --preset: base width instead of 64")
        .option("size", "N|WxH", "input size", "256")
        .option("batch", "N", "batch size", "1")
        .option("device", "DEV", "cpu, cuda, cuda:N or auto", "auto")
        .option("threads", "N", "CPU threads (0: all cores)", "0")
        .option("precision", "fp32|bf16", "fp32 (exact) or bf16 (fast preview; CPUs with AVX512-BF16, and CUDA)", "fp32")
        .option("fp32-math", "highest|high", kFp32MathHelp, "highest")
        .option("warmup", "N", "untimed forwards first", "5")
        .option("runs", "N", "timed forwards", "10")
        .option("cancel-trials", "N", "also cancel N forwards at random moments and time how soon each returns", "0")
        .option("report", "FILE", "also write the JSON report to this file")
        .option("profile", "FILE", "trace one more forward (or training step), operator by operator, to FILE (Chrome trace JSON)")
        .flag("train-step", "time training steps (forward, backward, Adam for G and D; L1 + LSGAN) instead of forwards")
        .flag("no-winograd", "run every convolution direct (no Winograd for the wide 3x3 ones), for comparison")
        .flag("no-cuda-graph", "CUDA: launch every kernel from the CPU instead of replaying CUDA graphs, for comparison")
        .flag("no-gan", "with --train-step: the L1 loss alone (the depth task's objective)")
        .flag("json", "print the JSON report instead of text");
    if (!args.parse(argc, argv))
        return 0;
    if (args.has("checkpoint") == args.has("preset"))
        throw UsageError("give either --checkpoint or --preset");

    BenchConfig config;
    parse_size(args.get("size"), &config.width, &config.height);
    config.batch = args.get_int("batch", 1, 1024);
    config.warmup = args.get_int("warmup", 0, 10000);
    config.runs = args.get_int("runs", 1, 100000);
    set_threads(args.get_int("threads", 0, 1024));
    configure_memory();
    config.device = resolve_device(args.get("device"));
    config.profile_path = args.get("profile");
    config.cancel_trials = args.get_int("cancel-trials", 0, 10000);
    config.precision = choose_precision(args.get("precision"), config.device);
    config.winograd = !args.has("no-winograd");
    config.amx = fp32_math_high(args.get("fp32-math"));
    config.cuda_graph = !args.has("no-cuda-graph");

    Generator net;
    if (args.has("checkpoint")) {
        config.source = args.get("checkpoint");
        net = load_generator(config.source).net;
    } else {
        ArchSpec spec = task_preset(args.get("preset"));
        if (args.has("ngf"))
            spec.ngf = args.get_int("ngf", 1, 1024);
        config.source = "preset " + args.get("preset");
        net = make_generator(spec);
        net->eval();
    }
    net->to(config.device);

    std::signal(SIGINT, on_interrupt);
    const bool tty = ::isatty(STDERR_FILENO);
    auto progress = [&](int done, int total) {
        std::cerr << (tty ? "\r" : "") << "bench: " << done << "/" << total << (args.has("train-step") ? " steps" : " forwards")
                  << (done <= config.warmup ? " (warm-up)" : "") << (tty ? "   " : "\n") << std::flush;
        return g_interrupted == 0;
    };
    BenchReport report = args.has("train-step") ? run_train_bench(net, config, !args.has("no-gan"), progress)
                                                : run_bench(*net, config, progress);
    if (tty)
        std::cerr << "\n";
    std::signal(SIGINT, SIG_DFL);
    if (g_interrupted)
        std::cerr << "bench: interrupted; reporting the runs done so far\n";
    if (report.times_ms.empty())
        throw Error("no timed run completed");

    if (args.has("report"))
        write_file_atomically(args.get("report"), report.to_json() + "\n");
    if (args.has("json"))
        std::cout << report.to_json() << "\n";
    else
        std::cout << report.summary() << "\n";
    return g_interrupted ? 130 : 0;
}

} // namespace bft::cli
