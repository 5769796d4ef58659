#include "trainer.h"

#include "atomic_file.h"
#include "checkpoint.h"
#include "dataset.h"
#include "distributed.h"
#include "errors.h"
#include "inference.h"
#include "json_file.h"
#include "runtime.h"
#include "synth.h"

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

// The rows of the sample sheets: the first validation samples (training ones when there is no val split).
std::vector<Sample> preview_rows(const DatasetInfo& info)
{
    std::vector<Sample> rows;
    for (const char* split : {"val", "train"}) {
        const auto ids = sample_ids(info, split);
        for (size_t i = 0; i < ids.size() && rows.size() < 4; ++i)
            rows.push_back(load_sample(info, split, ids[i]));
        if (!rows.empty())
            break;
    }
    return rows;
}

nlohmann::json options_json(const TrainOptions& o)
{
    return {{"data_dir", o.data_dir},       {"from", o.from},           {"arch", nlohmann::json::parse(o.arch.to_json())},
            {"steps", o.steps},             {"batch", o.batch},         {"decay_from", o.decay_from},
            {"use_gan", o.step.use_gan},    {"lambda_l1", o.step.lambda_l1}, {"lr", o.step.lr},
            {"beta1", o.step.beta1},        {"beta2", o.step.beta2},    {"ndf", o.step.ndf},
            {"n_layers_d", o.step.n_layers_d}, {"checkpoint_every", o.checkpoint_every},
            {"keep_last", o.keep_last},     {"val_every", o.val_every}, {"val_samples", o.val_samples},
            {"seed", o.seed},               {"loader_threads", o.loader_threads}, {"flip", o.flip},
            {"device", o.device},           {"lr_rule", o.lr_rule},     {"lr_asked", o.lr_asked},
            {"lr_base_batch", o.lr_base_batch}, {"accumulate", o.accumulate}, {"preview_every", o.preview_every}};
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
    o.device = j.value("device", "cpu");
    o.accumulate = optional(j, "accumulate", 1, 1, 4096);
    o.preview_every = optional(j, "preview_every", 0, 0, 100000000);
    // Runs made before the trainer drew the sample sheets kept the editor's interval beside them.
    if (!j.contains("preview_every") && fs::exists(fs::path(run_dir) / "studio.json"))
        o.preview_every = static_cast<int>(
            json_integer(read_json_file((fs::path(run_dir) / "studio.json").string()), "preview_every", 0, 0, 100000000,
                         (fs::path(run_dir) / "studio.json").string()));
    o.lr_rule = j.value("lr_rule", "fixed");
    o.lr_asked = j.value("lr_asked", o.step.lr);
    o.lr_base_batch = static_cast<int>(json_integer(j, "lr_base_batch", 0, 0, 100000000, where));
    return o;
}

// The rate in force for the rate asked for, by the run's rule.
double scaled_lr(const TrainOptions& o)
{
    const double base = o.lr_base_batch > 0 ? o.lr_base_batch : o.batch;
    const double ratio = o.batch / base;
    if (o.lr_rule == "fixed")
        return o.lr_asked;
    if (o.lr_rule == "linear")
        return o.lr_asked * ratio;
    if (o.lr_rule == "sqrt")
        return o.lr_asked * std::sqrt(ratio);
    throw Error("unknown learning-rate rule '" + o.lr_rule + "' (expected fixed, linear or sqrt)");
}

// The global batch must split into equal shares per rank, and each share into equal micro-batches.
void check_split(const TrainOptions& o, int world, const std::string& where)
{
    if (o.accumulate < 1)
        throw Error(where, "accumulate must be at least 1");
    if (o.batch % world != 0)
        throw Error(where, "the global batch of " + std::to_string(o.batch) + " does not split evenly over " +
                               std::to_string(world) + " ranks (--batch is the global batch)");
    if ((o.batch / world) % o.accumulate != 0)
        throw Error(where, "each rank's " + std::to_string(o.batch / world) + " samples do not split into " +
                               std::to_string(o.accumulate) + " micro-batches (--accumulate)");
}

} // namespace

