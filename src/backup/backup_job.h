// `facecrowd backup`: a consistent snapshot of one database into
// `<backup_dir>/backup_<db>_YYYYMMDD_HHMMSS.tar.gz`, in the mongodump layout of DESIGN.md:
//
//   backup_<db>_YYYYMMDD_HHMMSS/<db>/<collection>.metadata.json   (collection_metadata.h)
//   backup_<db>_YYYYMMDD_HHMMSS/<db>/<collection>.bson            the documents, as stored
//   backup_<db>_YYYYMMDD_HHMMSS/oplog.bson                        entries start < ts <= end
//   backup_<db>_YYYYMMDD_HHMMSS/manifest.json                     last member (manifest.h)
//
// Consistency (DESIGN invariant 2): every collection is read in ONE read transaction whose position is
// the manifest's oplog.start, so the dump is exactly the state after `start`, whatever writers do
// meanwhile; a second read transaction afterwards collects the entries written during the dump
// (start < ts <= oplog.end) into oplog.bson. Memory stays bounded: documents are streamed.
//
// Checks (DESIGN invariant 8): everything written passes through the same RestoreScan a restore runs
// (restore_scan.h): every document must be one whole BSON document with an _id, every member's checksum
// and count must match the manifest; every stored file's chunks are hashed against the sha256 fs.files
// records as they stream past (store/file_hash_check.h). A damaged record or file fails the backup with
// Error(kBadInput) naming it: no archive gets a final name, the run is logged "failed" (status: ERROR).
// The erasure ledger (<data>/erasure-ledger.jsonl) is carried as member `erasure-ledger.jsonl` with its
// fingerprint in the manifest; a ledger that lost what the database recorded of it fails the backup too
// (store/ledger_fingerprint.h).
//
// Durability: the archive is written as `<final>.partial-<pid>`, fsynced, its sidecar
// `<final>.manifest.json` written durably, then renamed (no-replace) to its final name and the directory
// fsynced. A failed or killed backup never leaves a file under a final archive name; the next backup
// removes partials of dead processes (backup_cleanup.h). The name is the start time (UTC); when that
// name is taken, the backup waits for the next second, so names stay true times.
//
// After success, archives of the same db older than keep_days are pruned (never the new one). Each run
// whose backup directory is writable appends one JSON line to BackupCatalog::log_file():
//   {"start", "end" (ISO 8601), "db", "archive", "bytes", "counts": {coll: n}, "oplog": {"start", "end"},
//    "pruned": n, "seconds", "outcome": "ok"|"failed", "error"}
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backup/manifest.h"
#include "store/data_dir.h"

namespace facecrowd {

struct BackupOptions {
  std::string db = "face-recognition";
  std::vector<std::string> collections;  // empty: all (schema.h order)
  int keep_days = 30;                     // prune archives of this db older than this after success; 0: never prune
  bool progress = false;                  // progress line on stderr
};

struct BackupResult {
  std::filesystem::path archive;          // final path
  Manifest manifest;
  uint64_t bytes = 0;                     // archive size
  std::string sha256;                     // of the archive file, hashed as it was written
  double seconds = 0;
  std::vector<std::filesystem::path> pruned;
  std::vector<std::string> warnings;      // e.g. the backup log could not be appended; the archive is good
};

// Writes a backup of `db` in `data` into `backup_dir` (created if missing). Throws Error; on failure no
// file with a final archive name is left, and a failed line is appended to the backup log when possible.
// Checks before writing anything: the db name (kUsage), every named collection (kNotFound listing the
// known ones), the database exists (kNotFound), the backup directory is writable (kIo).
BackupResult run_backup(const DataDir& data, const std::filesystem::path& backup_dir, const BackupOptions& options);

// The collections a backup of `names` covers, in schema.h order without duplicates (all when empty).
// Error(kNotFound) naming the unknown one and the known ones.
std::vector<std::string> backup_collections(const std::vector<std::string>& names);

// Per-collection document counts of a manifest (its .bson members under <db>/).
nlohmann::json manifest_counts(const Manifest& manifest);

}  // namespace facecrowd
