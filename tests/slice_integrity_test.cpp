// Shipped oplog slices carry their own integrity (backup/slice_integrity.h): a slice that was emptied,
// shortened or changed after shipping is refused by point-in-time restore (naming it), reported as ERROR
// by `backups status` and as FAILED by verify, while slices shipped before records existed keep working.
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "app/recovery/offsite_restore.h"
#include "backup/backup_status.h"
#include "backup/offsite/offsite_push.h"
#include "backup/oplog_shipper.h"
#include "backup/oplog_slice.h"
#include "backup/slice_integrity.h"
#include "backup/targets/directory_target.h"
#include "backup/verify.h"
#include "core/files.h"
#include "core/sha256.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

OplogTimestamp after(OplogTimestamp ts) { return {ts.secs, ts.inc + 1}; }

// A backup, then 8 changes shipped as one slice by the real shipper, then 2 more in a second slice.
struct Shipped {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  BackupResult first;
  OplogTimestamp last;   // the last change of the first slice
  OplogTimestamp final;  // the last change of all
  Snapshot expected;     // the state after every change
  Snapshot at_last;      // the state after the first slice's changes
  fs::path slice, second;

  Shipped() {
    fill(data, 3);
    first = backup(data, backups);
    ship_changes(0, 0);  // the entries before the changes, in a slice of their own
    slice = ship_changes(0, 8);
    last = final;
    at_last = snapshot(data, "face-recognition");
    second = ship_changes(8, 2);
    expected = snapshot(data, "face-recognition");
  }

  fs::path ship_changes(int from, int n) {
    {
      auto db = Database::open(DataDir::open(data), "face-recognition");
      for (int i = from; i < from + n; ++i) {
        auto w = db->write();
        w.insert("users", Document::from_json({{"_id", "late" + std::to_string(i)}, {"username", "late" + std::to_string(i)}}));
        w.commit();
        final = w.last_position();
      }
    }
    ShipOptions o;
    o.keep_live_seconds = 0;
    auto r = ship_oplog(DataDir::open(data), backups, o);
    EXPECT_EQ(r.slices.size(), 1u) << r.summary();
    if (n > 0) {
      EXPECT_EQ(r.entries, n) << r.summary();
    }
    return r.slices.empty() ? fs::path() : r.slices.front();
  }

  // Rewrites `path` (keeping its name) to hold only the entries whose 1-based index is in `keep`.
  void rewrite(const fs::path& path, std::set<int> keep) {
    std::vector<std::pair<OplogTimestamp, std::string>> entries;
    read_oplog_slice(path, [&](std::string_view e) {
      entries.push_back({decode_oplog_entry(reinterpret_cast<const uint8_t*>(e.data()), e.size(), "e").ts, std::string(e)});
    });
    ASSERT_EQ(entries.size(), 8u);
    TempDir scratch;
    OplogTimestamp from;
    for (const auto& info : BackupCatalog(backups).slices())
      if (info.path == path) from = info.from;
    OplogSliceWriter w(scratch.path(), from, "face-recognition");
    for (int i = 1; i <= 8; ++i)
      if (keep.count(i)) w.add(entries[size_t(i - 1)].first, entries[size_t(i - 1)].second);
    fs::rename(w.finish(), path);  // the name still claims the whole range
  }

  RestoreResult restore_until(OplogTimestamp until, const std::string& db) {
    RestoreOptions o;
    o.backup_dir = backups;
    o.db = db;
    o.until = until;
    return restore_backup(data, first.archive.string(), o);
  }
  CommandResult cli(const std::string& args) {
    return run_facecrowd("--data '" + data.string() + "' --backup-dir '" + backups.string() + "' " + args);
  }
};

TEST(SliceIntegrity, ShippingWritesARecordWithTheEntryCountAndChecksum) {
  Shipped s;
  auto record = read_slice_record(slice_record_path(s.slice));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->entries, 8);
  EXPECT_EQ(record->bytes, fs::file_size(s.slice));
  EXPECT_EQ(record->sha256, *sha256_of_file(s.slice));
  auto second = read_slice_record(slice_record_path(s.second));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->previous_sha256, record->sha256) << "each slice names the one it follows";
  for (const auto& c : check_slices(BackupCatalog(s.backups).slices())) EXPECT_TRUE(c.ok) << c.detail();
  // An intact chain still restores every change.
  s.restore_until(after(s.final), "intact");
  EXPECT_EQ(snapshot(s.data, "intact"), s.expected);
}

TEST(SliceIntegrity, AnEmptiedSliceIsRefusedByPointInTimeRestoreNamingIt) {
  Shipped s;
  std::ofstream(s.slice, std::ios::trunc).close();
  expect_error([&] { s.restore_until(after(s.final), "x"); }, ExitCode::kBadInput,
               {s.slice.filename().string(), "silently drop changes"});
  EXPECT_FALSE(DataDir::open(s.data).database_exists("x"));
  auto cli = s.cli("restore '" + s.first.archive.string() + "' --db y --until " + after(s.final).to_string());
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
  EXPECT_NE(cli.err.find(s.slice.filename().string()), std::string::npos) << cli.err;
}

TEST(SliceIntegrity, ASliceRewrittenToHoldThreeOfItsEightEntriesIsRefused) {
  Shipped s;
  s.rewrite(s.slice, {1, 2, 8});  // the last entry kept: the name's range still looks covered
  expect_error([&] { s.restore_until(after(s.last), "x"); }, ExitCode::kBadInput,
               {s.slice.filename().string(), "3 entries", "8"});
  auto cli = s.cli("restore '" + s.first.archive.string() + "' --db y --until " + after(s.last).to_string());
  EXPECT_EQ(cli.exit_code, 3) << cli.out << cli.err;
}

