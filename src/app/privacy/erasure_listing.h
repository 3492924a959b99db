// The erasure listing (`facecrowd person erasures`): every record of the erasure ledger, read only once the
// ledger is proven whole (app/privacy/ledger_integrity.h), and optionally every erasure applied again to
// the live database. One use case and one JSON rendering for every front end:
//   {"ledger": PATH, "erasures": [ErasureRecord::to_json()...], "reapplied"?: ReapplyReport::to_json()}
// Contract: list_erasures() throws what require_whole_ledger() throws (Error(kBadInput) naming the backup
// that holds an intact copy) before reading or changing anything; with `reapply_db`, what
// reapply_erasures_live() throws (Error(kNotFound) for a missing database).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/privacy/erasure.h"
#include "app/privacy/erasure_ledger.h"

namespace facecrowd {

struct ErasureListing {
  fs::path ledger;                          // the ledger file (it may not exist: no erasure yet)
  std::vector<ErasureRecord> erasures;      // oldest first
  std::optional<ReapplyReport> reapplied;   // when asked to re-apply
  nlohmann::json to_json() const;
};

// The ledger of `data_root`, checked against the fingerprints the databases and the backups in
// `backup_dir` recorded; with `reapply_db`, every erasure is re-applied to that live database after reading.
ErasureListing list_erasures(const fs::path& data_root, const fs::path& backup_dir,
                             const std::optional<std::string>& reapply_db = std::nullopt);

}  // namespace facecrowd
