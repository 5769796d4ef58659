#include "live_training.h"

#include "arch.h"
#include "atomic_file.h"
#include "dataset.h"
#include "errors.h"
#include "importers.h"
#include "inference.h"
#include "json_file.h"
#include "process.h"
#include "synth.h"
#include "trainer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace bft::live {

namespace fs = std::filesystem;

namespace {

// The run's sample-sheet interval: config.json's, or (runs made before the trainer drew them) the
// editor's studio.json, or the validation interval.
int preview_every_of(const std::string& run_dir, const nlohmann::json& config, int fallback)
{
    if (config.contains("preview_every") && config["preview_every"].is_number_integer())
        return static_cast<int>(std::clamp<int64_t>(config["preview_every"].get<int64_t>(), 0, 100000000));
    const fs::path p = fs::path(run_dir) / "studio.json";
    if (!fs::exists(p))
        return fallback;
    return read_json_file(p.string()).value("preview_every", fallback);
}

} // namespace

DatasetSummary check_dataset(const std::string& dir, const std::function<bool(int, int)>& progress)
{
    const DatasetInfo info = DatasetInfo::read(dir);
    const DatasetReport report = bft::check_dataset(dir, progress);
    DatasetSummary s;
    s.task = info.task;
    s.input_nc = info.input_nc;
    s.guide_nc = info.guide_nc;
    s.output_nc = info.output_nc;
    s.counts = report.split_counts;
    for (const DatasetProblem& p : report.problems)
        s.problems.emplace_back(p.file, p.message);
    return s;
}

void make_synthetic_dataset(const std::string& task, int count, int size, uint64_t seed, const std::string& dir,
                            const std::function<bool(int, int)>& progress)
{
    synth::Options o;
    o.task = task;
    o.count = count;
    o.size = size;
    o.seed = seed;
    synth::write_dataset(o, dir, progress);
}

ImportSummary import_dataset(const ImportRequest& rq, const std::function<bool(int, int)>& progress)
{
    bool stopped = false;
    importers::Progress p{[&](int done, int total) {
        const bool go = !progress || progress(done, total);
        stopped = stopped || !go;
        return go;
    }};
    importers::Options o;
    o.nyu.factor = rq.factor;
    o.nyu.splits_file = rq.splits_file;
    o.nyu.inputs_dir = rq.inputs_dir;
    o.pix2pix.task = rq.task;
    o.pix2pix.guides = rq.guides;
    o.rgbd.factor = rq.factor;
    o.rgbd.depth_scale = rq.depth_scale;
    const importers::Report r = importers::import(rq.format, rq.source, rq.destination, o, p);
    ImportSummary s;
    s.counts = r.counts;
    s.written = r.written;
    s.kept = r.kept;
    for (const DatasetProblem& q : r.skipped)
        s.skipped.emplace_back(q.file, q.message);
    s.stopped = stopped;
    s.text = r.text();
    return s;
}

struct TrainingJob::State {
    std::unique_ptr<Trainer> trainer; // in this process
    // ... or `bft train --nproc N` in its own processes, followed through rank 0's log.
    std::string program, run_dir;
    std::vector<std::string> args;
    int step = 0, total = 0;
};

TrainingJob::TrainingJob() : d_(std::make_unique<State>()) {}
TrainingJob::~TrainingJob() = default;

