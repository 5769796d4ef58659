#include "convolution.h"

#include "errors.h"

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
    if (onednn)
        return at::mkldnn_convolution(x, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt, padding,
                                      stride, dilation, groups);
    return at::conv2d(x, weight, bias, stride, padding, dilation, groups);
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

// One output phase along both axes: an ordinary convolution over a shifted, zero-padded input.
at::Tensor phase_conv(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias, const PhaseTaps& rows,
                      const PhaseTaps& cols, int64_t out_channels, int64_t out_rows, int64_t out_cols)
{
    if (!w.defined()) // no tap reaches this phase: bias only
        return bias.defined()
                   ? bias.view({1, -1, 1, 1}).expand({x.size(0), out_channels, out_rows, out_cols}).contiguous()
                   : at::zeros({x.size(0), out_channels, out_rows, out_cols}, x.options());
    // The input window of output m starts at i = m + first_d: pad (or crop) so that it starts at 0,
    // and extend the end so that out_rows outputs exist. Negative pads crop.
    const int64_t top = -rows.first_d;
    const int64_t bottom = rows.first_d + out_rows + static_cast<int64_t>(rows.taps.size()) - 1 - x.size(2);
    const int64_t left = -cols.first_d;
    const int64_t right = cols.first_d + out_cols + static_cast<int64_t>(cols.taps.size()) - 1 - x.size(3);
    at::Tensor xp = x;
    if (top != 0 || bottom != 0 || left != 0 || right != 0)
        xp = at::constant_pad_nd(x, {left, right, top, bottom}, 0);
    const int64_t one[] = {1, 1}, zero[] = {0, 0};
    return conv2d(xp, w, bias, one, zero, one, 1);
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
    at::Tensor phases[2][2];
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 2; ++b)
            phases[a][b] = phase_conv(x, w[static_cast<size_t>(2 * a + b)], bias, phase_taps(k, padding, a),
                                      phase_taps(k, padding, b), weight.size(1), (h_out - a + 1) / 2, (w_out - b + 1) / 2);
    if (h_out % 2 == 0 && w_out % 2 == 0) {
        // Channel c*4 + 2a + b of the stack lands at (2m + a, 2n + b) of channel c.
        at::Tensor stacked = at::stack({phases[0][0], phases[0][1], phases[1][0], phases[1][1]}, 2);
        return at::pixel_shuffle(stacked.flatten(1, 2), 2);
    }
    at::Tensor out = at::empty({x.size(0), weight.size(1), h_out, w_out}, phases[0][0].options());
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 2; ++b)
            out.slice(2, a, h_out, 2).slice(3, b, w_out, 2).copy_(phases[a][b]);
    return out;
}

} // namespace bft
