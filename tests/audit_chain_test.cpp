// The tamper-evident audit trail (app/records/audit_chain.h): every entry is chained by hash; `audit verify`
// names an entry changed, removed, inserted or reordered directly in the SQLite file; an erasure, a
// retention run and a restore keep the chain verifiable; a backup's recorded head catches a truncation.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "app/records/audit.h"
#include "app/records/audit_chain.h"
#include "app/privacy/erasure.h"
#include "app/records/retention.h"
#include "backup/point_in_time.h"
#include "core/object_id.h"
#include "store/audit_seal.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr const char* kDb = "face-recognition";

struct Log {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  fs::path file;
  std::vector<std::string> ids;  // in the order written: ids[k] has seq k + 1

  explicit Log(int entries) {
    auto db = Database::open(DataDir::open(data), kDb);
    file = db->file();
    for (int k = 0; k < entries; ++k) {
      auto tx = db->write();
      ids.push_back(append_audit(tx, AuditEntry{.action = "test.step", .target = "t" + std::to_string(k),
                                                .details = {{"step", k}, {"note", "entry " + std::to_string(k)}}}));
      tx.commit();
    }
  }
  AuditVerifyReport verify(const std::set<std::string>& erased = {}) const {
    auto db = Database::open(DataDir::open(data), kDb);
    auto tx = db->read();
    return verify_audit_chain(tx, erased);
  }
  std::string env() const { return "FACECROWD_DATA='" + data.string() + "' FACECROWD_BACKUP_DIR='" + backups.string() + "'"; }

  // Raw SQL on the database file, around facecrowd (as an attacker with write access would).
  void sql(const std::string& statement) const {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &h), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(h, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(h);
  }
  nlohmann::json raw(const std::string& id) const {
    auto db = Database::open(DataDir::open(data), kDb);
    return db->read().get("auditlogs", id)->to_json();
  }
  // Replaces the stored document of `id` with `doc`, bypassing the store (no oplog, no chain).
  void overwrite(const std::string& id, const nlohmann::json& doc) const {
    Document d = Document::from_json(doc);
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &h), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h, "UPDATE auditlogs SET doc = ? WHERE _id = ?", -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_blob(st, 1, d.bytes().data(), int(d.bytes().size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    EXPECT_EQ(sqlite3_changes(h), 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
  }
};

std::string kinds(const AuditVerifyReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += p.kind + "@" + std::to_string(p.seq) + " ";
  return s;
}

TEST(AuditChain, EveryEntryLinksToThePreviousOneAndTheChainVerifies) {
  Log log(5);
  auto first = log.raw(log.ids[0]), third = log.raw(log.ids[2]);
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["prevHash"], kAuditChainGenesis);
  EXPECT_EQ(third["seq"], 3);
  EXPECT_EQ(third["prevHash"], log.raw(log.ids[1])["hash"]);
  EXPECT_EQ(third["hash"].get<std::string>().size(), 64u);
  EXPECT_NE(third["detailsSalt"], first["detailsSalt"]);  // a salt of its own
  auto r = log.verify();
  EXPECT_TRUE(r.ok()) << kinds(r);
  EXPECT_EQ(r.chained, 5);
  EXPECT_EQ(r.head.seq, 5);
  EXPECT_EQ(r.head.hash, log.raw(log.ids[4])["hash"]);
  EXPECT_EQ(r.exit_code(), 0);
}

TEST(AuditChainTampering, AnEditedDetailIsNamedAsChanged) {
  Log log(5);
  auto doc = log.raw(log.ids[2]);
  doc["details"]["note"] = "nothing happened here";
  log.overwrite(log.ids[2], doc);
  auto r = log.verify();
  ASSERT_EQ(r.problems.size(), 1u) << kinds(r);
  EXPECT_EQ(r.problems[0].kind, "changed");
  EXPECT_EQ(r.problems[0].seq, 3);
  EXPECT_EQ(r.problems[0].id, log.ids[2]);
  EXPECT_EQ(r.exit_code(), 3);
}

TEST(AuditChainTampering, AnEditedActorIsNamedAsChanged) {
  Log log(4);
  auto doc = log.raw(log.ids[1]);
  doc["actor"] = "someone-else";
  log.overwrite(log.ids[1], doc);
  auto r = log.verify();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems[0].kind, "changed");
  EXPECT_EQ(r.problems[0].seq, 2);
}

