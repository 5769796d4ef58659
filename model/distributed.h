// Data-parallel training on PyTorch's own distributed engine, c10d: who a process is in a job
// (started by `bft train --nproc`, torchrun or Slurm's srun), the rendezvous through a TCPStore,
// a Gloo (CPU) or NCCL (CUDA) process group whose failures name the rank at fault, a heartbeat
// that notices ranks that died or hang, DDP's bucketed gradient averaging overlapped with the
// backward pass, and the local launcher that starts and supervises N ranks on this machine.
// No c10d header leaks out of here: the trainer sees plain tensors and this interface.
#pragma once

#include "errors.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bft::dist {

// A collective failed because of another rank (it died, hangs or failed): the message names it.
class PeerError : public Error {
public:
    using Error::Error;
};

// A stop was requested (GroupOptions::stop) while this rank waited for the others to join.
class Stopped : public Error {
public:
    using Error::Error;
};

// Who this process is, read from its environment.
struct LaunchEnv {
    std::string launcher;  // "bft" (bft train --nproc), "torchrun", "slurm", "env" (RANK/WORLD_SIZE by hand), "" alone
    int rank = 0, world = 1, local_rank = 0, local_world = 1;
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
    // The launcher hosts the store (torchrun's agent, `bft train --nproc`): every rank is a client,
    // under the prefix the launcher gives (torchrun: /worker/attempt_<restart count>). Otherwise
    // rank 0 hosts it.
    bool agent_store = false;
    std::string store_prefix;

    bool distributed() const { return world > 1; }
    std::string describe() const; // "rank 1 of 2 (torchrun, master 127.0.0.1:29500)"
};
using Getenv = std::function<const char*(const char*)>;
// torchrun / bft: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT (and
// TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT); Slurm, inside an srun step:
// SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID, the first host of SLURM_STEP_NODELIST (or
// SLURM_JOB_NODELIST), MASTER_PORT or 29500 + SLURM_JOB_ID % 1000 (a batch script outside srun is
// one process). Throws bft::Error naming the variable that is wrong.
LaunchEnv launch_env(const Getenv& getenv);
LaunchEnv launch_env(); // from this process's environment
// The first host of a Slurm node list: "gpu[07-09,12],cpu3" -> "gpu07".
std::string first_host(const std::string& nodelist);

struct GroupOptions {
    std::string backend = "auto";          // gloo, nccl, or auto: NCCL on CUDA, Gloo on CPU
    c10::Device device = c10::Device(c10::kCPU);
    std::chrono::milliseconds timeout{60000}; // joining, each collective, and a silent rank
    int64_t bucket_bytes = 25 << 20;          // gradient buckets (DDP's bucket_cap_mb)
    // Ctrl-C: when it turns true before every rank has joined, join() throws Stopped instead of
    // waiting out the timeout for a rank that may already be gone (its launcher stopped it too).
    const std::atomic<bool>* stop = nullptr;
};

// This process's membership of a job. Every rank must call the collectives in the same order.
class Group {
public:
    // The rendezvous: the store, a check that every rank agrees on the world size and that no rank
    // is taken twice, the process group, the heartbeat. Throws bft::Error saying what is wrong
    // (port in use, master unreachable, ranks missing, world sizes that differ).
    static std::shared_ptr<Group> join(const LaunchEnv& env, const GroupOptions& options);
    ~Group();

    int rank() const;
    int world() const;
    int local_rank() const;
    const std::string& backend() const;
    std::chrono::milliseconds timeout() const;
    int64_t bucket_bytes() const;

    // rank 0's values into every rank's tensors (in place).
    void broadcast(const std::vector<at::Tensor>& tensors);
    // Sum over the ranks, in place, blocking.
    void allreduce_sum(const at::Tensor& tensor);
    // The same, started now and waited for by wait(): the reducer's buckets.
    struct Pending;
    std::shared_ptr<Pending> allreduce_sum_async(const at::Tensor& tensor);
    void wait(Pending& pending);
    void barrier();

