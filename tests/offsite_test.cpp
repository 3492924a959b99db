// What goes off-site and how (backup/offsite/): pushes of the backup directory and the erasure ledger to a
// target, fail-closed encryption, remote retention, and verify --target, on a directory target and on S3
// (s3rver on loopback).
#include <gtest/gtest.h>

#include <functional>

#include <map>
#include <set>

#include "backup/offsite/offsite_push.h"
#include "backup/offsite/offsite_retention.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/offsite_verify.h"
#include "backup/catalog.h"
#include "backup/oplog_shipper.h"
#include "backup/targets/directory_target.h"
#include "backup/targets/s3_target.h"
#include "core/fault_file_system.h"
#include "core/files.h"
#include "core/sha256.h"
#include "random_bytes.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct Site {
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", remote = tmp.path() / "remote";
  fs::path ledger = data / "erasure-ledger.jsonl";
  Site() {
    fill(data, 20);
    push_test::back_up_write_one_more_and_ship(data, backups);
  }
  void erase(const std::string& id) {
    append_line_durably(ledger, nlohmann::json{{"person_id", id}, {"erased_at", "2026-01-01T00:00:00.000Z"},
                                               {"db", "face-recognition"}, {"attendance_policy", "remove"},
                                               {"requested_by", "dpo"}, {"file_ids", nlohmann::json::array()}}
                                        .dump());
  }
  // This site's remote directory, encrypted with a new key file.
  TargetConfig encrypted_with_new_key() {
    generate_key_file(tmp.path() / "k");
    TargetConfig config;
    config.target = remote.string();
    config.encryption = "key";
    config.key_files = {tmp.path() / "k"};
    return config;
  }
  PushResult push(BackupTarget& t, const TargetConfig& config = {}) {
    PushOptions o;
    o.ledger_file = ledger;
    return push_to_target(backups, t, config, o);
  }
  OffsiteVerifyOptions read_data_options() const {
    OffsiteVerifyOptions deep;
    deep.read_data = true;
    deep.scratch_parent = tmp.path();
    return deep;
  }
  // verify --read-data: every check passes, and a test restore ran and passed.
  void expect_read_data_verify_restores(BackupTarget& t, const KeyRing& keys) const {
    auto read = verify_target(t, &keys, read_data_options());
    EXPECT_TRUE(read.ok()) << read.to_json().dump(2);
    bool restored = false;
    for (const auto& c : read.checks) restored = restored || (c.name.rfind("test restore", 0) == 0 && c.ok);
    EXPECT_TRUE(restored) << read.to_json().dump(2);
  }
};

TEST(OffsitePush, SendsEveryArchiveSliceAndLedgerChunkOnceAndTheIndexNamesThem) {
  Site s;
  s.erase("p1");
  DirectoryTarget t(s.remote);
  auto first = s.push(t);
  // archive + manifest copy + slice + its record + ledger chunk
  EXPECT_EQ(first.uploaded.size(), 5u) << first.to_json().dump();
  auto again = s.push(t);
  EXPECT_TRUE(again.uploaded.empty()) << again.to_json().dump();
  s.erase("p2");
  auto third = s.push(t);
  ASSERT_EQ(third.uploaded.size(), 1u);
  EXPECT_EQ(third.uploaded[0], "ledger/ledger-" + std::string(16 - std::to_string(first.ledger_bytes).size(), '0') +
                                   std::to_string(first.ledger_bytes) + ".jsonl");
  OffsiteStore store(t, s.tmp.path());
  auto index = store.require_index();
  EXPECT_EQ(index.archives.size(), 1u);
  EXPECT_EQ(index.slices.size(), 1u);
  EXPECT_EQ(index.ledger.size(), 2u);
  EXPECT_EQ(index.ledger_bytes, fs::file_size(s.ledger));
  EXPECT_EQ(index.ledger_sha256, *sha256_of_file(s.ledger));
  ASSERT_TRUE(index.slices[0].record.has_value());
  for (const auto& o : {index.archives[0].object, index.slices[0].object, *index.slices[0].record}) {
    auto info = t.stat(o.key);
    ASSERT_TRUE(info) << o.key;
    EXPECT_EQ(info->sha256, o.sha256);
  }
}

