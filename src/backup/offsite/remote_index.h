// What a backup target holds, as facecrowd lays it out under the target's prefix:
//
//   index.json                                 this index (plaintext; no personal data)
//   archives/backup_<db>_YYYYMMDD_HHMMSS.tar.gz             each archive
//   archives/backup_<db>_YYYYMMDD_HHMMSS.tar.gz.manifest.json  its manifest copy
//   oplog/oplog_<from>_<to>.bson.gz            each shipped oplog slice
//   oplog/oplog_<from>_<to>.bson.gz.json       its record (entries, sha256, predecessor's sha256:
//                                              backup/slice_integrity.h), fetched beside it on restore
//   ledger/ledger-<offset, 16 digits>.jsonl    the erasure ledger, append-only: each object holds the
//                                              ledger's bytes [offset, offset + length), whole lines only
//
// from_json refuses (kBadInput, naming the field) an index that strays from this layout: an archive or slice
// name that is not one `facecrowd backup` / `oplog ship` writes (it becomes a local file name), an object key
// elsewhere than the layout puts it, a size that is not a whole number, a digest that is not hex or absent,
// an entry listed twice. A bucket others can write to cannot steer a restore outside its backup directory.
//
// Each object is stored encrypted when the target is (crypto/object_crypto.h), under the same name. The
// index records for every object its stored size and a digest of the stored bytes, which downloads check as
// the bytes arrive: the sha256, or, for an object encrypted in one pass to S3 (which goes up without
// x-amz-meta-sha256, its digest known only at the end), the MD5 that S3's ETag was checked against
// (crypto/sealed_upload.cpp says why not a sha256; entries written before hold a sha256 and are checked by
// it). It records the ETag of such an object (what verify compares without a key or a download), the key id
// when encrypted, and what facecrowd needs without downloading anything: archive positions, slice
// ranges, the ledger's length and sha256, how far retention pruned slices. It is rewritten after new objects are uploaded and before old
// ones are deleted, so every object it names exists.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backup/manifest.h"
#include "core/oplog_timestamp.h"
#include "core/utc_time.h"

namespace facecrowd {

struct RemoteObject {
  std::string key;
  uint64_t size = 0;      // stored bytes
  std::string sha256;     // of the stored bytes; empty when `md5` is recorded instead
  std::string key_id;     // encryption key id; empty: plaintext
  // The target's ETag of the object (S3), for an object that carries no sha256 of its own (encrypted in one
  // pass: crypto/object_crypto.h): verify compares it without downloading. Empty elsewhere.
  std::string etag;
  // The MD5 of the stored bytes, for an object encrypted in one pass to S3 (in place of the sha256): what a
  // download checks. Empty elsewhere (and in entries written before it was recorded, which hold a sha256).
  std::string md5;
};

struct RemoteArchive {
  RemoteObject object;
  RemoteObject manifest_object;
  std::string name;       // backup_<db>_YYYYMMDD_HHMMSS.tar.gz
  std::string db;
  UnixMillis created = 0;
  uint64_t plain_bytes = 0;
  Manifest manifest;
};

struct RemoteSlice {
  RemoteObject object;
  std::string name;
  OplogTimestamp from, to;
  uint64_t plain_bytes = 0;
  // The slice's record; absent for a slice shipped before records existed (checked as legacy on restore).
  std::optional<RemoteObject> record;
};

struct RemoteLedgerChunk {
  RemoteObject object;
  uint64_t offset = 0, length = 0;
  std::string plain_sha256;
};

// Where each object lies in a target: the layout push writes and reading an index checks every key against.
// "archives/<archive name>", "archives/<archive name>.manifest.json"
std::string archive_key(const std::string& archive_name);
std::string archive_manifest_key(const std::string& archive_name);
// "oplog/<slice name>", "oplog/<slice name>.json"
std::string slice_key(const std::string& slice_name);
std::string slice_record_key(const std::string& slice_name);
// "ledger/ledger-<offset, 16 digits>.jsonl"
std::string ledger_chunk_key(uint64_t offset);

struct RemoteIndex {
  static constexpr const char* kKey = "index.json";
  int format_version = 1;
  std::string updated_at;
  std::string encryption;                      // "" (plaintext) | "key" | "passphrase" | "public-key"
  std::string passphrase_salt;                 // hex, for "passphrase"
  std::vector<RemoteArchive> archives;         // oldest first
  std::vector<RemoteSlice> slices;             // by from
  std::vector<RemoteLedgerChunk> ledger;       // by offset, contiguous from 0
  uint64_t ledger_bytes = 0;
  std::string ledger_sha256;                   // of the ledger's first ledger_bytes bytes
  // The highest `to` of the slices remote retention deleted (null: none yet): a restore --until before it
  // says that retention removed the slices it would need (offsite_retention.h's point-in-time window),
  // instead of reporting them as missing. Written only when set, so older readers see the index unchanged.
  OplogTimestamp slices_pruned_through;

  nlohmann::json to_json() const;
  // Error(kBadInput) naming `what` (and the field) when malformed, off the layout above, or of a newer format.
  static RemoteIndex from_json(const nlohmann::json& json, const std::string& what);

  const RemoteArchive* find_archive(const std::string& name) const;
  const RemoteSlice* find_slice(const std::string& name) const;
  RemoteSlice* find_slice(const std::string& name);
  // The newest archive of `db` (whose manifest starts before `until` when given).
  const RemoteArchive* latest(const std::string& db, std::optional<OplogTimestamp> until = std::nullopt) const;
  // The highest slice `to` (null when none).
  OplogTimestamp shipped_position() const;
};

// Each slice's position in `index.slices`, by name. find_slice scans the list; a push (every local slice) or
// a restore (every slice of its window) that looked each one up that way took time growing with the square
// of the slices, a minute's each.
std::unordered_map<std::string, size_t> slice_positions(const RemoteIndex& index);

}  // namespace facecrowd
