#include "onednn.h"

#include "errors.h"
#include "kernels.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#if defined(BFT_WITH_ONEDNN)
#include <oneapi/dnnl/dnnl.hpp>
#if DNNL_VERSION_MAJOR != 2 // the calls below are oneDNN 2's API (3 dropped operation descriptors)
#undef BFT_WITH_ONEDNN
#endif
#endif

#if defined(BFT_WITH_ONEDNN)
#include <oneapi/dnnl/dnnl.h>
#include <c10/util/intrusive_ptr.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>
#endif

namespace bft::onednn {

#if defined(BFT_WITH_ONEDNN)

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& cpu_engine()
{
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// Everything that picks a kernel: N, C, H, W, O, kernel h/w, stride h/w, padding h/w before, groups,
// dtype, channels-last, bias dtype (-1: none), algorithm, ReLU, padding h/w after.
using Shape = std::array<int64_t, 19>;

// One convolution of a given shape: its primitive, the reorders between the caller's layout and the
// one the kernel wants (where they differ), and the key of the weights' layout. Primitives are
// thread-safe to execute; the scratchpad is each thread's own.
struct Plan {
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward conv;
    memory::desc user_src, user_dst, user_weights, bias;
    bool reorder_src = false, reorder_dst = false;
    dnnl::reorder to_src, from_dst;
    std::vector<int64_t> weights_key; // the bytes of the weights' layout: equal keys, equal layouts
};

memory::data_type dnnl_type(int64_t t)
{
    return static_cast<at::ScalarType>(t) == at::kBFloat16 ? memory::data_type::bf16 : memory::data_type::f32;
}

// Whether oneDNN runs channels-last convolutions with kernels made for that layout (brgconv, AVX-512
// and up; ONEDNN_MAX_CPU_ISA can lower it), rather than a slower variant of its blocked ones.
bool channels_last_native()
{
    static const bool yes = [] {
        const unsigned isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
        return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
    }();
    return yes;
}

// The plan for a shape, made once (a primitive descriptor iterates oneDNN's implementations: too
// slow to repeat per layer); null where oneDNN has no kernel for it.
std::shared_ptr<const Plan> plan_for(const Shape& s)
{
    static std::mutex mutex;
    static std::map<Shape, std::shared_ptr<const Plan>> plans;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = plans.find(s); it != plans.end())
        return it->second;
    const auto [n, c, h, w, o, kh, kw, sh, sw, ph, pw, groups, dtype, channels_last, bias_type, winograd, relu, ph_r, pw_r] = s;
    const memory::data_type t = dnnl_type(dtype);
    const int64_t oh = (h + ph + ph_r - kh) / sh + 1, ow = (w + pw + pw_r - kw) / sw + 1;
    const Tag plain = channels_last ? Tag::nhwc : Tag::nchw;
    auto plan = std::make_shared<Plan>();
    plan->user_src = memory::desc({n, c, h, w}, t, plain);
    plan->user_dst = memory::desc({n, o, oh, ow}, t, plain);
    plan->user_weights = groups == 1 ? memory::desc({o, c, kh, kw}, t, Tag::oihw)
                                     : memory::desc({groups, o / groups, c / groups, kh, kw}, t, Tag::goihw);
    if (bias_type >= 0)
        plan->bias = memory::desc({o}, dnnl_type(bias_type), Tag::x);
    // Channels-last activations stay as they are where oneDNN's kernels for this CPU work in that
    // layout (AVX-512: brgconv); NCHW ones go to the kernel's blocked layout and back, as LibTorch
    // does. On AVX2 so do channels-last inputs of spatial kernels over 32+ channels, which its nhwc
    // kernels ran at half the blocked ones' rate (Zen 2: 3x3 stride 2, 128->256 at 128x128: 35 ms
    // in nhwc, 13 blocked with the reorders); its 1x1 (and grouped) kernels and those over a few
    // input channels (the stems) ran as fast or faster in nhwc than reordered.
    const bool blocked_pays = !channels_last_native() && kh * kw > 1 && c >= 32 && groups == 1;
    const bool any = !channels_last || winograd || blocked_pays;
    const memory::desc src = any ? memory::desc({n, c, h, w}, t, Tag::any) : plan->user_src;
    const memory::desc dst = any ? memory::desc({n, o, oh, ow}, t, Tag::any) : plan->user_dst;
    const memory::desc wei = groups == 1 ? memory::desc({o, c, kh, kw}, t, Tag::any)
                                         : memory::desc({groups, o / groups, c / groups, kh, kw}, t, Tag::any);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (relu) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(ops);
    }
    try {
        const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                                   winograd ? dnnl::algorithm::convolution_winograd
                                                            : dnnl::algorithm::convolution_direct,
                                                   src, wei, plan->bias, dst, {sh, sw}, {ph, pw}, {ph_r, pw_r});
        dnnl::convolution_forward::primitive_desc pd(desc, attr, cpu_engine(), /*allow_empty=*/true);
        if (!pd) {
            plan.reset();
        } else {
            plan->pd = pd;
            plan->conv = dnnl::convolution_forward(pd);
            const dnnl_memory_desc_t layout = pd.weights_desc().data;
            plan->weights_key.assign((sizeof(layout) + 7) / 8, 0);
            std::memcpy(plan->weights_key.data(), &layout, sizeof(layout));
            plan->reorder_src = pd.src_desc() != plan->user_src;
            plan->reorder_dst = pd.dst_desc() != plan->user_dst;
            if (plan->reorder_src)
                plan->to_src = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), plan->user_src, cpu_engine(), pd.src_desc()));
            if (plan->reorder_dst)
                plan->from_dst = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), pd.dst_desc(), cpu_engine(), plan->user_dst));
        }
    } catch (const dnnl::error&) {
        plan.reset(); // no kernel for this shape or CPU: LibTorch's path it is
    }
    // Shapes are a few dozen per network and image size; bound the map all the same.
    if (plans.size() >= 1024)
        plans.clear();
    plans[s] = plan;
    return plan;
}

