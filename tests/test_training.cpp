// The training step of the paper's objective: the discriminator's parameter names follow the
// reference and it scores each sample alone, and steps on a fixed sample fit it (L1 falls), with and
// without the GAN; the fused Adam against LibTorch's, and their archives interchangeable.
#include "test_support.h"

#include "checkpoint.h"
#include "errors.h"
#include "image_io.h"
#include "metrics.h"
#include "optimizer.h"
#include "synth.h"
#include "trainer.h"
#include "training.h"
#include "winograd_4x4.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace bft {
namespace {

TEST(Training, DiscriminatorKeysFollowTheReference)
{
    PatchDiscriminator d(8);
    std::set<std::string> keys;
    for (const auto& p : d->named_parameters())
        keys.insert(p.key());
    std::set<std::string> expected;
    for (int i : {0, 2, 5, 8, 11})
        for (const char* kind : {"weight", "bias"})
            expected.insert("model." + std::to_string(i) + "." + kind);
    EXPECT_EQ(keys, expected);
    EXPECT_EQ(d->forward(at::zeros({1, 8, 64, 64})).sizes(), (std::vector<int64_t>{1, 1, 6, 6})); // 70x70 patches
}

// The training step scores fake and real triples in one batch: that is the two passes only while
// D sees each sample alone (instance norms, no batch statistics), in its scores and its gradients.
TEST(Training, DiscriminatorScoresEachSampleAlone)
{
    at::manual_seed(3);
    PatchDiscriminator d(5);
    const at::Tensor fake = at::randn({2, 5, 64, 64}), real = at::randn({2, 5, 64, 64});
    const at::Tensor both = d->forward(at::cat({fake, real}, 0));
    both.square().sum().backward();
    std::vector<at::Tensor> joint;
    for (auto& p : d->parameters()) {
        joint.push_back(p.grad().clone());
        p.mutable_grad().reset();
    }
    const at::Tensor apart = at::cat({d->forward(fake), d->forward(real)}, 0);
    apart.square().sum().backward();
    EXPECT_TRUE(at::allclose(both, apart, 1e-5, 1e-6));
    const auto params = d->parameters();
    for (size_t i = 0; i < params.size(); ++i)
        EXPECT_TRUE(at::allclose(joint[i], params[i].grad(), 1e-4, 1e-5)) << "parameter " << i;
}

// In float32 on the CPU, D runs its own nodes (each instance norm with its leaky ReLU, the last
// layer as a GEMM into taps); in float64 LibTorch's modules. Same scores and gradients.
TEST(Training, DiscriminatorsFusedLayersMatchItsModules)
{
    at::manual_seed(4);
    PatchDiscriminator d(5);
    const at::Tensor x = at::randn({2, 5, 64, 64});
    const at::Tensor g = at::randn({2, 1, 6, 6});
    auto run = [&](at::ScalarType t) {
        d->to(t);
        for (auto& p : d->parameters())
            p.mutable_grad().reset();
        const at::Tensor xt = x.to(t).requires_grad_();
        const at::Tensor y = d->forward(xt);
        y.backward(g.to(t));
        std::vector<at::Tensor> out{y.detach().to(at::kDouble), xt.grad().to(at::kDouble)};
        for (const auto& p : d->parameters())
            out.push_back(p.grad().to(at::kDouble));
        return out;
    };
    const auto ref = run(at::kDouble);
    const auto ours = run(at::kFloat);
    ASSERT_EQ(ours.size(), ref.size());
    for (size_t i = 0; i < ours.size(); ++i) {
        const double scale = std::max(1.0, ref[i].abs().max().item<double>());
        EXPECT_LE((ours[i] - ref[i]).abs().max().item<double>(), 1e-4 * scale) << (i == 0 ? "scores" : "gradient ") << i;
    }
}

// The PatchGAN's wide layer by Winograd F(2x2, 4x4): scores and all three gradients against LibTorch's
// direct convolution in float64, at every padding it takes, odd sizes (tiles past the map's edge),
// with and without bias, and for the input's gradient alone (D frozen in the generator's pass). The
// largest differences measured: 2.7e-6 of the largest value (the weight's gradient).
TEST(Training, Winograd4x4ConvolutionMatchesLibTorchsWithItsGradients)
{
    at::manual_seed(7);
    struct Case {
        int64_t n, c, o, h, w, padding;
        bool bias;
    };
    for (const Case& k : {Case{2, 64, 80, 9, 11, 1, false}, Case{1, 96, 64, 8, 8, 0, true}, Case{3, 64, 64, 5, 7, 2, true},
                          Case{1, 64, 64, 4, 6, 3, false}}) {
        const at::Tensor x = at::randn({k.n, k.c, k.h, k.w}), w = at::randn({k.o, k.c, 4, 4}) * 0.05;
        const at::Tensor b = k.bias ? at::randn({k.o}) : at::Tensor();
        const int64_t ho = k.h + 2 * k.padding - 3, wo = k.w + 2 * k.padding - 3;
        const at::Tensor dy = at::randn({k.n, k.o, ho, wo});
        ASSERT_TRUE(winograd4_fits(x, w, k.padding));
        EXPECT_FALSE(winograd4_fits(x, w, 4)); // the input's gradient would pad -1
        auto run = [&](bool ours, bool weight_grad) {
            const at::ScalarType t = ours ? at::kFloat : at::kDouble;
            // detach: new leaves even where to() returns the tensor itself
            at::Tensor xt = x.to(t).detach().requires_grad_(), wt = w.to(t).detach().requires_grad_(weight_grad);
            at::Tensor bt = k.bias ? b.to(t).detach().requires_grad_(weight_grad) : at::Tensor();
            const at::Tensor y = ours ? conv2d_winograd4(xt, wt, bt, k.padding) : at::conv2d(xt, wt, bt, 1, k.padding);
            y.backward(dy.to(t));
            std::vector<at::Tensor> out{y.detach(), xt.grad()};
            if (weight_grad) {
                out.push_back(wt.grad());
                if (k.bias)
                    out.push_back(bt.grad());
            }
            for (auto& o : out)
                o = o.to(at::kDouble);
            return out;
        };
        for (const bool weight_grad : {true, false}) {
            const auto ref = run(false, weight_grad), ours = run(true, weight_grad);
            ASSERT_EQ(ours.size(), ref.size());
            for (size_t i = 0; i < ours.size(); ++i) {
                ASSERT_EQ(ours[i].sizes(), ref[i].sizes()) << i;
                const double scale = ref[i].abs().max().item<double>();
                EXPECT_LE((ours[i] - ref[i]).abs().max().item<double>(), 1e-5 * scale)
                    << (i == 0 ? "scores" : "gradient ") << i << ", padding " << k.padding;
            }
        }
    }
}

// Parameters of several shapes (one large enough to be split between threads), a parameter that
// gets no gradient, weight decay on and off: ten steps of FusedAdam and of torch::optim::Adam from
// the same start, with the same gradients, end within float rounding of each other.
TEST(Training, FusedAdamFollowsLibTorchsAdam)
{
    for (const double weight_decay : {0.0, 0.01}) {
        at::manual_seed(5);
        std::vector<at::Tensor> ours, theirs;
        for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{64, 32, 3, 3}, {300000}, {7}, {3, 5}}) {
            const at::Tensor p = at::randn(shape);
            ours.push_back(p.clone().requires_grad_());
            theirs.push_back(p.clone().requires_grad_());
        }
        const auto options = torch::optim::AdamOptions(2e-3).betas({0.5, 0.999}).weight_decay(weight_decay);
        FusedAdam fused(ours, options);
        torch::optim::Adam reference(theirs, options);
        for (int step = 0; step < 10; ++step) {
            fused.clear_grads();
            reference.zero_grad();
            for (size_t k = 0; k + 1 < ours.size(); ++k) { // the last one gets no gradient
                const at::Tensor g = at::randn(ours[k].sizes()) * (step % 3 == 0 ? 1e-3 : 1.0);
                ours[k].mutable_grad() = g.clone();
                theirs[k].mutable_grad() = g.clone();
            }
            fused.step();
            reference.step();
        }
        for (size_t k = 0; k < ours.size(); ++k) {
            const double scale = theirs[k].abs().max().item<double>();
            EXPECT_LE((ours[k] - theirs[k]).abs().max().item<double>(), 1e-6 * scale) << "parameter " << k << ", wd " << weight_decay;
            EXPECT_FALSE(ours[k].equal(at::zeros_like(ours[k])));
        }
        // The untouched parameter stayed where it was, in both.
        EXPECT_TRUE(ours.back().equal(theirs.back()));
    }
}

