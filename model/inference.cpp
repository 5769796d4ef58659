#include "inference.h"

#include "errors.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

namespace bft {

namespace {

at::Tensor as_batch(at::Tensor t, const char* what)
{
    if (!t.defined())
        throw Error(std::string("no ") + what + " given");
    if (t.dim() == 3)
        t = t.unsqueeze(0);
    if (t.dim() != 4)
        throw Error(std::string(what) + " must be NCHW or CHW, got " + std::to_string(t.dim()) + " dimensions");
    if (!at::isFloatingType(t.scalar_type()))
        t = t.to(at::kFloat);
    return t;
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

} // namespace

at::Tensor pad_to_fit(const at::Tensor& x, int multiple, int min_side)
{
    const int64_t h = x.size(2), w = x.size(3);
    const int64_t ph = round_up(std::max<int64_t>(h, min_side), multiple) - h;
    const int64_t pw = round_up(std::max<int64_t>(w, min_side), multiple) - w;
    if (ph == 0 && pw == 0)
        return x;
    // Reflection needs the pad to be smaller than the side; tiny images fall back to replication.
    if (ph < h && pw < w)
        return at::reflection_pad2d(x, {0, pw, 0, ph});
    return at::replication_pad2d(x, {0, pw, 0, ph});
}

Translation translate(GeneratorImpl& net, at::Tensor input, at::Tensor guide, const c10::Device& device,
                      const TranslateOptions& options)
{
    const ArchSpec& spec = net.spec();
    input = as_batch(std::move(input), "input");
    guide = as_batch(std::move(guide), "guide");
    if (input.size(1) != spec.input_nc)
        throw Error("input has " + std::to_string(input.size(1)) + " channels, the model takes " +
                    std::to_string(spec.input_nc));
    if (guide.size(1) != spec.guide_nc)
        throw Error("guide has " + std::to_string(guide.size(1)) + " channels, the model takes " +
                    std::to_string(spec.guide_nc));
    if (input.size(0) != guide.size(0))
        throw Error("input and guide batch sizes differ (" + std::to_string(input.size(0)) + " vs " +
                    std::to_string(guide.size(0)) + ")");
    if (input.size(2) != guide.size(2) || input.size(3) != guide.size(3))
        throw Error("input is " + std::to_string(input.size(3)) + "x" + std::to_string(input.size(2)) + " but guide is " +
                    std::to_string(guide.size(3)) + "x" + std::to_string(guide.size(2)) + " (they must be the same size)");
    if (input.size(2) < 1 || input.size(3) < 1 || input.size(0) < 1)
        throw Error("input is empty");
    if (!at::isfinite(input).all().item<bool>())
        throw Error("input contains NaN or infinite values");
    if (!at::isfinite(guide).all().item<bool>())
        throw Error("guide contains NaN or infinite values");

    const int64_t h = input.size(2), w = input.size(3);
    c10::InferenceMode inference;
    at::Tensor x = pad_to_fit(input.to(device, at::kFloat), spec.size_multiple(), spec.min_side());
    at::Tensor g = pad_to_fit(guide.to(device, at::kFloat), spec.size_multiple(), spec.min_side());

    Translation result;
    ForwardOptions forward;
    forward.film = options.capture_film ? &result.film : nullptr;
    forward.precision = options.precision;
    forward.cancel = options.cancel;
    forward.winograd = options.winograd;
    forward.amx = options.amx;
    at::Tensor y = net.infer(x, g, forward);
    if (!y.defined())
        return Translation{}; // cancelled
    result.output = y.narrow(2, 0, h).narrow(3, 0, w).to(at::kCPU).contiguous();
    for (auto& [name, map] : result.film) {
        // A level at scale 1/s covers ceil(h/s) rows of the unpadded image.
        const int64_t s = x.size(2) / map.size(2);
        map = map.narrow(2, 0, (h + s - 1) / s).narrow(3, 0, (w + s - 1) / s).to(at::kCPU).contiguous();
    }
    return result;
}

} // namespace bft
