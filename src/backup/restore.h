// `facecrowd restore`: loads a backup (archive, extracted folder or one <collection>.bson) into a database,
// optionally brought forward to a point in time, atomically (DESIGN invariant 3):
//
//   0. before any lock: the plan is made and checked from the manifest copy beside an archive (or an
//      extracted folder's manifest.json), parsed with its bounds (manifest.h). A copy that is missing,
//      damaged, names another database than the archive's name, or would refuse the restore (a
//      collection it lacks, --until outside its window) is only a cache: the manifest inside the archive
//      is read instead (one decompression, no database work) and a warning says so;
//   1. the data directory's exclusive lock is taken (Error kBusy while another process uses it) — or,
//      when `quiesce` is set (a server), only a shared lock: see "Building beside a live store" below;
//   2. the result is built as a NEW generation file beside the live one, claimed (store/generation_claim.h)
//      so that no Database::open removes it as stale — empty for a full restore, or a copy of the live
//      generation (sqlite3 backup API) when the target has other collections to keep;
//   3. documents are loaded while the backup streams past, every member's sha256/size/count is checked
//      against the manifest, oplog entries are replayed for `until`, the `after_load` hooks run, counts
//      are compared and the indexes are built;
//   4. the swap, under the exclusive lock: what the live store did meanwhile is carried over (below), the
//      `at_swap` hooks run, a restore note ('n' oplog entry) and an auditlogs document are written, and
//      CURRENT is swapped to the new generation (DataDir::install_generation).
//
// Building beside a live store (issue 10; RestoreOptions::quiesce). Steps 1-3 run under a shared lock
// while other threads and processes keep reading and writing the live generation; only step 4 holds the
// exclusive lock (the server answers 503 for that time only). What was committed to the live store
// during the build, by rule:
//   - the restored collections get the backup's state (the `--drop` meaning of a restore): writes made to
//     them during the build are replaced like those made before the restore started;
//   - erasures are never undone: the `at_swap` hook of app/recovery/restore_with_erasures.h applies the
//     erasure ledger's records appended during the build to the new generation;
//   - collections the restore keeps (a --collection restore, which copies the others from the live
//     generation at its start) keep every write: the live oplog's entries for them after the copy are
//     replayed into the new generation at the swap;
//   - a collection restored without --drop that was empty at the start but is not at the swap stops the
//     restore with Error(kConflict), nothing changed;
//   - the new generation's oplog position continues after the live one's at the swap.
// Without `quiesce` (the CLI) the exclusive lock is held from step 1, so nothing happens meanwhile and
// the restore is exactly the one-lock restore it always was.
//
// Any failure before the swap (truncated archive, bad checksum, conflict, disk full) deletes the new
// generation and rethrows; the live data is exactly as before. A killed restore leaves a generation that
// CURRENT does not name, which the next open removes. A restore killed while building a database's FIRST
// generation leaves no CURRENT at all; its claim, which no one holds, names that generation, so it is not
// damage (DataDir::killed_first_build): the rerun builds beside it, removes it at the swap and says so
// (`killed_build_removed`), and nothing goes to <data>/damaged/. The restored database's oplog position continues
// after the highest position the live database, the backup and the replayed oplog have seen.
//
// A damaged live database (Error kExitDamaged, store/store_damage.h, or SQLite finding it corrupt) does not stop a full
// restore: that one never reads the live data. Its files are moved to <data>/damaged/<db>-<time>/ at the
// swap (never deleted), and the result says where (`damaged_kept`). A restore of single collections
// must copy the others from the live generation, so into a damaged one it is refused (kExitDamaged) with
// the advice to run a full restore.
//
// Callers in this process must close their own Database connections to the target first (with
// `quiesce`: by the time it returns): the old generation is deleted at the swap.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backup/archive_reader.h"
#include "backup/manifest.h"
#include "core/oplog_timestamp.h"
#include "store/database.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct RestoreOptions {
  // Target database. Empty: the backup's own (its manifest's db; `face-recognition` for a lone .bson).
  std::string db;
  // Restore only these (each must be a collection of the backup). Empty: every collection it holds.
  std::vector<std::string> collections;
  // Replace the restored collections' documents. Without it each must be empty in the target, else
  // Error(kConflict) naming the collection and its count (as mongorestore without --drop).
  bool drop = false;
  // Read, decode and check everything and report real counts; write nothing.
  bool dry_run = false;
  // Point in time: replay oplog entries strictly before this position.
  std::optional<OplogTimestamp> until;
  // Where `latest` and shipped oplog slices are looked up (the archive's own folder is searched too).
  fs::path backup_dir = "backup";
  // Run inside the new generation after load and replay, before the swap (e.g. GDPR erasure re-applied).
  std::vector<std::function<void(Database::WriteTransaction&)>> after_load;
  // Run on the new generation after the after_load hooks, outside any transaction (each statement commits
  // on its own), before the swap: e.g. recording the erasure ledger's fingerprint in the `meta` table.
  std::vector<std::function<void(Database&)>> before_swap;
  // Build beside a live store (see above). Unset: the exclusive lock for the whole restore. Set: called
  // once the new generation is complete, before the exclusive lock is taken; it must make this process's
  // other threads close their connections to the store and keep out until the restore returns (a
  // server's restore gate), and may throw to give up (the new generation is deleted, nothing changed).
  // The exclusive lock then waits up to `swap_lock_wait_ms` for other processes (Error kBusy after it).
  std::function<void()> quiesce;
  int swap_lock_wait_ms = 10'000;
  // Run at the swap, under the exclusive lock, on the finished new generation (each opens its own write
  // transactions), after the live store's writes to kept collections were carried over: e.g. the
  // erasures committed during the build. Without `quiesce` they run too (and find nothing new).
  std::vector<std::function<void(Database&)>> at_swap;
  // Called once the backup has been read and checked against its manifest, before oplog replay, the
  // after_load hooks and the swap (dry runs too), with the erasure ledger the backup carries (nullopt
  // when it carries none) and its manifest. May throw to refuse the restore; nothing is changed then.
  std::function<void(const std::optional<std::string>& ledger_copy, const std::optional<Manifest>& manifest)> on_scanned;
  // Written into the auditlogs document; empty: $USER, else "cli".
  std::string actor;
  // Called with one line per stage when set (the CLI prints it on a terminal).
  std::function<void(const std::string&)> progress;
};