// The index and a ledger chunk are written to the scratch folder only to be uploaded, then deleted, so a push
// does not fsync them (a durable write's two fsyncs cost 2-15 ms of every push, for a file no crash could
// need): a disk that fails every fsync and rename there does not stop the push, and the index it wrote is whole.
TEST(OffsitePush, WritesTheScratchCopiesOfTheIndexAndTheLedgerChunkWithoutSyncingThem) {
  Site s;
  s.erase("p1");
  DirectoryTarget t(s.remote);
  FaultFileSystem faults;
  faults.add({.op = FaultOp::kSync, .path_contains = ".offsite-tmp-", .error = EIO});
  faults.add({.op = FaultOp::kRename, .path_contains = ".offsite-tmp-", .error = EIO});
  {
    ScopedFileSystem scope(faults);
    auto pushed = s.push(t);
    EXPECT_EQ(pushed.uploaded.size(), 5u) << pushed.to_json().dump();
    EXPECT_GT(pushed.ledger_bytes, 0u);
  }
  EXPECT_EQ(faults.fired(), 0);
  OffsiteStore store(t, s.tmp.path());
  auto index = store.require_index();
  EXPECT_EQ(index.archives.size(), 1u);
  EXPECT_EQ(index.slices.size(), 1u);
  EXPECT_EQ(index.ledger_bytes, fs::file_size(s.ledger));
}

