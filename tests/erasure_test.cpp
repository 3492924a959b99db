// GDPR erasure through the real binary: `person delete` removes the profile, its images and its
// attendances (or anonymises them), writes the ledger and an audit entry without the name; and no restore
// — full, one collection, point in time — of a backup taken before the erasure brings the person back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/records/audit.h"
#include "app/privacy/erasure.h"
#include "core/object_id.h"
#include "store/file_store.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

constexpr const char* kErasedName = "Zelda Quintavalle";  // appears nowhere once erased

// A data directory with two people: P (to be erased) and Q. P has two own images, one image it shares
// with Q, three attendances; Q has one own image and two attendances; all attendances point to one
// group photo.
struct World {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  std::string p = new_object_id(), q = new_object_id();
  std::string p_image1, p_image2, shared_image, q_image, group_photo;
  std::string env;

  World() {
    env = "FACECROWD_DATA=" + data.string() + " FACECROWD_BACKUP_DIR=" + backups.string();
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    // Two chunks for one image, so chunk removal is tested beyond the first.
    p_image1 = put_file(w, std::string(kFileChunkSize + 100, 'p'), "p1.jpg", "image/jpeg", FileKind::kFacialImage);
    p_image2 = put_file(w, "p-image-2", "p2.jpg", "image/jpeg", FileKind::kFacialImage);
    shared_image = put_file(w, "shared-image", "shared.jpg", "image/jpeg", FileKind::kFacialImage);
    q_image = put_file(w, "q-image", "q.jpg", "image/jpeg", FileKind::kFacialImage);
    group_photo = put_file(w, "group-photo", "class.jpg", "image/jpeg", FileKind::kGroupPhoto);
    auto oid = [](const std::string& id) { return nlohmann::json{{"$oid", id}}; };
    auto embedding = [&](const std::string& file) {
      return nlohmann::json{{"vector", {0.1, 0.2}}, {"modelVersion", "test@1"}, {"sourceFileId", oid(file)}, {"quality", 0.9}};
    };
    w.insert("faceprofiles", Document::from_json({{"_id", oid(p)},
                                                  {"name", kErasedName},
                                                  {"externalId", "EMP-1"},
                                                  {"embeddings", {embedding(p_image1), embedding(p_image2)}},
                                                  {"facialImageIds", {oid(p_image1), oid(p_image2), oid(shared_image)}}}));
    w.insert("faceprofiles", Document::from_json({{"_id", oid(q)},
                                                  {"name", "Quentin Other"},
                                                  {"externalId", "EMP-2"},
                                                  {"embeddings", {embedding(q_image)}},
                                                  {"facialImageIds", {oid(q_image), oid(shared_image)}}}));
    auto attendance = [&](const std::string& person, const char* name, int k) {
      return Document::from_json({{"personId", oid(person)},
                                  {"personName", name},
                                  {"session", "class-" + std::to_string(k)},
                                  {"timestamp", {{"$date", 1704240000000 + k}}},
                                  {"confidence", 0.9},
                                  {"photoFileId", oid(group_photo)},
                                  {"archived", false}});
    };
    for (int k = 0; k < 3; ++k) w.insert("attendances", attendance(p, kErasedName, k));
    for (int k = 0; k < 2; ++k) w.insert("attendances", attendance(q, "Quentin Other", k));
    // What enrollment and profile updates write about P, and one entry about Q that must stay as it is.
    append_audit(w, AuditEntry{.action = "profile.enroll", .target = p,
                               .details = {{"name", kErasedName}, {"created", true},
                                           {"duplicates", {"/photos/zelda_quintavalle_2.jpg"}}, {"rejected", 0}}});
    append_audit(w, AuditEntry{.action = "profile.update", .target = p,
                               .details = {{"changed", {{"name", kErasedName}, {"externalId", "EMP-1"}}}}});
    append_audit(w, AuditEntry{.action = "profile.enroll", .target = q,
                               .details = {{"name", "Quentin Other"}, {"created", true}}});
    w.commit();
  }

