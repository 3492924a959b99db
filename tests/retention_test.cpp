// Retention and archival on real data, with records on both sides of every boundary.
#include <gtest/gtest.h>

#include <map>

#include "app/records/retention.h"
#include "core/error.h"
#include "store/audit_seal.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/file_store.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr UnixMillis kDay = 86'400'000;
const UnixMillis kNow = *parse_iso8601("2026-06-15T12:00:00Z");
const UnixMillis kYearAgo = *parse_iso8601("2025-06-15T12:00:00Z");       // attendances, crowd counts
const UnixMillis kTwoYearsAgo = *parse_iso8601("2024-06-15T12:00:00Z");   // audit entries
const UnixMillis kSixMonthsAgo = *parse_iso8601("2025-12-15T12:00:00Z");  // archive

nlohmann::json date(UnixMillis t) { return {{"$date", format_iso8601(t)}}; }
nlohmann::json oid(const std::string& hex) { return {{"$oid", hex}}; }

struct Fixture {
  TempDir tmp;
  DataDir dir = DataDir::open(tmp.path() / "data");
  std::unique_ptr<Database> db = Database::open(dir, "face-recognition");
  std::map<std::string, std::string> files;  // name -> id
  std::map<std::string, std::string> ids;    // record name -> id

  Fixture() {
    auto tx = db->write();
    for (std::string name : {"F1", "F2", "Fshared", "F3", "F4", "F5", "F6", "F7", "F8", "Forphan"})
      files[name] = put_file(tx, "bytes of " + name, name + ".jpg", "image/jpeg", FileKind::kGroupPhoto);
    auto attendance = [&](const std::string& name, UnixMillis t, const std::string& file, bool archived = false) {
      nlohmann::json doc = {{"personId", oid("65a1b2c3d4e5f60718293a01")}, {"session", "class-7B"},
                            {"timestamp", date(t)}, {"confidence", 0.9}, {"photoFileId", oid(files[file])},
                            {"archived", archived}};
      ids[name] = tx.insert("attendances", Document::from_json(doc));
    };
    attendance("A0", kYearAgo - 100 * kDay, "Fshared");  // deleted; its photo is shared with A3
    attendance("A1", kYearAgo - 1, "F1");                // deleted, with its photo
    attendance("A2", kYearAgo, "F2");                    // kept (exactly at the cutoff), archived
    attendance("A3", kSixMonthsAgo - 1, "Fshared");      // kept, archived
    attendance("A4", kSixMonthsAgo, "F2");               // kept, not archived
    attendance("A5", kNow - kDay, "F2");                 // kept
    attendance("A6", kSixMonthsAgo - 10 * kDay, "F2", true);  // already archived: untouched
    auto crowd = [&](const std::string& name, UnixMillis t, const std::string& image, const std::string& density) {
      nlohmann::json doc = {{"location", "gate"}, {"timestamp", date(t)}, {"count", 12.5},
                            {"imageFileId", oid(files[image])}, {"densityMapFileId", oid(files[density])}};
      ids[name] = tx.insert("crowdcounts", Document::from_json(doc));
    };
    crowd("C1", kYearAgo - 1, "F3", "F4");  // deleted, both files too
    crowd("C2", kYearAgo + 1, "F5", "F6");  // kept, archived
    crowd("C3", kNow - 3'600'000, "F5", "F6");
    for (auto [name, t] : std::vector<std::pair<std::string, UnixMillis>>{
             {"L1", kTwoYearsAgo - 1}, {"L2", kTwoYearsAgo}, {"L3", kNow - kDay}})
      ids[name] = insert_sealed_audit_entry(tx, Document::from_json({{"timestamp", date(t)}, {"action", "auth.login"}}));
    nlohmann::json profile = {
        {"name", "Ann"},
        {"embeddings", {{{"modelVersion", "face-api@1.7.15/face_recognition_model"}, {"sourceFileId", oid(files["F7"])}}}},
        {"facialImageIds", {oid(files["F8"])}},
        {"createdAt", date(kNow - 1000 * kDay)}};
    ids["P1"] = tx.insert("faceprofiles", Document::from_json(profile));
    tx.insert("users", Document::from_json({{"username", "old"}, {"createdAt", date(kNow - 2000 * kDay)}}));
    tx.commit();
  }

  bool exists(const std::string& collection, const std::string& name) {
    auto r = db->read();
    return r.get(collection, ids.at(name)).has_value();
  }
  bool archived(const std::string& collection, const std::string& name) {
    auto r = db->read();
    auto doc = r.get(collection, ids.at(name))->to_json();
    return doc.contains("archived") && doc["archived"] == true;
  }
  bool file_exists(const std::string& name) {
    auto r = db->read();
    return file_info(r, files.at(name)).has_value();
  }
  std::map<std::string, int64_t> counts() {
    std::map<std::string, int64_t> out;
    auto r = db->read();
    for (const auto& spec : collection_specs()) out[spec.name] = r.count(spec.name);
    return out;
  }
};