    // A point where ranks could part ways (set-up, resume): each rank says whether it got there
    // ("" or what went wrong); every rank throws if any did not, naming each one and why.
    void agree(const std::string& error, const std::string& what);
    // Every rank must hold the same `value` (e.g. the checkpoint a resume starts from); every rank
    // throws if one does not, naming it.
    void check_same(const std::string& value, const std::string& what);
    // Rank 0 writes files (checkpoints, sample sheets) while the others wait here, without the
    // collectives' timeout (a slow disk is no fault); only rank 0's death or failure ends the wait.
    void wait_for_writer(const std::string& what);
    // This rank fails by itself (a bad file, ...): the others will name it with this message.
    void publish_failure(const std::string& message);
    // The step this rank is at, for the others' diagnosis of a rank that hangs.
    void set_step(int64_t step);
    // A clean end: the others no longer expect this rank's heartbeat.
    void finish();
    // A collective failed (a peer died, hangs, or failed): throws PeerError naming the ranks.
    [[noreturn]] void fail(const std::string& during, const std::string& cause);

    struct Impl;

private:
    explicit Group(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d_;
};

// DDP's gradient averaging: parameters in buckets of about the group's bucket_bytes (in reverse
// order, as the backward pass produces them; the first bucket, the last layers', of 1 MiB as DDP
// makes it, so that communication starts early); a bucket's all-reduce starts as soon as its last
// gradient arrives, while the backward pass goes on, and in the same order on every rank.
// Parameters that got no gradient count as zero.
class GradientReducer {
public:
    GradientReducer(std::shared_ptr<Group> group, std::vector<at::Tensor> params);
    ~GradientReducer();
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;

    void begin();  // before a backward pass
    void finish(); // after it: every parameter's .grad is the mean over the ranks

    size_t buckets() const { return buckets_.size(); }
    int64_t bytes() const { return total_bytes_; }
    // Of the last finish(): from the first bucket's launch to the last one's end, and the part of it
    // the backward pass did not hide (time blocked in finish()).
    double allreduce_ms() const { return allreduce_ms_; }
    double exposed_ms() const { return exposed_ms_; }

private:
    struct Bucket {
        std::vector<size_t> params;
        std::vector<int64_t> offsets;
        at::Tensor flat;
        size_t ready = 0;
        std::shared_ptr<Group::Pending> pending;
    };
    void on_grad(size_t param, const at::Tensor& grad);
    void launch_ready(); // in order: bucket k only after bucket k-1 (the mutex is held)

    std::shared_ptr<Group> group_;
    std::vector<at::Tensor> params_;
    std::vector<unsigned> hooks_;
    std::vector<size_t> bucket_of_, slot_of_;
    std::vector<char> arrived_, bucketed_;
    std::vector<Bucket> buckets_;
    size_t next_launch_ = 0;
    bool active_ = false;
    std::exception_ptr hook_error_; // thrown inside autograd it would lose its type: finish() rethrows it
    int64_t total_bytes_ = 0;
    std::chrono::steady_clock::time_point first_launch_;
    double allreduce_ms_ = 0, exposed_ms_ = 0;
    std::mutex mutex_;
};

// `bft train --nproc N`: hosts the store, starts N ranks of `program args...` on this machine
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT as torchrun sets them), and supervises
// them: when one fails, the others get `timeout` to stop by themselves, then are terminated;
// SIGINT/SIGTERM are passed on (a second one kills). Returns the exit code for the whole job:
// 0, 130 when stopped, else 1, with one line on stderr per rank that failed.
struct LocalLaunch {
    std::string program;
    std::vector<std::string> args;
    int nproc = 2;
    int master_port = 0; // 0: a free port
    int threads_per_rank = 0; // OMP_NUM_THREADS for each rank (0: the cores shared out)
    std::chrono::milliseconds timeout{60000};
    std::function<void(int rank, int pid)> started; // tests and the editor find the ranks' pids
};
int launch_local(const LocalLaunch& launch, const std::atomic<bool>* stop = nullptr);

} // namespace bft::dist