TEST(SliceIntegrity, RecoveryToAPointBeforeTheBrokenSliceStillWorks) {
  Shipped s;
  std::ofstream(s.second, std::ios::trunc).close();
  s.restore_until(after(s.last), "before");
  EXPECT_EQ(snapshot(s.data, "before"), s.at_last);
}

TEST(SliceIntegrity, BackupsStatusReportsABrokenSliceAsError) {
  Shipped s;
  auto ok = backup_status(nullptr, s.backups, StatusOptions{});
  for (const auto& c : ok.checks)
    if (c.name == "oplog-slices") {
      EXPECT_EQ(c.level, CheckLevel::kOk) << c.message;
    }
  std::ofstream(s.slice, std::ios::trunc).close();
  auto status = backup_status(nullptr, s.backups, StatusOptions{});
  EXPECT_EQ(status.level, CheckLevel::kError);
  bool named = false;
  for (const auto& c : status.checks)
    if (c.name == "oplog-slices") {
      EXPECT_EQ(c.level, CheckLevel::kError);
      named = c.message.find(s.slice.filename().string()) != std::string::npos;
    }
  EXPECT_TRUE(named) << status.summary_line();
  EXPECT_EQ(s.cli("backups status").exit_code, 2);
}

TEST(SliceIntegrity, VerifyChecksTheSlicesThatContinueTheBackup) {
  Shipped s;
  VerifyOptions o;
  o.backup_dir = s.backups;
  EXPECT_TRUE(verify_backup(s.first.archive.string(), o).ok());
  s.rewrite(s.slice, {1, 2, 8});
  auto report = verify_backup(s.first.archive.string(), o);
  EXPECT_FALSE(report.ok());
  bool named = false;
  for (const auto& c : report.checks)
    if (c.name == "oplog slices") named = !c.ok && c.detail.find(s.slice.filename().string()) != std::string::npos;
  EXPECT_TRUE(named) << report.to_json().dump(2);
  EXPECT_EQ(s.cli("verify '" + s.first.archive.string() + "'").exit_code, 3);
}

TEST(SliceIntegrity, ASliceWhoseRecordWentMissingAfterRecordsExistIsBroken) {
  Shipped s;
  fs::remove(slice_record_path(s.second));
  expect_error([&] { s.restore_until(after(s.final), "x"); }, ExitCode::kBadInput,
               {s.second.filename().string(), "record"});
}

TEST(SliceIntegrity, RewritingASliceTogetherWithItsRecordBreaksTheNextSlicesLink) {
  Shipped s;
  s.rewrite(s.slice, {1, 2, 8});
  SliceRecord forged{*read_slice_record(slice_record_path(s.slice))};
  forged.entries = 3;
  forged.bytes = fs::file_size(s.slice);
  forged.sha256 = *sha256_of_file(s.slice);
  write_slice_record(slice_record_path(s.slice), forged);
  expect_error([&] { s.restore_until(after(s.final), "x"); }, ExitCode::kBadInput, {s.second.filename().string()});
}

TEST(SliceIntegrity, LegacySlicesWithoutRecordsStillRestoreAndSaySo) {
  Shipped s;
  for (const auto& info : BackupCatalog(s.backups).slices()) fs::remove(slice_record_path(info.path));
  s.restore_until(after(s.final), "legacy");
  EXPECT_EQ(snapshot(s.data, "legacy"), s.expected);
  auto status = backup_status(nullptr, s.backups, StatusOptions{});
  for (const auto& c : status.checks)
    if (c.name == "oplog-slices") {
      EXPECT_EQ(c.level, CheckLevel::kOk) << c.message;
      EXPECT_NE(c.message.find("legacy"), std::string::npos) << c.message;
    }
  // Even without a record, a legacy slice that lost its last entries is caught by its own name.
  s.rewrite(s.slice, {1, 2, 3});
  expect_error([&] { s.restore_until(after(s.final), "x"); }, ExitCode::kBadInput, {s.slice.filename().string()});
}

// The records go off-site with the slices and come back beside them, so a restore from the bucket alone
// checks entry counts and links as a local one does. Regression: the push sent only the slices, every
// fetched slice was checked as legacy, and a slice shortened in the bucket (its index entry rewritten to
// match) was replayed without its missing changes.
TEST(SliceIntegrity, ASliceShortenedInTheBucketIsRefusedByARestoreFromTheBucket) {
  Shipped s;
  const fs::path remote = s.tmp.path() / "remote";
  DirectoryTarget target(remote);
  push_to_target(s.backups, target, {}, {});
  const std::string name = s.slice.filename().string();
  ASSERT_TRUE(fs::exists(remote / "oplog" / (name + ".json"))) << "the record is uploaded with the slice";

  s.rewrite(s.slice, {1, 2, 8});  // an attacker with write access to the bucket keeps the last entry
  target.put("oplog/" + name, s.slice);
  auto index = push_test::format1_index(remote);
  for (auto& slice : index["slices"])
    if (slice["name"] == name) {
      slice["object"]["size"] = fs::file_size(s.slice);
      slice["object"]["sha256"] = *sha256_of_file(s.slice);
    }
  write_file_durably(s.tmp.path() / "index.json", index.dump());
  target.put("index.json", s.tmp.path() / "index.json");

  OffsiteRestoreOptions o;
  o.target = remote.string();
  o.restore.backup_dir = s.tmp.path() / "fresh-backup";
  o.restore.db = "face-recognition";
  const fs::path fresh = s.tmp.path() / "fresh-data";
  expect_error([&] { restore_from_target(fresh, "latest", o); }, ExitCode::kBadInput, {name, "3 entries", "8"});
  EXPECT_FALSE(fs::exists(fresh) && DataDir::open(fresh).database_exists("face-recognition"));
}

}  // namespace
}  // namespace facecrowd
