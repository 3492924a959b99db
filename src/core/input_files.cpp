#include "core/input_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"

namespace facecrowd {
namespace {

std::string kind_of(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void refuse_kind(const std::filesystem::path& path, const std::string& what, mode_t mode) {
  throw Error(ExitCode::kBadInput, what + " '" + path.string() + "': is " + kind_of(mode) +
                                       ", not a regular file; give the path of a file");
}

}  // namespace

std::string file_kind(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return kind_of(st.st_mode);
}

void require_regular_file(const std::filesystem::path& path, const std::string& what, bool allow_directory) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw Error(ExitCode::kNotFound, what + " '" + path.string() + "': no such file");
    throw_io_error("cannot read " + what, path.string(), err);
  }
  if (S_ISREG(st.st_mode) || (allow_directory && S_ISDIR(st.st_mode))) return;
  refuse_kind(path, what, st.st_mode);
}

std::string read_regular_file(const std::filesystem::path& path, uint64_t max_bytes, const std::string& what) {
  // O_NONBLOCK: opening a FIFO without a writer must not hang; the type is checked on the opened fd
  // (no race with a rename), and the flag is irrelevant for a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) throw Error(ExitCode::kNotFound, what + " '" + path.string() + "': no such file");
    throw_io_error("cannot open " + what, path.string(), err);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_io_error("cannot read " + what, path.string(), errno);
  if (!S_ISREG(st.st_mode)) refuse_kind(path, what, st.st_mode);
  auto too_big = [&](uint64_t seen) {
    return Error(ExitCode::kBadInput, what + " '" + path.string() + "': " + std::to_string(seen) +
                                          (seen > uint64_t(st.st_size) ? " or more" : "") +
                                          " bytes is above the limit of " + std::to_string(max_bytes) + " bytes");
  };
  if (uint64_t(st.st_size) > max_bytes) throw too_big(uint64_t(st.st_size));
  std::string bytes;
  bytes.resize(size_t(st.st_size));
  size_t used = 0;
  for (;;) {
    if (used == bytes.size()) {
      if (bytes.size() > max_bytes) throw too_big(bytes.size());
      bytes.resize(std::min<uint64_t>(max_bytes + 1, bytes.size() + 65536));  // grown while reading
      if (used == bytes.size()) throw too_big(bytes.size());
    }
    ssize_t n = ::read(fd, bytes.data() + used, bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io_error("cannot read " + what, path.string(), errno);
    }
    if (n == 0) break;
    used += size_t(n);
    if (used > max_bytes) throw too_big(used);
  }
  bytes.resize(used);
  return bytes;
}

}  // namespace facecrowd