TEST(Training, FusedAdamArchivesLoadIntoLibTorchsAdamAndBack)
{
    const std::string dir = test::temp_dir("fused-adam");
    at::manual_seed(6);
    at::Tensor a = at::randn({40, 3}).requires_grad_(), b = a.detach().clone().requires_grad_();
    const auto options = torch::optim::AdamOptions(1e-2);
    FusedAdam fused({a}, options);
    for (int step = 0; step < 3; ++step) {
        a.mutable_grad() = at::ones_like(a) * (step + 1);
        fused.step();
    }
    torch::save(fused, dir + "/fused.pt");
    // LibTorch's Adam resumes from the fused one's state and takes the same next step.
    torch::optim::Adam reference({b}, options);
    torch::load(reference, dir + "/fused.pt");
    b.detach().copy_(a.detach());
    a.mutable_grad() = at::full_like(a, 0.5);
    b.mutable_grad() = at::full_like(b, 0.5);
    fused.step();
    reference.step();
    EXPECT_LE((a - b).abs().max().item<double>(), 1e-6);
    // ... and the other way round.
    torch::save(reference, dir + "/reference.pt");
    FusedAdam again({a}, options);
    torch::load(again, dir + "/reference.pt");
    const at::Tensor before = a.detach().clone();
    again.step();
    reference.step();
    EXPECT_LE((a - b).abs().max().item<double>(), 1e-6);
    EXPECT_FALSE(a.equal(before));
}

