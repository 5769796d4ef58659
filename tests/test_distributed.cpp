// Data-parallel training (distributed.h): how a rank learns who it is, and whole jobs of `bft train`
// processes over Gloo on loopback - the same weights as one process, torchrun, resuming on another
// world size, a rank killed mid-run, Ctrl-C on the launcher, and the set-up errors people meet.
#include "test_support.h"

#include "checkpoint.h"
#include "distributed.h"
#include "errors.h"
#include "synth.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

namespace bft {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

dist::LaunchEnv env_of(const std::map<std::string, std::string>& vars)
{
    return dist::launch_env([&](const char* name) -> const char* {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    });
}

TEST(Distributed, LaunchEnvironments)
{
    EXPECT_FALSE(env_of({}).distributed());

    const auto t = env_of({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                           {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29400"}, {"TORCHELASTIC_RUN_ID", "none"},
                           {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
    EXPECT_TRUE(t.distributed());
    EXPECT_EQ(t.launcher, "torchrun");
    EXPECT_EQ(t.rank, 1);
    EXPECT_EQ(t.world, 4);
    EXPECT_EQ(t.local_world, 2);
    EXPECT_EQ(t.master_addr, "node7");
    EXPECT_EQ(t.master_port, 29400);
    EXPECT_TRUE(t.agent_store);
    EXPECT_EQ(t.store_prefix, "/worker/attempt_2"); // where torchrun's workers keep their keys

    const auto s = env_of({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_STEP_NUM_TASKS", "8"}, {"SLURM_LOCALID", "1"},
                           {"SLURM_NTASKS_PER_NODE", "4"}, {"SLURM_STEP_NODELIST", "gpu[07-08]"}, {"SLURM_JOB_ID", "123456"}});
    EXPECT_EQ(s.launcher, "slurm");
    EXPECT_EQ(s.rank, 5);
    EXPECT_EQ(s.world, 8);
    EXPECT_EQ(s.local_rank, 1);
    EXPECT_EQ(s.local_world, 4);
    EXPECT_EQ(s.master_addr, "gpu07");
    EXPECT_EQ(s.master_port, 29500 + 456);
    EXPECT_FALSE(s.agent_store); // rank 0 hosts the store

    // A batch script itself (no srun step) is one process, though Slurm tells it the job's tasks.
    EXPECT_FALSE(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_NODELIST", "n[1-4]"}}).distributed());
    // Explicit variables win over Slurm's (torchrun inside an allocation).
    EXPECT_EQ(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}}).launcher, "env");

    try {
        env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}});
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("RANK='2'"), std::string::npos) << e.what();
    }
    EXPECT_THROW(env_of({{"RANK", "0"}}), Error);                                    // WORLD_SIZE missing
    EXPECT_THROW(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "x"}}), Error);
}

TEST(Distributed, FirstHostOfASlurmNodeList)
{
    EXPECT_EQ(dist::first_host("node1"), "node1");
    EXPECT_EQ(dist::first_host("a,b,c"), "a");
    EXPECT_EQ(dist::first_host("gpu[07-09,12],cpu3"), "gpu07");
    EXPECT_EQ(dist::first_host("rack1-[3,5]-n[01-02]"), "rack1-3-n01");
    EXPECT_EQ(dist::first_host("n[12]"), "n12");
    EXPECT_THROW(dist::first_host("n[1-2"), Error);
    EXPECT_THROW(dist::first_host(""), Error);
}

// --- whole jobs ------------------------------------------------------------------------------

