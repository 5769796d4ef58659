#include "conv_transpose.h"

#include "errors.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <vector>

namespace bft {

namespace {

// Along one axis, output position y = 2m + phase receives input i = m + d through kernel tap
// ky = phase + padding - 2d. Returns the taps in order of increasing d, and the first d.
struct PhaseTaps {
    std::vector<int64_t> taps; // kernel indices, ordered by increasing d
    int64_t first_d = 0;
};

PhaseTaps phase_taps(int64_t k, int64_t padding, int64_t phase)
{
    PhaseTaps p;
    // ky = phase + padding - 2d  <=>  d = (phase + padding - ky) / 2, integral when parities match.
    for (int64_t ky = k - 1; ky >= 0; --ky) { // decreasing ky = increasing d
        if (((phase + padding - ky) % 2 + 2) % 2 != 0)
            continue;
        if (p.taps.empty())
            p.first_d = (phase + padding - ky) / 2;
        p.taps.push_back(ky);
    }
    return p;
}

// One output phase along both axes: an ordinary convolution over a shifted, zero-padded input.
at::Tensor phase_conv(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const PhaseTaps& rows,
                      const PhaseTaps& cols, int64_t out_rows, int64_t out_cols)
{
    const auto opts = x.options();
    if (rows.taps.empty() || cols.taps.empty()) // no tap reaches this phase: bias only
        return bias.defined() ? bias.view({1, -1, 1, 1}).expand({x.size(0), weight.size(1), out_rows, out_cols}).contiguous()
                              : at::zeros({x.size(0), weight.size(1), out_rows, out_cols}, opts);
    // conv weight [out, in, rows, cols]: tap (t, u) is the transposed weight at (rows.taps[t], cols.taps[u]).
    const auto idx = [&](const std::vector<int64_t>& v) {
        return at::tensor(v, at::TensorOptions().dtype(at::kLong).device(weight.device()));
    };
    at::Tensor w = weight.index_select(2, idx(rows.taps)).index_select(3, idx(cols.taps)).transpose(0, 1).contiguous();
    // The input window of output m starts at i = m + first_d: pad (or crop) so that it starts at 0,
    // and extend the end so that out_rows outputs exist.
    auto span = [](int64_t first_d, int64_t taps, int64_t outputs, int64_t size, int64_t* before, int64_t* after) {
        *before = -first_d;                                // negative: crop
        *after = first_d + outputs + taps - 1 - size;      // negative: crop
    };
    int64_t top, bottom, left, right;
    span(rows.first_d, static_cast<int64_t>(rows.taps.size()), out_rows, x.size(2), &top, &bottom);
    span(cols.first_d, static_cast<int64_t>(cols.taps.size()), out_cols, x.size(3), &left, &right);
    at::Tensor xp = x;
    if (top != 0 || bottom != 0 || left != 0 || right != 0)
        xp = at::constant_pad_nd(x, {left, right, top, bottom}, 0); // negative pads crop
    return at::conv2d(xp, w, bias);
}

} // namespace

at::Tensor conv_transpose2d_s2(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding,
                               int64_t output_padding)
{
    RECORD_FUNCTION("bft::conv_transpose2d_s2", std::vector<c10::IValue>());
    const int64_t k = weight.size(2);
    if (weight.dim() != 4 || weight.size(3) != k || x.dim() != 4 || x.size(1) != weight.size(0))
        throw Error("conv_transpose2d_s2: unsupported shapes");
    const int64_t h_out = (x.size(2) - 1) * 2 - 2 * padding + k + output_padding;
    const int64_t w_out = (x.size(3) - 1) * 2 - 2 * padding + k + output_padding;
    if (h_out <= 0 || w_out <= 0)
        throw Error("conv_transpose2d_s2: empty output");
    at::Tensor phases[2][2];
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 2; ++b)
            phases[a][b] = phase_conv(x, weight, bias, phase_taps(k, padding, a), phase_taps(k, padding, b),
                                      (h_out - a + 1) / 2, (w_out - b + 1) / 2);
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
