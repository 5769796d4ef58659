#include "gemm_convolution.h"

#include "onednn.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

namespace bft {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// op(a) op(b) for float32 matrices.
at::Tensor gemm(const at::Tensor& a_any, bool trans_a, const at::Tensor& b_any, bool trans_b)
{
    // Row-major for oneDNN (a permuted image of batch 1 reshapes to a view, not a copy).
    const at::Tensor a = a_any.contiguous(), b = b_any.contiguous();
    const int64_t m = trans_a ? a.size(1) : a.size(0), k = trans_a ? a.size(0) : a.size(1);
    const int64_t n = trans_b ? b.size(0) : b.size(1);
    TORCH_CHECK((trans_b ? b.size(1) : b.size(0)) == k, "gemm: inner dimensions differ");
    at::Tensor c = at::empty({m, n}, a.options());
    onednn::gemm(trans_a, trans_b, m, n, k, a.data_ptr<float>(), a.size(1), b.data_ptr<float>(), b.size(1),
                 c.data_ptr<float>());
    return c;
}

// Every output position's receptive field as one row: [N * positions, C * k * k], the columns
// in the weight's (c, ky, kx) order.
at::Tensor patch_rows(const at::Tensor& x, int64_t k, int64_t stride, int64_t padding)
{
    const at::Tensor cols = at::im2col(x.contiguous(), {k, k}, {1, 1}, {padding, padding}, {stride, stride});
    return cols.transpose(1, 2).reshape({-1, cols.size(1)}).contiguous();
}

// col2im: patches [N, C * k * k, gh * gw] (any strides; the rows in the weight's (c, ky, kx) order)
// summed into N x C x h x w, patch (i, j) covering rows i * stride - padding + ky and columns
// j * stride - padding + kx. Each task owns whole output rows, so no two write the same memory;
// at::col2im ran on one thread (1.45 ms of a texture forward at 256, for 3 x 256 x 256 outputs).
at::Tensor fold_patches(const at::Tensor& cols, int64_t c, int64_t h, int64_t w, int64_t k, int64_t stride,
                        int64_t padding)
{
    const int64_t n = cols.size(0);
    const int64_t gh = (h + 2 * padding - k) / stride + 1, gw = (w + 2 * padding - k) / stride + 1;
    TORCH_CHECK(cols.dim() == 3 && cols.size(1) == c * k * k && cols.size(2) == gh * gw && cols.scalar_type() == at::kFloat,
                "fold_patches: patches of the wrong shape");
    at::Tensor out = at::zeros({n, c, h, w}, cols.options().memory_format(at::MemoryFormat::Contiguous));
    const float* src = cols.data_ptr<float>();
    const int64_t s0 = cols.stride(0), s1 = cols.stride(1), s2 = cols.stride(2);
    float* dst = out.data_ptr<float>();
    auto ceil_div = [](int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; };
    at::parallel_for(0, n * c * h, 16, [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t y = row % h, ch = (row / h) % c, img = row / (h * c);
            float* __restrict o = dst + row * w;
            for (int64_t ky = 0; ky < k; ++ky) {
                const int64_t t = y + padding - ky;
                if (t < 0 || t % stride != 0 || t / stride >= gh)
                    continue;
                const int64_t i = t / stride;
                for (int64_t kx = 0; kx < k; ++kx) {
                    // Columns x = j * stride - padding + kx inside [0, w).
                    const int64_t j0 = ceil_div(padding - kx, stride), j1 = std::min(gw, ceil_div(w + padding - kx, stride));
                    const float* __restrict p = src + img * s0 + ((ch * k + ky) * k + kx) * s1 + i * gw * s2;
                    for (int64_t j = j0; j < j1; ++j)
                        o[j * stride - padding + kx] += p[j * s2];
                }
            }
        }
    });
    return out;
}

// The inverse arrangement, summing overlaps: rows [N * positions, C * k * k] -> N x C x h x w.
at::Tensor sum_patch_rows(const at::Tensor& rows, int64_t n, int64_t h, int64_t w, int64_t k, int64_t stride,
                          int64_t padding)
{
    return fold_patches(rows.view({n, -1, rows.size(1)}).transpose(1, 2), rows.size(1) / (k * k), h, w, k, stride,
                        padding);
}

