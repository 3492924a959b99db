#include "app/recovery/backup_report.h"

namespace facecrowd {

nlohmann::json backup_report_json(const BackupResult& result, const std::optional<PushResult>& offsite) {
  const auto& m = result.manifest;
  nlohmann::json pruned = nlohmann::json::array();
  for (const auto& p : result.pruned) pruned.push_back(p.string());
  nlohmann::json out = {{"archive", result.archive.string()},
                        {"bytes", result.bytes},
                        {"seconds", result.seconds},
                        {"counts", manifest_counts(m)},
                        {"oplog", {{"start", m.oplog_start.to_string()},
                                   {"end", m.oplog_end.to_string()},
                                   {"entries", m.oplog_entries}}},
                        {"pruned", pruned},
                        {"manifest", m.to_json()}};
  if (offsite) out["offsite"] = offsite->to_json();
  return out;
}

nlohmann::json backup_summary_json(const BackupResult& result) {
  return {{"archive", result.archive.filename().string()}, {"bytes", result.bytes}, {"seconds", result.seconds},
          {"counts", manifest_counts(result.manifest)}, {"warnings", result.warnings}};
}

}  // namespace facecrowd
