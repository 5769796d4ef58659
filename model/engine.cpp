#include "engine.h"

#include "amx.h"
#include "convolution.h"
#include "errors.h"
#include "fused_training.h"
#include "gemm_convolution.h"
#include "kernels.h"
#include "layers.h"
#include "onednn.h"
#include "winograd.h"
#include "winograd_stride2.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/record_function.h>
#include <torch/cuda.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <variant>
#include <iomanip>
#include <sstream>

namespace bft {

std::string precision_name(Precision p)
{
    return p == Precision::BF16 ? "bf16" : "fp32";
}

Precision precision_from_name(const std::string& name)
{
    if (name == "fp32")
        return Precision::FP32;
    if (name == "bf16")
        return Precision::BF16;
    throw Error("unknown precision '" + name + "' (expected fp32 or bf16)");
}

bool amx_products_run(const ForwardOptions& options, const c10::Device& device)
{
    return options.amx && options.winograd && options.precision == Precision::FP32 && device.is_cpu() &&
           amx::usable();
}

bool bf16_supported(const c10::Device& device)
{
    if (device.is_cuda())
        return true;
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx512bf16");
#else
    return false;
#endif
}

const Bf16Speed& bf16_speed(const c10::Device& device)
{
    static const Bf16Speed cuda{true, true, 0, 0};
    if (device.is_cuda())
        return cuda;
    static const Bf16Speed cpu = [] {
        Bf16Speed s;
        s.supported = bf16_supported(c10::Device(c10::kCPU));
        if (!s.supported)
            return s;
        c10::InferenceMode inference;
        auto make = [](at::ScalarType t) {
            return std::make_pair(at::ones({1, 256, 34, 34}, at::TensorOptions().dtype(t)).contiguous(at::MemoryFormat::ChannelsLast),
                                  at::full({256, 256, 3, 3}, 0.01, at::TensorOptions().dtype(t)));
        };
        auto time_ms = [](const std::pair<at::Tensor, at::Tensor>& xw) {
            const int64_t one[] = {1, 1}, zero[] = {0, 0};
            const auto t0 = std::chrono::steady_clock::now();
            bft::conv2d(xw.first, xw.second, at::Tensor(), one, zero, one, 1); // as the engine runs them
            return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        };
        try {
            const auto fp32 = make(at::kFloat), bf16 = make(at::kBFloat16);
            time_ms(fp32); // the first of each builds oneDNN's kernel
            time_ms(bf16);
            // Alternating, the best of each: another process taking the CPU for a while slows both.
            s.fp32_ms = s.bf16_ms = 1e30;
            for (int k = 0; k < 5; ++k) {
                s.fp32_ms = std::min(s.fp32_ms, time_ms(fp32));
                s.bf16_ms = std::min(s.bf16_ms, time_ms(bf16));
            }
            s.faster = s.bf16_ms < 0.85 * s.fp32_ms; // a clear gain, not noise
        } catch (const std::exception&) {
            s.faster = false; // no oneDNN bf16 kernel after all
        }
        return s;
    }();
    return cpu;
}

std::string bf16_drawback(const c10::Device& device)
{
    const Bf16Speed& s = bf16_speed(device);
    if (!s.supported)
        return "this CPU has no bf16 instructions (AVX512-BF16)";
    if (!s.faster) {
        std::ostringstream m;
        m << std::fixed << std::setprecision(1) << "bf16 runs slower than fp32 on this CPU (a test convolution took "
          << s.bf16_ms << " ms in bf16, " << s.fp32_ms << " ms in fp32)";
        return m.str();
    }
    return {};
}

std::vector<at::Tensor> WeightCache::get(int tag, const std::vector<at::Tensor>& sources,
                                         const std::function<std::vector<at::Tensor>()>& make)
{
    std::lock_guard<std::mutex> lock(mutex_);
    Entry& e = entries_[{sources.front().unsafeGetTensorImpl(), tag}];
    bool fresh = e.filled && e.impls.size() == sources.size();
    for (size_t k = 0; fresh && k < sources.size(); ++k)
        fresh = e.impls[k] == sources[k].unsafeGetTensorImpl() && e.versions[k] == sources[k]._version();
    if (!fresh) {
        e.value = make();
        e.filled = true;
        e.impls.clear();
        e.versions.clear();
        for (const auto& s : sources) {
            e.impls.push_back(s.unsafeGetTensorImpl());
            e.versions.push_back(s._version());
        }
    }
    return e.value;
}

at::Tensor WeightCache::get_one(int tag, const std::vector<at::Tensor>& sources, const std::function<at::Tensor()>& make)
{
    return get(tag, sources, [&] { return std::vector<at::Tensor>{make()}; }).front();
}

void WeightCache::clear()
{
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.clear();
}

int64_t WeightCache::bytes()
{
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t total = 0;
    for (const auto& [key, entry] : entries_)
        for (const at::Tensor& t : entry.value)
            total += t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
    return total;
}

// Convolution options hold their padding in a c10::variant in LibTorch 1.13 and in a std::variant
// in 2.x: unqualified calls find either (std's here, c10's by argument-dependent lookup).
using std::get;
using std::get_if;

namespace {
// A layer's range in a profile; with ForwardOptions::sync_layers on a GPU, its end waits for the
// layer's kernels (destroyed before the range's guard, which is declared first).
class LayerSync {
public:
    LayerSync(bool on, const at::Tensor& like) : device_(on ? like.device().index() : -1) {}
    LayerSync(const LayerSync&) = delete;
    LayerSync& operator=(const LayerSync&) = delete;
    ~LayerSync()
    {
        if (device_ >= 0)
            torch::cuda::synchronize(device_);
    }

private:
    int64_t device_;
};
#define BFT_LAYER(name)                                                                                               \
    RECORD_FUNCTION("bft::layer::" name, std::vector<c10::IValue>());                                                 \
    LayerSync layer_sync(sync_layers_, x)

enum Tag {
    kCast = 1,
    kFusedFirstWeight,
    kFusedFirstBias,
    kFusedSecondWeight,
    kFusedSecondBias,
    kPhases,
    kTaps,
    kWinograd,
    kSmallMap,
    kSparseInput,
    kWinogradS2,
    kWinogradS2Small,
    kWinogradS2Own,
    kWinogradS2SmallOwn,
    kWinogradReflect,
    kWinogradS2Amx,
    kWinogradS2SmallAmx
};
}

namespace {
// Whether the environment sets `name` to 1 (the switches that turn a kernel off for comparison).
bool switched_off(const char* name)
{
    const char* v = std::getenv(name);
    return v && std::string(v) == "1";
}

// BFT_NO_REFLECT_WINOGRAD=1: the ResNet trunk as before (padded NCHW maps, oneDNN's Winograd), for
// comparison.
bool reflect_winograd_enabled()
{
    static const bool on = !switched_off("BFT_NO_REFLECT_WINOGRAD");
    return on;
}

// The trunk by winograd.h's reflection-padded F(4x4, 3x3) up to this many tiles, oneDNN's Winograd
// on padded NCHW maps beyond (its products' buffers grow with the tiles: 2 x 36 x tiles x channels
// floats, 75 MB here). The Xeon, 2 threads, the authors' pose model, ms per forward against that:
// at 128 (16 tiles) 96-99 -> 82-84, at 192 (36) 180-185 -> 153-161, at 256 266-276 -> 224-233
// (depth 249-268 -> 220-232), batch 4 at 256 (256 tiles) 1103-1125 -> 984-1009, batch 2 at 512
// (512) 2430-2488 -> 2167-2228; ngf 16 at 128 13.4-13.9 -> 11.7-12.2.
constexpr int64_t kReflectWinogradMaxTiles = 512;
} // namespace

int Ops::tag(int base) const
{
    // Derived weights differ per dtype: one entry each, so switching precision never mixes them.
    return base * 64 + static_cast<int>(dtype_);
}

Ops::Ops(const ForwardOptions& options, WeightCache& cache, const at::Tensor& like)
    : film_(options.film), cancel_(options.cancel), cache_(cache), fast_(!at::GradMode::is_enabled()), cpu_(like.is_cpu()),
      sync_layers_(options.sync_layers && like.is_cuda()), dtype_(options.precision == Precision::BF16 ? at::kBFloat16 : at::kFloat)
{
    // oneDNN's Winograd kernels where it has them (AVX-512), ours (winograd.h) elsewhere, where
    // oneDNN's GEMM runs its products (LibTorch's BLAS, without it, is unmeasured for them).
    const bool winograd = options.winograd && fast_ && cpu_ && dtype_ == at::kFloat;
    winograd_ = winograd && !options.own_winograd && onednn::winograd_available();
    own_winograd_ = winograd && !winograd_ && onednn::available();
    winograd_s2_ = winograd && onednn::available();
    amx_ = fast_ && amx_products_run(options, like.device());
    reflect_winograd_ = winograd && !options.own_winograd && reflect_winograd_enabled();
    if (options.precision == Precision::BF16 && !fast_)
        throw Error("bf16 runs only for inference (autograd is on)");
    // Callers fall back to fp32 with a notice (bf16_supported); here it would fail deep in oneDNN.
    if (options.precision == Precision::BF16 && !bf16_supported(like.device()))
        throw Error("bf16 needs a CPU with AVX512-BF16, which this one lacks: use fp32");
}

at::Tensor Ops::prepare(const at::Tensor& x, bool channels_last) const
{
    if (!fast_)
        return x;
    // cuDNN prefers channels-last for every layer of these networks (tensor cores).
    const bool cl = cpu_ ? channels_last : true;
    if (cpu_ && cl && dtype_ == at::kFloat)
        if (at::Tensor y = kernels::channels_last_float(x); y.defined())
            return y;
    at::Tensor y = x.to(dtype_).contiguous(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
    // One channel is contiguous in both layouts, and contiguous() leaves its NCHW strides; the
    // channels-last ones (same memory) tell oneDNN to answer in channels-last (onednn.cpp).
    if (cl && y.dim() == 4 && y.size(1) == 1 && y.suggest_memory_format() != at::MemoryFormat::ChannelsLast)
        y = y.as_strided(y.sizes(), {y.size(2) * y.size(3), 1, y.size(3), 1});
    return y;
}

at::Tensor Ops::output(const at::Tensor& y) const
{
    // On the CPU the maps are mostly channels-last (or channel ranges of them: recorded gamma/beta),
    // which LibTorch's copy to NCHW gathers value by value.
    return kernels::planar_float(y);
}

at::Tensor Ops::cast(const at::Tensor& w, int tag)
{
    if (!w.defined() || w.scalar_type() == dtype_)
        return w;
    return cache_.get_one(this->tag(tag), {w}, [&] { return w.detach().to(dtype_); });
}

namespace {
// Winograd pays where there are many channels (the ResNet trunk: 512 in the authors' size): with the
// demo pose model's 128, whole forwards were on a par at 16x16 trunk maps and 15% faster at 32x32
// (bft bench with and without); narrower trunks stay direct, unmeasured.
constexpr int64_t kWinogradMinChannels = 128;

// The kernel size of a square, stride-1, undilated, ungrouped convolution without padding (the
// generators pad explicitly, by reflection); 0 for any other.
int64_t plain_kernel(const torch::nn::Conv2dImpl& m)
{
    const auto& o = m.options;
    const auto* padding = get_if<torch::ExpandingArray<2>>(&o.padding());
    const int64_t k = (*o.kernel_size())[0];
    auto all = [](const auto& a, int64_t v) { return (*a)[0] == v && (*a)[1] == v; };
    const bool plain = all(o.kernel_size(), k) && all(o.stride(), 1) && all(o.dilation(), 1) && o.groups() == 1 &&
                       padding && all(*padding, 0);
    return plain ? k : 0;
}

bool use_winograd(const at::Tensor& x, const torch::nn::Conv2dImpl& m)
{
    return plain_kernel(m) == 3 && m.options.in_channels() >= kWinogradMinChannels &&
           m.options.out_channels() >= kWinogradMinChannels && x.size(2) >= 3 && x.size(3) >= 3;
}

// Ours (winograd.h) runs its 36 products as GEMMs as wide as the batch has 4x4 output tiles: with
// the demo pose model's 16x16 trunk at 128 px (16 tiles) whole forwards were no faster than direct
// (Zen 2: 32.0-34.3 against 31.0-33.4 ms), at 32x32 (64 tiles) 2-5% faster, with the authors' 512
// channels 2x per layer.
constexpr int64_t kOwnWinogradMinTiles = 64;

int64_t winograd_tiles(const at::Tensor& x)
{
    return x.size(0) * ((x.size(2) - 2 + 3) / 4) * ((x.size(3) - 2 + 3) / 4);
}

// The ResNets' last layer (7x7, 64 -> 3 or 1): oneDNN's direct kernels run few output channels
// slowly (59 GFLOP/s here, against 300 and more for wide layers); by taps it is 1.5-2x as fast.
bool use_taps(const at::Tensor& x, const torch::nn::Conv2dImpl& m)
{
    const int64_t k = plain_kernel(m);
    return k >= 5 && m.options.out_channels() <= 4 && m.options.in_channels() >= 16 && x.size(2) >= k && x.size(3) >= k;
}

// Intermediates wider than a layer's input and output (the fused FiLM bottlenecks' 2 x 100
// channels, the last layer's 147 tap products) are made in slices where they would pass
// kWideBytes: for the whole of a 256x256 batch of 4 they were 210 and 161 MB, and put the ResNets'
// peak above PyTorch's (which makes each bottleneck's 100 channels separately). Pointwise layers (the
// bottlenecks' 1x1 convolutions) are sliced by rows too, to about kSliceBytes each, so that even one
// image's first level (52 MB at 256x256) never exists whole; the taps one image at a time.
constexpr int64_t kWideBytes = 32 << 20;
constexpr int64_t kSliceBytes = 8 << 20;

int64_t intermediate_bytes(const at::Tensor& x, int64_t channels)
{
    return x.size(0) * channels * x.size(2) * x.size(3) * static_cast<int64_t>(x.element_size());
}

// f applied to slices of x, one image at a time and `rows` rows of it at a time (rows < H only for
// a pointwise f), the results written into one tensor in f's layout.
at::Tensor in_slices(const at::Tensor& x, int64_t rows, const std::function<at::Tensor(const at::Tensor&)>& f)
{
    const int64_t h = x.size(2);
    at::Tensor out;
    for (int64_t n = 0; n < x.size(0); ++n)
        for (int64_t r = 0; r < h; r += rows) {
            at::Tensor y = f(x.narrow(0, n, 1).narrow(2, r, std::min(rows, h - r)));
            if (!out.defined())
                out = at::empty({x.size(0), y.size(1), rows < h ? h : y.size(2), y.size(3)},
                                y.options().memory_format(y.suggest_memory_format()));
            out.narrow(0, n, 1).narrow(2, r, y.size(2)).copy_(y);
        }
    return out;
}

// A pointwise layer whose widest map has `channels` channels: whole, or in slices of rows.
at::Tensor pointwise(const at::Tensor& x, int64_t channels, const std::function<at::Tensor(const at::Tensor&)>& f)
{
    if (intermediate_bytes(x, channels) <= kWideBytes)
        return f(x);
    const int64_t row_bytes = channels * x.size(3) * static_cast<int64_t>(x.element_size());
    return in_slices(x, std::max<int64_t>(1, kSliceBytes / row_bytes), f);
}

// Output rows and columns of a square convolution (square_conv_padding() = p) on x; 0 where none.
std::pair<int64_t, int64_t> output_size(const at::Tensor& x, const torch::nn::Conv2dImpl& m, int64_t p)
{
    const int64_t k = (*m.options.kernel_size())[0], s = (*m.options.stride())[0];
    auto side = [&](int64_t in) { return in + 2 * p >= k ? (in + 2 * p - k) / s + 1 : 0; };
    return {side(x.size(2)), side(x.size(3))};
}

// Output positions (all images) of a square convolution on x; 0 for any other.
int64_t output_positions(const at::Tensor& x, const torch::nn::Conv2dImpl& m)
{
    const int64_t p = square_conv_padding(m);
    if (p < 0)
        return 0;
    const auto [ho, wo] = output_size(x, m, p);
    return x.size(0) * ho * wo;
}

// Training on the CPU, where LibTorch's oneDNN path reorders each weight to and fro on every call:
// im2col and one GEMM over the batch (gemm_convolution.h) for the U-Net's innermost convolutions
// (at most 16 output positions, 4x4 there; forward and backward at batch 4: 512 -> 512 at 2x2 4.2
// against 9.7 ms, at 8x8 16 against 21; at 16x16 no gain) and for its transposed convolutions over
// at most 8x8 inputs (1024 -> 512 at 4x4: 28 ms, 92-116 as four phases; 1024 -> 256 at 8x8: 31-35
// against 49-57; at 16x16 on a par) or into few channels (128 -> 3: 11 against LibTorch's 16).
bool gemm_pays(const at::Tensor& x, const torch::nn::Conv2dImpl& m)
{
    const int64_t p = square_conv_padding(m);
    if (p < 0 || x.scalar_type() != at::kFloat)
        return false;
    const auto [ho, wo] = output_size(x, m, p);
    return ho >= 1 && wo >= 1 && ho * wo <= 16;
}

// bf16 (the fast preview) on the fewest positions (the U-Net's innermost layers; a transposed
// layer's input pixels): our small maps with the weights packed as bf16, the same bytes as oneDNN's
// bf16 kernels read. The Xeon, 2 threads, cold weights, medians of 150 interleaved calls (ms), ours
// with bf16 / float32 weights against oneDNN bf16: 512 -> 512 into 1x1 0.26 / 0.42 against 0.60,
// into 2x2 (4 positions) 0.80 / 1.27 against 0.83, into 4x4 (16) 1.29 / 1.57 against 0.85; the
// transposed 1024 -> 512 from 1x1 0.76 / 1.00 against 1.68, from 2x2 1.87 / 2.48 against 1.95,
// from 4x4 2.98 / 3.51 against 2.95.
bool bf16_small_map(int64_t positions)
{
    return positions <= 4;
}

// BFT_NO_SMALL_MAP=1: the small-map layers through oneDNN, for comparison.
bool small_map_enabled()
{
    static const bool on = !switched_off("BFT_NO_SMALL_MAP");
    return on;
}

// F(4x4, 2x2) (winograd_stride2.h) runs 25 products as tall as the batch has 4x4 output tiles, over
// weights 6.25x the direct ones': with few tiles they stream more weight than they save arithmetic.
// The Xeon, 2 threads, per layer with cold caches against oneDNN's direct kernels (ms), batch 1:
// transposed 256 -> 64 from 64x64 4.6 vs 6.3 (289 tiles), 512 -> 128 from 32x32 4.9 vs 6.4 (81),
// 256 -> 64 from 32x32 1.4 vs 1.8 (81), 512 -> 128 from 16x16 2.4 vs 1.8 (25); convolutions
// 64 -> 128 into 64x64 2.8 vs 3.2 (256), 128 -> 256 into 32x32 2.2 vs 3.4 (64), 64 -> 128 into 32x32
// 0.80 vs 0.97 (64), 128 -> 256 into 16x16 1.2 vs 0.95 (16); batch 4: 256 -> 512 into 16x16 7.8 vs
// 12.4 (64), 1024 -> 256 from 8x8 10.3 vs 7.4 (36), 512 -> 512 into 8x8 8.5 vs 7.1 (16).
constexpr int64_t kWinogradS2MinTiles = 64;

// F(4x4, 2x2) where the batch has enough of its tiles, else F(2x2, 2x2) where it has enough of
// those (4x the tiles over 36% of the weights), else 0 (direct). F(2x2, 2x2) in the texture forward
// at 256, 256 -> 512 into 16x16 (64 tiles): 3.1 -> 2.6 ms; transposed 1024 -> 256 from 16x16 phase
// by phase (64 tiles a phase): 6.2 -> 5.3 (in shared windows, 81 tiles, 6.0).
int winograd_s2_tile(const at::Tensor& x, bool transposed)
{
    if (winograd_s2_tiles(x, transposed, 4) >= kWinogradS2MinTiles)
        return 4;
    if (winograd_s2_tiles(x, transposed, 2) >= kWinogradS2MinTiles)
        return 2;
    return 0;
}

// The tile winograd_stride2.h takes the layer with, or 0 where it stays direct.
int use_winograd_s2(const at::Tensor& x, const torch::nn::Conv2dImpl& m)
{
    const auto& o = m.options;
    if (square_conv_padding(m) != 1 || (*o.kernel_size())[0] != 4 || (*o.stride())[0] != 2 ||
        !winograd_s2_fits(x, o.in_channels(), o.out_channels()))
        return 0;
    return winograd_s2_tile(x, false);
}

// The U-Net's up layers: 4x4 kernels, stride 2, padding 1 (the layer's and the one it runs with),
// no output padding, dilation 1, one group: what winograd_stride2.h and kernels::unet_output compute.
bool unet_up_layer(const torch::nn::ConvTranspose2dImpl& m, int64_t padding, int64_t output_padding)
{
    const auto& o = m.options;
    const auto* own_padding = get_if<torch::ExpandingArray<2>>(&o.padding());
    auto all = [](const auto& a, int64_t v) { return (*a)[0] == v && (*a)[1] == v; };
    return all(o.kernel_size(), 4) && all(o.stride(), 2) && own_padding && all(*own_padding, 1) &&
           all(o.output_padding(), 0) && all(o.dilation(), 1) && o.groups() == 1 && padding == 1 &&
           output_padding == 0;
}

int use_winograd_s2(const at::Tensor& x, const torch::nn::ConvTranspose2dImpl& m, int64_t padding, int64_t output_padding)
{
    const auto& o = m.options;
    if (!unet_up_layer(m, padding, output_padding) || !winograd_s2_fits(x, o.in_channels(), o.out_channels()))
        return 0;
    return winograd_s2_tile(x, true);
}

// Our own Winograd products (kernels::rows_times_packed) up to this many tiles, oneDNN's from
// there: the Xeon, texture at 256, products of 64 tiles (512 -> 256 into 32x32, 256 -> 512 into
// 16x16, 1024 -> 256 and 512 -> 128 phase by phase) 0.1-0.4 ms faster each; of 289 (256 -> 64 from
// 64x64) 4.8 against 4.4 ms, of 2 x 128 (64 -> 128 into 64x64) even. Since their rows are padded
// (winograd_stride2.cpp: in_chunks), of 289 3.5-3.7 against 3.8-4.0 ms (each layer's fastest of 3
// alternated forwards, twice), of 256 (64 -> 128 into 64x64, in 2 chunks) still even; texture at
// 128, batch 4, and at 256, batch 4, no change beyond the noise.
constexpr int64_t kOwnProductsMaxTiles = 320;

} // namespace

at::Tensor Ops::winograd_s2_weight(const at::Tensor& x, const at::Tensor& weight, int tile, bool transposed)
{
    const int64_t out_channels = weight.size(transposed ? 1 : 0);
    const bool own = kernels::rows_times_packed_fits() && out_channels % 64 == 0 &&
                     winograd_s2_tiles(x, transposed, tile) <= kOwnProductsMaxTiles;
    // On AMX the products' weights in bf16 halves (amx.h), another entry.
    const bool amx = own && amx_ && winograd_s2_amx_fits(transposed ? weight.size(0) : weight.size(1) * 4);
    const int base = amx ? (tile == 4 ? kWinogradS2Amx : kWinogradS2SmallAmx)
                   : own ? (tile == 4 ? kWinogradS2Own : kWinogradS2SmallOwn)
                         : (tile == 4 ? kWinogradS2 : kWinogradS2Small);
    return cache_.get_one(tag(base), {weight}, [&] {
        at::Tensor u = transposed ? winograd_s2_transpose_weights(weight, tile) : winograd_s2_conv_weights(weight, tile);
        return own ? winograd_s2_own_products(u, amx) : u;
    });
}

at::Tensor Ops::conv(const at::Tensor& x_in, torch::nn::Conv2dImpl& m, float input_slope)
{
    const int s2_tile = winograd_s2_ ? use_winograd_s2(x_in, m) : 0;
    at::Tensor x = x_in;
    if (input_slope != 1.0f && s2_tile == 0) {
        // The activation as a pass of its own (Winograd's input transform applies it as it reads:
        // a texture forward at 256 had 0.7 ms of these passes).
        if (!fast_)
            x = at::leaky_relu(x, input_slope);
        else if (!kernels::leaky_relu_bf16_(x, input_slope))
            x = at::leaky_relu_(x, input_slope);
        input_slope = 1.0f;
    }
    BFT_LAYER("conv");
    const auto& o = m.options;
    at::Tensor w = m.weight, b = m.bias;
    if (fast_) {
        w = cast(w, kCast);
        b = cast(b, kCast);
    }
    // The generators only use explicit paddings (never "same"/"valid").
    const auto& padding = get<torch::ExpandingArray<2>>(o.padding());
    if (!fast_ && cpu_ && gemm_pays(x, m))
        return conv2d_gemm(x, w, b, (*o.stride())[0], (*padding)[0]);
    if (fast_ && cpu_ && dtype_ == at::kFloat && use_taps(x, m)) {
        const at::Tensor taps = tap_weight(m);
        const int64_t k = (*o.kernel_size())[0];
        if (x.size(0) > 1 && intermediate_bytes(x, taps.size(0)) > kWideBytes)
            return in_slices(x, x.size(2), [&](const at::Tensor& xi) { return conv2d_by_taps(xi, taps, k, b); });
        return conv2d_by_taps(x, taps, k, b);
    }
    if (s2_tile != 0) {
        return winograd_s2_conv(x, winograd_s2_weight(x, m.weight, s2_tile, false), b, s2_tile, input_slope);
    }
    // The small-map kernels: float32, and bf16 on its fewest positions (bf16_small_map; weights as bf16).
    if (const int64_t positions = output_positions(x, m);
        fast_ && cpu_ && small_map_enabled() &&
        (dtype_ == at::kFloat || (dtype_ == at::kBFloat16 && bf16_small_map(positions))) &&
        kernels::small_map_fits(positions, o.in_channels(), o.out_channels(), dtype_ == at::kBFloat16)) {
        const at::Tensor packed = cache_.get_one(tag(kSmallMap), {m.weight}, [&] {
            return kernels::pack_small_map_conv(m.weight, dtype_ == at::kBFloat16);
        });
        if (at::Tensor y = kernels::small_map_conv(x.to(at::kFloat), packed, (*o.kernel_size())[0], (*o.stride())[0],
                                                   (*padding)[0], m.bias);
            y.defined())
            return y.to(dtype_);
    }
    if (winograd_ && use_winograd(x, m)) {
        const int64_t one[] = {1, 1}, zero[] = {0, 0};
        at::Tensor y = onednn::conv2d(x, w, b, one, zero, 1, onednn::Algorithm::Winograd);
        if (y.defined())
            return y;
    }
    if (own_winograd_ && use_winograd(x, m) && winograd_tiles(x) >= kOwnWinogradMinTiles) {
        const at::Tensor u = cache_.get_one(tag(kWinograd), {m.weight}, [&] { return winograd_weights(m.weight); });
        return winograd_conv3x3(x, u, b);
    }
    return bft::conv2d(x, w, b, at::IntArrayRef(*o.stride()), at::IntArrayRef(*padding), at::IntArrayRef(*o.dilation()),
                       o.groups());
}

at::Tensor Ops::conv_sparse_input(const at::Tensor& x, torch::nn::Conv2dImpl& m)
{
    // CPU inference, a square kernel at stride 1 without padding of its own: the ResNet stems.
    if (fast_ && cpu_ && x.scalar_type() == dtype_ && (dtype_ == at::kFloat || dtype_ == at::kBFloat16) &&
        square_conv_padding(m) == 0 && (*m.options.stride())[0] == 1) {
        // Up to 1% nonzero: the scatter does k*k*O multiply-adds per nonzero value where the dense
        // convolution does C times that per pixel, on 4-6x faster kernels. In float32 for a bf16
        // preview too (its 0/1 keypoint maps are exact in both), the result rounded to bf16 as the
        // dense convolution's: the guide stem at 128 0.85 -> 0.63 ms, at 256 3.7 -> 2.2 (oneDNN's
        // bf16 kernels run the dense one 6x faster than fp32's, so less is won than in fp32).
        const kernels::SparseInput in = kernels::sparse_input(x.to(at::kFloat), 0.01);
        if (in.valid) {
            const at::Tensor packed =
                cache_.get_one(tag(kSparseInput), {m.weight}, [&] { return kernels::pack_sparse_input_conv(m.weight); });
            BFT_LAYER("conv");
            const at::Tensor bias = m.bias.defined() ? m.bias.detach().to(at::kFloat) : at::Tensor();
            if (at::Tensor y = kernels::sparse_input_conv(in, packed, bias); y.defined())
                return y.to(dtype_);
        }
    }
    return conv(x, m);
}

at::Tensor Ops::conv_transpose(const at::Tensor& x, torch::nn::ConvTranspose2dImpl& m, int64_t padding,
                               int64_t output_padding)
{
    BFT_LAYER("conv_transpose");
    if (!cpu_) // cuDNN's transposed convolutions are fast: only the CPU needs the rewrite
        return at::conv_transpose2d(x, fast_ ? cast(m.weight, kCast) : m.weight, fast_ ? cast(m.bias, kCast) : m.bias, 2,
                                    padding, output_padding);
    const auto& o = m.options;
    const bool square = (*o.kernel_size())[0] == (*o.kernel_size())[1] && o.groups() == 1 &&
                        (*o.dilation())[0] == 1 && (*o.dilation())[1] == 1;
    const bool gemm_fits = square && x.scalar_type() == at::kFloat;
    if (!fast_) {
        // Training (autograd): im2col and GEMM where the four phase convolutions do little work each
        // (see gemm_pays).
        if (gemm_fits && (x.size(2) * x.size(3) <= 64 || o.out_channels() <= 4))
            return conv_transpose2d_gemm(x, m.weight, m.bias, 2, padding, output_padding);
        return conv_transpose2d_s2(x, m.weight, m.bias, padding, output_padding);
    }
    // Into a few channels (the U-Net's last layer, 128 -> 3), oneDNN runs the four phase
    // convolutions at a sixth of its rate (Zen 2 at 256: 12.6 ms, 32 GFLOP/s); one GEMM to the 48 tap
    // products and their sum took 3 (texture forward at 256: 133 -> 125 ms, at 128: 43 -> 41).
    if (gemm_fits && o.out_channels() <= 4)
        return conv_transpose2d_gemm(x, m.weight, m.bias, 2, padding, output_padding);
    const int64_t k = (*o.kernel_size())[0];
    if (const int tile = winograd_s2_ ? use_winograd_s2(x, m, padding, output_padding) : 0) {
        return winograd_s2_conv_transpose(x, winograd_s2_weight(x, m.weight, tile, true), cast(m.bias, kCast), tile);
    }
    // The small-map kernels: float32, and bf16 on its fewest positions (bf16_small_map; weights as bf16).
    if (small_map_enabled() &&
        (dtype_ == at::kFloat ? gemm_fits
                              : cpu_ && dtype_ == at::kBFloat16 && square &&
                                    bf16_small_map(x.size(0) * x.size(2) * x.size(3)))) {
        const at::Tensor xf = x.to(at::kFloat);
        const bool bf16_weights = dtype_ == at::kBFloat16;
        if (small_map_transpose_fits(xf, o.out_channels(), k, padding, output_padding, bf16_weights)) {
            const auto packed = cache_.get(tag(kSmallMap), {m.weight},
                                           [&] { return small_map_phases(m.weight, padding, bf16_weights); });
            if (at::Tensor y = conv_transpose2d_s2_small_map(xf, packed, k, m.bias, padding, output_padding); y.defined())
                return y.to(dtype_);
        }
    }
    const auto phases = cache_.get(tag(kPhases), {m.weight}, [&] { return subpixel_weights(m.weight.detach().to(dtype_), padding); });
    return conv_transpose2d_s2(x, m.weight, cast(m.bias, kCast), padding, output_padding, phases);
}

std::array<at::Tensor, 4> Ops::fused_pair(const torch::nn::Conv2dImpl& a1, const torch::nn::Conv2dImpl& a2,
                                          const torch::nn::Conv2dImpl& b1, const torch::nn::Conv2dImpl& b2)
{
    auto both = [&](int base, const at::Tensor& a, const at::Tensor& b) {
        return cache_.get_one(tag(base), {a, b}, [&] { return at::cat({a, b}).to(dtype_); });
    };
    return {both(kFusedFirstWeight, a1.weight, b1.weight), both(kFusedFirstBias, a1.bias, b1.bias),
            both(kFusedSecondWeight, a2.weight, b2.weight), both(kFusedSecondBias, a2.bias, b2.bias)};
}

at::Tensor Ops::film_params(const at::Tensor& x, const torch::nn::Sequential& alpha, size_t alpha_first,
                            const torch::nn::Sequential& beta, size_t beta_first)
{
    BFT_LAYER("film_params");
    auto conv_at = [](const torch::nn::Sequential& seq, size_t i) { return seq->ptr(i)->as<torch::nn::Conv2dImpl>(); };
    auto* a1 = conv_at(alpha, alpha_first);
    auto* a2 = conv_at(alpha, alpha_first + 2);
    auto* b1 = conv_at(beta, beta_first);
    auto* b2 = conv_at(beta, beta_first + 2);
    if (!fast_) {
        // Training: autograd sees every parameter. On the CPU both bottlenecks as one 1x1 convolution
        // into 2 x depth channels and one grouped back, each a GEMM on NCHW memory (the texture
        // training step's bottlenecks: about 80 -> 40 ms); elsewhere the modules as they are.
        if (cpu_ && x.scalar_type() == at::kFloat && onednn::available()) {
            const at::Tensor h = at::relu(
                conv1x1_gemm(x, at::cat({a1->weight, b1->weight}), at::cat({a1->bias, b1->bias}), /*groups=*/1));
            return conv1x1_gemm(h, at::cat({a2->weight, b2->weight}), at::cat({a2->bias, b2->bias}), /*groups=*/2);
        }
        return at::cat({run_film_bottleneck(alpha, alpha_first, x), run_film_bottleneck(beta, beta_first, x)}, 1);
    }
    // Both bottlenecks read the same features: one conv nc -> 2*depth, ReLU, one grouped conv back.
    const std::array<at::Tensor, 4> pair = fused_pair(*a1, *a2, *b1, *b2);
    const at::Tensor &w1 = pair[0], &c1 = pair[1], &w2 = pair[2], &c2 = pair[3];
    // In slices of pixels whose hidden channels stay in cache, by oneDNN's channels-last kernels or
    // ours (AVX-512; onednn.h); without them (AVX2) by blocks on its GEMM (Zen 2, level 1 of a pose forward at 256:
    // 40 -> 30 ms); where neither runs (CUDA, NCHW), the two convolutions below.
    if (at::Tensor y = onednn::pointwise_pair(x, w1, c1, w2, c2, /*groups=*/2); y.defined())
        return y;
    if (at::Tensor y = kernels::film_bottleneck(x, w1, c1, w2, c2); y.defined())
        return y;
    auto run = [&](const at::Tensor& xi) {
        const int64_t one[] = {1, 1}, zero[] = {0, 0};
        // The ReLU in oneDNN's kernel as it writes (this layer's output is the widest of a
        // ResNet forward: 2 x 100 channels at full size); LibTorch's convolution elsewhere.
        at::Tensor h = onednn::conv2d(xi, w1, c1, one, zero, 1, onednn::Algorithm::Direct, /*relu=*/true);
        if (!h.defined())
            h = bft::conv2d(xi, w1, c1, one, zero, one, 1).relu_();
        return bft::conv2d(h, w2, c2, one, zero, one, /*groups=*/2);
    };
    return pointwise(x, w1.size(0), run);
}

namespace {
// Normalisation statistics in fp32 for reduced precisions, in the tensor's own for float64.
at::ScalarType statistics_type(const at::Tensor& x)
{
    return at::promote_types(x.scalar_type(), at::kFloat);
}

// (x - mean) / sqrt(var + 1e-5) per channel, both statistics from one reduction, in x's own layout
// (CUDA inference; x in fp32 at least). Unbiased variance for FiLM (the reference's calc_mean_std),
// biased for instance norm.
at::Tensor normalized(const at::Tensor& x, bool unbiased)
{
    const int64_t dims[] = {2, 3};
    auto [var, mean] = at::var_mean(x, at::IntArrayRef(dims), unbiased, /*keepdim=*/true);
    return (x - mean).mul_(var.add_(1e-5).rsqrt_());
}

// Nothing but the caller's argument refers to x or its memory: the result may overwrite it.
bool sole_owner(const at::Tensor& x)
{
    return x.use_count() == 1 && x.storage().use_count() == 1;
}
} // namespace

at::Tensor Ops::film(const at::Tensor& x, const at::Tensor& gamma_beta, bool relu, bool may_overwrite)
{
    BFT_LAYER("film");
    if (fast_ && cpu_)
        return kernels::film_modulate(x, gamma_beta, relu, may_overwrite && sole_owner(x));
    if (!fast_ && cpu_ && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) &&
        gamma_beta.scalar_type() == x.scalar_type())
        return film_modulate_fused(x, gamma_beta, relu); // training: one autograd node
    const int64_t c = x.size(1);
    const at::ScalarType t = statistics_type(x); // fp32 at least
    const at::Tensor xf = x.to(t), gamma = gamma_beta.narrow(1, 0, c).to(t), beta = gamma_beta.narrow(1, c, c).to(t);
    at::Tensor y;
    if (fast_) { // CUDA inference: film_modulate's formula in fewer passes
        y = at::addcmul(beta, gamma, normalized(xf, /*unbiased=*/true));
    } else {
        y = film_modulate(xf, gamma, beta); // differentiable
    }
    if (relu)
        y = fast_ ? y.relu_() : at::relu(y);
    return y.to(x.scalar_type());
}

at::Tensor Ops::film_from(const at::Tensor& x, const at::Tensor& source, const torch::nn::Sequential& alpha,
                          size_t alpha_first, const torch::nn::Sequential& beta, size_t beta_first, bool relu,
                          bool may_overwrite, const char* dir, int level)
{
    const at::ScalarType t = x.scalar_type();
    const auto cl = at::MemoryFormat::ChannelsLast;
    // Only where the slices can run at all (else an empty film_from range precedes film_params and film).
    if (fast_ && cpu_ && onednn::pointwise_slices_available() && (t == at::kFloat || t == at::kBFloat16) &&
        source.scalar_type() == t && x.is_contiguous(cl) && source.is_contiguous(cl) && x.size(0) == source.size(0) &&
        x.size(2) == source.size(2) && x.size(3) == source.size(3) && x.numel() > 0) {
        BFT_LAYER("film_from");
        auto conv_at = [](const torch::nn::Sequential& seq, size_t i) { return seq->ptr(i)->as<torch::nn::Conv2dImpl>(); };
        auto *a1 = conv_at(alpha, alpha_first), *a2 = conv_at(alpha, alpha_first + 2), *b1 = conv_at(beta, beta_first),
             *b2 = conv_at(beta, beta_first + 2);
        if (a2->weight.size(0) == x.size(1)) {
            const std::array<at::Tensor, 4> pair = fused_pair(*a1, *a2, *b1, *b2); // film_params' derived weights
            const at::Tensor &w1 = pair[0], &c1 = pair[1], &w2 = pair[2], &c2 = pair[3];
            // Each pixel's output depends on its own input and the statistics, complete before the
            // first write: writing over x is safe where x is no one else's.
            kernels::Statistics stats;
            at::Tensor y;
            // Recording (the editor's gamma/beta viewer): each slice's rows also go to planar float32
            // maps while in cache, where materialising gamma and beta for the unfused path and
            // copying them to NCHW cost a ResNet at 256 about 130 ms.
            at::Tensor captured;
            const bool ran = onednn::pointwise_pair_slices(
                source, w1, c1, w2, c2, /*groups=*/2,
                [&](int64_t first, int64_t pixels, const void* rows) {
                    if (captured.defined())
                        kernels::rows_to_planar(rows, t, first, pixels, captured);
                    kernels::modulate_rows(x, y, stats, first, pixels, rows, relu);
                },
                [&] {
                    stats = kernels::channel_statistics(x, /*unbiased=*/true);
                    y = may_overwrite && sole_owner(x) ? x : at::empty_like(x, x.options().memory_format(cl));
                    if (film_)
                        captured = at::empty({x.size(0), 2 * x.size(1), x.size(2), x.size(3)}, x.options().dtype(at::kFloat));
                });
            if (ran) {
                record(dir, level, captured);
                return y;
            }
        }
    }
    const at::Tensor gamma_beta = film_params(source, alpha, alpha_first, beta, beta_first);
    record(dir, level, gamma_beta);
    return film(x, gamma_beta, relu, may_overwrite);
}

at::Tensor Ops::instance_norm(const at::Tensor& x, bool relu)
{
    BFT_LAYER("instance_norm");
    if (fast_ && cpu_)
        return kernels::instance_norm(x, relu, sole_owner(x));
    if (fast_) {
        // CUDA inference: LibTorch's instance_norm runs as a batch norm over a (1, N*C, H, W) view,
        // for which it copies a channels-last map into NCHW (and the next convolution copies it
        // back). The same statistics here, in fp32, in the map's own layout.
        at::Tensor y = normalized(x.to(statistics_type(x)), /*unbiased=*/false);
        return (relu ? y.relu_() : y).to(x.scalar_type());
    }
    if (cpu_ && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble))
        return instance_norm_fused(x, relu, 0.0); // training: one autograd node
    at::Tensor y = bft::instance_norm(x.to(statistics_type(x)));
    return (relu ? at::relu(y) : y).to(x.scalar_type());
}

