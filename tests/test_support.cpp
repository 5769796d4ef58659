#include "test_support.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

namespace bft::test {

std::string shared_dir() { return BFT_SHARED_DIR; }
std::string parity_dir() { return shared_dir() + "/fixtures/official-parity"; }

nlohmann::json parity_manifest()
{
    std::ifstream f(parity_dir() + "/manifest.json");
    if (!f)
        throw std::runtime_error("parity fixtures not found at " + parity_dir() + " (is ../shared beside the checkout?)");
    return nlohmann::json::parse(f);
}

std::string temp_dir(const std::string& name)
{
    namespace fs = std::filesystem;
    fs::path p = fs::current_path() / "tmp" / name;
    fs::remove_all(p);
    fs::create_directories(p);
    return p.string();
}

Run run_cli(const std::string& args, bool stdout_only)
{
    Run r;
    const std::string cmd = std::string("'") + BFT_CLI + "' " + args + (stdout_only ? " 2>/dev/null" : " 2>&1");
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p)
        return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        r.output.append(buf, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string read_bytes(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes)
{
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace bft::test
