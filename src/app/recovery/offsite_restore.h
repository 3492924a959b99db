// Disaster recovery from the bucket alone: `facecrowd restore s3://bucket/prefix/latest [--until T]` on a
// machine that has nothing but the binary, the credentials and (for an encrypted target) the key.
//
//   1. the target's index is read and authenticated (backup/offsite/index_auth.h: a tampered, stripped or
//      rolled-back index of a target encrypted with a key is refused before anything is downloaded); the archive is chosen ("latest": the newest, or the newest before T;
//      or a named archive), and a T outside what the index says the target holds (before its oldest archive,
//      or past the newest slice that continues the chosen one) is refused (exit 2) before anything is
//      downloaded, leaving no file behind; then it is downloaded with its manifest copy and the oplog slices that continue it into
//      the local backup directory, every object checked (size, sha256) and decrypted (backup/offsite/);
//   2. the target's erasure ledger is downloaded, checked chunk by chunk, and merged into
//      <data>/erasure-ledger.jsonl (every line of both, the local ones first): a restore can only add
//      erasures, never drop one. The merge happens inside the restore, once it has checked the archive and
//      holds the data directory's lock; a restore refused or failed after that takes the lines out again;
//   3. the ordinary atomic restore runs with the ledger re-applied before the swap (restore_with_erasures.h),
//      brought forward to T, or by default to the end of the last shipped slice (the recovery point);
//   4. an audit entry "backup.restore.offsite" records the target, the archive and the recovery point;
//   5. the target's writer is reported, never adopted (writer_fence.h): when it is another backup directory,
//      the result names the take-over command that makes this machine the writer once the old one is gone.
// A warning (the CLI exits 1) when the recovery point falls short of what the target shipped: the slices that
// continue the archive stop before the newest shipped slice ends (one is missing), so the changes after the
// recovery point are not restored; or when --until T lies before the target's point-in-time window (remote
// retention deleted the slices that would bring the chosen archive forward to T: offsite_retention.h): the
// archive is restored to its own time, and the warning says so and names the recovery point.
//
// Sources: "s3://B/P/latest", "s3://B/P/<archive name>", "s3://B/P/archives/<archive name>", "s3://B/P"
// (latest); gs:// alike; a directory target through `target_dir` with "latest" or an archive name.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/recovery/restore_with_erasures.h"
#include "backup/offsite/index_auth.h"

namespace facecrowd {

struct OffsiteRestoreOptions {
  RestoreOptions restore;                  // backup_dir: where the downloads go; until: the point in time
  std::string target;                      // target name; empty: split from `input`
  std::vector<fs::path> key_files;         // --key-file, besides the configured ones and the environment
  // --allow-unauthenticated-index: restore from an index without a tag (one an older facecrowd wrote) on a
  // target encrypted with a key (backup/offsite/index_auth.h).
  bool allow_unauthenticated_index = false;
};

struct OffsiteRestoreResult {
  RestoreWithErasuresResult inner;
  std::string target;
  std::string archive;
  OplogTimestamp recovery_point;           // the restored data holds every change up to here
  uint64_t downloaded_bytes = 0;
  int slices = 0;
  int64_t ledger_records_added = 0;        // ledger lines the target had and this machine lacked
  double download_seconds = 0;
  double seconds = 0;
  std::vector<std::string> warnings;       // e.g. a gap in the target's slices before its shipped position
  std::string encryption;                  // the target's, as its index records it ("" plaintext)
  // Whether the target's index.json was authenticated (index_auth.h); its warning (write-only or plaintext
  // target, or the override) is printed but leaves the exit code as it was.
  IndexAuthentication index_authentication;
  // Who writes the target (backup/offsite/writer_fence.h). The restore does not adopt that identity: a
  // machine restored from the target is another writer, whose pushes there are refused until
  // `take_over_command` is run (once the old server no longer pushes); empty when this backup directory is
  // the writer or the index names none.
  std::optional<IndexWriter> writer;
  std::string take_over_command;
  nlohmann::json to_json() const;
};

// True for "s3://…" and "gs://…".
bool is_offsite_source(const std::string& input);

OffsiteRestoreResult restore_from_target(const fs::path& data_root, const std::string& input, OffsiteRestoreOptions options);

}  // namespace facecrowd
