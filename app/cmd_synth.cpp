// `bft synth`: procedural paired data for a task, in the dataset format (see model/synth.h).
#include "cli_args.h"
#include "commands.h"

#include "synth.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>

namespace bft::cli {

namespace {
volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }
} // namespace

int cmd_synth(int argc, char** argv)
{
    Args args("synth", "Makes a synthetic paired dataset for a task: deterministic for a seed (same seed, same bytes),\n"
                       "written as <out>/dataset.json and <out>/{train,val}/{input,guide,target}/.");
    args.option("task", "TASK", "pose, depth or texture")
        .option("count", "N", "number of samples", "100")
        .option("size", "S", "image side in pixels", "256")
        .option("seed", "K", "random seed", "0")
        .option("out", "DIR", "output folder")
        .option("factor", "F", "depth task: downsampling factor of the input (4, 8 or 16)", "8")
        .option("textures", "DIR", "texture task: also fill objects with these photos")
        .option("val", "FRACTION", "share of samples for validation", "0.1")
        .option("threads", "N", "worker threads (0: all cores)", "0");
    if (!args.parse(argc, argv))
        return 0;
    synth::Options o;
    o.task = args.require("task");
    o.count = args.get_int("count", 1, 10000000);
    o.size = args.get_int("size", 32, 2048);
    o.seed = static_cast<uint64_t>(args.get_int("seed", 0, 2147483647));
    o.depth_factor = args.get_int("factor", 4, 16);
    o.textures_dir = args.get("textures");
    o.threads = args.get_int("threads", 0, 1024);
    o.val_fraction = args.get_double("val", 0, 0.99);
    const std::string out = args.require("out");

    std::signal(SIGINT, on_interrupt);
    const bool tty = ::isatty(STDERR_FILENO);
    const auto t0 = std::chrono::steady_clock::now();
    synth::write_dataset(o, out, [&](int done, int total) {
        if (tty || done == total || done % 100 == 0)
            std::cerr << (tty ? "\r" : "") << "synth: " << done << "/" << total << " samples" << (tty ? "   " : "\n")
                      << std::flush;
        return g_interrupted == 0;
    });
    std::signal(SIGINT, SIG_DFL);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << (tty ? "\n" : "");
    if (g_interrupted) {
        std::cerr << "synth: interrupted; the samples written so far are complete\n";
        return 130;
    }
    std::cout << "wrote " << o.count << " " << o.task << " samples (" << o.size << "x" << o.size << ") to " << out
              << " in " << s << " s\n";
    return 0;
}

} // namespace bft::cli