bool Trainer::writer() const { return rank() == 0; }
int Trainer::rank() const { return group_ ? group_->rank() : 0; }
int Trainer::world() const { return group_ ? group_->world() : 1; }

void Trainer::init_fresh(Generator& g, bool init_generator)
{
    if (init_generator) {
        at::manual_seed(options_.seed);
        init_normal(*g);
    }
    train_ = std::make_unique<TrainStep>(g, options_.step, resolve_device(options_.device));
    if (train_->discriminator()) {
        at::manual_seed(options_.seed + 1);
        init_normal(*train_->discriminator());
    }
}

void Trainer::join_group()
{
    if (world() > 1)
        train_->data_parallel(group_);
}

Trainer::Trainer(TrainOptions options, std::shared_ptr<dist::Group> group)
    : options_(std::move(options)), group_(std::move(group))
{
    // Every rank checks what it can; rank 0 alone makes the run folder. Then they agree, so that a
    // problem on any rank stops all of them with its message instead of leaving the others waiting.
    std::string problem;
    Generator g;
    try {
        const DatasetInfo info = DatasetInfo::read(options_.data_dir);
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
        check_split(options_, world(), "");
        if (options_.lr_asked <= 0)
            options_.lr_asked = options_.step.lr;
        options_.step.lr = scaled_lr(options_);
        resolve_device(options_.device);
        if (writer()) {
            if (fs::exists(fs::path(options_.out_dir) / "config.json"))
                throw Error(options_.out_dir, "already holds a run (resume it, or choose another folder)");
            fs::create_directories(fs::path(options_.out_dir) / "checkpoints");
        }
    } catch (const std::exception& e) {
        if (!group_)
            throw;
        problem = e.what();
    }
    if (group_)
        group_->agree(problem, "starting the run");
    init_fresh(g, /*init_generator=*/options_.from.empty());
    join_group();
    if (writer())
        write_config();
}

Trainer Trainer::resume(const std::string& run_dir, std::shared_ptr<dist::Group> group, const std::string& device,
                        int accumulate)
{
    Trainer t;
    t.group_ = std::move(group);
    std::string problem;
    try {
        const std::string config = (fs::path(run_dir) / "config.json").string();
        const nlohmann::json j = read_json_file(config);
        try {
            t.options_ = options_from_json(j, run_dir);
        } catch (const nlohmann::json::exception& e) {
            throw Error(config, std::string("invalid field: ") + e.what());
        }
        if (!device.empty())
            t.options_.device = device;
        else if (t.group_ && t.options_.device.rfind("cuda", 0) == 0) // a GPU per rank, as the run had
            t.options_.device = "cuda:" + std::to_string(t.group_->local_rank());
        if (accumulate > 0)
            t.options_.accumulate = accumulate;
        check_split(t.options_, t.world(), config);
        const std::string latest_file = (fs::path(run_dir) / "checkpoints" / "latest").string();
        const std::string latest = fs::exists(latest_file) ? read_file(latest_file) : std::string();
        const fs::path dir = fs::path(run_dir) / "checkpoints" / latest;
        if (latest.empty()) { // killed before the first checkpoint: start again as the run started
            Generator g = t.options_.from.empty() ? make_generator(t.options_.arch) : load_generator(t.options_.from).net;
            t.init_fresh(g, /*init_generator=*/t.options_.from.empty());
        } else {
            t.train_ = std::make_unique<TrainStep>(load_generator((dir / "net_G.pth").string()).net, t.options_.step,
                                                   resolve_device(t.options_.device));
            t.train_->load_state(dir.string());
            const std::string state_path = (dir / "state.json").string();
            const nlohmann::json state = read_json_file(state_path);
            try {
                t.step_ = state.at("step");
                t.best_val_ = state.value("best_val_l1", -1.0);
            } catch (const nlohmann::json::exception& e) {
                throw Error(state_path, std::string("invalid field: ") + e.what());
            }
        }
    } catch (const std::exception& e) {
        if (!t.group_)
            throw;
        problem = e.what();
    }
    if (t.group_) {
        t.group_->agree(problem, "resuming " + run_dir);
        // Every rank reads the run folder itself: it must be the same one (a shared file system).
        t.group_->check_same("step " + std::to_string(t.step_), "resuming " + run_dir);
    }
    t.join_group();
    if (t.writer())
        t.write_config();
    return t;
}

