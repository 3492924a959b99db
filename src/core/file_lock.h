// An exclusive flock held for the life of the object: on a lock file (created 0600 when missing) or on a
// directory itself. Closing the descriptor releases it, so a killed process never leaves a lock behind.
// wait(): blocks until the lock is free (EINTR retried). try_lock(): std::nullopt when another holds it.
// Errors opening or locking throw an I/O error naming the path.
#pragma once

#include <filesystem>
#include <optional>

namespace facecrowd {

class FileLock {
 public:
  static FileLock wait(const std::filesystem::path& path);
  static std::optional<FileLock> try_lock(const std::filesystem::path& path);

  ~FileLock();
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace facecrowd
