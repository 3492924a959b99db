// Remote retention: which archives and slices a target keeps.
//
// Archives of one database, by their name time (UTC):
//   - the newest archive of each of the last `keep_daily` days (default 30), counted back from now;
//   - the newest archive of each of the last `keep_monthly` calendar months (default 24: long enough for
//     the 12/12/24-month data retention policy's oldest horizon, the 24 months of audit logs);
//   - always the newest archive, and always the newest FULL archive (all collections), whatever its age.
// Slices serve point-in-time recovery over a window of `pitr_days` days (default 7), not over every kept
// archive: a slice stays when its `to` is after the oplog start of the oldest kept archive made in the last
// `pitr_days` days (counted as keep_daily counts), or after the oplog start of the newest archive or of the
// newest FULL archive (what those need, whatever their age, even with no archive in the window); and the
// newest slice always (it is the shipped position). Archives kept beyond the window (monthly ones) stay
// restorable to their own time (their own oplog), not to any moment after it. The ledger is never pruned.
//
// Why a window: with a slice shipped every minute, keeping the slices of every kept archive (24 monthly)
// would keep up to a million slice entries in the index (remote_index.h), and a restore reads them all
// (bench/offsite_index_growth.sh measures what a push costs as they grow).
#pragma once

#include <string>
#include <vector>

#include "backup/offsite/remote_index.h"
#include "core/utc_time.h"

namespace facecrowd {

struct RemoteRetention {
  int keep_daily = 30;
  int keep_monthly = 24;
  int pitr_days = 7;  // point-in-time window: slices older than it go (see above)
};

struct RetentionPlan {
  std::vector<std::string> archives;  // names to delete
  std::vector<std::string> slices;    // names to delete, of the index's loaded slices
  // Slices whose `to` is at or before it go, but the newest (null: none go). A segment whose first_to is
  // at or before it holds slices to delete: the caller loads it and plans again.
  OplogTimestamp slices_through;
};

// Over the index's archives and loaded slices (its unloaded segments count for the newest slice only).
// Archives: those of `db` the policy does not keep. Slices: those the archives of `slices_db` (the database
// whose oplog the target's slices hold: slice_integrity.h's shipped_database(); empty: `db`) do not need;
// none when that database has no archive in the index.
RetentionPlan plan_remote_retention(const RemoteIndex& index, const std::string& db, const RemoteRetention& policy,
                                    UnixMillis now, const std::string& slices_db = {});

}  // namespace facecrowd
