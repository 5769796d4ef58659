#include "convolution.h"

#include "errors.h"
#include "kernels.h"
#include "onednn.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>

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
// m + first_d onwards. The convolution's own symmetric padding (as much as either side needs)
// stands in for an explicitly padded copy of the input, and the window that phase needs is cut out
// of its slightly larger output (a view).
at::Tensor phase_conv(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias, const PhaseTaps& rows,
                      const PhaseTaps& cols, int64_t out_channels, int64_t out_rows, int64_t out_cols)
{
    if (!w.defined()) // no tap reaches this phase: bias only
        return bias.defined() ? bias.view({1, -1, 1, 1}).expand({x.size(0), out_channels, out_rows, out_cols})
                              : at::zeros({x.size(0), out_channels, out_rows, out_cols}, x.options());
    auto pad = [](const PhaseTaps& t, int64_t out, int64_t in) {
        const int64_t before = -t.first_d, after = t.first_d + out + static_cast<int64_t>(t.taps.size()) - 1 - in;
        return std::max<int64_t>({before, after, 0});
    };
    const int64_t ph = pad(rows, out_rows, x.size(2)), pw = pad(cols, out_cols, x.size(3));
    const int64_t one[] = {1, 1}, padding[] = {ph, pw};
    const at::Tensor y = conv2d(x, w, bias, one, padding, one, 1);
    return y.narrow(2, rows.first_d + ph, out_rows).narrow(3, cols.first_d + pw, out_cols);
}

} // namespace

std::vector<at::Tensor> subpixel_weights(const at::Tensor& weight, int64_t padding)
{
    const int64_t k = weight.size(2);
    std::vector<at::Tensor> out;
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 2; ++b) {
            const PhaseTaps rows = phase_taps(k, padding, a), cols = phase_taps(k, padding, b);
            if (rows.taps.empty() || cols.taps.empty()) {
                out.emplace_back();
                continue;
            }
            auto idx = [&](const std::vector<int64_t>& v) {
                return at::tensor(v, at::TensorOptions().dtype(at::kLong)).to(weight.device());
            };
            // Tap (t, u) of the phase kernel is the transposed weight at (rows.taps[t], cols.taps[u]).
            out.push_back(
                weight.index_select(2, idx(rows.taps)).index_select(3, idx(cols.taps)).transpose(0, 1).contiguous());
        }
    return out;
}

at::Tensor conv_transpose2d_s2(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding,
                               int64_t output_padding, const std::vector<at::Tensor>& phase_weights)
{
    RECORD_FUNCTION("bft::conv_transpose2d_s2", std::vector<c10::IValue>());
    const int64_t k = weight.size(2);
    if (weight.dim() != 4 || weight.size(3) != k || x.dim() != 4 || x.size(1) != weight.size(0))
        throw Error("conv_transpose2d_s2: unsupported shapes");
    const int64_t h_out = (x.size(2) - 1) * 2 - 2 * padding + k + output_padding;
    const int64_t w_out = (x.size(3) - 1) * 2 - 2 * padding + k + output_padding;
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
            out.slice(2, a, h_out, 2).slice(3, b, w_out, 2).copy_(phase);
        }
    return out;
}

} // namespace bft
