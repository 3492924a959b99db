#include "app/records/stats.h"

#include "store/database.h"

namespace facecrowd {

nlohmann::json collect_stats(const DataDir& dir, const std::string& db_name) {
  auto db = Database::open(dir, db_name, {.create_if_missing = false});
  auto txn = db->read();
  nlohmann::json out;
  out["db"] = db_name;
  out["position"] = txn.position().to_string();
  out["collections"] = nlohmann::json::array();
  for (const auto& spec : collection_specs())
    out["collections"].push_back(
        {{"name", spec.name}, {"count", txn.count(spec.name)}, {"bytes", txn.document_bytes(spec.name)}});
  auto range = txn.oplog_range();
  out["oplog"] = {{"entries", range.entries}, {"first", range.first.to_string()}, {"last", range.last.to_string()}};
  std::error_code ec;
  auto size = std::filesystem::file_size(db->file(), ec);
  out["file_bytes"] = ec ? 0 : size;
  return out;
}

}  // namespace facecrowd