void Trainer::write_config() const
{
    nlohmann::json j = options_json(options_);
    // How the run trains now (a resume may use another world size; the global batch stays).
    j["world_size"] = world();
    j["per_rank_batch"] = options_.batch / world();
    j["micro_batch"] = options_.batch / world() / options_.accumulate;
    j["backend"] = group_ ? group_->backend() : "none";
    write_file_atomically((fs::path(options_.out_dir) / "config.json").string(), j.dump(2) + "\n");
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
    // Sharded over the ranks (samples r, r + world, ...), the sums reduced.
    double sum = 0;
    for (size_t k = static_cast<size_t>(rank()); k < ids.size(); k += static_cast<size_t>(world())) {
        const Sample s = load_sample(info, "val", ids[k]);
        const Translation t = translate(*g, s.input, s.guide, resolve_device(options_.device));
        // Over the readings only (depth targets may have holes, loaded as NaN).
        const at::Tensor valid = at::isfinite(s.target);
        sum += (t.output[0] - s.target).abs().masked_select(valid).mean().item<double>();
    }
    g->train();
    if (world() > 1) {
        const at::Tensor total = at::tensor({sum}, at::kDouble).to(resolve_device(options_.device));
        group_->allreduce_sum(total);
        sum = total.cpu().item<double>();
    }
    return sum / static_cast<double>(ids.size());
}

