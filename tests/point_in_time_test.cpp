// Point-in-time recovery: a backup, then an insert, an update and a delete shipped as oplog slices;
// restores with --until at each point reproduce exactly the state at that point.
#include <nlohmann/json.hpp>

#include "backup/oplog_slice.h"
#include "backup/point_in_time.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

OplogTimestamp after(OplogTimestamp ts) { return {ts.secs, ts.inc + 1}; }

struct History {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  BackupResult first;
  OplogTimestamp t1, t2, t3;            // the insert, the update, the delete
  Snapshot s0, s1, s2, s3;              // the state at the backup and after each change
  fs::path slice1, slice2;

  History() {
    fill(data, 10);
    first = backup(data, backups);
    s0 = snapshot(data, "face-recognition");
    auto db = Database::open(DataDir::open(data), "face-recognition");
    {
      auto w = db->write();
      w.insert("users", Document::from_json({{"_id", "x1"}, {"username", "newcomer"}}));
      w.commit();
      t1 = w.last_position();
    }
    s1 = snapshot(data, "face-recognition");
    {
      auto w = db->write();
      w.replace("users", Document::from_json({{"_id", "u2"}, {"username", "user2"}, {"email", "changed@example.org"}}));
      w.commit();
      t2 = w.last_position();
    }
    s2 = snapshot(data, "face-recognition");
    {
      auto w = db->write();
      EXPECT_TRUE(w.remove("users", "u3"));
      w.commit();
      t3 = w.last_position();
    }
    s3 = snapshot(data, "face-recognition");
    // Slice 1 overlaps the archive (it starts at 0-0); slice 2 continues it.
    slice1 = ship(*db, {}, t2);
    slice2 = ship(*db, t2, t3);
  }

  fs::path ship(Database& db, OplogTimestamp from, OplogTimestamp to) {
    OplogSliceWriter writer(backups, from, "face-recognition");
    db.read().scan_oplog(from, to, [&](OplogTimestamp ts, std::string_view e) { writer.add(ts, e); });
    return writer.finish();
  }

  RestoreResult restore_until(OplogTimestamp until, const std::string& db, const std::string& input = "") {
    RestoreOptions o;
    o.backup_dir = backups;
    o.db = db;
    o.until = until;
    return restore_backup(data, input.empty() ? first.archive.string() : input, o);
  }
};

TEST(PointInTime, EachLimitReproducesTheExactStateBeforeIt) {
  History h;
  struct Case {
    OplogTimestamp until;
    const Snapshot* expected;
    int64_t replayed;
  };
  std::vector<Case> cases = {{h.t1, &h.s0, 0}, {after(h.t1), &h.s1, 1}, {h.t2, &h.s1, 1},
                             {after(h.t2), &h.s2, 2}, {after(h.t3), &h.s3, 3}};
  int i = 0;
  for (const auto& c : cases) {
    std::string db = "pitr-" + std::to_string(i++);
    auto result = h.restore_until(c.until, db);
    EXPECT_EQ(result.oplog_replayed, c.replayed) << c.until.to_string();
    EXPECT_EQ(snapshot(h.data, db), *c.expected) << "--until " << c.until.to_string();
  }
  EXPECT_EQ(snapshot(h.data, "face-recognition"), h.s3);  // the live database was never touched
}

TEST(PointInTime, RecoveringTheLiveDatabaseContinuesItsOplogPosition) {
  History h;
  RestoreOptions o;
  o.backup_dir = h.backups;
  o.until = after(h.t1);
  o.drop = true;
  auto result = restore_backup(h.data, h.first.archive.string(), o);
  EXPECT_EQ(snapshot(h.data, "face-recognition"), h.s1);
  EXPECT_GT(result.position, h.t3);
  auto db = Database::open(DataDir::open(h.data), "face-recognition");
  auto w = db->write();
  w.insert("users", Document::from_json({{"username", "later"}}));
  EXPECT_GT(w.last_position(), h.t3) << "later shipping must stay monotonic";
}