// Scratch folders of this test alone: CTest runs tests side by side, each in its own process.
std::string scratch(const std::string& name)
{
    return test::temp_dir(std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" + name);
}

std::string dataset(const std::string& name)
{
    static std::map<std::string, std::string> made;
    if (made.count(name))
        return made[name];
    const std::string dir = scratch(name);
    synth::Options o;
    o.task = "texture";
    o.count = 14;
    o.size = 128;
    o.seed = 5;
    o.val_fraction = 0.15;
    synth::write_dataset(o, dir);
    return made[name] = dir;
}

// The L1-only configuration of the equality tests: 20 steps of a global batch of 4.
//
// Why one process with two micro-batches: Adam divides each gradient element by its own running
// size, so a rounding difference in an element whose gradient is near zero becomes a difference in
// its step of up to the learning rate, and the net then moves chaotically apart. Already one process
// on 1 thread and on 2 (other summation orders) end this run 3e-3 apart. One process that adds the
// gradients of samples {0, 2} and {1, 3} of each batch of 4 (--accumulate 2) computes in exactly
// the order two ranks do, and two ranks must then give exactly its weights.
std::string l1_run(const std::string& data, const std::string& out, int steps = 20)
{
    return "train --data '" + data + "' --out '" + out + "' --no-gan --steps " + std::to_string(steps) +
           " --batch 4 --ngf 4 --seed 3 --checkpoint-every " + std::to_string(steps) +
           " --val-every 10 --decay-from 1000 --threads 1";
}

double max_difference(const std::string& a, const std::string& b)
{
    const StateDict x = read_state_dict(a), y = read_state_dict(b);
    EXPECT_EQ(x.entries.size(), y.entries.size());
    double worst = 0;
    for (size_t k = 0; k < x.entries.size() && k < y.entries.size(); ++k) {
        EXPECT_EQ(x.entries[k].first, y.entries[k].first);
        worst = std::max(worst, (x.entries[k].second - y.entries[k].second).abs().max().item<double>());
    }
    return worst;
}

std::string single_process_weights()
{
    const std::string run = scratch("single") + "/run";
    const auto r = test::run_cli(l1_run(dataset("dist-data"), run) + " --accumulate 2");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return run + "/checkpoints/step_0000020/net_G.pth";
}

int free_port()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(s);
    return ntohs(a.sin_port);
}

// A process in the background, its stdout and stderr in `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, const std::string& log)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::freopen(log.c_str(), "w", stdout);
        ::dup2(::fileno(stdout), 2);
        for (const auto& [k, v] : env)
            ::setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

std::vector<std::string> split_args(const std::string& line)
{
    // The test's own command lines: words, single quotes around paths.
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false, any = false;
    for (char c : line) {
        if (c == '\'') {
            quoted = !quoted;
            any = true;
        } else if (c == ' ' && !quoted) {
            if (any)
                out.push_back(cur);
            cur.clear();
            any = false;
        } else {
            cur += c;
            any = true;
        }
    }
    if (any)
        out.push_back(cur);
    return out;
}

// Waits for pid; -1 when it is still running after `limit`.
int wait_exit(pid_t pid, std::chrono::seconds limit)
{
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        int st = 0;
        if (::waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
}

int latest_step(const std::string& run)
{
    std::ifstream f(run + "/checkpoints/latest");
    std::string name;
    if (!(f >> name) || name.rfind("step_", 0) != 0)
        return 0;
    return std::stoi(name.substr(5));
}

// The ranks a launcher started: its children, by the RANK in their environment.
std::map<int, pid_t> ranks_of(pid_t launcher)
{
    std::map<int, pid_t> out;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream stat(e.path() / "stat");
        std::string line;
        std::getline(stat, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos)
            continue;
        std::istringstream rest(line.substr(close + 2));
        std::string state;
        int ppid = 0;
        rest >> state >> ppid;
        if (ppid != launcher)
            continue;
        const std::string environ = test::read_bytes((e.path() / "environ").string());
        const auto at = environ.find(std::string("\0RANK=", 6));
        if (at != std::string::npos)
            out[std::atoi(environ.c_str() + at + 6)] = std::stoi(name);
    }
    return out;
}