// Pixels as rows: N x C x H x W -> [N * H * W, C].
at::Tensor pixel_rows(const at::Tensor& x)
{
    return x.permute({0, 2, 3, 1}).reshape({-1, x.size(1)}).contiguous();
}

// Channels as rows, [C, N * H * W] -> N x C x H x W (a view for one image).
at::Tensor from_channel_rows(const at::Tensor& rows, int64_t n, int64_t h, int64_t w)
{
    return rows.view({rows.size(0), n, h, w}).transpose(0, 1).contiguous();
}

// What both functions take: a float32 CPU input and a square kernel (weight [*, *, k, k]).
void check_operands(const at::Tensor& x, const at::Tensor& weight)
{
    TORCH_CHECK(x.is_cpu() && x.scalar_type() == at::kFloat && weight.scalar_type() == at::kFloat && x.dim() == 4 &&
                    weight.dim() == 4 && weight.size(2) == weight.size(3),
                "GEMM convolution: float32 CPU tensors and a square kernel only");
}

// These backward passes are not differentiable themselves (no second derivatives).
void check_first_order()
{
    TORCH_CHECK(!at::GradMode::is_enabled(), "GEMM convolution: no double backward (create_graph)");
}

struct GemmConv : public torch::autograd::Function<GemmConv> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, int64_t stride,
                              int64_t padding)
    {
        const int64_t n = x.size(0), k = weight.size(2);
        const int64_t ho = (x.size(2) + 2 * padding - k) / stride + 1, wo = (x.size(3) + 2 * padding - k) / stride + 1;
        // Used where the outputs are few (the U-Net's innermost levels): the patch rows are small
        // and kept for the weight's gradient.
        const at::Tensor rows = patch_rows(x, k, stride, padding);
        const at::Tensor w = weight.contiguous().view({weight.size(0), -1});
        ctx->save_for_backward({rows, w});
        ctx->saved_data["shape"] = std::vector<int64_t>{n, x.size(2), x.size(3), k, stride, padding};
        // As its transpose, W rows^T: oneDNN's sgemm runs a product with few rows (here the output
        // positions) at a fraction of its rate (the 512 -> 512 layer at 4x4, batch 4: 5.6 -> 3.6 ms; at
        // 2x2: 3.2 -> 1.0).
        return from_channel_rows(gemm(w, false, rows, true), n, ho, wo);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        check_first_order();
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &rows = saved[0], &w = saved[1];
        const auto s = ctx->saved_data["shape"].toIntVector();
        const at::Tensor g = pixel_rows(grads[0]); // [N * positions, O]
        at::Tensor grad_x, grad_w;
        if (ctx->needs_input_grad(0))
            grad_x = sum_patch_rows(gemm(g, false, w, false), s[0], s[1], s[2], s[3], s[4], s[5]);
        if (ctx->needs_input_grad(1))
            grad_w = gemm(g, true, rows, false).view({w.size(0), -1, s[3], s[3]});
        return {grad_x, grad_w, at::Tensor(), at::Tensor()};
    }
};

