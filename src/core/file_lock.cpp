#include "core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"

namespace facecrowd {
namespace {

// The descriptor to lock; `created`: whether this call created the lock file.
int open_for_lock(const std::filesystem::path& path, bool& created) {
  created = false;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_io_error("cannot open for locking", path, errno);
    return fd;
  }
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT) {
      if (fd < 0) throw_io_error("cannot open for locking", path, errno);
      return fd;
    }
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      created = true;
      return fd;
    }
    if (errno != EEXIST) throw_io_error("cannot open for locking", path, errno);
    // Created by another process between the two opens: open it as it is.
  }
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

// Whether `path` still names the file `fd` is open on (file_lock.h: a holder may have removed it meanwhile).
bool still_named(int fd, const std::filesystem::path& path) {
  struct stat held {}, named {};
  if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

}  // namespace

FileLock FileLock::wait(const std::filesystem::path& path) {
  for (;;) {
    bool created = false;
    int fd = open_for_lock(path, created);
    lock(fd, LOCK_EX, path);
    if (still_named(fd, path)) return FileLock(fd, path, created);
    ::close(fd);  // removed by the holder before it released it: lock what the name reaches now
  }
}

std::optional<FileLock> FileLock::try_lock(const std::filesystem::path& path) {
  for (;;) {
    bool created = false;
    int fd = open_for_lock(path, created);
    if (!lock(fd, LOCK_EX | LOCK_NB, path)) {
      ::close(fd);
      return std::nullopt;
    }
    if (still_named(fd, path)) return FileLock(fd, path, created);
    ::close(fd);
  }
}

void FileLock::release_and_remove() noexcept {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace facecrowd
