// The backup directory and what is in it:
//
//   backup_<db>_YYYYMMDD_HHMMSS.tar.gz                 archives (complete ones only: a backup writes
//   backup_<db>_YYYYMMDD_HHMMSS.tar.gz.manifest.json     `.partial` names and renames at the end),
//                                                        with a manifest copy beside each
//   oplog_<from>_<to>.bson.gz                          shipped oplog slices (from/to as secs-inc: the
//                                                        entries from < ts <= to; see oplog_slice.h)
//   oplog_<from>_<to>.bson.gz.json                     its record: entries, bytes, sha256 (slice_integrity.h)
//   backup-log.jsonl                                   one JSON line per backup run (its archive's
//                                                        name, bytes and sha256, hashed as it was written)
//
// The catalog only reads names and sidecar manifests; it never decompresses an archive.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backup/manifest.h"
#include "core/oplog_timestamp.h"
#include "core/utc_time.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct ArchiveInfo {
  fs::path path;
  std::string db;
  UnixMillis created = 0;   // from the name (UTC)
  uint64_t bytes = 0;
  std::optional<Manifest> manifest;  // from the sidecar, when present and readable
};

struct SliceInfo {
  fs::path path;
  OplogTimestamp from, to;  // holds the entries from < ts <= to
  uint64_t bytes = 0;
};

// "backup_face-recognition_20240103_010000.tar.gz"
std::string archive_file_name(const std::string& db, UnixMillis created);
// "oplog_1704240000-1_1704240060-3.bson.gz"
std::string slice_file_name(OplogTimestamp from, OplogTimestamp to);

class BackupCatalog {
 public:
  explicit BackupCatalog(fs::path dir) : dir_(std::move(dir)) {}
  const fs::path& dir() const { return dir_; }
  fs::path log_file() const { return dir_ / "backup-log.jsonl"; }

  std::vector<ArchiveInfo> archives() const;  // oldest first; `db` filters when non-empty
  std::vector<ArchiveInfo> archives(const std::string& db) const;
  std::vector<SliceInfo> slices() const;      // by `from`
  std::optional<ArchiveInfo> latest(const std::string& db) const;
  // The sha256 (hex) of each archive as its backup run recorded it in the backup log, by file name, for the
  // archives whose recorded size equals their size now (a push then reads the archive once, checking the
  // bytes as it sends them, instead of hashing it first). Lines that do not parse are skipped: an archive
  // without a usable line is simply hashed.
  std::map<std::string, std::string> recorded_archive_sha256() const;
  // The highest `to` of any slice (null when none): where the next ship starts.
  OplogTimestamp shipped_position() const;

  // "latest" (newest archive of `db`), a path, or a file name inside the directory. Error(kNotFound)
  // naming what was looked for.
  fs::path resolve(const std::string& archive_or_latest, const std::string& db) const;

 private:
  fs::path dir_;
};

}  // namespace facecrowd
