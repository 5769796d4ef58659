// Running a generator on real inputs: checks (channels, sizes, NaN), reflection padding to the
// size the network takes and cropping back, device transfer, no-grad inference mode, and the
// optional capture of gamma/beta maps.
#pragma once

#include "film.h"
#include "generator.h"

#include <c10/core/Device.h>

namespace bft {

struct Translation {
    at::Tensor output; // N x output_nc x H x W, CPU, float32
    FilmMaps film;     // empty unless captured; CPU, cropped to the input's extent at each level
};

struct TranslateOptions {
    bool capture_film = false;
    Precision precision = Precision::FP32;
    const std::atomic<bool>* cancel = nullptr; // when it turns true the forward stops; output is then undefined
    bool winograd = true; // engine.h, ForwardOptions::winograd
    bool amx = false;     // engine.h, ForwardOptions::amx (--fp32-math high)
};

// input/guide: NCHW or CHW float tensors in [-1, 1]. `net` must already be on `device`.
// Throws bft::Error with a message naming the problem on bad inputs.
Translation translate(GeneratorImpl& net, at::Tensor input, at::Tensor guide, const c10::Device& device,
                      const TranslateOptions& options);
inline Translation translate(GeneratorImpl& net, at::Tensor input, at::Tensor guide, const c10::Device& device,
                             bool capture_film = false)
{
    TranslateOptions options;
    options.capture_film = capture_film;
    return translate(net, std::move(input), std::move(guide), device, options);
}

// Pads H, W at the bottom/right by reflection (edge replication where the image is too small to
// reflect) to multiples of `multiple` and at least `min_side`.
at::Tensor pad_to_fit(const at::Tensor& x, int multiple, int min_side);

} // namespace bft