at::Tensor Ops::skip_concat(const at::Tensor& skip, const at::Tensor& h)
{
    const at::ScalarType t = h.scalar_type();
    if (fast_ && cpu_ && (t == at::kFloat || t == at::kBFloat16) && skip.scalar_type() == t) {
        const at::Tensor& x = h; // what BFT_LAYER syncs on, on a GPU
        BFT_LAYER("skip_concat");
        return kernels::skip_concat(skip, h);
    }
    // In inference the ReLU rewrites the concatenation, which is no one else's.
    const at::Tensor both = at::cat({skip, instance_norm(h, false)}, 1);
    return fast_ ? both.relu_() : at::relu(both);
}

at::Tensor Ops::skip_conv_transpose(const at::Tensor& skip, const at::Tensor& h, torch::nn::ConvTranspose2dImpl& m)
{
    // (Winograd's input transform reads 16 channels at a time, from one map or the other.)
    if (winograd_s2_ && skip.scalar_type() == at::kFloat && h.scalar_type() == at::kFloat && skip.size(1) % 16 == 0 &&
        h.size(1) % 16 == 0) {
        // h has the concatenation's batch and size, all the routing reads of it
        if (const int tile = use_winograd_s2(h, m, /*padding=*/1, /*output_padding=*/0)) {
            const at::Tensor& x = h; // what BFT_LAYER syncs on, on a GPU
            BFT_LAYER("conv_transpose");
            return winograd_s2_skip_conv_transpose(skip, h, winograd_s2_weight(h, m.weight, tile, true),
                                                   cast(m.bias, kCast), tile);
        }
    }
    return conv_transpose(skip_concat(skip, h), m, /*padding=*/1, /*output_padding=*/0);
}

