#include "backup/backup_status.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "backup/catalog.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "core/private_mode.h"
#include "store/database.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

constexpr int64_t kDayMillis = 86400000;

std::string human_age(int64_t secs) {
  if (secs < 0) secs = 0;
  if (secs < 120) return std::to_string(secs) + "s";
  if (secs < 2 * 3600) return std::to_string(secs / 60) + "m";
  if (secs < 2 * 86400) return std::to_string(secs / 3600) + "h" + std::to_string(secs % 3600 / 60) + "m";
  return std::to_string(secs / 86400) + "d" + std::to_string(secs % 86400 / 3600) + "h";
}

StatusCheck check_latest(const std::vector<ArchiveInfo>& archives, const fs::path& dir, const StatusOptions& o,
                         UnixMillis now) {
  StatusCheck c{"latest-backup"};
  if (archives.empty()) {
    c.level = CheckLevel::kError;
    c.message = "no backup of '" + o.db + "' in '" + dir.string() + "'";
    return c;
  }
  const auto& latest = archives.back();
  int64_t age = (now - latest.created) / 1000;
  c.message = "latest backup " + latest.path.filename().string() + " is " + human_age(age) + " old (" +
              human_bytes(latest.bytes) + ")";
  if (age > o.max_age_seconds) {
    c.level = CheckLevel::kError;
    c.message += ", older than the limit of " + human_age(o.max_age_seconds);
  }
  return c;
}

StatusCheck check_size(const std::vector<ArchiveInfo>& archives) {
  StatusCheck c{"size"};
  if (archives.size() < 2) {
    c.message = "no earlier backup to compare sizes with";
    return c;
  }
  std::vector<uint64_t> previous;
  for (size_t i = archives.size() - 1; i-- > 0 && previous.size() < 7;) previous.push_back(archives[i].bytes);
  std::sort(previous.begin(), previous.end());
  size_t n = previous.size();
  double median = n % 2 ? double(previous[n / 2]) : (double(previous[n / 2 - 1]) + double(previous[n / 2])) / 2;
  double latest = double(archives.back().bytes);
  double ratio = median > 0 ? latest / median : (latest > 0 ? 1e9 : 1);
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.0f%%", ratio * 100);
  c.message = "latest backup is " + human_bytes(uint64_t(latest)) + ", " + pct + " of the median " +
              human_bytes(uint64_t(median)) + " of the " + std::to_string(n) + " before it";
  if (ratio < 0.5 || ratio > 2.0) {
    c.level = CheckLevel::kWarning;
    c.message += ratio < 0.5 ? " (unexpectedly small)" : " (unexpectedly large)";
  }
  return c;
}

StatusCheck check_missing_days(const std::vector<ArchiveInfo>& archives, const StatusOptions& o, UnixMillis now) {
  StatusCheck c{"missing-days"};
  if (archives.empty()) {
    c.message = "no backups yet";
    return c;
  }
  auto day_of = [](UnixMillis t) { return t >= 0 ? t / kDayMillis : (t - kDayMillis + 1) / kDayMillis; };
  std::set<int64_t> have;
  for (const auto& a : archives) have.insert(day_of(a.created));
  int64_t today = day_of(now), first = day_of(archives.front().created);
  std::vector<std::string> missing;
  int checked = 0;
  for (int64_t d = today - o.days; d < today; ++d) {
    if (d < first) continue;
    ++checked;
    if (!have.count(d)) missing.push_back(format_iso8601(d * kDayMillis).substr(0, 10));
  }
  if (checked == 0) {
    c.message = "the first backup is from today; no past day to check";
    return c;
  }
  if (missing.empty()) {
    c.message = (checked == 1 ? std::string("a backup yesterday") : "a backup on each of the last " + counted(checked, "day"));
    return c;
  }
  c.level = CheckLevel::kWarning;
  c.message = "no backup on " + std::to_string(missing.size()) + " of the last " + counted(o.days, "day") + ":";
  for (const auto& m : missing) c.message += " " + m;
  return c;
}

