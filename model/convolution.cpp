#include "convolution.h"

#include "errors.h"
#include "kernels.h"
#include "onednn.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <array>

namespace bft {

at::Tensor conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, at::IntArrayRef stride,
                  at::IntArrayRef padding, at::IntArrayRef dilation, int64_t groups)
{
    const bool onednn = x.is_cpu() && at::hasMKLDNN() && !at::GradMode::is_enabled() &&
                        (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) &&
                        weight.scalar_type() == x.scalar_type();
    if (onednn) {
        // Through oneDNN's own API where it can (weights packed once, not reordered per call).
        if (dilation.size() == 2 && dilation[0] == 1 && dilation[1] == 1)
            if (at::Tensor y = onednn::conv2d(x, weight, bias, stride, padding, groups); y.defined())
                return y;
        return at::mkldnn_convolution(x, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt, padding,
                                      stride, dilation, groups);
    }
    return at::conv2d(x, weight, bias, stride, padding, dilation, groups);
}

at::Tensor tap_weights(const at::Tensor& weight)
{
    const int64_t o = weight.size(0), c = weight.size(1), k = weight.size(2);
    return weight.permute({0, 2, 3, 1}).reshape({o * k * k, c, 1, 1}).contiguous();
}

at::Tensor conv2d_by_taps(const at::Tensor& x, const at::Tensor& tap_weight, int64_t k, const at::Tensor& bias)
{
    RECORD_FUNCTION("bft::conv2d_by_taps", std::vector<c10::IValue>());
    // Direct, the taps' sums kept in registers (pose at 256: about 25 -> 6 ms); elsewhere below.
    if (at::Tensor y = kernels::conv_few_outputs(x, tap_weight, k, bias); y.defined())
        return y;
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    // Channels-last in, so that oneDNN answers channels-last: each pixel's taps side by side.
    const at::Tensor taps = bft::conv2d(x.contiguous(at::MemoryFormat::ChannelsLast), tap_weight, at::Tensor(), one, zero, one, 1)
                                .contiguous(at::MemoryFormat::ChannelsLast);
    return kernels::tap_sum(taps, tap_weight.size(0) / (k * k), k, bias);
}

namespace {

// Along one axis, output position y = 2m + phase receives input i = m + d through kernel tap
// ky = phase + padding - 2d. The taps of a phase in order of increasing d, and the first d.
struct PhaseTaps {
    std::vector<int64_t> taps;
    int64_t first_d = 0;
};

PhaseTaps phase_taps(int64_t k, int64_t padding, int64_t phase)
{
    PhaseTaps p;
    // d = (phase + padding - ky) / 2, integral when the parities match; decreasing ky = increasing d.
    for (int64_t ky = k - 1; ky >= 0; --ky) {
        if (((phase + padding - ky) % 2 + 2) % 2 != 0)
            continue;
        if (p.taps.empty())
            p.first_d = (phase + padding - ky) / 2;
        p.taps.push_back(ky);
    }
    return p;
}

// One output phase along both axes: an ordinary convolution whose output row m reads input rows
// m + first_d onwards. Inference on the CPU pads each side by what that phase needs (oneDNN takes
// padding before and after apart), so the convolution computes exactly the phase's outputs (4 of 9
// at the U-Net's 2x2 maps, 64 of 81 at 8x8; at a 1x1 map oneDNN reads only the one tap a phase
// uses). The Xeon, texture forward: 47 -> 39-43 ms at 128, 151 -> 130-135 at 256. Elsewhere the
// convolution's own symmetric padding (as much as either side needs) stands in for a padded copy of
// the input, and the phase's window is cut out of its slightly larger output (a view).
at::Tensor phase_conv(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias, const PhaseTaps& rows,
                      const PhaseTaps& cols, int64_t out_channels, int64_t out_rows, int64_t out_cols)
{
    if (!w.defined()) // no tap reaches this phase: bias only
        return bias.defined() ? bias.view({1, -1, 1, 1}).expand({x.size(0), out_channels, out_rows, out_cols})
                              : at::zeros({x.size(0), out_channels, out_rows, out_cols}, x.options());
    auto before = [](const PhaseTaps& t) { return -t.first_d; };
    auto after = [](const PhaseTaps& t, int64_t out, int64_t in) {
        return t.first_d + out + static_cast<int64_t>(t.taps.size()) - 1 - in;
    };
    const int64_t one[] = {1, 1};
    const int64_t top = before(rows), left = before(cols), bottom = after(rows, out_rows, x.size(2)),
                  right = after(cols, out_cols, x.size(3));
    if (std::min({top, left, bottom, right}) >= 0 && x.is_cpu() && !at::GradMode::is_enabled()) {
        const int64_t pad_before[] = {top, left}, pad_after[] = {bottom, right};
        if (at::Tensor y = onednn::conv2d(x, w, bias, one, pad_before, 1, onednn::Algorithm::Direct, false, pad_after);
            y.defined())
            return y;
    }
    const int64_t ph = std::max<int64_t>({top, bottom, 0}), pw = std::max<int64_t>({left, right, 0});
    const int64_t padding[] = {ph, pw};
    const at::Tensor y = conv2d(x, w, bias, one, padding, one, 1);
    return y.narrow(2, rows.first_d + ph, out_rows).narrow(3, cols.first_d + pw, out_cols);
}

} // namespace

