#include "kernels.h"

#include "errors.h"
#include "onednn.h"
#include "vectorize.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace bft::kernels {

namespace {

// One row of w pixels (`pixel` bytes each) reflection-padded by `pad` on both sides into `to`
// (w + 2 pad pixels): reflect_pad's rows and conv_few_outputs' rows read as it goes.
inline void reflect_row(const char* from, char* to, int64_t w, int64_t pad, int64_t pixel)
{
    std::memcpy(to + pad * pixel, from, static_cast<size_t>(w * pixel));
    for (int64_t j = 1; j <= pad; ++j) {
        std::memcpy(to + (pad - j) * pixel, from + j * pixel, static_cast<size_t>(pixel));
        std::memcpy(to + (pad + w - 1 + j) * pixel, from + (w - 1 - j) * pixel, static_cast<size_t>(pixel));
    }
}

// Elements are float or bf16 (its bits as uint16_t); these read and write either as float, inline,
// so that every loop below converts in registers (no widened copies in memory) and vectorises.
inline float load(const float* p, int64_t i)
{
    return p[i];
}

inline float load(const uint16_t* p, int64_t i)
{
    const uint32_t u = static_cast<uint32_t>(p[i]) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline void put(float* p, int64_t i, float v)
{
    p[i] = v;
}

// Round to nearest even; NaN stays NaN. Branch-free, so that loops over it vectorise.
inline void put(uint16_t* p, int64_t i, float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet_nan = (u >> 16) | 0x40u;
    p[i] = static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded);
}

// Statistics in one pass over memory: each block (short enough to stay in L1 or L2) gets its own
// mean and sum of squared deviations from it (two passes over the cached block, fp32 with 16
// independent lanes: without -ffast-math one accumulator would not vectorise), and blocks are
// merged in fp64 by Chan et al.'s pairwise update. As exact as two passes over the whole map, which
// the features' offsets (mean >> std after some layers) need; cheaper than reading it twice.
struct Moments {
    double count = 0, mean = 0, m2 = 0;
    void merge(double n, double block_mean, double block_m2)
    {
        if (n <= 0)
            return;
        const double total = count + n, delta = block_mean - mean;
        mean += delta * n / total;
        m2 += block_m2 + delta * delta * count * n / total;
        count = total;
    }
};

constexpr int kLanes = 16;
constexpr int64_t kBlock = 1024; // elements of one NCHW block

template <typename T>
__attribute__((always_inline)) inline void plane_moments_impl(const T* __restrict x, int64_t n, Moments& m)
{
    for (int64_t b = 0; b < n; b += kBlock) {
        const T* xb = x + b;
        const int64_t len = std::min(kBlock, n - b);
        float lane[kLanes] = {};
        int64_t i = 0;
        for (; i + kLanes <= len; i += kLanes)
            for (int j = 0; j < kLanes; ++j)
                lane[j] += load(xb, i + j);
        float s = 0;
        for (; i < len; ++i)
            s += load(xb, i);
        for (int j = 0; j < kLanes; ++j)
            s += lane[j];
        const float mean = s / static_cast<float>(len);
        float sq[kLanes] = {};
        for (i = 0; i + kLanes <= len; i += kLanes)
            for (int j = 0; j < kLanes; ++j) {
                const float d = load(xb, i + j) - mean;
                sq[j] += d * d;
            }
        float q = 0;
        for (; i < len; ++i)
            q += (load(xb, i) - mean) * (load(xb, i) - mean);
        for (int j = 0; j < kLanes; ++j)
            q += sq[j];
        m.merge(static_cast<double>(len), mean, q);
    }
}

BFT_VECTOR_CLONES void plane_moments(const float* x, int64_t n, Moments& m)
{
    plane_moments_impl(x, n, m);
}

BFT_VECTOR_CLONES void plane_moments(const uint16_t* x, int64_t n, Moments& m)
{
    plane_moments_impl(x, n, m);
}

// Channels-last: `rows` pixels of c channels. sum and sq (c floats each) are scratch; the block's
// per-channel moments are merged into m[0..c).
template <typename T>
__attribute__((always_inline)) inline void rows_moments_impl(const T* __restrict x, int64_t rows, int64_t c,
                                                             float* __restrict sum, float* __restrict sq, Moments* m)
{
    for (int64_t i = 0; i < c; ++i)
        sum[i] = 0, sq[i] = 0;
    for (int64_t p = 0; p < rows; ++p)
        for (int64_t i = 0; i < c; ++i)
            sum[i] += load(x, p * c + i);
    const float inv_rows = 1.0f / static_cast<float>(rows);
    for (int64_t i = 0; i < c; ++i)
        sum[i] *= inv_rows; // now the block's means
    for (int64_t p = 0; p < rows; ++p)
        for (int64_t i = 0; i < c; ++i) {
            const float d = load(x, p * c + i) - sum[i];
            sq[i] += d * d;
        }
    for (int64_t i = 0; i < c; ++i)
        m[i].merge(static_cast<double>(rows), sum[i], sq[i]);
}

BFT_VECTOR_CLONES void rows_moments(const float* x, int64_t rows, int64_t c, float* sum, float* sq, Moments* m)
{
    rows_moments_impl(x, rows, c, sum, sq, m);
}

BFT_VECTOR_CLONES void rows_moments(const uint16_t* x, int64_t rows, int64_t c, float* sum, float* sq, Moments* m)
{
    rows_moments_impl(x, rows, c, sum, sq, m);
}

// y = (x - mean) * inv [then gamma * y + beta] [ReLU], inv = 1/std: the reference's order of
// operations (x * inv - mean * inv would be one instruction less, and lose bits where mean >> std).
// y may be x (in place: each element is read before it is written). The options are template
// parameters so that each variant's loop has no branch inside; always_inline puts the body into
// every clone.
template <typename T, bool Film, bool Relu>
__attribute__((always_inline)) inline void normalize_plane_impl(const T* x, T* y, int64_t n, float mean, float inv,
                                                                const T* __restrict gamma, const T* __restrict beta)
{
    for (int64_t i = 0; i < n; ++i) {
        float v = (load(x, i) - mean) * inv;
        if constexpr (Film)
            v = load(gamma, i) * v + load(beta, i);
        if constexpr (Relu)
            v = v > 0 ? v : 0;
        put(y, i, v);
    }
}

// Channels-last: `pixels` rows of c channels, y's rows y_stride apart (wider where y is part of a
// concatenation); gamma/beta rows are 2c wide (gamma, then beta).
template <typename T, bool Film, bool Relu>
__attribute__((always_inline)) inline void normalize_rows_impl(const T* x, T* y, int64_t pixels, int64_t c,
                                                               int64_t y_stride, const float* __restrict mean,
                                                               const float* __restrict inv, const T* __restrict gb)
{
    for (int64_t p = 0; p < pixels; ++p) {
        const T* xr = x + p * c;
        T* yr = y + p * y_stride;
        for (int64_t i = 0; i < c; ++i) {
            float v = (load(xr, i) - mean[i]) * inv[i];
            if constexpr (Film)
                v = load(gb, p * 2 * c + i) * v + load(gb, p * 2 * c + c + i);
            if constexpr (Relu)
                v = v > 0 ? v : 0;
            put(yr, i, v);
        }
    }
}

template <typename T>
__attribute__((always_inline)) inline void normalize_plane_dispatch(const T* x, T* y, int64_t n, float mean, float inv,
                                                                    const T* gamma, const T* beta, bool relu)
{
    if (gamma)
        relu ? normalize_plane_impl<T, true, true>(x, y, n, mean, inv, gamma, beta)
             : normalize_plane_impl<T, true, false>(x, y, n, mean, inv, gamma, beta);
    else
        relu ? normalize_plane_impl<T, false, true>(x, y, n, mean, inv, gamma, beta)
             : normalize_plane_impl<T, false, false>(x, y, n, mean, inv, gamma, beta);
}

template <typename T>
__attribute__((always_inline)) inline void normalize_rows_dispatch(const T* x, T* y, int64_t pixels, int64_t c,
                                                                   int64_t y_stride, const float* mean, const float* inv,
                                                                   const T* gb, bool relu)
{
    if (gb)
        relu ? normalize_rows_impl<T, true, true>(x, y, pixels, c, y_stride, mean, inv, gb)
             : normalize_rows_impl<T, true, false>(x, y, pixels, c, y_stride, mean, inv, gb);
    else
        relu ? normalize_rows_impl<T, false, true>(x, y, pixels, c, y_stride, mean, inv, gb)
             : normalize_rows_impl<T, false, false>(x, y, pixels, c, y_stride, mean, inv, gb);
}

BFT_VECTOR_CLONES void normalize_plane(const float* x, float* y, int64_t n, float mean, float inv, const float* gamma,
                                       const float* beta, bool relu)
{
    normalize_plane_dispatch(x, y, n, mean, inv, gamma, beta, relu);
}

BFT_VECTOR_CLONES void normalize_plane(const uint16_t* x, uint16_t* y, int64_t n, float mean, float inv,
                                       const uint16_t* gamma, const uint16_t* beta, bool relu)
{
    normalize_plane_dispatch(x, y, n, mean, inv, gamma, beta, relu);
}

BFT_VECTOR_CLONES void normalize_rows(const float* x, float* y, int64_t pixels, int64_t c, int64_t y_stride,
                                      const float* mean, const float* inv, const float* gb, bool relu)
{
    normalize_rows_dispatch(x, y, pixels, c, y_stride, mean, inv, gb, relu);
}

BFT_VECTOR_CLONES void normalize_rows(const uint16_t* x, uint16_t* y, int64_t pixels, int64_t c, int64_t y_stride,
                                      const float* mean, const float* inv, const uint16_t* gb, bool relu)
{
    normalize_rows_dispatch(x, y, pixels, c, y_stride, mean, inv, gb, relu);
}

// y += (x - mean) * inv: a residual block's sum, with its second normalisation.
BFT_VECTOR_CLONES void normalize_add_plane(const float* __restrict x, float* __restrict y, int64_t n, float mean, float inv)
{
    for (int64_t i = 0; i < n; ++i)
        y[i] += (x[i] - mean) * inv;
}

// y = (x - mean[c]) * inv[c] + r over channels-last rows of c values: a residual block's end in one
// pass (y may be x: each value is read before its own write).
BFT_VECTOR_CLONES void normalize_add_rows(const float* x, const float* __restrict r, float* y, int64_t pixels,
                                          int64_t c, const float* __restrict mean, const float* __restrict inv)
{
    for (int64_t p = 0; p < pixels; ++p) {
#pragma GCC ivdep
        for (int64_t i = 0; i < c; ++i)
            y[p * c + i] = (x[p * c + i] - mean[i]) * inv[i] + r[p * c + i];
    }
}

// mean and inv of y = (x - mean) * inv, inv = 1 / sqrt(var + 1e-5), var = m2 / (count - unbiased).
inline std::pair<float, float> mean_inv(const Moments& m, bool unbiased)
{
    const double var = std::max(0.0, m.m2) / (m.count - (unbiased ? 1.0 : 0.0));
    return {static_cast<float>(m.mean), static_cast<float>(1.0 / std::sqrt(var + 1e-5))};
}

// Channels-last: the mean and inv of each of C channels over one image's HW pixels at xs. Each
// thread takes a run of pixels, in blocks of kRows pixels (with the channel as the inner, vector,
// index), and the threads' moments are merged at the end.
constexpr int64_t kRows = 64;

template <typename T>
void image_statistics(const T* xs, int64_t HW, int64_t C, bool unbiased, float* mean, float* inv)
{
    const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), (HW + kRows - 1) / kRows));
    const int64_t chunk = (HW + threads - 1) / threads;
    std::vector<Moments> partial(static_cast<size_t>(threads * C));
    at::parallel_for(0, threads, 1, [&](int64_t t0, int64_t t1) {
        std::vector<float> sum(static_cast<size_t>(C)), sq(static_cast<size_t>(C));
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t end = std::min(HW, (t + 1) * chunk);
            for (int64_t p = t * chunk; p < end; p += kRows)
                rows_moments(xs + p * C, std::min(kRows, end - p), C, sum.data(), sq.data(),
                             &partial[static_cast<size_t>(t * C)]);
        }
    });
    for (int64_t c = 0; c < C; ++c) {
        Moments m;
        for (int64_t t = 0; t < threads; ++t) {
            const Moments& part = partial[static_cast<size_t>(t * C + c)];
            m.merge(part.count, part.mean, part.m2);
        }
        std::tie(mean[c], inv[c]) = mean_inv(m, unbiased);
    }
}