void Trainer::checkpoint(bool final)
{
    if (!writer())
        return;
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
        if (world() > 1) {
            // The others must hear of a failure here; one elsewhere they already know of. A step that
            // failed on one rank may be half done on another: the last checkpoint is the good state.
            const bool peer = dynamic_cast<const dist::PeerError*>(&e) != nullptr;
            if (!peer)
                group_->publish_failure(e.what());
            const std::string last = last_checkpoint();
            const std::string message = std::string(e.what()) + (last.empty() ? "; no checkpoint was written yet"
                                                                             : "; the last checkpoint, " + last + ", is intact: resume from it");
            if (peer)
                throw dist::PeerError(message);
            throw Error(message);
        }
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
    if (world() > 1) {
        try {
            checkpoint(step_ >= options_.steps);
            group_->wait_for_writer("the last checkpoint");
            group_->barrier(); // nobody leaves while another still needs the store (it may live in rank 0)
        } catch (const dist::PeerError&) {
            throw;
        } catch (const std::exception& e) {
            group_->publish_failure(e.what());
            throw;
        }
        group_->finish();
        return step_;
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
    lo.rank = rank();
    lo.world = world();
    DataLoader loader(info, "train", lo);
    const int decay_from = options_.decay_from >= 0 ? options_.decay_from : options_.steps / 2;
    std::ofstream log;
    if (writer())
        log.open(fs::path(options_.out_dir) / "log.jsonl", std::ios::app);
    const c10::Device device = resolve_device(options_.device);
    const std::vector<Sample> sheet_rows = writer() && options_.preview_every > 0 ? preview_rows(info) : std::vector<Sample>{};
    const auto t0 = std::chrono::steady_clock::now();
    const int start = step_;
    bool stop = false;
    // Alone, a stop request ends the run before the next step; data parallel, the ranks agree on it
    // after each step, so that all of them stop after the same one.
    while (step_ < options_.steps && !stop && !(world() == 1 && cancel && cancel->load())) {
        // Constant, then linear decay to zero at the last step (the reference's "lambda" policy).
        const double lr = options_.step.lr * (step_ < decay_from ? 1.0
                                                                 : 1.0 - static_cast<double>(step_ - decay_from) /
                                                                             static_cast<double>(options_.steps - decay_from + 1));
        train_->set_lr(lr);
        if (group_)
            group_->set_step(step_ + 1); // the step this rank is working on
        const auto batch = loader.next();
        TrainProgress p;
        p.world = world();
        p.losses = train_->run(batch[0].to(device), batch[1].to(device), batch[2].to(device), options_.accumulate);
        if (world() > 1) {
            // The global batch's losses (the mean of the ranks' means), and whether any rank was asked to stop.
            const at::Tensor v = at::tensor({p.losses.g_l1, p.losses.g_gan, p.losses.d_real, p.losses.d_fake,
                                             cancel && cancel->load() ? 1.0 : 0.0},
                                            at::kDouble)
                                     .to(device);
            group_->allreduce_sum(v);
            const at::Tensor h = v.cpu() / static_cast<double>(world());
            const double* x = h.data_ptr<double>();
            p.losses = StepLosses{x[0], x[1], x[2], x[3]};
            stop = x[4] > 0;
            p.allreduce_ms = train_->allreduce_ms();
            p.allreduce_exposed_ms = train_->allreduce_exposed_ms();
        }
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
        bool new_best = false;
        if (options_.val_every > 0 && (step_ % options_.val_every == 0 || step_ == options_.steps)) {
            p.val_l1 = validate();
            if (p.val_l1 >= 0 && (best_val_ < 0 || p.val_l1 < best_val_)) {
                new_best = true;
                best_val_ = p.val_l1;
                if (writer())
                    write_state_dict((fs::path(options_.out_dir) / "best_net_G.pth").string(),
                                 generator_state(*train_->generator()));
            }
        }
        const bool sheet_now = options_.preview_every > 0 && (step_ % options_.preview_every == 0 || step_ == options_.steps);
        if (sheet_now && !sheet_rows.empty()) {
            std::vector<at::Tensor> outputs;
            for (const Sample& s : sheet_rows)
                outputs.push_back(translate(*train_->generator(), s.input, s.guide, device).output[0]);
            p.preview_png = (fs::path(options_.out_dir) / "samples" / (step_name(step_) + ".png")).string();
            fs::create_directories(fs::path(p.preview_png).parent_path());
            synth::write_sample_sheet(info, sheet_rows, &outputs, p.preview_png);
        }
        if (writer()) {
            nlohmann::json entry{{"step", step_},          {"lr", lr},
                                 {"g_l1", p.losses.g_l1},   {"g_gan", p.losses.g_gan},
                                 {"d_real", p.losses.d_real}, {"d_fake", p.losses.d_fake},
                                 {"val_l1", p.val_l1}};
            entry["elapsed_s"] = elapsed;
            if (!p.preview_png.empty())
                entry["preview"] = fs::path(p.preview_png).filename().string();
            if (world() > 1) {
                entry["world"] = world();
                entry["allreduce_ms"] = p.allreduce_ms;
                entry["allreduce_exposed_ms"] = p.allreduce_exposed_ms;
            }
            log << entry.dump() << "\n" << std::flush;
        }
        const bool checkpoint_now = options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0 && step_ < options_.steps;
        if (checkpoint_now)
            checkpoint(false);
        // Rank 0 wrote files this step: the others wait for it here, without the collectives'
        // timeout, so a slow disk does not read as a hung rank. (Decided alike on every rank.)
        if (world() > 1 && (checkpoint_now || new_best || sheet_now))
            group_->wait_for_writer("the files of step " + std::to_string(step_));
        if (progress)
            progress(p);
    }
}

Generator Trainer::generator() const { return train_->generator(); }

} // namespace bft
