#include "arch.h"

#include "errors.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace bft {

std::string arch_name(Arch arch)
{
    switch (arch) {
    case Arch::BftResnet: return "bFT_resnet";
    case Arch::BftUnet: return "bFT_unet";
    case Arch::UftResnet: return "uFT_resnet";
    case Arch::UftUnet: return "uFT_unet";
    }
    return "unknown";
}

Arch arch_from_name(const std::string& name)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    for (Arch a : {Arch::BftResnet, Arch::BftUnet, Arch::UftResnet, Arch::UftUnet}) {
        std::string n = arch_name(a);
        std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
        if (n == lower)
            return a;
    }
    throw Error("unknown architecture '" + name + "' (expected bFT_resnet, bFT_unet, uFT_resnet or uFT_unet)");
}

ArchSpec task_preset(const std::string& task)
{
    ArchSpec s;
    if (task == "pose") {
        s.arch = Arch::BftResnet;
        s.input_nc = 3, s.guide_nc = 18, s.output_nc = 3;
    } else if (task == "depth") {
        s.arch = Arch::BftResnet;
        s.input_nc = 1, s.guide_nc = 3, s.output_nc = 1;
    } else if (task == "texture") {
        s.arch = Arch::BftUnet;
        s.input_nc = 1, s.guide_nc = 4, s.output_nc = 3, s.num_downs = 7;
    } else {
        throw Error("unknown task '" + task + "' (expected pose, depth or texture)");
    }
    return s;
}

int ArchSpec::size_multiple() const
{
    return is_resnet() ? 8 : (1 << num_downs);
}

int ArchSpec::min_side() const
{
    // ResNet: the last FiLM level is at 1/8 scale; U-Net: at 1/2^(num_downs-1), and the innermost
    // conv needs 1 pixel, which the size multiple already guarantees.
    return is_resnet() ? 16 : (1 << num_downs);
}

void ArchSpec::validate() const
{
    auto positive = [](int v, const char* what) {
        if (v <= 0 || v > 100000)
            throw Error(std::string("invalid architecture: ") + what + " = " + std::to_string(v));
    };
    positive(input_nc, "input_nc");
    positive(guide_nc, "guide_nc");
    positive(output_nc, "output_nc");
    positive(ngf, "ngf");
    positive(bottleneck_depth, "bottleneck_depth");
    if (is_resnet()) {
        if (n_blocks < 0 || n_blocks > 1000)
            throw Error("invalid architecture: n_blocks = " + std::to_string(n_blocks));
    } else if (num_downs < 6 || num_downs > 12) {
        throw Error("invalid architecture: num_downs = " + std::to_string(num_downs) + " (the U-Net generators need 6..12)");
    }
}

std::string ArchSpec::describe() const
{
    std::ostringstream s;
    s << arch_name(arch) << " input_nc=" << input_nc << " guide_nc=" << guide_nc << " output_nc=" << output_nc
      << " ngf=" << ngf;
    if (is_resnet())
        s << " n_blocks=" << n_blocks;
    else
        s << " num_downs=" << num_downs;
    s << " bottleneck_depth=" << bottleneck_depth;
    return s.str();
}

std::string ArchSpec::to_json() const
{
    std::ostringstream s;
    s << "{\"arch\": \"" << arch_name(arch) << "\", \"input_nc\": " << input_nc << ", \"guide_nc\": " << guide_nc
      << ", \"output_nc\": " << output_nc << ", \"ngf\": " << ngf << ", ";
    if (is_resnet())
        s << "\"n_blocks\": " << n_blocks;
    else
        s << "\"num_downs\": " << num_downs;
    s << ", \"bottleneck_depth\": " << bottleneck_depth << "}";
    return s.str();
}

} // namespace bft
