#include "app/privacy/ledger_integrity.h"

#include <algorithm>

#include "backup/catalog.h"
#include "core/error.h"
#include "core/files.h"
#include "store/data_dir.h"
#include "store/database.h"

namespace facecrowd {

const LedgerRecordSeen* LedgerAssessment::longest_record() const {
  const LedgerRecordSeen* best = nullptr;
  for (const auto& r : records)
    if (!best || r.fingerprint.entries > best->fingerprint.entries) best = &r;
  return best;
}

std::string LedgerAssessment::message() const {
  if (ok()) return "";
  std::string msg = "the erasure ledger '" + path.string() + "' is not whole, so erased people could come back: ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  msg += ". ";
  if (!intact_copies.empty()) {
    const fs::path& copy = intact_copies.front();
    msg += "An intact copy is the member " + std::string(kErasureLedgerMember) + " of backup '" + copy.string() +
           "'. Move the damaged ledger aside (never delete it), then either restore that backup (`facecrowd restore " +
           copy.filename().string() + "` re-creates the ledger from its copy) or put the copy back by hand: tar -xzf '" +
           copy.string() + "' -O --wildcards '*/" + kErasureLedgerMember + "' > '" + path.string() +
           "', and check with `facecrowd person erasures`";
  } else {
    msg += "No backup in the backup directory carries a copy that long; look for one on other backup targets or "
           "machines (the member " + std::string(kErasureLedgerMember) + " of a recent archive), put it at '" +
           path.string() + "', and check with `facecrowd person erasures`";
  }
  return msg;
}

namespace {

// Reads the live file and judges it against a.records; fills file, text, live, torn, problems, intact_copies.
void judge(LedgerAssessment& a) {
  a.problems.clear();
  a.intact_copies.clear();
  a.text.clear();
  std::error_code ec;
  auto st = fs::status(a.path, ec);
  if (!fs::exists(st)) {
    a.file = LedgerAssessment::FileState::kMissing;
  } else if (!fs::is_regular_file(st)) {
    a.file = LedgerAssessment::FileState::kNotRegular;
    a.problems.push_back("it is not a regular file (" + std::string(fs::is_directory(st) ? "a directory" : "not a file") + ")");
  } else {
    try {
      a.text = read_file(a.path);
      a.file = LedgerAssessment::FileState::kRegular;
    } catch (const Error& e) {
      a.file = LedgerAssessment::FileState::kUnreadable;
      a.problems.push_back(std::string("it cannot be read: ") + e.what());
    }
  }
  ledger_complete_lines(a.text, &a.torn);
  a.live = fingerprint_ledger(a.text);
  if (a.file != LedgerAssessment::FileState::kNotRegular && a.file != LedgerAssessment::FileState::kUnreadable) {
    for (const auto& r : a.records) {
      if (ledger_starts_with(a.text, r.fingerprint)) continue;
      std::string state = a.file == LedgerAssessment::FileState::kMissing ? "it is missing"
                          : a.live.entries < r.fingerprint.entries       ? "it holds " + a.live.text()
                                                                         : "its first entries differ";
      a.problems.push_back(state + ", but " + r.where + " recorded " + r.fingerprint.text() +
                           (a.live.entries < r.fingerprint.entries
                                ? " (" + std::to_string(r.fingerprint.entries - a.live.entries) + " erasures missing)"
                                : std::string()));
    }
    if (a.torn && !a.problems.empty()) a.problems.push_back("its last line has no newline (cut short)");
  }
  // Intact copies: backups whose recorded copy is at least as long as every record, newest first.
  if (!a.problems.empty()) {
    for (auto it = a.backup_copies.rbegin(); it != a.backup_copies.rend(); ++it) {
      bool covers = true;
      for (const auto& r : a.records)
        if (r.fingerprint.entries > it->second.entries ||
            (r.fingerprint.entries == it->second.entries && r.fingerprint.sha256 != it->second.sha256))
          covers = false;
      if (covers) a.intact_copies.push_back(it->first);
    }
  }
}

}  // namespace

LedgerAssessment assess_ledger(const fs::path& data_root, const std::optional<fs::path>& backup_dir) {
  LedgerAssessment a;
  a.path = data_root / kErasureLedgerFileName;
  std::error_code ec;
  // What the databases recorded (a data directory that does not exist has none; nothing is created).
  if (fs::exists(data_root / "facecrowd-data.json", ec)) {
    auto dir = DataDir::open(data_root);
    for (const auto& name : dir.databases()) {
      try {
        auto db = Database::open(dir, name, {.create_if_missing = false});
        auto r = db->read();
        if (auto fp = recorded_ledger(*db)) a.records.push_back({"database '" + name + "'", *fp});
      } catch (const Error& e) {
        a.notes.push_back("database '" + name + "' could not be read for its ledger record: " + e.what());
      }
    }
  }
  if (backup_dir && fs::is_directory(*backup_dir, ec)) {
    for (const auto& archive : BackupCatalog(*backup_dir).archives())
      if (archive.manifest && archive.manifest->erasure_ledger) {
        a.records.push_back({"backup " + archive.path.filename().string(), *archive.manifest->erasure_ledger});
        a.backup_copies.push_back({archive.path, *archive.manifest->erasure_ledger});
      }
  }
  judge(a);
  return a;
}

LedgerAssessment reassess_ledger(const LedgerAssessment& earlier) {
  LedgerAssessment a = earlier;
  judge(a);
  return a;
}

void require_whole_ledger(const LedgerAssessment& assessment) {
  if (!assessment.ok()) throw Error(ExitCode::kBadInput, assessment.message());
}

}  // namespace facecrowd
