// Architecture descriptions of the generators of the bFT paper and their one-way FiLM baselines:
// which network, its channel counts and depth. A checkpoint's ArchSpec is inferred from its keys
// (checkpoint.h), so users only point at a file.
#pragma once

#include <string>

namespace bft {

enum class Arch {
    BftResnet, // bFT_Resnet: two encoders, bi-directional FiLM at 4 levels, 9 ResNet blocks
    BftUnet,   // bFT_Unet: two encoders, bi-directional FiLM at levels 2..num_downs-1, U-Net decoder
    UftResnet, // uFT_resnet: guide -> input FiLM only (the paper's ablation)
    UftUnet,   // uFT_Unet: guide -> input FiLM only
};

struct ArchSpec {
    Arch arch = Arch::BftResnet;
    int input_nc = 3;
    int guide_nc = 18;
    int output_nc = 3;
    int ngf = 64;
    int n_blocks = 9;          // ResNet generators only
    int num_downs = 7;         // U-Net generators only (>= 6)
    int bottleneck_depth = 100;

    bool is_resnet() const { return arch == Arch::BftResnet || arch == Arch::UftResnet; }
    bool is_bidirectional() const { return arch == Arch::BftResnet || arch == Arch::BftUnet; }
    // Spatial sizes must be multiples of this (stride-2 levels); inference pads to it.
    int size_multiple() const;
    // Smallest side that keeps every FiLM level at >= 2 pixels per channel (unbiased std needs 2).
    int min_side() const;
    // Throws bft::Error on impossible values (non-positive channels, num_downs < 6, ...).
    void validate() const;
    std::string describe() const; // one line, for people
    std::string to_json() const;  // one JSON object
};

// Names as the authors' code spells them: "bFT_resnet", "bFT_unet", "uFT_resnet", "uFT_unet".
std::string arch_name(Arch arch);
// The generators of the paper's three tasks, full size (ngf 64): "pose" (bFT ResNet, 3 -> 3 with 18
// keypoint maps, 9 blocks), "depth" (bFT ResNet, 1 -> 1 with an RGB guide), "texture" (bFT UNet,
// L channel -> Lab with a Lab patch + mask guide, 7 downs). Throws on other names.
ArchSpec task_preset(const std::string& task);

// Accepts the names above case-insensitively (also "bFT_Resnet", "uFT_Unet"); throws on others.
Arch arch_from_name(const std::string& name);

} // namespace bft