  CommandResult cli(const std::string& args) const { return run_facecrowd(args, env); }
  Snapshot state(bool with_audit = false) const { return snapshot(data, "face-recognition", with_audit); }
  std::string backup_now() const {
    auto r = cli("backup --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out).at("archive").get<std::string>();
  }
  int64_t chunks_of(const std::string& file) const {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    return db->read().count("fs.chunks", Query{{{"files_id", "=", file}}});
  }
  bool has(const std::string& collection, const std::string& id) const {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    return db->read().get(collection, id).has_value();
  }
  std::vector<std::string> ledger_lines() const {
    std::vector<std::string> out;
    if (!fs::exists(data / ErasureLedger::kFileName)) return out;
    std::istringstream in(read_text(data / ErasureLedger::kFileName));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
};

// Every document of every collection, as text: the erased name must appear in none.
bool name_anywhere(const Snapshot& s, const std::string& name = kErasedName) {
  for (const auto& [coll, docs] : s)
    for (const auto& [id, text] : docs)
      if (text.find(name) != std::string::npos) return true;
  return false;
}

TEST(ErasureCli, RemovesProfileImagesAndAttendancesKeepsSharedFiles) {
  World w;
  auto r = w.cli("person delete " + w.p + " --reason 'request 1182' --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["effect"]["embeddingsRemoved"], 2);
  EXPECT_EQ(j["effect"]["attendancesRemoved"], 3);
  EXPECT_EQ(j["effect"]["filesDeleted"], 2);
  EXPECT_EQ(j["effect"]["filesKeptShared"], 1);
  EXPECT_EQ(j["effect"]["auditEntriesScrubbed"], 2);

  EXPECT_FALSE(w.has("faceprofiles", w.p));
  EXPECT_TRUE(w.has("faceprofiles", w.q));
  EXPECT_FALSE(w.has("fs.files", w.p_image1));
  EXPECT_FALSE(w.has("fs.files", w.p_image2));
  EXPECT_EQ(w.chunks_of(w.p_image1), 0);
  EXPECT_EQ(w.chunks_of(w.p_image2), 0);
  EXPECT_TRUE(w.has("fs.files", w.shared_image));  // Q still points to it
  EXPECT_EQ(w.chunks_of(w.shared_image), 1);
  EXPECT_TRUE(w.has("fs.files", w.q_image));
  EXPECT_TRUE(w.has("fs.files", w.group_photo));   // Q's attendances still point to it
  auto s = w.state();
  EXPECT_EQ(s["attendances"].size(), 2u);
  EXPECT_FALSE(name_anywhere(s));

  auto lines = w.ledger_lines();
  ASSERT_EQ(lines.size(), 1u);
  auto line = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(line["person_id"], w.p);
  EXPECT_EQ(line["attendance_policy"], "remove");
  EXPECT_EQ(line["db"], "face-recognition");
  EXPECT_EQ(line["reason"], "request 1182");
  EXPECT_EQ(line["file_ids"].size(), 2u);
  EXPECT_EQ(lines[0].find(kErasedName), std::string::npos);

  // The earlier audit entries about P still say what was done, but no longer who P was.
  auto with_audit = w.state(/*with_audit=*/true);
  EXPECT_FALSE(name_anywhere(with_audit));
  EXPECT_FALSE(name_anywhere(with_audit, "zelda_quintavalle"));
  EXPECT_FALSE(name_anywhere(with_audit, "EMP-1"));
  EXPECT_TRUE(name_anywhere(with_audit, "Quentin Other"));
  auto enrolled = nlohmann::json::parse(w.cli("audit list --action profile.enroll --json").out);
  ASSERT_EQ(enrolled.size(), 2u);
  for (const auto& e : enrolled) {
    EXPECT_EQ(e["details"]["created"], true);
    if (e["target"] == w.p) {
      EXPECT_EQ(e["details"]["name"], "erased");
    }
  }

  auto audit = w.cli("audit list --action person.delete --json");
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  auto entries = nlohmann::json::parse(audit.out);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["target"], w.p);
  EXPECT_EQ(entries[0]["outcome"], "ok");
  EXPECT_EQ(audit.out.find(kErasedName), std::string::npos);
  EXPECT_EQ(audit.out.find("request 1182"), std::string::npos);  // free text stays in the ledger

  auto listed = w.cli("person erasures");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(w.p), std::string::npos);
}

TEST(ErasureCli, AnonymiseKeepsAttendanceCountsWithoutThePerson) {
  World w;
  auto before = w.state();
  auto r = w.cli("person delete " + w.p + " --attendance anonymise");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = w.state();
  ASSERT_EQ(s["attendances"].size(), 5u);
  int anonymous = 0;
  for (const auto& [id, text] : s["attendances"]) {
    auto doc = nlohmann::json::parse(text);
    if (doc["personId"].is_null()) {
      ++anonymous;
      EXPECT_EQ(doc["personName"], "erased");
      EXPECT_EQ(doc["session"], nlohmann::json::parse(before["attendances"][id])["session"]);  // the rest is kept
    } else {
      EXPECT_EQ(doc["personId"]["$oid"], w.q);
    }
  }
  EXPECT_EQ(anonymous, 3);
  EXPECT_FALSE(name_anywhere(s));
  EXPECT_FALSE(w.has("faceprofiles", w.p));
  EXPECT_FALSE(w.has("fs.files", w.p_image1));
  EXPECT_EQ(nlohmann::json::parse(w.ledger_lines().at(0))["attendance_policy"], "anonymise");
}

// Erasing a person with one embedding and one own image said "profile with 1 embeddings, 1 files deleted (1
// kept: other records point to them)" (found by the new-user pass; core/number_text.h's counted()).
TEST(ErasureCli, APersonWithOneEmbeddingAndOneImageIsReportedInTheSingular) {
  World w;
  auto r = w.cli("person delete " + w.q);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(": profile with 1 embedding, 1 file deleted (1 kept: other records point to it), 2 attendance records removed"),
            std::string::npos)
      << r.out;
}