TEST(Distributed, TwoRanksOverGlooEndWithTheWeightsOfOneProcess)
{
    const std::string run = scratch("dist-nproc") + "/run";
    const auto r = test::run_cli(l1_run(dataset("dist-data"), run) + " --nproc 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("data parallel: 2 ranks over gloo"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("finished at step 20"), std::string::npos) << r.output;
    EXPECT_LE(max_difference(single_process_weights(), run + "/checkpoints/step_0000020/net_G.pth"), 1e-5);

    // After one step, the same as one process with batch 4 in one piece, but for rounding.
    const std::string one = scratch("dist-one-step");
    ASSERT_EQ(test::run_cli(l1_run(dataset("dist-data"), one + "/whole", 1)).exit_code, 0);
    ASSERT_EQ(test::run_cli(l1_run(dataset("dist-data"), one + "/ranks", 1) + " --nproc 2").exit_code, 0);
    EXPECT_LE(max_difference(one + "/whole/checkpoints/step_0000001/net_G.pth", one + "/ranks/checkpoints/step_0000001/net_G.pth"),
              1e-6);

    // Rank 0 alone wrote the run folder, and says how it was trained.
    std::ifstream cfg_in(run + "/config.json");
    const auto cfg = nlohmann::json::parse(cfg_in);
    EXPECT_EQ(cfg.at("world_size"), 2);
    EXPECT_EQ(cfg.at("per_rank_batch"), 2);
    EXPECT_EQ(cfg.at("batch"), 4);
    EXPECT_EQ(cfg.at("backend"), "gloo");
    EXPECT_EQ(cfg.at("lr_rule"), "fixed");
    std::ifstream log(run + "/log.jsonl");
    int lines = 0;
    for (std::string line; std::getline(log, line); ++lines) {
        const auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j.at("world"), 2);
        EXPECT_GE(j.at("allreduce_ms").get<double>(), 0.0);
    }
    EXPECT_EQ(lines, 20);
}

// torchrun as Debian 12 ships it (PyTorch 1.13 on Python 3.11) cannot read its own default
// --redirects 0 and --tee 0 (Python 3.11's Flag enums no longer list 0): one stream is teed instead.
std::vector<std::string> torchrun(int nproc, const std::string& logs)
{
    return {"/usr/bin/torchrun", "--no_python", "--nnodes", "1", "--nproc_per_node", std::to_string(nproc),
            "--master_port", std::to_string(free_port()), "--redirects", "1", "--tee", "1", "--log_dir", logs, BFT_CLI};
}

TEST(Distributed, TorchrunStartsTheSameJob)
{
    if (!fs::exists("/usr/bin/torchrun"))
        GTEST_SKIP() << "torchrun (Debian's python3-torch) is not installed";
    const std::string run = scratch("dist-torchrun") + "/run";
    std::vector<std::string> argv = torchrun(2, scratch("dist-torchrun-logs"));
    for (const auto& a : split_args(l1_run(dataset("dist-data"), run)))
        argv.push_back(a);
    const std::string log = scratch("dist-torchrun-log") + "/out.txt";
    const pid_t pid = spawn(argv, {}, log);
    const int code = wait_exit(pid, std::chrono::seconds(300));
    const std::string out = test::read_bytes(log);
    ASSERT_EQ(code, 0) << out;
    EXPECT_NE(out.find("2 ranks over gloo (torchrun"), std::string::npos) << out;
    EXPECT_LE(max_difference(single_process_weights(), run + "/checkpoints/step_0000020/net_G.pth"), 1e-5);
}

TEST(Distributed, ResumesOnAnotherWorldSize)
{
    // 10 steps on 2 ranks, then the same run to 20 steps on 1: the weights of 20 steps in one go.
    const std::string run = scratch("dist-resume") + "/run";
    auto r = test::run_cli(l1_run(dataset("dist-data"), run, 10) + " --nproc 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream cfg_in(run + "/config.json");
    nlohmann::json cfg = nlohmann::json::parse(cfg_in);
    cfg_in.close();
    cfg["steps"] = 20;
    test::write_bytes(run + "/config.json", cfg.dump(2));
    // Three ranks cannot share a global batch of 4: a clear refusal, and the run is untouched.
    r = test::run_cli("train --resume '" + run + "' --threads 1 --nproc 3");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("does not split evenly over 3 ranks"), std::string::npos) << r.output;
    r = test::run_cli("train --resume '" + run + "' --threads 1 --accumulate 2");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;
    EXPECT_LE(max_difference(single_process_weights(), run + "/checkpoints/step_0000020/net_G.pth"), 1e-5);
    std::ifstream again(run + "/config.json");
    EXPECT_EQ(nlohmann::json::parse(again).at("world_size"), 1);
}