TEST(AuditChainTampering, ADeletedEntryIsNamedAsRemoved) {
  Log log(5);
  log.sql("DELETE FROM auditlogs WHERE _id = '" + log.ids[2] + "'");
  auto r = log.verify();
  ASSERT_EQ(r.problems.size(), 1u) << kinds(r);
  EXPECT_EQ(r.problems[0].kind, "removed");
  EXPECT_EQ(r.problems[0].seq, 4);  // reported at the entry after the gap
  EXPECT_NE(r.problems[0].message.find("entry seq 3 is missing"), std::string::npos) << r.problems[0].message;
}

TEST(AuditChainTampering, AnEntryInsertedWithoutChainFieldsIsNamedAsInserted) {
  Log log(3);
  auto doc = log.raw(log.ids[1]);
  for (const char* f : {"seq", "prevHash", "detailsSalt", "detailsCommit", "hash"}) doc.erase(f);
  std::string id = new_object_id();
  doc["_id"] = {{"$oid", id}};
  doc["details"]["note"] = "forged";
  Document d = Document::from_json(doc);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(log.file.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "INSERT INTO auditlogs (_id, doc) VALUES (?, ?)", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 2, d.bytes().data(), int(d.bytes().size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(h);
  auto r = log.verify();
  ASSERT_EQ(r.problems.size(), 1u) << kinds(r);
  EXPECT_EQ(r.problems[0].kind, "inserted");
  EXPECT_EQ(r.problems[0].id, id);
}

TEST(AuditChainTampering, AnEntryInsertedIntoTheChainIsNamedAsInserted) {
  // A cleverer forgery: a sealed entry slotted in as seq 3, the later entries renumbered.
  Log log(4);
  for (int k = 3; k >= 2; --k) {
    auto doc = log.raw(log.ids[k]);
    doc["seq"] = k + 2;
    log.overwrite(log.ids[k], doc);
  }
  auto previous = log.raw(log.ids[1]);
  std::string id = new_object_id();
  Document forged = seal_audit_entry(Document::from_json({{"_id", {{"$oid", id}}},
                                                          {"timestamp", {{"$date", 1700000000000}}},
                                                          {"actor", "x"},
                                                          {"action", "test.step"},
                                                          {"target", "forged"},
                                                          {"outcome", "ok"},
                                                          {"clientAddress", "local"},
                                                          {"details", {{"note", "forged"}}}}),
                                     3, "f00d" + std::string(60, '0'));
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(log.file.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(h, "INSERT INTO auditlogs (_id, doc) VALUES (?, ?)", -1, &st, nullptr), SQLITE_OK);
  sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 2, forged.bytes().data(), int(forged.bytes().size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(h);
  auto r = log.verify();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems[0].kind, "inserted") << kinds(r);
  EXPECT_EQ(r.problems[0].id, id);
  EXPECT_EQ(r.problems[0].seq, 3);
}

TEST(AuditChainTampering, TwoSwappedEntriesAreNamedAsReordered) {
  Log log(5);
  auto a = log.raw(log.ids[1]), b = log.raw(log.ids[2]);  // seq 2 and 3
  std::swap(a["seq"], b["seq"]);
  log.overwrite(log.ids[1], a);
  log.overwrite(log.ids[2], b);
  auto r = log.verify();
  ASSERT_EQ(r.problems.size(), 1u) << kinds(r);
  EXPECT_EQ(r.problems[0].kind, "reordered");
  EXPECT_EQ(r.problems[0].id, log.ids[2]);  // the later entry now comes first
  EXPECT_NE(r.problems[0].message.find("out of order"), std::string::npos);
}

TEST(AuditChainCli, VerifyPrintsTheBreakAndExitsThree) {
  Log log(4);
  auto ok = run_facecrowd("audit verify", log.env());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out.rfind("OK: 4 audit entries, 4 chained", 0), 0u) << ok.out;
  log.sql("DELETE FROM auditlogs WHERE _id = '" + log.ids[1] + "'");
  auto broken = run_facecrowd("audit verify", log.env());
  EXPECT_EQ(broken.exit_code, 3) << broken.out << broken.err;
  EXPECT_NE(broken.out.find("BROKEN"), std::string::npos) << broken.out;
  EXPECT_NE(broken.out.find("removed: entry seq 2 is missing"), std::string::npos) << broken.out;
  auto json = run_facecrowd("audit verify --json", log.env());
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["status"], "BROKEN");
  EXPECT_EQ(j["problems"][0]["kind"], "removed");
}

