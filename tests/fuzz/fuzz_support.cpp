#include "fuzz_target.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace bft::fuzz {

std::string scratch_file(const uint8_t* data, size_t size, const std::string& name)
{
    // tmpfs when there is one: a million executions are a million writes.
    // Never destroyed: the exit handler that removes the folder runs after static destructors.
    static const std::string& dir = *[] {
        const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        const auto* d = new std::string((base / ("bft-fuzz-" + std::to_string(::getpid()))).string());
        std::filesystem::create_directories(*d);
        static const std::string* remove = d;
        std::atexit([] { std::filesystem::remove_all(*remove); });
        return d;
    }();
    const std::string path = dir + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0)
        throw std::runtime_error("cannot write the scratch file " + path);
    return path;
}

} // namespace bft::fuzz