at::Tensor Ops::unet_output(const at::Tensor& skip, const at::Tensor& h, torch::nn::ConvTranspose2dImpl& m)
{
    // In the bf16 preview too (float32 output from bf16 maps): oneDNN's bf16 phases into 3 channels
    // took 1.4 ms and the skip map 0.8 of a texture forward at 128, batch 4 (28 ms).
    const bool maps = (h.scalar_type() == at::kFloat || h.scalar_type() == at::kBFloat16) &&
                      skip.scalar_type() == h.scalar_type();
    if (fast_ && cpu_ && maps && m.options.out_channels() <= 4 && unet_up_layer(m, /*padding=*/1, /*output_padding=*/0)) {
        // Skip concatenation, GEMM and tap sums as separate passes: 1.4 + 1.7 + 0.2 (tanh) ms of a
        // texture forward at 256.
        const at::Tensor& x = h; // what BFT_LAYER syncs on, on a GPU
        BFT_LAYER("unet_output");
        return kernels::unet_output(skip, h, m.weight, m.bias);
    }
    return at::tanh(skip_conv_transpose(skip, h, m));
}

bool Ops::padded_trunk(const at::Tensor& x) const
{
    return fast_ && cpu_ && x.scalar_type() == at::kFloat && x.dim() == 4 && x.is_contiguous();
}

