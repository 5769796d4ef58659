// `bft train`: trains or fine-tunes a generator on a dataset folder, with a progress line;
// Ctrl-C checkpoints and exits cleanly, `--resume RUN_DIR` continues.
#include "cli_args.h"
#include "commands.h"

#include "dataset.h"
#include "errors.h"
#include "runtime.h"
#include "trainer.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace bft::cli {

namespace {

std::atomic<bool> g_stop{false};
void on_interrupt(int) { g_stop = true; }

std::string duration_text(double s)
{
    if (!std::isfinite(s))
        return "?";
    char buf[32];
    const long t = std::lround(s);
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    return buf;
}

} // namespace

int cmd_train(int argc, char** argv)
{
    Args args("train", "Trains a generator on a dataset folder (see `bft dataset check`): from scratch for a task, or\n"
                       "fine-tuning a checkpoint (--from). Checkpoints, the loss log and the configuration go to the\n"
                       "run folder; Ctrl-C saves and exits; --resume RUN_DIR continues exactly where it stopped.");
    args.option("data", "DIR", "the dataset folder")
        .option("out", "RUN_DIR", "the run folder to create")
        .option("resume", "RUN_DIR", "continue this run instead of starting one")
        .option("from", "CHECKPOINT", "fine-tune this generator (.pth) instead of starting from scratch")
        .option("task", "TASK", "from scratch: pose, depth or texture (default: the dataset's task)")
        .option("ngf", "N", "from scratch: base width of the generator", "64")
        .option("film", "bFT|uFT", "from scratch: bi-directional (bFT) or the one-way FiLM baseline (uFT)", "bFT")
        .option("blocks", "N", "from scratch, ResNet generators: residual blocks", "9")
        .option("steps", "N", "training steps", "1000")
        .option("batch", "B", "batch size", "4")
        .option("lr", "RATE", "Adam learning rate (constant, then linear decay to zero)", "0.0002")
        .option("decay-from", "STEP", "where the decay starts (default: half way)")
        .option("beta1", "B", "Adam beta1", "0.5")
        .option("lambda-l1", "W", "weight of the L1 loss beside the GAN loss", "100")
        .flag("no-gan", "train on the L1 loss alone (the depth task's objective)")
        .option("checkpoint-every", "N", "steps between checkpoints", "500")
        .option("val-every", "N", "steps between validations (L1 on val/)", "500")
        .option("seed", "K", "random seed", "0")
        .option("threads", "N", "CPU threads (0: all cores)", "0");
    if (!args.parse(argc, argv))
        return 0;
    set_threads(args.get_int("threads", 0, 1024));
    configure_memory();

    std::unique_ptr<Trainer> trainer;
    if (args.has("resume")) {
        trainer = std::make_unique<Trainer>(Trainer::resume(args.get("resume")));
        std::cerr << "resuming " << args.get("resume") << " at step " << trainer->step() << "\n";
    } else {
        TrainOptions o;
        o.data_dir = args.require("data");
        o.out_dir = args.require("out");
        o.from = args.get("from");
        const DatasetInfo info = DatasetInfo::read(o.data_dir);
        o.arch = task_preset(args.has("task") ? args.get("task") : info.task);
        o.arch.ngf = args.get_int("ngf", 1, 1024);
        o.arch.n_blocks = args.get_int("blocks", 0, 64);
        const std::string film = args.get("film");
        if (film == "uFT" || film == "uft")
            o.arch.arch = o.arch.is_resnet() ? Arch::UftResnet : Arch::UftUnet;
        else if (film != "bFT" && film != "bft")
            throw Error("--film: expected bFT or uFT, got '" + film + "'");
        o.steps = args.get_int("steps", 1, 100000000);
        o.batch = args.get_int("batch", 1, 4096);
        o.decay_from = args.has("decay-from") ? args.get_int("decay-from", 0, 100000000) : -1;
        o.step.lr = args.get_double("lr", 0, 1);
        o.step.beta1 = args.get_double("beta1", 0, 1);
        o.step.lambda_l1 = args.get_double("lambda-l1", 0, 1e6);
        o.step.use_gan = !args.has("no-gan");
        o.checkpoint_every = args.get_int("checkpoint-every", 1, 100000000);
        o.val_every = args.get_int("val-every", 0, 100000000);
        o.seed = static_cast<uint64_t>(args.get_int("seed", 0, 2147483647));
        trainer = std::make_unique<Trainer>(o);
    }

    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const bool tty = ::isatty(STDERR_FILENO);
    const int reached = trainer->run(
        [&](const TrainProgress& p) {
            if (!tty && p.step % 50 != 0 && p.step != p.total && p.val_l1 < 0)
                return;
            char line[256];
            std::snprintf(line, sizeof line, "step %d/%d  G_L1 %.4f  G_GAN %.4f  D %.3f/%.3f  %.2f it/s  ETA %s%s", p.step,
                          p.total, p.losses.g_l1, p.losses.g_gan, p.losses.d_real, p.losses.d_fake, p.steps_per_s,
                          duration_text(p.eta_s).c_str(),
                          p.val_l1 >= 0 ? ("  val L1 " + std::to_string(p.val_l1).substr(0, 6)).c_str() : "");
            std::cerr << (tty ? "\r" : "") << line << (tty ? "   " : "\n") << std::flush;
        },
        &g_stop);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (tty)
        std::cerr << "\n";
    std::cout << (g_stop ? "stopped" : "finished") << " at step " << reached << "; checkpoint " << trainer->last_checkpoint()
              << "\n";
    return g_stop ? 130 : 0;
}

} // namespace bft::cli