struct CollectionResult {
  std::string name;
  int64_t documents_read = 0;      // from the backup
  int64_t manifest_documents = -1; // what the manifest says (-1: no manifest)
  int64_t documents_after = 0;     // in the restored database, after replay and hooks (dry run: read + replay)
};

struct RestoreResult {
  fs::path source;
  BackupShape shape = BackupShape::kArchive;
  std::string source_db;           // the backup's database
  std::string db;                  // the target database
  bool dry_run = false;
  std::optional<Manifest> manifest;
  std::vector<CollectionResult> collections;  // the restored collections, in backup order
  int64_t documents_decoded = 0;   // every document of the backup, restored or not
  int64_t oplog_entries_decoded = 0;
  int64_t members = 0;
  std::optional<OplogTimestamp> until;
  OplogTimestamp window_start, window_reach;  // when `until` was given
  std::vector<fs::path> slices_used;
  int64_t oplog_replayed = 0;      // entries applied (dry run: that would be)
  double replay_seconds = 0;       // wall time of reading and applying them
  OplogTimestamp position;         // the restored database's oplog position (not for a dry run)
  fs::path generation;             // the installed generation file (not for a dry run)
  bool copied_live = false;        // built on a copy of the live generation (other collections kept)
  std::string live_damage;         // why the live database could not be read ("" when it could)
  fs::path damaged_kept;           // where its damaged files were moved (not for a dry run)
  std::string killed_build_removed;  // the unfinished first generation of a killed restore or import, removed at the swap
  int64_t live_entries_carried = 0;  // live oplog entries of kept collections replayed at the swap
  double swap_seconds = 0;         // how long the exclusive lock was held (with quiesce: the wait for it too)
  double seconds = 0;
  // What the operator should know: a damaged or stale manifest copy beside the archive that was passed
  // over; for a dry run, what would stop the real restore (e.g. a non-empty collection without drop).
  std::vector<std::string> warnings;

  nlohmann::json to_json() const;
};

// Restores `input` ("latest", an archive path or name in options.backup_dir, a folder, a .bson file) into
// the data directory at `data_root`. Errors name the file, the document or the range that failed:
// kNotFound (no such backup or collection), kBadInput (corrupt, truncated, checksum or count mismatch,
// unknown format version, duplicate _id: the checks of RestoreScan, which verify shares), kUsage (bad flags, --until outside the covered window), kConflict (non-empty
// target without drop), kIo (disk full, read-only), kBusy (data directory in use).
RestoreResult restore_backup(const fs::path& data_root, const std::string& input, const RestoreOptions& options);

}  // namespace facecrowd