// Channels-last x (N images of HW pixels by C): per image, its statistics, then its pixels in blocks
// of kRows across the threads: rows(image, first pixel within it, count, mean, inv).
template <typename T, typename Rows>
void per_image_rows(const T* xp, int64_t N, int64_t HW, int64_t C, bool unbiased, Rows&& rows)
{
    std::vector<float> mean(static_cast<size_t>(C)), inv(static_cast<size_t>(C));
    for (int64_t n = 0; n < N; ++n) {
        image_statistics(xp + n * HW * C, HW, C, unbiased, mean.data(), inv.data());
        at::parallel_for(0, (HW + kRows - 1) / kRows, 1, [&](int64_t b0, int64_t b1) {
            const int64_t p = b0 * kRows;
            rows(n, p, std::min(b1 * kRows, HW) - p, mean.data(), inv.data());
        });
    }
}

template <typename T>
void normalize_typed(const at::Tensor& x, const at::Tensor& gb, at::Tensor& y, bool cl, bool unbiased, bool relu)
{
    const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
    const T* xp = static_cast<const T*>(x.data_ptr());
    const T* gp = gb.defined() ? static_cast<const T*>(gb.data_ptr()) : nullptr;
    T* yp = static_cast<T*>(y.data_ptr());

    if (!cl) {
        // One (n, c) plane at a time: contiguous spans, read once from memory (then from cache).
        at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
            for (int64_t plane = begin; plane < end; ++plane) {
                const int64_t n = plane / C, c = plane % C;
                Moments m;
                plane_moments(xp + plane * HW, HW, m);
                const auto [mean, inv] = mean_inv(m, unbiased);
                const T* g = gp ? gp + (n * 2 * C + c) * HW : nullptr;
                const T* b = gp ? gp + (n * 2 * C + C + c) * HW : nullptr;
                normalize_plane(xp + plane * HW, yp + plane * HW, HW, mean, inv, g, b, relu);
            }
        });
        return;
    }

    per_image_rows(xp, N, HW, C, unbiased, [&](int64_t n, int64_t p, int64_t rows, const float* mean, const float* inv) {
        const int64_t pixel = n * HW + p;
        normalize_rows(xp + pixel * C, yp + pixel * C, rows, C, C, mean, inv, gp ? gp + pixel * 2 * C : nullptr, relu);
    });
}

at::Tensor normalize(const at::Tensor& x_in, const at::Tensor* gamma_beta, bool unbiased, bool relu, bool in_place)
{
    if (x_in.dim() != 4)
        throw Error("normalisation kernel: expected NCHW input");
    const bool bf16 = x_in.scalar_type() == at::kBFloat16;
    if (!bf16 && x_in.scalar_type() != at::kFloat)
        throw Error("normalisation kernel: float32 or bfloat16 only");
    const bool cl = !x_in.is_contiguous() && x_in.is_contiguous(at::MemoryFormat::ChannelsLast);
    const auto fmt = cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor x = x_in.contiguous(fmt);
    at::Tensor gb;
    if (gamma_beta) {
        gb = gamma_beta->to(x.scalar_type()).contiguous(fmt);
        if (gb.size(0) != x.size(0) || gb.size(1) != 2 * x.size(1) || gb.size(2) != x.size(2) || gb.size(3) != x.size(3))
            throw Error("film_modulate: gamma/beta do not match the features");
    }
    // Each output element depends on its own input element and the statistics, which are complete
    // before the first write: writing over x is safe.
    at::Tensor y = in_place && x.is_same(x_in) ? x : at::empty_like(x, x.options().memory_format(fmt));
    if (bf16)
        normalize_typed<uint16_t>(x, gb, y, cl, unbiased, relu);
    else
        normalize_typed<float>(x, gb, y, cl, unbiased, relu);
    return y;
}

} // namespace

Statistics channel_statistics(const at::Tensor& x, bool unbiased)
{
    if (x.dim() != 4 || !x.is_contiguous(at::MemoryFormat::ChannelsLast) ||
        (x.scalar_type() != at::kFloat && x.scalar_type() != at::kBFloat16))
        throw Error("channel_statistics: expected a channels-last float32 or bfloat16 map");
    RECORD_FUNCTION("bft::channel_statistics", std::vector<c10::IValue>());
    const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
    Statistics out;
    out.mean.resize(static_cast<size_t>(N * C));
    out.inv.resize(static_cast<size_t>(N * C));
    for (int64_t n = 0; n < N; ++n) {
        float *mean = out.mean.data() + n * C, *inv = out.inv.data() + n * C;
        if (x.scalar_type() == at::kBFloat16)
            image_statistics(static_cast<const uint16_t*>(x.data_ptr()) + n * HW * C, HW, C, unbiased, mean, inv);
        else
            image_statistics(x.data_ptr<float>() + n * HW * C, HW, C, unbiased, mean, inv);
    }
    return out;
}

void modulate_rows(const at::Tensor& x, const at::Tensor& y, const Statistics& s, int64_t first, int64_t pixels,
                   const void* gamma_beta, bool relu)
{
    const int64_t C = x.size(1), HW = x.size(2) * x.size(3);
    const bool bf16 = x.scalar_type() == at::kBFloat16;
    while (pixels > 0) { // image by image: the statistics are each image's own
        const int64_t n = first / HW, rows = std::min(pixels, (n + 1) * HW - first);
        const float* mean = s.mean.data() + n * C;
        const float* inv = s.inv.data() + n * C;
        if (bf16)
            normalize_rows(static_cast<const uint16_t*>(x.data_ptr()) + first * C,
                           static_cast<uint16_t*>(y.data_ptr()) + first * C, rows, C, C, mean, inv,
                           static_cast<const uint16_t*>(gamma_beta), relu);
        else
            normalize_rows(x.data_ptr<float>() + first * C, y.data_ptr<float>() + first * C, rows, C, C, mean, inv,
                           static_cast<const float*>(gamma_beta), relu);
        gamma_beta = static_cast<const char*>(gamma_beta) + rows * 2 * C * x.element_size();
        first += rows;
        pixels -= rows;
    }
}

namespace {
// The U-Net decoder's input, ReLU(cat(skip, instance_norm(h))), as rows of cs + ch values, from
// channels-last skip and h (T: float or bf16 bits; pixels per image); h's statistics are taken per
// image when made.
// The skip passes through normalize_rows as (x - 0) * 1 (exact) for its ReLU (which, as this file's
// other ReLUs, makes NaN 0).
template <typename T>
struct DecoderInput {
    DecoderInput(const T* skip_map, const T* h_map, int64_t images, int64_t pixels, int64_t skip_c, int64_t h_c)
        : skip(skip_map), h(h_map), hw(pixels), cs(skip_c), ch(h_c), mean(static_cast<size_t>(images * h_c)),
          inv(mean.size()), zeros(static_cast<size_t>(skip_c), 0.0f), ones(static_cast<size_t>(skip_c), 1.0f)
    {
        for (int64_t i = 0; i < images; ++i)
            image_statistics(h + i * hw * ch, hw, ch, /*unbiased=*/false, mean.data() + i * ch, inv.data() + i * ch);
    }

    // Pixels first .. first + count - 1 (counted over N x H x W; a run may cross images) to dst,
    // rows cs + ch apart. Safe to call from several threads on disjoint runs.
    void rows(int64_t first, int64_t count, T* dst) const
    {
        for (int64_t p = first; p < first + count;) {
            const int64_t img = p / hw, run = std::min(first + count, (img + 1) * hw) - p;
            T* row = dst + (p - first) * (cs + ch);
            normalize_rows(skip + p * cs, row, run, cs, cs + ch, zeros.data(), ones.data(), nullptr, /*relu=*/true);
            normalize_rows(h + p * ch, row + cs, run, ch, cs + ch, mean.data() + img * ch, inv.data() + img * ch,
                           nullptr, /*relu=*/true);
            p += run;
        }
    }

    const T* skip;
    const T* h;
    int64_t hw, cs, ch;
    std::vector<float> mean, inv, zeros, ones;
};

template <typename T>
void skip_concat_typed(const at::Tensor& skip, const at::Tensor& h, const at::Tensor& y)
{
    const int64_t pixels = h.size(0) * h.size(2) * h.size(3), width = skip.size(1) + h.size(1);
    const DecoderInput<T> in(static_cast<const T*>(skip.data_ptr()), static_cast<const T*>(h.data_ptr()), h.size(0),
                             h.size(2) * h.size(3), skip.size(1), h.size(1));
    T* yp = static_cast<T*>(y.data_ptr());
    at::parallel_for(0, (pixels + kRows - 1) / kRows, 1, [&](int64_t b0, int64_t b1) {
        const int64_t p = b0 * kRows;
        in.rows(p, std::min(b1 * kRows, pixels) - p, yp + p * width);
    });
}
} // namespace

namespace {
// Pixels first .. first + pixels - 1 (over N x H x W) of channels-last rows (C values each, `stride`
// apart) into planar float32 out (N x C x plane). Tiles of 16 pixels x 16 channels transposed in a
// local buffer, each channel's 16 pixels (one cache line) written at once, 16 channels at a time
// along the whole run. The output rows lie a power-of-two distance apart (one cache set): 128
// channels by slices of 256 pixels, in cache, one thread, value by value took 3.2 ns a value, all
// channels of a tile at a time 0.83, this 0.63.
template <typename T>
void transpose_run(const T* src, int64_t stride, int64_t first, int64_t pixels, int64_t c, int64_t plane, float* out)
{
    constexpr int64_t kTile = 16;
    alignas(64) float tile[kTile][kTile];
    for (int64_t c0 = 0; c0 < c; c0 += kTile) {
        const int64_t width = std::min(kTile, c - c0);
        for (int64_t p0 = 0; p0 < pixels;) {
            const int64_t img = (first + p0) / plane, pos = (first + p0) % plane;
            const int64_t count = std::min({kTile, pixels - p0, plane - pos}); // a run may cross images
            for (int64_t p = 0; p < count; ++p) {
                const T* in = src + (p0 + p) * stride + c0;
                for (int64_t ch = 0; ch < width; ++ch)
                    tile[ch][p] = static_cast<float>(in[ch]);
            }
            float* o = out + (img * c + c0) * plane + pos;
            for (int64_t ch = 0; ch < width; ++ch)
                std::memcpy(o + ch * plane, tile[ch], static_cast<size_t>(count) * sizeof(float));
            p0 += count;
        }
    }
}
} // namespace

void rows_to_planar(const void* rows, at::ScalarType t, int64_t first, int64_t pixels, const at::Tensor& y)
{
    if (y.dim() != 4 || y.scalar_type() != at::kFloat || !y.is_contiguous() || !y.is_cpu() ||
        (t != at::kFloat && t != at::kBFloat16) || first < 0 || pixels < 0 ||
        first + pixels > y.size(0) * y.size(2) * y.size(3))
        throw Error("rows_to_planar: rows that do not fit the map");
    const int64_t c = y.size(1), plane = y.size(2) * y.size(3);
    if (t == at::kFloat)
        transpose_run(static_cast<const float*>(rows), c, first, pixels, c, plane, y.data_ptr<float>());
    else
        transpose_run(static_cast<const at::BFloat16*>(rows), c, first, pixels, c, plane, y.data_ptr<float>());
}