// A truncated tail leaves a chain that verifies on its own; the head a backup recorded catches it.
TEST(AuditChainCli, VerifyAgainstABackupFindsATruncatedLog) {
  Log log(4);
  auto backup = run_facecrowd("backup --json", log.env());
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  auto archive = nlohmann::json::parse(backup.out).at("archive").get<std::string>();
  auto sidecar = nlohmann::json::parse(read_text(archive + ".manifest.json"));
  EXPECT_EQ(sidecar["audit_chain"]["seq"], 4);
  auto same = run_facecrowd("audit verify --against latest", log.env());
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("matches"), std::string::npos) << same.out;

  // Remove the newest entries: the rest still chains, but the backup's head is gone.
  std::string head_id;
  {
    auto db = Database::open(DataDir::open(log.data), kDb);
    auto tx = db->read();
    head_id = read_audit_chain_head(tx).id;
  }
  log.sql("DELETE FROM auditlogs WHERE _id = '" + head_id + "'");
  EXPECT_EQ(run_facecrowd("audit verify", log.env()).exit_code, 0);
  auto against = run_facecrowd("audit verify --against latest", log.env());
  EXPECT_EQ(against.exit_code, 3) << against.out << against.err;
  EXPECT_NE(against.out.find("mismatch"), std::string::npos) << against.out;
  EXPECT_NE(against.out.find(fs::path(archive).filename().string()), std::string::npos) << against.out;
}

TEST(AuditChainErasure, AnErasureKeepsTheChainVerifiable) {
  Log log(2);
  std::string person = new_object_id();
  {
    auto db = Database::open(DataDir::open(log.data), kDb);
    auto tx = db->write();
    tx.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", person}}}, {"name", "Ada Lovelace-Byron"}}));
    append_audit(tx, AuditEntry{.action = "profile.enroll", .target = person,
                                .details = {{"name", "Ada Lovelace-Byron"}, {"added", {{{"image", "/p/Ada_passport.jpg"}}}}}});
    append_audit(tx, AuditEntry{.action = "profile.enroll", .target = new_object_id(),
                                .details = {{"name", "Other"},
                                            {"warnings", {"x.jpg: this face already matches profile " + person +
                                                          " 'Ada Lovelace-Byron'"}}}});
    tx.commit();
  }
  auto erased = erase_person(log.data, person, {});
  EXPECT_EQ(erased.effect.audit_entries_scrubbed, 2);
  auto r = log.verify();  // without the ledger: the log's own person.delete entry accounts for it
  EXPECT_TRUE(r.ok()) << kinds(r) << (r.problems.empty() ? "" : r.problems[0].message);
  EXPECT_EQ(r.scrubbed, 2);
  auto cli = run_facecrowd("audit verify", log.env());
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_EQ(cli.out.find("Ada"), std::string::npos);

  // Faking an erasure (dropping the salt of an entry nobody erased) is not accepted.
  auto doc = log.raw(log.ids[0]);
  doc.erase("detailsSalt");
  doc["details"]["note"] = "rewritten";
  log.overwrite(log.ids[0], doc);
  auto faked = log.verify();
  ASSERT_EQ(faked.problems.size(), 1u) << kinds(faked);
  EXPECT_EQ(faked.problems[0].kind, "changed");
  EXPECT_EQ(faked.problems[0].seq, 1);
}

TEST(AuditChainRetention, DeletingOldEntriesLeavesCheckpointsAndTheChainVerifies) {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  auto db = Database::open(DataDir::open(data), kDb);
  const UnixMillis now = now_millis();  // the entries retention itself writes carry the real time
  const UnixMillis old = now - 3LL * 365 * 24 * 3600 * 1000;
  {
    auto tx = db->write();
    for (int k = 0; k < 7; ++k)
      append_audit(tx, AuditEntry{.action = "old.thing", .details = {{"k", k}}, .timestamp = old + k});
    for (int k = 0; k < 3; ++k)
      append_audit(tx, AuditEntry{.action = "new.thing", .details = {{"k", k}}, .timestamp = now - 1000 + k});
    tx.commit();
  }
  RetentionOptions options;
  options.now = now;
  options.batch_size = 3;
  auto report = run_retention(*db, options);
  EXPECT_EQ(report.auditlogs_deleted, 7);
  AuditVerifyReport r;
  {
    auto tx = db->read();
    r = verify_audit_chain(tx, {});
  }
  EXPECT_TRUE(r.ok()) << kinds(r) << (r.problems.empty() ? "" : r.problems[0].message);
  EXPECT_EQ(r.accounted_gap, 7);
  EXPECT_EQ(r.checkpoints, 3);  // batches of 3, 3 and 1

  // Two and a half years on, everything above is deleted, the first run's checkpoints included.
  options.now = now + 30LL * 31 * 24 * 3600 * 1000;
  run_retention(*db, options);
  {
    auto tx = db->read();
    r = verify_audit_chain(tx, {});
  }
  EXPECT_TRUE(r.ok()) << kinds(r) << (r.problems.empty() ? "" : r.problems[0].message);
  EXPECT_EQ(r.accounted_gap, 14);  // 7 + 3 new + 3 checkpoints + the first run's retention.run
}

