#include "app/recovery/dr_drill_record.h"

#include <sstream>

#include "app/records/audit.h"
#include "core/display_text.h"
#include "core/error.h"
#include "core/oplog_timestamp.h"
#include "core/utc_time.h"

namespace facecrowd {

std::string record_dr_drill(Database& db, const DrillResult& result, const Actor& actor) {
  if (result.target.empty()) throw Error(ExitCode::kUsage, "recording a DR drill: the target it restored from is missing");
  if (result.passed && (!result.rto_seconds || !result.rpo_seconds))
    throw Error(ExitCode::kUsage, "recording a passed DR drill: give both its RTO and RPO (--rto, --rpo)");
  if (!result.passed && result.failed_step.empty())
    throw Error(ExitCode::kUsage, "recording a failed DR drill: name the step that failed (--failed-step)");
  // Figures an auditor reads as facts: a NaN or infinite one (stored as JSON null) or one beyond a century
  // is a script's bug, not a measurement, and would sit in the audit log for good.
  for (const auto& [name, figure] : {std::pair{"--rto", result.rto_seconds}, std::pair{"--rpo", result.rpo_seconds}})
    if (figure && !(*figure >= 0 && *figure <= kMaxDrillFigureSeconds))
      throw Error(ExitCode::kUsage, std::string("recording a DR drill: ") + name + " " + (std::ostringstream() << *figure).str() +
                                        " is not a number of seconds from 0 to " + std::to_string(int64_t(kMaxDrillFigureSeconds)) +
                                        " (a century); nothing was recorded");
  if (!result.recovery_point.empty() && !parse_oplog_timestamp(result.recovery_point))
    throw Error(ExitCode::kUsage, "recording a DR drill: --recovery-point '" + shortened(result.recovery_point) +
                                      "' is not an oplog position (SECS:INC, as the restore's recovery_point); nothing was recorded");
  if (!result.recovery_point_iso.empty() && !parse_iso8601(result.recovery_point_iso))
    throw Error(ExitCode::kUsage, "recording a DR drill: --recovery-point-iso '" + shortened(result.recovery_point_iso) +
                                      "' is not an ISO 8601 time (2024-01-03T00:00:00Z); nothing was recorded");
  if (result.passed && (!result.failed_step.empty() || result.failed_exit_code))
    throw Error(ExitCode::kUsage, "recording a DR drill: --failed-step and --exit-code describe a failed drill; add --outcome "
                                  "failed or leave them out; nothing was recorded");
  if (!result.passed && result.failed_step != "restore" && result.failed_step != "verify" && result.failed_step != "stats")
    throw Error(ExitCode::kUsage, "recording a DR drill: --failed-step '" + shortened(result.failed_step) +
                                      "' is not a step of the drill (restore, verify or stats); nothing was recorded");
  for (const auto& w : result.warnings)
    if (w.find_first_not_of(" \t\r\n") == std::string::npos)
      throw Error(ExitCode::kUsage, "recording a DR drill: a --warning is empty; give the warning's text (or leave --warning out); "
                                    "nothing was recorded");
  if (!result.passed && result.failed_exit_code && *result.failed_exit_code == 0)
    throw Error(ExitCode::kUsage, "recording a failed DR drill: --exit-code 0 is a step that succeeded; give the failed step's "
                                  "exit code (or leave it out); nothing was recorded");

  AuditEntry e;
  e.action = "backup.dr_drill";
  e.target = result.target;
  e.outcome = result.passed ? "ok" : "failed";
  e.actor = actor.id;
  e.client_address = actor.client_address;
  auto& d = e.details;
  d["source"] = result.target;
  d["rto_seconds"] = result.rto_seconds ? nlohmann::json(*result.rto_seconds) : nlohmann::json(nullptr);
  d["rpo_seconds"] = result.rpo_seconds ? nlohmann::json(*result.rpo_seconds) : nlohmann::json(nullptr);
  d["recovery_point"] = result.recovery_point;
  if (!result.recovery_point_iso.empty()) d["recovery_point_iso"] = result.recovery_point_iso;
  if (result.verified) d["verified"] = *result.verified;
  if (!result.warnings.empty()) d["warnings"] = result.warnings;
  if (!result.passed) {
    d["failed_step"] = result.failed_step;
    if (result.failed_exit_code) d["exit_code"] = *result.failed_exit_code;
  }
  auto tx = db.write();
  auto id = append_audit(tx, e);
  tx.commit();
  return id;
}

}  // namespace facecrowd
