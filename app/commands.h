// The subcommands of `bft`. Each takes the arguments after its name and returns the exit code;
// bft_main.cpp turns exceptions into one-line errors.
#pragma once

#include "engine.h"

#include <c10/core/Device.h>

#include <string>

namespace bft::cli {

// --precision as asked, or fp32 with a one-line notice where this device has no bf16.
Precision choose_precision(const std::string& name, const c10::Device& device);
// --fp32-math: true for "high" (ForwardOptions::amx), false for "highest"; UsageError otherwise.
// kFp32MathHelp: the option's help, the same for every command that takes it.
bool fp32_math_high(const std::string& name);
extern const char* const kFp32MathHelp;

int cmd_info(int argc, char** argv);
int cmd_translate(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_synth(int argc, char** argv);
int cmd_dataset(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_eval(int argc, char** argv);

} // namespace bft::cli