namespace {

// Every kernel tap reaches exactly one output phase (its parity decides which), so the four phase
// kernels are a permutation of the weight's taps, gathered in one pass. (Training differentiates a
// transposed convolution as a whole, TransposedS2 below, not through its phase kernels.)
struct TapPermutation {
    int64_t k = 0;
    std::array<PhaseTaps, 2> axis; // the taps of phase 0 and phase 1 along either axis
    bool defined(int64_t p) const { return !axis[static_cast<size_t>(p / 2)].taps.empty() && !axis[static_cast<size_t>(p % 2)].taps.empty(); }
    int64_t rows(int64_t p) const { return static_cast<int64_t>(axis[static_cast<size_t>(p / 2)].taps.size()); }
    int64_t cols(int64_t p) const { return static_cast<int64_t>(axis[static_cast<size_t>(p % 2)].taps.size()); }

    // For tap (ky, kx) in row-major order: its phase and its offset inside that phase's kernel.
    std::vector<std::pair<int64_t, int64_t>> destinations() const
    {
        std::vector<std::pair<int64_t, int64_t>> d(static_cast<size_t>(k * k), {-1, 0});
        for (int64_t a = 0; a < 2; ++a)
            for (int64_t b = 0; b < 2; ++b) {
                const auto& r = axis[static_cast<size_t>(a)].taps;
                const auto& c = axis[static_cast<size_t>(b)].taps;
                for (size_t t = 0; t < r.size(); ++t)
                    for (size_t u = 0; u < c.size(); ++u)
                        d[static_cast<size_t>(r[t] * k + c[u])] = {2 * a + b, static_cast<int64_t>(t * c.size() + u)};
            }
        return d;
    }
};

TapPermutation tap_permutation(int64_t k, int64_t padding)
{
    return TapPermutation{k, {phase_taps(k, padding, 0), phase_taps(k, padding, 1)}};
}

// phase[p][o, i, t, u] = weight[i, o, taps...]; weight [I, O, k, k] and the phases [O, I, rows,
// cols], all contiguous.
template <typename T>
void gather_taps_kernel(const TapPermutation& perm, const T* w, const std::array<T*, 4>& phases, int64_t I, int64_t O)
{
    const auto dest = perm.destinations(); // tap -> (phase, offset in that phase's kernel)
    std::array<int64_t, 4> taps_per_phase{};
    for (int64_t p = 0; p < 4; ++p)
        if (perm.defined(p))
            taps_per_phase[static_cast<size_t>(p)] = perm.rows(p) * perm.cols(p);
    const int64_t kk = perm.k * perm.k;
    // The phases are written sequentially, the weight read in runs of 16 at a fixed stride (a cache
    // line or two per row). The inner loop is a strided copy of 16 elements; element by element with
    // a table lookup per element, the loop counters spilled to the stack and it ran at a third of the
    // speed.
    constexpr int64_t kRun = 16;
    const int64_t row_stride = O * kk; // between weight rows i and i + 1
    // One output channel o, 16 input channels i at a time: per tap, 16 phase entries.
    at::parallel_for(0, O, 1, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o)
            for (int64_t i0 = 0; i0 < I; i0 += kRun) {
                const int64_t run = std::min(kRun, I - i0);
                const T* rows = w + (i0 * O + o) * kk;
                for (int64_t tap = 0; tap < kk; ++tap) {
                    const auto [phase, offset] = dest[static_cast<size_t>(tap)];
                    const int64_t n = taps_per_phase[static_cast<size_t>(phase)];
                    T* __restrict q = phases[static_cast<size_t>(phase)] + (o * I + i0) * n + offset;
                    const T* __restrict r = rows + tap;
                    for (int64_t j = 0; j < run; ++j)
                        q[j * n] = r[j * row_stride];
                }
            }
    });
}

