// Integrity of shipped oplog slices (oplog_slice.h). A slice's name says which range it covers, but not
// that it still holds every entry of it: an emptied slice, or one rewritten to hold 3 of its 8 entries,
// would make a point-in-time restore drop changes and still report full coverage. So every slice gets a
// record beside it, written when it is shipped (before the slice gets its final name, so a slice under a
// final name always has its record):
//
//   oplog_<from>_<to>.bson.gz.json
//   {"format": "facecrowd-oplog-slice", "from": "S:I", "to": "S:I", "entries": 8, "bytes": 1234,
//    "sha256": "<of the .bson.gz file>", "previous_sha256": "<sha256 of the slice ending at `from`>"|null,
//    "db": "face-recognition"}   (absent in records written before it was recorded)
//
// `previous_sha256` links each slice to the one it follows, so a slice rewritten together with its own
// record still breaks its successor's link.
//
// check_slices() proves, for each slice: the record parses and names the same range; the file's size and
// sha256 equal the record's; the link to the predecessor holds; and (always, record or not) the slice
// decompresses, its entries are in ts order inside (from, to], the last one is exactly `to`, and their
// number equals the record's. A slice without a record is accepted as LEGACY (shipped before records
// existed) only when it precedes every slice that has one; then only what the slice itself shows is
// checked, and the check says so. Any other slice without a record is broken.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backup/catalog.h"
#include "core/oplog_timestamp.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct SliceRecord {
  OplogTimestamp from, to;
  int64_t entries = 0;
  uint64_t bytes = 0;
  std::string sha256;
  std::optional<std::string> previous_sha256;
  // The database whose oplog the slice holds; empty in records written before it was recorded. A backup
  // directory's slices are one database's chain (oplog_shipper.h: shipped_database()).
  std::string db;
};

// "<slice>.json"
fs::path slice_record_path(const fs::path& slice);
// Writes `record` durably to `record_path`.
void write_slice_record(const fs::path& record_path, const SliceRecord& record);
// nullopt when there is no record file; Error(kBadInput) naming the file when it is not a valid record.
std::optional<SliceRecord> read_slice_record(const fs::path& record_path);

struct SliceCheck {
  fs::path path;
  OplogTimestamp from, to;
  bool ok = false;
  bool legacy = false;     // no record: only the slice's own contents were checked
  int64_t entries = -1;    // entries read (-1: not readable)
  std::string problem;     // why it is broken (empty when ok)
  std::string detail() const;  // one line: "oplog_…: ok, 8 entries" / "…: BROKEN: …"
};

// Checks every slice of `slices` (any order; results in `from` order) as described above.
std::vector<SliceCheck> check_slices(std::vector<SliceInfo> slices);

// Checks `needed` (in the context of `all`, which decides legacy status and links) and throws
// Error(kBadInput) naming every broken slice, what is wrong with it, and the remedy, when any is broken.
void require_intact_slices(const std::vector<SliceInfo>& needed, const std::vector<SliceInfo>& all);

// The database whose oplog the slices in `catalog`'s directory hold: the one the newest slice record that
// names a database names (records name it since 2026-12-01); nullopt when none does. A backup directory's
// slices are ONE database's chain: ship_oplog (oplog_shipper.h) refuses to continue it with another database's entries
// (Error(kConflict)), because their positions would interleave: the shipped position would jump past the
// first database's unshipped entries, its live oplog would then be trimmed of them, and its point-in-time
// recovery would lose them without a word.
std::optional<std::string> shipped_database(const BackupCatalog& catalog);

// `catalog`'s slices when they hold `db`'s oplog (or name no database), else none: what a point-in-time
// restore of `db` may replay (backup_window.h).
std::vector<SliceInfo> slices_of_database(const BackupCatalog& catalog, const std::string& db);

}  // namespace facecrowd