TEST(Training, StepsFitAFixedSample)
{
    for (bool gan : {true, false}) {
        SCOPED_TRACE(gan ? "L1 + LSGAN" : "L1");
        at::manual_seed(11);
        ArchSpec s;
        s.arch = Arch::BftUnet;
        s.input_nc = 1, s.guide_nc = 4, s.output_nc = 3, s.ngf = 8, s.num_downs = 6;
        TrainConfig c;
        c.use_gan = gan;
        c.lr = 1e-3;
        c.ndf = 8;
        TrainStep step(make_generator(s), c, c10::Device(c10::kCPU));
        const at::Tensor x = at::rand({2, 1, 64, 64}) * 2 - 1, g = at::rand({2, 4, 64, 64}) * 2 - 1;
        const at::Tensor y = at::rand({2, 3, 64, 64}).mul(0.5).sub(0.25);
        const StepLosses first = step.run(x, g, y);
        StepLosses last;
        for (int k = 0; k < 40; ++k)
            last = step.run(x, g, y);
        EXPECT_LT(last.g_l1, first.g_l1 * 0.6);
        if (gan) {
            EXPECT_GT(first.d_real + first.d_fake, 0.0);
            EXPECT_TRUE(std::isfinite(last.g_gan));
        }
    }
}

namespace fs = std::filesystem;

std::string small_dataset(const std::string& name, int size = 64)
{
    const std::string dir = test::temp_dir(name);
    synth::Options o;
    o.task = "texture";
    o.count = 6;
    o.size = size;
    o.seed = 2;
    o.val_fraction = 0.34;
    synth::write_dataset(o, dir);
    return dir;
}

TrainOptions small_run(const std::string& data, const std::string& out)
{
    TrainOptions o;
    o.data_dir = data;
    o.out_dir = out;
    o.arch.arch = Arch::BftUnet;
    o.arch.input_nc = 1, o.arch.guide_nc = 4, o.arch.output_nc = 3, o.arch.ngf = 4, o.arch.num_downs = 6;
    o.steps = 6;
    o.batch = 2;
    o.checkpoint_every = 4;
    o.val_every = 3;
    o.keep_last = 1;
    o.step.ndf = 8;
    o.seed = 4;
    return o;
}

TEST(Trainer, RunFolderHoldsCheckpointsLogAndBest)
{
    const std::string data = small_dataset("trainer-data");
    const std::string out = test::temp_dir("trainer-run") + "/run";
    Trainer t(small_run(data, out));
    std::vector<int> seen;
    EXPECT_EQ(t.run([&](const TrainProgress& p) { seen.push_back(p.step); }), 6);
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5, 6}));
    EXPECT_TRUE(fs::exists(out + "/config.json"));
    EXPECT_TRUE(fs::exists(out + "/best_net_G.pth"));
    EXPECT_FALSE(fs::exists(out + "/checkpoints/step_0000004")); // keep_last 1
    EXPECT_TRUE(fs::exists(out + "/checkpoints/step_0000006/net_D.pth"));
    EXPECT_EQ(t.last_checkpoint(), out + "/checkpoints/step_0000006/net_G.pth");
    const LoadedGenerator g = load_generator(t.last_checkpoint()); // loads like any checkpoint
    EXPECT_EQ(g.net->spec().num_downs, 6);
    std::ifstream log(out + "/log.jsonl");
    int lines = 0;
    for (std::string line; std::getline(log, line);)
        ++lines;
    EXPECT_EQ(lines, 6);
    EXPECT_THROW(Trainer(small_run(data, out)), Error); // the folder already holds a run
}

