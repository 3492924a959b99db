#include "app/recovery/scrub.h"

#include "app/privacy/ledger_integrity.h"
#include "backup/catalog.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "core/number_text.h"

namespace facecrowd {

bool CheckReport::ok() const {
  for (const auto& d : databases)
    if (!d.ok()) return false;
  for (const auto& b : backups)
    if (!b.ok()) return false;
  return ledger.ok && slices.ok;
}

nlohmann::json CheckReport::to_json() const {
  nlohmann::json dbs = nlohmann::json::array(), archives = nlohmann::json::array();
  for (const auto& d : databases) dbs.push_back(d.to_json());
  for (const auto& b : backups) archives.push_back(b.to_json());
  nlohmann::json j = {{"ok", ok()}, {"databases", dbs}, {"erasureLedger", ledger.to_json()},
                      {"oplogSlices", slices.to_json()}, {"readData", read_data}};
  if (read_data) j["backups"] = archives;
  return j;
}

CheckReport run_check(const fs::path& data_root, const CheckOptions& options) {
  auto stage = [&](const std::string& s) {
    if (options.progress) options.progress(s);
  };
  std::error_code ec;
  if (!fs::exists(data_root / "facecrowd-data.json", ec))
    throw Error(ExitCode::kNotFound, "'" + data_root.string() + "' is not a facecrowd data directory (no facecrowd-data.json)");
  CheckReport report;
  report.read_data = options.read_data;
  auto dir = DataDir::open(data_root);
  std::vector<std::string> names = options.db ? std::vector<std::string>{*options.db} : dir.databases();
  for (const auto& name : names) {
    stage("database " + name);
    try {
      auto db = Database::open(dir, name, {.create_if_missing = false});
      ScrubOptions so;
      so.progress = [&](const std::string& s) { stage(name + ": " + s); };
      report.databases.push_back(scrub_database(*db, so));
    } catch (const Error& e) {
      ScrubReport r;
      r.db = name;
      ScrubCheck c{"open"};
      c.ok = false;
      c.problem_count = 1;
      c.detail = std::string("cannot open the database: ") + e.what();
      c.problems.push_back(c.detail);
      r.checks.push_back(c);
      report.databases.push_back(r);
    }
  }

  stage("erasure ledger");
  auto ledger = assess_ledger(data_root, options.backup_dir);
  report.ledger.ok = ledger.ok();
  if (ledger.ok()) {
    report.ledger.detail = (ledger.file == LedgerAssessment::FileState::kMissing ? std::string("no ledger (no erasures)")
                                                                                   : ledger.live.text()) +
                           "; consistent with " + counted(ledger.records.size(), "recorded fingerprint");
  } else {
    report.ledger.detail = ledger.message();
    report.ledger.problems = ledger.problems;
    report.ledger.problem_count = int64_t(ledger.problems.size());
  }

  stage("oplog slices");
  if (fs::is_directory(options.backup_dir, ec)) {
    auto checks = check_slices(BackupCatalog(options.backup_dir).slices());
    int64_t legacy = 0;
    for (const auto& c : checks) {
      legacy += c.legacy;
      if (c.ok) continue;
      report.slices.ok = false;
      ++report.slices.problem_count;
      report.slices.problems.push_back(c.detail());
    }
    report.slices.detail = report.slices.ok ? counted(checks.size(), "slice") + " intact" +
                                                  (legacy ? " (" + std::to_string(legacy) + " legacy: order and end checked)" : "")
                                            : std::to_string(report.slices.problem_count) + " of " + counted(checks.size(), "slice") +
                                                  (report.slices.problem_count == 1 ? " is broken" : " are broken");
    if (options.read_data) {
      auto archives = BackupCatalog(options.backup_dir).archives();
      size_t i = 0;
      for (const auto& a : archives) {
        stage("verifying backup " + std::to_string(++i) + "/" + std::to_string(archives.size()) + ": " +
              a.path.filename().string());
        VerifyOptions vo;
        vo.backup_dir = options.backup_dir;
        report.backups.push_back(verify_backup(a.path.string(), vo));
      }
    }
  } else {
    report.slices.detail = "no backup directory '" + options.backup_dir.string() + "'";
  }
  return report;
}

}  // namespace facecrowd
