// What a backup run reports, rendered once for every front end (backup/backup_job.h's BackupResult).
//  - backup_report_json: `facecrowd backup --json`, the whole story:
//      {archive: PATH, bytes, seconds, counts: {collection: n}, oplog: {start, end, entries}, pruned: [PATH],
//       manifest: Manifest::to_json(), offsite?: PushResult::to_json()}
//  - backup_summary_json: POST /api/v1/backups, what an HTTP client may see (the archive's name, never a
//    server path): {archive: NAME, bytes, seconds, counts, warnings}
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "backup/backup_job.h"
#include "backup/offsite/offsite_push.h"

namespace facecrowd {

nlohmann::json backup_report_json(const BackupResult& result, const std::optional<PushResult>& offsite = std::nullopt);
nlohmann::json backup_summary_json(const BackupResult& result);

}  // namespace facecrowd
