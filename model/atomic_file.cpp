#include "atomic_file.h"

#include "errors.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bft {

namespace {
std::string errno_text() { return std::strerror(errno); }
} // namespace

void write_file_atomically(const std::string& path,
                           const std::function<void(const std::function<void(const void*, size_t)>& write)>& produce)
{
    static std::atomic<unsigned> counter{0};
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(path, "cannot create file: " + errno_text());
    auto cleanup = [&] {
        if (fd >= 0)
            ::close(fd);
        ::unlink(tmp.c_str());
    };
    try {
        produce([&](const void* data, size_t n) {
            const char* p = static_cast<const char*>(data);
            while (n > 0) {
                ssize_t w = ::write(fd, p, n);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    throw Error(path, "write failed: " + errno_text());
                p += w;
                n -= static_cast<size_t>(w);
            }
        });
        if (::fsync(fd) != 0)
            throw Error(path, "write failed: " + errno_text());
        if (::close(fd) != 0) {
            fd = -1;
            throw Error(path, "write failed: " + errno_text());
        }
        fd = -1;
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            throw Error(path, "cannot replace file: " + errno_text());
        // The rename itself survives a power cut only once the folder is on disk too.
        const size_t slash = path.find_last_of('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
        const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            ::fsync(dfd);
            ::close(dfd);
        }
    } catch (...) {
        cleanup();
        throw;
    }
}

void write_file_atomically(const std::string& path, const std::string& contents)
{
    write_file_atomically(path, [&](const auto& write) { write(contents.data(), contents.size()); });
}

std::string read_file(const std::string& path, size_t max_bytes)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(path, "cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(path, "not a regular file");
    }
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
        ::close(fd);
        throw Error(path, "file is too large (" + std::to_string(st.st_size) + " bytes)");
    }
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < data.size()) {
        ssize_t r = ::read(fd, &data[got], data.size() - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            std::string why = errno_text();
            ::close(fd);
            throw Error(path, "read failed: " + why);
        }
        if (r == 0)
            break;
        got += static_cast<size_t>(r);
    }
    ::close(fd);
    data.resize(got);
    return data;
}

} // namespace bft