TEST(AuditChainMigration, ALogFromBeforeTheChainIsChainedByTheNextWrite) {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  auto db = Database::open(DataDir::open(data), kDb);
  {
    auto tx = db->write();  // entries as an older facecrowd wrote them: no chain fields
    for (int k = 0; k < 3; ++k)
      tx.insert("auditlogs", Document::from_json({{"timestamp", {{"$date", 1700000000000 + k}}},
                                                  {"actor", "old"},
                                                  {"action", "legacy"},
                                                  {"target", ""},
                                                  {"outcome", "ok"},
                                                  {"clientAddress", "local"},
                                                  {"details", {{"k", k}}}}));
    tx.commit();
  }
  {
    auto tx = db->read();
    auto r = verify_audit_chain(tx, {});
    EXPECT_TRUE(r.not_chained_yet);
    EXPECT_EQ(r.exit_code(), 1);
  }
  {
    auto tx = db->write();
    append_audit(tx, AuditEntry{.action = "first.chained"});
    tx.commit();
  }
  auto tx = db->read();
  auto r = verify_audit_chain(tx, {});
  EXPECT_TRUE(r.ok()) << kinds(r);
  EXPECT_EQ(r.chained, 5);  // chain start + 3 migrated + the new one
  std::vector<std::string> actions;
  tx.find("auditlogs", Query{}, [&](const Document& d) {
    auto j = d.to_json();
    if (j["seq"] == 1) {
      EXPECT_EQ(j["action"], "audit.chain.start");
    }
    if (j["seq"] == 1) {
      EXPECT_EQ(j["details"]["migratedEntries"], 3);
    }
    if (j["seq"] == 5) {
      EXPECT_EQ(j["action"], "first.chained");
    }
    return true;
  });
}

