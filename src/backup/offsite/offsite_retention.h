// Remote retention: which archives and slices a target keeps.
//
// Archives of one database, by their name time (UTC):
//   - the newest archive of each of the last `keep_daily` days (default 30), counted back from now;
//   - the newest archive of each of the last `keep_monthly` calendar months (default 24: long enough for
//     the 12/12/24-month data retention policy's oldest horizon, the 24 months of audit logs);
//   - always the newest archive, and always the newest FULL archive (all collections), whatever its age.
// Slices: every slice a kept archive may need stays: those with `to` > the oldest kept archive's oplog
// start; and the newest slice always (it is the shipped position). The ledger is never pruned.
#pragma once

#include <string>
#include <vector>

#include "backup/offsite/remote_index.h"
#include "core/utc_time.h"

namespace facecrowd {

struct RemoteRetention {
  int keep_daily = 30;
  int keep_monthly = 24;
};

struct RetentionPlan {
  std::vector<std::string> archives;  // names to delete
  std::vector<std::string> slices;    // names to delete
};

RetentionPlan plan_remote_retention(const RemoteIndex& index, const std::string& db, const RemoteRetention& policy,
                                    UnixMillis now);

}  // namespace facecrowd