// A long job that checkpoints every 3 steps: `launcher` (the program and its options before
// `train`), then `train ...` and `extra`; returns once a checkpoint exists.
struct LongJob {
    pid_t pid = -1;
    std::string run, log;
};
LongJob start_long_job(const std::string& name, const std::vector<std::string>& launcher,
                       const std::vector<std::string>& extra, int timeout_s)
{
    LongJob j;
    j.run = scratch(name) + "/run";
    j.log = scratch(name + "-log") + "/out.txt";
    std::vector<std::string> argv = launcher;
    for (const auto& a : split_args("train --data '" + dataset("dist-data") + "' --out '" + j.run +
                                    "' --no-gan --steps 100000 --batch 2 --ngf 4 --checkpoint-every 3 --val-every 0 "
                                    "--threads 1 --timeout " + std::to_string(timeout_s)))
        argv.push_back(a);
    argv.insert(argv.end(), extra.begin(), extra.end());
    j.pid = spawn(argv, {}, j.log);
    for (int i = 0; i < 1200 && latest_step(j.run) < 3; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return j;
}

void expect_last_checkpoint_loads(const std::string& run)
{
    const int saved = latest_step(run);
    ASSERT_GE(saved, 3);
    char name[32];
    std::snprintf(name, sizeof name, "step_%07d", saved);
    const auto r = test::run_cli("info '" + run + "/checkpoints/" + name + "/net_G.pth'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
}

// Waits until `pid` is gone (it is not our child: a rank under a launcher); the seconds it took.
double seconds_until_gone(pid_t pid, Clock::time_point since, int limit_s)
{
    while (::kill(pid, 0) == 0 && Clock::now() - since < std::chrono::seconds(limit_s))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return std::chrono::duration<double>(Clock::now() - since).count();
}

// A signal mask line ("SigIgn:", "SigBlk:") of a /proc status file; none where the file is gone
// (a thread that ended) or has no such line.
std::optional<unsigned long long> status_mask(const fs::path& status_file, const std::string& field)
{
    std::ifstream status(status_file);
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field, 0) == 0)
            return std::stoull(line.substr(field.size()), nullptr, 16);
    return std::nullopt;
}

// Whether a process ignores SIGPIPE.
bool ignores_sigpipe(pid_t pid)
{
    const auto mask = status_mask("/proc/" + std::to_string(pid) + "/status", "SigIgn:");
    return mask && ((*mask >> (SIGPIPE - 1)) & 1);
}

TEST(Distributed, UnderTorchrunAKilledRankStopsTheOtherWithAMessageNamingIt)
{
    if (!fs::exists("/usr/bin/torchrun"))
        GTEST_SKIP() << "torchrun (Debian's python3-torch) is not installed";
    const int timeout_s = 30;
    LongJob j = start_long_job("dist-kill", torchrun(2, scratch("dist-kill-logs")), {}, timeout_s);
    ASSERT_GE(latest_step(j.run), 3) << test::read_bytes(j.log);
    const auto ranks = ranks_of(j.pid);
    ASSERT_EQ(ranks.size(), 2u) << test::read_bytes(j.log);
    // torchrun starts ranks with SIGPIPE's default action: rank 0 writing to the dead peer's socket
    // died of it (exit -13, no message) unless it ignores it.
    EXPECT_TRUE(ignores_sigpipe(ranks.at(0)));
    const auto killed_at = Clock::now();
    ::kill(ranks.at(1), SIGKILL);
    // Rank 0 notices by itself, within the timeout (torchrun would stop it too, later).
    EXPECT_LT(seconds_until_gone(ranks.at(0), killed_at, timeout_s + 30), timeout_s);
    const int code = wait_exit(j.pid, std::chrono::seconds(60));
    const std::string out = test::read_bytes(j.log);
    EXPECT_NE(code, 0) << out;
    EXPECT_NE(out.find("bft train: error: rank 0 of 2:"), std::string::npos) << out;
    EXPECT_NE(out.find("rank 1 of 2 stopped responding"), std::string::npos) << out;
    expect_last_checkpoint_loads(j.run);
}

