#include "app/privacy/erasure_listing.h"

#include "app/privacy/ledger_integrity.h"

namespace facecrowd {

nlohmann::json ErasureListing::to_json() const {
  nlohmann::json out = {{"ledger", ledger.string()}, {"erasures", nlohmann::json::array()}};
  for (const auto& r : erasures) out["erasures"].push_back(r.to_json());
  if (reapplied) out["reapplied"] = reapplied->to_json();
  return out;
}

ErasureListing list_erasures(const fs::path& data_root, const fs::path& backup_dir,
                             const std::optional<std::string>& reapply_db) {
  ErasureLedger ledger(data_root);
  require_whole_ledger(assess_ledger(data_root, backup_dir));
  ErasureListing listing;
  listing.ledger = ledger.path();
  listing.erasures = ledger.read();
  if (reapply_db) listing.reapplied = reapply_erasures_live(data_root, *reapply_db);
  return listing;
}

}  // namespace facecrowd
