// <backup dir>/offsite-push.lock: one push or take-over of a backup directory at a time (offsite_push.h,
// target_take_over.h). Taking it makes the backup directory (ensure_writable_dir: a file there, or a folder
// that is not writable, is Error(kIo)) and the lock file when they are missing.
//
// A run that ends in an error leaves behind none of what taking the lock made: a push or take-over refused
// (another writer, no index.json, a key missing, a push running) left an empty lock file in the backup
// directory, and a take-over on a stand-by whose backup directory did not exist yet left that folder too.
// When the PushLock is destroyed by an exception, the lock file is removed if this lock created it (while it
// is still held: file_lock.h says why that is safe with flock), then each folder it made, deepest first,
// when it is empty (so never a folder that a run wrote anything else into). A run that succeeds keeps both.
#pragma once

#include <exception>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/file_lock.h"

namespace facecrowd {

namespace fs = std::filesystem;

class PushLock {
 public:
  static constexpr const char* kFile = "offsite-push.lock";
  // Waits while another push of `backup_dir` holds it (a ship and a backup push one after the other).
  static PushLock wait(const fs::path& backup_dir);
  // std::nullopt when another holds it (nothing made is left behind).
  static std::optional<PushLock> try_lock(const fs::path& backup_dir);

  PushLock(PushLock&&) noexcept = default;
  PushLock(const PushLock&) = delete;
  PushLock& operator=(const PushLock&) = delete;
  PushLock& operator=(PushLock&&) = delete;
  ~PushLock();

 private:
  PushLock(FileLock lock, std::vector<fs::path> made) : lock_(std::move(lock)), made_(std::move(made)) {}
  FileLock lock_;
  std::vector<fs::path> made_;  // the folders taking the lock created, deepest first
  int exceptions_ = std::uncaught_exceptions();
};

}  // namespace facecrowd
