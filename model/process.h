// Child processes of the model library: `bft train --nproc` starts its ranks with it, and the
// fine-tuning panel its `bft train` launcher. posix_spawn (no fork of a threaded process), the
// environment amended, the output to a file when asked, non-blocking waits and signals.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bft {

class ChildProcess {
public:
    // `env`: NAME=value pairs that replace or extend this process's environment; `output`: a file for
    // stdout and stderr (empty: inherit). Throws bft::Error naming the program when it cannot start.
    // `own_group`: in a process group of its own, which signals and the destructor then reach as a
    // whole (a launcher and its ranks); a terminal's Ctrl-C does not.
    static ChildProcess spawn(const std::string& program, const std::vector<std::string>& args,
                              const std::string& output = {},
                              const std::vector<std::pair<std::string, std::string>>& env = {}, bool own_group = false);
    ChildProcess() = default;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ~ChildProcess(); // a child still running is killed and reaped: none outlives its owner

    int pid() const { return pid_; }
    bool running() const { return pid_ > 0 && status_ < 0; }
    // The exit code once it ended (128 + signal when killed), else -1. Never blocks.
    int poll();
    bool signalled() const; // it ended by a signal (rather than by exiting)
    void signal(int sig);
    void interrupt(); // SIGINT
    // A death for the user: "exited with code 3", "was killed by SIGKILL".
    std::string how_it_ended() const;
    // What went wrong, for an error message: the "error:" lines of its output file, else how it ended.
    std::string error_text(const std::string& output, int code) const;

private:
    int pid_ = -1;
    bool group_ = false;
    int status_ = -1;   // exit code as poll() gives it
    int raw_status_ = 0;
};

} // namespace bft
