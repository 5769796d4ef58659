// Reading a JSON file for the model library's .cpp files, with errors that name the file.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace bft {

// Throws bft::Error("<path>: ...") when the file is missing, too large or not valid JSON.
nlohmann::json read_json_file(const std::string& path, size_t max_bytes = size_t(1) << 20);

// A numeric field of `j` within [lo, hi], or `fallback` when the field is absent (required when
// fallback is nullopt-like: pass `required = true`). nlohmann converts an out-of-range number to an
// integer with undefined behaviour; these refuse it instead, naming `where` and the field.
int64_t json_integer(const nlohmann::json& j, const char* key, int64_t fallback, int64_t lo, int64_t hi, const std::string& where,
                     bool required = false);
double json_number(const nlohmann::json& j, const char* key, double fallback, double lo, double hi, const std::string& where,
                   bool required = false);

} // namespace bft
