// Shared helpers of the tests: where the fixtures are, temporary folders, running the CLI.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace bft::test {

std::string shared_dir();                   // ../shared beside the checkout
std::string parity_dir();                   // <shared>/fixtures/official-parity
nlohmann::json parity_manifest();           // manifest.json, parsed
std::string temp_dir(const std::string& name); // a fresh, empty folder under the test's working dir

struct Run {
    int exit_code = -1;
    std::string output; // stdout and stderr together
};
// Runs the bft executable with `args` (already shell-quoted where needed); `output` gets stdout and,
// unless stdout_only, stderr.
Run run_cli(const std::string& args, bool stdout_only = false);

std::string read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::string& bytes);

} // namespace bft::test