namespace {

// The launcher's command line for a request: the options `bft train` has for each field.
std::vector<std::string> launch_args(const TrainRequest& rq)
{
    std::vector<std::string> a = {"train", "--nproc", std::to_string(rq.processes), "--device",
                                  rq.device.rfind("cuda", 0) == 0 ? "cuda" : rq.device};
    auto opt = [&](const char* name, const std::string& value) {
        a.push_back(name);
        a.push_back(value);
    };
    opt("--data", rq.data_dir);
    opt("--out", rq.run_dir);
    if (!rq.from.empty())
        opt("--from", rq.from);
    else {
        opt("--ngf", std::to_string(rq.ngf));
        opt("--film", rq.one_way ? "uFT" : "bFT");
    }
    char lr[32];
    std::snprintf(lr, sizeof lr, "%.9g", rq.lr);
    opt("--steps", std::to_string(rq.steps));
    opt("--batch", std::to_string(rq.batch));
    opt("--lr", lr);
    opt("--lambda-l1", std::to_string(rq.lambda_l1));
    opt("--val-every", std::to_string(rq.val_every));
    opt("--preview-every", std::to_string(rq.preview_every));
    opt("--checkpoint-every", std::to_string(rq.checkpoint_every));
    opt("--seed", std::to_string(rq.seed));
    if (!rq.gan)
        a.push_back("--no-gan");
    if (!rq.flip)
        a.push_back("--no-flip");
    return a;
}

std::string require_program(const TrainRequest& rq)
{
    if (rq.bft_program.empty() || !fs::exists(rq.bft_program))
        throw Error(rq.bft_program.empty() ? std::string("bft") : rq.bft_program,
                    "not found: training in several processes runs the bft command line, which is installed beside the editor");
    return rq.bft_program;
}

} // namespace

std::unique_ptr<TrainingJob> TrainingJob::start(const TrainRequest& rq)
{
    const DatasetSummary data = check_dataset(rq.data_dir);
    if (!data.ok())
        throw Error(rq.data_dir, "the dataset has " + std::to_string(data.problems.size()) +
                                     " problem(s); the first: " + data.problems.front().first + ": " +
                                     data.problems.front().second);
    std::unique_ptr<TrainingJob> job(new TrainingJob);
    if (rq.processes > 1) {
        job->d_->program = require_program(rq);
        job->d_->args = launch_args(rq);
        job->d_->run_dir = rq.run_dir;
        job->d_->total = rq.steps;
        return job;
    }
    TrainOptions o;
    o.data_dir = rq.data_dir;
    o.out_dir = rq.run_dir;
    o.from = rq.from;
    o.arch = task_preset(data.task);
    o.arch.ngf = rq.ngf;
    if (rq.one_way)
        o.arch.arch = o.arch.is_resnet() ? Arch::UftResnet : Arch::UftUnet;
    o.steps = rq.steps;
    o.batch = rq.batch;
    o.step.lr = rq.lr;
    o.step.lambda_l1 = rq.lambda_l1;
    o.step.use_gan = rq.gan;
    o.flip = rq.flip;
    o.val_every = rq.val_every;
    o.preview_every = rq.preview_every;
    o.checkpoint_every = rq.checkpoint_every;
    o.seed = rq.seed;
    o.device = rq.device;
    job->d_->trainer = std::make_unique<Trainer>(o);
    return job;
}

std::unique_ptr<TrainingJob> TrainingJob::resume(const std::string& run_dir, const TrainRequest& how)
{
    std::unique_ptr<TrainingJob> job(new TrainingJob);
    if (how.processes > 1) {
        const RunInfo r = read_run(run_dir); // a clear error here rather than from a child process
        job->d_->program = require_program(how);
        job->d_->args = {"train", "--nproc", std::to_string(how.processes), "--device",
                         how.device.rfind("cuda", 0) == 0 ? "cuda" : how.device, "--resume", run_dir};
        job->d_->run_dir = run_dir;
        job->d_->step = r.step_reached;
        job->d_->total = r.steps;
        return job;
    }
    job->d_->trainer = std::make_unique<Trainer>(Trainer::resume(run_dir, nullptr, how.device));
    return job;
}

std::string TrainingJob::run_dir() const { return d_->trainer ? d_->trainer->options().out_dir : d_->run_dir; }
int TrainingJob::step() const { return d_->trainer ? d_->trainer->step() : d_->step; }
int TrainingJob::total() const { return d_->trainer ? d_->trainer->options().steps : d_->total; }

