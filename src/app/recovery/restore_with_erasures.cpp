#include "app/recovery/restore_with_erasures.h"

#include <memory>

#include "app/faces/gallery_index.h"
#include "app/privacy/ledger_integrity.h"
#include "core/error.h"
#include "core/files.h"
#include "core/utc_time.h"
#include "core/number_text.h"

namespace facecrowd {

nlohmann::json RestoreWithErasuresResult::to_json() const {
  auto j = restore.to_json();
  j["erasuresReapplied"] = erasures.to_json();
  if (!ledger_note.empty()) j["erasureLedger"] = ledger_note;
  return j;
}

namespace {

// Decides which ledger the restore re-applies: the longest one consistent with every fingerprint ever
// recorded (ledger_integrity.h), among the live file and the copy the backup carries. Returns a note
// for the operator when the live file was (or, in a dry run, would be) re-created from the copy; throws
// Error(kBadInput) when neither is whole, saying where an intact copy is.
std::string settle_ledger(const LedgerAssessment& before, const std::string& source,
                          const std::optional<std::string>& copy, bool dry_run) {
  auto a = reassess_ledger(before);
  using FS = LedgerAssessment::FileState;
  if (a.file == FS::kNotRegular || a.file == FS::kUnreadable) require_whole_ledger(a);
  bool copy_whole = copy.has_value();
  if (copy)
    for (const auto& r : a.records) copy_whole = copy_whole && ledger_starts_with(*copy, r.fingerprint);
  LedgerFingerprint copy_fp = copy ? fingerprint_ledger(*copy) : LedgerFingerprint{};
  bool live_in_copy = copy && ledger_starts_with(*copy, a.live);  // the live ledger is a prefix of the copy
  bool copy_in_live = !copy || ledger_starts_with(a.text, copy_fp);
  if (a.ok() && copy_in_live) return "";  // the live ledger is the longest whole one
  if (copy_whole && live_in_copy && copy_fp.entries > a.live.entries) {
    std::string note = "the erasure ledger '" + a.path.string() + "' " +
                       (a.file == FS::kMissing ? std::string("was missing") : "held " + a.live.text()) +
                       "; re-created from the copy in backup '" + source + "' (" + copy_fp.text() + ")";
    if (dry_run) return "would be: " + note;
    if (a.file == FS::kRegular) {
      fs::path aside = a.path;
      aside += ".damaged-" + format_compact(now_millis());
      rename_durably(a.path, aside);
      note += "; the old file was kept as '" + aside.filename().string() + "'";
    }
    write_file_durably(a.path, *copy);
    return note;
  }
  if (!a.ok()) {
    std::string msg = a.message() + ". Nothing was restored: the backup '" + source + "' " +
                      (copy ? "carries " + copy_fp.text() + ", which does not cover every record"
                            : std::string("carries no copy of the ledger (written before backups carried one)"));
    throw Error(ExitCode::kBadInput, msg);
  }
  // Both look whole on their own but neither is a prefix of the other: a ledger was replaced.
  throw Error(ExitCode::kBadInput,
              "the erasure ledger '" + a.path.string() + "' (" + a.live.text() + ") and the copy in backup '" + source +
                  "' (" + copy_fp.text() + ") disagree: neither continues the other, so one was replaced. Nothing was "
                  "restored. Keep both, merge their lines by hand into '" + a.path.string() +
                  "' (every erasure in either must stay), then restore again");
}

}  // namespace

RestoreWithErasuresResult restore_with_erasures(const fs::path& data_root, const std::string& input,
                                                RestoreOptions options, float unknown_face_distance) {
  auto erasures = std::make_shared<ReapplyReport>();
  ErasureLedger ledger(data_root);
  auto progress = options.progress;
  auto note = std::make_shared<std::string>();
  bool dry_run = options.dry_run;
  // Collected before the restore starts: no database may be opened while the new generation is built.
  auto before = std::make_shared<LedgerAssessment>(assess_ledger(data_root, options.backup_dir));
  auto callers_on_scanned = options.on_scanned;
  options.on_scanned = [=](const std::optional<std::string>& copy, const std::optional<Manifest>& manifest) {
    if (callers_on_scanned) callers_on_scanned(copy, manifest);  // first: it may add to the ledger (offsite_restore.h)
    *note = settle_ledger(*before, input, copy, dry_run);
    if (progress && !note->empty()) progress(*note);
  };
  auto applied = std::make_shared<size_t>(0);  // ledger records applied while building
  options.after_load.push_back([erasures, ledger, progress, unknown_face_distance, applied](Database::WriteTransaction& tx) {
    auto records = ledger.read();
    if (progress && !records.empty())
      progress("re-applying " + counted(records.size(), "erasure") + " from " + ledger.path().string());
    *erasures = reapply_erasures(tx, records, unknown_face_distance);
    *applied = records.size();
  });
  // The restored database remembers the ledger it was made consistent with.
  auto record_fingerprint = [ledger](Database& db) {
    std::error_code ec;
    record_ledger(db, fingerprint_ledger(fs::is_regular_file(ledger.path(), ec) ? read_file(ledger.path()) : std::string()));
  };
  options.before_swap.push_back(record_fingerprint);
  // At the swap (exclusive lock: no erasure is half-way), the erasures committed to the live store while
  // the generation was built: the ledger only grows, so they are the records after those applied above.
  options.at_swap.push_back([=](Database& db) {
    auto records = ledger.read();
    if (records.size() > *applied) {
      std::vector<ErasureRecord> during(records.begin() + std::ptrdiff_t(*applied), records.end());
      if (progress) progress("re-applying " + counted(during.size(), "erasure") + " made during the restore");
      auto tx = db.write();
      auto report = reapply_erasures(tx, during, unknown_face_distance);
      tx.commit();
      erasures->include(report);
    }
    record_fingerprint(db);
  });
  RestoreWithErasuresResult result;
  result.restore = restore_backup(data_root, input, options);
  result.ledger_note = *note;
  result.erasures = *erasures;
  // Defence in depth: erased people were in the restored data for a moment; no cache may keep them.
  if (result.erasures.effect.changed()) drop_gallery_indexes(data_root);
  return result;
}

}  // namespace facecrowd
