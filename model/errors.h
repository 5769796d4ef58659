// Error type of the model library: every failure a user can cause (bad file, wrong shape, NaN)
// is reported as a bft::Error whose message names the file (when there is one) and the problem.
#pragma once

#include <stdexcept>
#include <string>

namespace bft {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
    // "<path>: <problem>", the form every reader uses.
    Error(const std::string& path, const std::string& problem)
        : std::runtime_error(path.empty() ? problem : path + ": " + problem) {}
};

} // namespace bft
