// A backup target in an S3 bucket (or an S3-compatible store, or GCS through its XML API): key K is the
// object "<prefix>/K" of the bucket. Configuration: s3_config.h; HTTP, signing and retries: s3_request.h.
//
// Uploads: a file up to settings.multipart_threshold goes up in one PUT; a larger one as a multipart
// upload of settings.part_size parts (larger when the file would need more than S3's 10,000 parts:
// multipart_part_size), settings.parallel_parts at a time (each part hashed by the worker that sends it,
// signed with its own sha256, retried on its own). The whole file's sha256 is read first, unless the
// caller gives it (put's known_sha256); then a single PUT hashes the bytes as it sends them, and a
// multipart upload hashes the whole file on a thread of its own while the parts go up, and on a mismatch
// the object is deleted (the multipart upload aborted) before put() refuses. If any part fails for good, the upload is aborted (DELETE ?uploadId), so
// no orphan parts stay behind to be billed, and the error names the part. Every upload of a file carries its
// sha256 as x-amz-meta-sha256 and, when set, the storage class (x-amz-storage-class).
// A source (put(key, source): an object encrypted on the fly, crypto/sealed_upload.cpp says why this way)
// goes up in one pass, its sha256 unknown at the start: a single PUT with an unsigned payload
// (x-amz-content-sha256: UNSIGNED-PAYLOAD) and no x-amz-meta-sha256, its bytes' MD5 computed as they go,
// compared with the ETag S3 answers (on a mismatch the object is deleted and put() fails with kIo) and
// returned for the caller's index (no sha256 of these bytes is computed: crypto/sealed_upload.cpp); above the threshold, or on an Object Lock target (a locked PUT needs a checksum
// header at its start), as a multipart upload whose parts one reader makes in order and the workers hash,
// sign and send from memory. A source that refuses its input (kBadInput) stops the request short: S3 stores
// nothing (s3rver's leftover is removed).
// Downloads check the bytes as they arrive against x-amz-meta-sha256 and against the caller's expected
// digests, sha256 or MD5 (BackupTarget's contract); stat() reports the ETag too.
// list() reports sizes only (the sha256 needs a HEAD per object: stat()).
// Connections: every request (and every multipart worker) takes an open connection from the target's own
// pool and gives it back after, so the requests of a push (index, objects, parts) reuse their TCP (and TLS)
// connections instead of opening one each (HTTP keep-alive; libcurl keeps a handle's connections across
// requests). A target may be used from several threads.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "backup/targets/backup_target.h"
#include "backup/targets/multipart_journal.h"
#include "backup/targets/s3_config.h"

namespace facecrowd {

class S3Connection;
struct S3Request;

// The part size for a multipart upload of `object_size` bytes: `configured`, or the smallest whole number
// of MiB that keeps the upload within S3's 10,000 parts.
uint64_t multipart_part_size(uint64_t object_size, uint64_t configured);

class S3Target : public BackupTarget {
 public:
  S3Target(BucketLocation location, S3Settings settings);
  ~S3Target() override;
  std::string url() const override { return location_.url(); }
  using BackupTarget::put;
  ObjectInfo put(const std::string& key, const fs::path& file, const std::string& known_sha256) override;
  ObjectInfo put(const std::string& key, const UploadSource& source) override;
  using BackupTarget::get;
  ObjectInfo get(const std::string& key, const fs::path& file, const ExpectedDigests& expected) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  void remove(const std::string& key) override;
  std::optional<ObjectInfo> stat(const std::string& key) override;
  void set_upload_journal(const fs::path& dir) override { journal_.emplace(dir); }
  std::vector<std::string> abort_interrupted_uploads() override;

  const S3Settings& settings() const { return settings_; }
  S3Settings& settings() { return settings_; }
  // The URL an object's requests go to (tests: addressing).
  std::string object_url(const std::string& key) const;

 private:
  std::string full_key(const std::string& key) const;
  // A single-request PUT of a whole object with its sha256 signed and in its metadata, the target's storage
  // class and Object Lock headers; the caller sets where the body comes from.
  S3Request whole_object_put(const std::string& key, uint64_t size, const std::string& sha256) const;
  // Parts read from `fd`, or produced by `source` when it is set.
  // `sha256`: the whole object's, for its metadata (empty for a source: it is known only at the end, and
  // returned). Returns what was stored, with the completion's ETag.
  ObjectInfo put_multipart(const std::string& key, int fd, const UploadSource* source, uint64_t size, const std::string& sha256,
                           bool check_sha256, const fs::path& file);
  // A connection from the pool for one request or worker, given back when the lease ends.
  class Lease {
   public:
    explicit Lease(S3Target& target);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    S3Connection* operator->() { return connection_.get(); }

   private:
    S3Target& target_;
    std::unique_ptr<S3Connection> connection_;
  };
  BucketLocation location_;
  S3Settings settings_;
  std::optional<MultipartJournal> journal_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<S3Connection>> idle_;
};

}  // namespace facecrowd
