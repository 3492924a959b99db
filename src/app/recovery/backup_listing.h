// The backups listing (`facecrowd backups list`, GET /api/v1/backups): every archive of `db` in the
// catalog with its manifest state, the shipped oplog slices (damaged ones named), and the point-in-time
// window (backup/backup_window.h) with its gaps. Both front ends render this one JSON, so they say the same:
//   {backup_dir, db, archives: [{name, created, bytes, collections, oplog: {start, end}, manifest: ok|damaged|missing}],
//    slices: {count, bytes, damaged: [...], first_from, last_to}, window: {available, ranges: [{start, end}], gaps, problems, reason}}
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "backup/catalog.h"

namespace facecrowd {

nlohmann::json backup_listing(const BackupCatalog& catalog, const std::string& db);

}  // namespace facecrowd
