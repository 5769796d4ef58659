#include "live_training.h"

#include "arch.h"
#include "atomic_file.h"
#include "dataset.h"
#include "errors.h"
#include "importers.h"
#include "inference.h"
#include "json_file.h"
#include "synth.h"
#include "trainer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace bft::live {

namespace fs = std::filesystem;

namespace {

std::string step_png(const std::string& run_dir, int step)
{
    char name[40];
    std::snprintf(name, sizeof name, "step_%07d.png", step);
    return (fs::path(run_dir) / "samples" / name).string();
}

int preview_every_of(const std::string& run_dir, int fallback)
{
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
    std::unique_ptr<Trainer> trainer;
    int preview_every = 0;
};

TrainingJob::TrainingJob() : d_(std::make_unique<State>()) {}
TrainingJob::~TrainingJob() = default;

std::unique_ptr<TrainingJob> TrainingJob::start(const TrainRequest& rq)
{
    const DatasetSummary data = check_dataset(rq.data_dir);
    if (!data.ok())
        throw Error(rq.data_dir, "the dataset has " + std::to_string(data.problems.size()) +
                                     " problem(s); the first: " + data.problems.front().first + ": " +
                                     data.problems.front().second);
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
    o.checkpoint_every = rq.checkpoint_every;
    o.seed = rq.seed;
    std::unique_ptr<TrainingJob> job(new TrainingJob);
    job->d_->trainer = std::make_unique<Trainer>(o);
    job->d_->preview_every = rq.preview_every;
    write_file_atomically((fs::path(rq.run_dir) / "studio.json").string(),
                          nlohmann::json{{"preview_every", rq.preview_every}}.dump() + "\n");
    return job;
}

std::unique_ptr<TrainingJob> TrainingJob::resume(const std::string& run_dir)
{
    std::unique_ptr<TrainingJob> job(new TrainingJob);
    job->d_->trainer = std::make_unique<Trainer>(Trainer::resume(run_dir));
    job->d_->preview_every = preview_every_of(run_dir, job->d_->trainer->options().val_every);
    return job;
}

std::string TrainingJob::run_dir() const { return d_->trainer->options().out_dir; }
int TrainingJob::step() const { return d_->trainer->step(); }
int TrainingJob::total() const { return d_->trainer->options().steps; }

int TrainingJob::run(const std::function<void(const TrainTick&)>& on_tick,
                     const std::function<void(const std::string&, int)>& on_preview, const std::atomic<bool>* stop)
{
    Trainer& trainer = *d_->trainer;
    const TrainOptions& o = trainer.options();
    const DatasetInfo info = DatasetInfo::read(o.data_dir);
    // The preview rows: the first validation samples (training ones when there is no val split).
    std::vector<Sample> rows;
    for (const char* split : {"val", "train"}) {
        const auto ids = sample_ids(info, split);
        for (size_t i = 0; i < ids.size() && rows.size() < 4; ++i)
            rows.push_back(load_sample(info, split, ids[i]));
        if (!rows.empty())
            break;
    }
    auto preview = [&](int step) {
        if (rows.empty() || !on_preview)
            return;
        std::vector<at::Tensor> outputs;
        GeneratorImpl& g = *trainer.generator();
        for (const Sample& s : rows)
            outputs.push_back(translate(g, s.input, s.guide, c10::Device(c10::kCPU)).output[0]);
        const std::string png = step_png(o.out_dir, step);
        fs::create_directories(fs::path(png).parent_path());
        synth::write_sample_sheet(info, rows, &outputs, png);
        on_preview(png, step);
    };
    const int every = d_->preview_every;
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
            if (every > 0 && (p.step % every == 0 || p.step == p.total))
                preview(p.step);
        },
        stop);
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
        r.preview_every = preview_every_of(run_dir, static_cast<int>(json_integer(config, "val_every", 0, 0, 100000000, config_path)));
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
        TrainTick t;
        if (!j.contains("step") || !j["step"].is_number_integer())
            continue;
        t.step = static_cast<int>(std::clamp<int64_t>(j["step"].get<int64_t>(), 0, 100000000));
        t.total = r.steps;
        t.g_l1 = j.value("g_l1", 0.0);
        t.g_gan = j.value("g_gan", 0.0);
        t.d_real = j.value("d_real", 0.0);
        t.d_fake = j.value("d_fake", 0.0);
        t.val_l1 = j.value("val_l1", -1.0);
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