std::array<at::Tensor, 4> gather_phases(const TapPermutation& perm, const at::Tensor& weight)
{
    const at::Tensor w = weight.contiguous();
    std::array<at::Tensor, 4> out;
    for (int64_t p = 0; p < 4; ++p)
        if (perm.defined(p))
            out[static_cast<size_t>(p)] = at::empty({w.size(1), w.size(0), perm.rows(p), perm.cols(p)}, w.options());
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, w.scalar_type(), "bft::gather_phases", [&] {
        std::array<scalar_t*, 4> ph{};
        for (size_t p = 0; p < 4; ++p)
            if (out[p].defined())
                ph[p] = out[p].data_ptr<scalar_t>();
        gather_taps_kernel<scalar_t>(perm, w.data_ptr<scalar_t>(), ph, w.size(0), w.size(1));
    });
    return out;
}

} // namespace

std::vector<at::Tensor> subpixel_weights(const at::Tensor& weight, int64_t padding)
{
    const TapPermutation perm = tap_permutation(weight.size(2), padding);
    std::array<at::Tensor, 4> phases;
    if (!weight.is_cpu() || (at::GradMode::is_enabled() && weight.requires_grad())) {
        // The permutation loop runs on the CPU, outside autograd; elsewhere (the engine sends CUDA
        // to cuDNN's own transposed convolution) and where a caller wants the phases differentiable
        // (nothing here does: training differentiates the whole convolution) the taps are picked
        // with index_select.
        for (int64_t p = 0; p < 4; ++p)
            if (perm.defined(p)) {
                auto idx = [&](const PhaseTaps& t) {
                    return at::tensor(t.taps, at::TensorOptions().dtype(at::kLong)).to(weight.device());
                };
                phases[static_cast<size_t>(p)] = weight.index_select(2, idx(perm.axis[static_cast<size_t>(p / 2)]))
                                                     .index_select(3, idx(perm.axis[static_cast<size_t>(p % 2)]))
                                                     .transpose(0, 1)
                                                     .contiguous();
            }
    } else {
        phases = gather_phases(perm, weight);
    }
    return {phases.begin(), phases.end()};
}

namespace {
// Rows (or columns) of a stride-2 transposed convolution's output from `in` input ones.
int64_t transposed_size(int64_t in, int64_t k, int64_t padding, int64_t output_padding)
{
    return (in - 1) * 2 - 2 * padding + k + output_padding;
}
} // namespace

