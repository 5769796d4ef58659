// `bft info CHECKPOINT`: what a checkpoint holds, inferred from its keys and shapes alone.
#include "cli_args.h"
#include "commands.h"

#include "checkpoint.h"

#include <iostream>

namespace bft::cli {

int cmd_info(int argc, char** argv)
{
    Args args("info", "Reads a generator checkpoint (.pth, legacy or zip format) and prints its architecture,\n"
                      "parameter count and file format, inferred from the keys and shapes alone.");
    args.positional("CHECKPOINT", "a .pth state dict of a bFT/uFT generator")
        .flag("json", "print one JSON object instead of text");
    if (!args.parse(argc, argv))
        return 0;
    const std::string path = args.get("CHECKPOINT");
    const LoadedGenerator g = load_generator(path); // loads the weights too: proves the file is usable
    const ArchSpec& s = g.net->spec();
    if (args.has("json")) {
        std::string j = s.to_json();
        j.pop_back();
        std::cout << j << ", \"params\": " << g.params << ", \"format\": \"" << format_name(g.format) << "\"}\n";
        return 0;
    }
    std::cout << "checkpoint:  " << path << "\n"
              << "format:      " << format_name(g.format)
              << (g.format == CheckpointFormat::Legacy ? " (pickle stream, PyTorch < 1.6)" : " (zip archive, PyTorch >= 1.6)")
              << "\n"
              << "arch:        " << arch_name(s.arch) << "\n"
              << "channels:    input " << s.input_nc << ", guide " << s.guide_nc << ", output " << s.output_nc << "\n"
              << "ngf:         " << s.ngf << "\n";
    if (s.is_resnet())
        std::cout << "n_blocks:    " << s.n_blocks << "\n";
    else
        std::cout << "num_downs:   " << s.num_downs << "\n";
    std::cout << "bottleneck:  " << s.bottleneck_depth << "\n"
              << "params:      " << g.params << "\n"
              << "input size:  multiples of " << s.size_multiple() << " (other sizes are padded)\n";
    return 0;
}

} // namespace bft::cli
