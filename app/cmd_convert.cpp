// `bft convert IN OUT`: rewrites a generator checkpoint as a clean zip-format state dict (legacy
// files of PyTorch < 1.6 and DataParallel "module." keys become what current PyTorch writes).
#include "cli_args.h"
#include "commands.h"

#include "checkpoint.h"

#include <ATen/ATen.h>

#include <iostream>

namespace bft::cli {

int cmd_convert(int argc, char** argv)
{
    Args args("convert", "Reads a generator checkpoint (legacy or zip, with or without a DataParallel 'module.' prefix),\n"
                         "checks it against the architecture its keys describe, and writes it as a zip-format state dict\n"
                         "with the reference's key names, which Python's torch.load reads as a dict of tensors.");
    args.positional("INPUT", "a .pth state dict of a bFT/uFT generator")
        .positional("OUTPUT", "the .pth file to write")
        .flag("half", "store the weights in float16 (half the size; loaders cast them back to float32)");
    if (!args.parse(argc, argv))
        return 0;
    const LoadedGenerator g = load_generator(args.get("INPUT"));
    auto state = generator_state(*g.net);
    if (args.has("half"))
        for (auto& kv : state)
            kv.second = kv.second.to(at::kHalf);
    write_state_dict(args.get("OUTPUT"), state);
    std::cout << "wrote " << args.get("OUTPUT") << " (" << arch_name(g.net->spec().arch) << ", " << g.params
              << " parameters, zip format" << (args.has("half") ? ", float16" : "") << ")\n";
    return 0;
}

} // namespace bft::cli
