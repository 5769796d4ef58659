#include "trainer.h"

#include "atomic_file.h"
#include "checkpoint.h"
#include "dataset.h"
#include "errors.h"
#include "inference.h"
#include "json_file.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace bft {

namespace fs = std::filesystem;

namespace {

// The reference's init_weights('normal', 0.02): conv weights ~ N(0, 0.02), biases 0.
void init_normal(torch::nn::Module& m)
{
    torch::NoGradGuard no_grad;
    for (auto& p : m.named_parameters()) {
        const std::string& k = p.key();
        if (k.size() > 7 && k.compare(k.size() - 7, 7, ".weight") == 0)
            p.value().normal_(0, 0.02);
        else
            p.value().zero_();
    }
}

std::string step_name(int step)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "step_%07d", step);
    return buf;
}

nlohmann::json options_json(const TrainOptions& o)
{
    return {{"data_dir", o.data_dir},       {"from", o.from},           {"arch", nlohmann::json::parse(o.arch.to_json())},
            {"steps", o.steps},             {"batch", o.batch},         {"decay_from", o.decay_from},
            {"use_gan", o.step.use_gan},    {"lambda_l1", o.step.lambda_l1}, {"lr", o.step.lr},
            {"beta1", o.step.beta1},        {"beta2", o.step.beta2},    {"ndf", o.step.ndf},
            {"n_layers_d", o.step.n_layers_d}, {"checkpoint_every", o.checkpoint_every},
            {"keep_last", o.keep_last},     {"val_every", o.val_every}, {"val_samples", o.val_samples},
            {"seed", o.seed},               {"loader_threads", o.loader_threads}, {"flip", o.flip}};
}

TrainOptions options_from_json(const nlohmann::json& j, const std::string& run_dir)
{
    TrainOptions o;
    o.out_dir = run_dir;
    o.data_dir = j.at("data_dir").get<std::string>();
    o.from = j.value("from", "");
    const auto& a = j.at("arch");
    o.arch.arch = arch_from_name(a.at("arch").get<std::string>());
    const std::string where = (fs::path(run_dir) / "config.json").string();
    auto integer = [&](const nlohmann::json& from, const char* key, int64_t lo, int64_t hi) {
        return static_cast<int>(json_integer(from, key, 0, lo, hi, where, true));
    };
    auto optional = [&](const nlohmann::json& from, const char* key, int fallback, int64_t lo, int64_t hi) {
        return static_cast<int>(json_integer(from, key, fallback, lo, hi, where));
    };
    o.arch.input_nc = integer(a, "input_nc", 1, 64), o.arch.guide_nc = integer(a, "guide_nc", 1, 64);
    o.arch.output_nc = integer(a, "output_nc", 1, 64), o.arch.ngf = integer(a, "ngf", 1, 1024);
    o.arch.bottleneck_depth = optional(a, "bottleneck_depth", 100, 1, 4096);
    o.arch.n_blocks = optional(a, "n_blocks", 9, 0, 64), o.arch.num_downs = optional(a, "num_downs", 7, 1, 12);
    o.steps = integer(j, "steps", 1, 100000000), o.batch = integer(j, "batch", 1, 4096);
    o.decay_from = optional(j, "decay_from", -1, -1, 100000000);
    o.step.use_gan = j.at("use_gan");
    o.step.lambda_l1 = json_number(j, "lambda_l1", 0, 0, 1e6, where, true), o.step.lr = json_number(j, "lr", 0, 0, 1, where, true);
    o.step.beta1 = json_number(j, "beta1", 0, 0, 1, where, true), o.step.beta2 = json_number(j, "beta2", 0, 0, 1, where, true);
    o.step.ndf = optional(j, "ndf", 64, 1, 1024), o.step.n_layers_d = optional(j, "n_layers_d", 3, 1, 8);
    o.checkpoint_every = integer(j, "checkpoint_every", 1, 100000000), o.keep_last = integer(j, "keep_last", 0, 1000000);
    o.val_every = integer(j, "val_every", 0, 100000000), o.val_samples = integer(j, "val_samples", 0, 100000000);
    o.seed = static_cast<uint64_t>(json_integer(j, "seed", 0, 0, INT64_MAX, where, true));
    o.loader_threads = integer(j, "loader_threads", 0, 256);
    o.flip = j.value("flip", true);
    return o;
}

} // namespace

void Trainer::init_fresh(Generator& g, bool init_generator)
{
    if (init_generator) {
        at::manual_seed(options_.seed);
        init_normal(*g);
    }
    train_ = std::make_unique<TrainStep>(g, options_.step, c10::Device(c10::kCPU));
    if (train_->discriminator()) {
        at::manual_seed(options_.seed + 1);
        init_normal(*train_->discriminator());
    }
}

