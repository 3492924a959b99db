// What a backup target holds, as facecrowd lays it out under the target's prefix:
//
//   index.json                                 this index (plaintext; no personal data; authenticated on a
//                                              target with a symmetric key: index_auth.h, which covers the
//                                              segments through their sha256)
//   oplog-index/YYYY-MM-DDTHH-<16 hex>.json    a slice segment: the entries of the slices whose `to` lies in
//                                              that UTC hour (plaintext, like index.json; at most ~60 a
//                                              segment with a slice shipped every minute)
//   archives/backup_<db>_YYYYMMDD_HHMMSS.tar.gz             each archive
//   archives/backup_<db>_YYYYMMDD_HHMMSS.tar.gz.manifest.json  its manifest copy
//   oplog/oplog_<from>_<to>.bson.gz            each shipped oplog slice
//   oplog/oplog_<from>_<to>.bson.gz.json       its record (entries, sha256, predecessor's sha256:
//                                              backup/slice_integrity.h), fetched beside it on restore
//   ledger/ledger-<offset, 16 digits>.jsonl    the erasure ledger, append-only: each object holds the
//                                              ledger's bytes [offset, offset + length), whole lines only
//
// Why segments (format version 2): with a slice shipped every minute and a 7-day point-in-time window, the
// slice entries are ~10,000 (~5.6 MB). In format 1 they sat in index.json, which every push read, parsed,
// rewrote and uploaded whole. Now index.json lists each segment (hour, key, size, sha256, entry count, the
// lowest and highest `to`, and a digest of its slice names: slice_names_digest) and a push reads and
// rewrites only the segments it changes (normally the current hour's) and index.json (~75 KB for 7 days).
// A segment's key ends with 16 hex digits of its content's sha256: a changed segment goes up under a new
// key before index.json names it, and the old object is deleted only after, so a push killed at any point
// leaves an index.json whose every segment exists as recorded (never one overwritten in place). Format 1
// (slices inline in index.json) is still read; the next push writes format 2. An older facecrowd refuses a
// format 2 index by its version instead of seeing no slices.
//
// from_json refuses (kBadInput, naming the field) an index that strays from this layout: an archive or slice
// name that is not one `facecrowd backup` / `oplog ship` writes (it becomes a local file name), an object key
// elsewhere than the layout puts it, a size that is not a whole number, a digest that is not hex or absent,
// an entry listed twice. A segment is checked by its size and sha256 against index.json before it is
// parsed, then entry by entry as format 1's entries are, and each entry's `to` must lie in the segment's
// hour, no slice may be in two segments, and the summary must be what the entries give. A bucket others can
// write to cannot steer a restore outside its backup directory.
//
// Each object but index.json and the segments is stored encrypted when the target is
// (crypto/object_crypto.h), under the same name. The
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
#include <map>
#include <optional>
#include <set>
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

// One segment of the slice list, as index.json summarises it (see above).
struct SliceSegment {
  std::string hour;                  // "YYYY-MM-DDTHH" (UTC): the hour of its slices' `to`
  RemoteObject object;               // slice_segment_key(hour, sha256 of the content); plaintext
  uint64_t count = 0;                // entries
  OplogTimestamp first_to, last_to;  // the lowest and highest `to` of its slices
  std::string names_sha256;          // slice_names_digest of its slices
  // Its slices are in RemoteIndex::slices (a reader loads every segment, a push only those it needs).
  // Not written.
  bool loaded = false;
};

// What a reader takes from a target at most, checked before a body is read into memory where its size is known
// first (a segment's, from index.json), else before it is parsed (index.json's, once downloaded to disk): a
// bucket others can write to must not make a restore read gigabytes. Each bound is what push can write, with
// room, so no target a push wrote is refused; a push whose index would exceed one refuses instead
// (rebuild_segments), before any upload, rather than write a target no restore reads.
//  - Slices per segment: the slices whose `to` lies in one UTC hour. `oplog ship` runs once a minute from
//    cron (scripts/setup-cron-backup.sh) and writes one slice per 100,000 entries or 64 MiB
//    (ShipOptions), so an hour holds ~60; one a second for the whole hour, 3,600, would need a ship loop
//    with no pause or 100,000 writes a second, far beyond the ~11,000 documents a second demo-data
//    writes into this store. A minute's bound (60) would refuse an hour with a bulk import in it.
inline constexpr uint64_t kMaxSegmentSlices = 3600;
//  - A segment's bytes: as many entries of at most 2 KiB each as push writes them (name, range, and two
//    objects with key, size, sha256, MD5, key id and an ETag, which from_json caps at 200 characters: ~1.3 KB
//    at the most, ~0.5 KB usually), plus its header: 7.2 MB.
inline constexpr uint64_t kMaxSegmentBytes = kMaxSegmentSlices * 2048 + 4096;
//  - Segments in index.json: one per UTC hour that holds slices. Remote retention keeps slices for the
//    point-in-time window (7 days, 168 segments, by default) or since the newest full backup; ten years of
//    hours (87,840, ~40 MB of summaries) is beyond any window a deployment sets, short of the 100-year typo
//    guard of --pitr-days.
inline constexpr size_t kMaxSegments = 24 * 366 * 10;
//  - index.json's bytes: those segments' summaries (~450 bytes each), plus the archives remote retention
//    keeps (at most 36,500 daily + 1,200 monthly, ~4 KB each with their manifests: ~160 MB), the ledger's
//    chunk list, and a format 1 index's inline slices (a 30-day window was 22 MB).
inline constexpr uint64_t kMaxIndexBytes = 256ull << 20;

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
// "YYYY-MM-DDTHH" (UTC) of a slice's `to`: the segment its entry belongs to.
std::string slice_hour(OplogTimestamp to);
// "oplog-index/<hour>-<the first 16 hex digits of content_sha256>.json"
std::string slice_segment_key(const std::string& hour, const std::string& content_sha256);
// A digest of a set of slices by name and whether each has a record (order does not matter): a push
// compares its local slices of an hour with a segment's without downloading the segment.
struct SliceName {
  std::string name;
  bool has_record = false;
};
std::string slice_names_digest(std::vector<SliceName> names);

