#include "runtime.h"

#include "errors.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <pthread.h>
#include <unistd.h>

#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bft {

bool cuda_available()
{
    return torch::cuda::is_available();
}

int cuda_device_count() { return cuda_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

c10::Device resolve_device(const std::string& name)
{
    if (name.empty() || name == "auto")
        return cuda_available() ? resolve_device("cuda:0") : c10::Device(c10::kCPU);
    c10::Device dev(c10::kCPU);
    try {
        dev = c10::Device(name);
    } catch (const std::exception&) {
        throw Error("unknown device '" + name + "' (expected cpu, cuda, cuda:N or auto)");
    }
    if (dev.is_cuda()) {
        at::globalContext().setBenchmarkCuDNN(true); // fixed shapes per session: let cuDNN pick its fastest kernels
        // fp32 is the parity precision: cuDNN's default TF32 (10-bit mantissa) misses the fixtures'
        // 1e-4. Speed on CUDA is what bf16 is for.
        at::globalContext().setAllowTF32CuDNN(false);
        if (!cuda_available())
            throw Error("device '" + name + "' requested, but no CUDA device is available (this build or machine has none)");
        const int index = dev.has_index() ? dev.index() : 0;
        if (index >= static_cast<int>(torch::cuda::device_count()))
            throw Error("device '" + name + "' does not exist (" + std::to_string(torch::cuda::device_count()) +
                        " CUDA devices)");
        return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    if (!dev.is_cpu())
        throw Error("unsupported device '" + name + "'");
    return dev;
}

std::string device_description(const c10::Device& device)
{
    if (device.is_cpu())
        return "cpu (" + std::to_string(at::get_num_threads()) + " threads)";
    return device.str();
}

int hardware_threads()
{
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

void configure_memory()
{
#if defined(__GLIBC__)
    // Every block comes from the heap and stays there for the next forward; one arena, so that
    // worker threads reuse the same memory instead of mmapping their own. Not even blocks over
    // glibc's largest mmap threshold (32 MiB) are mmapped: a 256x256 forward has several (the
    // first level's bottleneck alone writes 52 MB), and page-faulting them in afresh on every call
    // tripled that layer's time (36.6 -> 13.1 ms here).
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_ARENA_MAX, 1);
#endif
}

int set_threads(int threads)
{
    int n = threads > 0 ? threads : hardware_threads();
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer cannot see the OpenMP runtime's barriers (libgomp is not instrumented): the
    // work at::parallel_for hands to its threads would read as races. One intra-op thread there.
    n = 1;
#endif
    at::set_num_threads(n);
    return at::get_num_threads();
}

sigset_t async_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGWINCH, SIGPROF, SIGVTALRM,
                    SIGIO, SIGURG})
        sigaddset(&set, sig);
    return set;
}

void block_async_signals()
{
    const sigset_t set = async_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void take_signals_on_own_thread()
{
    block_async_signals();
    std::thread([] {
        const sigset_t set = async_signals();
        pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
        // Handlers run here, between pauses; a default action (termination) ends the process as before.
        for (;;)
            ::pause();
    }).detach();
}

} // namespace bft