bool small_map_transpose_fits(const at::Tensor& x, int64_t out_channels, int64_t k, int64_t padding,
                              int64_t output_padding, bool bf16_weights)
{
    const int64_t h_out = transposed_size(x.size(2), k, padding, output_padding);
    const int64_t w_out = transposed_size(x.size(3), k, padding, output_padding);
    // Phase 0 has the most positions: where it fits, all do.
    return x.dim() == 4 && h_out > 0 && w_out > 0 && x.scalar_type() == at::kFloat && x.is_cpu() &&
           kernels::small_map_fits(x.size(0) * ((h_out + 1) / 2) * ((w_out + 1) / 2), x.size(1), out_channels,
                                  bf16_weights);
}

std::vector<at::Tensor> small_map_phases(const at::Tensor& weight, int64_t padding, bool bf16_weights)
{
    std::vector<at::Tensor> packed;
    for (const at::Tensor& phase : subpixel_weights(weight.detach().to(at::kFloat), padding))
        packed.push_back(phase.defined() ? kernels::pack_small_map_conv(phase, bf16_weights) : at::Tensor());
    return packed;
}

at::Tensor conv_transpose2d_s2_small_map(const at::Tensor& x, const std::vector<at::Tensor>& packed_phases, int64_t k,
                                         const at::Tensor& bias, int64_t padding, int64_t output_padding)
{
    int64_t o = 0;
    bool bf16_weights = false;
    for (const at::Tensor& p : packed_phases)
        if (p.defined()) {
            o = p.size(0) * 16;
            bf16_weights = p.scalar_type() == at::kBFloat16;
        }
    if (x.dim() != 4 || packed_phases.size() != 4 || o == 0 ||
        !small_map_transpose_fits(x, o, k, padding, output_padding, bf16_weights))
        return {};
    const int64_t h_out = transposed_size(x.size(2), k, padding, output_padding);
    const int64_t w_out = transposed_size(x.size(3), k, padding, output_padding);
    const at::Tensor x_cl = x.contiguous(at::MemoryFormat::ChannelsLast); // once, not per phase
    at::Tensor y = at::empty({x.size(0), o, h_out, w_out}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 2; ++b) {
            const PhaseTaps rows = phase_taps(k, padding, a), cols = phase_taps(k, padding, b);
            const int64_t out_rows = (h_out - a + 1) / 2, out_cols = (w_out - b + 1) / 2;
            const at::Tensor& packed = packed_phases[static_cast<size_t>(2 * a + b)];
            if (out_rows == 0 || out_cols == 0)
                continue;
            if (!packed.defined()) { // no tap reaches this phase: bias only
                at::Tensor part = y.slice(2, a, h_out, 2).slice(3, b, w_out, 2);
                bias.defined() ? part.copy_(bias.view({1, -1, 1, 1}).expand_as(part)) : part.zero_();
                continue;
            }
            // Output row m of the phase reads input rows m + first_d onwards (phase_conv).
            if (!kernels::small_map_conv_into(x_cl, packed, static_cast<int64_t>(rows.taps.size()),
                                              static_cast<int64_t>(cols.taps.size()), 1, -rows.first_d, -cols.first_d,
                                              out_rows, out_cols, bias, y, a, b, 2))
                return {};
        }
    return y;
}

namespace {

constexpr size_t kPutPhaseBytes = 8 << 20;

at::Tensor phases_forward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding,
                          int64_t output_padding, const std::vector<at::Tensor>& phase_weights);

