#include "cli_args.h"

#include <iostream>
#include <sstream>

namespace bft::cli {

Args::Args(std::string command, std::string summary) : command_(std::move(command)), summary_(std::move(summary))
{
    flag("help", "show this help and exit");
}

Args& Args::option(const std::string& name, const std::string& value_name, const std::string& help,
                   const std::string& default_value)
{
    options_.push_back({name, value_name, help, default_value, false});
    return *this;
}

Args& Args::flag(const std::string& name, const std::string& help)
{
    options_.push_back({name, "", help, "", true});
    return *this;
}

Args& Args::positional(const std::string& name, const std::string& help)
{
    positionals_.push_back({name, name, help, "", false});
    return *this;
}

const Args::Spec* Args::find(const std::string& name) const
{
    for (const auto& s : options_)
        if (s.name == name)
            return &s;
    for (const auto& s : positionals_)
        if (s.name == name)
            return &s;
    return nullptr;
}

bool Args::parse(int argc, char** argv)
{
    size_t next_positional = 0;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) == 0 && a.size() > 2) {
            std::string name = a.substr(2), value;
            bool inline_value = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                inline_value = true;
            }
            const Spec* spec = nullptr;
            for (const auto& s : options_)
                if (s.name == name)
                    spec = &s;
            if (!spec)
                throw UsageError("unknown option --" + name);
            if (spec->is_flag) {
                if (inline_value)
                    throw UsageError("--" + name + " takes no value");
                values_[name] = "1";
                if (name == "help") {
                    std::cout << help();
                    return false;
                }
                continue;
            }
            if (!inline_value) {
                if (i + 1 >= argc)
                    throw UsageError("--" + name + " needs a value (" + spec->value_name + ")");
                value = argv[++i];
            }
            values_[name] = value;
        } else {
            if (next_positional >= positionals_.size())
                throw UsageError("unexpected argument '" + a + "'");
            values_[positionals_[next_positional++].name] = a;
        }
    }
    for (size_t k = next_positional; k < positionals_.size(); ++k)
        throw UsageError("missing " + positionals_[k].name);
    return true;
}

std::string Args::help() const
{
    std::ostringstream s;
    s << "usage: bft " << command_;
    for (const auto& p : positionals_)
        s << " " << p.name;
    s << " [options]\n\n" << summary_ << "\n";
    if (!positionals_.empty()) {
        s << "\narguments:\n";
        for (const auto& p : positionals_)
            s << "  " << p.name << "\n      " << p.help << "\n";
    }
    s << "\noptions:\n";
    for (const auto& o : options_) {
        s << "  --" << o.name;
        if (!o.is_flag)
            s << " " << o.value_name;
        s << "\n      " << o.help;
        if (!o.default_value.empty())
            s << " (default: " << o.default_value << ")";
        s << "\n";
    }
    return s.str();
}

bool Args::has(const std::string& name) const
{
    if (values_.count(name))
        return true;
    const Spec* s = find(name);
    return s && !s->default_value.empty();
}

std::string Args::get(const std::string& name) const
{
    if (auto it = values_.find(name); it != values_.end())
        return it->second;
    const Spec* s = find(name);
    return s ? s->default_value : std::string();
}

std::string Args::require(const std::string& name) const
{
    if (!has(name))
        throw UsageError("--" + name + " is required");
    return get(name);
}

int Args::get_int(const std::string& name, int min_value, int max_value) const
{
    const std::string v = get(name);
    try {
        size_t used = 0;
        long n = std::stol(v, &used);
        if (used != v.size())
            throw std::invalid_argument(v);
        if (n < min_value || n > max_value)
            throw UsageError("--" + name + " must be between " + std::to_string(min_value) + " and " +
                             std::to_string(max_value) + ", got " + v);
        return static_cast<int>(n);
    } catch (const UsageError&) {
        throw;
    } catch (const std::exception&) {
        throw UsageError("--" + name + " needs a whole number, got '" + v + "'");
    }
}

double Args::get_double(const std::string& name, double min_value, double max_value) const
{
    const std::string v = get(name);
    double d = 0;
    try {
        size_t used = 0;
        d = std::stod(v, &used);
        if (used != v.size())
            throw std::invalid_argument(v);
    } catch (const std::exception&) {
        throw UsageError("--" + name + " needs a number, got '" + v + "'");
    }
    if (!(d >= min_value && d <= max_value)) {
        std::ostringstream range;
        range << min_value << " and " << max_value;
        throw UsageError("--" + name + " must be between " + range.str() + ", got " + v);
    }
    return d;
}

} // namespace bft::cli