TEST(PointInTime, LimitOutsideTheWindowIsRefusedNamingIt) {
  History h;
  auto start = h.first.manifest.oplog_start;
  std::string iso_start = format_iso8601(int64_t(start.secs) * 1000);
  expect_error([&] { h.restore_until(start, "x"); }, ExitCode::kUsage,
               {"outside the window", start.to_string(), iso_start, h.t3.to_string()});
  expect_error([&] { h.restore_until({h.t3.secs, h.t3.inc + 2}, "x"); }, ExitCode::kUsage,
               {"outside the window", h.t3.to_string()});
  EXPECT_FALSE(DataDir::open(h.data).database_exists("x"));
  // The CLI, with an ISO time.
  auto cli = run_facecrowd("--data '" + h.data.string() + "' --backup-dir '" + h.backups.string() + "' restore '" +
                           h.first.archive.string() + "' --db x --until " + iso_start);
  EXPECT_EQ(cli.exit_code, int(ExitCode::kUsage)) << cli.err;
  EXPECT_NE(cli.err.find("outside the window"), std::string::npos) << cli.err;
  EXPECT_NE(cli.err.find(iso_start), std::string::npos) << cli.err;
}

// An --until past everything shipped was refused naming only the window (exit 2), leaving the operator to
// work out which limit would do. The refusal names the newest recovery point, the --until that restores to
// it and why nothing later is there; that --until then restores the newest state.
TEST(PointInTime, AnUntilPastTheShippedOplogNamesTheNewestRecoveryPointAndTheUntilThatReachesIt) {
  History h;
  const OplogTimestamp newest_limit = after(h.t3);
  expect_error([&] { h.restore_until({h.t3.secs + 3600, 0}, "x"); }, ExitCode::kUsage,
               {"outside the window", "newest recovery point is " + oplog_position_text(h.t3),
                "--until " + newest_limit.to_string(), "facecrowd oplog ship"});
  EXPECT_FALSE(DataDir::open(h.data).database_exists("x"));
  h.restore_until(newest_limit, "newest");
  EXPECT_EQ(snapshot(h.data, "newest"), h.s3);
}

TEST(PointInTime, AGapInTheShippedSlicesEndsTheWindow) {
  History h;
  fs::remove(h.slice1);
  expect_error([&] { h.restore_until(after(h.t1), "x"); }, ExitCode::kUsage,
               {"outside the window", h.first.manifest.oplog_end.to_string()});
}

TEST(PointInTime, LatestChoosesTheNewestBackupBeforeTheLimit) {
  History h;
  auto second = backup(h.data, h.backups);
  auto early = h.restore_until(after(h.t1), "early", "latest");
  EXPECT_EQ(early.source, h.first.archive);
  EXPECT_EQ(snapshot(h.data, "early"), h.s1);
  auto late = h.restore_until(after(h.t3), "late", "latest");
  EXPECT_EQ(late.source, second.archive);
  EXPECT_EQ(snapshot(h.data, "late"), h.s3);
}

TEST(PointInTime, DryRunCountsTheEntriesItWouldReplay) {
  History h;
  RestoreOptions o;
  o.backup_dir = h.backups;
  o.until = after(h.t3);
  o.dry_run = true;
  o.db = "never";
  auto result = restore_backup(h.data, h.first.archive.string(), o);
  EXPECT_EQ(result.oplog_replayed, 3);
  EXPECT_EQ(result.window_reach, h.t3);
  EXPECT_EQ(result.slices_used.size(), 2u);
  EXPECT_FALSE(DataDir::open(h.data).database_exists("never"));
}

TEST(PointInTime, CliReportsTheReplay) {
  History h;
  auto cli = run_facecrowd("--data '" + h.data.string() + "' --backup-dir '" + h.backups.string() + "' restore '" +
                           h.first.archive.string() + "' --db cli --until " + after(h.t2).to_string() + " --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  auto json = nlohmann::json::parse(cli.out);
  EXPECT_EQ(json["point_in_time"]["replayed"], 2);
  EXPECT_EQ(snapshot(h.data, "cli"), h.s2);
}

TEST(PointInTime, ParseUntilAcceptsSecsIncAndIso) {
  EXPECT_EQ(parse_until("1704240000:5"), (OplogTimestamp{1704240000, 5}));
  EXPECT_EQ(parse_until("1704240000-5"), (OplogTimestamp{1704240000, 5}));
  EXPECT_EQ(parse_until("2024-01-03T00:00:00Z"), (OplogTimestamp{1704240000, 0}));
  EXPECT_EQ(parse_until("2024-01-03T01:00:00+01:00"), (OplogTimestamp{1704240000, 0}));
  expect_error([] { parse_until("yesterday"); }, ExitCode::kUsage, {"yesterday", "SECS:INC"});
}

}  // namespace
}  // namespace facecrowd
