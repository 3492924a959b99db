// Continuous oplog shipping: copies the live oplog's new entries into `oplog_<from>_<to>.bson.gz` slices
// beside the backups, so a point-in-time restore reaches any moment between two backups (RPO = one ship
// interval), then trims what is no longer needed.
//
// One ship (of one database: a directory whose slices hold another database's oplog is refused, see
// shipped_database()):
//   1. from = the shipped position (the highest slice `to`, BackupCatalog::shipped_position()).
//   2. In one read transaction, every live entry from < ts <= the current position goes into slices of at
//      most `max_slice_entries` entries / `max_slice_bytes` BSON bytes; each slice starts where the previous
//      one ended, so the chain stays gap-checkable. Nothing new: no file.
//   3. Trim the live oplog: entries before the shipped position that are older than `keep_live_seconds`
//      are deleted (they live in slices now). The entry at the shipped position itself is always kept as
//      an anchor: if a later ship finds the live oplog starting after its `from` (someone else trimmed, or a
//      restore swapped in another history), entries may be missing and it stops with Error(kConflict)
//      naming the gap, unless a newer backup covers it (then the chain restarts at that backup's position).
//   4. Delete slices no kept archive needs (prune_unneeded_slices).
// Ships are serialised by an flock on `<backup_dir>/oplog-ship.lock` (Error(kBusy) when another runs);
// holding it, a ship removes the partial slice files a killed ship left.
// A ship never creates the database; one that does not exist has nothing to ship.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backup/catalog.h"
#include "backup/slice_integrity.h"
#include "store/data_dir.h"
#include "store/schema.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct ShipOptions {
  std::string db{kDefaultDatabase};
  int64_t max_slice_entries = 100000;
  uint64_t max_slice_bytes = 64ull << 20;  // uncompressed BSON bytes per slice
  // Shipped entries stay in the live oplog this long, so a backup that is still reading the entries written
  // during its dump finds them there.
  int64_t keep_live_seconds = 3600;
};

struct ShipResult {
  std::vector<fs::path> slices;          // written by this ship, in order
  int64_t entries = 0;                   // entries shipped
  uint64_t bytes = 0;                    // compressed bytes written
  OplogTimestamp from, to;               // the range shipped (from < ts <= to); to == from when nothing
  int64_t trimmed = 0;                   // live oplog entries deleted
  std::vector<fs::path> pruned;          // slice files deleted
  int64_t lag_seconds = 0;               // how long the oldest entry shipped had waited (0: nothing shipped)
  std::string note;                      // e.g. "database does not exist", "restarted after a gap at …"

  nlohmann::json to_json() const;
  std::string summary() const;           // one line for the operator
};

ShipResult ship_oplog(const DataDir& data, const fs::path& backup_dir, const ShipOptions& options);

// Deletes the slice files that no kept archive of the database whose oplog they hold (shipped_database(),
// else `db`) needs: those whose `to` <= the oldest such archive's manifest oplog.start. So a backup of
// another database into the same directory prunes by the slices' own database, never by its own archives.
// Deletes nothing when one of those archives has no readable sidecar manifest or when there is none, and
// never the slice with the highest `to` (it is the shipped position). Returns the deleted paths. The backup
// job calls this after pruning archives.
std::vector<fs::path> prune_unneeded_slices(const BackupCatalog& catalog, const std::string& db = std::string(kDefaultDatabase));

// Ships every `interval_seconds` until `should_stop()` returns true (checked between ships and while
// waiting). Each outcome goes to `on_result` or, for an error, `on_error`, and the loop goes on; errors
// that retrying cannot fix (kNotOurs, kUsage, kInternal) are rethrown.
void watch_oplog(const DataDir& data, const fs::path& backup_dir, const ShipOptions& options, int64_t interval_seconds,
                 const std::function<bool()>& should_stop, const std::function<void(const ShipResult&)>& on_result,
                 const std::function<void(const std::exception&)>& on_error);

}  // namespace facecrowd
