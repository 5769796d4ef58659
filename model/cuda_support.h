// What needs a CUDA build of LibTorch: whole forwards replayed as CUDA graphs, and the caching
// allocator's memory statistics. The header has no CUDA types; built against a LibTorch without
// CUDA (Debian's), every function here says "not available" and the callers take the plain path.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bft {

// The caching allocator's bytes in use on a CUDA device now and at their peak since the last
// reset, in MiB; 0 without CUDA.
double cuda_allocated_mib(const c10::Device& device);
double cuda_peak_allocated_mib(const c10::Device& device);
void cuda_reset_peak(const c10::Device& device);

// Whole inference forwards captured once and replayed as CUDA graphs. At batch 1 a forward of these
// networks is several hundred small kernels, and on a fast GPU launching them one by one from the
// CPU takes longer than running them; a replay launches them all at once. One graph per input
// shape and key (the precision); the first call of each runs the forward once uncaptured (cuDNN
// picks its kernels, the derived weights are made) and then captures it, on a side stream.
class CudaGraphs {
public:
    using Forward = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;
    CudaGraphs();
    ~CudaGraphs();
    CudaGraphs(const CudaGraphs&) = delete;
    CudaGraphs& operator=(const CudaGraphs&) = delete;

    // forward(x, g), replayed; a fresh tensor, not the graph's own output. `state`: every tensor
    // the forward reads besides x and g (the weights): when any of them moves or is modified in
    // place, the graphs are captured again. Returns an undefined tensor where graphs cannot run
    // (no CUDA build, a CPU tensor, or a capture that failed: said once on stderr); the caller then
    // runs the forward itself.
    at::Tensor run(const at::Tensor& x, const at::Tensor& g, int key, const std::vector<at::Tensor>& state,
                   const Forward& forward);
    void clear();   // lets every graph and its memory go
    int captures(); // graphs captured so far (for tests and reports)

private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

} // namespace bft
