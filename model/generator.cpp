#include "generator.h"

#include "resnet_generators.h"
#include "unet_generators.h"

#include "errors.h"

#include <ATen/core/grad_mode.h>

namespace bft {

at::Tensor GeneratorImpl::infer(const at::Tensor& input, const at::Tensor& guide, const ForwardOptions& options)
{
    if (options.cuda_graph && input.is_cuda() && !options.film && !at::GradMode::is_enabled()) {
        if (options.cancel && options.cancel->load(std::memory_order_relaxed))
            return {};
        ForwardOptions whole = options;
        whole.cancel = nullptr; // a captured forward must not stop halfway
        std::vector<at::Tensor> state = parameters();
        for (const at::Tensor& b : buffers())
            state.push_back(b);
        at::Tensor y = cuda_graphs_.run(input, guide, static_cast<int>(options.precision), state,
                                        [&](const at::Tensor& x, const at::Tensor& g) { return run(x, g, whole); });
        if (y.defined())
            return y;
    }
    return run(input, guide, options);
}

Generator make_generator(const ArchSpec& spec)
{
    spec.validate();
    switch (spec.arch) {
    case Arch::BftResnet: return std::make_shared<BftResnetImpl>(spec);
    case Arch::UftResnet: return std::make_shared<UftResnetImpl>(spec);
    case Arch::BftUnet: return std::make_shared<BftUnetImpl>(spec);
    case Arch::UftUnet: return std::make_shared<UftUnetImpl>(spec);
    }
    throw Error("unknown architecture");
}

} // namespace bft