// An archive and a slice go up with the sha256 recorded when they were written (the backup's own hash of
// its archive, the slice's record), so they are read once; a file that changed since is not sent, and the
// refusal names it.
TEST(OffsitePush, AnArchiveOrSliceThatNoLongerMatchesTheSha256RecordedWhenItWasWrittenIsNotSent) {
  Site s;
  auto fresh = backup(s.data, s.backups);
  ASSERT_EQ(fresh.sha256, *sha256_of_file(fresh.archive));
  {
    DirectoryTarget t(s.remote);
    PushOptions o;
    o.archive_sha256[fresh.archive.filename().string()] = sha256_hex("not this archive");
    try {
      push_to_target(s.backups, t, {}, o);
      FAIL() << "an archive that does not match its recorded sha256 must not go off-site";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find(fresh.archive.string()), std::string::npos) << e.what();
    }
    EXPECT_FALSE(t.stat("archives/" + fresh.archive.filename().string()));
    o.archive_sha256[fresh.archive.filename().string()] = fresh.sha256;
    EXPECT_NO_THROW(push_to_target(s.backups, t, {}, o));
  }

  auto slices = BackupCatalog(s.backups).slices();
  ASSERT_FALSE(slices.empty());
  std::string bytes = read_file(slices.back().path);
  bytes[bytes.size() / 2] ^= 1;  // same size, other bytes: its record no longer matches
  write_file_durably(slices.back().path, bytes);
  DirectoryTarget other(s.tmp.path() / "remote2");
  try {
    s.push(other);
    FAIL() << "a slice that does not match its record must not go off-site";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(slices.back().path.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(other.stat("oplog/" + slices.back().path.filename().string()));
  // What went up whole before the refusal (the archive) is recorded, so the next push does not send it
  // again; the refused slice is not.
  OffsiteStore store(other, s.tmp.path());
  auto index = store.require_index();
  EXPECT_EQ(index.archives.size(), 1u);  // the newer of the day's two (remote retention keeps one a day)
  EXPECT_FALSE(index.find_slice(slices.back().path.filename().string()));
}

// An archive written by an earlier run (an `oplog ship` or a later backup sends it) is not hashed before it
// is sent either: its backup recorded its sha256 in the backup log, so it too is read once, and a copy
// damaged since is refused by name instead of going off-site under the damaged bytes' hash.
TEST(OffsitePush, AnArchiveFromAnEarlierRunGoesUpWithTheSha256ItsBackupLoggedAndIsRefusedWhenDamagedSince) {
  Site s;
  auto archives = BackupCatalog(s.backups).archives();
  ASSERT_EQ(archives.size(), 1u);
  const fs::path archive = archives[0].path;
  auto recorded = BackupCatalog(s.backups).recorded_archive_sha256();
  ASSERT_EQ(recorded.count(archive.filename().string()), 1u);
  EXPECT_EQ(recorded[archive.filename().string()], *sha256_of_file(archive));

  std::string bytes = read_file(archive);
  bytes[bytes.size() / 2] ^= 1;  // same size, other bytes
  write_file_durably(archive, bytes);
  DirectoryTarget t(s.remote);
  try {
    s.push(t);
    FAIL() << "an archive that no longer matches the sha256 its backup logged must not go off-site";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(archive.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(t.stat("archives/" + archive.filename().string()));
  // The slices went up beside it and are recorded; the index names no archive.
  ASSERT_TRUE(t.stat("index.json"));
  EXPECT_TRUE(nlohmann::json::parse(read_file(s.remote / "index.json"))["archives"].empty());

  bytes[bytes.size() / 2] ^= 1;  // repaired: it goes up, under the logged sha256
  write_file_durably(archive, bytes);
  s.push(t);
  auto stored = t.stat("archives/" + archive.filename().string());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->sha256, recorded[archive.filename().string()]);
}

// A target filled before slice records went off-site gets them at the next push, without uploading the
// slices again.
TEST(OffsitePush, ASlicePushedWithoutItsRecordGetsItAtTheNextPush) {
  Site s;
  DirectoryTarget t(s.remote);
  s.push(t);
  auto index = push_test::format1_index(s.remote);  // as a target filled then held it
  std::string record_key;
  for (auto& slice : index["slices"]) {
    record_key = slice["record"]["key"];
    slice.erase("record");
  }
  write_file_durably(s.tmp.path() / "old-index.json", index.dump());
  t.put("index.json", s.tmp.path() / "old-index.json");
  t.remove(record_key);

  auto again = s.push(t);
  EXPECT_EQ(again.uploaded, std::vector<std::string>{record_key}) << again.to_json().dump();
  OffsiteStore store(t, s.tmp.path());
  EXPECT_TRUE(store.require_index().slices.at(0).record.has_value());
}

// Regression: the local directory keeps every archive for --keep-days, the target only the newest of each
// day; each push uploaded the older archive of the day again and retention deleted it again.
TEST(OffsitePush, AnArchiveThatRemoteRetentionWouldDeleteIsNeverUploaded) {
  Site s;
  backup(s.data, s.backups);  // a second archive of the same day
  DirectoryTarget t(s.remote);
  auto first = s.push(t);
  OffsiteStore store(t, s.tmp.path());
  auto index = store.require_index();
  ASSERT_EQ(index.archives.size(), 1u);
  EXPECT_EQ(index.archives[0].name, BackupCatalog(s.backups).latest("face-recognition")->path.filename().string());
  EXPECT_TRUE(first.pruned.empty()) << first.to_json().dump();
  auto second = s.push(t);
  EXPECT_TRUE(second.uploaded.empty()) << second.to_json().dump();
  EXPECT_TRUE(second.pruned.empty()) << second.to_json().dump();
}

TEST(OffsitePush, ALocalLedgerThatDoesNotStartWithTheTargetsIsAConflictAndNothingIsOverwritten) {
  Site s;
  s.erase("p1");
  DirectoryTarget t(s.remote);
  s.push(t);
  write_text(s.ledger, "");
  s.erase("someone-else");
  s.erase("p1");
  try {
    s.push(t);
    FAIL() << "a diverging ledger must not be pushed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kConflict);
    EXPECT_NE(std::string(e.what()).find("never overwritten"), std::string::npos) << e.what();
  }
  OffsiteStore store(t, s.tmp.path());
  EXPECT_EQ(store.require_index().ledger.size(), 1u);
}

TEST(OffsitePush, AnEncryptedTargetRefusesToUploadPlaintextWhenNoKeyIsAvailable) {
  Site s;
  DirectoryTarget t(s.remote);
  TargetConfig encrypted = s.encrypted_with_new_key();
  auto first = s.push(t, encrypted);
  EXPECT_NE(first.encryption.find("key"), std::string::npos);
  for (const auto& key : first.uploaded) {
    if (key == "index.json") continue;
    EXPECT_TRUE(is_encrypted_object(s.remote / key)) << key;
  }

  // A new archive, then a run whose configuration lost its key, and one that forgot the encryption.
  backup(s.data, s.backups);
  auto before = DirectoryTarget(s.remote).list("");
  TargetConfig lost = encrypted;
  lost.key_files = {s.tmp.path() / "missing.key"};
  TargetConfig plain;
  plain.target = s.remote.string();
  for (const auto* config : {&lost, &plain}) {
    try {
      s.push(t, *config);
      FAIL() << "must refuse";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage);
      EXPECT_NE(std::string(e.what()).find("refusing to upload plaintext"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(DirectoryTarget(s.remote).list("").size(), before.size());  // nothing was uploaded
}

TEST(OffsiteVerify, FindsAMissingOrAlteredObjectAndTestRestoresWithReadData) {
  Site s;
  DirectoryTarget t(s.remote);
  TargetConfig config = s.encrypted_with_new_key();
  s.push(t, config);
  auto ok = verify_target(t, nullptr, {});
  EXPECT_TRUE(ok.ok()) << ok.to_json().dump(2);

  KeyRing keys;
  keys.add_key_file(s.tmp.path() / "k");
  const OffsiteVerifyOptions deep = s.read_data_options();
  s.expect_read_data_verify_restores(t, keys);

  // A shortened object is seen without downloading (size against the index) ...
  auto slices = t.list("oplog/");
  std::erase_if(slices, [](const ObjectInfo& o) { return o.key.ends_with(".json"); });  // the slice's record
  ASSERT_EQ(slices.size(), 1u);
  auto slice = s.remote / slices[0].key;
  const std::string bytes = read_text(slice);
  write_text(slice, bytes.substr(0, bytes.size() - 10));
  auto shortened = verify_target(t, nullptr, {});
  EXPECT_FALSE(shortened.ok());
  EXPECT_NE(shortened.to_json().dump().find(slices[0].key), std::string::npos) << shortened.to_json().dump();
  // ... a flipped bit of the same size only by reading the data (--read-data).
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 1;
  write_text(slice, flipped);
  auto deep_altered = verify_target(t, &keys, deep);
  EXPECT_FALSE(deep_altered.ok());
  EXPECT_NE(deep_altered.to_json().dump().find(slices[0].key), std::string::npos) << deep_altered.to_json().dump();
  fs::remove(slice);
  auto missing = verify_target(t, nullptr, {});
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.to_json().dump().find("missing"), std::string::npos) << missing.to_json().dump();
}

RemoteArchive archive_at(const std::string& iso, bool full = true) {
  RemoteArchive a;
  a.created = *parse_iso8601(iso);
  a.db = "face-recognition";
  a.name = "backup_face-recognition_" + format_compact(a.created) + ".tar.gz";
  for (const auto& spec : collection_specs())
    if (full || spec.name == "users") a.manifest.collections.push_back(spec.name);
  a.manifest.oplog_start = {uint32_t(a.created / 1000), 1};
  return a;
}

TEST(OffsiteRetention, KeepsThirtyDailyAndTwentyFourMonthlyAndNeverTheNewestFullBackupOrItsSlices) {
  RemoteIndex index;
  // Two archives a day for 60 days, and one a month for 30 months before that.
  for (int d = 0; d < 60; ++d)
    for (int h : {1, 13}) {
      char iso[40];
      UnixMillis t = *parse_iso8601("2026-11-29T00:00:00Z") - int64_t(d) * 86400000 + h * 3600000;
      std::snprintf(iso, sizeof iso, "%s", format_iso8601(t).c_str());
      index.archives.push_back(archive_at(iso));
    }
  for (int m = 2; m < 33; ++m) {
    int year = 2026, month = 11 - m;
    while (month < 1) month += 12, --year;
    char iso[40];
    std::snprintf(iso, sizeof iso, "%04d-%02d-15T01:00:00Z", year, month);
    index.archives.push_back(archive_at(iso));
  }
  auto plan = plan_remote_retention(index, "face-recognition", {}, *parse_iso8601("2026-11-29T20:00:00Z"));
  std::set<std::string> pruned(plan.archives.begin(), plan.archives.end());
  size_t kept = index.archives.size() - pruned.size();
  // 30 days (newest of each) + the months of the 24 not already covered by a daily one.
  std::set<std::string> months;
  for (const auto& a : index.archives)
    if (!pruned.count(a.name)) months.insert(format_iso8601(a.created).substr(0, 7));
  EXPECT_EQ(months.size(), 24u);
  EXPECT_GE(kept, 30u + 22u);
  EXPECT_FALSE(pruned.count(archive_at("2026-11-29T13:00:00Z").name));  // the newest
  EXPECT_TRUE(pruned.count(archive_at("2026-11-29T01:00:00Z").name));   // an older one of the same day
  EXPECT_TRUE(pruned.count(archive_at("2024-05-15T01:00:00Z").name));   // 30 months ago

  // A newest archive that is partial (one collection): the newest FULL one stays however old it is.
  RemoteIndex partial;
  partial.archives = {archive_at("2025-01-01T01:00:00Z"), archive_at("2026-11-29T01:00:00Z", false)};
  RemoteSlice needed{{"oplog/a", 1, "x", ""}, "a", {uint32_t(*parse_iso8601("2025-01-01T01:00:00Z") / 1000), 1},
                     {uint32_t(*parse_iso8601("2025-01-02T01:00:00Z") / 1000), 1}, 1};
  partial.slices = {needed};
  auto p = plan_remote_retention(partial, "face-recognition", {30, 0}, *parse_iso8601("2026-11-29T20:00:00Z"));
  EXPECT_TRUE(p.archives.empty());
  EXPECT_TRUE(p.slices.empty());
}

// The slices do not wait behind the archives: they go up in a lane of their own, so a slow archive upload
// (here its manifest copy is held 3 s) does not hold back the slice and its record, whose requests arrive
// before the archive's own; in one lane they came after it.
TEST(OffsitePush, TheSlicesGoUpWhileTheArchiveIsStillOnItsWay) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  Site s;
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(proxy.endpoint()));
  proxy.fault({{"delay_ms", 3000}, {"count", 1}, {"match", ".manifest.json"}});
  s.push(t);
  int archive_at = -1, slice_at = -1, record_at = -1, i = 0;
  for (const auto& r : proxy.log()) {
    const std::string line = r["method"].get<std::string>() + " " + r["url"].get<std::string>();
    if (line.rfind("PUT", 0) == 0 && line.ends_with(".tar.gz")) archive_at = i;
    if (line.rfind("PUT", 0) == 0 && line.ends_with(".bson.gz")) slice_at = i;
    if (line.rfind("PUT", 0) == 0 && line.ends_with(".bson.gz.json")) record_at = i;
    ++i;
  }
  ASSERT_GE(archive_at, 0) << proxy.log().dump();
  ASSERT_GE(slice_at, 0) << proxy.log().dump();
  EXPECT_LT(slice_at, archive_at) << proxy.log().dump();
  EXPECT_LT(record_at, archive_at) << proxy.log().dump();
  EXPECT_TRUE(verify_target(t, nullptr, {}).ok());
}

// A slice covering [from, to) of wall time (positions are seconds since the epoch, as the store's are).
RemoteSlice slice_between(UnixMillis from, UnixMillis to) {
  RemoteSlice s;
  s.from = {uint32_t(from / 1000), 1};
  s.to = {uint32_t(to / 1000), 1};
  s.name = slice_file_name(s.from, s.to);
  s.object = {slice_key(s.name), 1, std::string(64, 'a'), ""};
  return s;
}

// Two backups a day (01:00 and 13:00) for the `days` days up to 2026-11-29, one a month (the 15th) for the 30
// months before, and a slice every hour from the oldest backup on: what 60-s shipping leaves, only coarser.
RemoteIndex two_years_of_backups_and_hourly_slices(int days = 60) {
  RemoteIndex index;
  const UnixMillis day0 = *parse_iso8601("2026-11-29T00:00:00Z");
  for (int m = 32; m >= 2; --m) {
    int year = 2026, month = 11 - m;
    while (month < 1) month += 12, --year;
    char iso[40];
    std::snprintf(iso, sizeof iso, "%04d-%02d-15T01:00:00Z", year, month);
    if (*parse_iso8601(iso) < day0 - int64_t(days) * 86400000) index.archives.push_back(archive_at(iso));
  }
  for (int d = days - 1; d >= 0; --d)
    for (int h : {1, 13}) index.archives.push_back(archive_at(format_iso8601(day0 - int64_t(d) * 86400000 + h * 3600000)));
  for (UnixMillis t = index.archives.front().created; t < day0 + 20 * 3600000; t += 3600000)
    index.slices.push_back(slice_between(t, t + 3600000));
  return index;
}

std::set<std::string> kept_slices(const RemoteIndex& index, const RetentionPlan& plan) {
  std::set<std::string> pruned(plan.slices.begin(), plan.slices.end()), kept;
  for (const auto& s : index.slices)
    if (!pruned.count(s.name)) kept.insert(s.name);
  return kept;
}

// The oldest `from` of the slices kept (the start of what point-in-time recovery can reach).
UnixMillis oldest_kept_slice(const RemoteIndex& index, const RetentionPlan& plan) {
  std::set<std::string> pruned(plan.slices.begin(), plan.slices.end());
  UnixMillis oldest = INT64_MAX;
  for (const auto& s : index.slices)
    if (!pruned.count(s.name)) oldest = std::min<UnixMillis>(oldest, int64_t(s.from.secs) * 1000);
  return oldest;
}

TEST(OffsiteRetention, KeepsSlicesOnlyForThePointInTimeWindowNotForEveryMonthlyArchive) {
  const auto index = two_years_of_backups_and_hourly_slices();
  const UnixMillis now = *parse_iso8601("2026-11-29T20:00:00Z");
  auto plan = plan_remote_retention(index, "face-recognition", {30, 24, 7}, now);
  // The oldest archive kept inside the 7 days is the newest of 2026-11-23 (13:00): every slice that ends
  // after its start stays, and none before (the hour that ends at its start goes too).
  const UnixMillis window_start = *parse_iso8601("2026-11-23T13:00:00Z");
  EXPECT_EQ(oldest_kept_slice(index, plan), window_start);
  size_t expected = 0;
  for (const auto& s : index.slices) expected += int64_t(s.to.secs) * 1000 > window_start;
  EXPECT_EQ(kept_slices(index, plan).size(), expected);
  EXPECT_LT(expected, 7u * 24 + 24) << "about 7 days of hourly slices, not two and a half years of them";
  // The archives themselves are kept as before: 30 daily and 24 monthly.
  std::set<std::string> months;
  std::set<std::string> pruned(plan.archives.begin(), plan.archives.end());
  for (const auto& a : index.archives)
    if (!pruned.count(a.name)) months.insert(format_iso8601(a.created).substr(0, 7));
  EXPECT_EQ(months.size(), 24u);
}

TEST(OffsiteRetention, ThePointInTimeWindowIsItsOwnSettingAndTheThirtyDailyArchivesStayWhenItIsShorter) {
  const auto index = two_years_of_backups_and_hourly_slices();
  const UnixMillis now = *parse_iso8601("2026-11-29T20:00:00Z");
  auto one_day = plan_remote_retention(index, "face-recognition", {30, 24, 1}, now);
  EXPECT_EQ(oldest_kept_slice(index, one_day), *parse_iso8601("2026-11-29T13:00:00Z")) << "only today's, from today's newest backup";
  auto thirty = plan_remote_retention(index, "face-recognition", {30, 24, 30}, now);
  EXPECT_EQ(oldest_kept_slice(index, thirty), *parse_iso8601("2026-10-31T13:00:00Z"));
  EXPECT_EQ(one_day.archives, thirty.archives) << "the window prunes slices, never archives";
}

TEST(OffsiteRetention, TheSlicesTheNewestArchiveNeedsStayWhenNoBackupWasMadeInsideTheWindow) {
  // Backups stopped 20 days ago; shipping went on.
  auto index = two_years_of_backups_and_hourly_slices();
  const UnixMillis now = *parse_iso8601("2026-12-19T20:00:00Z");
  for (UnixMillis t = *parse_iso8601("2026-11-29T20:00:00Z"); t < now; t += 3600000) index.slices.push_back(slice_between(t, t + 3600000));
  auto plan = plan_remote_retention(index, "face-recognition", {30, 24, 7}, now);
  EXPECT_EQ(oldest_kept_slice(index, plan), *parse_iso8601("2026-11-29T13:00:00Z")) << "from the newest backup on, however old";
}

TEST(OffsiteRetention, APushOfAnotherDatabasesBackupPrunesTheSlicesByTheirOwnDatabasesArchives) {
  // The main database's two years of backups and slices, and today one backup of a test database
  // (`backup --db face-recognition-test --target`, the README's test restore backed up).
  auto index = two_years_of_backups_and_hourly_slices();
  const UnixMillis now = *parse_iso8601("2026-11-29T20:00:00Z");
  RemoteArchive test = archive_at("2026-11-29T19:00:00Z");
  test.db = "face-recognition-test";
  test.name = "backup_face-recognition-test_" + format_compact(test.created) + ".tar.gz";
  index.archives.push_back(test);
  const auto own = plan_remote_retention(index, "face-recognition", {30, 24, 7}, now);

  auto plan = plan_remote_retention(index, "face-recognition-test", {30, 24, 7}, now, "face-recognition");
  EXPECT_EQ(kept_slices(index, plan), kept_slices(index, own)) << "the main database's 7-day window stays";
  EXPECT_TRUE(plan.archives.empty()) << "and its archives are not the test database's to prune";
  // Planned by the test database's own archive (the old rule), the window shrank to an hour.
  EXPECT_LT(kept_slices(index, plan_remote_retention(index, "face-recognition-test", {30, 24, 7}, now)).size(), 3u);
}

TEST(OffsiteRetention, TheSlicesTheNewestFullArchiveNeedsStayWhateverTheWindowAndTheNewestSliceAlways) {
  // The newest full backup is 60 days old; the ones since hold one collection each.
  RemoteIndex index;
  index.archives.push_back(archive_at("2026-09-30T01:00:00Z"));
  for (int d = 50; d >= 0; --d) index.archives.push_back(archive_at(format_iso8601(*parse_iso8601("2026-11-29T01:00:00Z") - int64_t(d) * 86400000), false));
  for (UnixMillis t = *parse_iso8601("2026-09-29T00:00:00Z"); t < *parse_iso8601("2026-11-29T10:00:00Z"); t += 3600000)
    index.slices.push_back(slice_between(t, t + 3600000));
  auto plan = plan_remote_retention(index, "face-recognition", {30, 24, 1}, *parse_iso8601("2026-11-29T20:00:00Z"));
  EXPECT_EQ(oldest_kept_slice(index, plan), *parse_iso8601("2026-09-30T01:00:00Z"));
  std::set<std::string> pruned_archives(plan.archives.begin(), plan.archives.end());
  EXPECT_FALSE(pruned_archives.count(index.archives.front().name));

  // A target whose only archive is older than every slice (shipping went on after backups stopped, and
  // the slices before were pruned): the newest slice is the shipped position and stays.
  RemoteIndex stale;
  stale.archives = {archive_at("2026-11-01T01:00:00Z")};
  stale.slices = {slice_between(*parse_iso8601("2026-10-01T00:00:00Z"), *parse_iso8601("2026-10-01T01:00:00Z")),
                  slice_between(*parse_iso8601("2026-10-01T01:00:00Z"), *parse_iso8601("2026-10-01T02:00:00Z"))};
  auto p = plan_remote_retention(stale, "face-recognition", {30, 24, 7}, *parse_iso8601("2026-11-29T20:00:00Z"));
  EXPECT_EQ(p.slices, std::vector<std::string>{stale.slices.front().name});
}

// The fixed cost of a push: the index is read with one request (a missing one is the download's 404, not a
// lookup first), a push that changes nothing writes nothing, and the requests of a push go over kept-alive
// connections instead of a new one each: at most two, one for each sending lane (the archives, and the
// slices with the ledger), each lane's requests on one connection.
TEST(OffsitePush, AnS3PushReadsTheIndexInOneRequestAndSendsEverythingOverAtMostTwoConnections) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  Site s;
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(proxy.endpoint()));
  auto first = s.push(t);
  ASSERT_EQ(first.uploaded.size(), 4u) << first.to_json().dump();
  auto log = proxy.log();
  std::set<int> connections;
  int index_requests = 0;
  for (const auto& r : log) {
    connections.insert(r["connection"].get<int>());
    if (r["url"].get<std::string>().find("index.json") != std::string::npos) ++index_requests;
  }
  // A push that sends an archive reads index.json again before it writes it (backup/offsite/writer_fence.h:
  // a take-over during its minutes must not be written over); a push of slices alone does not.
  EXPECT_EQ(index_requests, 3) << "one GET (404: no index yet), the GET again before the PUT (still 404), and one PUT: " << log.dump();
  EXPECT_EQ(log.size(), 11u) << "the index's GET, GET again and PUT, the three listings that find no lost index's objects, "
                                "the four objects and the slice segment: " << log.dump();
  EXPECT_LE(connections.size(), 2u) << log.dump();
  std::map<std::string, std::set<int>> lane_connections;  // "archives/" or "oplog/" -> connections used
  for (const auto& r : log)
    for (const char* lane : {"/archives/", "/oplog/"})
      if (r["url"].get<std::string>().find(lane) != std::string::npos) lane_connections[lane].insert(r["connection"].get<int>());
  EXPECT_EQ(lane_connections["/archives/"].size(), 1u) << log.dump();
  EXPECT_EQ(lane_connections["/oplog/"].size(), 1u) << log.dump();

  auto again = s.push(t);
  EXPECT_TRUE(again.uploaded.empty());
  auto second = proxy.log();
  ASSERT_EQ(second.size(), log.size() + 1) << "a push with nothing new only reads the index: " << second.dump();
  EXPECT_EQ(second.back()["method"], "GET");
}