TEST(Distributed, AKilledRankZeroIsNamedByTheOtherAndTheLauncher)
{
    // `bft train --nproc` hosts the store itself: rank 1 still learns that rank 0 died.
    const int timeout_s = 30;
    LongJob j = start_long_job("dist-kill0", {BFT_CLI}, {"--nproc", "2"}, timeout_s);
    ASSERT_GE(latest_step(j.run), 3) << test::read_bytes(j.log);
    const auto ranks = ranks_of(j.pid);
    ASSERT_EQ(ranks.size(), 2u) << test::read_bytes(j.log);
    const auto killed_at = Clock::now();
    ::kill(ranks.at(0), SIGKILL);
    const int code = wait_exit(j.pid, std::chrono::seconds(timeout_s + 30));
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - killed_at).count(), timeout_s);
    const std::string out = test::read_bytes(j.log);
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find("bft train: rank 0 of 2 (pid " + std::to_string(ranks.at(0)) + ") was killed by SIGKILL"),
              std::string::npos) << out;
    EXPECT_NE(out.find("bft train: error: rank 1 of 2:"), std::string::npos) << out;
    EXPECT_NE(out.find("rank 0 of 2 stopped responding"), std::string::npos) << out;
    EXPECT_TRUE(ranks_of(j.pid).empty());
    expect_last_checkpoint_loads(j.run);
}

TEST(Distributed, AFrozenRankIsNamedWithinTheTimeout)
{
    // SIGSTOP: alive to the kernel, so no connection breaks; its heartbeat stops.
    const int timeout_s = 8;
    LongJob j = start_long_job("dist-stop", {BFT_CLI}, {"--nproc", "2"}, timeout_s);
    ASSERT_GE(latest_step(j.run), 3) << test::read_bytes(j.log);
    const auto ranks = ranks_of(j.pid);
    ASSERT_EQ(ranks.size(), 2u) << test::read_bytes(j.log);
    const auto stopped_at = Clock::now();
    ::kill(ranks.at(1), SIGSTOP);
    EXPECT_LT(seconds_until_gone(ranks.at(0), stopped_at, timeout_s + 30), timeout_s);
    // The launcher then ends the frozen rank too.
    EXPECT_EQ(wait_exit(j.pid, std::chrono::seconds(timeout_s + 40)), 1);
    const std::string out = test::read_bytes(j.log);
    // Rank 0's error names rank 1, whether its heartbeat watch or the all-reduce it was waiting in
    // reports it first ("rank 0 of 2: [an all-reduce failed: ]rank 1 of 2 stopped responding").
    const size_t error = out.find("bft train: error: rank 0 of 2: ");
    ASSERT_NE(error, std::string::npos) << out;
    const std::string line = out.substr(error, out.find('\n', error) - error);
    EXPECT_NE(line.find("rank 1 of 2 stopped responding"), std::string::npos) << out;
    EXPECT_TRUE(ranks_of(j.pid).empty());
    expect_last_checkpoint_loads(j.run);
}

// The threads of a process that block SIGINT and those that take it (/proc's SigBlk masks).
std::pair<int, int> sigint_blocking_and_taking(pid_t pid)
{
    int blocking = 0, taking = 0;
    for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task"))
        if (const auto mask = status_mask(t.path() / "status", "SigBlk:"))
            ++((*mask >> (SIGINT - 1)) & 1 ? blocking : taking);
    return {blocking, taking};
}

