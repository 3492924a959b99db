// `facecrowd verify`: proves a backup can be restored, without touching the live data. One streaming pass
// restores it into a throwaway data directory (a temporary folder, never --data), which checks the tar
// structure (one top folder, safe names, manifest.json last), every member's sha256, size and document
// count against the manifest (none missing, none extra), decodes every document and oplog entry; then
// the throwaway database is opened and its per-collection counts compared with the manifest. Then every
// stored file's chunks are hashed against the sha256 fs.files records ("file hashes", when the backup
// holds fs.files and fs.chunks), and the shipped oplog slices that continue this backup are checked
// ("oplog slices", backup/slice_integrity.h): a point-in-time restore from it replays them.
//
// The throwaway data directory is private (mode 0700) under `scratch_dir`, else $TMPDIR, else /tmp, named
// facecrowd-verify-<pid>-<random>, and holds an flock while the verify runs; it is removed at the end, and
// a killed verify's folder (which holds a full copy of the data) is removed by the next verify. A scratch
// folder that cannot be created or fills up is Error(kIo) naming the temporary directory, not a verdict.
//
// The checks are the restore's own (RestoreScan, restore.h): verify and restore reach the same verdict on
// the same backup, and a backup verify refuses is one restore refuses, with exit code 3 for both.
// The report lists each check with ok/FAILED and what it covered; ok() only when all hold. Failures are
// reported, not thrown (except Error(kNotFound) when there is no such backup, kUsage, and kIo for a file-system
// failure, which is no verdict on the backup).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace facecrowd {

namespace fs = std::filesystem;

struct VerifyOptions {
  fs::path backup_dir = "backup";  // where `latest` and archive names are looked up
  fs::path scratch_dir;            // parent of the throwaway data directory; empty: $TMPDIR, else /tmp
};

struct VerifyCheck {
  std::string name;    // "tar structure", "checksums", …
  bool ok = false;
  std::string detail;  // what was checked, or why it failed
};

struct VerifyReport {
  fs::path source;
  std::vector<VerifyCheck> checks;
  // Worth knowing, but not a failure: e.g. a damaged manifest copy beside the archive (only a cache).
  std::vector<std::string> warnings;
  // `verify --target`: whether the target's index is authenticated (offsite/index_auth.h); null otherwise.
  nlohmann::json index_authentication;
  bool ok() const;
  nlohmann::json to_json() const;
};

VerifyReport verify_backup(const std::string& input, const VerifyOptions& options);

}  // namespace facecrowd
