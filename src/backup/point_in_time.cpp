#include "backup/point_in_time.h"

#include <algorithm>

#include "backup/archive_manifest.h"
#include "backup/oplog_slice.h"
#include "core/error.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

// True when every entry strictly before `until` is at or before `reach`.
bool covers(OplogTimestamp reach, OplogTimestamp until) { return until <= OplogTimestamp{reach.secs, reach.inc + 1}; }

}  // namespace

OplogTimestamp parse_until(const std::string& text) {
  if (text.empty())
    throw Error(ExitCode::kUsage, "--until is empty: give SECS:INC (e.g. 1704240000:1) or an ISO 8601 time "
                                  "(e.g. 2024-01-03T01:30:00Z), or leave --until out for the newest state");
  // ISO first: "2024-01-03" must not be read as secs-inc.
  if (auto millis = parse_iso8601(text)) {
    if (*millis < 0 || *millis / 1000 > int64_t(UINT32_MAX))
      throw Error(ExitCode::kUsage, "--until '" + text + "' is outside the range of oplog timestamps");
    return {uint32_t(*millis / 1000), 0};
  }
  if (auto ts = parse_oplog_timestamp(text)) return *ts;
  throw Error(ExitCode::kUsage, "--until '" + text + "' is neither SECS:INC (e.g. 1704240000:1) nor an ISO 8601 time "
                                "(e.g. 2024-01-03T01:30:00Z)");
}

std::string oplog_position_text(OplogTimestamp ts) {
  return ts.to_string() + " (" + format_iso8601(int64_t(ts.secs) * 1000) + ")";
}

OplogWindow plan_oplog_window(const Manifest& manifest, std::vector<SliceInfo> slices) {
  OplogWindow window{manifest.oplog_start, std::max(manifest.oplog_start, manifest.oplog_end), {}};
  std::sort(slices.begin(), slices.end(), [](const SliceInfo& a, const SliceInfo& b) {
    return a.from != b.from ? a.from < b.from : a.to > b.to;
  });
  for (;;) {
    const SliceInfo* next = nullptr;
    for (const auto& s : slices)
      if (s.from <= window.reach && window.reach < s.to && (!next || s.to > next->to)) next = &s;
    if (!next) break;  // a gap, or nothing shipped yet
    window.slices.push_back(*next);
    window.reach = next->to;
  }
  return window;
}

void require_inside_window(const OplogWindow& window, OplogTimestamp until) {
  if (until > window.start && covers(window.reach, until)) return;
  const std::string outside = "--until " + oplog_position_text(until) + " is outside the window this backup and the shipped oplog cover: " +
                              oplog_position_text(window.start) + " .. " + oplog_position_text(window.reach);
  if (until <= window.start) throw Error(ExitCode::kUsage, outside + " (choose an older backup, or a later time)");
  // Past the reach: name the newest point there is and the limit that restores to it (exclusive, so the
  // position after it), and why nothing later is here, instead of leaving the operator to guess one.
  const OplogTimestamp newest_limit{window.reach.secs, window.reach.inc + 1};
  throw Error(ExitCode::kUsage, outside + ". No shipped oplog slice continues it further: its newest recovery point is " +
                                    oplog_position_text(window.reach) + ". Restore to that with --until " + newest_limit.to_string() +
                                    " (every change up to and including it), or give an earlier time; changes made after it were "
                                    "never shipped (`facecrowd oplog ship` ships them while the live data still holds them)");
}

std::filesystem::path choose_archive_before(const BackupCatalog& catalog, const std::string& db, OplogTimestamp until) {
  auto archives = catalog.archives(db);
  if (archives.empty())
    throw Error(ExitCode::kNotFound, "no backup archive of '" + db + "' in '" + catalog.dir().string() + "'");
  auto own_manifest = [](const ArchiveInfo& a) -> std::optional<Manifest> {
    try {
      return read_archive_manifest(a.path);
    } catch (const Error&) {
      return std::nullopt;  // a damaged archive is never chosen
    }
  };
  const ArchiveInfo* oldest = nullptr;
  for (auto it = archives.rbegin(); it != archives.rend(); ++it) {
    // No usable copy beside it (missing or damaged, it is only a cache): read the archive's own.
    if (!it->manifest && !(it->manifest = own_manifest(*it))) continue;
    if (it->manifest->oplog_start < until) return it->path;
    oldest = &*it;
  }
  // The copies may be wrong in a way that still parses: before refusing, ask the archives themselves,
  // those whose name (creation time) is not clearly after `until`, so a mistyped early time stays cheap.
  for (auto it = archives.rbegin(); it != archives.rend(); ++it) {
    if (it->created > int64_t(until.secs) * 1000 + 24 * 3600 * 1000) continue;
    auto own = own_manifest(*it);
    if (own && own->oplog_start < until) return it->path;
  }
  throw Error(ExitCode::kUsage, "--until " + oplog_position_text(until) + " is before every backup of '" + db + "' in '" +
                                    catalog.dir().string() + "'" +
                                    (oldest ? "; the oldest starts at " + oplog_position_text(oldest->manifest->oplog_start)
                                            : std::string("; none has a readable manifest")));
}

int64_t for_each_replay_entry(const OplogWindow& window, const std::vector<OplogEntry>& archive_entries,
                              OplogTimestamp until, const std::function<void(const OplogEntry&)>& fn) {
  OplogTimestamp last = window.start;  // slices may overlap the archive's oplog: each ts is applied once
  int64_t seen = 0;
  auto offer = [&](const OplogEntry& e) {
    if (e.ts <= last || e.ts >= until) return;
    fn(e);
    last = e.ts;
    ++seen;
  };
  for (const auto& e : archive_entries) offer(e);
  for (const auto& slice : window.slices) {
    if (slice.from >= until) break;  // holds only entries after the limit: not read at all
    int64_t index = 0;
    read_oplog_slice(slice.path, [&](std::string_view bytes) {
      ++index;
      std::string what = "oplog slice '" + slice.path.string() + "', entry #" + std::to_string(index);
      OplogEntry e = decode_oplog_entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), what);
      if (e.ts <= slice.from || e.ts > slice.to)
        throw Error(ExitCode::kBadInput, what + " has ts " + e.ts.to_string() + " outside the slice's range " +
                                             slice.from.to_string() + " .. " + slice.to.to_string());
      offer(e);
    });
  }
  return seen;
}

}  // namespace facecrowd
