// `bft train`: trains or fine-tunes a generator on a dataset folder, with a progress line;
// Ctrl-C checkpoints and exits cleanly, `--resume RUN_DIR` continues. Data parallel when started
// as one rank of a job (torchrun, srun, or `--nproc N`, which starts and supervises N ranks here).
#include "cli_args.h"
#include "commands.h"

#include "dataset.h"
#include "distributed.h"
#include "errors.h"
#include "runtime.h"
#include "trainer.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
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

int run_training(const Args& args, const std::shared_ptr<dist::Group>& group, const std::string& device, bool speaker);

// `bft train ... --nproc N`: the same command line for each rank, without the launcher's options.
int launch_ranks(int argc, char** argv, int nproc, int port, int timeout_s)
{
    dist::LocalLaunch launch;
    launch.program = std::filesystem::read_symlink("/proc/self/exe").string();
    launch.args.push_back("train");
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--nproc" || a == "--master-port") {
            ++i;
            continue;
        }
        if (a.rfind("--nproc=", 0) == 0 || a.rfind("--master-port=", 0) == 0)
            continue;
        launch.args.push_back(a);
    }
    launch.nproc = nproc;
    launch.master_port = port;
    launch.timeout = std::chrono::seconds(timeout_s);
    std::string pids;
    launch.started = [&](int rank, int pid) {
        pids += (pids.empty() ? "" : ", ") + std::string("rank ") + std::to_string(rank) + " pid " + std::to_string(pid);
        if (rank + 1 == nproc)
            std::cerr << "bft train: " << nproc << " ranks on this machine (" << pids << ")\n";
    };
    return dist::launch_local(launch);
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
        .option("batch", "B", "batch size (the global batch, split evenly over the ranks)", "4")
        .option("accumulate", "K", "process each rank's share of the batch in K micro-batches whose gradients add up (less memory; default 1, or the run's own on --resume)")
        .option("lr", "RATE", "Adam learning rate (constant, then linear decay to zero)", "0.0002")
        .option("lr-rule", "fixed|linear|sqrt", "how --lr follows the global batch: kept, or scaled by batch / --lr-base-batch (or its square root)", "fixed")
        .option("lr-base-batch", "B", "the batch --lr is meant for (default: --batch)")
        .option("decay-from", "STEP", "where the decay starts (default: half way)")
        .option("beta1", "B", "Adam beta1", "0.5")
        .option("lambda-l1", "W", "weight of the L1 loss beside the GAN loss", "100")
        .flag("no-gan", "train on the L1 loss alone (the depth task's objective)")
        .option("checkpoint-every", "N", "steps between checkpoints", "500")
        .option("val-every", "N", "steps between validations (L1 on val/)", "500")
        .option("preview-every", "N", "steps between sample sheets (RUN_DIR/samples/step_N.png; 0: none)", "0")
        .flag("no-flip", "no random horizontal flips")
        .option("seed", "K", "random seed", "0")
        .option("threads", "N", "CPU threads (0: all cores, shared out among the ranks on a machine)", "0")
        .option("device", "DEVICE", "cpu, cuda, cuda:N or auto (a rank of a CUDA job takes cuda:<LOCAL_RANK>; default: cpu, or the run's own on --resume)")
        .option("nproc", "N", "start N ranks on this machine and supervise them (data parallel)")
        .option("master-port", "PORT", "with --nproc: the rendezvous port (default: a free one)")
        .option("backend", "gloo|nccl|auto", "data parallel: collectives over Gloo (CPU) or NCCL (CUDA)", "auto")
        .option("timeout", "SECONDS", "data parallel: how long a rank waits for the others before it gives up", "60")
        .option("bucket-mb", "MB", "data parallel: size of the gradient buckets whose all-reduce overlaps the backward pass", "25");
    if (!args.parse(argc, argv))
        return 0;
    const int timeout_s = args.get_int("timeout", 1, 86400);
    const dist::LaunchEnv env = dist::launch_env();
    if (args.has("nproc") && env.distributed())
        throw Error("--nproc: this process is already " + env.describe() + "; let its launcher start the ranks");
    if (args.has("nproc"))
        return launch_ranks(argc, argv, args.get_int("nproc", 1, 1024),
                            args.has("master-port") ? args.get_int("master-port", 1, 65535) : 0, timeout_s);
    // A rank takes a stop request as a clean stop (a checkpoint, exit code 130) from the start, even
    // while it still waits for the others to join; the launcher counts a rank killed by it as failed.
    if (env.distributed()) {
        std::signal(SIGINT, on_interrupt);
        std::signal(SIGTERM, on_interrupt);
    }
    // The cores of a machine are shared out among its ranks.
    const int threads = args.get_int("threads", 0, 1024);
    set_threads(threads == 0 && env.distributed() ? std::max(1, hardware_threads() / env.local_world) : threads);
    configure_memory();

    // Empty: the run's own device on --resume, the CPU for a new run.
    std::string device = args.get("device");
    if (device.empty() && !args.has("resume"))
        device = "cpu";
    if (env.distributed() && (device == "cuda" || (device == "auto" && cuda_available())))
        device = "cuda:" + std::to_string(env.local_rank);
    if (device == "auto")
        device = resolve_device("auto").str();
    // Only rank 0 speaks, but for errors; a rank's own errors say which rank it is.
    const bool speaker = env.rank == 0;
    std::shared_ptr<dist::Group> group;
    try {
        if (env.distributed()) {
            dist::GroupOptions go;
            go.backend = args.get("backend");
            go.device = resolve_device(device);
            go.timeout = std::chrono::seconds(timeout_s);
            go.bucket_bytes = static_cast<int64_t>(args.get_double("bucket-mb", 0.01, 4096) * (1 << 20));
            go.stop = &g_stop;
            group = dist::Group::join(env, go);
            if (speaker)
                std::cerr << "data parallel: " << env.world << " ranks over " << group->backend() << " (" << env.launcher
                          << ", master " << env.master_addr << ":" << env.master_port << ")\n";
        }
        return run_training(args, group, device, speaker);
    } catch (const dist::Stopped&) {
        // Ctrl-C while the ranks were still joining: a clean stop, as after a step, with nothing to save.
        if (speaker)
            std::cout << "stopped before the first step; nothing saved\n";
        return 130;
    } catch (const dist::PeerError&) {
        throw;
    } catch (const std::exception& e) {
        if (!env.distributed())
            throw;
        // The others must hear of it (else they would only see this rank fall silent).
        if (group)
            group->publish_failure(e.what());
        throw Error("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world) + ": " + e.what());
    }
}