struct GemmConvTranspose : public torch::autograd::Function<GemmConvTranspose> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight, int64_t stride,
                              int64_t padding, int64_t output_padding)
    {
        const int64_t n = x.size(0), h = x.size(2), w = x.size(3), k = weight.size(2);
        const int64_t ho = (h - 1) * stride - 2 * padding + k + output_padding;
        const int64_t wo = (w - 1) * stride - 2 * padding + k + output_padding;
        const at::Tensor wm = weight.contiguous().view({weight.size(0), -1}); // [C, O * k * k]
        // Each input pixel's contribution to its k x k output window, summed where windows overlap.
        const at::Tensor rows = pixel_rows(x); // [N * H * W, C]
        at::Tensor cols;
        if (h * w < wm.size(1)) {
            // Few pixels, many taps (the U-Net's innermost levels): one GEMM over the batch, read by
            // col2im through strides. Per image, oneDNN went through the whole weight once per image
            // at a few GB/s: a 1024 -> 512 layer at 2x2, batch 4, 31 -> 5.5 ms.
            cols = gemm(rows, false, wm, false).view({n, h * w, wm.size(1)}).transpose(1, 2);
        } else {
            // Many pixels into few channels (the last layer): per image as col2im reads it best,
            // [O * k * k, H * W] (as pixel rows it needed a transposed copy: 3.1 ms of a texture forward at 256).
            cols = at::empty({n, wm.size(1), h * w}, x.options());
            for (int64_t i = 0; i < n; ++i)
                onednn::gemm(true, true, wm.size(1), h * w, wm.size(0), wm.data_ptr<float>(), wm.size(1),
                             rows.data_ptr<float>() + i * h * w * rows.size(1), rows.size(1), cols[i].data_ptr<float>());
        }
        const at::Tensor y = fold_patches(cols, weight.size(1), ho, wo, k, stride, padding);
        // x itself, not its pixel rows: at full size (the U-Net's last layer) they would be a second copy.
        ctx->save_for_backward({x, wm});
        ctx->saved_data["shape"] = std::vector<int64_t>{k, stride, padding};
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        check_first_order();
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &x = saved[0], &wm = saved[1];
        const auto s = ctx->saved_data["shape"].toIntVector();
        // The gradient's k x k window over each input pixel (the forward's windows), as rows.
        const at::Tensor g = patch_rows(grads[0], s[0], s[1], s[2]); // [N * H * W, O * k * k]
        at::Tensor grad_x, grad_w;
        if (ctx->needs_input_grad(0))
            grad_x = from_channel_rows(gemm(wm, false, g, true), x.size(0), x.size(2), x.size(3)); // as in GemmConv's forward
        if (ctx->needs_input_grad(1))
            grad_w = gemm(pixel_rows(x), true, g, false).view({wm.size(0), -1, s[0], s[0]});
        return {grad_x, grad_w, at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

// oneDNN's sgemm for GemmConv1x1 and GemmConvTaps; it fails only without oneDNN, which their entry points rule out first.
void sgemm_1x1(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
               int64_t ldb, float beta, float* c, int64_t ldc)
{
    TORCH_CHECK(onednn::sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc),
                "GEMM convolution: oneDNN's GEMM failed");
}

// A 1x1 convolution on NCHW memory is W X per image and group: no im2col, no layout change.
// LibTorch's training path reorders input, output and both gradients into oneDNN's blocked layout
// (and pads 100 channels to 112): the FiLM bottlenecks at 32x32, batch 4, ran at 70 GFLOP/s.
struct GemmConv1x1 : public torch::autograd::Function<GemmConv1x1> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x_any, const at::Tensor& weight, const at::Tensor& bias,
                              int64_t groups)
    {
        const at::Tensor x = x_any.contiguous(), w = weight.contiguous();
        const int64_t n = x.size(0), hw = x.size(2) * x.size(3), o = w.size(0), og = o / groups, cg = w.size(1);
        // The bias first, then the products added to it (beta 1): no second pass over the output.
        at::Tensor y = bias.view({1, o, 1, 1}).expand({n, o, x.size(2), x.size(3)}).contiguous();
        const float *xp = x.data_ptr<float>(), *wp = w.data_ptr<float>();
        float* yp = y.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < groups; ++j)
                sgemm_1x1(false, false, og, hw, cg, wp + j * og * cg, cg, xp + (i * groups + j) * cg * hw, hw, 1.0f,
                          yp + (i * o + j * og) * hw, hw);
        ctx->save_for_backward({x, w});
        ctx->saved_data["groups"] = groups;
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        check_first_order();
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &x = saved[0], &w = saved[1];
        const int64_t groups = ctx->saved_data["groups"].toInt();
        const at::Tensor g = grads[0].contiguous();
        const int64_t n = x.size(0), hw = x.size(2) * x.size(3), o = w.size(0), og = o / groups, cg = w.size(1);
        const float *xp = x.data_ptr<float>(), *wp = w.data_ptr<float>(), *gp = g.data_ptr<float>();
        at::Tensor grad_x, grad_w;
        if (ctx->needs_input_grad(0)) {
            grad_x = at::empty_like(x);
            float* gx = grad_x.data_ptr<float>();
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < groups; ++j)
                    sgemm_1x1(true, false, cg, hw, og, wp + j * og * cg, cg, gp + (i * o + j * og) * hw, hw, 0.0f,
                              gx + (i * groups + j) * cg * hw, hw);
        }
        if (ctx->needs_input_grad(1)) {
            // Summed over the batch in place (beta 1 after the first image).
            grad_w = at::empty_like(w);
            float* gw = grad_w.data_ptr<float>();
            for (int64_t i = 0; i < n; ++i)
                for (int64_t j = 0; j < groups; ++j)
                    sgemm_1x1(false, true, og, cg, hw, gp + (i * o + j * og) * hw, hw, xp + (i * groups + j) * cg * hw, hw,
                              i == 0 ? 0.0f : 1.0f, gw + j * og * cg, cg);
        }
        const at::Tensor grad_b = ctx->needs_input_grad(2) ? g.sum({0, 2, 3}) : at::Tensor();
        return {grad_x, grad_w, grad_b, at::Tensor()};
    }
};

