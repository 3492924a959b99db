#include "backup/verify.h"

#include <unistd.h>

#include <random>

#include "backup/restore.h"
#include "backup/catalog.h"
#include "core/error.h"
#include "store/database.h"

namespace facecrowd {
namespace {

// A throwaway data directory, removed at destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const fs::path& parent) {
    std::random_device rd;
    path_ = (parent.empty() ? fs::temp_directory_path() : parent) /
            ("facecrowd-verify-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

bool VerifyReport::ok() const {
  if (checks.empty()) return false;
  for (const auto& c : checks)
    if (!c.ok) return false;
  return true;
}

nlohmann::json VerifyReport::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : checks) list.push_back({{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  return {{"source", source.string()}, {"ok", ok()}, {"checks", list}};
}

VerifyReport verify_backup(const std::string& input, const VerifyOptions& options) {
  VerifyReport report;
  report.source = input == "latest" ? BackupCatalog(options.backup_dir).resolve("latest", "face-recognition")
                                    : BackupCatalog(options.backup_dir).resolve(input, "");
  ScratchDir scratch(options.scratch_dir);
  RestoreOptions ro;
  ro.backup_dir = options.backup_dir;
  ro.actor = "verify";
  RestoreResult restored;
  try {
    restored = restore_backup(scratch.path() / "data", report.source.string(), ro);
  } catch (const Error& e) {
    std::string name = e.code() == ExitCode::kIo ? "test restore into a throwaway database" : "archive contents";
    report.checks.push_back({name, false, e.what()});
    return report;
  }
  if (!restored.manifest) {
    report.checks.push_back({"manifest", false, "the backup has no manifest.json, so nothing can be checked against it"});
    return report;
  }
  const Manifest& m = *restored.manifest;
  if (restored.shape == BackupShape::kArchive)
    report.checks.push_back({"tar structure", true,
                             std::to_string(restored.members) + " members under one top folder, safe names, "
                             "manifest.json last, gzip and tar intact to the end"});
  report.checks.push_back({"manifest", true,
                           "format version " + std::to_string(m.format_version) + ", database " + m.db + ", " +
                               std::to_string(m.collections.size()) + " collections, oplog " +
                               m.oplog_start.to_string() + " .. " + m.oplog_end.to_string() + ", created " + m.created_at});
  report.checks.push_back({"checksums", true,
                           "sha256 and size of all " + std::to_string(m.files.size()) +
                               " listed files match; no file missing, none extra"});
  std::string counts;
  for (const auto& c : restored.collections)
    counts += (counts.empty() ? "" : ", ") + c.name + " " + std::to_string(c.documents_read);
  report.checks.push_back({"document counts", true, "as the manifest says: " + (counts.empty() ? "no collections" : counts)});
  report.checks.push_back({"decoding", true,
                           std::to_string(restored.documents_decoded) + " documents and " +
                               std::to_string(restored.oplog_entries_decoded) + " oplog entries decode as BSON"});

  // Counts read back from the throwaway database, independently of the restore's own check.
  VerifyCheck test{"test restore into a throwaway database", true, ""};
  try {
    auto db = Database::open(DataDir::open(scratch.path() / "data"), restored.db, {.create_if_missing = false});
    auto r = db->read();
    std::string detail;
    for (const auto& c : m.collections) {
      const ManifestFile* f = m.find_file(m.db + "/" + c + ".bson");
      int64_t expected = f ? f->documents : -1;
      int64_t got = r.count(c);
      if (c == "auditlogs") got -= 1;  // the restore's own audit entry
      if (got != expected) {
        test.ok = false;
        detail += (detail.empty() ? "" : "; ") + c + ": " + std::to_string(got) + " restored, manifest says " +
                  std::to_string(expected);
      }
    }
    test.detail = test.ok ? "restored and reopened; every collection's count equals the manifest's" : detail;
  } catch (const Error& e) {
    test.ok = false;
    test.detail = e.what();
  }
  report.checks.push_back(test);
  return report;
}

}  // namespace facecrowd