// Packed weights, beside the weight tensors they come from: an entry is good while its tensor
// lives (a weak reference) and is unchanged (its version counter; an optimizer step moves it).
class PackedWeights {
public:
    at::Tensor get(const at::Tensor& weight, const std::vector<int64_t>& layout, const std::function<at::Tensor()>& make)
    {
        const int64_t version = weight.is_inference() ? -1 : static_cast<int64_t>(weight._version());
        std::lock_guard<std::mutex> lock(mutex_);
        const Key key{weight.unsafeGetTensorImpl(), layout};
        if (auto it = entries_.find(key); it != entries_.end()) {
            const Entry& e = it->second;
            if (!e.owner.expired() && e.owner.lock().get() == weight.unsafeGetTensorImpl() && e.version == version)
                return e.packed;
            bytes_ -= e.packed.nbytes();
            entries_.erase(it);
        }
        sweep(); // a few hundred entries at most: cheap beside packing, and no dead copy outlives its weight for long
        at::Tensor packed = make();
        bytes_ += packed.nbytes();
        entries_.emplace(key, Entry{Weak(weight.getIntrusivePtr()), version, packed});
        return packed;
    }

    void clear()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        entries_.clear();
        bytes_ = 0;
    }

    PackedStats stats()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        sweep();
        return {static_cast<int64_t>(entries_.size()), bytes_};
    }

private:
    using Weak = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
    using Key = std::pair<const void*, std::vector<int64_t>>;
    struct Entry {
        Weak owner;
        int64_t version;
        at::Tensor packed;
    };

    void sweep() // the packed copies of weights that are gone
    {
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (it->second.owner.expired()) {
                bytes_ -= it->second.packed.nbytes();
                it = entries_.erase(it);
            } else {
                ++it;
            }
        }
    }

    std::mutex mutex_;
    std::map<Key, Entry> entries_;
    int64_t bytes_ = 0;
};

PackedWeights& packed()
{
    static PackedWeights* store = new PackedWeights; // never destroyed: tensors may outlive static destruction
    return *store;
}

// Buffers a thread reuses from one convolution to the next (Winograd's scratchpad alone is about
// 50 MiB at the authors' size: fresh memory of that size was page-faulted in on every call).
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

memory wrap(const memory::desc& desc, const at::Tensor& t)
{
    return memory(desc, cpu_engine(), t.data_ptr());
}