void expect_first_run_counts(const RetentionReport& r) {
  EXPECT_EQ(r.attendances_deleted, 2);
  EXPECT_EQ(r.crowdcounts_deleted, 1);
  EXPECT_EQ(r.auditlogs_deleted, 1);
  EXPECT_EQ(r.attendances_archived, 2);
  EXPECT_EQ(r.crowdcounts_archived, 1);
  EXPECT_EQ(r.files_deleted, 4);  // F1, F3, F4, Forphan
  EXPECT_EQ(r.file_bytes_freed, int64_t(3 * std::string("bytes of F1").size() + std::string("bytes of Forphan").size()));
}

TEST(Retention, MonthsAreCalendarMonthsWithTheDayClamped) {
  EXPECT_EQ(months_before(kNow, 12), kYearAgo);
  EXPECT_EQ(months_before(kNow, 24), kTwoYearsAgo);
  EXPECT_EQ(months_before(kNow, 6), kSixMonthsAgo);
  EXPECT_EQ(format_iso8601(months_before(*parse_iso8601("2026-08-31T10:00:00Z"), 6)), "2026-02-28T10:00:00.000Z");
  EXPECT_EQ(format_iso8601(months_before(*parse_iso8601("2024-03-31T00:00:00Z"), 1)), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(months_before(*parse_iso8601("2026-01-10T00:00:00Z"), 1)), "2025-12-10T00:00:00.000Z");
}

TEST(Retention, DryRunCountsEverythingAndWritesNothing) {
  Fixture f;
  auto before = f.counts();
  OplogTimestamp position = f.db->read().position();
  auto report = run_retention(*f.db, RetentionPolicy{}, kNow, true);
  EXPECT_TRUE(report.dry_run);
  expect_first_run_counts(report);
  EXPECT_TRUE(report.audit_id.empty());
  EXPECT_EQ(f.counts(), before);
  EXPECT_EQ(f.db->read().position(), position);
  EXPECT_FALSE(f.archived("attendances", "A2"));
}

TEST(Retention, DeletesArchivesAndSweepsFilesAcrossEachBoundary) {
  Fixture f;
  auto report = run_retention(*f.db, RetentionPolicy{}, kNow, false);
  expect_first_run_counts(report);

  EXPECT_FALSE(f.exists("attendances", "A0"));
  EXPECT_FALSE(f.exists("attendances", "A1"));
  for (auto name : {"A2", "A3", "A4", "A5", "A6"}) EXPECT_TRUE(f.exists("attendances", name)) << name;
  EXPECT_TRUE(f.archived("attendances", "A2"));
  EXPECT_TRUE(f.archived("attendances", "A3"));
  EXPECT_FALSE(f.archived("attendances", "A4"));
  EXPECT_FALSE(f.archived("attendances", "A5"));
  EXPECT_TRUE(f.archived("attendances", "A6"));
  EXPECT_FALSE(f.exists("crowdcounts", "C1"));
  EXPECT_TRUE(f.archived("crowdcounts", "C2"));
  EXPECT_FALSE(f.archived("crowdcounts", "C3"));
  EXPECT_FALSE(f.exists("auditlogs", "L1"));
  EXPECT_TRUE(f.exists("auditlogs", "L2"));
  EXPECT_TRUE(f.exists("faceprofiles", "P1"));
  EXPECT_EQ(f.counts()["users"], 1);

  for (auto name : {"F1", "F3", "F4", "Forphan"}) EXPECT_FALSE(f.file_exists(name)) << name;
  for (auto name : {"F2", "Fshared", "F5", "F6", "F7", "F8"}) {
    EXPECT_TRUE(f.file_exists(name)) << name;
    auto r = f.db->read();
    EXPECT_EQ(get_file(r, f.files[name]), "bytes of " + std::string(name));
  }
  EXPECT_EQ(f.counts()["fs.chunks"], 6);

  // An archived record keeps its other fields.
  {
    auto r = f.db->read();
    auto a2 = r.get("attendances", f.ids["A2"])->to_json();
    EXPECT_EQ(a2["session"], "class-7B");
    EXPECT_EQ(a2["photoFileId"]["$oid"], f.files["F2"]);
  }

  // The audit entry says what was done.
  auto r = f.db->read();
  std::vector<nlohmann::json> entries;
  r.find("auditlogs", Query{{{"action", "=", std::string("retention.run")}}}, [&](const Document& d) {
    entries.push_back(d.to_json());
    return true;
  });
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["_id"]["$oid"], report.audit_id);
  EXPECT_EQ(entries[0]["outcome"], "ok");
  EXPECT_EQ(entries[0]["details"]["deleted"]["attendances"], 2);
  EXPECT_EQ(entries[0]["details"]["deleted"]["files"], 4);
  EXPECT_EQ(entries[0]["details"]["archived"]["crowdcounts"], 1);
  EXPECT_EQ(entries[0]["details"]["policy"]["auditMonths"], 24);
}

