#include "app/restore_with_erasures.h"

#include <memory>

#include "app/gallery_index.h"

namespace facecrowd {

nlohmann::json RestoreWithErasuresResult::to_json() const {
  auto j = restore.to_json();
  j["erasuresReapplied"] = erasures.to_json();
  return j;
}

RestoreWithErasuresResult restore_with_erasures(const fs::path& data_root, const std::string& input,
                                                RestoreOptions options) {
  auto erasures = std::make_shared<ReapplyReport>();
  ErasureLedger ledger(data_root);
  auto progress = options.progress;
  options.after_load.push_back([erasures, ledger, progress](Database::WriteTransaction& tx) {
    auto records = ledger.read();
    if (progress && !records.empty())
      progress("re-applying " + std::to_string(records.size()) + " erasures from " + ledger.path().string());
    *erasures = reapply_erasures(tx, records);
  });
  RestoreWithErasuresResult result;
  result.restore = restore_backup(data_root, input, options);
  result.erasures = *erasures;
  // Defence in depth: erased people were in the restored data for a moment; no cache may keep them.
  if (result.erasures.effect.changed()) drop_gallery_indexes(data_root);
  return result;
}

}  // namespace facecrowd