bool Ops::reflect_trunk(const at::Tensor& x, int64_t channels) const
{
    if (!reflect_winograd_ || x.scalar_type() != at::kFloat || !winograd_reflect_fits(x, channels))
        return false;
    return winograd_reflect_tiles(x) <= kReflectWinogradMaxTiles;
}

at::Tensor Ops::reflect_conv(const at::Tensor& x, torch::nn::Conv2dImpl& m, bool normalize)
{
    kernels::Statistics st;
    if (normalize) {
        BFT_LAYER("instance_norm");
        st = kernels::channel_statistics(x, /*unbiased=*/false);
    }
    BFT_LAYER("conv");
    const at::Tensor own =
        cache_.get_one(tag(kWinogradReflect), {m.weight}, [&] { return winograd_own_weights(winograd_weights(m.weight)); });
    return winograd_reflect_conv3x3(x, own, m.bias, normalize ? st.mean.data() : nullptr,
                                    normalize ? st.inv.data() : nullptr);
}

at::Tensor Ops::instance_norm_add(const at::Tensor& x, const at::Tensor& residual)
{
    BFT_LAYER("instance_norm");
    // One pass after the statistics where both maps are channels-last float32 (the reflect trunk's).
    if (at::Tensor y = kernels::instance_norm_add(x, residual, sole_owner(x)); y.defined())
        return y;
    at::Tensor y = kernels::instance_norm(x, /*relu=*/false, sole_owner(x));
    return y.add_(residual);
}