namespace {

int run_training(const Args& args, const std::shared_ptr<dist::Group>& group, const std::string& device, bool speaker)
{
    std::unique_ptr<Trainer> trainer;
    if (args.has("resume")) {
        // The global batch is the run's; the ranks and micro-batches it is split into may change.
        trainer = std::make_unique<Trainer>(Trainer::resume(args.get("resume"), group, device,
                                                            args.has("accumulate") ? args.get_int("accumulate", 1, 4096) : 0));
        if (speaker)
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
        o.accumulate = args.has("accumulate") ? args.get_int("accumulate", 1, 4096) : 1;
        o.decay_from = args.has("decay-from") ? args.get_int("decay-from", 0, 100000000) : -1;
        o.step.lr = o.lr_asked = args.get_double("lr", 0, 1);
        o.lr_rule = args.get("lr-rule");
        o.lr_base_batch = args.has("lr-base-batch") ? args.get_int("lr-base-batch", 1, 4096) : 0;
        o.device = device;
        o.step.beta1 = args.get_double("beta1", 0, 1);
        o.step.lambda_l1 = args.get_double("lambda-l1", 0, 1e6);
        o.step.use_gan = !args.has("no-gan");
        o.checkpoint_every = args.get_int("checkpoint-every", 1, 100000000);
        o.val_every = args.get_int("val-every", 0, 100000000);
        o.preview_every = args.get_int("preview-every", 0, 100000000);
        o.flip = !args.has("no-flip");
        o.seed = static_cast<uint64_t>(args.get_int("seed", 0, 2147483647));
        trainer = std::make_unique<Trainer>(o, group);
    }

    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    const bool tty = ::isatty(STDERR_FILENO);
    const int reached = trainer->run(
        [&](const TrainProgress& p) {
            if (!speaker || (!tty && p.step % 50 != 0 && p.step != p.total && p.val_l1 < 0))
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
    const bool stopped = reached < trainer->options().steps;
    if (!speaker)
        return stopped ? 130 : 0;
    if (tty)
        std::cerr << "\n";
    std::cout << (stopped ? "stopped" : "finished") << " at step " << reached << "; checkpoint " << trainer->last_checkpoint()
              << "\n";
    return stopped ? 130 : 0;
}

} // namespace

} // namespace bft::cli
