// `facecrowd repair --use-generation N`: makes an intact generation file live again when CURRENT is lost or
// garbled (DataDir reports Error kDamaged and names the generation files it found).
//
// The chosen generation must open as SQLite, pass `PRAGMA quick_check` and carry facecrowd's schema;
// otherwise Error(kExitDamaged, store/store_damage.h) and nothing changes. Then, under the exclusive data-directory lock, every other
// generation file and a copy of the old CURRENT are moved to <data>/damaged/<db>-<time>/ (never deleted),
// and CURRENT is replaced durably. Repair never deletes a file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "store/data_dir.h"

namespace facecrowd {

struct RepairResult {
  fs::path generation;    // the generation now live
  fs::path damaged_kept;  // where the other files went (empty: there were none)
  int64_t pages_checked = 0;
};

RepairResult repair_use_generation(const fs::path& data_root, const std::string& db, uint64_t generation);

}  // namespace facecrowd