at::Tensor planar_float(const at::Tensor& x)
{
    if (x.dim() != 4 || !x.is_cpu() || x.size(1) < 2 || x.stride(1) != 1 ||
        (x.scalar_type() != at::kFloat && x.scalar_type() != at::kBFloat16))
        return x.to(at::kFloat).contiguous();
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const int64_t sn = x.stride(0), sh = x.stride(2), sw = x.stride(3);
    at::Tensor y = at::empty({n, c, h, w}, x.options().dtype(at::kFloat).memory_format(at::MemoryFormat::Contiguous));
    auto run = [&](const auto* src) {
        // Image row by image row (x's rows may lie apart: a channel range of a wider map).
        at::parallel_for(0, n * h, 1, [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r)
                transpose_run(src + (r / h) * sn + (r % h) * sh, sw, r * w, w, c, h * w, y.data_ptr<float>());
        });
    };
    if (x.scalar_type() == at::kFloat)
        run(x.data_ptr<float>());
    else
        run(x.data_ptr<at::BFloat16>());
    return y;
}

at::Tensor channels_last_float(const at::Tensor& x)
{
    if (x.dim() != 4 || !x.is_cpu() || x.scalar_type() != at::kFloat || !x.is_contiguous() || x.size(1) < 2 ||
        x.size(1) > 16)
        return {};
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), plane = h * w;
    at::Tensor y = at::empty({n, c, h, w}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    const float* src = x.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    at::parallel_for(0, n * h, 1, [&](int64_t begin, int64_t end) {
        constexpr int64_t kRun = 64;
        alignas(64) float tile[16][kRun];
        for (int64_t r = begin; r < end; ++r) {
            const float* in = src + (r / h) * c * plane + (r % h) * w;
            float* out = dst + r * w * c;
            for (int64_t x0 = 0; x0 < w; x0 += kRun) {
                const int64_t count = std::min(kRun, w - x0);
                for (int64_t ch = 0; ch < c; ++ch)
                    std::memcpy(tile[ch], in + ch * plane + x0, static_cast<size_t>(count) * sizeof(float));
                for (int64_t p = 0; p < count; ++p)
                    for (int64_t ch = 0; ch < c; ++ch)
                        out[(x0 + p) * c + ch] = tile[ch][p];
            }
        }
    });
    return y;
}

namespace {
// Bit operations only around the one product, no float comparison: GCC vectorises it.
BFT_VECTOR_CLONES void leaky_bf16(uint16_t* __restrict p, int64_t n, float slope)
{
    for (int64_t i = 0; i < n; ++i) {
        const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
        const uint32_t r = __builtin_bit_cast(uint32_t, __builtin_bit_cast(float, bits) * slope);
        const uint16_t rounded = static_cast<uint16_t>((r + 0x7fffu + ((r >> 16) & 1u)) >> 16);
        p[i] = (p[i] & 0x8000u) ? rounded : p[i];
    }
}
} // namespace

bool leaky_relu_bf16_(const at::Tensor& x, float slope)
{
    if (!x.defined() || !x.is_cpu() || x.scalar_type() != at::kBFloat16 ||
        !(x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast)))
        return false;
    RECORD_FUNCTION("bft::leaky_relu_bf16", std::vector<c10::IValue>());
    uint16_t* p = static_cast<uint16_t*>(x.data_ptr());
    at::parallel_for(0, x.numel(), 16384, [&](int64_t begin, int64_t end) { leaky_bf16(p + begin, end - begin, slope); });
    return true;
}

bool put_phase(const at::Tensor& phase, const at::Tensor& out, int64_t a, int64_t b)
{
    const auto cl = at::MemoryFormat::ChannelsLast;
    if (phase.dim() != 4 || out.dim() != 4 || phase.scalar_type() != at::kFloat || out.scalar_type() != at::kFloat ||
        !phase.is_cpu() || !out.is_cpu() || !phase.is_contiguous(cl) || !out.is_contiguous(cl) ||
        phase.size(0) != out.size(0) || phase.size(1) != out.size(1) || a < 0 || a > 1 || b < 0 || b > 1 ||
        phase.size(2) != (out.size(2) - a + 1) / 2 || phase.size(3) != (out.size(3) - b + 1) / 2)
        return false;
    RECORD_FUNCTION("bft::put_phase", std::vector<c10::IValue>());
    const int64_t n = phase.size(0), c = phase.size(1), hp = phase.size(2), wp = phase.size(3);
    const int64_t ho = out.size(2), wo = out.size(3);
    const float* src = phase.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    at::parallel_for(0, n * hp, 1, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const int64_t img = r / hp, y = r % hp;
            const float* in = src + r * wp * c;
            float* o = dst + ((img * ho + 2 * y + a) * wo + b) * c;
            for (int64_t x = 0; x < wp; ++x)
                std::memcpy(o + 2 * x * c, in + x * c, static_cast<size_t>(c) * sizeof(float));
        }
    });
    return true;
}

at::Tensor skip_concat(const at::Tensor& skip, const at::Tensor& h)
{
    const auto cl = at::MemoryFormat::ChannelsLast;
    const at::ScalarType t = h.scalar_type();
    if (skip.dim() != 4 || h.dim() != 4 || skip.size(0) != h.size(0) || skip.size(2) != h.size(2) ||
        skip.size(3) != h.size(3) || skip.scalar_type() != t || (t != at::kFloat && t != at::kBFloat16) ||
        !skip.is_cpu() || !h.is_cpu())
        throw Error("skip_concat: float32 or bfloat16 CPU maps of one size expected");
    RECORD_FUNCTION("bft::skip_concat", std::vector<c10::IValue>());
    const at::Tensor s = skip.contiguous(cl), x = h.contiguous(cl);
    at::Tensor y = at::empty({h.size(0), skip.size(1) + h.size(1), h.size(2), h.size(3)}, h.options().memory_format(cl));
    if (t == at::kBFloat16)
        skip_concat_typed<uint16_t>(s, x, y);
    else
        skip_concat_typed<float>(s, x, y);
    return y;
}

namespace {
// One input row's taps of one output row (t: kx 0..3 of pixel 0, each pixel's ts values on) into
// the output row's even and odd columns: even[ix] += kx 1 at ix + kx 3 at ix - 1, odd[ix] += kx 2
// at ix + kx 0 at ix + 1 (columns outside the map contribute nothing).
BFT_VECTOR_CLONES void add_output_taps(const float* __restrict t, int64_t w, int64_t ts, float* __restrict even,
                                       float* __restrict odd)
{
    const float *t0 = t, *t1 = t + 1, *t2 = t + 2, *t3 = t + 3;
    even[0] += t1[0];
    for (int64_t ix = 1; ix < w; ++ix)
        even[ix] += t1[ix * ts] + t3[(ix - 1) * ts];
    for (int64_t ix = 0; ix + 1 < w; ++ix)
        odd[ix] += t2[ix * ts] + t0[(ix + 1) * ts];
    odd[w - 1] += t2[(w - 1) * ts];
}

// tanh(x) within about 2e-7 (absolute) of std::tanh, 16 values at a time (ATen's tanh_, a pass of
// its own over the output, took 0.22 ms of the texture forward at 256): the sign of x times
// 1 - 2 / (e^{2|x|} + 1), e^y = 2^k e^f (f = y - k ln 2, |f| <= ln 2 / 2) by e^f's Taylor polynomial
// to degree 7 (relative error 6e-8); 1 from |x| = 9 on (1 - tanh(9) = 3e-8); NaN stays NaN. In GCC's
// vector types: written as scalars, the selects kept it from vectorising (floating-point traps).
typedef float F16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t I16 __attribute__((vector_size(64)));
#define BFT_TANH16(x, out)                                                                               \
    {                                                                                                    \
        const I16 sign = reinterpret_cast<I16>(x) & (I16{} + INT32_MIN);                                 \
        const F16 ax = reinterpret_cast<F16>(reinterpret_cast<I16>(x) & (I16{} + INT32_MAX));            \
        const F16 y = 2.0f * (ax < 9.0f ? ax : F16{} + 9.0f);                                            \
        const I16 ki = __builtin_convertvector(y * 1.44269504f + 0.5f, I16);                             \
        const F16 k = __builtin_convertvector(ki, F16);                                                  \
        const F16 f = (y - k * 0.693145752f) - k * 1.42860677e-6f; /* ln 2 in two parts */               \
        F16 p = F16{} + 1.0f / 5040;                                                                     \
        p = p * f + 1.0f / 720;                                                                          \
        p = p * f + 1.0f / 120;                                                                          \
        p = p * f + 1.0f / 24;                                                                           \
        p = p * f + 1.0f / 6;                                                                            \
        p = p * f + 0.5f;                                                                                \
        p = p * f + 1.0f;                                                                                \
        p = p * f + 1.0f;                                                                                \
        const F16 scale = reinterpret_cast<F16>((ki + 127) << 23); /* 2^k, k <= 26 */                    \
        const F16 r = 1.0f - 2.0f / (p * scale + 1.0f);                                                  \
        const F16 signed_r = reinterpret_cast<F16>(reinterpret_cast<I16>(r) | sign);                     \
        out = x != x ? x : signed_r;                                                                     \
    }

BFT_VECTOR_CLONES void tanh_interleave(const float* __restrict even, const float* __restrict odd, int64_t w,
                                       float* __restrict out)
{
    int64_t ix = 0;
    for (; ix + 16 <= w; ix += 16) {
        F16 e, o, te, to;
        std::memcpy(&e, even + ix, sizeof e);
        std::memcpy(&o, odd + ix, sizeof o);
        BFT_TANH16(e, te)
        BFT_TANH16(o, to)
        for (int l = 0; l < 16; ++l) {
            out[2 * (ix + l)] = te[l];
            out[2 * (ix + l) + 1] = to[l];
        }
    }
    for (; ix < w; ++ix) {
        F16 e = F16{} + even[ix], o = F16{} + odd[ix], te, to;
        BFT_TANH16(e, te)
        BFT_TANH16(o, to)
        out[2 * ix] = te[0];
        out[2 * ix + 1] = to[0];
    }
}
} // namespace

namespace {
// out (rows x cols, cols a multiple of 16) = a (rows x k) times w (k x cols) plus bias, by the FiLM
// pair's blocks (AVX-512, below); false, nothing written, where they do not run.
bool blocks_gemm(const float* a, int64_t lda, int64_t rows, const float* w, int64_t ldw, int64_t k, const float* bias,
                 float* out, int64_t ldo, int64_t cols);
} // namespace