// The weight in the layout the plan's kernel wants, packed on first use.
at::Tensor packed_weight(const Plan& plan, const at::Tensor& weight, dnnl::stream& stream)
{
    return packed().get(weight, plan.weights_key, [&] {
        const at::Tensor user = weight.detach().contiguous();
        at::Tensor out = at::empty({static_cast<int64_t>(plan.pd.weights_desc().get_size())}, at::TensorOptions().dtype(at::kByte));
        memory from = wrap(plan.user_weights, user), to = wrap(plan.pd.weights_desc(), out);
        dnnl::reorder(from, to).execute(stream, from, to);
        stream.wait();
        return out;
    });
}

} // namespace

bool available()
{
    return true;
}

bool pointwise_slices_available()
{
    return channels_last_native();
}

bool winograd_available()
{
    static const bool yes = [] {
        try {
            const Shape s{1, 64, 18, 18, 64, 3, 3, 1, 1, 0, 0, 1, static_cast<int64_t>(at::kFloat), 0, -1, 1, 0, 0, 0};
            return plan_for(s) != nullptr;
        } catch (...) {
            return false;
        }
    }();
    return yes;
}

at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                  at::IntArrayRef padding, int64_t groups, Algorithm algorithm, bool relu, at::IntArrayRef padding_after,
                  const at::Tensor& into)
{
    const at::ScalarType t = x.scalar_type();
    if (padding_after.empty())
        padding_after = padding;
    const bool winograd = algorithm == Algorithm::Winograd;
    if (!x.is_cpu() || !weight.is_cpu() || (t != at::kFloat && t != at::kBFloat16) || weight.scalar_type() != t ||
        x.dim() != 4 || weight.dim() != 4 || stride.size() != 2 || padding.size() != 2 || padding_after.size() != 2 ||
        std::min({padding[0], padding[1], padding_after[0], padding_after[1]}) < 0 || groups < 1 ||
        x.size(1) != weight.size(1) * groups || weight.size(0) % groups != 0 || x.numel() == 0 ||
        (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0) || !bias.is_cpu() ||
                            (bias.scalar_type() != at::kFloat && bias.scalar_type() != at::kBFloat16))) ||
        (winograd && (t != at::kFloat || weight.size(2) != 3 || weight.size(3) != 3 || stride[0] != 1 || stride[1] != 1)))
        return {};
    // A one-channel input is contiguous either way; its strides still say which layout its maker
    // asked for, and the result follows (a channels-last network's first layer answers in it).
    const bool channels_last = x.size(1) > 1 ? !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast)
                                             : x.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
    const Shape shape{x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), weight.size(2), weight.size(3),
                      stride[0], stride[1], padding[0], padding[1], groups, static_cast<int64_t>(t),
                      channels_last ? 1 : 0, bias.defined() ? static_cast<int64_t>(bias.scalar_type()) : -1,
                      winograd ? 1 : 0, relu ? 1 : 0, padding_after[0], padding_after[1]};
    const int64_t oh = (x.size(2) + padding[0] + padding_after[0] - weight.size(2)) / stride[0] + 1;
    const int64_t ow = (x.size(3) + padding[1] + padding_after[1] - weight.size(3)) / stride[1] + 1;
    if (oh < 1 || ow < 1)
        return {};
    const std::shared_ptr<const Plan> plan = plan_for(shape);
    if (!plan)
        return {};
    RECORD_FUNCTION(winograd ? "bft::onednn_winograd_conv" : "bft::onednn_conv", std::vector<c10::IValue>());
    dnnl::stream stream(cpu_engine());
    const at::Tensor w = packed_weight(*plan, weight, stream);
    const at::Tensor src_user = x.contiguous(channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
    const at::Tensor b = bias.defined() ? bias.contiguous() : bias;
    const auto out_format = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const std::vector<int64_t> out_sizes{x.size(0), weight.size(0), oh, ow};
    if (into.defined() && (into.sizes() != at::IntArrayRef(out_sizes) || into.scalar_type() != t || !into.is_cpu() ||
                           !into.is_contiguous(out_format)))
        throw Error("onednn::conv2d: `into` is not the result's shape and layout");
    at::Tensor out = into.defined() ? into : at::empty(out_sizes, x.options().memory_format(out_format));
    thread_local Workspace work;
    memory src_m = wrap(plan->user_src, src_user), out_m = wrap(plan->user_dst, out);
    if (plan->reorder_src) {
        memory blocked = reuse(work.src, plan->pd.src_desc());
        plan->to_src.execute(stream, src_m, blocked);
        src_m = blocked;
    }
    memory dst_m = plan->reorder_dst ? reuse(work.dst, plan->pd.dst_desc()) : out_m;
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_m},
                                         {DNNL_ARG_WEIGHTS, wrap(plan->pd.weights_desc(), w)},
                                         {DNNL_ARG_DST, dst_m},
                                         {DNNL_ARG_SCRATCHPAD, reuse(work.scratch, plan->pd.scratchpad_desc())}};
    if (b.defined())
        args.emplace(DNNL_ARG_BIAS, wrap(plan->bias, b));
    plan->conv.execute(stream, args);
    if (plan->reorder_dst)
        plan->from_dst.execute(stream, dst_m, out_m);
    stream.wait();
    return out;
}

