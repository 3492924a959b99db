// Losing the erasure ledger is never silent (DESIGN invariant 5, app/privacy/ledger_integrity.h): the databases
// and every backup record the ledger's length and hash, every backup carries a copy, `person erasures`
// reports a missing, cut or replaced ledger as an error, and no restore of any backup brings an erased
// person back with a lost ledger: it re-creates the ledger from an intact copy or refuses, naming one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/privacy/erasure_ledger.h"
#include "core/object_id.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct World {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  fs::path ledger = data / ErasureLedger::kFileName;
  std::string p = new_object_id(), q = new_object_id();
  std::string before, after;  // archives taken before and after P's erasure

  World() {
    {
      auto db = Database::open(DataDir::open(data), "face-recognition");
      auto w = db->write();
      for (const auto& [id, name] : {std::pair{p, "Erased Person"}, std::pair{q, "Kept Person"}})
        w.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", id}}}, {"name", name}}));
      w.commit();
    }
    before = backup_now();
    auto del = cli("person delete " + p);
    EXPECT_EQ(del.exit_code, 0) << del.err;
    after = backup_now();
  }
  CommandResult cli(const std::string& args) const {
    return run_facecrowd("--data '" + data.string() + "' --backup-dir '" + backups.string() + "' " + args);
  }
  std::string backup_now() const {
    auto r = cli("backup --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? fs::path(nlohmann::json::parse(r.out).at("archive").get<std::string>()).filename().string()
                            : std::string();
  }
  bool present(const std::string& id) const {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    return db->read().get("faceprofiles", id).has_value();
  }
};

enum class Fault { kDeleted, kDirectory, kLostFinalNewline, kEmptied, kReplaced };
const char* name(Fault f) {
  switch (f) {
    case Fault::kDeleted: return "deleted";
    case Fault::kDirectory: return "replaced by a directory";
    case Fault::kLostFinalNewline: return "lost its final newline";
    case Fault::kEmptied: return "emptied";
    case Fault::kReplaced: return "replaced by another valid ledger";
  }
  return "?";
}

void inflict(const World& w, Fault f) {
  std::string text = read_text(w.ledger);
  fs::remove(w.ledger);
  switch (f) {
    case Fault::kDeleted: break;
    case Fault::kDirectory: fs::create_directory(w.ledger); break;
    case Fault::kLostFinalNewline: write_text(w.ledger, text.substr(0, text.size() - 1)); break;
    case Fault::kEmptied: write_text(w.ledger, ""); break;
    case Fault::kReplaced: {
      ErasureRecord other;
      other.person_id = new_object_id();
      other.erased_at = 1704240000000;
      other.db = "face-recognition";
      write_text(w.ledger, other.to_json().dump() + "\n");
      break;
    }
  }
}

TEST(LedgerLoss, PersonErasuresCallsADeletedLedgerAnErrorAndNamesTheBackupHoldingACopy) {
  World w;
  ASSERT_EQ(w.cli("person erasures").exit_code, 0);
  fs::remove(w.ledger);
  auto r = w.cli("person erasures");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(w.after), std::string::npos) << "where an intact copy is: " << r.err;
  EXPECT_EQ(r.err.find("no erasures"), std::string::npos) << r.err;
}

TEST(LedgerLoss, PersonErasuresCallsEveryDamagedLedgerAnError) {
  for (Fault f : {Fault::kDirectory, Fault::kLostFinalNewline, Fault::kEmptied, Fault::kReplaced}) {
    World w;
    inflict(w, f);
    auto r = w.cli("person erasures");
    EXPECT_EQ(r.exit_code, 3) << name(f) << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("erasure ledger"), std::string::npos) << name(f) << ": " << r.err;
  }
}

TEST(LedgerLoss, RestoringAnOlderBackupWithTheLedgerLostIsRefusedSayingWhereACopyIs) {
  World w;
  fs::remove(w.ledger);
  auto r = w.cli("restore " + w.before + " --drop");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find(w.after), std::string::npos) << r.err;
  EXPECT_FALSE(w.present(w.p)) << "the live data is as it was: the person stays erased";
  EXPECT_TRUE(w.present(w.q));
}

TEST(LedgerLoss, RestoringABackupThatCarriesTheWholeLedgerRecreatesItAndOlderBackupsStayErased) {
  World w;
  std::string original = read_text(w.ledger);
  fs::remove(w.ledger);
  auto r = w.cli("restore " + w.after + " --drop");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(fs::exists(w.ledger));
  EXPECT_EQ(read_text(w.ledger), original);
  auto old = w.cli("restore " + w.before + " --drop");
  ASSERT_EQ(old.exit_code, 0) << old.out << old.err;
  EXPECT_FALSE(w.present(w.p)) << "the re-created ledger erased the person again";
  EXPECT_TRUE(w.present(w.q));
  EXPECT_EQ(w.cli("person erasures").exit_code, 0);
}

TEST(LedgerLoss, ErasureRefusesToAppendToALostLedger) {
  World w;
  fs::remove(w.ledger);
  auto r = w.cli("person delete " + w.q);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(w.present(w.q)) << "nothing changed";
  EXPECT_FALSE(fs::exists(w.ledger)) << "a fresh one-line ledger would hide the loss";
}

TEST(LedgerLoss, BackupRefusesToCarryALedgerThatLostEntries) {
  World w;
  inflict(w, Fault::kEmptied);
  auto r = w.cli("backup");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("erasure ledger"), std::string::npos) << r.err;
}

// The property: no combination of a lost, shortened or replaced ledger and a restore of any backup
// brings an erased person back silently. Either the restore refuses (saying what to do) or the person
// stays erased.
TEST(LedgerLoss, NoDamagedLedgerAndNoBackupBringsAnErasedPersonBackSilently) {
  for (Fault f : {Fault::kDeleted, Fault::kDirectory, Fault::kLostFinalNewline, Fault::kEmptied, Fault::kReplaced}) {
    for (bool older : {true, false}) {
      World w;
      inflict(w, f);
      std::string archive = older ? w.before : w.after;
      auto r = w.cli("restore " + archive + " --drop");
      std::string what = std::string(name(f)) + ", restore of the backup " + (older ? "before" : "after") + " the erasure";
      if (r.exit_code == 0) {
        EXPECT_FALSE(w.present(w.p)) << what << ": the erased person came back silently\n" << r.out;
      } else {
        EXPECT_EQ(r.exit_code, 3) << what << ": " << r.err;
        EXPECT_NE(r.err.find("erasure ledger"), std::string::npos) << what << ": " << r.err;
        EXPECT_FALSE(w.present(w.p)) << what;
      }
    }
  }
}

}  // namespace
}  // namespace facecrowd
