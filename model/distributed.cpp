#include "distributed.h"

#include "errors.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#if !defined(BFT_WITHOUT_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#if defined(BFT_WITH_NCCL)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "process.h"

#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

namespace bft::dist {

namespace {

using Clock = std::chrono::steady_clock;

// ProcessGroupGloo and ProcessGroupNCCL derive from ProcessGroup in LibTorch 1.13 and from Backend in 2.x.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string seconds_text(double s)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f s", s);
    return buf;
}

std::string this_host()
{
    char buf[256] = {0};
    if (::gethostname(buf, sizeof buf - 1) != 0)
        return "?";
    return buf;
}

int env_int(const Getenv& getenv, const char* name, int lo, int hi, int fallback, bool required = false)
{
    const char* v = getenv(name);
    if (!v || !*v) {
        if (required)
            throw Error(std::string("the environment variable ") + name + " is not set");
        return fallback;
    }
    char* end = nullptr;
    errno = 0;
    const long x = std::strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi)
        throw Error(std::string("the environment variable ") + name + "='" + v + "' is not a number from " +
                    std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<int>(x);
}

std::string env_str(const Getenv& getenv, const char* name, const std::string& fallback = {})
{
    const char* v = getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// What c10d says about a failed store connection, as a person would want to hear it.
std::string store_problem(const std::string& what, const std::string& host, int port, bool server)
{
    const std::string where = host + ":" + std::to_string(port);
    if (server && (what.find("ddress already in use") != std::string::npos || what.find("errno: 98") != std::string::npos))
        return "port " + std::to_string(port) + " is in use on this machine (another job, or an earlier run still "
               "going?): choose another MASTER_PORT (bft train --master-port)";
    if (server)
        return "cannot host the rendezvous store on " + where + ": " + what;
    if (what.find("timed out") != std::string::npos || what.find("Timeout") != std::string::npos ||
        what.find("refused") != std::string::npos)
        return "cannot reach the master at " + where +
               " (is rank 0, or the launcher, running there? check MASTER_ADDR, MASTER_PORT and the firewall)";
    return "cannot connect to the rendezvous store at " + where + ": " + what;
}

// c10d also logs its socket failures through glog (where LibTorch has it, as Debian's does), in
// words that say less than ours and after a "Logging before InitGoogleLogging" warning: only fatal
// ones get through.
void quiet_c10d_logging()
{
    if (auto* level = static_cast<int*>(::dlsym(RTLD_DEFAULT, "_ZN3fLI17FLAGS_minloglevelE")))
        *level = std::max(*level, 3);
}

c10::intrusive_ptr<c10d::Store> connect_store(const std::string& host, int port, bool server,
                                              std::chrono::milliseconds timeout)
{
    quiet_c10d_logging();
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(port);
    o.isServer = server;
    o.waitWorkers = false; // our own rendezvous names the missing ranks
    o.timeout = timeout;
    try {
        return c10::make_intrusive<c10d::TCPStore>(host, o);
    } catch (const c10::Error& e) {
        throw Error(store_problem(e.what_without_backtrace(), host, port, server));
    } catch (const std::exception& e) {
        throw Error(store_problem(e.what(), host, port, server));
    }
}

std::string first_line(std::string s)
{
    if (auto nl = s.find('\n'); nl != std::string::npos)
        s.resize(nl);
    return s;
}

} // namespace

// --- who am I -------------------------------------------------------------------------------

std::string LaunchEnv::describe() const
{
    if (!distributed())
        return "a single process";
    return "rank " + std::to_string(rank) + " of " + std::to_string(world) + " (" + (launcher.empty() ? "env" : launcher) +
           ", master " + master_addr + ":" + std::to_string(master_port) + ")";
}

std::string first_host(const std::string& nodelist)
{
    // A list of "prefix[ranges]suffix" items separated by commas outside brackets; the first host
    // is the first item with each bracket replaced by its first number (leading zeros kept).
    std::string out;
    int depth = 0;
    bool in_first_range = false, range_done = false;
    for (char c : nodelist) {
        if (c == ',' && depth == 0)
            break;
        if (c == '[') {
            ++depth;
            in_first_range = true;
            range_done = false;
            continue;
        }
        if (c == ']') {
            --depth;
            in_first_range = false;
            continue;
        }
        if (depth > 0) {
            if (in_first_range && !range_done && (c == '-' || c == ','))
                range_done = true;
            if (in_first_range && !range_done)
                out += c;
            continue;
        }
        out += c;
    }
    if (depth != 0 || out.empty())
        throw Error("cannot read the Slurm node list '" + nodelist + "'");
    return out;
}

LaunchEnv launch_env(const Getenv& getenv)
{
    LaunchEnv e;
    const bool torch_style = getenv("RANK") && *getenv("RANK");
    // Slurm: only inside a job step (srun sets SLURM_STEP_NUM_TASKS); a batch script itself also
    // has SLURM_PROCID and SLURM_NTASKS, and a plain `bft train` there is one process.
    const bool slurm = !torch_style && getenv("SLURM_PROCID") && *getenv("SLURM_PROCID") && getenv("SLURM_STEP_NUM_TASKS") &&
                       *getenv("SLURM_STEP_NUM_TASKS");
    if (torch_style) {
        e.world = env_int(getenv, "WORLD_SIZE", 1, 1 << 20, 1, true);
        e.rank = env_int(getenv, "RANK", 0, e.world - 1, 0, true);
        e.local_rank = env_int(getenv, "LOCAL_RANK", 0, 1 << 20, e.rank);
        e.local_world = env_int(getenv, "LOCAL_WORLD_SIZE", 1, 1 << 20, e.world);
        e.master_addr = env_str(getenv, "MASTER_ADDR", "127.0.0.1");
        e.master_port = env_int(getenv, "MASTER_PORT", 1, 65535, 29500);
        e.agent_store = env_str(getenv, "TORCHELASTIC_USE_AGENT_STORE") == "True";
        if (e.agent_store)
            e.store_prefix = "/worker/attempt_" + std::to_string(env_int(getenv, "TORCHELASTIC_RESTART_COUNT", 0, 1 << 20, 0));
        const std::string by = env_str(getenv, "BFT_LAUNCHER");
        e.launcher = !by.empty() ? by : getenv("TORCHELASTIC_RUN_ID") || e.agent_store ? "torchrun" : "env";
    } else if (slurm) {
        e.launcher = "slurm";
        e.world = env_int(getenv, "SLURM_STEP_NUM_TASKS", 1, 1 << 20, 1, true);
        e.rank = env_int(getenv, "SLURM_PROCID", 0, e.world - 1, 0, true);
        e.local_rank = env_int(getenv, "SLURM_LOCALID", 0, 1 << 20, 0);
        // SLURM_NTASKS_PER_NODE is only set when asked for; "2(x3)" style counts are cut at "(".
        const std::string per_node = env_str(getenv, "SLURM_NTASKS_PER_NODE", env_str(getenv, "SLURM_TASKS_PER_NODE"));
        e.local_world = std::max(1, std::atoi(per_node.c_str()));
        std::string nodes = env_str(getenv, "SLURM_STEP_NODELIST", env_str(getenv, "SLURM_JOB_NODELIST", env_str(getenv, "SLURM_NODELIST")));
        e.master_addr = env_str(getenv, "MASTER_ADDR", nodes.empty() ? std::string("127.0.0.1") : first_host(nodes));
        e.master_port = env_int(getenv, "MASTER_PORT", 1, 65535, 29500 + env_int(getenv, "SLURM_JOB_ID", 0, INT32_MAX, 0) % 1000);
    }
    return e;
}

LaunchEnv launch_env()
{
    return launch_env([](const char* name) -> const char* { return std::getenv(name); });
}

// --- the group ------------------------------------------------------------------------------

struct Group::Pending {
    c10::intrusive_ptr<c10d::Work> work;
    std::vector<at::Tensor> tensors; // kept alive while the work runs
};

struct Group::Impl {
    LaunchEnv env;
    GroupOptions options;
    std::string backend;
    c10::intrusive_ptr<c10d::Store> root;   // the TCPStore (rank 0 or the launcher hosts it)
    c10::intrusive_ptr<c10d::Store> store;  // our keys, under "bft/"
    c10::intrusive_ptr<Backend> pg;
    int agree_count = 0;
    std::atomic<int64_t> step{-1};
    std::atomic<bool> finished{false}, failed{false};

