// dataset.json of a dataset folder.
#include "fuzz_target.h"

#include "dataset.h"
#include "errors.h"

#include <filesystem>

BFT_FUZZ_TARGET(dataset_json)
{
    const std::string path = bft::fuzz::scratch_file(data, size, "dataset.json");
    try {
        bft::DatasetInfo::read(std::filesystem::path(path).parent_path().string());
    } catch (const bft::Error&) {
    }
    return 0;
}