TEST(OffsitePush, AnS3TargetTakesTheSamePushAndVerify) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  Site s;
  s.erase("p1");
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(server.endpoint()));
  auto r = s.push(t);
  EXPECT_EQ(r.uploaded.size(), 5u) << r.to_json().dump();
  auto report = verify_target(t, nullptr, {});
  EXPECT_TRUE(report.ok()) << report.to_json().dump(2);
}

// An encrypted push to S3 sends each object in one pass: the object carries no x-amz-meta-sha256, so its
// sha256 lives in the index (with its ETag). verify --target checks size and ETag without a key, --read-data
// downloads every object, checks it against the index's sha256, decrypts and test-restores it; a replaced
// object is found by its ETag, a byte changed in the stored object by --read-data, and a restore (the
// download) refuses that object by name.
TEST(OffsiteVerify, AnS3TargetEncryptedInOnePassIsVerifiedThroughTheIndexAndRestoresAndAChangedObjectIsFound) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  Site s;
  s.erase("p1");
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(server.endpoint()));
  TargetConfig config = s.encrypted_with_new_key();
  config.target = t.url();
  auto pushed = s.push(t, config);
  ASSERT_EQ(pushed.uploaded.size(), 5u) << pushed.to_json().dump();
  OffsiteStore store(t, s.tmp.path());
  RemoteIndex index = store.require_index();
  ASSERT_EQ(index.slices.size(), 1u);
  const RemoteObject slice = index.slices[0].object;
  EXPECT_FALSE(slice.key_id.empty());
  EXPECT_FALSE(slice.etag.empty());
  EXPECT_EQ(t.stat(slice.key)->sha256, "") << "the sha256 was not known when the upload started";
  auto ok = verify_target(t, nullptr, {});
  EXPECT_TRUE(ok.ok()) << ok.to_json().dump(2);

  KeyRing keys;
  keys.add_key_file(s.tmp.path() / "k");
  store.authenticate_index(index, &keys, {});
  const OffsiteVerifyOptions deep = s.read_data_options();
  s.expect_read_data_verify_restores(t, keys);

  // A byte changed in the stored object (on the server's disk, behind S3's back): --read-data finds it, and
  // a download refuses it by name, leaving nothing.
  const fs::path stored = server.store() / "facecrowd-test" / "site" / "oplog" / (fs::path(slice.key).filename().string() + "._S3rver_object");
  ASSERT_TRUE(fs::exists(stored)) << stored;
  const std::string bytes = read_text(stored);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 1;
  write_text(stored, flipped);
  auto deep_altered = verify_target(t, &keys, deep);
  EXPECT_FALSE(deep_altered.ok());
  EXPECT_NE(deep_altered.to_json().dump().find(slice.key), std::string::npos) << deep_altered.to_json().dump();
  try {
    store.download(slice, s.tmp.path() / "slice", &keys);
    FAIL() << "a damaged object must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(slice.key), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(s.tmp.path() / "slice"));
  write_text(stored, bytes);

  // Another object of the same size put in its place: seen without downloading, by its ETag.
  const fs::path other = s.tmp.path() / "other";
  write_text(other, random_bytes(size_t(slice.size - 138)));  // a 121-byte header and one chunk of 17 more
  auto replacement = keys.seal_for_upload(other, "");
  ASSERT_EQ(replacement->size(), slice.size);
  t.put(slice.key, *replacement);
  auto replaced = verify_target(t, nullptr, {});
  EXPECT_FALSE(replaced.ok());
  EXPECT_NE(replaced.to_json().dump().find(slice.key + ": ETag"), std::string::npos) << replaced.to_json().dump();
}