TEST(ErasureCli, UnknownIdIsNotFoundAndChangesNothing) {
  World w;
  auto before = w.state(true);
  auto r = w.cli("person delete " + new_object_id());
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("no face profile"), std::string::npos) << r.err;
  EXPECT_EQ(w.state(true), before);
  EXPECT_TRUE(w.ledger_lines().empty());
}

TEST(ErasureCli, ErasingTwiceSaysAlreadyErasedAndChangesNothing) {
  World w;
  ASSERT_EQ(w.cli("person delete " + w.p).exit_code, 0);
  auto after_first = w.state(true);
  auto r = w.cli("person delete " + w.p);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("already erased"), std::string::npos) << r.err;
  EXPECT_EQ(w.state(true), after_first);
  EXPECT_EQ(w.ledger_lines().size(), 1u);
}

TEST(ErasureCli, BadAttendancePolicyIsAUsageError) {
  World w;
  auto before = w.state(true);
  EXPECT_EQ(w.cli("person delete " + w.p + " --attendance keep").exit_code, 2);
  EXPECT_EQ(w.state(true), before);
}

// Backup, erase, then restore that old backup in each way the CLI offers: the person stays erased and
// every other record is exactly as after the erasure.
TEST(ErasureRestore, OldBackupNeverBringsThePersonBack) {
  for (std::string policy : {"remove", "anonymise"}) {
    SCOPED_TRACE(policy);
    World w;
    auto archive = w.backup_now();
    ASSERT_EQ(w.cli("person delete " + w.p + " --attendance " + policy).exit_code, 0);
    auto erased = w.state();
    for (std::string how : {"--drop", "--collection faceprofiles --drop", "--collection attendances --drop",
                            "--collection fs.files --drop", "--collection fs.chunks --drop"}) {
      SCOPED_TRACE(how);
      auto r = w.cli("restore " + archive + " " + how + " --json");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_TRUE(nlohmann::json::parse(r.out)["erasuresReapplied"]["peopleChanged"] == 1) << r.out;
      auto s = w.state();
      EXPECT_EQ(s, erased);  // the person not back, every other record back as it was
      EXPECT_FALSE(name_anywhere(s));
      EXPECT_FALSE(name_anywhere(w.state(/*with_audit=*/true)));  // nor in the restored audit log
      EXPECT_TRUE(w.has("faceprofiles", w.q));
      EXPECT_TRUE(w.has("fs.files", w.shared_image));
      auto audit = w.cli("audit list --action person.erasure.reapply --limit 1 --json");
      EXPECT_NE(audit.out.find(w.p), std::string::npos) << audit.out;  // the restored audit log says so
      EXPECT_EQ(audit.out.find(kErasedName), std::string::npos);
    }
  }
}

TEST(ErasureRestore, RestoreIntoAnotherDatabaseAppliesTheLedgerToo) {
  World w;
  auto archive = w.backup_now();
  ASSERT_EQ(w.cli("person delete " + w.p).exit_code, 0);
  auto r = w.cli("restore " + archive + " --db face-recognition-test");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = snapshot(w.data, "face-recognition-test");
  EXPECT_EQ(s["faceprofiles"].size(), 1u);
  EXPECT_FALSE(name_anywhere(s));
}

