// manifest.json, the table of contents of a backup archive (format v1):
//
//   {"format": "facecrowd-backup", "format_version": 1, "tool_version": "0.1.0",
//    "created_at": "2024-01-03T01:00:00.000Z", "db": "face-recognition",
//    "collections": ["users", ...],                      // what the archive holds
//    "oplog": {"start": "1704240000:1",                  // the snapshot's position: the dump is exactly
//              "end": "1704240003:7", "entries": 12},    //   the state after `start`; oplog.bson holds the
//                                                        //   entries start < ts <= end written meanwhile
//    "files": [{"path": "face-recognition/users.bson", "sha256": "…", "bytes": 123, "documents": 4}, …],
//    "audit_chain": {"seq": 12, "hash": "…"}}            // optional: the audit chain's head at the snapshot
//                                                        //   (app/records/audit_chain.h); absent when none
//
// Paths are relative to the archive's top folder `backup_<db>_YYYYMMDD_HHMMSS/`. "documents" is the
// number of BSON documents in a .bson member and -1 for other members. manifest.json itself is the
// last member of the archive, and a copy is kept beside the archive as `<archive>.manifest.json` so the
// catalog can list positions without decompressing (the copy is a cache; the member is authoritative).
//
// Parsing is strict and bounded, so a hostile manifest costs little and cannot smuggle a value in:
//   - the text is at most kMaxManifestBytes (1 MiB; a real one is a few KB), at most kMaxManifestFiles
//     files and kMaxManifestCollections collections, each collection a known one and named once, each
//     path safe and listed once;
//   - integers are exact: format_version must be exactly 1 (4294967297 is not 1), bytes >= 0, documents
//     >= 0 for a .bson file and -1 (or absent) for other files, oplog entries >= 0;
//   - sha256 is 64 lowercase hex digits; created_at an ISO 8601 time; oplog start <= end, and end no more
//     than kMaxOplogAheadOfCreatedSeconds (7 days) after created_at (an oplog position in 2038 in a backup
//     made in 2026 is corruption, and restoring it would move the database's clock there).
// Consistency between the manifest and the members (every file present, counts equal) is checked by
// RestoreScan::finish(), not here.
//
// "erasure_ledger": {"entries": 3, "sha256": "…"} (optional; absent in archives written before it existed)
// is the fingerprint of the erasure ledger the backup carries as its member `erasure-ledger.jsonl`
// (store/ledger_fingerprint.h), so a lost or shortened live ledger is detected and can be re-created.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/oplog_timestamp.h"
#include "store/ledger_fingerprint.h"

namespace facecrowd {

inline constexpr int kArchiveFormatVersion = 1;
inline constexpr size_t kMaxManifestBytes = 1 << 20;
inline constexpr size_t kMaxManifestFiles = 256;
inline constexpr size_t kMaxManifestCollections = 64;
inline constexpr int64_t kMaxOplogAheadOfCreatedSeconds = 7 * 24 * 3600;

struct ManifestFile {
  std::string path;
  std::string sha256;
  uint64_t bytes = 0;
  int64_t documents = -1;
};

struct Manifest {
  int format_version = kArchiveFormatVersion;
  std::string tool_version;
  std::string created_at;
  std::string db;
  std::vector<std::string> collections;
  OplogTimestamp oplog_start;
  OplogTimestamp oplog_end;
  int64_t oplog_entries = 0;
  std::vector<ManifestFile> files;
  std::optional<LedgerFingerprint> erasure_ledger;  // the erasure ledger copied into the archive
  int64_t audit_chain_seq = 0;   // 0: no chained audit entry at the snapshot (or an older archive)
  std::string audit_chain_hash;

  nlohmann::json to_json() const;
  // Error(kBadInput) naming `what` and the field when a field is missing, malformed or out of bounds (see
  // above), and when format_version is not one this build reads ("unknown archive format version N (this
  // facecrowd reads 1)").
  static Manifest from_json(const nlohmann::json& json, const std::string& what);
  static Manifest parse(const std::string& text, const std::string& what);

  // Linear scan; the number of files is bounded by kMaxManifestFiles.
  const ManifestFile* find_file(const std::string& path) const;
};

}  // namespace facecrowd
