#include "cuda_support.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#if defined(BFT_WITH_CUDA)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/version.h>
#endif

#include <algorithm>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

namespace bft {

#if defined(BFT_WITH_CUDA)
namespace {
int index_of(const c10::Device& device) { return device.has_index() ? device.index() : 0; }

// The caching allocator's count of bytes in use on a device, now and at its peak ([0]: the
// aggregate over its small and large pools).
auto allocated_bytes(const c10::Device& device)
{
    return c10::cuda::CUDACachingAllocator::getDeviceStats(index_of(device)).allocated_bytes[0];
}
} // namespace
#endif

double cuda_allocated_mib(const c10::Device& device)
{
#if defined(BFT_WITH_CUDA)
    if (device.is_cuda())
        return static_cast<double>(allocated_bytes(device).current) / 1048576.0;
#endif
    (void)device;
    return 0;
}

double cuda_peak_allocated_mib(const c10::Device& device)
{
#if defined(BFT_WITH_CUDA)
    if (device.is_cuda())
        return static_cast<double>(allocated_bytes(device).peak) / 1048576.0;
#endif
    (void)device;
    return 0;
}

void cuda_reset_peak(const c10::Device& device)
{
#if defined(BFT_WITH_CUDA)
    if (device.is_cuda())
        c10::cuda::CUDACachingAllocator::resetPeakStats(index_of(device));
#endif
    (void)device;
}

struct CudaGraphs::Impl {
    std::mutex mutex;
    int captures = 0;
#if defined(BFT_WITH_CUDA)
    struct Entry {
        std::unique_ptr<at::cuda::CUDAGraph> graph;
        at::Tensor x, g, y; // the graph's own input and output memory
        uint64_t used = 0;  // when it last ran
    };
    // Each graph keeps its activations' memory: a handful of shapes at most (the editor's preview
    // and full size, in two precisions); beyond that the one unused longest goes.
    static constexpr size_t kMaxGraphs = 4;
    uint64_t clock = 0;
    std::map<std::vector<int64_t>, Entry> graphs;
    std::vector<int64_t> state;             // where the weights were, and their versions, at capture
    std::set<std::vector<int64_t>> failed;  // shapes whose capture failed: run directly
#endif
};

CudaGraphs::CudaGraphs() : d_(std::make_unique<Impl>()) {}
CudaGraphs::~CudaGraphs() = default;

void CudaGraphs::clear()
{
    std::lock_guard<std::mutex> lock(d_->mutex);
#if defined(BFT_WITH_CUDA)
    d_->graphs.clear();
    d_->state.clear();
#endif
}

int CudaGraphs::captures()
{
    std::lock_guard<std::mutex> lock(d_->mutex);
    return d_->captures;
}

at::Tensor CudaGraphs::run(const at::Tensor& x, const at::Tensor& g, int key, const std::vector<at::Tensor>& state,
                           const Forward& forward)
{
#if !defined(BFT_WITH_CUDA)
    (void)x, (void)g, (void)key, (void)state, (void)forward;
    return {};
#else
    if (!x.is_cuda() || !g.is_cuda() || x.device() != g.device())
        return {};
    c10::InferenceMode inference; // the static inputs are inference tensors, written in place below
    std::lock_guard<std::mutex> lock(d_->mutex);
    // A graph replays the addresses it saw: new or moved weights (a load, a training step that
    // replaced them) mean capturing again. In-place updates keep the addresses, but the derived
    // weights (bf16 copies, fused bottlenecks) are then made anew, elsewhere.
    std::vector<int64_t> now;
    now.reserve(state.size() * 2);
    for (const at::Tensor& t : state) {
        now.push_back(reinterpret_cast<int64_t>(t.defined() ? t.data_ptr() : nullptr));
        now.push_back(t.defined() && !t.is_inference() ? static_cast<int64_t>(t._version()) : 0);
    }
    if (now != d_->state) {
        d_->graphs.clear();
        d_->state = std::move(now);
    }
    std::vector<int64_t> k(x.sizes().begin(), x.sizes().end());
    k.insert(k.end(), g.sizes().begin(), g.sizes().end());
    k.push_back(key);
    k.push_back(x.device().index());
    k.push_back(static_cast<int64_t>(x.scalar_type()));
    auto it = d_->graphs.find(k);
    if (it == d_->graphs.end()) {
        if (d_->failed.count(k))
            return {};
        Impl::Entry e;
        const c10::DeviceIndex dev = x.device().index();
        try {
            e.x = x.clone();
            e.g = g.clone();
            c10::cuda::getCurrentCUDAStream(dev).synchronize(); // once per shape: the copies are done
            // Captures need a stream of their own; the warm-up runs there too, so that what it
            // caches (cuDNN's choices, workspaces) is what the capture sees.
            c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, dev);
            c10::cuda::CUDAStreamGuard on_side(side);
            forward(e.x, e.g);
            side.synchronize();
            e.graph = std::make_unique<at::cuda::CUDAGraph>();
#if TORCH_VERSION_MAJOR >= 2
            // Thread-local: the editor's other threads may touch CUDA while this one captures.
            e.graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
            e.graph->capture_begin();
#endif
            try {
                e.y = forward(e.x, e.g);
            } catch (...) {
                try {
                    e.graph->capture_end();
                } catch (...) {
                }
                throw;
            }
            e.graph->capture_end();
            side.synchronize();
            if (!e.y.defined())
                throw std::runtime_error("the forward returned nothing");
        } catch (const std::exception& ex) {
            d_->failed.insert(k);
            std::string why = ex.what();
            why = why.substr(0, why.find('\n'));
            std::cerr << "note: this forward could not be captured as a CUDA graph (" << why
                      << "); it runs kernel by kernel\n";
            return {};
        }
        ++d_->captures;
        if (d_->graphs.size() >= Impl::kMaxGraphs)
            d_->graphs.erase(std::min_element(d_->graphs.begin(), d_->graphs.end(), [](const auto& a, const auto& b) {
                return a.second.used < b.second.used;
            }));
        it = d_->graphs.emplace(std::move(k), std::move(e)).first;
    }
    Impl::Entry& e = it->second;
    e.used = ++d_->clock;
    e.x.copy_(x);
    e.g.copy_(g);
    e.graph->replay();
    return e.y.clone(); // the next replay overwrites e.y
#endif
}

} // namespace bft