namespace {
// BFT_ONEDNN_PAIR=1: the FiLM bottleneck pairs through oneDNN in float32 too, for comparison.
bool own_pair_kernel()
{
    static const bool yes = [] {
        const char* v = std::getenv("BFT_ONEDNN_PAIR");
        return !v || std::string(v) != "1";
    }();
    return yes;
}

// pointwise_pair, with each slice's result written to y or, where `consume` is set, to a buffer of
// the thread's own and handed to it. Returns whether it ran.
bool run_pair(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& c1, const at::Tensor& w2, const at::Tensor& c2,
              int64_t groups, at::Tensor* result, const SliceConsumer* consume, const std::function<void()>* ready,
              bool allow_own)
{
    const at::ScalarType t = x.scalar_type();
    // AVX2's 1x1 kernels were not measured this way; there kernels::film_bottleneck runs instead.
    if (!channels_last_native() || !x.is_cpu() || (t != at::kFloat && t != at::kBFloat16) || x.dim() != 4 ||
        x.numel() == 0 || !x.is_contiguous(at::MemoryFormat::ChannelsLast))
        return false;
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    auto pointwise_weight = [&](const at::Tensor& wt, int64_t in) {
        return wt.dim() == 4 && wt.size(1) == in && wt.size(2) == 1 && wt.size(3) == 1 && wt.is_cpu() && wt.scalar_type() == t;
    };
    if (groups < 1 || !pointwise_weight(w1, c) || w1.size(0) % groups || !pointwise_weight(w2, w1.size(0) / groups) ||
        w2.size(0) % groups || !c1.defined() || c1.dim() != 1 || c1.size(0) != w1.size(0) || c1.scalar_type() != t ||
        !c2.defined() || c2.dim() != 1 || c2.size(0) != w2.size(0) || c2.scalar_type() != t)
        return false;
    const int64_t hidden = w1.size(0), out_c = w2.size(0), pixels = n * h * w, esize = x.element_size();
    // float32 by our own kernels where they run (kernels.h: pointwise_pair_rows), on maps of 64
    // pixels or more: the Xeon, a pose forward at 256, FiLM 59.6 -> 51.2 ms (level 1: 14.1 -> 12.3
    // each way, with the modulation); texture at 256, 8x8 (512 channels): 0.41 / 0.27 -> 0.28 /
    // 0.20 ms. On smaller maps the weights are the work, and oneDNN reads them once where ours
    // reads them once per 6 pixels (texture at 128, 16 pixels: 0.10-0.15 against 0.15-0.18 ms; at
    // 256, 0.14 / 0.10 against 0.19 / 0.15). BFT_ONEDNN_PAIR=1 compares.
    const bool own = allow_own && t == at::kFloat && pixels >= 64 && own_pair_kernel() &&
                     kernels::pointwise_pair_fits(c, hidden, out_c, groups);
    // A 1x1 convolution does not care where its pixels sit: a slice of pixels is a 1 x S image. About
    // 1 MiB of hidden channels per slice for oneDNN (1280 pixels of 200 in fp32; 128 KiB to 4 MiB
    // measured on the Xeon, pose at 256: 1-2 MiB best in fp32 and bf16), 256 pixels for ours (its
    // blocks read the hidden rows from L1/L2: 240 best of 48 to 4096), and at least as many slices
    // as threads.
    const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
    const int64_t by_cache = own ? 256 : std::max<int64_t>(16, (int64_t{1} << 20) / (hidden * esize) / 16 * 16);
    const int64_t by_threads = ((pixels + threads - 1) / threads + 15) / 16 * 16;
    const int64_t slice = std::min({by_cache, by_threads, pixels});
    const int64_t slices = (pixels + slice - 1) / slice, tail = pixels - (slices - 1) * slice;
    auto shape = [&](int64_t s, int64_t in, int64_t out, int64_t g, bool relu) {
        return Shape{1, in, 1, s, out, 1, 1, 1, 1, 0, 0, g, static_cast<int64_t>(t), 1, static_cast<int64_t>(t), 0, relu ? 1 : 0, 0, 0};
    };
    struct Pair {
        std::shared_ptr<const Plan> first, second;
    };
    auto pair_for = [&](int64_t s) -> Pair {
        Pair p{plan_for(shape(s, c, hidden, 1, true)), plan_for(shape(s, hidden, out_c, groups, false))};
        // Only where both kernels take the channels-last rows as they are (no reorders in a slice).
        for (const auto* q : {&p.first, &p.second})
            if (!*q || (*q)->reorder_src || (*q)->reorder_dst)
                return {};
        return p;
    };
    Pair full, last;
    if (!own) {
        full = pair_for(slice);
        last = tail == slice ? full : pair_for(tail);
        if (!full.first || !last.first)
            return false;
    }
    if (ready && *ready)
        (*ready)();
    at::Tensor y;
    if (!consume)
        y = at::empty({n, out_c, h, w}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    const char* xp = static_cast<const char*>(x.data_ptr());
    char* yp = consume ? nullptr : static_cast<char*>(y.data_ptr());
    if (own) {
        RECORD_FUNCTION("bft::pointwise_pair_rows", std::vector<c10::IValue>());
        // Packed beside oneDNN's, under layouts of their own (negative: no oneDNN key is).
        const at::Tensor a = packed().get(w1, {-1}, [&] { return kernels::pack_pointwise_pair_first(w1); });
        const at::Tensor b = packed().get(w2, {-2, groups}, [&] { return kernels::pack_pointwise_pair_second(w2, groups); });
        const int64_t stride = kernels::pointwise_pair_hidden_stride(hidden);
        std::vector<float> bias1(static_cast<size_t>(stride), 0.0f);
        std::copy_n(c1.contiguous().data_ptr<float>(), hidden, bias1.begin());
        const at::Tensor bias2 = c2.contiguous();
        at::parallel_for(0, slices, 1, [&](int64_t begin, int64_t end) {
            std::vector<float> hid(static_cast<size_t>(slice * stride)), out(consume ? static_cast<size_t>(slice * out_c) : 0);
            for (int64_t i = begin; i < end; ++i) {
                const int64_t rows = i == slices - 1 ? tail : slice;
                float* dst = consume ? out.data() : reinterpret_cast<float*>(yp) + i * slice * out_c;
                kernels::pointwise_pair_rows(reinterpret_cast<const float*>(xp) + i * slice * c, rows, c, a.data_ptr<float>(),
                                             bias1.data(), hidden, b.data_ptr<float>(), bias2.data_ptr<float>(), groups,
                                             out_c, hid.data(), dst);
                if (consume)
                    (*consume)(i * slice, rows, dst);
            }
        });
        if (result)
            *result = y;
        return true;
    }
    RECORD_FUNCTION("bft::onednn_pointwise_pair", std::vector<c10::IValue>());
    dnnl::stream stream(cpu_engine());
    const at::Tensor a = packed_weight(*full.first, w1, stream), b = packed_weight(*full.second, w2, stream);
    const at::Tensor a_last = packed_weight(*last.first, w1, stream), b_last = packed_weight(*last.second, w2, stream);
    const at::Tensor bias1 = c1.contiguous(), bias2 = c2.contiguous();
    // One slice per task: oneDNN runs single-threaded inside a parallel region, and each thread's
    // hidden slice stays in its own cache.
    at::parallel_for(0, slices, 1, [&](int64_t begin, int64_t end) {
        dnnl::stream local(cpu_engine());
        at::Tensor hid, scratch, out; // out: the slice's result, where it goes to `consume`
        for (int64_t i = begin; i < end; ++i) {
            const bool is_last = i == slices - 1;
            const Pair& p = is_last ? last : full;
            const at::Tensor &wa = is_last ? a_last : a, &wb = is_last ? b_last : b;
            // The first's output and the second's input are the same rows (nhwc, 1 x S): one memory.
            const memory hid_m = reuse(hid, p.first->user_dst);
            const memory::desc &scratch1 = p.first->pd.scratchpad_desc(), &scratch2 = p.second->pd.scratchpad_desc();
            reuse(scratch, scratch1.get_size() >= scratch2.get_size() ? scratch1 : scratch2); // one buffer, both fit
            memory src(p.first->user_src, cpu_engine(), const_cast<char*>(xp) + i * slice * c * esize);
            memory dst = consume ? reuse(out, p.second->user_dst)
                                 : memory(p.second->user_dst, cpu_engine(), yp + i * slice * out_c * esize);
            p.first->conv.execute(local, {{DNNL_ARG_SRC, src},
                                          {DNNL_ARG_WEIGHTS, wrap(p.first->pd.weights_desc(), wa)},
                                          {DNNL_ARG_BIAS, wrap(p.first->bias, bias1)},
                                          {DNNL_ARG_DST, hid_m},
                                          {DNNL_ARG_SCRATCHPAD, wrap(scratch1, scratch)}});
            p.second->conv.execute(local, {{DNNL_ARG_SRC, hid_m},
                                           {DNNL_ARG_WEIGHTS, wrap(p.second->pd.weights_desc(), wb)},
                                           {DNNL_ARG_BIAS, wrap(p.second->bias, bias2)},
                                           {DNNL_ARG_DST, dst},
                                           {DNNL_ARG_SCRATCHPAD, wrap(scratch2, scratch)}});
            if (consume) {
                local.wait();
                (*consume)(i * slice, is_last ? tail : slice, dst.get_data_handle());
            }
        }
        local.wait();
    });
    if (result)
        *result = y;
    return true;
}
} // namespace

at::Tensor pointwise_pair(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& c1, const at::Tensor& w2,
                          const at::Tensor& c2, int64_t groups, bool own_kernel)
{
    at::Tensor y;
    run_pair(x, w1, c1, w2, c2, groups, &y, nullptr, nullptr, own_kernel);
    return y;
}

bool pointwise_pair_slices(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& c1, const at::Tensor& w2,
                           const at::Tensor& c2, int64_t groups, const SliceConsumer& consume,
                           const std::function<void()>& ready, bool own_kernel)
{
    return run_pair(x, w1, c1, w2, c2, groups, nullptr, &consume, &ready, own_kernel);
}

PackedStats packed_weights()
{
    return packed().stats();
}

void release_packed_weights()
{
    packed().clear();
}

bool sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc)
{
    return dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc) == dnnl_success;
}

