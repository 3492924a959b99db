#include "backup/backup_cleanup.h"

#include <unistd.h>

#include <regex>

#include "backup/archive_manifest.h"
#include "backup/catalog.h"
#include "core/leftover_owner.h"

namespace facecrowd {
namespace {

namespace fs = std::filesystem;

bool remove_quietly(const fs::path& p) {
  std::error_code ec;
  return fs::remove(p, ec) && !ec;
}

const std::regex& partial_re() {
  static const std::regex re(R"((backup_[A-Za-z0-9_-]+_\d{8}_\d{6}\.tar\.gz)\.partial-(\d+))");
  return re;
}

}  // namespace

fs::path partial_archive_path(const fs::path& final_path) {
  fs::path p = final_path;
  p += ".partial-" + std::to_string(::getpid());
  return p;
}

bool partial_in_progress(const fs::path& final_path) {
  std::error_code ec;
  std::string prefix = final_path.filename().string() + ".partial-";
  for (const auto& entry : fs::directory_iterator(final_path.parent_path(), ec)) {
    std::string name = entry.path().filename();
    std::smatch m;
    if (name.rfind(prefix, 0) != 0 || !std::regex_match(name, m, partial_re())) continue;
    if (another_process_runs(pid_from_digits(m[2]))) return true;
  }
  return false;
}

std::vector<fs::path> remove_stale_partials(const fs::path& backup_dir) {
  static const std::regex sidecar_tmp_re(R"(backup_[A-Za-z0-9_-]+_\d{8}_\d{6}\.tar\.gz\.manifest\.json\.tmp-(\d+))");
  static const std::regex sidecar_re(R"((backup_[A-Za-z0-9_-]+_\d{8}_\d{6}\.tar\.gz)\.manifest\.json)");
  std::vector<fs::path> removed;
  std::vector<fs::path> sidecars;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(backup_dir, ec)) {
    std::string name = entry.path().filename();
    std::smatch m;
    if (std::regex_match(name, m, partial_re()) || std::regex_match(name, m, sidecar_tmp_re)) {
      if (process_is_gone(pid_from_digits(m[m.size() - 1])) && remove_quietly(entry.path())) removed.push_back(entry.path());
    } else if (std::regex_match(name, m, sidecar_re)) {
      sidecars.push_back(entry.path());
    }
  }
  for (const auto& sidecar : sidecars) {
    fs::path archive = sidecar.parent_path() / sidecar.stem();  // strips ".json" ...
    archive.replace_extension();                                // ... and ".manifest"
    if (!fs::exists(archive, ec) && !partial_in_progress(archive) && remove_quietly(sidecar)) removed.push_back(sidecar);
  }
  return removed;
}

std::vector<fs::path> prune_archives(const fs::path& backup_dir, const std::string& db, int keep_days, UnixMillis now,
                                     const fs::path& keep) {
  std::vector<fs::path> removed;
  if (keep_days <= 0) return removed;
  UnixMillis cutoff = now - UnixMillis(keep_days) * 86'400'000;
  std::error_code ec;
  for (const auto& info : BackupCatalog(backup_dir).archives(db)) {
    if (info.created >= cutoff || fs::equivalent(info.path, keep, ec)) continue;
    if (!remove_quietly(info.path)) continue;
    removed.push_back(info.path);
    remove_quietly(manifest_copy_path(info.path));
  }
  return removed;
}

}  // namespace facecrowd
