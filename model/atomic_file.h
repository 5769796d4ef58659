// Atomic file writing: data goes to a temporary file beside the target, is flushed to disk, and
// then renamed over the target, so a crash or a full disk never leaves a half-written file.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace bft {

// Calls `produce(write)`; `write(data, n)` appends bytes. Throws bft::Error naming `path` on failure,
// leaving any previous file at `path` untouched.
void write_file_atomically(const std::string& path,
                           const std::function<void(const std::function<void(const void*, size_t)>& write)>& produce);
void write_file_atomically(const std::string& path, const std::string& contents);

// Reads a whole file; throws bft::Error naming the path when it cannot (missing, a directory,
// unreadable, larger than max_bytes).
std::string read_file(const std::string& path, size_t max_bytes = size_t(1) << 34);

} // namespace bft