TEST(Trainer, ResumingGivesTheSameWeightsAsRunningThrough)
{
    const std::string data = small_dataset("resume-data");
    Trainer straight(small_run(data, test::temp_dir("resume-a") + "/run"));
    straight.run({});
    const std::string b = test::temp_dir("resume-b") + "/run";
    std::atomic<bool> stop{false};
    Trainer first(small_run(data, b));
    EXPECT_EQ(first.run([&](const TrainProgress& p) { stop = p.step >= 3; }, &stop), 3); // "Ctrl-C" after step 3
    Trainer again = Trainer::resume(b);
    EXPECT_EQ(again.step(), 3);
    EXPECT_EQ(again.run({}), 6);
    const StateDict x = read_state_dict(straight.last_checkpoint()), y = read_state_dict(again.last_checkpoint());
    ASSERT_EQ(x.entries.size(), y.entries.size());
    for (size_t k = 0; k < x.entries.size(); ++k)
        EXPECT_LE((x.entries[k].second - y.entries[k].second).abs().max().item<double>(), 1e-6) << x.entries[k].first;
}

TEST(Trainer, RefusesAGeneratorThatDoesNotFitTheData)
{
    const std::string data = small_dataset("mismatch-data");
    TrainOptions o = small_run(data, test::temp_dir("mismatch") + "/run");
    o.arch = task_preset("pose");
    o.arch.ngf = 4;
    try {
        Trainer t(o);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(data + ": the dataset has 1/4/3 channels"), std::string::npos) << e.what();
    }
}

