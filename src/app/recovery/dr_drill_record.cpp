#include "app/recovery/dr_drill_record.h"

#include "app/records/audit.h"
#include "core/error.h"

namespace facecrowd {

std::string record_dr_drill(Database& db, const DrillResult& result, const Actor& actor) {
  if (result.target.empty()) throw Error(ExitCode::kUsage, "recording a DR drill: the target it restored from is missing");
  if (result.passed && (!result.rto_seconds || !result.rpo_seconds))
    throw Error(ExitCode::kUsage, "recording a passed DR drill: give both its RTO and RPO (--rto, --rpo)");
  if (!result.passed && result.failed_step.empty())
    throw Error(ExitCode::kUsage, "recording a failed DR drill: name the step that failed (--failed-step)");
  for (const auto& [name, figure] : {std::pair{"RTO", result.rto_seconds}, std::pair{"RPO", result.rpo_seconds}})
    if (figure && *figure < 0) throw Error(ExitCode::kUsage, std::string("recording a DR drill: the ") + name + " cannot be negative");

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