namespace {

// A number of a log line; absent, null (a NaN as nlohmann writes it) or not a number: the fallback.
double number(const nlohmann::json& j, const char* key, double fallback)
{
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

TrainTick tick_of(const nlohmann::json& j, int total)
{
    TrainTick t;
    t.step = j["step"].is_number_integer() ? static_cast<int>(std::clamp<int64_t>(j["step"].get<int64_t>(), 0, 100000000)) : 0;
    t.total = total;
    t.g_l1 = number(j, "g_l1", 0);
    t.g_gan = number(j, "g_gan", 0);
    t.d_real = number(j, "d_real", 0);
    t.d_fake = number(j, "d_fake", 0);
    t.val_l1 = number(j, "val_l1", -1);
    return t;
}

} // namespace

int TrainingJob::run(const std::function<void(const TrainTick&)>& on_tick,
                     const std::function<void(const std::string&, int)>& on_preview, const std::atomic<bool>* stop)
{
    if (!d_->trainer)
        return run_processes(on_tick, on_preview, stop);
    Trainer& trainer = *d_->trainer;
    return trainer.run(
        [&](const TrainProgress& p) {
            TrainTick t;
            t.step = p.step;
            t.total = p.total;
            t.g_l1 = p.losses.g_l1;
            t.g_gan = p.losses.g_gan;
            t.d_real = p.losses.d_real;
            t.d_fake = p.losses.d_fake;
            t.steps_per_s = p.steps_per_s;
            t.eta_s = p.eta_s;
            t.val_l1 = p.val_l1;
            if (on_tick)
                on_tick(t);
            if (!p.preview_png.empty() && on_preview)
                on_preview(p.preview_png, p.step);
        },
        stop);
}

int TrainingJob::run_processes(const std::function<void(const TrainTick&)>& on_tick,
                               const std::function<void(const std::string&, int)>& on_preview, const std::atomic<bool>* stop)
{
    State& d = *d_;
    fs::create_directories(d.run_dir);
    const std::string log_path = (fs::path(d.run_dir) / "launch.log").string();
    const fs::path jsonl = fs::path(d.run_dir) / "log.jsonl";
    // Rank 0 appends to the log: follow it from where it ends now.
    std::streamoff read = fs::exists(jsonl) ? static_cast<std::streamoff>(fs::file_size(jsonl)) : 0;
    // Its own process group: if this process goes, or this job ends on an error, the launcher and
    // its ranks go with it (the ChildProcess's destructor).
    ChildProcess child = ChildProcess::spawn(d.program, d.args, log_path, {}, /*own_group=*/true);
    bool signalled = false;
    double first_elapsed = -1;
    int first_step = d.step;
    auto follow = [&] {
        std::ifstream in(jsonl);
        if (!in)
            return;
        in.seekg(read);
        std::string line;
        while (std::getline(in, line)) {
            if (in.eof()) // a line still being written: read it whole next time
                break;
            read += static_cast<std::streamoff>(line.size()) + 1;
            const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
            if (j.is_discarded() || !j.is_object() || !j.contains("step") || !j["step"].is_number_integer())
                continue;
            TrainTick t = tick_of(j, d.total);
            const double elapsed = number(j, "elapsed_s", 0);
            if (first_elapsed < 0) {
                first_elapsed = elapsed;
                first_step = t.step - 1;
            }
            const double dt = elapsed - first_elapsed;
            t.steps_per_s = dt > 0 ? (t.step - first_step - 1) / dt : 0;
            t.eta_s = t.steps_per_s > 0 ? (t.total - t.step) / t.steps_per_s : 0;
            d.step = t.step;
            if (on_tick)
                on_tick(t);
            if (j.contains("preview") && j["preview"].is_string() && on_preview)
                on_preview((fs::path(d.run_dir) / "samples" / j["preview"].get<std::string>()).string(), t.step);
        }
    };
    try {
        for (;;) {
            if (stop && stop->load() && !signalled) {
                child.interrupt(); // the ranks agree to stop after the same step; rank 0 checkpoints
                signalled = true;
            }
            const int code = child.poll();
            follow();
            if (code >= 0) {
                if (code == 0 || code == 130)
                    return d.step;
                throw Error(child.error_text(log_path, code));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    } catch (...) {
        // Ask the run to stop (so that it checkpoints), give it a moment, then it is killed.
        child.interrupt();
        for (int i = 0; i < 150 && child.poll() < 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        throw;
    }
}

RunInfo read_run(const std::string& run_dir)
{
    const std::string config_path = (fs::path(run_dir) / "config.json").string();
    const nlohmann::json config = read_json_file(config_path);
    RunInfo r;
    r.run_dir = run_dir;
    try {
        r.data_dir = config.at("data_dir").get<std::string>();
        r.steps = static_cast<int>(json_integer(config, "steps", 0, 1, 100000000, config_path, true));
        const auto& a = config.at("arch");
        r.arch = a.at("arch").get<std::string>() + " ngf " + std::to_string(json_integer(a, "ngf", 0, 1, 1024, config_path, true));
        r.preview_every = preview_every_of(run_dir, config, static_cast<int>(json_integer(config, "val_every", 0, 0, 100000000, config_path)));
    } catch (const nlohmann::json::exception& e) {
        throw Error(config_path, std::string("not a run's configuration: ") + e.what());
    }
    try {
        r.task = DatasetInfo::read(r.data_dir).task;
    } catch (const Error&) {
        r.task.clear(); // the data may have moved; the run is still readable
    }
    // The log: one JSON object per step. A line cut short by a kill is skipped, not fatal.
    std::map<int, double> val_at;
    std::ifstream log(fs::path(run_dir) / "log.jsonl");
    std::string line;
    while (std::getline(log, line)) {
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object())
            continue;
        if (!j.contains("step") || !j["step"].is_number_integer())
            continue;
        const TrainTick t = tick_of(j, r.steps);
        // A resumed run repeats the steps after its last checkpoint: the later lines win.
        while (!r.log.empty() && r.log.back().step >= t.step)
            r.log.pop_back();
        r.log.push_back(t);
    }
    for (const TrainTick& t : r.log)
        if (t.val_l1 >= 0)
            val_at[t.step] = t.val_l1;
    const fs::path ckdir = fs::path(run_dir) / "checkpoints";
    if (fs::exists(ckdir))
        for (const auto& e : fs::directory_iterator(ckdir)) {
            const std::string name = e.path().filename().string();
            if (!e.is_directory() || name.rfind("step_", 0) != 0 || !fs::exists(e.path() / "net_G.pth"))
                continue;
            RunCheckpoint c;
            c.path = (e.path() / "net_G.pth").string();
            c.step = std::atoi(name.c_str() + 5);
            const auto v = val_at.find(c.step);
            c.val_l1 = v == val_at.end() ? -1 : v->second;
            r.checkpoints.push_back(c);
            r.step_reached = std::max(r.step_reached, c.step);
        }
    std::sort(r.checkpoints.begin(), r.checkpoints.end(), [](const RunCheckpoint& a, const RunCheckpoint& b) { return a.step < b.step; });
    const fs::path best = fs::path(run_dir) / "best_net_G.pth";
    if (fs::exists(best) && !val_at.empty()) {
        const auto b = std::min_element(val_at.begin(), val_at.end(), [](const auto& x, const auto& y) { return x.second < y.second; });
        r.checkpoints.push_back({best.string(), b->first, b->second});
    }
    r.finished = r.step_reached >= r.steps;
    const fs::path samples = fs::path(run_dir) / "samples";
    if (fs::exists(samples))
        for (const auto& e : fs::directory_iterator(samples)) {
            const std::string name = e.path().filename().string();
            if (name.rfind("step_", 0) == 0 && e.path().extension() == ".png")
                r.previews.emplace_back(std::atoi(name.c_str() + 5), e.path().string());
        }
    std::sort(r.previews.begin(), r.previews.end());
    return r;
}

} // namespace bft::live