TEST(Trainer, CliTrainsResumesAndReportsProgress)
{
    const std::string data = small_dataset("cli-train-data", 128);
    const std::string run = test::temp_dir("cli-train") + "/run";
    auto r = test::run_cli("train --data '" + data + "' --out '" + run + "' --steps 2 --batch 1 --ngf 4 --val-every 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("step 2/2"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("finished at step 2"), std::string::npos) << r.output;
    r = test::run_cli("train --resume '" + run + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;
    EXPECT_EQ(test::run_cli("train --data '" + data + "' --out '" + run + "2' --lr fast").exit_code, 2);
}

// Crash safety: a training process killed with SIGKILL (no handler runs) loses at most one
// checkpoint interval; --resume continues from the last checkpoint, which is whole and loadable.
TEST(Trainer, KillDashNineThenResumeLosesAtMostOneCheckpointInterval)
{
    const std::string data = small_dataset("kill-train-data", 128);
    const std::string run = test::temp_dir("kill-train") + "/run";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::freopen("/dev/null", "w", stdout);
        ::freopen("/dev/null", "w", stderr);
        ::execl(BFT_CLI, BFT_CLI, "train", "--data", data.c_str(), "--out", run.c_str(), "--steps", "100000", "--batch", "1", "--ngf", "4",
                "--checkpoint-every", "5", "--val-every", "100000", "--threads", "1", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Kill it once the second checkpoint is in (at most a minute).
    const auto latest_step = [&]() -> int {
        std::ifstream f(run + "/checkpoints/latest");
        std::string name;
        if (!(f >> name) || name.rfind("step_", 0) != 0)
            return 0;
        return std::stoi(name.substr(5));
    };
    for (int i = 0; i < 600 && latest_step() < 10; ++i)
        ::usleep(100 * 1000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    const int saved = latest_step();
    ASSERT_GE(saved, 10) << "no checkpoint within a minute";
    // The log may be a few steps ahead of the checkpoint: at most one interval (5 steps) is lost.
    int logged = 0;
    {
        std::ifstream log(run + "/log.jsonl");
        std::string line;
        while (std::getline(log, line))
            if (!line.empty() && line.back() == '}')
                logged = std::max(logged, nlohmann::json::parse(line).value("step", 0));
    }
    EXPECT_LE(logged - saved, 5) << "logged " << logged << ", saved " << saved;
    // No temporary file is mistaken for a checkpoint, and the checkpoint loads.
    auto r = test::run_cli("info '" + run + "/checkpoints/step_" + std::string(7 - std::to_string(saved).size(), '0') + std::to_string(saved) + "/net_G.pth'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    // Resume with a nearer end: it starts right after the checkpoint and finishes.
    std::ifstream cfg_in(run + "/config.json");
    nlohmann::json cfg = nlohmann::json::parse(cfg_in);
    cfg_in.close();
    cfg["steps"] = saved + 3;
    test::write_bytes(run + "/config.json", cfg.dump(2));
    r = test::run_cli("train --resume '" + run + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("finished at step " + std::to_string(saved + 3)), std::string::npos) << r.output;
}

TEST(Metrics, KnownValues)
{
    const at::Tensor a = at::rand({3, 32, 32}) * 2 - 1;
    EXPECT_EQ(metrics::l1(a, a), 0.0);
    EXPECT_TRUE(std::isinf(metrics::psnr(a, a)));
    EXPECT_NEAR(metrics::ssim(a, a), 1.0, 1e-9);
    const at::Tensor b = a + 0.1;
    EXPECT_NEAR(metrics::l1(a, b), 0.1, 1e-6);
    EXPECT_NEAR(metrics::psnr(a, b), 10 * std::log10(4 / 0.01), 1e-4);
    EXPECT_LT(metrics::ssim(a, at::rand({3, 32, 32}) * 2 - 1), 0.2); // unrelated images
    EXPECT_GT(metrics::ssim(a, b), 0.9);                              // a small shift
    EXPECT_NEAR(metrics::depth_rmse_m(a, a + 0.2, 0, 10), 1.0, 1e-6); // 0.2 of [-1, 1] over 10 m
}

TEST(Trainer, CliEvalReportsMetricsAndTheDepthBaseline)
{
    const std::string data = test::temp_dir("eval-data");
    synth::Options o;
    o.task = "depth";
    o.count = 5;
    o.size = 64;
    o.val_fraction = 0.4;
    synth::write_dataset(o, data);
    const std::string run = test::temp_dir("eval-run") + "/run";
    auto r = test::run_cli("train --data '" + data + "' --out '" + run + "' --steps 1 --batch 1 --ngf 4 --no-gan");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = test::run_cli("eval --checkpoint '" + run + "/checkpoints/step_0000001/net_G.pth' --data '" + data +
                          "' --json --grid '" + run + "/grid.png'",
                      /*stdout_only=*/true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto j = nlohmann::json::parse(r.output);
    EXPECT_EQ(j["samples"], 2);
    EXPECT_GT(j["rmse_m"].get<double>(), 0.0);
    EXPECT_GT(j["bicubic_rmse_m"].get<double>(), 0.0);
    EXPECT_LT(j["bicubic_rmse_m"].get<double>(), 1.0); // the baseline of a factor-8 input: decimetres
    ImageInfo info;
    read_image(run + "/grid.png", 3, &info);
    EXPECT_EQ(info.width, 4 * 64 + 3 * 4); // input | guide | output | target
    // A pose model on depth data is refused with a reason.
    r = test::run_cli("eval --checkpoint '" + test::parity_dir() + "/pose_resnet/weights.pth' --data '" + data + "'");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("the dataset has 1/3 -> 1"), std::string::npos) << r.output;
}

} // namespace
TEST(Trainer, ABadFileMidRunStopsWithAMessageAndKeepsWhatWasTrained)
{
    const std::string data = small_dataset("badfile-data");
    const std::string out = test::temp_dir("badfile-run") + "/run";
    TrainOptions o = small_run(data, out);
    o.steps = 40;
    o.checkpoint_every = 100; // no periodic checkpoint: whatever exists afterwards, the failure wrote
    Trainer t(o);
    // Damage one training target after the run has started: the loader meets it mid-run.
    int corrupted_at = -1;
    std::string damaged;
    for (const auto& e : fs::directory_iterator(data + "/train/target"))
        damaged = e.path().string();
    try {
        t.run([&](const TrainProgress& p) {
            if (p.step == 2) {
                std::ofstream(damaged, std::ios::trunc) << "not an image";
                corrupted_at = p.step;
            }
        });
        FAIL() << "training went on over a damaged file";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("checkpointed"), std::string::npos) << what;
        EXPECT_NE(what.find(fs::path(damaged).filename().string()), std::string::npos) << what;
    }
    ASSERT_EQ(corrupted_at, 2);
    ASSERT_GE(t.step(), 2);
    EXPECT_FALSE(t.last_checkpoint().empty());
    EXPECT_NO_THROW(load_generator(t.last_checkpoint()));
    // And the run resumes from there once the file is fixed (here: removed with its partners).
    const std::string id = fs::path(damaged).stem().string();
    for (const char* role : {"input", "guide", "target"})
        for (const auto& e : fs::directory_iterator(data + "/train/" + role))
            if (e.path().stem().string() == id)
                fs::remove(e.path());
    Trainer again = Trainer::resume(out);
    EXPECT_EQ(again.step(), t.step());
}

} // namespace bft