    // The heartbeat: its own connection to the store; beats every 500 ms and watches the others'.
    struct Peer {
        int64_t beats = -1;
        Clock::time_point changed = Clock::now();
        int64_t step = -1;
        bool done = false;
        std::string failure;
    };
    std::thread heart;
    std::mutex view_mutex;
    std::vector<Peer> peers;
    std::string store_error;
    Clock::time_point store_ok = Clock::now();
    std::atomic<bool> stop_heart{false};

    // The heartbeat goes before the view it writes (a join that fails half way lands here too).
    ~Impl()
    {
        stop_heart = true;
        if (heart.joinable())
            heart.join();
    }

    std::string key(const char* what, int rank) const { return std::string(what) + "/" + std::to_string(rank); }
    std::string who(int rank) const { return "rank " + std::to_string(rank) + " of " + std::to_string(env.world); }
    bool hosts_store() const { return !env.agent_store && env.rank == 0; }

    void start_heartbeat();
    void heartbeat_loop(c10::intrusive_ptr<c10d::Store> own);
    // What is known of the other ranks after a failure; waits up to `patience` for a verdict.
    // What is wrong with the others: failures, silence, a dead store; with `behind`, also a rank
    // whose step is behind the rest once `patience` has passed (only after a collective timed out:
    // the steps in the heartbeats lag, so a wait for a store key must not judge by them).
    std::string diagnosis(double patience, bool behind = true);
    // Every rank publishes `mine` under `prefix` and reads everyone's (rank order); throws naming a
    // rank that died, failed or did not get there within the timeout.
    std::vector<std::string> gather(const std::string& prefix, const std::string& mine, const std::string& what);
    void rendezvous();
};

namespace {
constexpr double kBeatSeconds = 0.5;
constexpr double kSilentSeconds = 2.5;  // a peer this long without a beat is taken as gone
constexpr double kWatchdogSeconds = 10; // ... and this long (or half the timeout, if less): give up
} // namespace

void Group::Impl::start_heartbeat()
{
    // A second client: the main thread's connection may sit in a long wait.
    c10::intrusive_ptr<c10d::Store> own = connect_store(env.master_addr, env.master_port, false, std::chrono::milliseconds(5000));
    if (!env.store_prefix.empty())
        own = c10::make_intrusive<c10d::PrefixStore>(env.store_prefix, own);
    own = c10::make_intrusive<c10d::PrefixStore>("bft", own);
    peers.assign(static_cast<size_t>(env.world), Peer{});
    heart = std::thread([this, own] { heartbeat_loop(own); });
}

void Group::Impl::heartbeat_loop(c10::intrusive_ptr<c10d::Store> own)
{
    int64_t beat = 0;
    const auto started = Clock::now();
    const double watchdog = std::max(5 * kBeatSeconds, std::min(kWatchdogSeconds, options.timeout.count() / 2000.0));
    auto last_round = Clock::now();
    while (!stop_heart) {
        // This thread itself was held up (Ctrl-Z, a frozen VM): the others' silence over that time
        // says nothing about them, so their clocks start again.
        if (seconds_since(last_round) > 4 * kBeatSeconds) {
            std::lock_guard<std::mutex> lock(view_mutex);
            for (Peer& p : peers)
                p.changed = Clock::now();
        }
        last_round = Clock::now();
        try {
            own->set(key("beat", env.rank), bytes(std::to_string(++beat) + " " + std::to_string(step.load())));
            for (int r = 0; r < env.world; ++r) {
                if (r == env.rank)
                    continue;
                Peer p;
                {
                    std::lock_guard<std::mutex> lock(view_mutex);
                    p = peers[static_cast<size_t>(r)];
                }
                if (own->check({key("beat", r)})) {
                    std::istringstream in(text(own->get(key("beat", r))));
                    int64_t b = -1, s = -1;
                    in >> b >> s;
                    if (b != p.beats) {
                        p.beats = b;
                        p.changed = Clock::now();
                    }
                    p.step = s;
                }
                p.done = own->check({key("done", r)});
                if (own->check({key("failed", r)}))
                    p.failure = text(own->get(key("failed", r)));
                std::lock_guard<std::mutex> lock(view_mutex);
                peers[static_cast<size_t>(r)] = p;
            }
            std::lock_guard<std::mutex> lock(view_mutex);
            store_ok = Clock::now();
            store_error.clear();
        } catch (const std::exception& e) {
            if (stop_heart)
                return;
            std::lock_guard<std::mutex> lock(view_mutex);
            store_error = first_line(e.what());
        }
        // The watchdog: a rank frozen (stopped, swapped out, cut off) would keep this one waiting in
        // a collective until its timeout; say who it is and stop instead.
        std::string verdict;
        {
            std::lock_guard<std::mutex> lock(view_mutex);
            if (!finished && !failed && seconds_since(started) > watchdog) {
                if (seconds_since(store_ok) > watchdog)
                    verdict = "lost the rendezvous store at " + env.master_addr + ":" + std::to_string(env.master_port) +
                              " for " + seconds_text(seconds_since(store_ok)) + " (" +
                              (env.agent_store ? "the launcher" : "rank 0") + ", which hosts it, died, hangs or is cut off)";
                for (int r = 0; r < env.world && verdict.empty(); ++r) {
                    const Peer& p = peers[static_cast<size_t>(r)];
                    if (r != env.rank && !p.done && p.failure.empty() && seconds_since(p.changed) > watchdog)
                        verdict = who(r) + " stopped responding (no heartbeat for " + seconds_text(seconds_since(p.changed)) +
                                  ": it died, hangs or is cut off)";
                }
            }
        }
        if (!verdict.empty()) {
            std::fprintf(stderr, "bft train: error: %s: %s; stopping (the last checkpoint is intact)\n", who(env.rank).c_str(),
                         verdict.c_str());
            std::fflush(stderr);
            std::_Exit(1); // the main thread may sit inside a collective: no clean way out of it
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(kBeatSeconds));
    }
}

std::string Group::Impl::diagnosis(double patience, bool behind)
{
    if (peers.empty()) // before the heartbeat started (the rendezvous): nothing is known of the others
        return {};
    const auto t0 = Clock::now();
    for (;;) {
        std::vector<std::string> found;
        int64_t max_step = step.load();
        {
            std::lock_guard<std::mutex> lock(view_mutex);
            for (int r = 0; r < env.world; ++r) {
                if (r == env.rank)
                    continue;
                const Peer& p = peers[static_cast<size_t>(r)];
                max_step = std::max(max_step, p.step);
                if (!p.failure.empty())
                    found.push_back(who(r) + " failed: " + p.failure);
                else if (!p.done && seconds_since(p.changed) > kSilentSeconds)
                    found.push_back(who(r) + " stopped responding (no heartbeat for " + seconds_text(seconds_since(p.changed)) +
                                    ": it died, hangs or is cut off)");
            }
            if (found.empty() && !store_error.empty() && seconds_since(store_ok) > kSilentSeconds)
                found.push_back(std::string("the rendezvous store is gone (") + (env.agent_store ? "the launcher" : "rank 0") +
                                " hosts it: it died or is cut off)");
            if (behind && found.empty() && seconds_since(t0) >= patience) {
                // Everyone alive: a rank that is behind the others hangs.
                for (int r = 0; r < env.world; ++r) {
                    const int64_t s = r == env.rank ? step.load() : peers[static_cast<size_t>(r)].step;
                    if (s >= 0 && s < max_step)
                        found.push_back(who(r) + " is alive but stuck at step " + std::to_string(s));
                }
            }
        }
        if (!found.empty() || seconds_since(t0) >= patience) {
            std::string out;
            for (const auto& f : found)
                out += (out.empty() ? "" : "; ") + f;
            return out;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void Group::Impl::rendezvous()
{
    // Each rank claims its number once and says how big it thinks the world is; all must agree.
    const std::string me = std::to_string(env.world) + "\t" + this_host() + "\t" + std::to_string(::getpid());
    const std::string got = text(store->compareSet(key("rank", env.rank), {}, bytes(me)));
    if (got != me) {
        std::istringstream in(got);
        std::string w, host, pid;
        std::getline(in, w, '\t'), std::getline(in, host, '\t'), std::getline(in, pid, '\t');
        throw Error("this rank is already taken by process " + pid + " on " + host +
                    " (two processes were given the same RANK)");
    }
    const auto deadline = Clock::now() + options.timeout;
    std::vector<int> missing;
    for (;;) {
        missing.clear();
        for (int r = 0; r < env.world; ++r) {
            if (!store->check({key("rank", r)})) {
                missing.push_back(r);
                continue;
            }
            const std::string v = text(store->get(key("rank", r)));
            const int w = std::atoi(v.c_str());
            if (w != env.world) {
                const std::string host = v.substr(v.find('\t') + 1, v.rfind('\t') - v.find('\t') - 1);
                store->set("mismatch", bytes("rank " + std::to_string(r) + " says WORLD_SIZE=" + std::to_string(w) +
                                             ", rank " + std::to_string(env.rank) + " says " + std::to_string(env.world)));
                throw Error("the ranks disagree on the world size: rank " + std::to_string(r) + " (on " + host +
                            ") says WORLD_SIZE=" + std::to_string(w) + ", this one (rank " + std::to_string(env.rank) +
                            ") says " + std::to_string(env.world));
            }
        }
        if (store->check({"mismatch"}))
            throw Error("the ranks disagree on the world size (" + text(store->get("mismatch")) + ")");
        if (missing.empty())
            return;
        if (options.stop && options.stop->load())
            throw Stopped("asked to stop while waiting for the other ranks to join");
        if (Clock::now() > deadline) {
            std::string list;
            for (int r : missing)
                list += (list.empty() ? "" : ", ") + std::to_string(r);
            throw Error(std::string(missing.size() == 1 ? "rank " : "ranks ") + list + " of " + std::to_string(env.world) +
                        " did not join within " + seconds_text(options.timeout.count() / 1000.0) + " (master " +
                        env.master_addr + ":" + std::to_string(env.master_port) + "; is WORLD_SIZE right?)");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Group::Group(std::unique_ptr<Impl> impl) : d_(std::move(impl)) {}

Group::~Group() = default; // Impl's destructor stops the heartbeat

std::shared_ptr<Group> Group::join(const LaunchEnv& env, const GroupOptions& options)
{
    auto d = std::make_unique<Impl>();
    d->env = env;
    d->options = options;
    d->backend = options.backend;
    if (d->backend == "auto")
        d->backend = options.device.is_cuda() ? "nccl" : "gloo";
    if (d->backend != "gloo" && d->backend != "nccl")
        throw Error("unknown backend '" + d->backend + "' (expected gloo, nccl or auto)");
#if !defined(BFT_WITH_NCCL)
    if (d->backend == "nccl")
        throw Error("this build of bft has no NCCL (it needs a CUDA LibTorch and nccl.h when it is built): use --backend gloo");
#endif
    if (d->backend == "nccl" && !options.device.is_cuda())
        throw Error("the NCCL backend needs CUDA tensors: train with --device cuda, or use --backend gloo");

    const bool server = !env.agent_store && env.rank == 0;
    // The store's and Gloo's sockets are written without MSG_NOSIGNAL: a write to a peer that died
    // raised SIGPIPE, which ended this rank before it could say which peer stopped (under torchrun,
    // exit code -13 and no message: once in a full ctest run). Ignored, the write fails (EPIPE) and
    // the error names the peer.
    std::signal(SIGPIPE, SIG_IGN);
    d->root = connect_store(env.master_addr, env.master_port, server, options.timeout);
    c10::intrusive_ptr<c10d::Store> base = d->root;
    if (!env.store_prefix.empty())
        base = c10::make_intrusive<c10d::PrefixStore>(env.store_prefix, base);
    d->store = c10::make_intrusive<c10d::PrefixStore>("bft", base);
    try {
        try {
            d->rendezvous();
        } catch (const c10::Error& e) {
            throw Error(store_problem(e.what_without_backtrace(), env.master_addr, env.master_port, false));
        }
        d->start_heartbeat();
        auto pg_store = c10::make_intrusive<c10d::PrefixStore>("pg", d->store);
        if (d->backend == "gloo") {
#if defined(BFT_WITHOUT_GLOO)
            throw Error("this build of bft has no Gloo (its headers were not found when it was built): use --backend nccl");
#else
            auto o = c10d::ProcessGroupGloo::Options::create(options.timeout);
            const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
            if (ifname && *ifname)
                o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
            else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost" || env.master_addr == "::1")
                o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
            else
                o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            o->threads = 2;
            d->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pg_store, env.rank, env.world, o);
#endif
        }
#if defined(BFT_WITH_NCCL)
        else {
            c10::cuda::set_device(options.device.index());
            auto o = c10d::ProcessGroupNCCL::Options::create();
            o->timeout = options.timeout;
            d->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(pg_store, env.rank, env.world, o);
        }
#endif
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        const std::string why = d->diagnosis(1.0);
        throw Error("cannot form the " + d->backend + " process group: " +
                    (why.empty() ? first_line(e.what()) : why));
    }
    return std::shared_ptr<Group>(new Group(std::move(d)));
}

int Group::rank() const { return d_->env.rank; }
int Group::world() const { return d_->env.world; }
int Group::local_rank() const { return d_->env.local_rank; }
const std::string& Group::backend() const { return d_->backend; }
std::chrono::milliseconds Group::timeout() const { return d_->options.timeout; }
int64_t Group::bucket_bytes() const { return std::max<int64_t>(1, d_->options.bucket_bytes); }

void Group::fail(const std::string& during, const std::string& cause)
{
    d_->failed = true;
    const std::string why = d_->diagnosis(4.0);
    throw PeerError(d_->who(d_->env.rank) + ": " + during + " failed: " + (why.empty() ? first_line(cause) : why));
}

void Group::wait(Pending& p)
{
    try {
        p.work->wait(d_->options.timeout);
    } catch (const std::exception& e) {
        fail("an all-reduce", e.what());
    }
}

std::shared_ptr<Group::Pending> Group::allreduce_sum_async(const at::Tensor& tensor)
{
    auto p = std::make_shared<Pending>();
    p->tensors = {tensor};
    try {
        p->work = d_->pg->allreduce(p->tensors);
    } catch (const std::exception& e) {
        fail("an all-reduce", e.what());
    }
    return p;
}

void Group::allreduce_sum(const at::Tensor& tensor)
{
    auto p = allreduce_sum_async(tensor);
    wait(*p);
}

void Group::broadcast(const std::vector<at::Tensor>& tensors)
{
    if (tensors.empty())
        return;
    // One flat buffer: a handful of collectives instead of one per parameter.
    std::vector<at::Tensor> flat_parts;
    for (const auto& t : tensors)
        flat_parts.push_back(t.detach().reshape(-1).to(at::kFloat));
    std::vector<at::Tensor> flat{at::cat(flat_parts)};
    try {
        d_->pg->broadcast(flat)->wait(d_->options.timeout);
    } catch (const std::exception& e) {
        fail("the broadcast of rank 0's weights", e.what());
    }
    int64_t offset = 0;
    at::NoGradGuard no_grad;
    for (const auto& t : tensors) {
        const int64_t n = t.numel();
        t.detach().copy_(flat[0].narrow(0, offset, n).view(t.sizes()));
        offset += n;
    }
}

void Group::barrier()
{
    try {
        d_->pg->barrier()->wait(d_->options.timeout);
    } catch (const std::exception& e) {
        fail("a barrier", e.what());
    }
}

std::vector<std::string> Group::Impl::gather(const std::string& prefix, const std::string& mine, const std::string& what)
{
    store->set(key(prefix.c_str(), env.rank), bytes(mine));
    const auto deadline = Clock::now() + options.timeout;
    std::vector<std::string> values(static_cast<size_t>(env.world));
    for (int r = 0; r < env.world; ++r) {
        const std::string k = key(prefix.c_str(), r);
        while (!store->check({k})) {
            const std::string why = diagnosis(0, false);
            if (!why.empty() || Clock::now() > deadline)
                throw PeerError(who(env.rank) + ": " + what + ": " +
                                (why.empty() ? who(r) + " did not get there within " + seconds_text(options.timeout.count() / 1000.0)
                                             : why));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        values[static_cast<size_t>(r)] = text(store->get(k));
    }
    return values;
}

void Group::agree(const std::string& error, const std::string& what)
{
    const auto said = d_->gather("agree" + std::to_string(d_->agree_count++), error.empty() ? "ok" : "!" + error, what);
    std::string problems;
    for (int r = 0; r < d_->env.world; ++r)
        if (said[static_cast<size_t>(r)] != "ok")
            problems += (problems.empty() ? "" : "; ") + d_->who(r) + ": " + said[static_cast<size_t>(r)].substr(1);
    if (!problems.empty())
        throw PeerError(what + ": " + problems);
}

void Group::check_same(const std::string& value, const std::string& what)
{
    const auto values = d_->gather("same" + std::to_string(d_->agree_count++), value, what);
    std::string differ;
    for (int r = 1; r < d_->env.world; ++r)
        if (values[static_cast<size_t>(r)] != values[0])
            differ += (differ.empty() ? "" : "; ") + d_->who(r) + " has " + values[static_cast<size_t>(r)];
    if (!differ.empty())
        throw PeerError(what + ": rank 0 has " + values[0] + ", " + differ +
                        " (do all ranks see the same files? the run folder must be shared)");
}

void Group::wait_for_writer(const std::string& what)
{
    const std::string k = "written" + std::to_string(d_->agree_count++);
    if (d_->env.rank == 0) {
        d_->store->set(k, bytes("1"));
        return;
    }
    while (!d_->store->check({k})) {
        const std::string why = d_->diagnosis(0, false);
        if (!why.empty())
            throw PeerError(d_->who(d_->env.rank) + ": waiting for rank 0 to write " + what + ": " + why);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void Group::publish_failure(const std::string& message)
{
    d_->failed = true;
    try {
        d_->store->set(d_->key("failed", d_->env.rank), bytes(first_line(message)));
    } catch (const std::exception&) {
        // the store is gone too: the others will see this rank's silence instead
        return;
    }
    // The store lives in this process: keep it up until the others' heartbeats have read the news.
    if (d_->hosts_store())
        std::this_thread::sleep_for(std::chrono::duration<double>(kSilentSeconds + kBeatSeconds));
}

void Group::set_step(int64_t step) { d_->step = step; }

void Group::finish()
{
    if (d_->finished.exchange(true))
        return;
    try {
        d_->store->set(d_->key("done", d_->env.rank), bytes("1"));
    } catch (const std::exception&) {
    }
}

// --- the reducer ----------------------------------------------------------------------------

GradientReducer::GradientReducer(std::shared_ptr<Group> group, std::vector<at::Tensor> params)
    : group_(std::move(group)), params_(std::move(params))
{
    const int64_t first_bucket_bytes = std::min<int64_t>(1 << 20, group_->bucket_bytes());
    const size_t n = params_.size();
    bucket_of_.assign(n, 0);
    slot_of_.assign(n, 0);
    arrived_.assign(n, 0);
    // Reverse registration order: roughly the order in which the backward pass produces gradients.
    Bucket current;
    int64_t current_bytes = 0;
    auto close = [&] {
        if (current.params.empty())
            return;
        current.flat = at::zeros({current_bytes / 4}, params_[current.params.front()].options().dtype(at::kFloat));
        buckets_.push_back(std::move(current));
        current = Bucket{};
        current_bytes = 0;
    };
    bucketed_.assign(n, 0);
    for (size_t k = n; k-- > 0;) {
        const at::Tensor& p = params_[k];
        if (!p.requires_grad())
            continue;
        bucketed_[k] = 1;
        bucket_of_[k] = buckets_.size();
        slot_of_[k] = current.params.size();
        current.params.push_back(k);
        current.offsets.push_back(current_bytes / 4);
        current_bytes += p.numel() * 4;
        total_bytes_ += p.numel() * 4;
        if (current_bytes >= (buckets_.empty() ? first_bucket_bytes : group_->bucket_bytes()))
            close();
    }
    close();
    for (size_t k = 0; k < n; ++k) {
        if (!bucketed_[k]) {
            hooks_.push_back(static_cast<unsigned>(-1));
            continue;
        }
        hooks_.push_back(params_[k].register_hook([this, k](const at::Tensor& grad) { on_grad(k, grad); }));
    }
}

GradientReducer::~GradientReducer()
{
    for (size_t k = 0; k < params_.size(); ++k)
        if (hooks_[k] != static_cast<unsigned>(-1))
            params_[k].remove_hook(hooks_[k]);
}

void GradientReducer::begin()
{
    std::lock_guard<std::mutex> lock(mutex_);
    std::fill(arrived_.begin(), arrived_.end(), 0);
    for (auto& b : buckets_) {
        b.ready = 0;
        b.pending.reset();
    }
    next_launch_ = 0;
    hook_error_ = nullptr;
    active_ = true;
}

void GradientReducer::launch_ready()
{
    while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready == buckets_[next_launch_].params.size()) {
        if (next_launch_ == 0)
            first_launch_ = Clock::now();
        buckets_[next_launch_].pending = group_->allreduce_sum_async(buckets_[next_launch_].flat);
        ++next_launch_;
    }
}

void GradientReducer::on_grad(size_t k, const at::Tensor& grad)
{
    std::lock_guard<std::mutex> lock(mutex_);
    if (!active_ || arrived_[k] || hook_error_)
        return;
    Bucket& b = buckets_[bucket_of_[k]];
    const int64_t off = b.offsets[slot_of_[k]];
    try {
        // The hook sees this pass's gradient before autograd adds it to .grad: add what earlier
        // micro-batches left there, as autograd itself is about to.
        const at::Tensor& held = params_[k].grad();
        at::Tensor slot = b.flat.narrow(0, off, params_[k].numel());
        if (held.defined())
            at::add_out(slot, held.detach().reshape(-1), grad.detach().reshape(-1));
        else
            slot.copy_(grad.detach().reshape(-1));
        arrived_[k] = 1;
        ++b.ready;
        launch_ready();
    } catch (...) {
        hook_error_ = std::current_exception(); // the first failure; later hooks do nothing
    }
}

void GradientReducer::finish()
{
    std::unique_lock<std::mutex> lock(mutex_);
    active_ = false;
    if (hook_error_)
        std::rethrow_exception(hook_error_);
    // Parameters this backward pass did not reach contribute what earlier micro-batches left in
    // their .grad, or zeros: on every rank alike.
    for (size_t k = 0; k < params_.size(); ++k) {
        if (!bucketed_[k] || arrived_[k])
            continue;
        Bucket& b = buckets_[bucket_of_[k]];
        at::Tensor slot = b.flat.narrow(0, b.offsets[slot_of_[k]], params_[k].numel());
        if (params_[k].grad().defined())
            slot.copy_(params_[k].grad().detach().reshape(-1));
        else
            slot.zero_();
        arrived_[k] = 1;
        ++b.ready;
    }
    launch_ready();
    const auto waited_from = Clock::now();
    for (auto& b : buckets_)
        group_->wait(*b.pending);
    const auto end = Clock::now();
    exposed_ms_ = std::chrono::duration<double, std::milli>(end - waited_from).count();
    allreduce_ms_ = std::chrono::duration<double, std::milli>(end - first_launch_).count();
    const double inv = 1.0 / group_->world();
    at::NoGradGuard no_grad;
    for (auto& b : buckets_) {
        b.flat.mul_(inv);
        for (size_t s = 0; s < b.params.size(); ++s) {
            at::Tensor& p = params_[b.params[s]];
            const at::Tensor mean = b.flat.narrow(0, b.offsets[s], p.numel()).view(p.sizes());
            if (p.grad().defined())
                p.mutable_grad().copy_(mean);
            else
                p.mutable_grad() = mean.clone();
        }
    }
}

// --- the local launcher ---------------------------------------------------------------------

namespace {
std::atomic<int> g_signals{0};
void on_launcher_signal(int) { g_signals.fetch_add(1); }
} // namespace

int launch_local(const LocalLaunch& launch, const std::atomic<bool>* stop)
{
    if (launch.nproc < 1)
        throw Error("--nproc must be at least 1");
    // The launcher hosts the store, as torchrun's agent does: it outlives any one rank, so the
    // survivors can still learn which rank died.
    const std::string host = "127.0.0.1";
    auto store = connect_store(host, launch.master_port, true, launch.timeout);
    const int port = static_cast<c10d::TCPStore&>(*store).getPort();

    struct sigaction sa {}, old_int {}, old_term {};
    sa.sa_handler = on_launcher_signal;
    sigemptyset(&sa.sa_mask);
    g_signals = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct Restore {
        struct sigaction a, b;
        ~Restore()
        {
            sigaction(SIGINT, &a, nullptr);
            sigaction(SIGTERM, &b, nullptr);
        }
    } restore{old_int, old_term};

    std::vector<ChildProcess> ranks;
    auto signal_all = [&](int sig) {
        for (auto& r : ranks)
            r.signal(sig);
    };
    for (int r = 0; r < launch.nproc; ++r) {
        // What torchrun gives its workers, so that one code path serves both.
        const std::vector<std::pair<std::string, std::string>> env = {
            {"RANK", std::to_string(r)},          {"LOCAL_RANK", std::to_string(r)},
            {"GROUP_RANK", "0"},                  {"WORLD_SIZE", std::to_string(launch.nproc)},
            {"LOCAL_WORLD_SIZE", std::to_string(launch.nproc)}, {"MASTER_ADDR", host},
            {"MASTER_PORT", std::to_string(port)}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
            {"TORCHELASTIC_RESTART_COUNT", "0"},  {"BFT_LAUNCHER", "bft"}};
        try {
            ranks.push_back(ChildProcess::spawn(launch.program, launch.args, {}, env));
        } catch (const Error&) {
            signal_all(SIGTERM);
            throw;
        }
        if (launch.started)
            launch.started(r, ranks.back().pid());
    }

    bool failure = false, stopping = false, terminated = false;
    Clock::time_point failed_at{}, terminated_at{};
    int signals_seen = 0;
    auto alive = [&] { return std::count_if(ranks.begin(), ranks.end(), [](const ChildProcess& c) { return c.running(); }); };
    while (alive() > 0) {
        for (int r = 0; r < launch.nproc; ++r) {
            ChildProcess& c = ranks[static_cast<size_t>(r)];
            if (!c.running())
                continue;
            const int code = c.poll();
            if (code < 0 || (!c.signalled() && (code == 0 || code == 130))) // 130: stopped on request, checkpointed
                continue;
            if (c.signalled() && stopping) // killed by the stop it was asked for (a second Ctrl-C)
                continue;
            std::fprintf(stderr, "bft train: rank %d of %d (pid %d) %s\n", r, launch.nproc, c.pid(), c.how_it_ended().c_str());
            if (!failure) {
                failure = true;
                failed_at = Clock::now();
            }
        }
        const int sig = g_signals.load();
        if ((sig > signals_seen || (stop && stop->load())) && !stopping) {
            // The ranks stop together after the next step (they agree on it), rank 0 checkpoints.
            stopping = true;
            signal_all(SIGTERM);
        } else if (sig > signals_seen && signals_seen > 0) {
            signal_all(SIGKILL); // a second Ctrl-C
        }
        signals_seen = std::max(signals_seen, sig);
        // After a failure the others notice by themselves within the timeout; then they are made to.
        if (failure && alive() > 0 && !terminated && Clock::now() - failed_at > launch.timeout + std::chrono::seconds(5)) {
            std::fprintf(stderr, "bft train: terminating the remaining ranks\n");
            signal_all(SIGTERM);
            terminated = true;
            terminated_at = Clock::now();
        }
        if (terminated && alive() > 0 && Clock::now() - terminated_at > std::chrono::seconds(10))
            signal_all(SIGKILL);
        if (alive() > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (failure)
        return 1;
    // Ranks that the stop reached before they set up their handlers die of it: without this line
    // the launcher would end without a word.
    if (stopping && std::all_of(ranks.begin(), ranks.end(), [](const ChildProcess& c) { return c.signalled(); }))
        std::fprintf(stderr, "bft train: stopped before the ranks could take it as a stop; nothing saved by this launch\n");
    return stopping || std::any_of(ranks.begin(), ranks.end(), [](ChildProcess& c) { return c.poll() == 130; }) ? 130 : 0;
}

} // namespace bft::dist
