#include "backup/verify.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <set>

#include "backup/restore.h"
#include "backup/catalog.h"
#include "backup/point_in_time.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "store/database.h"
#include "store/file_hash_check.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

constexpr const char* kScratchPrefix = "facecrowd-verify-";

fs::path scratch_parent(const fs::path& chosen) {
  if (!chosen.empty()) return chosen;
  const char* tmp = std::getenv("TMPDIR");  // not fs::temp_directory_path(): it throws when TMPDIR is missing
  return tmp && *tmp ? fs::path(tmp) : fs::path("/tmp");
}

[[noreturn]] void scratch_failure(const fs::path& parent, const std::string& what) {
  throw Error(ExitCode::kIo, "verify cannot use its scratch folder in '" + parent.string() + "' (" + what +
                                 "): the temporary directory is the problem, not the backup, which was not judged. "
                                 "Free space there or set TMPDIR to a writable folder with room for the restored "
                                 "database (about the backup's uncompressed size)");
}

// Removes scratch folders of verifies that were killed: each live verify holds an flock on the owner.lock
// inside its folder, so a folder whose lock can be taken (or that has none and is older than ten minutes,
// killed between mkdir and lock) belongs to nobody. Only this user's folders are considered.
void remove_stale_scratch(const fs::path& parent) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    struct stat st {};
    if (name.rfind(kScratchPrefix, 0) != 0 || ::lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != ::geteuid())
      continue;
    bool stale;
    int fd = ::open((entry.path() / "owner.lock").c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
      stale = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
      ::close(fd);
    } else {
      stale = ::time(nullptr) - st.st_mtime > 600;
    }
    if (stale) fs::remove_all(entry.path(), ec);
  }
}