// The one backup directory that pushes to a target (writer_fence.h): two machines pushing to one target
// overwrite each other's objects, so a push refuses a target whose index names another writer.
// "writer": {"id": 32 hex digits, "host": its host name, "since": when it became the writer (ISO 8601)}.
// Covered by index_auth.h's tag on a keyed target like every other field.
struct IndexWriter {
  std::string id;     // WriterIdentity::id of the backup directory (writer_fence.h)
  std::string host;   // for people: the machine's host name when it became the writer
  std::string since;  // ISO 8601
  nlohmann::json to_json() const;  // as index.json holds it
};

struct RemoteIndex {
  static constexpr const char* kKey = "index.json";
  static constexpr int kFormatVersion = 2;
  int format_version = kFormatVersion;         // as read; written: always kFormatVersion
  std::string updated_at;
  std::string encryption;                      // "" (plaintext) | "key" | "passphrase" | "public-key"
  std::string passphrase_salt;                 // hex, for "passphrase"
  std::vector<RemoteArchive> archives;         // oldest first
  // The slices of the loaded segments (every slice, for a reader and for a format 1 index), by from.
  std::vector<RemoteSlice> slices;
  std::vector<SliceSegment> segments;          // by hour; empty for a format 1 index until it is written
  std::vector<RemoteLedgerChunk> ledger;       // by offset, contiguous from 0
  uint64_t ledger_bytes = 0;
  std::string ledger_sha256;                   // of the ledger's first ledger_bytes bytes
  // The highest `to` of the slices remote retention deleted (null: none yet): a restore --until before it
  // says that retention removed the slices it would need (offsite_retention.h's point-in-time window),
  // instead of reporting them as missing. Written only when set, so older readers see the index unchanged.
  OplogTimestamp slices_pruned_through;
  // Raised at every write (OffsiteStore::write_index), covered by the index's tag: a machine that pushed
  // refuses an older index put back in its place (index_auth.h). 0 in an index written before it existed.
  uint64_t sequence = 0;
  // The backup directory that writes the target (writer_fence.h); absent in an index written by a facecrowd
  // before the fence or never pushed: the next push claims it. Written only when set.
  std::optional<IndexWriter> writer;

  // index.json's content, format 2 (the segments' summaries, not the slices): the one serialisation of it.
  // Call rebuild_segments first when `slices` changed.
  nlohmann::json to_json() const;
  // The whole index with every slice inline, in format 1's shape (`backups list --target --json`); every
  // segment must be loaded.
  nlohmann::json to_json_with_slices() const;
  // Error(kBadInput) naming `what` (and the field) when malformed, off the layout above, or of a newer format.
  // Format 2's segments come back unloaded (OffsiteStore loads them).
  static RemoteIndex from_json(const nlohmann::json& json, const std::string& what);

  // Regroups `slices` into segments: each loaded segment and each hour with no segment yet gets its content
  // and summary anew (a loaded segment left without slices is dropped). Returns the content of each of
  // them by key, for the caller to upload those the target does not hold yet. Error(kInternal) when a slice
  // belongs to a segment that is not loaded (its other entries would be lost); Error(kConflict) when the
  // index would hold more than a reader takes (kMaxSegments, kMaxSegmentSlices, kMaxSegmentBytes), naming the
  // bound and the remedy, before anything is uploaded.
  std::map<std::string, std::string> rebuild_segments();
  // Checks a downloaded segment's content against `segment`'s summary and appends its slices to `slices`
  // (the caller sorts them), kBadInput naming `what` and the field; `seen`: the names already in `slices`,
  // which it extends.
  void add_segment(SliceSegment& segment, const std::string& content, const std::string& what,
                   std::set<std::string>& seen);

  const RemoteArchive* find_archive(const std::string& name) const;
  const RemoteSlice* find_slice(const std::string& name) const;
  RemoteSlice* find_slice(const std::string& name);
  // The newest archive of `db` (whose manifest starts before `until` when given).
  const RemoteArchive* latest(const std::string& db, std::optional<OplogTimestamp> until = std::nullopt) const;
  // The highest slice `to` (null when none), loaded or not.
  OplogTimestamp shipped_position() const;
};

// Each slice's position in `index.slices`, by name. find_slice scans the list; a push (every local slice) or
// a restore (every slice of its window) that looked each one up that way took time growing with the square
// of the slices, a minute's each.
std::unordered_map<std::string, size_t> slice_positions(const RemoteIndex& index);

}  // namespace facecrowd