TEST(Retention, EveryChangeHasItsOplogEntry) {
  Fixture f;
  OplogTimestamp before = f.db->read().position();
  run_retention(*f.db, RetentionPolicy{}, kNow, false);
  std::map<std::string, int> ops;
  auto r = f.db->read();
  r.scan_oplog(before, r.position(), [&](OplogTimestamp, std::string_view e) {
    auto entry = decode_oplog_entry(reinterpret_cast<const uint8_t*>(e.data()), e.size(), "oplog");
    ++ops[std::string(1, entry.op) + " " + entry.collection()];
  });
  EXPECT_EQ(ops, (std::map<std::string, int>{{"d attendances", 2},
                                             {"d crowdcounts", 1},
                                             {"d auditlogs", 1},
                                             {"u attendances", 2},
                                             {"u crowdcounts", 1},
                                             {"d fs.files", 4},
                                             {"d fs.chunks", 4},
                                             {"i auditlogs", 6}}));  // 5 batch entries + retention.run
}

TEST(Retention, SecondRunFindsNothingLeftToDo) {
  Fixture f;
  run_retention(*f.db, RetentionPolicy{}, kNow, false);
  auto again = run_retention(*f.db, RetentionOptions{.now = kNow, .batch_size = 1});
  EXPECT_EQ(again.attendances_deleted + again.crowdcounts_deleted + again.auditlogs_deleted, 0);
  EXPECT_EQ(again.attendances_archived + again.crowdcounts_archived + again.files_deleted, 0);
  EXPECT_FALSE(again.audit_id.empty());
}

TEST(Retention, SmallBatchesGiveTheSameResult) {
  Fixture f;
  auto report = run_retention(*f.db, RetentionOptions{.now = kNow, .batch_size = 1});
  expect_first_run_counts(report);
}

TEST(Retention, ConfigurablePeriods) {
  Fixture f;
  RetentionPolicy policy{.attendance_months = 24, .crowd_months = 1, .audit_months = 1, .archive_after_months = 1};
  auto report = run_retention(*f.db, policy, kNow, true);
  EXPECT_EQ(report.attendances_deleted, 0);
  EXPECT_EQ(report.crowdcounts_deleted, 2);  // C1, C2
  EXPECT_EQ(report.auditlogs_deleted, 2);    // L1, L2 (L3 is a day old)
  EXPECT_EQ(report.attendances_archived, 5);  // A0..A4; A6 already was, A5 is too young
}

TEST(Retention, ZeroOrNegativeMonthsAreUsageErrors) {
  EXPECT_THROW(validate_retention_policy(RetentionPolicy{.attendance_months = 0}), Error);
  EXPECT_THROW(validate_retention_policy(RetentionPolicy{.archive_after_months = -1}), Error);
  Fixture f;
  f.db.reset();
  std::string data = "--data '" + (f.tmp.path() / "data").string() + "' ";
  auto res = run_facecrowd(data + "retention run --attendance-months 0");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("--attendance-months"), std::string::npos) << res.err;
  res = run_facecrowd(data + "retention run --audit-months=-3");
  EXPECT_EQ(res.exit_code, 2);
  EXPECT_NE(res.err.find("--audit-months"), std::string::npos) << res.err;
}

TEST(Retention, CliDryRunThenRunReportAsJson) {
  Fixture f;
  f.db.reset();
  std::string data = "--data '" + (f.tmp.path() / "data").string() + "' ";
  auto res = run_facecrowd(data + "retention run --dry-run --now 2026-06-15T12:00:00Z --json");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  auto dry = nlohmann::json::parse(res.out);
  EXPECT_EQ(dry["dryRun"], true);
  EXPECT_EQ(dry["deleted"]["attendances"], 2);
  EXPECT_EQ(dry["deleted"]["files"], 4);
  res = run_facecrowd(data + "retention run --now 2026-06-15T12:00:00Z");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_NE(res.out.find("deleted 2 attendances"), std::string::npos) << res.out;
  res = run_facecrowd(data + "audit list --action retention.run --json");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(nlohmann::json::parse(res.out).size(), 1u);
}

}  // namespace
}  // namespace facecrowd