// A stride-1 convolution into a few outputs (the PatchGAN's last layer: 512 -> 1, 4x4, at 15x15):
// per image one GEMM of every input pixel against the O x k x k taps, then each output the sum of
// its taps' products at shifted pixels; the backward the same way round. LibTorch's training path
// reordered the weight and the one-channel output and gradient into oneDNN's blocked layouts: 2 ms
// forward and 3.7 ms backward at batch 8 for 13 M multiply-adds each way.
struct GemmConvTaps : public torch::autograd::Function<GemmConvTaps> {
    static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x_any, const at::Tensor& weight, int64_t padding)
    {
        const at::Tensor x = x_any.contiguous();
        const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), hw = h * w;
        const int64_t o = weight.size(0), k = weight.size(2), taps = o * k * k;
        const int64_t ho = h + 2 * padding - k + 1, wo = w + 2 * padding - k + 1;
        const at::Tensor wt = weight.permute({0, 2, 3, 1}).contiguous(); // [O, k, k, C]: a row per tap
        // z[n][pixel][tap]: every input pixel's product with every tap's weights.
        at::Tensor z = at::empty({n, hw, taps}, x.options());
        const float *xp = x.data_ptr<float>(), *wp = wt.data_ptr<float>();
        float* zp = z.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i)
            sgemm_1x1(true, true, hw, taps, c, xp + i * c * hw, hw, wp, c, 0.0f, zp + i * hw * taps, taps);
        at::Tensor y = at::empty({n, o, ho, wo}, x.options());
        float* yp = y.data_ptr<float>();
        at::parallel_for(0, n * o * ho, 1, [&](int64_t begin, int64_t end) {
            for (int64_t row = begin; row < end; ++row) {
                const int64_t oy = row % ho, oc = (row / ho) % o, img = row / (ho * o);
                for (int64_t ox = 0; ox < wo; ++ox) {
                    float sum = 0.0f;
                    for (int64_t ky = 0; ky < k; ++ky) {
                        const int64_t iy = oy + ky - padding;
                        if (iy < 0 || iy >= h)
                            continue;
                        for (int64_t kx = 0; kx < k; ++kx) {
                            const int64_t ix = ox + kx - padding;
                            if (ix >= 0 && ix < w)
                                sum += zp[(img * hw + iy * w + ix) * taps + (oc * k + ky) * k + kx];
                        }
                    }
                    yp[row * wo + ox] = sum;
                }
            }
        });
        ctx->save_for_backward({x, wt});
        ctx->saved_data["padding"] = padding;
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads)
    {
        check_first_order();
        const auto saved = ctx->get_saved_variables();
        const at::Tensor &x = saved[0], &wt = saved[1];
        const int64_t padding = ctx->saved_data["padding"].toInt();
        const at::Tensor g = grads[0].contiguous();
        const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), hw = h * w;
        const int64_t o = wt.size(0), k = wt.size(1), taps = o * k * k, ho = g.size(2), wo = g.size(3);
        // gt[n][pixel][tap]: the gradient of the output that tap carried the pixel to (0 where none).
        at::Tensor gt = at::empty({n, hw, taps}, x.options());
        const float* gp = g.data_ptr<float>();
        float* gtp = gt.data_ptr<float>();
        at::parallel_for(0, n * hw, 16, [&](int64_t begin, int64_t end) {
            for (int64_t q = begin; q < end; ++q) {
                const int64_t img = q / hw, iy = (q % hw) / w, ix = q % w;
                float* dst = gtp + q * taps;
                for (int64_t oc = 0; oc < o; ++oc)
                    for (int64_t ky = 0; ky < k; ++ky)
                        for (int64_t kx = 0; kx < k; ++kx) {
                            const int64_t oy = iy - ky + padding, ox = ix - kx + padding;
                            *dst++ = oy >= 0 && oy < ho && ox >= 0 && ox < wo ? gp[((img * o + oc) * ho + oy) * wo + ox] : 0.0f;
                        }
            }
        });
        const float *xp = x.data_ptr<float>(), *wp = wt.data_ptr<float>();
        at::Tensor grad_x, grad_w;
        if (ctx->needs_input_grad(0)) {
            grad_x = at::empty_like(x);
            float* gx = grad_x.data_ptr<float>();
            for (int64_t i = 0; i < n; ++i)
                sgemm_1x1(true, true, c, hw, taps, wp, c, gtp + i * hw * taps, taps, 0.0f, gx + i * c * hw, hw);
        }
        if (ctx->needs_input_grad(1)) {
            // Its transpose [C, taps], summed over the batch in place; then back to [O, C, k, k].
            at::Tensor gwt = at::empty({c, taps}, x.options());
            for (int64_t i = 0; i < n; ++i)
                sgemm_1x1(false, false, c, taps, hw, xp + i * c * hw, hw, gtp + i * hw * taps, taps, i == 0 ? 0.0f : 1.0f,
                          gwt.data_ptr<float>(), taps);
            grad_w = gwt.t().reshape({o, k, k, c}).permute({0, 3, 1, 2}).contiguous();
        }
        return {grad_x, grad_w, at::Tensor()};
    }
};

} // namespace

