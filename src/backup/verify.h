// `facecrowd verify`: proves a backup can be restored, without touching the live data. One streaming pass
// restores it into a throwaway data directory (a temporary folder, never --data), which checks the tar
// structure (one top folder, safe names, manifest.json last), every member's sha256, size and document
// count against the manifest (none missing, none extra), decodes every document and oplog entry; then
// the throwaway database is opened and its per-collection counts compared with the manifest.
//
// The report lists each check with ok/FAILED and what it covered; ok() only when all hold. Failures are
// reported, not thrown (except Error(kNotFound) when there is no such backup, and kUsage).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace facecrowd {

namespace fs = std::filesystem;

struct VerifyOptions {
  fs::path backup_dir = "backup";  // where `latest` and archive names are looked up
  fs::path scratch_dir;            // parent of the throwaway data directory; empty: the system temp dir
};

struct VerifyCheck {
  std::string name;    // "tar structure", "checksums", …
  bool ok = false;
  std::string detail;  // what was checked, or why it failed
};

struct VerifyReport {
  fs::path source;
  std::vector<VerifyCheck> checks;
  bool ok() const;
  nlohmann::json to_json() const;
};

VerifyReport verify_backup(const std::string& input, const VerifyOptions& options);

}  // namespace facecrowd