namespace {
// unet_output over maps of E (float, or bf16 bits: each row's values widened to float32 in the
// thread's buffer before the GEMM).
template <typename E>
at::Tensor unet_output_typed(const at::Tensor& skip, const at::Tensor& h, const at::Tensor& weight, const at::Tensor& bias)
{
    const auto cl = at::MemoryFormat::ChannelsLast;
    const auto fp32_cpu = [](const at::Tensor& t) { return t.scalar_type() == at::kFloat && t.is_cpu(); };
    const int64_t N = h.size(0), Cs = skip.size(1), Ch = h.size(1), H = h.size(2), W = h.size(3), HW = H * W;
    const int64_t C = Cs + Ch;
    if (weight.dim() != 4 || !fp32_cpu(weight) || weight.size(0) != C || weight.size(2) != 4 || weight.size(3) != 4 ||
        (bias.defined() && (!fp32_cpu(bias) || bias.numel() != weight.size(1))))
        throw Error("unet_output: a 4 x 4 float32 weight with as many inputs as both maps' channels expected");
    RECORD_FUNCTION("bft::unet_output", std::vector<c10::IValue>());
    const int64_t O = weight.size(1), T = O * 16; // each pixel's 16 tap products per output channel
    const at::Tensor s = skip.contiguous(cl), x = h.contiguous(cl), wm = weight.contiguous();
    const DecoderInput<E> in(static_cast<const E*>(s.data_ptr()), static_cast<const E*>(x.data_ptr()), N, HW, Cs, Ch);

    // Input row by input row, each thread over its own run of rows: the row's concatenated channels
    // (as skip_concat writes them) in the thread's buffer, their GEMM with the weight into the row's
    // taps ([W][T]), and as soon as rows m - 1, m and m + 1 have theirs, output rows 2m and 2m + 1:
    // a ring of three rows' taps in L2 where a map of every pixel's taps went through memory (the
    // Xeon, texture at 256, 128x128 -> 256x256: about 2.4 -> 1.9 ms in a forward; the GEMM the
    // other way round, [T][W] for vector sums below, ran 1.5x slower in oneDNN). The GEMM by the
    // FiLM pair's register blocks where they run (8 pixels by 48 taps, the weight in L1): 0.04-0.13
    // ms less than oneDNN's sgemm in alternated forwards (of 1.44-1.66).
    // Output (oy, ox) = bias + the taps (ky, kx) of the inputs (iy, ix) with oy = 2 iy - 1 + ky,
    // ox = 2 ix - 1 + kx: even oy reads ky 1 of row oy/2 and ky 3 of the row above, odd oy ky 2 and
    // ky 0 of the row below; likewise for the columns.
    const int64_t Ho = 2 * H, Wo = 2 * W;
    const auto f32 = x.options().dtype(at::kFloat);
    at::Tensor y = at::empty({N, O, Ho, Wo}, f32.memory_format(at::MemoryFormat::Contiguous));
    float* yp = y.data_ptr<float>();
    const at::Tensor b = bias.defined() ? bias.contiguous() : at::zeros({O}, f32);
    const float* bp = b.data_ptr<float>();
    const float* wp = wm.data_ptr<float>(); // [C][T]
    const std::vector<float> zeros(static_cast<size_t>(T), 0.0f);
    at::parallel_for(0, N * H, 1, [&](int64_t r0, int64_t r1) {
        std::vector<float> rows(static_cast<size_t>(W * C)), ring(static_cast<size_t>(3 * T * W)), even(W), odd(W);
        std::vector<E> narrow(std::is_same_v<E, float> ? 0 : static_cast<size_t>(W * C));
        int64_t held[3] = {-1, -1, -1}; // the input row (n * H + iy) each ring slot holds
        auto taps_of = [&](int64_t r) -> const float* {
            float* slot = ring.data() + r % 3 * T * W;
            if (held[r % 3] != r) {
                if constexpr (std::is_same_v<E, float>) {
                    in.rows(r * W, W, rows.data());
                } else {
                    in.rows(r * W, W, narrow.data());
                    for (size_t i = 0; i < narrow.size(); ++i)
                        rows[i] = load(narrow.data(), static_cast<int64_t>(i));
                }
                if (!blocks_gemm(rows.data(), C, W, wp, T, C, zeros.data(), slot, T, T))
                    onednn::gemm(false, false, W, T, C, rows.data(), C, wp, T, slot);
                held[r % 3] = r;
            }
            return slot;
        };
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t n = r / H, m = r % H;
            const float* above = m > 0 ? taps_of(r - 1) : nullptr;
            const float* here = taps_of(r);
            const float* below = m + 1 < H ? taps_of(r + 1) : nullptr;
            for (int64_t o = 0; o < O; ++o)
                for (int half = 0; half < 2; ++half) {
                    // even oy = 2m: (here, ky 1), (above, ky 3); odd: (here, ky 2), (below, ky 0)
                    const std::pair<const float*, int64_t> pairs[2] = {
                        {here, half == 0 ? 1 : 2}, {half == 0 ? above : below, half == 0 ? 3 : 0}};
                    std::fill(even.begin(), even.end(), bp[o]);
                    std::fill(odd.begin(), odd.end(), bp[o]);
                    for (const auto& [t, ky] : pairs)
                        if (t)
                            add_output_taps(t + (o * 16 + ky * 4), W, T, even.data(), odd.data());
                    tanh_interleave(even.data(), odd.data(), W, yp + ((n * O + o) * Ho + 2 * m + half) * Wo);
                }
        }
    });
    return y;
}
} // namespace

at::Tensor unet_output(const at::Tensor& skip, const at::Tensor& h, const at::Tensor& weight, const at::Tensor& bias)
{
    const auto is = [](const at::Tensor& t, at::ScalarType type) { return t.scalar_type() == type && t.is_cpu(); };
    const bool fp32 = is(skip, at::kFloat) && is(h, at::kFloat), bf16 = is(skip, at::kBFloat16) && is(h, at::kBFloat16);
    if (skip.dim() != 4 || h.dim() != 4 || skip.size(0) != h.size(0) || skip.size(2) != h.size(2) ||
        skip.size(3) != h.size(3) || !(fp32 || bf16))
        throw Error("unet_output: float32 or bf16 CPU maps of one size expected");
    return fp32 ? unet_output_typed<float>(skip, h, weight, bias) : unet_output_typed<uint16_t>(skip, h, weight, bias);
}

namespace {
// One output row: acc[o][x] += taps at row y + ky, pixel x + kx, channel o*k*k + ky*k + kx, for
// every ky, kx. x innermost: its iterations are independent (a sum over kx innermost was one long
// dependency chain, 4x slower), and the rows read sit in L2.
BFT_VECTOR_CLONES void sum_row(const float* __restrict rows, int64_t row_stride, int64_t t, int64_t o_count, int64_t k,
                               int64_t width, float* __restrict acc)
{
    for (int64_t ky = 0; ky < k; ++ky)
        for (int64_t kx = 0; kx < k; ++kx)
            for (int64_t o = 0; o < o_count; ++o) {
                const float* tap = rows + ky * row_stride + kx * t + o * k * k + ky * k + kx;
                float* a = acc + o * width;
                for (int64_t x = 0; x < width; ++x)
                    a[x] += tap[x * t];
            }
}
} // namespace

at::Tensor tap_sum(const at::Tensor& taps, int64_t out_channels, int64_t k, const at::Tensor& bias)
{
    RECORD_FUNCTION("bft::tap_sum", std::vector<c10::IValue>());
    const int64_t n = taps.size(0), t = taps.size(1), hp = taps.size(2), wp = taps.size(3);
    if (taps.scalar_type() != at::kFloat || t != out_channels * k * k || hp < k || wp < k ||
        !taps.is_contiguous(at::MemoryFormat::ChannelsLast))
        throw Error("tap_sum: unsupported input");
    const int64_t h = hp - k + 1, w = wp - k + 1;
    at::Tensor out = at::empty({n, out_channels, h, w}, taps.options().memory_format(at::MemoryFormat::Contiguous));
    const at::Tensor b = bias.defined() ? bias.to(at::kFloat).contiguous() : at::zeros({out_channels}, taps.options());
    const float* src = taps.data_ptr<float>();
    const float* bp = b.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    at::parallel_for(0, n * h, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> acc(static_cast<size_t>(out_channels * w));
        for (int64_t r = begin; r < end; ++r) {
            const int64_t img = r / h, y = r % h;
            for (int64_t o = 0; o < out_channels; ++o)
                std::fill(acc.begin() + o * w, acc.begin() + (o + 1) * w, bp[o]);
            sum_row(src + (img * hp + y) * wp * t, wp * t, t, out_channels, k, w, acc.data());
            for (int64_t o = 0; o < out_channels; ++o)
                std::copy(acc.begin() + o * w, acc.begin() + (o + 1) * w, dst + ((img * out_channels + o) * h + y) * w);
        }
    });
    return out;
}

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
namespace {
// conv_few_outputs's inner block: P adjacent output pixels of one row, O outputs each, over the k
// taps of one kernel row and C channels, in P*O vector accumulators (AVX-512: up to 24 of its 32
// registers; AVX2: up to 12 of 16). `in` points at the block's first input pixel in input row
// y + ky, `w` at that kernel row's weights. The accumulators start at zero (first) or from `partial`
// and go back there, unless `last`: then sums[p*O + o] receives the totals. One kernel row at a
// time, so that what a run of blocks reads stays in L1 (that row's weights, 5 KiB for 3 x 64 x 7,
// and a sliding window of input pixels); all k rows at once needed the whole 38 KiB kernel beside
// 7 rows of pixels, which spilled out of L1 (13.6 ms for the pose ResNet's last layer, against 6).
// Each tap and channel vector loads O weight vectors and P input vectors for P*O FMAs.
// GCC 12's _mm512_reduce_add_ps passes an undefined vector to a masked extract and warns about it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <int P, int O>
__attribute__((target("avx512f"))) void few_block_avx512(const float* in, int64_t c, int64_t k, const float* w,
                                                         float* partial, bool first, bool last, float* sums)
{
    __m512 acc[P][O];
#pragma GCC unroll 24
    for (int i = 0; i < P * O; ++i)
        acc[i / O][i % O] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(partial + i * 16);
    const int64_t tap_stride = k * k * c; // from one output's weights to the next's
    for (int64_t kx = 0; kx < k; ++kx) {
        const float* xr = in + kx * c;
        const float* wr = w + kx * c;
        for (int64_t cv = 0; cv < c; cv += 16) {
            __m512 wv[O];
#pragma GCC unroll 4
            for (int o = 0; o < O; ++o)
                wv[o] = _mm512_loadu_ps(wr + o * tap_stride + cv);
#pragma GCC unroll 24
            for (int p = 0; p < P; ++p) {
                __m512 xv = _mm512_loadu_ps(xr + p * c + cv);
                // In a register: GCC would fold the load into each of the O FMAs, O loads of one vector.
                __asm__("" : "+v"(xv));
#pragma GCC unroll 4
                for (int o = 0; o < O; ++o)
                    acc[p][o] = _mm512_fmadd_ps(xv, wv[o], acc[p][o]);
            }
        }
    }
    if (last) {
#pragma GCC unroll 24
        for (int i = 0; i < P * O; ++i)
            sums[i] = _mm512_reduce_add_ps(acc[i / O][i % O]);
    } else {
#pragma GCC unroll 24
        for (int i = 0; i < P * O; ++i)
            _mm512_storeu_ps(partial + i * 16, acc[i / O][i % O]);
    }
}
#pragma GCC diagnostic pop

template <int P, int O>
__attribute__((target("avx2,fma"))) void few_block_avx2(const float* in, int64_t c, int64_t k, const float* w,
                                                        float* partial, bool first, bool last, float* sums)
{
    __m256 acc[P][O];
#pragma GCC unroll 12
    for (int i = 0; i < P * O; ++i)
        acc[i / O][i % O] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(partial + i * 8);
    const int64_t tap_stride = k * k * c;
    for (int64_t kx = 0; kx < k; ++kx) {
        const float* xr = in + kx * c;
        const float* wr = w + kx * c;
        for (int64_t cv = 0; cv < c; cv += 8) {
            __m256 wv[O];
#pragma GCC unroll 4
            for (int o = 0; o < O; ++o)
                wv[o] = _mm256_loadu_ps(wr + o * tap_stride + cv);
#pragma GCC unroll 12
            for (int p = 0; p < P; ++p) {
                __m256 xv = _mm256_loadu_ps(xr + p * c + cv);
                __asm__("" : "+v"(xv));
#pragma GCC unroll 4
                for (int o = 0; o < O; ++o)
                    acc[p][o] = _mm256_fmadd_ps(xv, wv[o], acc[p][o]);
            }
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < P * O; ++i) {
        const __m256 v = acc[i / O][i % O];
        if (!last) {
            _mm256_storeu_ps(partial + i * 8, v);
            continue;
        }
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        sums[i] = _mm_cvtss_f32(s);
    }
}

using FewBlock = void (*)(const float*, int64_t, int64_t, const float*, float*, bool, bool, float*);

// The widest block that fits the registers for O outputs, and its one-pixel version for row ends.
struct FewKernels {
    int lanes = 0, pixels = 0;
    FewBlock block = nullptr, single = nullptr;
};

template <int P, int O>
FewKernels few_kernels(bool avx512)
{
    if (avx512)
        return {16, P, &few_block_avx512<P, O>, &few_block_avx512<1, O>};
    return {8, P, &few_block_avx2<P, O>, &few_block_avx2<1, O>};
}

FewKernels pick_few_kernels(int64_t o, bool avx2_only)
{
    const bool avx512 = !avx2_only && __builtin_cpu_supports("avx512f");
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx512) {
        switch (o) {
        case 1: return few_kernels<16, 1>(true);
        case 2: return few_kernels<12, 2>(true);
        case 3: return few_kernels<8, 3>(true);
        case 4: return few_kernels<6, 4>(true);
        default: return {};
        }
    }
    if (avx2) {
        switch (o) {
        case 1: return few_kernels<8, 1>(false);
        case 2: return few_kernels<6, 2>(false);
        case 3: return few_kernels<4, 3>(false);
        case 4: return few_kernels<3, 4>(false);
        default: return {};
        }
    }
    return {};
}
} // namespace

