// A FileSystem (core/file_system.h) that injects the faults of a real disk, for tests: install it with
// ScopedFileSystem and the code under test meets a full disk, EIO, a short write or a failed rename
// exactly where a real disk would fail it — no root, no tmpfs.
//
//   FaultFileSystem faults;                     // passes everything through to the real file system
//   faults.add({.op = FaultOp::kWrite, .path_contains = ".partial", .after_bytes = 1 << 20,
//               .error = ENOSPC});              // the disk fills after 1 MiB written to a partial
//   ScopedFileSystem scope(faults);
//
// A rule fires on an operation of its kind whose path contains `path_contains` (empty: every path),
// `times` times (-1: every time) and then stays quiet. For kWrite, `after_bytes` counts the bytes already
// written to that path through this object; the bytes up to the limit really reach the file (as on a full
// disk) and the rest fail. error 0 on kWrite means a short write: the OS accepted nothing more and said so
// with a 0 return. fired() counts how often rules fired (a test asserts its fault was hit).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/file_system.h"

namespace facecrowd {

enum class FaultOp { kCreate, kWrite, kSync, kClose, kRename, kRemove, kCreateDir };

struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  std::string path_contains;
  uint64_t after_bytes = 0;  // kWrite only
  int error = 5;             // errno to report (EIO = 5, ENOSPC = 28); 0 on kWrite: a short write
  int times = -1;            // -1: every time
};

class FaultFileSystem : public FileSystem {
 public:
  explicit FaultFileSystem(FileSystem& base = real_file_system()) : base_(base) {}
  void add(FaultRule rule);
  int fired() const;

  std::unique_ptr<WritableFile> open_writable(const fs::path& path, OpenMode mode) override;
  void create_dirs(const fs::path& dir) override;
  void rename(const fs::path& from, const fs::path& to) override;
  bool remove(const fs::path& path) override;
  void sync_path(const fs::path& path) override;

  // For the wrapped files: the rule that applies to `op` on `path` (and consumes one of its times), or
  // nullptr. For kWrite, `written` is the bytes written so far and `size` the bytes being written; the
  // returned allowance is how many of them still succeed.
  const FaultRule* match(FaultOp op, const fs::path& path, uint64_t written = 0, uint64_t size = 0,
                         uint64_t* allowance = nullptr);

 private:
  FileSystem& base_;
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;
  int fired_ = 0;
};

}  // namespace facecrowd
