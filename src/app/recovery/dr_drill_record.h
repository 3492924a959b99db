// A disaster-recovery drill's result as an audit entry (`backup.dr_drill`): which target the drill restored
// from, whether it passed, how long the restore took (RTO), how much a loss at the drill's start would have
// lost (RPO), and the recovery point it reached; a failed drill names the step that failed and its exit code;
// a drill that passed with warnings (a restore short of what the target shipped) lists them (details.warnings),
// outcome still "ok" since the audit log's outcomes are ok | failed.
// scripts/dr-drill.sh writes it, through `facecrowd drill record`, into the LIVE machine's audit log, which is
// where an auditor looks for when recovery was last proven (the drill's own restore is thrown away).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/users/users.h"
#include "store/database.h"

namespace facecrowd {

struct DrillResult {
  std::string target;                      // the backup target restored from (s3://, gs:// or a directory)
  bool passed = true;
  std::optional<double> rto_seconds;       // required when passed
  std::optional<double> rpo_seconds;       // required when passed
  std::string recovery_point;              // "secs:inc"; may be empty on failure
  std::string recovery_point_iso;
  std::optional<bool> verified;            // whether `verify --target --read-data` ran and passed
  std::string failed_step;                 // restore | verify | stats; only when !passed
  std::optional<int> failed_exit_code;
  std::vector<std::string> warnings;       // what a passed drill warned about (details.warnings when any)
};

// The largest RTO or RPO taken, in seconds (a century).
inline constexpr double kMaxDrillFigureSeconds = 100.0 * 365 * 86400;

// Appends the entry in its own write transaction and returns its id. Error(kUsage), recording nothing, when a
// passed drill lacks its RTO or RPO or names a failed step or exit code, a figure is not a number from 0 to
// kMaxDrillFigureSeconds, the recovery point is not SECS:INC or its ISO time not ISO 8601, or a failed one
// names no step of the drill (restore, verify, stats) or exit code 0, or a warning is empty.
std::string record_dr_drill(Database& db, const DrillResult& result, const Actor& actor);

}  // namespace facecrowd