Trainer::Trainer(TrainOptions options) : options_(std::move(options))
{
    const DatasetInfo info = DatasetInfo::read(options_.data_dir);
    Generator g;
    if (!options_.from.empty()) {
        g = load_generator(options_.from).net;
        options_.arch = g->spec();
    } else {
        g = make_generator(options_.arch);
    }
    const ArchSpec& s = g->spec();
    if (s.input_nc != info.input_nc || s.guide_nc != info.guide_nc || s.output_nc != info.output_nc)
        throw Error(options_.data_dir, "the dataset has " + std::to_string(info.input_nc) + "/" +
                                           std::to_string(info.guide_nc) + "/" + std::to_string(info.output_nc) +
                                           " channels (input/guide/output), the generator " + s.describe());
    if (options_.steps < 1 || options_.batch < 1)
        throw Error("steps and batch must be at least 1");
    if (fs::exists(fs::path(options_.out_dir) / "config.json"))
        throw Error(options_.out_dir, "already holds a run (resume it, or choose another folder)");
    fs::create_directories(fs::path(options_.out_dir) / "checkpoints");
    init_fresh(g, /*init_generator=*/options_.from.empty());
    write_config();
}

Trainer Trainer::resume(const std::string& run_dir)
{
    const std::string config = (fs::path(run_dir) / "config.json").string();
    const nlohmann::json j = read_json_file(config);
    Trainer t;
    try {
        t.options_ = options_from_json(j, run_dir);
    } catch (const nlohmann::json::exception& e) {
        throw Error(config, std::string("invalid field: ") + e.what());
    }
    const std::string latest_file = (fs::path(run_dir) / "checkpoints" / "latest").string();
    const std::string latest = fs::exists(latest_file) ? read_file(latest_file) : std::string();
    const fs::path dir = fs::path(run_dir) / "checkpoints" / latest;
    if (latest.empty()) { // killed before the first checkpoint: start again as the run started
        Generator g = t.options_.from.empty() ? make_generator(t.options_.arch) : load_generator(t.options_.from).net;
        t.init_fresh(g, /*init_generator=*/t.options_.from.empty());
        return t;
    }
    t.train_ = std::make_unique<TrainStep>(load_generator((dir / "net_G.pth").string()).net, t.options_.step,
                                           c10::Device(c10::kCPU));
    t.train_->load_state(dir.string());
    const std::string state_path = (dir / "state.json").string();
    const nlohmann::json state = read_json_file(state_path);
    try {
        t.step_ = state.at("step");
        t.best_val_ = state.value("best_val_l1", -1.0);
    } catch (const nlohmann::json::exception& e) {
        throw Error(state_path, std::string("invalid field: ") + e.what());
    }
    return t;
}

void Trainer::write_config() const
{
    write_file_atomically((fs::path(options_.out_dir) / "config.json").string(), options_json(options_).dump(2) + "\n");
}

std::string Trainer::last_checkpoint() const
{
    const fs::path latest = fs::path(options_.out_dir) / "checkpoints" / "latest";
    if (!fs::exists(latest))
        return {};
    return (fs::path(options_.out_dir) / "checkpoints" / read_file(latest.string()) / "net_G.pth").string();
}

double Trainer::validate()
{
    const DatasetInfo info = DatasetInfo::read(options_.data_dir);
    auto ids = sample_ids(info, "val");
    if (ids.empty())
        return -1;
    ids.resize(std::min(ids.size(), static_cast<size_t>(std::max(1, options_.val_samples))));
    Generator g = train_->generator();
    g->eval();
    double sum = 0;
    for (const auto& id : ids) {
        const Sample s = load_sample(info, "val", id);
        const Translation t = translate(*g, s.input, s.guide, c10::Device(c10::kCPU));
        // Over the readings only (depth targets may have holes, loaded as NaN).
        const at::Tensor valid = at::isfinite(s.target);
        sum += (t.output[0] - s.target).abs().masked_select(valid).mean().item<double>();
    }
    g->train();
    return sum / static_cast<double>(ids.size());
}

