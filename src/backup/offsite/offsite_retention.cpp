#include "backup/offsite/offsite_retention.h"

#include <algorithm>
#include <map>
#include <set>

#include "store/schema.h"

namespace facecrowd {
namespace {

constexpr int64_t kDayMillis = 86400000;

bool is_full(const Manifest& m) {
  std::set<std::string> have(m.collections.begin(), m.collections.end());
  for (const auto& spec : collection_specs())
    if (!have.count(spec.name)) return false;
  return true;
}

// "2024-01" of a time (UTC).
std::string month_of(UnixMillis t) { return format_iso8601(t).substr(0, 7); }

// The archives of `db`, oldest first by name time; those the policy keeps; and the oplog position from which
// its kept archives need slices (the point-in-time window, the newest archive, the newest full archive).
struct DatabaseKeep {
  std::vector<const RemoteArchive*> all;
  std::set<const RemoteArchive*> kept;
  OplogTimestamp slices_needed_from;
};

DatabaseKeep keep_of(const RemoteIndex& index, const std::string& db, const RemoteRetention& policy, UnixMillis now) {
  DatabaseKeep out;
  auto& mine = out.all;
  for (const auto& a : index.archives)
    if (a.db == db) mine.push_back(&a);
  std::sort(mine.begin(), mine.end(), [](auto* a, auto* b) { return a->created != b->created ? a->created < b->created : a->name < b->name; });
  if (mine.empty()) return out;

  auto& keep = out.kept;
  keep.insert(mine.back());
  const RemoteArchive* newest_full = nullptr;
  for (auto it = mine.rbegin(); it != mine.rend(); ++it)
    if (is_full((*it)->manifest)) {
      newest_full = *it;
      keep.insert(*it);
      break;
    }
  std::map<int64_t, const RemoteArchive*> newest_of_day;
  std::map<std::string, const RemoteArchive*> newest_of_month;
  for (auto* a : mine) {  // oldest first: later ones overwrite
    newest_of_day[a->created / kDayMillis] = a;
    newest_of_month[month_of(a->created)] = a;
  }
  const int64_t today = now / kDayMillis;
  for (const auto& [day, a] : newest_of_day)
    if (day > today - policy.keep_daily) keep.insert(a);
  // The last keep_monthly calendar months, this one included.
  std::set<std::string> months;
  {
    int year = std::stoi(month_of(now).substr(0, 4)), month = std::stoi(month_of(now).substr(5, 2));
    for (int i = 0; i < policy.keep_monthly; ++i) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
      months.insert(buf);
      if (--month == 0) month = 12, --year;
    }
  }
  for (const auto& [m, a] : newest_of_month)
    if (months.count(m)) keep.insert(a);

  // The slices the point-in-time window needs: since the oldest kept archive made inside it, and whatever
  // the newest archive and the newest full archive need (never fewer than the latest restore uses).
  OplogTimestamp need = mine.back()->manifest.oplog_start;
  if (newest_full) need = std::min(need, newest_full->manifest.oplog_start);
  for (auto* a : keep)
    if (a->created / kDayMillis > today - policy.pitr_days) need = std::min(need, a->manifest.oplog_start);
  out.slices_needed_from = need;
  return out;
}

}  // namespace

RetentionPlan plan_remote_retention(const RemoteIndex& index, const std::string& db, const RemoteRetention& policy,
                                    UnixMillis now, const std::string& slices_db) {
  RetentionPlan plan;
  const DatabaseKeep archives = keep_of(index, db, policy, now);
  for (auto* a : archives.all)
    if (!archives.kept.count(a)) plan.archives.push_back(a->name);
  // The slices are one database's oplog: what they may lose is decided by that database's archives, whichever
  // database this push backed up.
  const DatabaseKeep owner = slices_db.empty() || slices_db == db ? archives : keep_of(index, slices_db, policy, now);
  if (owner.all.empty()) return plan;
  OplogTimestamp newest = index.shipped_position();
  plan.slices_through = owner.slices_needed_from;
  for (const auto& s : index.slices)
    if (s.to <= owner.slices_needed_from && s.to != newest) plan.slices.push_back(s.name);
  return plan;
}

}  // namespace facecrowd
