// `backups status`: the health of the backups of one database, for monitors (nagios-style). Each check
// says OK, WARNING or ERROR with a reason; the overall level is the worst one:
//
//   latest-backup  no archive: ERROR; older than max_age_seconds (default 25 h): ERROR
//   size           latest archive < 50% or > 200% of the median of the up to 7 archives before it: WARNING
//   missing-days   among the `days` complete UTC days before today (only those since the first archive),
//                  days without an archive: WARNING listing them
//   disk-space     free space where backups go < 2x the latest archive: ERROR; < 10% of the file system: WARNING
//   last-run       the last backup-log.jsonl line for the db has outcome "failed": ERROR with its error
//   oplog-lag      the oldest live oplog entry not yet shipped is > 5 min old: WARNING, > 1 h: ERROR
//                  (OK when the database does not exist or nothing is unshipped)
//   oplog-slices   every shipped slice checked (slice_integrity.h): a broken one (changed, shortened,
//                  emptied, record missing): ERROR naming it
//   permissions    the data or backup directory, or a file or folder in them, grants group or others any
//                  access: WARNING naming the paths and the chmod that fixes them (core/private_mode.h)
//
// Reading never changes anything: the database is opened only when it exists and is never created.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/utc_time.h"
#include "store/data_dir.h"
#include "store/schema.h"

namespace facecrowd {

enum class CheckLevel { kOk = 0, kWarning = 1, kError = 2 };
std::string level_name(CheckLevel level);  // "OK", "WARNING", "ERROR"

struct StatusCheck {
  std::string name;    // "latest-backup", "size", "missing-days", "disk-space", "last-run", "oplog-lag", "permissions"
  CheckLevel level = CheckLevel::kOk;
  std::string message;
};

struct StatusOptions {
  std::string db{kDefaultDatabase};
  int64_t max_age_seconds = 25 * 3600;
  int days = 7;
  UnixMillis now = 0;  // 0: the current time (tests pin it)
};

struct BackupStatus {
  CheckLevel level = CheckLevel::kOk;  // the worst check
  std::vector<StatusCheck> checks;

  std::string summary_line() const;    // "WARNING: size: …; missing-days: …" (OK: one line of the facts)
  nlohmann::json to_json() const;      // {"status": "WARNING", "checks": [{"name","status","message"}]}
  int exit_code() const { return int(level); }
};

// "12.3 MiB": sizes for operators (also used by `backups list` and `oplog ship`).
std::string human_bytes(uint64_t bytes);

// `data` may be null when the data directory does not exist (the oplog check then says so).
BackupStatus backup_status(const DataDir* data, const std::filesystem::path& backup_dir, const StatusOptions& options);

}  // namespace facecrowd