// Training: the forward as the four phase convolutions (autograd off), the backward as a stride-2
// transposed convolution's gradients are: for the input, the ordinary stride-2 convolution of the
// output's gradient with the same weight ([in, out, k, k] is that convolution's [out, in, k, k]);
// for the weight, that convolution's weight gradient with x as its output's gradient: two oneDNN
// calls where the phases' own backward passes were eight (four 2x2 convolutions, each backward in
// data and weights). The Xeon, 2 threads, batch 4, the texture U-Net's two levels that take this
// path: 256 -> 64 at 32x32 39 against 55 ms, 512 -> 128 at 16x16 33 against 32.
struct TransposedS2 : public torch::autograd::Function<TransposedS2> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                              int64_t padding, int64_t output_padding)
    {
        ctx->save_for_backward({x, weight});
        ctx->saved_data["padding"] = padding;
        return phases_forward(x, weight, at::Tensor(), padding, output_padding, {});
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads)
    {
        const torch::autograd::variable_list saved = ctx->get_saved_variables();
        const at::Tensor &x = saved[0], &w = saved[1], &g = grads[0];
        const int64_t p = ctx->saved_data["padding"].toInt();
        at::Tensor gx, gw;
        if (ctx->needs_input_grad(0))
            gx = at::conv2d(g, w, {}, 2, p);
        if (ctx->needs_input_grad(1))
            gw = std::get<1>(at::convolution_backward(x, g, w, c10::nullopt, {2, 2}, {p, p}, {1, 1}, false, {0, 0}, 1,
                                                      {false, true, false}));
        return {gx, gw, at::Tensor(), at::Tensor()};
    }
};

} // namespace

at::Tensor conv_transpose2d_s2(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding,
                               int64_t output_padding, const std::vector<at::Tensor>& phase_weights)
{
    if (at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad()) && phase_weights.empty()) {
        const at::Tensor y = TransposedS2::apply(x, weight, padding, output_padding);
        return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
    }
    return phases_forward(x, weight, bias, padding, output_padding, phase_weights);
}

namespace {

at::Tensor phases_forward(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding,
                          int64_t output_padding, const std::vector<at::Tensor>& phase_weights)
{
    RECORD_FUNCTION("bft::conv_transpose2d_s2", std::vector<c10::IValue>());
    const int64_t k = weight.size(2);
    if (weight.dim() != 4 || weight.size(3) != k || x.dim() != 4 || x.size(1) != weight.size(0))
        throw Error("conv_transpose2d_s2: unsupported shapes");
    const int64_t h_out = transposed_size(x.size(2), k, padding, output_padding);
    const int64_t w_out = transposed_size(x.size(3), k, padding, output_padding);
    if (h_out <= 0 || w_out <= 0)
        throw Error("conv_transpose2d_s2: empty output");
    const std::vector<at::Tensor> derived = phase_weights.empty() ? subpixel_weights(weight, padding) : std::vector<at::Tensor>{};
    const std::vector<at::Tensor>& w = phase_weights.empty() ? derived : phase_weights;
    // Each phase lands in its own rows and columns of the output: (2m + a, 2n + b). One output,
    // written a phase at a time, instead of four phase outputs stacked and shuffled.
    at::Tensor out;
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 2; ++b) {
            const at::Tensor phase = phase_conv(x, w[static_cast<size_t>(2 * a + b)], bias, phase_taps(k, padding, a),
                                                phase_taps(k, padding, b), weight.size(1), (h_out - a + 1) / 2,
                                                (w_out - b + 1) / 2);
            if (!out.defined())
                out = at::empty({x.size(0), weight.size(1), h_out, w_out},
                                phase.options().memory_format(x.suggest_memory_format()));
            // Outputs larger than the caches a pixel at a time (kernels::put_phase): the Xeon, pose
            // at 256, the 128 -> 64 layer into 256x256 (16 MB) 10.8-11.3 -> 8.7-9.4 ms, against
            // copy_ into the strided views. Streaming stores took 7.3 but sometimes 12 and slowed the
            // next layer's read by 0.4; smaller outputs (4-8 MB here) gained nothing.
            if (out.nbytes() <= kPutPhaseBytes || !kernels::put_phase(phase, out, a, b))
                out.slice(2, a, h_out, 2).slice(3, b, w_out, 2).copy_(phase);
        }
    return out;
}

} // namespace

} // namespace bft