StatusCheck check_disk(const fs::path& dir, const std::vector<ArchiveInfo>& archives) {
  StatusCheck c{"disk-space"};
  fs::path probe = dir;
  std::error_code ec;
  while (!fs::exists(probe, ec) && probe.has_parent_path() && probe.parent_path() != probe) probe = probe.parent_path();
  auto space = fs::space(probe, ec);
  if (ec) {
    c.level = CheckLevel::kError;
    c.message = "cannot measure free space of '" + probe.string() + "': " + ec.message();
    return c;
  }
  uint64_t latest = archives.empty() ? 0 : archives.back().bytes;
  double pct = space.capacity ? 100.0 * double(space.available) / double(space.capacity) : 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", pct);
  c.message = human_bytes(space.available) + " free (" + buf + ") on the file system of '" + probe.string() + "'";
  if (latest > 0 && space.available < 2 * latest) {
    c.level = CheckLevel::kError;
    c.message += ", less than twice the latest backup (" + human_bytes(latest) + "): the next backup may not fit";
  } else if (pct < 10.0) {
    c.level = CheckLevel::kWarning;
    c.message += ", less than 10% of the file system";
  }
  return c;
}

StatusCheck check_last_run(const fs::path& log_file, const std::string& db) {
  StatusCheck c{"last-run"};
  std::ifstream in(log_file);
  if (!in) {
    c.message = "no backup runs logged yet (" + log_file.filename().string() + ")";
    return c;
  }
  std::string line, last;
  nlohmann::json last_json;
  bool damaged = false;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      damaged = true;  // a torn last line after a crash; earlier good lines still count
      continue;
    }
    damaged = false;
    if (j.value("db", db) != db) continue;
    last_json = std::move(j);
  }
  if (last_json.is_null()) {
    c.level = damaged ? CheckLevel::kWarning : CheckLevel::kOk;
    c.message = damaged ? "the last line of '" + log_file.string() + "' is not JSON" : "no backup run of '" + db + "' logged yet";
    return c;
  }
  std::string start = last_json.value("start", "?");
  if (last_json.value("outcome", "") == "failed") {
    c.level = CheckLevel::kError;
    c.message = "the last backup run (started " + start + ") failed: " + last_json.value("error", "no error recorded");
  } else {
    c.message = "the last backup run (started " + start + ") succeeded";
  }
  if (damaged && c.level == CheckLevel::kOk) {
    c.level = CheckLevel::kWarning;
    c.message += "; but the last line of '" + log_file.string() + "' is not JSON";
  }
  return c;
}

// Thrown from inside scan_oplog to stop after the first entry.
struct FoundFirst {
  OplogTimestamp ts;
};

StatusCheck check_oplog_lag(const DataDir* data, const BackupCatalog& catalog, const std::string& db, UnixMillis now) {
  StatusCheck c{"oplog-lag"};
  if (!data || !data->database_exists(db)) {
    c.message = "database '" + db + "' does not exist here; nothing to ship";
    return c;
  }
  try {
    auto database = Database::open(*data, db, {.create_if_missing = false});
    auto txn = database->read();
    OplogTimestamp position = txn.position(), shipped = catalog.shipped_position();
    std::optional<OplogTimestamp> first;
    if (position > shipped) {
      try {
        txn.scan_oplog(shipped, position, [](OplogTimestamp ts, std::string_view) { throw FoundFirst{ts}; });
      } catch (const FoundFirst& f) {
        first = f.ts;
      }
    }
    if (!first) {
      c.message = "every oplog entry is shipped (up to " + shipped.to_string() + ")";
      return c;
    }
    int64_t lag = now / 1000 - int64_t(first->secs);
    c.message = "the oldest unshipped oplog entry (" + first->to_string() + ") is " + human_age(lag) + " old";
    if (shipped.is_null()) c.message += "; no oplog slice shipped yet: run `facecrowd oplog ship` every minute";
    if (lag > 3600)
      c.level = CheckLevel::kError;
    else if (lag > 300)
      c.level = CheckLevel::kWarning;
  } catch (const Error& e) {
    // A database that cannot be opened (damaged, unreadable) is no longer protected: nothing new can be
    // backed up or shipped from it. Busy (a restore holds it) is a passing state.
    c.level = e.code() == ExitCode::kBusy ? CheckLevel::kWarning : CheckLevel::kError;
    c.message = std::string("cannot read the oplog: ") + e.what();
  }
  return c;
}

