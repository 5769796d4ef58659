// The subcommands of `bft`. Each takes the arguments after its name and returns the exit code;
// bft_main.cpp turns exceptions into one-line errors.
#pragma once

namespace bft::cli {

int cmd_info(int argc, char** argv);
int cmd_translate(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_convert(int argc, char** argv);

} // namespace bft::cli