at::Tensor conv_few_outputs(const at::Tensor& x, const at::Tensor& tap_weight, int64_t k, const at::Tensor& bias,
                            bool avx2_only, int64_t reflect)
{
    if (x.dim() != 4 || x.scalar_type() != at::kFloat || !x.device().is_cpu() || k < 1 || tap_weight.dim() < 2 ||
        tap_weight.scalar_type() != at::kFloat || tap_weight.size(0) % (k * k) != 0 || tap_weight.size(1) != x.size(1) ||
        reflect < 0 || reflect >= x.size(2) || reflect >= x.size(3))
        return {};
    const int64_t n = x.size(0), c = x.size(1), h_in = x.size(2), w_in = x.size(3);
    const int64_t hp = h_in + 2 * reflect, wp = w_in + 2 * reflect, o = tap_weight.size(0) / (k * k);
    const FewKernels kernels = pick_few_kernels(o, avx2_only);
    if (!kernels.block || c % kernels.lanes != 0 || hp < k || wp < k)
        return {};
    RECORD_FUNCTION("bft::conv_few_outputs", std::vector<c10::IValue>());
    const at::Tensor src = x.contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor w = tap_weight.reshape({o * k * k, c}).contiguous();
    const at::Tensor b = bias.defined() ? bias.to(at::kFloat).contiguous() : at::zeros({o}, x.options());
    const int64_t h = hp - k + 1, wo = wp - k + 1;
    at::Tensor out = at::empty({n, o, h, wo}, x.options().memory_format(at::MemoryFormat::Contiguous));
    const float* sp = src.data_ptr<float>();
    const float* wptr = w.data_ptr<float>();
    const float* bp = b.data_ptr<float>();
    float* dp = out.data_ptr<float>();
    const int64_t row_stride = wp * c;
    const int64_t blocks = wo / kernels.pixels, block_floats = kernels.pixels * o * kernels.lanes;
    at::parallel_for(0, n * h, 1, [&](int64_t begin, int64_t end) {
        float sums[24];
        std::vector<float> partial(static_cast<size_t>(std::max<int64_t>(blocks, 1) * block_floats));
        // Reflected: the k padded rows an output row reads, in a ring of the thread's own (row i of
        // the padded image in slot i % k), each made once as the rows slide down.
        std::vector<float> ring(reflect > 0 ? static_cast<size_t>(k * row_stride) : 0);
        std::vector<int64_t> held(reflect > 0 ? static_cast<size_t>(k) : 0, -1); // padded row (over all images) per slot
        std::vector<const float*> rows(static_cast<size_t>(k));
        for (int64_t r = begin; r < end; ++r) {
            const int64_t img = r / h, y = r % h;
            for (int64_t ky = 0; ky < k; ++ky) {
                if (reflect == 0) {
                    rows[ky] = sp + (img * hp + y + ky) * row_stride;
                    continue;
                }
                const int64_t padded = y + ky, slot = padded % k;
                float* dst = ring.data() + slot * row_stride;
                if (held[slot] != img * hp + padded) {
                    const float* src = sp + (img * h_in + mirror(padded - reflect, h_in)) * w_in * c;
                    reflect_row(reinterpret_cast<const char*>(src), reinterpret_cast<char*>(dst), w_in, reflect,
                                c * static_cast<int64_t>(sizeof(float)));
                    held[slot] = img * hp + padded;
                }
                rows[ky] = dst;
            }
            float* row = dp + img * o * h * wo + y * wo; // output oc's row at row + oc * h * wo
            auto put = [&](int64_t x0, int64_t pixels) {
                for (int64_t p = 0; p < pixels; ++p)
                    for (int64_t oc = 0; oc < o; ++oc)
                        row[oc * h * wo + x0 + p] = sums[p * o + oc] + bp[oc];
            };
            // Whole blocks kernel row by kernel row, their sums parked in `partial` in between.
            for (int64_t ky = 0; ky < k; ++ky)
                for (int64_t b = 0; b < blocks; ++b) {
                    const int64_t x0 = b * kernels.pixels;
                    kernels.block(rows[ky] + x0 * c, c, k, wptr + ky * k * c, partial.data() + b * block_floats,
                                  ky == 0, ky == k - 1, sums);
                    if (ky == k - 1)
                        put(x0, kernels.pixels);
                }
            // The row's last few pixels one by one.
            for (int64_t x0 = blocks * kernels.pixels; x0 < wo; ++x0) {
                for (int64_t ky = 0; ky < k; ++ky)
                    kernels.single(rows[ky] + x0 * c, c, k, wptr + ky * k * c, partial.data(), ky == 0,
                                   ky == k - 1, sums);
                put(x0, 1);
            }
        }
    });
    return out;
}
#else
at::Tensor conv_few_outputs(const at::Tensor&, const at::Tensor&, int64_t, const at::Tensor&, bool, int64_t)
{
    return {};
}
#endif

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
namespace {
constexpr int64_t kSmallMapMaxPositions = 16;

// One block of 16 output channels at M positions: acc[m] = bias + sum over the active taps t and
// channels c of rows[t][c][m] * w[tap t][c][16]. The weights stream once, prefetched into L2 8 KiB
// ahead and into L1 1 KiB ahead: a 16 MB layer at 16 positions from DRAM at 11 GB/s without
// prefetching, 17 with 4 KiB into L1 alone, 19 so (this 2-core guest's DRAM: 19); from L3, 21 -> 25.
// 16 weights as float32: stored so, or as bf16 (the upper halves of float32: shifted into place).
__attribute__((target("avx512f"))) inline __m512 load_weights16(const float* w)
{
    return _mm512_loadu_ps(w);
}
__attribute__((target("avx512f"))) inline __m512 load_weights16(const uint16_t* w)
{
    const __m256i half = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    // maskz: the plain forms' undefined sources trip GCC 12's -Wmaybe-uninitialized.
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xffff, _mm512_maskz_cvtepu16_epi32(0xffff, half), 16));
}

// W: float, or uint16_t for bf16 weights (the fast preview: half the bytes to stream, the sums
// still in float32). The prefetch distances stay the same in bytes.
template <int M, typename W>
__attribute__((target("avx512f"))) void small_map_block(const float* rows, const int64_t* taps, int64_t active,
                                                        int64_t c, const W* w, const float* bias, int64_t real,
                                                        float* const* out)
{
    constexpr int64_t l2_ahead = 8192 / sizeof(W), l1_ahead = 1024 / sizeof(W);
    __m512 acc[M];
    const __m512 b = _mm512_loadu_ps(bias);
#pragma GCC unroll 16
    for (int m = 0; m < M; ++m)
        acc[m] = b;
    for (int64_t ta = 0; ta < active; ++ta) {
        const W* wt = w + taps[ta] * c * 16;
        const float* r = rows + ta * c * M;
        for (int64_t ch = 0; ch < c; ++ch) {
            const __m512 wv = load_weights16(wt + ch * 16);
            if (sizeof(W) == 4 || (ch & 1) == 0) { // once a line
                _mm_prefetch(reinterpret_cast<const char*>(wt + ch * 16 + l2_ahead), _MM_HINT_T1);
                _mm_prefetch(reinterpret_cast<const char*>(wt + ch * 16 + l1_ahead), _MM_HINT_T0);
            }
#pragma GCC unroll 16
            for (int m = 0; m < M; ++m)
                acc[m] = _mm512_fmadd_ps(_mm512_set1_ps(r[ch * M + m]), wv, acc[m]);
        }
    }
    for (int m = 0; m < M && m < real; ++m)
        _mm512_storeu_ps(out[m], acc[m]);
}

template <typename W>
using SmallMapBlock = void (*)(const float*, const int64_t*, int64_t, int64_t, const W*, const float*, int64_t,
                               float* const*);

// The block for m positions (a power of two from 1 to 16), and that width.
template <typename W>
std::pair<SmallMapBlock<W>, int64_t> small_map_kernel(int64_t m)
{
    if (m <= 1)
        return {&small_map_block<1, W>, 1};
    if (m <= 2)
        return {&small_map_block<2, W>, 2};
    if (m <= 4)
        return {&small_map_block<4, W>, 4};
    if (m <= 8)
        return {&small_map_block<8, W>, 8};
    return {&small_map_block<16, W>, 16};
}

// P rows by V vectors of 16 columns, all sums in registers: out[p][col + 16v + l] = (bias[col + 16v +
// l], or where bias is null out's own sums so far) + sum over kk < k of rows[p][ch0 + kk] *
// w[v * wstride + kk * kstride + l]; rectified where `relu`. Rows past `real` repeat the last and
// are not stored; `pf`: lines prefetched into L2 from there (the caller's next weights), one per kk,
// or with `pf_shift` 1 one per two kk (half the lines at half the rate: spread over more blocks).
// The wider small maps (weights [O/16][taps][C][16]: wstride taps C 16, kstride 16), where a block
// of kWideChannels channels stays in L1 while every block of positions passes over it; Winograd's
// own products (rows_times_packed: [k][64]); FiLM's bottleneck pair (pair_block: plain weights).
template <int P, int V>
__attribute__((target("avx512f"))) void rows_block(const float* const* rows, int64_t real, int64_t ch0,
                                                   const float* w, int64_t wstride, int64_t k, const float* bias,
                                                   float* const* out, int64_t col, const float* pf,
                                                   int64_t kstride = 16, bool relu = false, int pf_shift = 0)
{
    const int64_t pf_mask = (int64_t{1} << pf_shift) - 1;
    __m512 acc[P][V];
    const float* r[P];
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
        const int64_t q = p < real ? p : real - 1;
        r[p] = rows[q] + ch0;
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v)
            acc[p][v] = _mm512_loadu_ps(bias ? bias + col + v * 16 : out[q] + col + v * 16);
    }
    for (int64_t kk = 0; kk < k; ++kk) {
        __m512 wv[V];
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) {
            wv[v] = _mm512_loadu_ps(w + v * wstride + kk * kstride);
            // In a register: GCC otherwise folds the load into each row's FMA, P loads where one does
            // (load-bound: 226 -> 262 GFLOP/s for FiLM's first layer, pose level 1).
            __asm__("" : "+v"(wv[v]));
        }
        if (pf && (kk & pf_mask) == pf_mask)
            _mm_prefetch(reinterpret_cast<const char*>(pf + (kk >> pf_shift) * 16), _MM_HINT_T1);
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
            const __m512 x = _mm512_set1_ps(r[p][kk]);
#pragma GCC unroll 8
            for (int v = 0; v < V; ++v)
                acc[p][v] = _mm512_fmadd_ps(x, wv[v], acc[p][v]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p)
        if (p < real) {
#pragma GCC unroll 8
            for (int v = 0; v < V; ++v)
                // max(0, x) returns x where x is NaN (the second operand), as oneDNN's ReLU keeps it;
                // maskz: _mm512_max_ps's undefined source trips GCC 12's -Wmaybe-uninitialized.
                _mm512_storeu_ps(out[p] + col + v * 16, relu ? _mm512_maskz_max_ps(0xffff, zero, acc[p][v]) : acc[p][v]);
        }
}

constexpr int64_t kSmallMapWideMaxPositions = 64;
constexpr int64_t kWideChannels = 128;

