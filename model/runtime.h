// Where and how inference runs: device selection ("cpu", "cuda", "cuda:1", "auto") and the
// intra-op thread count (Debian's LibTorch starts with one thread; we default to all cores).
#pragma once

#include <c10/core/Device.h>

#include <signal.h>

#include <string>

namespace bft {

// "auto" picks CUDA when a device is present; asking for CUDA without one is an error.
c10::Device resolve_device(const std::string& name);
bool cuda_available();
int cuda_device_count(); // 0 without CUDA
std::string device_description(const c10::Device& device); // "cpu (2 threads)", "cuda:0 (NVIDIA H100)"

int hardware_threads();

// Keeps freed feature maps (of any size: nothing is mmapped) in glibc's heap instead of returning
// them to the kernel after every layer, in one arena shared by all threads: otherwise 10-15% of a
// 256x256 forward goes to page faults, more in worker threads, and a layer writing 50 MB runs 3x
// slower. Peak memory stays below PyTorch eager's (a size-keyed caching allocator was faster by 6%
// but held 15% more). Call once at start-up.
void configure_memory();
// threads <= 0 means all cores. Returns the count in force.
int set_threads(int threads);

// Threads that compute take no asynchronous signals. oneDNN's JIT f32 GEMM (x64, up to 3.11;
// uxlfoundation/oneDNN#4845) points rsp into its heap workspace while it runs: a signal handled on
// that thread writes its frame there and corrupts the heap (one Ctrl-C of a two-rank training run
// in 17 aborted with "corrupted size vs. prev_size"). Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT,
// SIGCHLD, SIGUSR1/2, the timers' and the terminal's in the calling thread and in the threads it
// starts later (they inherit its mask); SIGPIPE and the faults stay as they are.
void block_async_signals();
// For a program's main(), before any other thread starts: blocks them there (so in every thread
// to come, OpenMP's, Gloo's and the data loader's included) and starts one thread that only takes
// them, so that handlers and default actions (Ctrl-C ending a command) work as before, off the
// computing threads. Children started through ChildProcess get an empty mask back.
void take_signals_on_own_thread();
// The signals block_async_signals() blocks.
sigset_t async_signals();

} // namespace bft
