// Checks a backup while it streams past (archive_reader.h hands the members in): every member's sha256,
// size and document count, every BSON document decoded (bson_check.h: structure and UTF-8) and every oplog entry decoded;
// at the end, everything is compared with manifest.json — no member missing, none extra, every checksum
// and count equal. manifest.json is the last member of an archive, so the comparison can only happen at
// finish(); a restore therefore loads while scanning and decides at finish() whether to swap.
//
// Documents of the collections the caller wants are passed to `on_document`; oplog entries from
// oplog.bson to `on_oplog_entry`. Errors: Error(kBadInput) naming the backup, the member and the
// document (index and byte offset) or the mismatch; finish() lists every mismatch it found.
//
// This is THE check of a backup's contents: restore, `restore --dry-run` and `verify` all run it, so they
// reach the same verdict with the same exit code (3). Per document: it decodes as BSON, every key and
// string is valid UTF-8, `_id` is present, of a type the store keys by (ObjectId, string, int32, int64),
// and a string `_id` holds no NUL; within a collection no two documents share an `_id` (checked with a
// 128-bit keyed hash per document, 24 bytes of memory each, sorted at the end of the member), and no two
// share a value of a unique index (users.username, fs.files.sha256, fs.chunks' files_id + n), compared
// as SQLite's index would (store/column_value.h), so a dry run refuses what the index build would. Bounds
// checked before reading a member: manifest.json at most kMaxManifestBytes, a .metadata.json at most
// kMaxMetadataBytes (a 4 GiB metadata member is refused from its tar header alone).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backup/archive_reader.h"
#include "backup/manifest.h"
#include "core/sha256.h"
#include "store/oplog_entry.h"
#include "store/schema.h"

namespace facecrowd {

inline constexpr size_t kMaxBsonDocumentBytes = 16 * 1024 * 1024 + 16 * 1024;  // MongoDB's 16 MiB + headroom
inline constexpr uint64_t kMaxMetadataBytes = 16 * 1024 * 1024;  // a real one is a few hundred bytes

// Splits a stream of back-to-back BSON documents arriving in arbitrary chunks; buffers at most one
// document plus one chunk.
class BsonSplitter {
 public:
  explicit BsonSplitter(std::string what) : what_(std::move(what)) {}
  // Calls fn(doc, size, index, byte offset) for each complete document.
  void feed(const char* data, size_t size,
            const std::function<void(const uint8_t*, size_t, int64_t, uint64_t)>& fn);
  // Error(kBadInput) when bytes of an incomplete document remain.
  void finish();
  int64_t documents() const { return documents_; }

 private:
  std::string what_;
  std::string pending_;
  uint64_t offset_ = 0;  // stream offset of pending_[0]
  int64_t documents_ = 0;
};

struct ScannedMember {
  std::string path;
  std::string sha256;
  uint64_t bytes = 0;
  int64_t documents = -1;  // -1 for members that are not .bson
};

class RestoreScan : public MemberSink {
 public:
  struct Callbacks {
    // Which collections' documents go to on_document (others are still checked).
    std::function<bool(const std::string& collection)> wants;
    // Called once per wanted collection, before its first document.
    std::function<void(const std::string& collection)> on_collection_start;
    std::function<void(const std::string& collection, const uint8_t* doc, size_t size, int64_t index)> on_document;
    std::function<void(OplogEntry entry)> on_oplog_entry;
  };

  // `label` names the backup in messages; `expected_db`, when not empty, is the only db folder allowed.
  RestoreScan(std::string label, std::string expected_db, Callbacks callbacks);

  void begin_member(const std::string& path, uint64_t size) override;
  void member_data(const char* data, size_t size) override;
  void end_member() override;

  // For a caller that already hashes every member's bytes (the backup's archive writer): member_data()
  // skips its own sha256, and each member's digest is handed in with end_member(sha256). One pass over
  // the bytes instead of two, and no hashing in document-sized pieces.
  void hash_members_elsewhere() { hash_members_ = false; }
  void end_member(std::string sha256_hex);

  // Compares what was read with the manifest (when `require_manifest` is false and there is none, only
  // the members' own decoding was checked). Error(kBadInput) listing every mismatch.
  void finish(bool require_manifest);

  const std::optional<Manifest>& manifest() const { return manifest_; }
  const std::string& db() const { return db_; }
  // Collections with a .bson member, in reading order, and their document counts.
  const std::vector<std::string>& collections() const { return collections_; }
  const std::map<std::string, int64_t>& documents() const { return documents_; }
  const std::vector<ScannedMember>& members() const { return members_; }
  int64_t total_documents() const;
  int64_t oplog_entries() const { return oplog_entries_; }
  bool has_oplog() const { return has_oplog_; }
  // The erasure ledger the backup carries (member erasure-ledger.jsonl), checked at finish() against the
  // manifest's erasure_ledger fingerprint; nullopt for backups without one.
  const std::optional<std::string>& ledger_copy() const { return ledger_copy_; }

 private:
  enum class Kind { kCollection, kMetadata, kOplog, kManifest, kLedger };
  std::string where() const;
  void check_document(const uint8_t* doc, size_t len, int64_t index, uint64_t offset);
  void require_unique_ids();
  void require_unique_values();

  struct IdHash {
    uint64_t lo, hi;
    int64_t index;  // the document's number in its member
  };

  std::string label_;
  std::string db_;
  Callbacks callbacks_;
  // Current member.
  Kind kind_ = Kind::kManifest;
  std::string path_, collection_;
  bool wanted_ = false;
  std::optional<Sha256> sha_;
  bool hash_members_ = true;
  std::string given_sha256_;  // when !hash_members_
  std::optional<BsonSplitter> splitter_;
  std::string manifest_text_;
  uint64_t bytes_ = 0;
  std::vector<IdHash> id_hashes_;  // of the current collection member
  // The collection's unique indexes (users.username, fs.files.sha256, fs.chunks' files_id + n): the
  // restore builds them after loading, so a value two documents share is checked here, the same way.
  struct UniqueCheck {
    const IndexSpec* index;
    std::vector<const IndexedField*> fields;
    std::vector<IdHash> hashes;  // of the documents whose columns are all non-NULL (SQLite: NULLs differ)
  };
  std::vector<UniqueCheck> unique_checks_;
  std::string unique_key_;  // scratch
  unsigned char id_hash_key_[16];
  // Totals.
  std::optional<Manifest> manifest_;
  std::vector<ScannedMember> members_;
  std::vector<std::string> collections_;
  std::map<std::string, int64_t> documents_;
  std::set<std::string> seen_paths_;
  int64_t oplog_entries_ = 0;
  OplogTimestamp oplog_first_, oplog_last_;  // of oplog.bson, which must lie inside the manifest's range
  bool oplog_out_of_order_ = false;
  bool has_oplog_ = false;
  std::optional<std::string> ledger_copy_;
};

}  // namespace facecrowd
