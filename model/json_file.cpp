#include "json_file.h"

#include "atomic_file.h"
#include "errors.h"

namespace bft {

nlohmann::json read_json_file(const std::string& path, size_t max_bytes)
{
    const std::string text = read_file(path, max_bytes);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(path, std::string("not valid JSON: ") + e.what());
    }
}

} // namespace bft