// small_map_run for 17 to 64 positions: no gathered rows (each position reads its input pixels in
// place, padding from a row of zeros); per thread, groups of 4 vectors of output channels, each
// over its taps and channels in order, so that each vector's weights stream from memory once.
template <typename Pixel>
void small_map_wide_run(int64_t positions, int64_t taps, int64_t c, int64_t o, const float* w, const float* bias,
                        const std::vector<float*>& out_in_order, Pixel&& pixel)
{
    const std::vector<float> zeros(static_cast<size_t>(c), 0.0f);
    // The positions reordered so that those reading padding at the same taps sit together, in blocks
    // that skip those taps (a block's sums over padding are zeros): the interior first, then each
    // set of taps read as padding (a border), the largest first. The texture U-Net's 8x8 maps,
    // 4x4 taps: 12% of their products read padding, 9% go (1.85 -> 1.77 ms a layer in a forward,
    // 1.68 -> 1.58 with the weights in cache).
    std::vector<int64_t> order(static_cast<size_t>(positions));
    std::iota(order.begin(), order.end(), 0);
    if (taps <= 64) {
        std::vector<uint64_t> padded(static_cast<size_t>(positions), 0);
        std::map<uint64_t, int64_t> count;
        for (int64_t m = 0; m < positions; ++m) {
            for (int64_t t = 0; t < taps; ++t)
                if (!pixel(m, t))
                    padded[static_cast<size_t>(m)] |= uint64_t{1} << t;
            ++count[padded[static_cast<size_t>(m)]];
        }
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
            const uint64_t pa = padded[static_cast<size_t>(a)], pb = padded[static_cast<size_t>(b)];
            if ((pa == 0) != (pb == 0))
                return pa == 0;
            const int64_t ca = count[pa], cb = count[pb];
            return ca != cb ? ca > cb : pa > pb;
        });
    }
    std::vector<float*> out(static_cast<size_t>(positions));
    for (int64_t m = 0; m < positions; ++m)
        out[static_cast<size_t>(m)] = out_in_order[static_cast<size_t>(order[static_cast<size_t>(m)])];
    std::vector<int64_t> active;
    std::vector<const float*> rows; // [active tap][position, reordered]
    for (int64_t t = 0; t < taps; ++t) {
        std::vector<const float*> at_tap(static_cast<size_t>(positions));
        bool any = false;
        for (int64_t m = 0; m < positions; ++m) {
            const float* src = pixel(order[static_cast<size_t>(m)], t);
            any = any || src;
            at_tap[static_cast<size_t>(m)] = src ? src : zeros.data();
        }
        if (any) {
            active.push_back(t);
            rows.insert(rows.end(), at_tap.begin(), at_tap.end());
        }
    }
    const int64_t vectors = o / 16, groups = (vectors + 3) / 4, wstride = taps * c * 16;
    if (active.empty()) { // every position reads padding: the bias
        for (int64_t m = 0; m < positions; ++m)
            std::copy_n(bias, o, out[static_cast<size_t>(m)]);
        return;
    }
    // Per block of 6 rows (4 vectors) or 8 (fewer), whether it reads only padding at each active tap,
    // and the fewest blocks any tap runs (enough for the prefetches at half the rate?).
    struct Skips {
        std::vector<char> skip;
        int64_t fewest;
    };
    auto skipped = [&](int64_t p_rows) {
        const int64_t row_blocks = (positions + p_rows - 1) / p_rows;
        Skips s{std::vector<char>(active.size() * static_cast<size_t>(row_blocks), 1), row_blocks};
        for (size_t ta = 0; ta < active.size(); ++ta) {
            char* tap = s.skip.data() + ta * static_cast<size_t>(row_blocks);
            for (int64_t m = 0; m < positions; ++m)
                if (rows[ta * static_cast<size_t>(positions) + static_cast<size_t>(m)] != zeros.data())
                    tap[m / p_rows] = 0;
            s.fewest = std::min<int64_t>(s.fewest, row_blocks - std::count(tap, tap + row_blocks, 1));
        }
        return s;
    };
    const Skips skip6 = skipped(6), skip8 = skipped(8);
    at::parallel_for(0, groups, 1, [&](int64_t begin, int64_t end) {
        for (int64_t g = begin; g < end; ++g) {
            const int64_t v = std::min<int64_t>(4, vectors - g * 4), col = g * 64;
            const float* wg = w + g * 4 * wstride;
            const int64_t p_rows = v == 4 ? 6 : 8, row_blocks = (positions + p_rows - 1) / p_rows;
            const Skips& skips = v == 4 ? skip6 : skip8;
            const std::vector<char>& skip = skips.skip;
            const int pf_shift = skips.fewest >= 2 * v ? 1 : 0;
            for (size_t ta = 0; ta < active.size(); ++ta)
                for (int64_t ch0 = 0; ch0 < c; ch0 += kWideChannels) {
                    const int64_t k = std::min(kWideChannels, c - ch0);
                    const float* wb = wg + (active[ta] * c + ch0) * 16;
                    // The next block: the next channels of this tap, or the next active tap's first.
                    const float* next = ch0 + k < c ? wb + k * 16
                                        : ta + 1 < active.size() ? wg + active[ta + 1] * c * 16
                                                                 : nullptr;
                    const bool first = ta == 0 && ch0 == 0;
                    const float* const* tap_rows = rows.data() + ta * static_cast<size_t>(positions);
                    for (int64_t rb = 0, ran = 0; rb < row_blocks; ++rb) {
                        const int64_t m0 = rb * p_rows, real = std::min(p_rows, positions - m0);
                        const float* b = first ? bias : nullptr;
                        float* const* dst = out.data() + m0;
                        const float* const* src = tap_rows + m0;
                        // Padding only: nothing to add, but the first tap's blocks start the sums
                        // (from the bias, over no channels).
                        const bool none = skip[ta * static_cast<size_t>(row_blocks) + static_cast<size_t>(rb)];
                        if (none && !first)
                            continue;
                        // The n-th block that runs (n < v) prefetches vector n's lines of the next
                        // block, or where blocks are enough, n < 2v half of vector n / 2's at half
                        // the rate (rows_times_packed: a burst stalls the loads).
                        const float* pf = nullptr;
                        if (next && !none && ran < (v << pf_shift))
                            pf = next + (ran >> pf_shift) * wstride + (ran & pf_shift) * (k >> 1) * 16;
                        ran += none ? 0 : 1;
                        const int64_t kk = none ? 0 : k;
                        switch (v) {
                        case 4:
                            rows_block<6, 4>(src, real, ch0, wb, wstride, kk, b, dst, col, pf, 16, false, pf_shift);
                            break;
                        case 3:
                            rows_block<8, 3>(src, real, ch0, wb, wstride, kk, b, dst, col, pf, 16, false, pf_shift);
                            break;
                        case 2:
                            rows_block<8, 2>(src, real, ch0, wb, wstride, kk, b, dst, col, pf, 16, false, pf_shift);
                            break;
                        default:
                            rows_block<8, 1>(src, real, ch0, wb, wstride, kk, b, dst, col, pf, 16, false, pf_shift);
                        }
                    }
                }
        }
    });
}

} // namespace

bool rows_times_packed_fits()
{
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    return avx512;
}

void rows_times_packed(const float* x, int64_t ldx, int64_t rows, int64_t k, const float* w, float* y, int64_t ldy,
                       const float* after)
{
    alignas(64) static const float zero[64] = {};
    const float* xr[6];
    float* yr[6];
    for (int64_t ch0 = 0; ch0 < k; ch0 += kWideChannels) {
        const int64_t kc = std::min(kWideChannels, k - ch0);
        const float* wb = w + ch0 * 64;
        // The next block's lines (the next channels, or the caller's next weights), a quarter each
        // from the first four blocks of rows, or where there are 8 blocks of rows, an eighth each
        // at half the rate: a burst of prefetches (most likely) fills the line fill buffers and stalls
        // the loads behind them (the Xeon, 64 rows over 37.7 MB of weights from memory: 4.45 ->
        // 4.05 ms).
        const float* next = ch0 + kc < k ? wb + kc * 64 : after;
        const int64_t next_kc = ch0 + kc < k ? std::min(kWideChannels, k - ch0 - kc) : kWideChannels;
        const int pf_shift = rows > 42 ? 1 : 0, pf_blocks = 4 << pf_shift;
        for (int64_t m0 = 0, rb = 0; m0 < rows; m0 += 6, ++rb) {
            const int64_t real = std::min<int64_t>(6, rows - m0);
            for (int64_t p = 0; p < real; ++p) {
                xr[p] = x + (m0 + p) * ldx;
                yr[p] = y + (m0 + p) * ldy;
            }
            const float* pf = next && rb < pf_blocks ? next + rb * (next_kc * 16 >> pf_shift) : nullptr;
            rows_block<6, 4>(xr, real, ch0, wb, 16, kc, ch0 == 0 ? zero : nullptr, yr, 0, pf, 64, false, pf_shift);
        }
    }
}

namespace {
// One layer (or phase): `pixel(m, t)` gives the channels-last input pixel position m reads at tap t
// (nullptr: padding), `out[m]` where its O outputs go. Rows of the taps some position reaches are
// gathered ([tap][c][position]), the others skipped, weights and all. w: [O/16][taps][C][16];
// bf16 weights (W uint16_t) only up to kSmallMapMaxPositions.
template <typename W, typename Pixel>
void small_map_run(int64_t positions, int64_t taps, int64_t c, int64_t o, const W* w, const float* bias,
                   const std::vector<float*>& out, Pixel&& pixel)
{
    if constexpr (std::is_same_v<W, float>) {
        if (positions > kSmallMapMaxPositions) {
            small_map_wide_run(positions, taps, c, o, w, bias, out, pixel);
            return;
        }
    }
    const auto [kernel, width] = small_map_kernel<W>(positions);
    std::vector<int64_t> active;
    for (int64_t t = 0; t < taps; ++t)
        for (int64_t m = 0; m < positions; ++m)
            if (pixel(m, t)) {
                active.push_back(t);
                break;
            }
    std::vector<float> rows(static_cast<size_t>(active.size() * c * width), 0.0f);
    for (size_t ta = 0; ta < active.size(); ++ta)
        for (int64_t m = 0; m < positions; ++m)
            if (const float* src = pixel(m, active[ta])) {
                float* dst = rows.data() + ta * c * width + m;
                for (int64_t ch = 0; ch < c; ++ch)
                    dst[ch * width] = src[ch];
            }
    at::parallel_for(0, o / 16, 1, [&](int64_t begin, int64_t end) {
        std::vector<float*> dst(static_cast<size_t>(positions));
        for (int64_t ob = begin; ob < end; ++ob) {
            for (int64_t m = 0; m < positions; ++m)
                dst[static_cast<size_t>(m)] = out[static_cast<size_t>(m)] + ob * 16;
            kernel(rows.data(), active.data(), static_cast<int64_t>(active.size()), c, w + ob * taps * c * 16,
                   bias + ob * 16, positions, dst.data());
        }
    });
}

at::Tensor bias_or_zeros(const at::Tensor& bias, int64_t o)
{
    return bias.defined() ? bias.to(at::kFloat).contiguous() : at::zeros({o}, at::kFloat);
}
} // namespace

bool small_map_fits(int64_t positions, int64_t in_channels, int64_t out_channels, bool bf16_weights)
{
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    return avx512 && positions >= 1 &&
           positions <= (bf16_weights ? kSmallMapMaxPositions : kSmallMapWideMaxPositions) && out_channels % 16 == 0 &&
           in_channels >= 1;
}

at::Tensor pack_small_map_conv(const at::Tensor& weight, bool bf16_weights)
{
    // [O, C, kh, kw] -> [O/16][kh*kw][C][16]
    const int64_t o = weight.size(0), c = weight.size(1), taps = weight.size(2) * weight.size(3);
    return weight.detach()
        .to(bf16_weights ? at::kBFloat16 : at::kFloat)
        .reshape({o / 16, 16, c, taps})
        .permute({0, 3, 2, 1})
        .contiguous();
}