at::Tensor Ops::instance_norm_padded(const at::Tensor& x, bool relu, int64_t pad, const at::Tensor& residual)
{
    BFT_LAYER("instance_norm");
    // x may come in any layout (oneDNN picks one for some shapes): the kernel reads it as NCHW.
    if (!fast_ || !cpu_ || x.scalar_type() != at::kFloat)
        throw Error("instance_norm_padded: CPU inference in float32 only");
    return kernels::instance_norm_padded(x, relu, pad, residual);
}

at::Tensor Ops::tap_weight(const torch::nn::Conv2dImpl& m)
{
    return cache_.get_one(tag(kTaps), {m.weight}, [&] { return tap_weights(m.weight.detach()); });
}

at::Tensor Ops::reflect_pad_conv(const at::Tensor& x, int64_t pad, torch::nn::Conv2dImpl& m)
{
    // The Xeon, pose at 256: reflect_pad 4.3 ms (17.6 MB written, then read back by the convolution)
    // + the 7x7 convolution 5.2 -> 5.4-5.6 ms, each thread padding the 7 rows it reads in cache.
    if (fast_ && cpu_ && dtype_ == at::kFloat && x.scalar_type() == at::kFloat && x.dim() == 4 && pad > 0 &&
        use_taps(x, m)) {
        BFT_LAYER("conv");
        const at::Tensor taps = tap_weight(m);
        if (at::Tensor y = kernels::conv_few_outputs(x, taps, (*m.options.kernel_size())[0], cast(m.bias, kCast),
                                                     /*avx2_only=*/false, pad);
            y.defined())
            return y;
    }
    return conv(reflect_pad(x, pad), m);
}

