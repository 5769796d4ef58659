// bft_fuzz_replay TARGET DIR...: runs every file of the folders through one fuzz target, as CI
// does with the corpora and the regression inputs of past findings. A crash or an escaped
// exception fails it.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define BFT_DECLARE(name) int bft_fuzz_##name(const uint8_t* data, size_t size);
BFT_DECLARE(checkpoint)
BFT_DECLARE(npy)
BFT_DECLARE(openpose)
BFT_DECLARE(dataset_json)
BFT_DECLARE(patch_layout)
BFT_DECLARE(image)
BFT_DECLARE(depth_points)

namespace {
struct Entry {
    const char* name;
    int (*run)(const uint8_t*, size_t);
};
const Entry kTargets[] = {{"checkpoint", bft_fuzz_checkpoint}, {"npy", bft_fuzz_npy},         {"openpose", bft_fuzz_openpose},
                          {"dataset_json", bft_fuzz_dataset_json}, {"patch_layout", bft_fuzz_patch_layout},
                          {"image", bft_fuzz_image},           {"depth_points", bft_fuzz_depth_points}};
} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s TARGET DIR...\n", argv[0]);
        return 2;
    }
    const Entry* target = nullptr;
    for (const Entry& e : kTargets)
        if (std::strcmp(e.name, argv[1]) == 0)
            target = &e;
    if (!target) {
        std::fprintf(stderr, "unknown target '%s'\n", argv[1]);
        return 2;
    }
    int files = 0;
    for (int a = 2; a < argc; ++a) {
        if (!std::filesystem::is_directory(argv[a]))
            continue;
        std::vector<std::filesystem::path> paths;
        for (const auto& e : std::filesystem::directory_iterator(argv[a]))
            if (e.is_regular_file())
                paths.push_back(e.path());
        for (const auto& p : paths) {
            std::ifstream f(p, std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
            target->run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
            ++files;
        }
    }
    std::printf("%s: %d inputs replayed, none crashed\n", target->name, files);
    return files > 0 ? 0 : 1;
}