bool small_map_conv_into(const at::Tensor& x_any, const at::Tensor& packed, int64_t kh, int64_t kw, int64_t stride,
                         int64_t pad_top, int64_t pad_left, int64_t out_rows, int64_t out_cols, const at::Tensor& bias,
                         const at::Tensor& y, int64_t row0, int64_t col0, int64_t step)
{
    const int64_t n = x_any.size(0), c = x_any.size(1), h = x_any.size(2), w = x_any.size(3), o = packed.size(0) * 16;
    const bool bf16_weights = packed.scalar_type() == at::kBFloat16;
    if (x_any.scalar_type() != at::kFloat || packed.dim() != 4 || packed.size(1) != kh * kw || packed.size(2) != c ||
        (!bf16_weights && packed.scalar_type() != at::kFloat) || !packed.is_contiguous() || out_rows < 1 ||
        out_cols < 1 || stride < 1 || step < 1 || row0 < 0 || col0 < 0 || !x_any.is_cpu() ||
        !small_map_fits(n * out_rows * out_cols, c, o, bf16_weights) || y.scalar_type() != at::kFloat || !y.is_cpu() ||
        y.dim() != 4 || y.size(0) != n || y.size(1) != o || !y.is_contiguous(at::MemoryFormat::ChannelsLast) ||
        row0 + (out_rows - 1) * step >= y.size(2) || col0 + (out_cols - 1) * step >= y.size(3))
        return false;
    RECORD_FUNCTION("bft::small_map_conv", std::vector<c10::IValue>());
    const at::Tensor x = x_any.contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor b = bias_or_zeros(bias, o);
    const float* xp = x.data_ptr<float>();
    const int64_t yh = y.size(2), yw = y.size(3);
    std::vector<float*> out;
    for (int64_t m = 0; m < n * out_rows * out_cols; ++m) {
        const int64_t img = m / (out_rows * out_cols), r = (m / out_cols) % out_rows, col = m % out_cols;
        out.push_back(y.data_ptr<float>() + ((img * yh + row0 + r * step) * yw + col0 + col * step) * o);
    }
    auto pixel = [&](int64_t m, int64_t t) -> const float* {
        const int64_t img = m / (out_rows * out_cols), r = (m / out_cols) % out_rows, col = m % out_cols;
        const int64_t iy = r * stride - pad_top + t / kw, ix = col * stride - pad_left + t % kw;
        return iy >= 0 && iy < h && ix >= 0 && ix < w ? xp + ((img * h + iy) * w + ix) * c : nullptr;
    };
    if (bf16_weights)
        small_map_run(n * out_rows * out_cols, kh * kw, c, o, reinterpret_cast<const uint16_t*>(packed.data_ptr()),
                      b.data_ptr<float>(), out, pixel);
    else
        small_map_run(n * out_rows * out_cols, kh * kw, c, o, packed.data_ptr<float>(), b.data_ptr<float>(), out, pixel);
    return true;
}

at::Tensor small_map_conv(const at::Tensor& x, const at::Tensor& packed, int64_t k, int64_t stride, int64_t padding,
                          const at::Tensor& bias)
{
    const int64_t ho = (x.size(2) + 2 * padding - k) / stride + 1, wo = (x.size(3) + 2 * padding - k) / stride + 1;
    if (ho < 1 || wo < 1 || x.scalar_type() != at::kFloat || packed.dim() != 4 ||
        !small_map_fits(x.size(0) * ho * wo, x.size(1), packed.size(0) * 16, packed.scalar_type() == at::kBFloat16))
        return {};
    at::Tensor y =
        at::empty({x.size(0), packed.size(0) * 16, ho, wo}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    return small_map_conv_into(x, packed, k, k, stride, padding, padding, ho, wo, bias, y, 0, 0, 1) ? y : at::Tensor();
}
#else
bool small_map_fits(int64_t, int64_t, int64_t, bool)
{
    return false;
}
bool rows_times_packed_fits()
{
    return false;
}
void rows_times_packed(const float*, int64_t, int64_t, int64_t, const float*, float*, int64_t, const float*)
{
    throw Error("rows_times_packed: not built for this CPU");
}
at::Tensor pack_small_map_conv(const at::Tensor&, bool)
{
    return {};
}
bool small_map_conv_into(const at::Tensor&, const at::Tensor&, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                         int64_t, const at::Tensor&, const at::Tensor&, int64_t, int64_t, int64_t)
{
    return false;
}
at::Tensor small_map_conv(const at::Tensor&, const at::Tensor&, int64_t, int64_t, int64_t, const at::Tensor&)
{
    return {};
}
#endif

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
namespace {
// out[p][16v + l] = bias[16v + l] + sum over kk < k of a[p * lda + kk] * w[kk * ldw + 16v + l], for
// P rows of which the first `real` exist (the others repeat the last and are not stored): rows_block
// over a's rows.
template <int P, int V>
inline void pair_block(const float* a, int64_t lda, int64_t real, const float* w, int64_t ldw, int64_t k,
                       const float* bias, float* out, int64_t ldo, bool relu)
{
    const float* rows[P];
    float* outs[P];
    for (int p = 0; p < P; ++p) {
        rows[p] = a + (p < real ? p : real - 1) * lda;
        outs[p] = out + p * ldo;
    }
    rows_block<P, V>(rows, real, 0, w, 16, k, bias, outs, 0, nullptr, ldw, relu);
}

// rows x (vectors * 16) = a (rows x k, stride lda) times w (k x ..., stride ldw) plus bias, columns in
// chunks of 4 vectors by 6 rows (24 sums in registers), the last 5 to 7 vectors as one chunk of
// fewer rows (the first layer's 13: 4 + 4 + 5), fewer than 4 by 8 rows.
__attribute__((target("avx512f"))) void pair_gemm(const float* a, int64_t lda, int64_t rows, const float* w,
                                                  int64_t ldw, int64_t k, const float* bias, float* out, int64_t ldo,
                                                  int64_t vectors, bool relu)
{
    for (int64_t v0 = 0; v0 < vectors;) {
        const int64_t left = vectors - v0;
        const int64_t col = v0 * 16;
        auto sweep = [&](auto block, int64_t p_rows) {
            for (int64_t p = 0; p < rows; p += p_rows)
                block(a + p * lda, lda, std::min(p_rows, rows - p), w + col, ldw, k, bias + col, out + p * ldo + col, ldo,
                      relu);
        };
        if (left == 4 || left >= 8) {
            sweep(pair_block<6, 4>, 6), v0 += 4;
        } else if (left == 5) {
            sweep(pair_block<5, 5>, 5), v0 += 5;
        } else if (left == 6) {
            sweep(pair_block<4, 6>, 4), v0 += 6;
        } else if (left == 7) {
            sweep(pair_block<3, 7>, 3), v0 += 7;
        } else if (left == 3) {
            sweep(pair_block<8, 3>, 8), v0 += 3;
        } else if (left == 2) {
            sweep(pair_block<8, 2>, 8), v0 += 2;
        } else {
            sweep(pair_block<8, 1>, 8), v0 += 1;
        }
    }
}

bool blocks_gemm(const float* a, int64_t lda, int64_t rows, const float* w, int64_t ldw, int64_t k, const float* bias,
                 float* out, int64_t ldo, int64_t cols)
{
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    if (!avx512 || cols % 16 != 0)
        return false;
    pair_gemm(a, lda, rows, w, ldw, k, bias, out, ldo, cols / 16, /*relu=*/false);
    return true;
}
} // namespace

bool pointwise_pair_fits(int64_t in, int64_t hidden, int64_t out, int64_t groups)
{
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    return avx512 && in >= 1 && groups >= 1 && hidden >= groups && hidden % groups == 0 && out % groups == 0 &&
           (out / groups) % 16 == 0;
}

int64_t pointwise_pair_hidden_stride(int64_t hidden)
{
    return (hidden + 15) / 16 * 16;
}

at::Tensor pack_pointwise_pair_first(const at::Tensor& w1)
{
    // [H, C, 1, 1] -> [C][H rounded up to 16], the padding zero
    const int64_t hidden = w1.size(0), c = w1.size(1);
    at::Tensor packed = at::zeros({c, pointwise_pair_hidden_stride(hidden)}, at::kFloat);
    packed.narrow(1, 0, hidden).copy_(w1.detach().to(at::kFloat).reshape({hidden, c}).t());
    return packed;
}

at::Tensor pack_pointwise_pair_second(const at::Tensor& w2, int64_t groups)
{
    // [O, H/groups, 1, 1] -> [groups][H/groups][O/groups]
    const int64_t o = w2.size(0), kh = w2.size(1);
    return w2.detach().to(at::kFloat).reshape({groups, o / groups, kh}).transpose(1, 2).contiguous();
}

void pointwise_pair_rows(const float* x, int64_t pixels, int64_t in, const float* w1, const float* b1, int64_t hidden,
                         const float* w2, const float* b2, int64_t groups, int64_t out, float* hid, float* y)
{
    const int64_t hp = pointwise_pair_hidden_stride(hidden), kh = hidden / groups, og = out / groups;
    pair_gemm(x, in, pixels, w1, hp, in, b1, hid, hp, hp / 16, /*relu=*/true);
    for (int64_t g = 0; g < groups; ++g)
        pair_gemm(hid + g * kh, hp, pixels, w2 + g * kh * og, og, kh, b2 + g * og, y + g * og, out, og / 16,
                  /*relu=*/false);
}
#else
namespace {
bool blocks_gemm(const float*, int64_t, int64_t, const float*, int64_t, int64_t, const float*, float*, int64_t, int64_t)
{
    return false;
}
} // namespace
bool pointwise_pair_fits(int64_t, int64_t, int64_t, int64_t)
{
    return false;
}
int64_t pointwise_pair_hidden_stride(int64_t hidden)
{
    return (hidden + 15) / 16 * 16;
}
at::Tensor pack_pointwise_pair_first(const at::Tensor&)
{
    return {};
}
at::Tensor pack_pointwise_pair_second(const at::Tensor&, int64_t)
{
    return {};
}
void pointwise_pair_rows(const float*, int64_t, int64_t, const float*, const float*, int64_t, const float*, const float*,
                         int64_t, int64_t, float*, float*)
{
    throw Error("pointwise_pair_rows: not built for this CPU");
}
#endif

at::Tensor pack_sparse_input_conv(const at::Tensor& weight)
{
    // [O, C, k, k] -> [C][k][k][O]: each tap's O weights side by side
    return weight.detach().to(at::kFloat).permute({1, 2, 3, 0}).contiguous();
}

namespace {
// Whether n floats are all +0 or -0: their bits without the sign, ORed (vectorises; no branch per value).
BFT_VECTOR_CLONES bool all_zero(const float* x, int64_t n)
{
    uint32_t bits = 0;
    for (int64_t i = 0; i < n; ++i) {
        uint32_t b;
        std::memcpy(&b, x + i, sizeof b);
        bits |= b << 1;
    }
    return bits == 0;
}

// dst[o] += v * w[o]: one input value's contribution through one tap.
BFT_VECTOR_CLONES void add_scaled(float* __restrict dst, const float* __restrict w, float v, int64_t o)
{
    for (int64_t i = 0; i < o; ++i)
        dst[i] += v * w[i];
}
} // namespace

SparseInput sparse_input(const at::Tensor& x_any, double max_density)
{
    SparseInput in;
    if (x_any.dim() != 4 || x_any.scalar_type() != at::kFloat || !x_any.is_cpu())
        return in;
    const at::Tensor x = x_any.contiguous(at::MemoryFormat::ChannelsLast);
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const int64_t limit = static_cast<int64_t>(max_density * static_cast<double>(x.numel()));
    std::vector<std::vector<SparseInput::Value>> rows(static_cast<size_t>(n * h));
    const float* xp = x.data_ptr<float>();
    int64_t count = 0;
    for (int64_t r = 0; r < n * h; ++r) {
        const float* row = xp + r * w * c;
        for (int64_t i0 = 0; i0 < w * c; i0 += 64) {
            const int64_t len = std::min<int64_t>(64, w * c - i0);
            if (all_zero(row + i0, len)) // most of a keypoint map: 64 values at a time
                continue;
            for (int64_t i = i0; i < i0 + len; ++i)
                if (row[i] != 0.0f) { // NaN too: it must reach the output as in the dense convolution
                    if (++count > limit)
                        return in;
                    rows[static_cast<size_t>(r)].push_back(
                        {static_cast<int32_t>(i / c), static_cast<int32_t>(i % c), row[i]});
                }
        }
    }
    in.sizes = {n, c, h, w};
    in.rows = std::move(rows);
    in.valid = true;
    return in;
}

at::Tensor sparse_input_conv(const SparseInput& in, const at::Tensor& packed, const at::Tensor& bias)
{
    if (!in.valid || packed.dim() != 4 || packed.size(0) != in.sizes[1] || packed.size(1) != packed.size(2) ||
        in.sizes[2] < packed.size(1) || in.sizes[3] < packed.size(1))
        return {};
    const int64_t n = in.sizes[0], h = in.sizes[2], w = in.sizes[3], k = packed.size(1), o = packed.size(3);
    const int64_t ho = h - k + 1, wo = w - k + 1;
    const auto& rows = in.rows;
    using Nonzero = SparseInput::Value;
    RECORD_FUNCTION("bft::sparse_input_conv", std::vector<c10::IValue>());
    at::Tensor y = at::empty({n, o, ho, wo}, packed.options().memory_format(at::MemoryFormat::ChannelsLast));
    const at::Tensor b = bias.defined() ? bias.to(at::kFloat).contiguous() : at::zeros({o}, at::kFloat);
    const float* bp = b.data_ptr<float>();
    const float* wp = packed.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    // Each output row is one thread's: it reads the k input rows below it, so no two threads write
    // one pixel.
    at::parallel_for(0, n * ho, 8, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const int64_t img = r / ho, oy = r % ho;
            float* out = yp + r * wo * o;
            for (int64_t ox = 0; ox < wo; ++ox)
                std::copy_n(bp, o, out + ox * o);
            for (int64_t ky = 0; ky < k; ++ky)
                for (const Nonzero& z : rows[static_cast<size_t>(img * h + oy + ky)])
                    for (int64_t kx = 0; kx < k; ++kx) {
                        const int64_t ox = z.col - kx;
                        if (ox >= 0 && ox < wo)
                            add_scaled(out + ox * o, wp + ((z.channel * k + ky) * k + kx) * o, z.value, o);
                    }
        }
    });
    return y;
}