// Point in time from a backup taken BEFORE the person was enrolled: replaying the shipped oplog inserts
// the profile again, and the ledger, applied after replay, removes it again.
TEST(ErasureRestore, PointInTimeReplayDoesNotReinsertThePerson) {
  World w;
  const std::string kLateName = "Lena Latecomer";
  auto archive = w.backup_now();
  std::string late = new_object_id();
  OplogTimestamp enrolled;
  {
    auto db = Database::open(DataDir::open(w.data), "face-recognition");
    auto tx = db->write();
    auto image = put_file(tx, "late-image", "late.jpg", "image/jpeg", FileKind::kFacialImage);
    tx.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", late}}},
                                                   {"name", kLateName},
                                                   {"facialImageIds", {{{"$oid", image}}}}}));
    tx.insert("attendances", Document::from_json({{"personId", {{"$oid", late}}}, {"personName", kLateName},
                                                  {"session", "late"}, {"timestamp", {{"$date", 1704250000000}}}}));
    tx.commit();
    enrolled = tx.last_position();
  }
  ASSERT_EQ(w.cli("oplog ship").exit_code, 0);
  ASSERT_EQ(w.cli("person delete " + late).exit_code, 0);
  ASSERT_EQ(w.cli("oplog ship").exit_code, 0);
  auto erased = w.state();

  // A moment after the enrollment and before the erasure.
  OplogTimestamp until{enrolled.secs, enrolled.inc + 1};
  auto r = w.cli("restore " + archive + " --drop --until " + until.to_string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["point_in_time"]["replayed"].get<int64_t>(), 0) << r.out;
  EXPECT_EQ(j["erasuresReapplied"]["peopleChanged"], 1) << r.out;  // the replay had brought them back
  auto s = w.state();
  EXPECT_FALSE(s["faceprofiles"].count(late));
  EXPECT_FALSE(name_anywhere(s, kLateName));
  EXPECT_EQ(s, erased);  // everything else is as it was at that moment, which matches now
  EXPECT_TRUE(w.has("faceprofiles", w.p));  // P was never erased here
}

TEST(ErasureLedger, TornLastLineIsIgnoredAndCutBeforeTheNextAppend) {
  TempDir tmp;
  ErasureLedger ledger(tmp.path());
  ErasureRecord a;
  a.person_id = "a";
  a.erased_at = 1704240000000;
  ledger.append(a);
  write_text(ledger.path(), read_text(ledger.path()) + "{\"person_id\": \"torn");
  ASSERT_EQ(ledger.read().size(), 1u);
  ErasureRecord b = a;
  b.person_id = "b";
  ledger.append(b);
  auto records = ledger.read();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].person_id, "b");
  write_text(ledger.path(), "not json\n" + read_text(ledger.path()));
  EXPECT_THROW(ledger.read(), Error);
}

TEST(ErasureLedger, CorruptLedgerStopsTheRestoreAndLeavesDataAsItWas) {
  World w;
  auto archive = w.backup_now();
  ASSERT_EQ(w.cli("person delete " + w.p).exit_code, 0);
  auto erased = w.state(true);
  write_text(w.data / ErasureLedger::kFileName, "garbage\n" + read_text(w.data / ErasureLedger::kFileName));
  auto r = w.cli("restore " + archive + " --drop");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("erasure-ledger.jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(w.state(true), erased);
}

// A crash after the ledger append and before the commit leaves the person in the database and in the
// ledger: --reapply (or the next restore) completes the erasure.
TEST(ErasureLedger, ReapplyCompletesAnErasureWhoseCommitWasLost) {
  World w;
  ErasureRecord record;
  record.person_id = w.p;
  record.erased_at = now_millis();
  record.db = "face-recognition";
  ErasureLedger(w.data).append(record);
  auto r = w.cli("person erasures --reapply --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["reapplied"]["peopleChanged"], 1);
  EXPECT_FALSE(w.has("faceprofiles", w.p));
  EXPECT_FALSE(w.has("fs.files", w.p_image1));
  auto again = w.cli("person erasures --reapply --json");
  EXPECT_EQ(nlohmann::json::parse(again.out)["reapplied"]["peopleChanged"], 0);  // idempotent
}

}  // namespace
}  // namespace facecrowd
