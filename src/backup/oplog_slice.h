// An oplog slice file, `oplog_<from>_<to>.bson.gz`: gzip of BSON oplog entries (store/oplog_entry.h),
// one after another in ts order, holding every entry with from < ts <= to. `from` is the position the
// previous slice ended at (0-0 for the first), so a chain of slices is provably gap-free when each
// slice's `from` equals its predecessor's `to`. Written under a `.partial` name, fsynced and renamed,
// so a slice that has its final name is complete. Before the rename, a record with the slice's entry
// count, size, sha256 and its predecessor's sha256 is written beside it (slice_integrity.h), so a slice
// changed afterwards (emptied, shortened) is detected rather than silently replayed.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/oplog_timestamp.h"

namespace facecrowd {

class OplogSliceWriter {
 public:
  // Starts `<dir>/<partial name>` for entries after `from` of database `db`'s oplog (named in the slice's
  // record); nothing appears under a final name until finish().
  OplogSliceWriter(const std::filesystem::path& dir, OplogTimestamp from, std::string db);
  ~OplogSliceWriter();  // removes the partial file unless finished
  void add(OplogTimestamp ts, std::string_view entry_bson);
  int64_t entries() const { return entries_; }
  // Closes, fsyncs and renames to oplog_<from>_<last entry>.bson.gz; returns the final path. Must hold >= 1 entry.
  std::filesystem::path finish();

 private:
  std::filesystem::path dir_, partial_;
  void* gz_ = nullptr;
  OplogTimestamp from_, last_;
  std::string db_;
  int64_t entries_ = 0;
};

// Decompresses a slice and calls `fn` with each entry's raw BSON. Error(kBadInput) naming the file and the
// byte offset when it is truncated or corrupt.
void read_oplog_slice(const std::filesystem::path& path, const std::function<void(std::string_view entry)>& fn);

}  // namespace facecrowd