at::Tensor reflect_pad(const at::Tensor& x, int64_t pad)
{
    RECORD_FUNCTION("bft::reflect_pad", std::vector<c10::IValue>());
    if (x.dim() != 4 || pad < 0)
        throw Error("reflect_pad: unsupported input");
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    if (pad >= h || pad >= w)
        throw Error("reflection padding larger than the image");
    const bool channels_last = c > 1 && !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
    const auto format = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    const at::Tensor src = x.contiguous(format);
    const int64_t hp = h + 2 * pad, wp = w + 2 * pad;
    at::Tensor out = at::empty({n, c, hp, wp}, x.options().memory_format(format));
    // A row is a run of pixels; a pixel is one element (NCHW, per plane) or C of them (channels-last).
    const int64_t pixel = (channels_last ? c : 1) * static_cast<int64_t>(x.element_size());
    const int64_t rows = channels_last ? n * hp : n * c * hp; // output rows
    const auto* s = static_cast<const char*>(src.data_ptr());
    auto* d = static_cast<char*>(out.data_ptr());
    at::parallel_for(0, rows, std::max<int64_t>(1, (int64_t{1} << 15) / (wp * pixel)), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const int64_t plane = r / hp, y = r % hp; // plane: an image (channels-last) or one channel of one
            reflect_row(s + (plane * h + mirror(y - pad, h)) * w * pixel, d + r * wp * pixel, w, pad, pixel);
        }
    });
    return out;
}

at::Tensor film_modulate(const at::Tensor& x, const at::Tensor& gamma_beta, bool relu, bool in_place)
{
    RECORD_FUNCTION("bft::film_modulate", std::vector<c10::IValue>());
    return normalize(x, &gamma_beta, /*unbiased=*/true, relu, in_place);
}

at::Tensor instance_norm(const at::Tensor& x, bool relu, bool in_place)
{
    RECORD_FUNCTION("bft::instance_norm", std::vector<c10::IValue>());
    return normalize(x, nullptr, /*unbiased=*/false, relu, in_place);
}

at::Tensor instance_norm_add(const at::Tensor& x, const at::Tensor& residual, bool in_place)
{
    const auto cl = at::MemoryFormat::ChannelsLast;
    if (x.dim() != 4 || x.scalar_type() != at::kFloat || residual.scalar_type() != at::kFloat || !x.is_cpu() ||
        !residual.is_cpu() || !x.is_contiguous(cl) || x.sizes() != residual.sizes() || x.strides() != residual.strides())
        return {};
    RECORD_FUNCTION("bft::instance_norm_add", std::vector<c10::IValue>());
    const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
    at::Tensor y = in_place ? x : at::empty_like(x, x.options().memory_format(cl));
    const float* xp = x.data_ptr<float>();
    const float* rp = residual.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    per_image_rows(xp, N, HW, C, /*unbiased=*/false,
                   [&](int64_t n, int64_t p, int64_t rows, const float* mean, const float* inv) {
                       const int64_t first = (n * HW + p) * C;
                       normalize_add_rows(xp + first, rp + first, yp + first, rows, C, mean, inv);
                   });
    return y;
}

at::Tensor instance_norm_padded(const at::Tensor& x_in, bool relu, int64_t pad, const at::Tensor& residual)
{
    if (x_in.dim() != 4 || x_in.scalar_type() != at::kFloat || pad < 0 || pad >= x_in.size(2) || pad >= x_in.size(3))
        throw Error("padded instance norm: float32 N x C x H x W input, padding below its size");
    RECORD_FUNCTION("bft::instance_norm_padded", std::vector<c10::IValue>());
    const at::Tensor x = x_in.contiguous();
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), hp = h + 2 * pad, wp = w + 2 * pad;
    at::Tensor out = residual;
    if (out.defined()) {
        if (out.sizes() != at::IntArrayRef{n, c, hp, wp} || out.scalar_type() != at::kFloat || !out.is_contiguous())
            throw Error("padded instance norm: the residual is not the padded map of this size");
    } else {
        out = at::empty({n, c, hp, wp}, x.options());
    }
    const float* xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    at::parallel_for(0, n * c, 1, [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
            Moments m;
            plane_moments(xp + plane * h * w, h * w, m);
            const auto [mean, inv] = mean_inv(m, /*unbiased=*/false);
            float* dst = op + plane * hp * wp;
            for (int64_t y = 0; y < h; ++y) {
                const float* src = xp + (plane * h + y) * w;
                float* row = dst + (y + pad) * wp;
                if (residual.defined())
                    normalize_add_plane(src, row + pad, w, mean, inv);
                else
                    normalize_plane(src, row + pad, w, mean, inv, nullptr, nullptr, relu);
                for (int64_t j = 1; j <= pad; ++j) {
                    row[pad - j] = row[pad + j];
                    row[pad + w - 1 + j] = row[pad + w - 1 - j];
                }
            }
            for (int64_t j = 1; j <= pad; ++j) {
                std::memcpy(dst + (pad - j) * wp, dst + (pad + j) * wp, static_cast<size_t>(wp) * sizeof(float));
                std::memcpy(dst + (pad + h - 1 + j) * wp, dst + (pad + h - 1 - j) * wp, static_cast<size_t>(wp) * sizeof(float));
            }
        }
    });
    return out;
}

namespace {

// Vectorised (sqrt and division included: the file is built without errno for maths); the weight
// decay test is outside the loop so that the loop has no branch.
template <bool Decay>
BFT_VECTOR_CLONES void adam_loop(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                                 int64_t n, const AdamScalars s)
{
    for (int64_t i = 0; i < n; ++i) {
        float grad = g[i];
        if constexpr (Decay)
            grad = grad + s.weight_decay * p[i];
        const float mi = m[i] * s.beta1 + s.one_minus_beta1 * grad;
        const float vi = v[i] * s.beta2 + s.one_minus_beta2 * grad * grad;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] + s.neg_step * mi / (std::sqrt(vi) / s.bias_correction2_sqrt + s.eps);
    }
}

} // namespace

void adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamScalars& s)
{
    if (s.weight_decay != 0.0f)
        adam_loop<true>(p, g, m, v, n, s);
    else
        adam_loop<false>(p, g, m, v, n, s);
}

namespace {

// rows x n block, row stride ld: y = max(y + bias, 0) or y + bias.
BFT_VECTOR_CLONES void add_bias(float* __restrict y, int64_t rows, int64_t n, int64_t ld, const float* __restrict bias,
                                bool relu)
{
    for (int64_t r = 0; r < rows; ++r) {
        float* __restrict row = y + r * ld;
        if (relu)
            for (int64_t j = 0; j < n; ++j)
                row[j] = std::max(row[j] + bias[j], 0.0f);
        else
            for (int64_t j = 0; j < n; ++j)
                row[j] += bias[j];
    }
}

} // namespace

at::Tensor film_bottleneck(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& c1, const at::Tensor& w2,
                           const at::Tensor& c2)
{
    if (x.dim() != 4 || x.scalar_type() != at::kFloat || !x.is_cpu() || !onednn::available() ||
        !x.is_contiguous(at::MemoryFormat::ChannelsLast))
        return {};
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const int64_t hidden = w1.size(0), depth = hidden / 2, out_c = w2.size(0), half = out_c / 2;
    if (w1.dim() != 4 || w1.size(1) != c || w1.size(2) != 1 || w1.size(3) != 1 || hidden % 2 || c1.numel() != hidden ||
        w2.dim() != 4 || w2.size(1) != depth || w2.size(2) != 1 || w2.size(3) != 1 || out_c % 2 || c2.numel() != out_c)
        throw Error("FiLM bottleneck: weights of unexpected shapes");
    RECORD_FUNCTION("bft::film_bottleneck", std::vector<c10::IValue>());
    const at::Tensor a = w1.contiguous(), b = w2.contiguous(), ab = c1.contiguous(), bb = c2.contiguous();
    at::Tensor y = at::empty({n, out_c, h, w}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    // Pixels are rows: x [P, C], hidden [P, 2D], y [P, 2C'].
    const int64_t pixels = n * h * w;
    // Sized so that a block's input, hidden and output rows stay in a core's L2 (512 KiB and up).
    // (160 pixels at 64 channels; 64 and 1024 measured slower at 256x256, 256 on a par.)
    const int64_t block = std::max<int64_t>(16, (int64_t{256} * 1024) / (4 * (c + hidden + out_c)) / 16 * 16);
    const float *xp = x.data_ptr<float>(), *ap = a.data_ptr<float>(), *bp = b.data_ptr<float>();
    const float *abp = ab.data_ptr<float>(), *bbp = bb.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    // oneDNN is there (checked above), so its GEMM refuses only arguments that are wrong.
    auto product = [](bool done) {
        if (!done)
            throw Error("FiLM bottleneck: oneDNN's GEMM refused its arguments");
    };
    at::parallel_for(0, (pixels + block - 1) / block, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> hid(static_cast<size_t>(block * hidden));
        for (int64_t blk = begin; blk < end; ++blk) {
            const int64_t p0 = blk * block, rows = std::min(block, pixels - p0);
            // hidden = relu(x w1^T + c1)
            product(onednn::sgemm(false, true, rows, hidden, c, xp + p0 * c, c, ap, c, 0.0f, hid.data(), hidden));
            add_bias(hid.data(), rows, hidden, hidden, abp, true);
            // each group: y[:, g C'..] = hidden[:, g D..] w2[g C'..]^T + c2
            for (int64_t g = 0; g < 2; ++g)
                product(onednn::sgemm(false, true, rows, half, depth, hid.data() + g * depth, hidden, bp + g * half * depth,
                                      depth, 0.0f, yp + p0 * out_c + g * half, out_c));
            add_bias(yp + p0 * out_c, rows, out_c, out_c, bbp, false);
        }
    });
    return y;
}

} // namespace bft::kernels
