// Checkpoint files of the bFT generators, without Python: both formats torch.save writes (the
// legacy pickle stream of PyTorch < 1.6, which the authors' published checkpoints use, and the zip
// archive of PyTorch >= 1.6), architecture inference from the keys, strict loading into our
// networks, and writing zip checkpoints that Python's torch.load reads as a dict of tensors.
#pragma once

#include "arch.h"
#include "generator.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace bft {

enum class CheckpointFormat { Legacy, Zip };
std::string format_name(CheckpointFormat f); // "legacy" / "zip", as in the fixtures' manifest

struct StateDict {
    std::vector<std::pair<std::string, at::Tensor>> entries; // file order, CPU tensors
    CheckpointFormat format = CheckpointFormat::Zip;
};

// Reads a .pth state dict. Throws bft::Error("<path>: ...") for a missing, truncated, corrupt or
// foreign file (any pickle that is not a dict of tensors is refused, never executed).
StateDict read_state_dict(const std::string& path);

// Writes `entries` as a torch.save zip archive (atomically).
void write_state_dict(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& entries);

// The keys a generator expects: its own, with the tolerance the reference loader has - a
// "module." prefix (DataParallel) is removed, InstanceNorm running statistics that old PyTorch
// versions stored are dropped when the model has no such buffers.
std::vector<std::pair<std::string, at::Tensor>> normalize_keys(const StateDict& sd);

// Which generator the keys and shapes describe. Throws bft::Error naming the file if none.
ArchSpec infer_arch(const StateDict& sd, const std::string& path);

// Copies the weights into `net`; strict: an error lists missing and unexpected keys and shape
// mismatches by name.
void load_weights(GeneratorImpl& net, const StateDict& sd, const std::string& path);

struct LoadedGenerator {
    Generator net;
    CheckpointFormat format = CheckpointFormat::Zip;
    int64_t params = 0;
};
// read_state_dict + infer_arch + make_generator + load_weights; the net is in eval mode on the CPU.
LoadedGenerator load_generator(const std::string& path);

// The generator's weights under the reference's names, in registration order, on the CPU.
std::vector<std::pair<std::string, at::Tensor>> generator_state(GeneratorImpl& net);
int64_t count_parameters(GeneratorImpl& net);

} // namespace bft