TEST(Distributed, OneThreadOfEachProcessTakesTheSignals)
{
    // A signal handled on a thread inside oneDNN's JIT GEMM corrupts the heap (runtime.h): one
    // Ctrl-C in 17 aborted a rank. All other threads (the main one, OpenMP's, Gloo's, the data
    // loader's, the heartbeat's) block them.
    LongJob j = start_long_job("dist-mask", {BFT_CLI}, {"--nproc", "2"}, 60);
    ASSERT_GE(latest_step(j.run), 3) << test::read_bytes(j.log);
    const auto ranks = ranks_of(j.pid);
    ASSERT_EQ(ranks.size(), 2u) << test::read_bytes(j.log);
    for (const auto& [rank, pid] : ranks) {
        const auto [blocking, taking] = sigint_blocking_and_taking(pid);
        EXPECT_GE(blocking, 4) << "rank " << rank;
        EXPECT_EQ(taking, 1) << "rank " << rank;
    }
    EXPECT_EQ(sigint_blocking_and_taking(j.pid).second, 1); // the launcher
    ::kill(j.pid, SIGINT);
    EXPECT_EQ(wait_exit(j.pid, std::chrono::seconds(60)), 130) << test::read_bytes(j.log);
}

TEST(Distributed, CtrlCOnTheLauncherStopsEveryRankAfterTheSameStep)
{
    LongJob j = start_long_job("dist-int", {BFT_CLI}, {"--nproc", "2"}, 60);
    ASSERT_GE(latest_step(j.run), 3) << test::read_bytes(j.log);
    ::kill(j.pid, SIGINT);
    const int code = wait_exit(j.pid, std::chrono::seconds(60));
    const std::string out = test::read_bytes(j.log);
    EXPECT_EQ(code, 130) << out;
    const auto at = out.find("stopped at step ");
    ASSERT_NE(at, std::string::npos) << out;
    const int stopped = std::atoi(out.c_str() + at + 16);
    EXPECT_EQ(latest_step(j.run), stopped); // rank 0 checkpointed the step every rank ended on
    EXPECT_EQ(out.find("error"), std::string::npos) << out;
    expect_last_checkpoint_loads(j.run);
}

TEST(Distributed, SetUpErrorsSayWhatIsWrong)
{
    const std::string data = dataset("dist-data");
    // A port someone else listens on.
    const int busy = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    ASSERT_EQ(::bind(busy, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(busy, 1), 0);
    socklen_t n = sizeof a;
    ::getsockname(busy, reinterpret_cast<sockaddr*>(&a), &n);
    const int port = ntohs(a.sin_port);
    auto r = test::run_cli(l1_run(data, scratch("dist-busy") + "/run") + " --nproc 2 --master-port " +
                           std::to_string(port));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("port " + std::to_string(port) + " is in use"), std::string::npos) << r.output;
    ::close(busy);

    // A master nobody runs.
    const std::string log_dir = scratch("dist-setup-logs");
    auto rank_env = [&](int rank, int world, int p) {
        return std::map<std::string, std::string>{{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)},
                                                  {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", std::to_string(p)}};
    };
    auto argv = [&](const std::string& out, int steps = 20) {
        std::vector<std::string> v{BFT_CLI};
        for (const auto& w : split_args(l1_run(data, out, steps) + " --timeout 5"))
            v.push_back(w);
        return v;
    };
    const int nobody = free_port();
    pid_t lone = spawn(argv(scratch("dist-lone") + "/run"), rank_env(1, 2, nobody), log_dir + "/lone.txt");
    EXPECT_EQ(wait_exit(lone, std::chrono::seconds(60)), 1);
    std::string out = test::read_bytes(log_dir + "/lone.txt");
    EXPECT_NE(out.find("cannot reach the master at 127.0.0.1:" + std::to_string(nobody)), std::string::npos) << out;

    // Ranks that disagree on the world size: both say so, at once.
    const int p = free_port();
    const std::string run = scratch("dist-mismatch") + "/run";
    pid_t r0 = spawn(argv(run), rank_env(0, 2, p), log_dir + "/r0.txt");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    pid_t r1 = spawn(argv(run), rank_env(1, 3, p), log_dir + "/r1.txt");
    EXPECT_EQ(wait_exit(r1, std::chrono::seconds(60)), 1);
    EXPECT_EQ(wait_exit(r0, std::chrono::seconds(60)), 1);
    for (const char* f : {"/r0.txt", "/r1.txt"}) {
        out = test::read_bytes(log_dir + f);
        EXPECT_NE(out.find("disagree on the world size"), std::string::npos) << f << ": " << out;
    }
    EXPECT_FALSE(fs::exists(run + "/checkpoints/latest"));

    // The same RANK twice (rank 0 hosts the store; the second rank 1 is turned away).
    const int q = free_port();
    const std::string twice = scratch("dist-twice") + "/run";
    // A long run: the first two must still be at it when the third comes (20 steps take 1 s here).
    pid_t host = spawn(argv(twice, 100000), rank_env(0, 2, q), log_dir + "/host.txt");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    pid_t first = spawn(argv(twice, 100000), rank_env(1, 2, q), log_dir + "/first.txt");
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    pid_t again = spawn(argv(twice), rank_env(1, 2, q), log_dir + "/again.txt");
    EXPECT_EQ(wait_exit(again, std::chrono::seconds(60)), 1);
    out = test::read_bytes(log_dir + "/again.txt");
    EXPECT_NE(out.find("rank 1 of 2: this rank is already taken by process " + std::to_string(first)), std::string::npos) << out;
    for (pid_t p : {host, first}) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
    }
}

