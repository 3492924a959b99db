#include "backup/offsite/push_lock.h"

#include "core/files.h"

namespace facecrowd {
namespace {

// The folders of `dir` that do not exist yet, deepest first.
std::vector<fs::path> missing_folders(const fs::path& dir) {
  std::vector<fs::path> missing;
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec).lexically_normal();
  if (ec) return missing;
  if (p.filename().empty()) p = p.parent_path();  // "backup/": the folder is "backup"
  while (!p.empty() && p != p.parent_path() && !fs::exists(fs::symlink_status(p, ec))) {
    missing.push_back(p);
    p = p.parent_path();
  }
  return missing;
}

// Removes the folders in `made` (deepest first) while they are empty: a folder something else was written
// into stays, and so do the ones above it.
void remove_empty(const std::vector<fs::path>& made) {
  for (const auto& dir : made) {
    std::error_code ec;
    if (!fs::remove(dir, ec) || ec) return;
  }
}

std::vector<fs::path> make_backup_dir(const fs::path& backup_dir) {
  std::vector<fs::path> made = missing_folders(backup_dir);
  try {
    ensure_writable_dir(backup_dir, "backup directory");
  } catch (...) {
    remove_empty(made);
    throw;
  }
  return made;
}

}  // namespace

PushLock PushLock::wait(const fs::path& backup_dir) {
  std::vector<fs::path> made = make_backup_dir(backup_dir);
  std::optional<FileLock> lock;
  try {
    lock.emplace(FileLock::wait(backup_dir / kFile));
  } catch (...) {
    remove_empty(made);
    throw;
  }
  return PushLock(std::move(*lock), std::move(made));
}

std::optional<PushLock> PushLock::try_lock(const fs::path& backup_dir) {
  std::vector<fs::path> made = make_backup_dir(backup_dir);
  std::optional<FileLock> lock;
  try {
    if (auto held = FileLock::try_lock(backup_dir / kFile)) lock.emplace(std::move(*held));
  } catch (...) {
    remove_empty(made);
    throw;
  }
  if (!lock) {
    remove_empty(made);
    return std::nullopt;
  }
  return PushLock(std::move(*lock), std::move(made));
}

PushLock::~PushLock() {
  if (std::uncaught_exceptions() <= exceptions_) return;  // the run succeeded (or this was moved from)
  if (lock_.created()) lock_.release_and_remove();
  remove_empty(made_);
}

}  // namespace facecrowd
