// An exclusive flock held for the life of the object: on a lock file (created 0600 when missing) or on a
// directory itself. Closing the descriptor releases it, so a killed process never leaves a lock behind.
// wait(): blocks until the lock is free (EINTR retried). try_lock(): std::nullopt when another holds it.
// Errors opening or locking throw an I/O error naming the path.
//
// A lock file may be removed, by its holder only, with release_and_remove() (a refused run taking away the
// file it created, so that it leaves the folder as it found it). flock locks the file, not its name: a
// process that opened the name before the removal and waits gets the lock on a file no name reaches any
// more, while the next one creates a new file and locks that; both would hold "the" lock. So every lock
// taken here checks, once it holds it, that the name still reaches the file it locked, and opens the name
// again when it does not; and the holder unlinks before it releases, so that no one gets the lock on the
// file between the two and finds the name still there.
#pragma once

#include <filesystem>
#include <optional>

namespace facecrowd {

class FileLock {
 public:
  static FileLock wait(const std::filesystem::path& path);
  static std::optional<FileLock> try_lock(const std::filesystem::path& path);

  ~FileLock();
  FileLock(FileLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)), created_(other.created_) { other.fd_ = -1; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;

  // Whether this lock created its lock file (it did not exist when the lock was taken).
  bool created() const { return created_; }
  // Unlinks the lock file, then releases the lock (in that order: above). Errors are ignored: the file left
  // is an empty lock file, which the next lock uses. Not for a lock on a directory.
  void release_and_remove() noexcept;

 private:
  FileLock(int fd, std::filesystem::path path, bool created) : fd_(fd), path_(std::move(path)), created_(created) {}
  int fd_ = -1;
  std::filesystem::path path_;
  bool created_ = false;
};

}  // namespace facecrowd
