#include "backup/backup_cleanup.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <regex>

#include "backup/catalog.h"

namespace facecrowd {
namespace {

namespace fs = std::filesystem;

// kill(pid, 0) fails with ESRCH only when no such process exists; EPERM means it runs under another user.
bool process_alive(long pid) {
  if (pid <= 0) return false;
  if (pid == long(::getpid())) return true;
  return ::kill(pid_t(pid), 0) == 0 || errno != ESRCH;
}

// The pid in a file name; -1 when it does not fit (then the file is not ours to judge).
long parse_pid(const std::string& digits) {
  if (digits.empty() || digits.size() > 9) return -1;
  return std::stol(digits);
}

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
    long pid = parse_pid(m[2]);
    if (pid != long(::getpid()) && process_alive(pid)) return true;
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
      long pid = parse_pid(m[m.size() - 1]);
      if (pid > 0 && !process_alive(pid) && remove_quietly(entry.path())) removed.push_back(entry.path());
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
    fs::path sidecar = info.path;
    sidecar += ".manifest.json";
    remove_quietly(sidecar);
  }
  return removed;
}

}  // namespace facecrowd