at::Tensor Ops::reflect_pad(const at::Tensor& x, int64_t pad)
{
    BFT_LAYER("reflect_pad");
    if (fast_ && cpu_)
        return kernels::reflect_pad(x, pad);
    if (x.scalar_type() == at::kFloat && x.is_contiguous())
        return bft::reflect_pad(x, pad); // differentiable
    // LibTorch 1.13 has no bf16 reflection padding and drops channels-last: copy the border by hand.
    const int64_t h = x.size(2), w = x.size(3);
    if (pad >= h || pad >= w)
        throw Error("reflection padding larger than the image");
    at::Tensor out = at::empty({x.size(0), x.size(1), h + 2 * pad, w + 2 * pad},
                               x.options().memory_format(x.suggest_memory_format()));
    out.narrow(2, pad, h).narrow(3, pad, w).copy_(x);
    for (int64_t i = 1; i <= pad; ++i) {
        out.narrow(2, pad - i, 1).narrow(3, pad, w).copy_(x.narrow(2, i, 1));
        out.narrow(2, pad + h - 1 + i, 1).narrow(3, pad, w).copy_(x.narrow(2, h - 1 - i, 1));
    }
    for (int64_t i = 1; i <= pad; ++i) { // columns last, from the already padded rows: corners included
        out.narrow(3, pad - i, 1).copy_(out.narrow(3, pad + i, 1));
        out.narrow(3, pad + w - 1 + i, 1).copy_(out.narrow(3, pad + w - 1 - i, 1));
    }
    return out;
}

void Ops::record(const char* dir, int level, const at::Tensor& gamma_beta)
{
    if (!film_)
        return;
    const int64_t c = gamma_beta.size(1) / 2;
    record_film(film_, dir, level, output(gamma_beta.narrow(1, 0, c)), output(gamma_beta.narrow(1, c, c)));
}

} // namespace bft