void Trainer::checkpoint(bool final)
{
    const fs::path root = fs::path(options_.out_dir) / "checkpoints";
    const fs::path dir = root / step_name(step_);
    fs::create_directories(dir);
    write_state_dict((dir / "net_G.pth").string(), generator_state(*train_->generator()));
    train_->save_state(dir.string());
    write_file_atomically((dir / "state.json").string(),
                          nlohmann::json{{"step", step_}, {"best_val_l1", best_val_}, {"final", final}}.dump() + "\n");
    write_file_atomically((root / "latest").string(), step_name(step_));
    // Keep the last K checkpoints (and whatever "latest" names).
    std::vector<fs::path> all;
    for (const auto& e : fs::directory_iterator(root))
        if (e.is_directory() && e.path().filename().string().rfind("step_", 0) == 0)
            all.push_back(e.path());
    std::sort(all.begin(), all.end());
    for (size_t k = 0; k + static_cast<size_t>(std::max(1, options_.keep_last)) < all.size(); ++k)
        fs::remove_all(all[k]);
}

int Trainer::run(const std::function<void(const TrainProgress&)>& progress, const std::atomic<bool>* cancel)
{
    const int64_t first_step = step_;
    try {
        run_steps(progress, cancel);
    } catch (const std::exception& e) {
        if (step_ == first_step) // nothing new was trained: no checkpoint to write
            throw;
        // Keep what was trained: the state after the last completed step, if the disk takes it -
        // unless the weights themselves went bad (NaN), when the last checkpoint is what is good.
        std::string saved;
        if (poisoned_)
            throw Error(std::string(e.what()) + "; the last checkpoint before it is the last good state");
        try {
            checkpoint(false);
            saved = "; the state after step " + std::to_string(step_) + " is checkpointed (resume the run to go on)";
        } catch (const std::exception& again) {
            saved = std::string("; checkpointing failed too: ") + again.what();
        }
        throw Error(std::string(e.what()) + saved);
    }
    checkpoint(step_ >= options_.steps);
    return step_;
}

void Trainer::run_steps(const std::function<void(const TrainProgress&)>& progress, const std::atomic<bool>* cancel)
{
    const DatasetInfo info = DatasetInfo::read(options_.data_dir);
    DataLoader::Options lo;
    lo.batch = options_.batch;
    lo.seed = options_.seed;
    lo.threads = options_.loader_threads;
    lo.flip = options_.flip;
    lo.first_batch = static_cast<size_t>(step_); // one batch per step: resuming continues the sequence
    DataLoader loader(info, "train", lo);
    const int decay_from = options_.decay_from >= 0 ? options_.decay_from : options_.steps / 2;
    std::ofstream log(fs::path(options_.out_dir) / "log.jsonl", std::ios::app);
    const auto t0 = std::chrono::steady_clock::now();
    const int start = step_;
    while (step_ < options_.steps && !(cancel && cancel->load())) {
        // Constant, then linear decay to zero at the last step (the reference's "lambda" policy).
        const double lr = options_.step.lr * (step_ < decay_from ? 1.0
                                                                 : 1.0 - static_cast<double>(step_ - decay_from) /
                                                                             static_cast<double>(options_.steps - decay_from + 1));
        train_->set_lr(lr);
        const auto batch = loader.next();
        TrainProgress p;
        p.losses = train_->run(batch[0], batch[1], batch[2]);
        if (!std::isfinite(p.losses.g_l1) || !std::isfinite(p.losses.g_gan)) {
            poisoned_ = true;
            throw Error(options_.out_dir, "the loss became NaN at step " + std::to_string(step_ + 1) +
                                              " (learning rate too high?)");
        }
        ++step_;
        p.step = step_;
        p.total = options_.steps;
        p.lr = lr;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        p.steps_per_s = (step_ - start) / std::max(1e-9, elapsed);
        p.eta_s = (options_.steps - step_) / std::max(1e-9, p.steps_per_s);
        if (options_.val_every > 0 && (step_ % options_.val_every == 0 || step_ == options_.steps)) {
            p.val_l1 = validate();
            if (p.val_l1 >= 0 && (best_val_ < 0 || p.val_l1 < best_val_)) {
                best_val_ = p.val_l1;
                write_state_dict((fs::path(options_.out_dir) / "best_net_G.pth").string(),
                                 generator_state(*train_->generator()));
            }
        }
        log << nlohmann::json{{"step", step_},          {"lr", lr},
                              {"g_l1", p.losses.g_l1},   {"g_gan", p.losses.g_gan},
                              {"d_real", p.losses.d_real}, {"d_fake", p.losses.d_fake},
                              {"val_l1", p.val_l1}}
                   .dump()
            << "\n"
            << std::flush;
        if (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0 && step_ < options_.steps)
            checkpoint(false);
        if (progress)
            progress(p);
    }
}

Generator Trainer::generator() const { return train_->generator(); }

} // namespace bft
