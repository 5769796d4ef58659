// A small command-line parser for the `bft` subcommands: named options with values, flags,
// positionals, generated --help, and usage errors that say what is wrong.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bft::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Args {
public:
    Args(std::string command, std::string summary);

    Args& option(const std::string& name, const std::string& value_name, const std::string& help,
                 const std::string& default_value = "");
    Args& flag(const std::string& name, const std::string& help);
    Args& positional(const std::string& name, const std::string& help);

    // Returns false when --help was given (help already printed). Throws UsageError.
    bool parse(int argc, char** argv);
    std::string help() const;

    bool has(const std::string& name) const; // given on the command line (or a default exists)
    std::string get(const std::string& name) const;
    std::string require(const std::string& name) const; // UsageError if absent
    int get_int(const std::string& name, int min_value, int max_value) const;
    double get_double(const std::string& name, double min_value, double max_value) const;

private:
    struct Spec {
        std::string name, value_name, help, default_value;
        bool is_flag = false;
    };
    const Spec* find(const std::string& name) const;

    std::string command_, summary_;
    std::vector<Spec> options_;
    std::vector<Spec> positionals_;
    std::map<std::string, std::string> values_;
};

} // namespace bft::cli
