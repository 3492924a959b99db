// Where backups live off-site: one small interface (in the manner of Litestream's ReplicaClient) with a
// local-directory and an S3/GCS implementation. Keys are '/'-separated names relative to the target's
// prefix ("archives/backup_face-recognition_20240103_010000.tar.gz"); a target never sees absolute
// local paths except the file it reads from or writes to.
//
// Contracts, for every implementation:
// - put() stores the whole file (or the bytes an UploadSource produces) under `key` or nothing: readers never see a partial object (S3 makes an
//   object visible only when its upload completes; the directory target writes a temporary name and
//   renames). It returns the stored size and sha256, computed from the bytes as they were stored.
//   A file's sha256 is recorded with it (S3 user metadata x-amz-meta-sha256; the directory target's
//   .sha256) so stat() reports it without reading the data. A caller that already knows the file's sha256
//   (computed when the file was written: an archive, an oplog slice) passes it, and the file is then read
//   once, not twice: the bytes are hashed as they are stored and must equal it, else nothing is stored (an
//   object already sent is removed) and put() throws Error(kBadInput) naming the file ("changed or damaged
//   since its sha256 was recorded").
//   A source's bytes are made as they are sent (an object encrypted on the fly), so their digest is known
//   only at the end: the directory target records their sha256 beside the object all the same; on S3 the
//   object carries no x-amz-meta-sha256, and put() returns the MD5 of the bytes (checked against S3's ETag;
//   no sha256: crypto/sealed_upload.cpp says why) with the ETag, which the caller keeps (the off-site index
//   does); stat() reports the ETag, which identifies the stored bytes.
// - get() writes the object to `file` via a temporary name in the same directory, checks it, and only then
//   renames it to `file`: a failed or refused download (network, disk full, damaged bytes) never shows at
//   `file`, not even briefly, and leaves a file already there as it was. The bytes are checked as they
//   arrive against the sha256 recorded with the object when there is one, and against the digests the
//   caller expects (the index's, for an object that carries none: its sha256, or its MD5 for an object
//   uploaded in one pass): Error(kBadInput) naming the object on a mismatch. Returns the size and the
//   digests computed (the sha256 unless only an MD5 was expected; the MD5 when one was).
// - list(prefix): every object whose key starts with `prefix`, sorted by key (sha256 only where it is
//   cheap: the directory target; S3 needs stat() per object).
// - remove() of a missing key is not an error.
// - Errors are facecrowd::Error naming the target (its URL, never a credential), the key and what was
//   being done: kNotFound (no such object or bucket), kIo (network, server or disk failure after the
//   retries), kUsage (a malformed target name or configuration).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace facecrowd {

namespace fs = std::filesystem;

// Bytes an upload produces as it sends them instead of reading them from a file (an object encrypted on the
// fly: crypto/object_crypto.h). The size is known before the first byte goes (it is the request's
// Content-Length); the sha256 is not: the target hashes the bytes as it stores them.
class UploadReader {
 public:
  virtual ~UploadReader() = default;
  // Fills `buffer` with the next `n` bytes (never fewer: the caller asks only for bytes inside the source).
  // Throws Error when the bytes cannot be produced as promised (the input changed or is damaged: kBadInput;
  // a read failed: kIo), at the latest before the last byte is given out; the upload then stores nothing.
  virtual void read(char* buffer, size_t n) = 0;
};

class UploadSource {
 public:
  virtual ~UploadSource() = default;
  virtual uint64_t size() const = 0;
  virtual std::string name() const = 0;  // for messages: the file the bytes come from
  // A reader of the bytes from the first on; each call starts again (a retry after a dropped connection).
  // Every reader produces the same bytes for the same input: a reader either gives out the object whose
  // input passed its checks, or throws before its last byte.
  virtual std::unique_ptr<UploadReader> open() const = 0;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string sha256;  // hex; empty when the object carries none (an encrypted upload on S3; another tool's)
  std::string etag;    // S3's ETag, without quotes (an MD5 of the bytes for a single PUT); empty elsewhere
  std::string md5;     // hex, of the bytes, where the target computed it (an S3 upload in one pass; a download
                       // that expected one); empty elsewhere
};

// What a download is checked against: the digests recorded when the object was uploaded (hex; empty: none).
struct ExpectedDigests {
  std::string sha256;
  std::string md5;
};

class BackupTarget {
 public:
  virtual ~BackupTarget() = default;
  // "s3://bucket/prefix", "gs://bucket/prefix" or the directory: safe to print (no credentials).
  virtual std::string url() const = 0;

  // Returns what was stored (size and sha256 of the bytes). `known_sha256`: the file's sha256 (hex) when the
  // caller knows it, else empty.
  virtual ObjectInfo put(const std::string& key, const fs::path& file, const std::string& known_sha256) = 0;
  ObjectInfo put(const std::string& key, const fs::path& file) { return put(key, file, ""); }
  // The same contract for bytes a source produces, made and sent in one pass: stored whole under `key`, or
  // nothing stored when the source fails.
  virtual ObjectInfo put(const std::string& key, const UploadSource& source) = 0;
  virtual ObjectInfo get(const std::string& key, const fs::path& file, const ExpectedDigests& expected) = 0;
  ObjectInfo get(const std::string& key, const fs::path& file, const std::string& expected_sha256) {
    return get(key, file, ExpectedDigests{expected_sha256, ""});
  }
  ObjectInfo get(const std::string& key, const fs::path& file) { return get(key, file, ExpectedDigests{}); }
  virtual std::vector<ObjectInfo> list(const std::string& prefix) = 0;
  virtual void remove(const std::string& key) = 0;
  // nullopt when there is no such object.
  virtual std::optional<ObjectInfo> stat(const std::string& key) = 0;
  // Multipart uploads a killed run left behind (multipart_journal.h): a target given a journal folder
  // records each multipart upload there until it is completed or aborted, and abort_interrupted_uploads()
  // aborts the ones still recorded for this target, returning a line for each (aborted, or why not: a
  // record whose abort fails stays for the next run). Targets without multipart uploads do nothing.
  virtual void set_upload_journal(const fs::path& /*dir*/) {}
  virtual std::vector<std::string> abort_interrupted_uploads() { return {}; }
};

// True for "s3://…" and "gs://…" names (a remote target); anything else is a local directory.
bool is_remote_target_name(const std::string& name);

// The refusal of an upload whose bytes differ from the sha256 its caller recorded (kBadInput).
[[noreturn]] void throw_changed_since_recorded(const fs::path& file, const std::string& recorded, const std::string& read,
                                               const std::string& where);

// Opens the target a name denotes: "s3://bucket/prefix" and "gs://bucket/prefix" through s3_target.h
// (configuration from the environment and the AWS files, s3_config.h), anything else as a directory
// (created on first put). Error(kUsage) naming the text when it is malformed.
std::unique_ptr<BackupTarget> open_backup_target(const std::string& name);

// A directory target's URL: its absolute, lexically normal path ("remote/../remote/" from /srv is "/srv/remote"),
// so that every spelling of one folder is one target (the writer fence, the index this machine last signed and
// the configured target are all looked up by the target's URL).
std::string normal_directory_target(const std::string& name);

}  // namespace facecrowd
