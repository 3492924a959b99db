#include "app/recovery/backup_listing.h"

#include "backup/archive_manifest.h"
#include "backup/backup_window.h"
#include "backup/oplog_slice.h"
#include "backup/slice_integrity.h"
#include "core/utc_time.h"

namespace facecrowd {

namespace {
nlohmann::json position_json(OplogTimestamp p) {
  return {{"ts", p.to_string()}, {"time", format_iso8601(UnixMillis(p.secs) * 1000)}};
}
}  // namespace

nlohmann::json backup_listing(const BackupCatalog& catalog, const std::string& db) {
  nlohmann::json out = {{"backup_dir", catalog.dir().string()}, {"db", db}};
  out["archives"] = nlohmann::json::array();
  for (const auto& a : catalog.archives(db)) {
    nlohmann::json j = {{"name", a.path.filename().string()}, {"created", format_iso8601(a.created)}, {"bytes", a.bytes}};
    const fs::path sidecar = manifest_copy_path(a.path);
    std::error_code ec;
    if (a.manifest) {
      j["collections"] = a.manifest->collections;
      j["oplog"] = {{"start", a.manifest->oplog_start.to_string()}, {"end", a.manifest->oplog_end.to_string()}};
      j["manifest"] = "ok";
    } else {
      j["manifest"] = fs::exists(sidecar, ec) ? "damaged" : "missing";
    }
    out["archives"].push_back(j);
  }
  auto slices = catalog.slices();
  nlohmann::json s = {{"count", slices.size()}, {"bytes", 0}, {"damaged", nlohmann::json::array()}};
  uint64_t bytes = 0;
  for (const auto& slice : slices) {
    bytes += slice.bytes;
    if (!slice_looks_intact(slice.path)) s["damaged"].push_back(slice.path.filename().string());
  }
  s["bytes"] = bytes;
  if (!slices.empty()) {
    s["first_from"] = slices.front().from.to_string();
    s["last_to"] = catalog.shipped_position().to_string();
  }
  if (auto shipped = shipped_database(catalog)) s["database"] = *shipped;  // whose oplog they hold
  out["slices"] = s;
  auto window = overall_pitr_window(catalog, db);
  nlohmann::json w = {{"available", !window.ranges.empty()}, {"ranges", nlohmann::json::array()},
                      {"gaps", window.gaps}, {"problems", window.problems}};
  for (const auto& r : window.ranges) w["ranges"].push_back({{"start", position_json(r.start)}, {"end", position_json(r.end)}});
  if (window.none_reason) w["reason"] = *window.none_reason;
  out["window"] = w;
  return out;
}

}  // namespace facecrowd
