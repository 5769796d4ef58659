// Reading a JSON file for the model library's .cpp files, with errors that name the file.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace bft {

// Throws bft::Error("<path>: ...") when the file is missing, too large or not valid JSON.
nlohmann::json read_json_file(const std::string& path, size_t max_bytes = size_t(1) << 20);

} // namespace bft
