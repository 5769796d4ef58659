// One libFuzzer entry point per reader of outside data. Each fuzz_<name>.cpp defines its body with
// BFT_FUZZ_TARGET(name); built for fuzzing (preset "fuzz", clang) it becomes that binary's
// LLVMFuzzerTestOneInput, built for replay (every build) it is one entry of bft_fuzz_replay,
// which CI runs over the corpora. A target catches bft::Error (a clean refusal) and nothing else:
// any other exception, crash, leak or hang is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bft::fuzz {

// `data` as a file named `name` in a private scratch folder (readers that take paths read it
// there); returns its path.
std::string scratch_file(const uint8_t* data, size_t size, const std::string& name);

} // namespace bft::fuzz

#ifdef BFT_FUZZ_REPLAY
#define BFT_FUZZ_TARGET(name) int bft_fuzz_##name(const uint8_t* data, size_t size)
#else
#define BFT_FUZZ_TARGET(name)                                                                                      \
    int bft_fuzz_##name(const uint8_t* data, size_t size);                                                         \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return bft_fuzz_##name(data, size); } \
    int bft_fuzz_##name(const uint8_t* data, size_t size)
#endif
