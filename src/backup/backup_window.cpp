#include "backup/backup_window.h"

#include <algorithm>
#include <fstream>

#include "backup/slice_integrity.h"
#include "core/error.h"
#include "core/utc_time.h"

namespace facecrowd {

bool slice_looks_intact(const fs::path& slice) {
  std::ifstream in(slice, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  if (!in.read(reinterpret_cast<char*>(magic), 2)) return false;
  std::error_code ec;
  // A gzip member is at least a 10-byte header plus an 8-byte trailer.
  return magic[0] == 0x1f && magic[1] == 0x8b && fs::file_size(slice, ec) >= 18 && !ec;
}

std::string describe_position(OplogTimestamp p) {
  return format_iso8601(UnixMillis(p.secs) * 1000) + " (" + p.to_string() + ")";
}

PitrWindow follow_slice_chain(const std::vector<SliceInfo>& slices, OplogTimestamp start, OplogTimestamp end) {
  PitrWindow w;
  w.start = start;
  w.end = end;
  for (;;) {
    const SliceInfo* next = nullptr;
    for (const auto& s : slices)
      if (s.from <= w.end && w.end < s.to && (!next || s.to > next->to)) next = &s;
    if (!next) break;
    if (!slice_looks_intact(next->path)) {
      w.gap = "oplog slice '" + next->path.filename().string() + "' is damaged (not gzip); the window stops at " +
              w.end.to_string();
      return w;
    }
    w.slices.push_back(*next);
    w.end = next->to;
  }
  // Nothing continues the chain; a slice that starts later means entries in between are missing.
  const SliceInfo* later = nullptr;
  for (const auto& s : slices)
    if (s.from > w.end && (!later || s.from < later->from)) later = &s;
  if (later)
    w.gap = "no oplog slice holds the entries after " + w.end.to_string() + " up to " + later->from.to_string() +
            " (next slice '" + later->path.filename().string() + "')";
  return w;
}

PitrWindow pitr_window(const BackupCatalog& catalog, const ArchiveInfo& archive) {
  if (!archive.manifest)
    throw Error(ExitCode::kBadInput, "archive '" + archive.path.string() +
                                         "' has no readable sidecar manifest (" + archive.path.filename().string() +
                                         ".manifest.json); its oplog position is unknown");
  auto w = follow_slice_chain(slices_of_database(catalog, archive.db), archive.manifest->oplog_start, archive.manifest->oplog_end);
  w.archive = archive.path;
  return w;
}

OverallPitrWindow overall_pitr_window(const BackupCatalog& catalog, const std::string& db) {
  OverallPitrWindow out;
  auto slices = slices_of_database(catalog, db);
  auto archives = catalog.archives(db);
  for (const auto& a : archives) {
    if (!a.manifest) {
      out.problems.push_back("archive '" + a.path.filename().string() + "' has no readable sidecar manifest");
      continue;
    }
    auto w = follow_slice_chain(slices, a.manifest->oplog_start, a.manifest->oplog_end);
    w.archive = a.path;
    if (w.gap && std::find(out.gaps.begin(), out.gaps.end(), *w.gap) == out.gaps.end()) out.gaps.push_back(*w.gap);
    out.archives.push_back(std::move(w));
  }
  std::vector<PitrRange> ranges;
  for (const auto& w : out.archives) ranges.push_back({w.start, w.end});
  std::sort(ranges.begin(), ranges.end(), [](const PitrRange& a, const PitrRange& b) { return a.start < b.start; });
  for (const auto& r : ranges) {
    if (!out.ranges.empty() && r.start <= out.ranges.back().end)
      out.ranges.back().end = std::max(out.ranges.back().end, r.end);
    else
      out.ranges.push_back(r);
  }
  if (out.ranges.empty())
    out.none_reason = archives.empty() ? "no backup archive of '" + db + "' in '" + catalog.dir().string() + "'"
                                       : "no archive of '" + db + "' has a readable sidecar manifest";
  return out;
}

std::optional<PitrBase> pitr_base(const BackupCatalog& catalog, const std::string& db, OplogTimestamp target) {
  auto slices = slices_of_database(catalog, db);
  auto archives = catalog.archives(db);
  for (auto it = archives.rbegin(); it != archives.rend(); ++it) {
    if (!it->manifest || it->manifest->oplog_start > target) continue;
    auto w = follow_slice_chain(slices, it->manifest->oplog_start, it->manifest->oplog_end);
    w.archive = it->path;
    if (w.holds(target)) return PitrBase{*it, std::move(w)};
  }
  return std::nullopt;
}

}  // namespace facecrowd
