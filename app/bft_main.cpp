// `bft`: the headless command line of bFT Studio. Dispatches to the subcommands and reports
// failures as one line on stderr with a non-zero exit code (2: usage, 1: anything else).
#include "cli_args.h"
#include "commands.h"

#include "errors.h"
#include "runtime.h"

#include <c10/util/Exception.h>

#include <cstring>
#include <iostream>

#ifndef BFT_VERSION
#define BFT_VERSION "unknown"
#endif

namespace bft::cli {

Precision choose_precision(const std::string& name, const c10::Device& device)
{
    Precision p = precision_from_name(name);
    if (p == Precision::BF16 && !bf16_supported(device)) {
        std::cerr << "note: this CPU has no bf16 instructions (AVX512-BF16); running fp32\n";
        return Precision::FP32;
    }
    // Asked for, it runs, measurably slower or not (bench and eval are there to measure it); said once.
    if (p == Precision::BF16 && !bf16_speed(device).faster)
        std::cerr << "note: " << bf16_drawback(device) << "; running bf16 as asked\n";
    return p;
}

const char* const kFp32MathHelp =
    "fp32: highest, float32 FMAs throughout; high lets CPUs with AMX run the U-Net's Winograd products as bf16x3 "
    "(faster; the texture U-Net at 256 then within about 1.2e-4 of the direct path instead of 1e-5)";

bool fp32_math_high(const std::string& name)
{
    if (name != "high" && name != "highest")
        throw UsageError("--fp32-math takes high or highest, not '" + name + "'");
    return name == "high";
}

} // namespace bft::cli

namespace {

struct Command {
    const char* name;
    int (*run)(int, char**);
    const char* summary;
};

const Command kCommands[] = {
    {"info", bft::cli::cmd_info, "show the architecture, size and format of a checkpoint"},
    {"translate", bft::cli::cmd_translate, "run a generator on an input and a guide"},
    {"bench", bft::cli::cmd_bench, "measure forward latency and memory"},
    {"convert", bft::cli::cmd_convert, "rewrite a checkpoint as a clean zip-format state dict"},
#ifndef BFT_ENGINE_ONLY // the engine-only build (CMake BFT_ENGINE_ONLY) has no images, datasets or training loop
    {"synth", bft::cli::cmd_synth, "make a synthetic paired dataset for a task"},
    {"train", bft::cli::cmd_train, "train or fine-tune a generator on a dataset"},
    {"eval", bft::cli::cmd_eval, "measure a generator on a dataset split (L1, PSNR, SSIM, depth RMSE)"},
    {"dataset", bft::cli::cmd_dataset, "check a dataset, or draw a contact sheet of it"},
#endif
};

void usage(std::ostream& out)
{
    out << "usage: bft <command> [options]\n\nbFT Studio " BFT_VERSION
           " - guided image-to-image translation with bi-directional feature transformation.\n\ncommands:\n";
    for (const auto& c : kCommands)
        out << "  " << c.name << std::string(12 - std::strlen(c.name), ' ') << c.summary << "\n";
    out << "\n'bft <command> --help' describes a command's options.\n";
}

std::string first_line(std::string s)
{
    if (auto nl = s.find('\n'); nl != std::string::npos)
        s.resize(nl);
    return s;
}

} // namespace

int main(int argc, char** argv)
{
    // Before anything starts a thread: no computing thread ever runs a signal handler (runtime.h).
    bft::take_signals_on_own_thread();
    if (argc < 2) {
        usage(std::cerr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(std::cout);
        return 0;
    }
    if (name == "--version") {
        std::cout << "bft " BFT_VERSION "\n";
        return 0;
    }
    for (const auto& c : kCommands) {
        if (name != c.name)
            continue;
        try {
            return c.run(argc - 2, argv + 2);
        } catch (const bft::cli::UsageError& e) {
            std::cerr << "bft " << name << ": " << e.what() << " (see 'bft " << name << " --help')\n";
            return 2;
        } catch (const bft::Error& e) {
            std::cerr << "bft " << name << ": error: " << first_line(e.what()) << "\n";
            return 1;
        } catch (const c10::Error& e) {
            std::cerr << "bft " << name << ": error: " << first_line(e.what_without_backtrace()) << "\n";
            return 1;
        } catch (const std::exception& e) {
            std::cerr << "bft " << name << ": error: " << first_line(e.what()) << "\n";
            return 1;
        }
    }
#ifdef BFT_ENGINE_ONLY
    if (name == "synth" || name == "train" || name == "eval" || name == "dataset") {
        std::cerr << "bft: '" << name << "' is not in this engine-only build (built with -DBFT_ENGINE_ONLY=ON)\n";
        return 2;
    }
#endif
    std::cerr << "bft: unknown command '" << name << "'\n";
    usage(std::cerr);
    return 2;
}
