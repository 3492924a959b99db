// Issue 9 item 4: a retention run killed mid-way deleted thousands of attendances with no audit entry,
// and the rerun's entry under-reported the total. Every committed batch now carries its own audit entry
// in the same transaction, so the entries add up to what was deleted whatever happened to the run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/records/audit.h"
#include "app/records/retention.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr UnixMillis kNow = 1767225600000;                          // 2026-01-01
constexpr UnixMillis kOld = kNow - 2LL * 365 * 24 * 3600 * 1000;    // older than 12 months

struct Killed {};  // what the "kill" throws out of the run, after a batch committed

// Sum of `deleted` over every retention audit entry about `collection` (batch entries of every run).
int64_t audited_deletions(Database& db, const std::string& collection) {
  auto tx = db.read();
  int64_t sum = 0;
  for (const auto& e : list_audit(tx, AuditQuery{.limit = -1})) {
    auto j = e.to_json();
    if ((j["action"] == "retention.batch" || j["action"] == "audit.checkpoint") &&
        j["details"]["collection"] == collection)
      sum += j["details"].value("deleted", int64_t(0));
  }
  return sum;
}

TEST(RetentionBatches, ARunKilledAfterSomeBatchesLeavesAnAuditEntryForEachCommittedBatch) {
  TempDir tmp;
  auto db = Database::open(DataDir::open(tmp.path() / "data"), "face-recognition");
  {
    auto tx = db->write();
    for (int k = 0; k < 23; ++k)
      tx.insert("attendances", Document::from_json({{"session", "s"}, {"timestamp", {{"$date", kOld + k}}}}));
    tx.commit();
  }
  RetentionOptions options;
  options.now = kNow;
  options.batch_size = 5;
  int batches = 0;
  options.progress = [&](const std::string& stage, int64_t, int64_t) {
    if (stage == "deleting attendances" && ++batches == 2) throw Killed{};  // dies after the 2nd commit
  };
  EXPECT_THROW(run_retention(*db, options), Killed);
  EXPECT_EQ(db->read().count("attendances"), 13);            // two batches of 5 are gone...
  EXPECT_EQ(audited_deletions(*db, "attendances"), 10);      // ...and each left its entry

  options.progress = nullptr;
  auto rerun = run_retention(*db, options);
  EXPECT_EQ(rerun.attendances_deleted, 13);
  EXPECT_EQ(db->read().count("attendances"), 0);
  EXPECT_EQ(audited_deletions(*db, "attendances"), 23);      // the whole truth, across both runs
}

TEST(RetentionBatches, EachBatchEntryNamesItsRunAndTheRunEntryTheSameRun) {
  TempDir tmp;
  auto db = Database::open(DataDir::open(tmp.path() / "data"), "face-recognition");
  {
    auto tx = db->write();
    for (int k = 0; k < 4; ++k)
      tx.insert("crowdcounts", Document::from_json({{"location", "gate"}, {"timestamp", {{"$date", kOld + k}}}}));
    tx.commit();
  }
  RetentionOptions options;
  options.now = kNow;
  options.batch_size = 3;
  auto report = run_retention(*db, options);
  auto tx = db->read();
  std::set<std::string> runs;
  int batch_entries = 0;
  for (const auto& e : list_audit(tx, AuditQuery{.limit = -1})) {
    auto j = e.to_json();
    if (j["action"] == "retention.batch") {
      ++batch_entries;
      runs.insert(j["details"]["run"].get<std::string>());
    }
    if (j["action"] == "retention.run") {
      runs.insert(j["details"]["run"].get<std::string>());
      EXPECT_EQ(j["details"]["deleted"]["crowdcounts"], 4);
    }
  }
  EXPECT_EQ(batch_entries, 2);
  EXPECT_EQ(runs.size(), 1u);
  EXPECT_EQ(report.crowdcounts_deleted, 4);
}

}  // namespace
}  // namespace facecrowd