// A stop that reaches the ranks before they can take it (here: programs without a handler) ends
// them by its signal; the launcher still says what happened and exits as a stop.
TEST(Distributed, TheLauncherSaysSoWhenItsStopKilledTheRanks)
{
    dist::LocalLaunch launch;
    launch.program = "/bin/sleep";
    launch.args = {"60"};
    launch.nproc = 2;
    std::atomic<bool> stop{false};
    std::atomic<int> started{0};
    launch.started = [&](int, int) { ++started; };
    std::thread asker([&] {
        while (started.load() < 2)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        stop = true;
    });
    testing::internal::CaptureStderr();
    const auto t0 = Clock::now();
    const int code = dist::launch_local(launch, &stop);
    const double took = std::chrono::duration<double>(Clock::now() - t0).count();
    const std::string err = testing::internal::GetCapturedStderr();
    asker.join();
    EXPECT_EQ(code, 130) << err;
    EXPECT_LT(took, 30) << err;
    EXPECT_NE(err.find("stopped before the ranks could take it as a stop; nothing saved by this launch"), std::string::npos) << err;
    EXPECT_EQ(err.find("was killed"), std::string::npos) << err; // not reported as a failure
}

// Ctrl-C (the launcher's SIGTERM) while a rank waits for the others to join: it stops at once, as a
// stop and not an error, instead of waiting out the timeout for a rank that may be gone (a rank
// signalled before it set up its handler dies of it; found by sending the launcher SIGTERM at random
// moments of its first seconds: rank 0 then waited 60 s and failed).
TEST(Distributed, AStopWhileTheRanksJoinEndsTheWaitAtOnce)
{
    const std::string data = dataset("dist-data");
    const int port = free_port();
    const std::string log = scratch("dist-join-stop-logs") + "/r0.txt";
    std::vector<std::string> argv{BFT_CLI};
    for (const auto& w : split_args(l1_run(data, scratch("dist-join-stop") + "/run") + " --timeout 60"))
        argv.push_back(w);
    // Rank 0 of 2; rank 1 never comes.
    const pid_t r0 = spawn(argv, {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", std::to_string(port)}},
                           log);
    // Waiting: it hosts the store, so its port answers (its stop handler is set before it listens).
    bool listening = false;
    for (int i = 0; i < 600 && !listening; ++i) {
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(port));
        listening = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(s);
        if (!listening)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(listening) << test::read_bytes(log);
    const auto asked = Clock::now();
    ::kill(r0, SIGTERM);
    const int code = wait_exit(r0, std::chrono::seconds(90));
    const double took = std::chrono::duration<double>(Clock::now() - asked).count();
    const std::string out = test::read_bytes(log);
    EXPECT_EQ(code, 130) << out;
    EXPECT_LT(took, 30) << out; // the timeout is 60 s; a stop takes a few polls of the store
    EXPECT_NE(out.find("stopped before the first step; nothing saved"), std::string::npos) << out;
    EXPECT_EQ(out.find("error"), std::string::npos) << out;
}

} // namespace
} // namespace bft