at::Tensor conv1x1_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t groups)
{
    RECORD_FUNCTION("bft::conv1x1_gemm", std::vector<c10::IValue>());
    check_operands(x, weight);
    TORCH_CHECK(weight.size(2) == 1 && groups >= 1 && weight.size(0) % groups == 0 && x.size(1) == weight.size(1) * groups &&
                    bias.defined() && bias.numel() == weight.size(0),
                "1x1 GEMM convolution: a 1x1 weight, its bias, and channels that split into the groups");
    // Without oneDNN's GEMM (its sgemm takes the row strides and beta this needs): LibTorch's convolution.
    if (!onednn::available())
        return at::conv2d(x, weight, bias, at::IntArrayRef{1}, at::IntArrayRef{0}, at::IntArrayRef{1}, groups);
    return GemmConv1x1::apply(x, weight, bias, groups);
}

at::Tensor conv2d_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t stride,
                       int64_t padding)
{
    RECORD_FUNCTION("bft::conv2d_gemm", std::vector<c10::IValue>());
    check_operands(x, weight);
    TORCH_CHECK(x.size(2) + 2 * padding >= weight.size(2) && x.size(3) + 2 * padding >= weight.size(3),
                "GEMM convolution: input smaller than the kernel");
    // Autograd functions take no undefined inputs: the bias is added outside.
    const at::Tensor y = GemmConv::apply(x, weight, stride, padding);
    return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
}

at::Tensor conv2d_taps_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t padding)
{
    RECORD_FUNCTION("bft::conv2d_taps_gemm", std::vector<c10::IValue>());
    check_operands(x, weight);
    TORCH_CHECK(x.size(1) == weight.size(1) && x.size(2) + 2 * padding >= weight.size(2) &&
                    x.size(3) + 2 * padding >= weight.size(3),
                "GEMM convolution: input smaller than the kernel, or channels that differ");
    if (!onednn::available())
        return at::conv2d(x, weight, bias, at::IntArrayRef{1}, at::IntArrayRef{padding});
    const at::Tensor y = GemmConvTaps::apply(x, weight, padding);
    return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
}

at::Tensor conv_transpose2d_gemm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, int64_t stride,
                                 int64_t padding, int64_t output_padding)
{
    RECORD_FUNCTION("bft::conv_transpose2d_gemm", std::vector<c10::IValue>());
    check_operands(x, weight);
    // col2im finds the input's size again from the output's: it must be the only one that fits.
    TORCH_CHECK(output_padding >= 0 && output_padding < stride, "GEMM transposed convolution: output_padding < stride");
    const at::Tensor y = GemmConvTranspose::apply(x, weight, stride, padding, output_padding);
    return bias.defined() ? y + bias.view({1, -1, 1, 1}) : y;
}

} // namespace bft
