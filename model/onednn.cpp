#include "onednn.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#if defined(BFT_WITH_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#endif

namespace bft::onednn {

#if defined(BFT_WITH_ONEDNN)

namespace {

using dnnl::memory;

dnnl::engine& cpu_engine()
{
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// One Winograd convolution of a given shape: its primitive and the reorders in and out of the
// blocked layout it needs. Primitives are thread-safe to execute; the scratchpad is the caller's.
struct Plan {
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward conv;
    dnnl::reorder to_src, from_dst;
    memory::desc user_src, user_dst;
    std::vector<int64_t> weights_key; // the bytes of the weights' layout: equal keys, equal layouts
};

using Shape = std::array<int64_t, 6>; // N, C, H, W, O, bias

memory::desc nchw(int64_t n, int64_t c, int64_t h, int64_t w)
{
    return memory::desc({n, c, h, w}, memory::data_type::f32, memory::format_tag::nchw);
}

// The plan for a shape, made once (a primitive descriptor iterates oneDNN's implementations: too slow
// to repeat per layer); null where oneDNN has no Winograd kernel for it.
std::shared_ptr<const Plan> plan_for(const Shape& s)
{
    static std::mutex mutex;
    static std::map<Shape, std::shared_ptr<const Plan>> plans;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = plans.find(s); it != plans.end())
        return it->second;
    const auto [n, c, h, w, o, has_bias] = s;
    const auto f32 = memory::data_type::f32;
    const auto any = memory::format_tag::any;
    const memory::desc src({n, c, h, w}, f32, any), wei({o, c, 3, 3}, f32, any), dst({n, o, h - 2, w - 2}, f32, any);
    const memory::desc bias = has_bias ? memory::desc({o}, f32, memory::format_tag::x) : memory::desc();
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    std::shared_ptr<Plan> plan;
    try {
        const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
                                                   src, wei, bias, dst, {1, 1}, {0, 0}, {0, 0});
        dnnl::convolution_forward::primitive_desc pd(desc, attr, cpu_engine(), /*allow_empty=*/true);
        if (pd) {
            plan = std::make_shared<Plan>();
            plan->pd = pd;
            plan->conv = dnnl::convolution_forward(pd);
            const dnnl_memory_desc_t layout = pd.weights_desc().data;
            plan->weights_key.assign((sizeof(layout) + 7) / 8, 0);
            std::memcpy(plan->weights_key.data(), &layout, sizeof(layout));
            plan->user_src = nchw(n, c, h, w);
            plan->user_dst = nchw(n, o, h - 2, w - 2);
            plan->to_src = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), plan->user_src, cpu_engine(), pd.src_desc()));
            plan->from_dst = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), pd.dst_desc(), cpu_engine(), plan->user_dst));
        }
    } catch (const dnnl::error&) {
        plan.reset(); // no kernel for this shape or CPU: the direct path it is
    }
    // Shapes are few (one per trunk width and image size); bound the map all the same.
    if (plans.size() >= 64)
        plans.clear();
    plans[s] = plan;
    return plan;
}

memory wrap(const memory::desc& desc, const at::Tensor& t)
{
    return memory(desc, cpu_engine(), t.data_ptr());
}

at::Tensor bytes(const memory::desc& desc)
{
    return at::empty({static_cast<int64_t>(desc.get_size())}, at::TensorOptions().dtype(at::kByte));
}

// Buffers a thread reuses from one convolution to the next: the scratchpad alone is about 50 MiB
// at the authors' size, and fresh memory of that size comes from mmap, page-faulted on every call
// (that doubled the convolution's time).
struct Workspace {
    at::Tensor src, dst, scratch;
};

memory reuse(at::Tensor& buffer, const memory::desc& desc)
{
    const auto size = static_cast<int64_t>(desc.get_size());
    if (!buffer.defined() || buffer.numel() < size)
        buffer = at::empty({std::max<int64_t>(size, 1)}, at::TensorOptions().dtype(at::kByte));
    return memory(desc, cpu_engine(), buffer.data_ptr());
}

} // namespace

bool winograd_available()
{
    static const bool available = [] {
        try {
            return plan_for({1, 64, 18, 18, 64, 1}) != nullptr;
        } catch (...) {
            return false;
        }
    }();
    return available;
}

at::Tensor winograd_conv3x3(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            const WeightStore& transformed_weight)
{
    if (!x.is_cpu() || x.scalar_type() != at::kFloat || weight.scalar_type() != at::kFloat || x.dim() != 4 ||
        weight.dim() != 4 || weight.size(1) != x.size(1) || weight.size(2) != 3 || weight.size(3) != 3 ||
        x.size(2) < 3 || x.size(3) < 3 || (bias.defined() && bias.scalar_type() != at::kFloat))
        return {};
    const Shape shape{x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), bias.defined() ? 1 : 0};
    const std::shared_ptr<const Plan> plan = plan_for(shape);
    if (!plan)
        return {};
    RECORD_FUNCTION("bft::winograd_conv3x3", std::vector<c10::IValue>());
    dnnl::stream stream(cpu_engine());
    const at::Tensor w = transformed_weight(plan->weights_key, [&] {
        const at::Tensor user = weight.detach().contiguous();
        at::Tensor out = bytes(plan->pd.weights_desc());
        memory from(memory::desc({weight.size(0), weight.size(1), 3, 3}, memory::data_type::f32, memory::format_tag::oihw),
                    cpu_engine(), user.data_ptr());
        memory to = wrap(plan->pd.weights_desc(), out);
        dnnl::reorder(from, to).execute(stream, from, to);
        stream.wait();
        return out;
    });
    const at::Tensor src_user = x.contiguous(), b = bias.defined() ? bias.contiguous() : bias;
    thread_local Workspace work;
    at::Tensor out = at::empty({x.size(0), weight.size(0), x.size(2) - 2, x.size(3) - 2}, x.options());
    memory src_user_m = wrap(plan->user_src, src_user), src_m = reuse(work.src, plan->pd.src_desc());
    memory dst_m = reuse(work.dst, plan->pd.dst_desc()), out_m = wrap(plan->user_dst, out);
    plan->to_src.execute(stream, src_user_m, src_m);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_m},
                                         {DNNL_ARG_WEIGHTS, wrap(plan->pd.weights_desc(), w)},
                                         {DNNL_ARG_DST, dst_m},
                                         {DNNL_ARG_SCRATCHPAD, reuse(work.scratch, plan->pd.scratchpad_desc())}};
    if (b.defined())
        args.emplace(DNNL_ARG_BIAS, memory(memory::desc({weight.size(0)}, memory::data_type::f32, memory::format_tag::x),
                                           cpu_engine(), b.data_ptr()));
    plan->conv.execute(stream, args);
    plan->from_dst.execute(stream, dst_m, out_m);
    stream.wait();
    return out;
}

#else // without oneDNN's headers

bool winograd_available()
{
    return false;
}

at::Tensor winograd_conv3x3(const at::Tensor&, const at::Tensor&, const at::Tensor&, const WeightStore&)
{
    return {};
}

#endif

} // namespace bft::onednn