// A private (0700) throwaway data directory, locked while in use and removed at destruction; a killed
// verify's folder is removed by the next verify (remove_stale_scratch).
class ScratchDir {
 public:
  explicit ScratchDir(const fs::path& chosen_parent) : parent_(scratch_parent(chosen_parent)) {
    remove_stale_scratch(parent_);
    std::random_device rd;
    path_ = parent_ / (kScratchPrefix + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (::mkdir(path_.c_str(), 0700) != 0) scratch_failure(parent_, std::string("mkdir: ") + std::strerror(errno));
    lock_fd_ = ::open((path_ / "owner.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX) != 0) {
      int err = errno;
      remove();
      scratch_failure(parent_, std::string("owner.lock: ") + std::strerror(err));
    }
  }
  ~ScratchDir() { remove(); }
  const fs::path& path() const { return path_; }
  const fs::path& parent() const { return parent_; }

 private:
  void remove() {
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
  }
  fs::path parent_, path_;
  int lock_fd_ = -1;
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
  nlohmann::json j = {{"source", source.string()}, {"ok", ok()}, {"checks", list}, {"warnings", warnings}};
  if (!index_authentication.is_null()) j["index_authentication"] = index_authentication;
  return j;
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
    // A file-system failure (a full or missing scratch folder, an unreadable disk) says nothing about the
    // backup: it is an error of its own (exit 6), never a "do not rely on this backup" verdict.
    if (e.code() == ExitCode::kIo) {
      if (std::string(e.what()).find(scratch.parent().string()) != std::string::npos) scratch_failure(scratch.parent(), e.what());
      throw;
    }
    report.checks.push_back({"archive contents", false, e.what()});
    return report;
  }
  if (!restored.manifest) {
    report.checks.push_back({"manifest", false, "the backup has no manifest.json, so nothing can be checked against it"});
    return report;
  }
  report.warnings = restored.warnings;
  const Manifest& m = *restored.manifest;
  if (restored.shape == BackupShape::kArchive)
    report.checks.push_back({"tar structure", true,
                             counted(restored.members, "member") + " under one top folder, safe names, "
                             "manifest.json last; gzip CRC-32 and length match, nothing after the gzip "
                             "stream or the tar end marker"});
  report.checks.push_back({"manifest", true,
                           "format version " + std::to_string(m.format_version) + ", database " + m.db + ", " +
                               counted(m.collections.size(), "collection") + ", oplog " +
                               m.oplog_start.to_string() + " .. " + m.oplog_end.to_string() + ", created " + m.created_at});
  report.checks.push_back({"checksums", true,
                           "sha256 and size of every listed file match (" + counted(m.files.size(), "file") +
                               "); no file missing, none extra"});
  std::string counts;
  for (const auto& c : restored.collections)
    counts += (counts.empty() ? "" : ", ") + c.name + " " + std::to_string(c.documents_read);
  report.checks.push_back({"document counts", true, "as the manifest says: " + (counts.empty() ? "no collections" : counts)});
  report.checks.push_back({"decoding", true,
                           counted(restored.documents_decoded, "document") + " and " +
                               counted(restored.oplog_entries_decoded, "oplog entry", "oplog entries") + " decode as BSON"});

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

  // Stored files' bytes against their recorded sha256 (a chunk can rot while every member's checksum,
  // taken over the damaged bytes, still matches).
  auto holds = [&](const char* c) { return std::find(m.collections.begin(), m.collections.end(), c) != m.collections.end(); };
  if (holds("fs.files") && holds("fs.chunks")) {
    VerifyCheck files{"file hashes", true, ""};
    try {
      auto db = Database::open(DataDir::open(scratch.path() / "data"), restored.db, {.create_if_missing = false});
      FileHashCheck check;
      auto r = db->read();
      r.scan("fs.files", [&](std::string_view d) { check.add_file(reinterpret_cast<const uint8_t*>(d.data()), d.size()); });
      r.scan("fs.chunks", [&](std::string_view d) { check.add_chunk(reinterpret_cast<const uint8_t*>(d.data()), d.size()); });
      auto damaged = check.finish(&r);
      files.ok = damaged.empty();
      files.detail = files.ok ? counted(check.files(), "stored file") + ": every chunk present, every sha256 matches"
                              : std::to_string(damaged.size()) + " damaged: " + damaged.front() +
                                    (damaged.size() > 1 ? "; …" : "");
    } catch (const Error& e) {
      files.ok = false;
      files.detail = e.what();
    }
    report.checks.push_back(files);
  }

  // The shipped slices that continue this backup (point-in-time recovery from it replays them).
  if (restored.shape == BackupShape::kArchive) {
    std::vector<SliceInfo> all;
    for (const fs::path& dir : {options.backup_dir, report.source.parent_path()}) {
      std::error_code ec;
      if (dir.empty() || !fs::is_directory(dir, ec)) continue;
      for (auto& s : BackupCatalog(dir).slices())
        if (std::none_of(all.begin(), all.end(), [&](const SliceInfo& o) { return fs::equivalent(o.path, s.path, ec); }))
          all.push_back(s);
    }
    auto window = plan_oplog_window(m, all);
    VerifyCheck slices{"oplog slices", true, ""};
    std::set<fs::path> used;
    for (const auto& s : window.slices) used.insert(s.path);
    int64_t legacy = 0, entries = 0;
    for (const auto& c : check_slices(all)) {
      if (!used.count(c.path)) continue;
      if (!c.ok) {
        slices.ok = false;
        slices.detail += (slices.detail.empty() ? "" : "; ") + c.detail();
      }
      legacy += c.legacy;
      entries += std::max<int64_t>(0, c.entries);
    }
    if (slices.ok)
      slices.detail = window.slices.empty()
                          ? "no shipped slice continues this backup"
                          : counted(window.slices.size(), "slice") + (window.slices.size() == 1 ? " continues" : " continue") + " it to " +
                                window.reach.to_string() + ", " + counted(entries, "entry", "entries") + ", all intact" +
                                (legacy ? " (" + counted(legacy, "legacy slice") + " without a record: order and end checked)" : "");
    report.checks.push_back(slices);
  }
  return report;
}

}  // namespace facecrowd
