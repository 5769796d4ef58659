#include "process.h"

#include "errors.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

extern char** environ;

namespace bft {

ChildProcess ChildProcess::spawn(const std::string& program, const std::vector<std::string>& args, const std::string& output,
                                 const std::vector<std::pair<std::string, std::string>>& env, bool own_group)
{
    std::vector<std::string> vars;
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        const std::string name = kv.substr(0, kv.find('='));
        if (std::none_of(env.begin(), env.end(), [&](const auto& p) { return p.first == name; }))
            vars.push_back(kv);
    }
    for (const auto& [k, v] : env)
        vars.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : vars)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string prog = program;
    std::vector<std::string> words = args;
    argv.push_back(prog.data());
    for (auto& w : words)
        argv.push_back(w.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!output.empty()) {
        posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The child starts with no signal blocked: this thread may be one that blocks them (runtime.h),
    // and a mask survives exec (a child deaf to SIGTERM could not be stopped).
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    short flags = POSIX_SPAWN_SETSIGMASK;
    if (own_group) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(&attr, 0);
    }
    posix_spawnattr_setflags(&attr, flags);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, prog.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw Error(program, std::string("cannot start it: ") + std::strerror(rc));
    ChildProcess c;
    c.pid_ = pid;
    c.group_ = own_group;
    return c;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(o.pid_), group_(o.group_), status_(o.status_), raw_status_(o.raw_status_)
{
    o.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept
{
    std::swap(pid_, o.pid_);
    std::swap(group_, o.group_);
    std::swap(status_, o.status_);
    std::swap(raw_status_, o.raw_status_);
    return *this;
}

ChildProcess::~ChildProcess()
{
    if (group_ && pid_ > 0)
        ::kill(-pid_, SIGKILL); // whatever of its group is left (a launcher's ranks)
    if (running()) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

int ChildProcess::poll()
{
    if (pid_ <= 0 || status_ >= 0)
        return status_;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_)
        return -1;
    raw_status_ = st;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return status_;
}

bool ChildProcess::signalled() const { return status_ >= 0 && WIFSIGNALED(raw_status_); }

void ChildProcess::signal(int sig)
{
    if (running())
        ::kill(group_ ? -pid_ : pid_, sig);
}

void ChildProcess::interrupt() { signal(SIGINT); }

std::string ChildProcess::how_it_ended() const
{
    if (status_ < 0)
        return "is running";
    if (WIFSIGNALED(raw_status_)) {
        const char* name = sigabbrev_np(WTERMSIG(raw_status_));
        return std::string("was killed by ") + (name ? std::string("SIG") + name : "signal " + std::to_string(WTERMSIG(raw_status_)));
    }
    return "exited with code " + std::to_string(status_);
}

std::string ChildProcess::error_text(const std::string& output, int) const
{
    std::ifstream in(output);
    std::string line, errors;
    while (std::getline(in, line)) {
        const auto at = line.find("error: ");
        if (at != std::string::npos)
            errors += (errors.empty() ? "" : "; ") + line.substr(at + 7);
    }
    return errors.empty() ? "the training processes " + how_it_ended() + " (see " + output + ")" : errors;
}

} // namespace bft
