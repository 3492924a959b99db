#include "core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"

namespace facecrowd {
namespace {

int open_for_lock(const std::filesystem::path& path) {
  std::error_code ec;
  int fd = std::filesystem::is_directory(path, ec) ? ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                                   : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw_io_error("cannot open for locking", path, errno);
  return fd;
}

// True when locked; false only for LOCK_NB finding it held.
bool lock(int fd, int how, const std::filesystem::path& path) {
  while (::flock(fd, how) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    if (err == EWOULDBLOCK && (how & LOCK_NB)) return false;
    ::close(fd);
    throw_io_error("cannot lock", path, err);
  }
  return true;
}

}  // namespace

FileLock FileLock::wait(const std::filesystem::path& path) {
  int fd = open_for_lock(path);
  lock(fd, LOCK_EX, path);
  return FileLock(fd);
}

std::optional<FileLock> FileLock::try_lock(const std::filesystem::path& path) {
  int fd = open_for_lock(path);
  if (!lock(fd, LOCK_EX | LOCK_NB, path)) {
    ::close(fd);
    return std::nullopt;
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace facecrowd
