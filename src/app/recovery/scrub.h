// `facecrowd check [--read-data]`: a scrub, like `restic check` or a ZFS scrub. Reads everything and
// reports what is damaged; never changes anything.
//
//   every database (or --db): store/store_check.h — SQLite integrity_check, every document decodes,
//     every stored file's chunks hash to its recorded sha256, every file reference resolves, the live
//     oplog decodes in order;
//   the erasure ledger: whole against every recorded fingerprint (app/privacy/ledger_integrity.h);
//   the shipped oplog slices: every slice's record, checksum, entry count and link (backup/slice_integrity.h);
//   with read_data, every backup archive too: verify_backup() of each (backup/verify.h: decompress, every
//     member's checksum, every document, a throwaway restore, stored files' hashes).
//
// ok() only when nothing is damaged. Errors that stop the scrub itself (no data directory) are thrown.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backup/verify.h"
#include "store/store_check.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct CheckOptions {
  std::optional<std::string> db;  // only this database; default: every database of the data directory
  bool read_data = false;         // also verify every backup archive
  fs::path backup_dir = "backup";
  std::function<void(const std::string& stage)> progress;  // may be empty
};

struct CheckReport {
  std::vector<ScrubReport> databases;
  ScrubCheck ledger{"erasure ledger"};
  ScrubCheck slices{"oplog slices"};
  std::vector<VerifyReport> backups;  // read_data only
  bool read_data = false;
  bool ok() const;
  nlohmann::json to_json() const;
};

CheckReport run_check(const fs::path& data_root, const CheckOptions& options);

}  // namespace facecrowd
