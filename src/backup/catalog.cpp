#include "backup/catalog.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "backup/archive_manifest.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {

std::string archive_file_name(const std::string& db, UnixMillis created) {
  return "backup_" + db + "_" + format_compact(created) + ".tar.gz";
}

std::string slice_file_name(OplogTimestamp from, OplogTimestamp to) {
  return "oplog_" + from.to_file_part() + "_" + to.to_file_part() + ".bson.gz";
}

std::vector<ArchiveInfo> BackupCatalog::archives() const { return archives(""); }

std::vector<ArchiveInfo> BackupCatalog::archives(const std::string& db) const {
  static const std::regex name_re(R"(backup_([A-Za-z0-9_-]+)_(\d{8}_\d{6})\.tar\.gz)");
  std::vector<ArchiveInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::smatch m;
    std::string name = entry.path().filename();
    if (!entry.is_regular_file() || !std::regex_match(name, m, name_re)) continue;
    if (!db.empty() && m[1] != db) continue;
    auto created = parse_compact(m[2]);
    if (!created) continue;
    ArchiveInfo info{entry.path(), m[1], *created, entry.file_size(ec), std::nullopt};
    // A damaged cache: listing goes on without positions; restore and verify read the archive's own.
    info.manifest = read_sidecar_manifest(entry.path());
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const ArchiveInfo& a, const ArchiveInfo& b) {
    return a.created != b.created ? a.created < b.created : a.path < b.path;
  });
  return out;
}

std::vector<SliceInfo> BackupCatalog::slices() const {
  static const std::regex name_re(R"(oplog_(\d+-\d+)_(\d+-\d+)\.bson\.gz)");
  std::vector<SliceInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::smatch m;
    std::string name = entry.path().filename();
    if (!entry.is_regular_file() || !std::regex_match(name, m, name_re)) continue;
    auto from = parse_oplog_timestamp(m[1]);
    auto to = parse_oplog_timestamp(m[2]);
    if (!from || !to) continue;
    out.push_back({entry.path(), *from, *to, entry.file_size(ec)});
  }
  std::sort(out.begin(), out.end(), [](const SliceInfo& a, const SliceInfo& b) { return a.from < b.from; });
  return out;
}

std::optional<ArchiveInfo> BackupCatalog::latest(const std::string& db) const {
  auto all = archives(db);
  if (all.empty()) return std::nullopt;
  return all.back();
}

std::map<std::string, std::string> BackupCatalog::recorded_archive_sha256() const {
  std::map<std::string, uint64_t> sizes;
  for (const auto& a : archives()) sizes[a.path.filename().string()] = a.bytes;
  std::map<std::string, std::string> out;
  std::ifstream in(log_file());
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"sha256\"") == std::string::npos) continue;  // lines written before it was recorded
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("outcome", "") != "ok") continue;
      auto size = sizes.find(j.value("archive", ""));
      std::string sha = j.value("sha256", "");
      if (size == sizes.end() || j.value("bytes", uint64_t(0)) != size->second || sha.size() != 64 ||
          sha.find_first_not_of("0123456789abcdef") != std::string::npos)
        continue;
      out[size->first] = sha;
    } catch (const nlohmann::json::exception&) {
    }
  }
  return out;
}

OplogTimestamp BackupCatalog::shipped_position() const {
  OplogTimestamp best;
  for (const auto& s : slices()) best = std::max(best, s.to);
  return best;
}

fs::path BackupCatalog::resolve(const std::string& what, const std::string& db) const {
  if (what == "latest") {
    auto l = latest(db);
    if (!l) throw Error(ExitCode::kNotFound, "no backup archive of '" + db + "' in '" + dir_.string() + "'");
    return l->path;
  }
  std::error_code ec;
  if (fs::exists(what, ec)) return what;
  if (fs::exists(dir_ / what, ec)) return dir_ / what;
  throw Error(ExitCode::kNotFound, "backup '" + what + "' not found (looked at '" + what + "' and in '" +
                                       dir_.string() + "')");
}

}  // namespace facecrowd
