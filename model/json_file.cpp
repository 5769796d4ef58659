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

namespace {
const nlohmann::json* field(const nlohmann::json& j, const char* key, const std::string& where, bool required)
{
    if (!j.is_object() || !j.contains(key)) {
        if (required)
            throw Error(where, std::string("has no '") + key + "'");
        return nullptr;
    }
    const nlohmann::json& v = j[key];
    if (!v.is_number())
        throw Error(where, std::string("'") + key + "' must be a number");
    return &v;
}
} // namespace

int64_t json_integer(const nlohmann::json& j, const char* key, int64_t fallback, int64_t lo, int64_t hi, const std::string& where,
                     bool required)
{
    const nlohmann::json* v = field(j, key, where, required);
    if (!v)
        return fallback;
    const double d = v->get<double>();
    // 2^63 (what INT64_MAX rounds to as a double) is itself no int64: the bound is strict there.
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi) && d < 9223372036854775808.0) ||
        d != static_cast<double>(static_cast<int64_t>(d)))
        throw Error(where, std::string("'") + key + "' must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return v->is_number_unsigned() ? static_cast<int64_t>(v->get<uint64_t>()) : v->is_number_integer() ? v->get<int64_t>() : static_cast<int64_t>(d);
}

double json_number(const nlohmann::json& j, const char* key, double fallback, double lo, double hi, const std::string& where, bool required)
{
    const nlohmann::json* v = field(j, key, where, required);
    if (!v)
        return fallback;
    const double d = v->get<double>();
    if (!(d >= lo && d <= hi))
        throw Error(where, std::string("'") + key + "' must be a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return d;
}

} // namespace bft