TEST(AuditChainRestore, ARestoredDatabaseKeepsAVerifiableChain) {
  Log log(3);
  ASSERT_EQ(run_facecrowd("backup", log.env()).exit_code, 0);
  {
    auto db = Database::open(DataDir::open(log.data), kDb);
    auto tx = db->write();
    append_audit(tx, AuditEntry{.action = "after.backup"});
    tx.commit();
  }
  auto restore = run_facecrowd("restore latest --drop", log.env());
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  {
    auto db = Database::open(DataDir::open(log.data), kDb);
    auto tx = db->write();
    append_audit(tx, AuditEntry{.action = "after.restore"});
    tx.commit();
  }
  auto verify = run_facecrowd("audit verify --against latest", log.env());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// A restore folds the entries it loads into the head (fold_audit_chain_head) instead of reading the log
// back; the fold must find what the full read finds: the first entry with the largest seq, in table order,
// and the count of unchained entries.
TEST(AuditChainHead, FoldingEveryEntryInTableOrderFindsWhatTheFullReadFinds) {
  TempDir tmp;
  auto db = Database::open(DataDir::open(tmp.path() / "data"), kDb);
  auto entry = [](const std::string& action) {
    return Document::from_json({{"timestamp", {{"$date", 1700000000000}}}, {"actor", "t"}, {"action", action},
                                {"target", ""}, {"outcome", "ok"}, {"clientAddress", "local"}, {"details", {{"a", 1}}}});
  };
  std::string tie_first;
  {
    auto tx = db->write();  // raw inserts: no cached head, so the read below is the full one
    tx.insert("auditlogs", entry("unchained.1"));
    tx.insert("auditlogs", seal_audit_entry(entry("seq.2"), 2, kAuditChainGenesis));
    tie_first = tx.insert("auditlogs", seal_audit_entry(entry("seq.7.first"), 7, kAuditChainGenesis));
    tx.insert("auditlogs", seal_audit_entry(entry("seq.5"), 5, kAuditChainGenesis));
    tx.insert("auditlogs", seal_audit_entry(entry("seq.7.second"), 7, kAuditChainGenesis));
    tx.insert("auditlogs", entry("unchained.2"));
    auto odd = entry("seq.as.text").to_json();  // chain fields of the wrong types: not chained
    odd["seq"] = "9";
    odd["hash"] = "ab";
    tx.insert("auditlogs", Document::from_json(odd));
    odd = entry("hash.as.number").to_json();
    odd["seq"] = 9;
    odd["hash"] = 12;
    tx.insert("auditlogs", Document::from_json(odd));
    tx.commit();
  }
  auto tx = db->read();
  AuditChainHead read = read_audit_chain_head(tx), folded, reference;
  tx.find("auditlogs", Query{}, [&](const Document& d) {
    fold_audit_chain_head(folded, d.get());
    int64_t seq;  // the full read as it was written before the fold existed
    std::string hash;
    if (!audit_chain_fields(d.get(), seq, hash)) {
      ++reference.unchained;
    } else if (seq > reference.seq) {
      reference.seq = seq;
      reference.hash = hash;
      reference.id = d.id_key().value_or("");
    }
    return true;
  });
  EXPECT_EQ(read.seq, 7);
  EXPECT_EQ(read.id, tie_first);
  EXPECT_EQ(read.unchained, 4);
  EXPECT_EQ(reference.seq, read.seq);
  EXPECT_EQ(reference.id, read.id);
  EXPECT_EQ(reference.hash, read.hash);
  EXPECT_EQ(reference.unchained, read.unchained);
  EXPECT_EQ(folded.seq, read.seq);
  EXPECT_EQ(folded.id, read.id);
  EXPECT_EQ(folded.hash, read.hash);
  EXPECT_EQ(folded.unchained, read.unchained);
}

// The head a restore caches after its load must not outlive the load: entries replayed after it (a
// point-in-time restore) come later in the chain, and the restore's own entry must follow them.
TEST(AuditChainRestore, APointInTimeRestoreChainsItsOwnEntryAfterTheReplayedEntries) {
  Log log(3);
  ASSERT_EQ(run_facecrowd("backup", log.env()).exit_code, 0);
  {
    auto db = Database::open(DataDir::open(log.data), kDb);
    for (const char* action : {"after.backup.1", "after.backup.2"}) {
      auto tx = db->write();
      append_audit(tx, AuditEntry{.action = action});
      tx.commit();
    }
  }
  auto ship = run_facecrowd("oplog ship --json", log.env());
  ASSERT_EQ(ship.exit_code, 0) << ship.err;
  auto to = parse_until(nlohmann::json::parse(ship.out)["to"].get<std::string>());
  auto restore = run_facecrowd("restore latest --drop --until " + std::to_string(to.secs) + ":" +
                                   std::to_string(to.inc + 1),
                               log.env());
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  {
    auto db = Database::open(DataDir::open(log.data), kDb);
    auto tx = db->read();
    int64_t restore_seq = 0;
    tx.find("auditlogs", Query{}, [&](const Document& d) {
      auto j = d.to_json();
      if (j["action"] == "restore") restore_seq = j["seq"].get<int64_t>();
      return true;
    });
    EXPECT_EQ(restore_seq, 6);  // after the 3 backed-up entries and the 2 replayed ones
  }
  auto verify = run_facecrowd("audit verify", log.env());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

// A full restore (the cached head path): its own entry is the next link after the backup's last one.
TEST(AuditChainRestore, ARestoresOwnEntryFollowsTheLastRestoredEntry) {
  Log log(4);
  ASSERT_EQ(run_facecrowd("backup", log.env()).exit_code, 0);
  ASSERT_EQ(run_facecrowd("restore latest --db copy", log.env()).exit_code, 0);
  auto db = Database::open(DataDir::open(log.data), "copy");
  auto tx = db->read();
  int64_t restore_seq = 0;
  std::string prev;
  tx.find("auditlogs", Query{}, [&](const Document& d) {
    auto j = d.to_json();
    if (j["action"] == "restore") {
      restore_seq = j["seq"].get<int64_t>();
      prev = j["prevHash"].get<std::string>();
    }
    return true;
  });
  EXPECT_EQ(restore_seq, 5);
  EXPECT_EQ(prev, log.raw(log.ids.back())["hash"].get<std::string>());
  EXPECT_TRUE(verify_audit_chain(tx, {}).ok());
}

}  // namespace
}  // namespace facecrowd
