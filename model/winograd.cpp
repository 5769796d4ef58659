#include "winograd.h"

#include "errors.h"
#include "onednn.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

namespace bft {

namespace {

// F(4x4, 3x3) with the points 0, +-1, +-2 and infinity (Lavin & Gray): a 6x6 input tile d gives
// the 4x4 output tile A^T [(G w G^T) . (B^T d B)] A.
constexpr double kBT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                              {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};
constexpr double kAT[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

// kron(M, M) for an r x 6 matrix M: applied to a tile flattened row by row (36 values), it gives
// M d M^T flattened: row i * r + j, column k * 6 + l holds M[i][k] M[j][l].
template <int R>
at::Tensor kron_self(const double (&m)[R][6])
{
    at::Tensor k = at::empty({R * R, 36}, at::kFloat);
    float* p = k.data_ptr<float>();
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < R; ++j)
            for (int a = 0; a < 6; ++a)
                for (int b = 0; b < 6; ++b)
                    p[(i * R + j) * 36 + a * 6 + b] = static_cast<float>(m[i][a] * m[j][b]);
    return k;
}

// c = a (m x k) * b (k x n), row-major float32, into c.
void matmul(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k)
{
    if (onednn::sgemm(false, false, m, n, k, a, k, b, n, 0.0f, c, n))
        return;
    // Without oneDNN's API: LibTorch's BLAS, on views of the same memory.
    const auto opt = at::TensorOptions().dtype(at::kFloat);
    at::Tensor out = at::from_blob(c, {m, n}, opt);
    at::mm_out(out, at::from_blob(const_cast<float*>(a), {m, k}, opt), at::from_blob(const_cast<float*>(b), {k, n}, opt));
}

} // namespace

at::Tensor winograd_weights(const at::Tensor& weight)
{
    if (weight.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3)
        throw Error("Winograd F(4x4, 3x3): expected a 3x3 weight");
    const at::Tensor g = at::from_blob(const_cast<double*>(&kG[0][0]), {6, 3}, at::kDouble);
    const at::Tensor w = weight.detach().to(at::kCPU, at::kDouble);
    const at::Tensor u = at::matmul(at::matmul(g, w), g.t()); // O x I x 6 x 6
    return u.permute({2, 3, 0, 1}).reshape({36, weight.size(0), weight.size(1)}).to(at::kFloat).contiguous();
}

at::Tensor winograd_conv3x3(const at::Tensor& x, const at::Tensor& u, const at::Tensor& bias)
{
    if (x.dim() != 4 || x.scalar_type() != at::kFloat || !x.is_cpu() || u.dim() != 3 || u.size(0) != 36 ||
        u.size(2) != x.size(1) || u.scalar_type() != at::kFloat || x.size(2) < 3 || x.size(3) < 3)
        throw Error("Winograd F(4x4, 3x3): unsupported input");
    RECORD_FUNCTION("bft::winograd_conv3x3", std::vector<c10::IValue>());
    const int64_t n = x.size(0), c = x.size(1), o = u.size(1);
    const int64_t h = x.size(2) - 2, w = x.size(3) - 2;
    const int64_t th = (h + 3) / 4, tw = (w + 3) / 4, t = n * th * tw;
    // Zeros below and to the right where the map is not a whole number of tiles (cropped after).
    at::Tensor xp = x.contiguous();
    if (4 * th + 2 != x.size(2) || 4 * tw + 2 != x.size(3))
        xp = at::constant_pad_nd(xp, {0, 4 * tw + 2 - x.size(3), 0, 4 * th + 2 - x.size(2)});
    const int64_t hq = xp.size(2), wq = xp.size(3);

    static const at::Tensor to_points = kron_self(kBT); // 36 x 36
    static const at::Tensor from_points = kron_self(kAT); // 16 x 36

    // Tiles as columns: d[a * 6 + b][ch][img][ty][tx] = x[img][ch][4 ty + a][4 tx + b].
    const at::Tensor d = xp.as_strided({6, 6, c, n, th, tw}, {wq, 1, hq * wq, c * hq * wq, 4 * wq, 4}).contiguous();
    at::Tensor v = at::empty({36, c, t}, x.options());
    matmul(to_points.data_ptr<float>(), d.data_ptr<float>(), v.data_ptr<float>(), 36, c * t, 36);
    // The 36 products, point by point: m[p] = u[p] (o x c) v[p] (c x t).
    at::Tensor m = at::empty({36, o, t}, x.options());
    const float* up = u.data_ptr<float>();
    const float* vp = v.data_ptr<float>();
    float* mp = m.data_ptr<float>();
    // (Run one after the other, each on every thread: splitting the 36 between threads was no faster.)
    for (int64_t p = 0; p < 36; ++p)
        matmul(up + p * o * c, vp + p * c * t, mp + p * o * t, o, t, c);
    at::Tensor y = at::empty({16, o * t}, x.options());
    matmul(from_points.data_ptr<float>(), mp, y.data_ptr<float>(), 16, o * t, 36);

    // y[i * 4 + j][oc][img][ty][tx] is out[img][oc][4 ty + i][4 tx + j]: one pass places it and
    // adds the bias.
    at::Tensor out = at::empty({n, o, 4 * th, 4 * tw}, x.options());
    const at::Tensor tiles = y.view({4, 4, o, n, th, tw}).permute({3, 2, 4, 0, 5, 1});
    at::Tensor out6 = out.view({n, o, th, 4, tw, 4});
    if (bias.defined())
        at::add_out(out6, tiles, bias.to(at::kFloat).view({1, o, 1, 1, 1, 1}));
    else
        out6.copy_(tiles);
    if (4 * th != h || 4 * tw != w)
        out = out.narrow(2, 0, h).narrow(3, 0, w).contiguous();
    return out;
}

} // namespace bft