// Every object of an encrypted push to S3 goes up in one PUT, and the index records the MD5 that its ETag
// was checked against instead of a sha256 of the sealed bytes (none is computed: crypto/sealed_upload.cpp);
// downloads check that MD5 as the bytes arrive and refuse an object that does not match it. An index
// written before, whose entries hold the sha256 of the stored bytes and no MD5, is still verified,
// test-restored and checked by those sha256s.
TEST(OffsiteVerify, AnEncryptedS3PushRecordsEachObjectsMd5AndEntriesThatRecordedASha256BeforeAreStillCheckedByIt) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  Site s;
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(server.endpoint()));
  TargetConfig config = s.encrypted_with_new_key();
  config.target = t.url();
  s.push(t, config);
  OffsiteStore store(t, s.tmp.path());
  RemoteIndex index = store.require_index();
  auto each_object = [&](const std::function<void(RemoteObject&)>& fn) {
    for (auto& a : index.archives) fn(a.object), fn(a.manifest_object);
    for (auto& sl : index.slices) {
      fn(sl.object);
      if (sl.record) fn(*sl.record);
    }
    for (auto& c : index.ledger) fn(c.object);
  };
  int objects = 0;
  each_object([&](RemoteObject& o) {
    ++objects;
    EXPECT_FALSE(o.key_id.empty()) << o.key;
    EXPECT_EQ(o.sha256, "") << o.key;
    EXPECT_EQ(o.md5.size(), 32u) << o.key;
    EXPECT_EQ(o.md5, o.etag) << o.key;
  });
  EXPECT_GE(objects, 4);
  KeyRing keys;
  keys.add_key_file(s.tmp.path() / "k");
  store.authenticate_index(index, &keys, {});
  s.expect_read_data_verify_restores(t, keys);

  const fs::path dest = s.tmp.path() / "slice";
  auto expect_refused = [&](const RemoteObject& o, const std::string& digest) {
    try {
      store.download(o, dest, &keys);
      FAIL() << "an object that does not match its recorded " << digest << " must be refused";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find(o.key), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(digest), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dest));
  };
  RemoteObject wrong_md5 = index.slices.at(0).object;
  wrong_md5.md5 = md5_hex("other bytes");
  expect_refused(wrong_md5, "MD5");

  // The index as an earlier version wrote it: the sha256 of each stored object, no MD5.
  each_object([&](RemoteObject& o) {
    o.sha256 = t.get(o.key, s.tmp.path() / "fetched").sha256;
    o.md5.clear();
  });
  fs::remove(s.tmp.path() / "fetched");
  store.write_index(index, &keys);
  auto ok = verify_target(t, nullptr, {});
  EXPECT_TRUE(ok.ok()) << ok.to_json().dump(2);
  s.expect_read_data_verify_restores(t, keys);
  RemoteObject wrong_sha = store.require_index().slices.at(0).object;
  store.authenticate_index(index, &keys, {});
  ASSERT_EQ(wrong_sha.md5, "");
  wrong_sha.sha256 = sha256_hex("other bytes");
  expect_refused(wrong_sha, "sha256");
}

}  // namespace
}  // namespace facecrowd