#else // without oneDNN's headers

bool available()
{
    return false;
}

bool pointwise_slices_available()
{
    return false;
}

bool winograd_available()
{
    return false;
}

at::Tensor conv2d(const at::Tensor&, const at::Tensor&, const at::Tensor&, at::IntArrayRef, at::IntArrayRef, int64_t, Algorithm,
                  bool, at::IntArrayRef, const at::Tensor&)
{
    return {};
}

at::Tensor pointwise_pair(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t,
                          bool)
{
    return {};
}

bool pointwise_pair_slices(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                           int64_t, const SliceConsumer&, const std::function<void()>&, bool)
{
    return false;
}

PackedStats packed_weights()
{
    return {};
}

void release_packed_weights() {}

bool sgemm(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float, float*, int64_t)
{
    return false;
}

#endif

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, bool use_onednn)
{
    if (use_onednn && sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, 0.0f, c, n))
        return;
    const auto opt = at::TensorOptions().dtype(at::kFloat);
    // op(A) as a strided view: row-major [m, k] with row stride lda, or its transpose.
    auto view = [&](const float* p, int64_t rows, int64_t cols, int64_t ld, bool trans) {
        float* q = const_cast<float*>(p);
        return trans ? at::from_blob(q, {rows, cols}, {1, ld}, opt) : at::from_blob(q, {rows, cols}, {ld, 1}, opt);
    };
    at::Tensor out = at::from_blob(c, {m, n}, opt);
    at::mm_out(out, view(a, m, k, lda, trans_a), view(b, k, n, ldb, trans_b));
}

} // namespace bft::onednn