StatusCheck check_oplog_slices(const BackupCatalog& catalog) {
  StatusCheck c{"oplog-slices"};
  auto checks = check_slices(catalog.slices());
  int64_t legacy = 0, entries = 0;
  std::string broken;
  for (const auto& s : checks) {
    if (!s.ok) broken += (broken.empty() ? "" : "; ") + s.detail();
    else entries += s.entries;
    legacy += s.legacy;
  }
  if (!broken.empty()) {
    c.level = CheckLevel::kError;
    c.message = broken + " (point-in-time recovery through it is refused; put back an intact copy)";
    return c;
  }
  c.message = checks.empty() ? "no oplog slices" : counted(checks.size(), "oplog slice") + " intact, " +
                                                       counted(entries, "entry", "entries");
  if (legacy > 0) c.message += " (" + counted(legacy, "legacy slice") + " without a record: order and end checked)";
  return c;
}

// Group or others can access the data or backup directory, or something in it (core/private_mode.h).
StatusCheck check_permissions(const DataDir* data, const fs::path& backup_dir) {
  StatusCheck c{"permissions"};
  std::vector<fs::path> roots;
  if (data) roots.push_back(data->root());
  roots.push_back(backup_dir);
  auto exposed = find_exposed_paths(roots);
  if (exposed.empty()) {
    c.message = "the data and backup directories are private to their owner";
    return c;
  }
  c.level = CheckLevel::kWarning;
  c.message = describe_exposed_paths(roots, exposed);
  return c;
}

}  // namespace

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string level_name(CheckLevel level) {
  switch (level) {
    case CheckLevel::kOk: return "OK";
    case CheckLevel::kWarning: return "WARNING";
    case CheckLevel::kError: return "ERROR";
  }
  return "ERROR";
}

std::string BackupStatus::summary_line() const {
  std::string s = level_name(level) + ": ";
  bool first = true;
  for (const auto& c : checks) {
    bool show = level == CheckLevel::kOk ? (c.name == "latest-backup" || c.name == "oplog-lag") : c.level != CheckLevel::kOk;
    if (!show) continue;
    s += (first ? "" : "; ") + (level == CheckLevel::kOk ? c.message : c.name + ": " + c.message);
    first = false;
  }
  return s;
}

nlohmann::json BackupStatus::to_json() const {
  nlohmann::json checks_json = nlohmann::json::array();
  for (const auto& c : checks)
    checks_json.push_back({{"name", c.name}, {"status", level_name(c.level)}, {"message", c.message}});
  return {{"status", level_name(level)}, {"summary", summary_line()}, {"checks", checks_json}};
}

BackupStatus backup_status(const DataDir* data, const fs::path& backup_dir, const StatusOptions& options) {
  UnixMillis now = options.now ? options.now : now_millis();
  BackupStatus status;
  BackupCatalog catalog(backup_dir);
  std::error_code ec;
  fs::directory_iterator probe(backup_dir, ec);
  if (ec) {
    status.checks.push_back({"latest-backup", CheckLevel::kError,
                             "cannot read backup directory '" + backup_dir.string() + "': " + ec.message()});
  } else {
    auto archives = catalog.archives(options.db);
    status.checks.push_back(check_latest(archives, backup_dir, options, now));
    status.checks.push_back(check_size(archives));
    status.checks.push_back(check_missing_days(archives, options, now));
    status.checks.push_back(check_disk(backup_dir, archives));
    status.checks.push_back(check_last_run(catalog.log_file(), options.db));
    status.checks.push_back(check_oplog_slices(catalog));
  }
  if (ec) status.checks.push_back(check_disk(backup_dir, {}));
  status.checks.push_back(check_oplog_lag(data, catalog, options.db, now));
  status.checks.push_back(check_permissions(data, backup_dir));
  for (const auto& c : status.checks) status.level = std::max(status.level, c.level);
  return status;
}

}  // namespace facecrowd
