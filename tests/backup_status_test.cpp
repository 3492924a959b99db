// `backups status`: each check's OK/WARNING/ERROR rule, the summary line and the exit code; and
// `backups list` with the point-in-time window it shows (backup_window.h).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include "backup/backup_status.h"
#include "backup/backup_window.h"
#include "backup/catalog.h"
#include "backup/oplog_shipper.h"
#include "backup/oplog_slice.h"
#include "core/error.h"
#include "store/database.h"
#include "store/oplog_entry.h"
#include "test_support.h"

namespace facecrowd {
namespace {

const std::string kDb{kDefaultDatabase};
constexpr UnixMillis kHour = 3600000, kDay = 24 * kHour;
// 2024-01-10T03:00:00Z: "now" in the checks that do not need real time.
const UnixMillis kNow = *parse_iso8601("2024-01-10T03:00:00Z");

fs::path make_archive(const fs::path& dir, UnixMillis created, uint64_t bytes) {
  fs::create_directories(dir);
  fs::path archive = dir / archive_file_name(kDb, created);
  write_text(archive, std::string(bytes, 'x'));
  return archive;
}

// Daily 01:00 backups on each of the `days` days before kNow's day and on kNow's day.
void daily_archives(const fs::path& dir, int days, uint64_t bytes) {
  UnixMillis today_1am = kNow - 2 * kHour;
  for (int d = days; d >= 0; --d) make_archive(dir, today_1am - d * kDay, bytes);
}

const StatusCheck& check(const BackupStatus& s, const std::string& name) {
  for (const auto& c : s.checks)
    if (c.name == name) return c;
  throw std::runtime_error("no check " + name);
}

StatusOptions at_now() {
  StatusOptions o;
  o.now = kNow;
  return o;
}

TEST(BackupStatus, NoBackupIsAnError) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "backup");
  auto s = backup_status(nullptr, tmp.path() / "backup", at_now());
  EXPECT_EQ(check(s, "latest-backup").level, CheckLevel::kError);
  EXPECT_EQ(s.level, CheckLevel::kError);
  EXPECT_EQ(s.exit_code(), 2);
  EXPECT_EQ(s.summary_line().rfind("ERROR: latest-backup: no backup", 0), 0u) << s.summary_line();
}

TEST(BackupStatus, MissingBackupDirectoryIsAnErrorNamingIt) {
  TempDir tmp;
  auto s = backup_status(nullptr, tmp.path() / "nope", at_now());
  EXPECT_EQ(s.level, CheckLevel::kError);
  EXPECT_NE(check(s, "latest-backup").message.find((tmp.path() / "nope").string()), std::string::npos);
}

TEST(BackupStatus, DailyBackupsOfSteadySizeAreOk) {
  TempDir tmp;
  daily_archives(tmp.path() / "backup", 8, 1000);
  auto s = backup_status(nullptr, tmp.path() / "backup", at_now());
  EXPECT_EQ(check(s, "latest-backup").level, CheckLevel::kOk) << check(s, "latest-backup").message;
  EXPECT_NE(check(s, "latest-backup").message.find("2h0m old"), std::string::npos) << check(s, "latest-backup").message;
  EXPECT_EQ(check(s, "size").level, CheckLevel::kOk);
  EXPECT_EQ(check(s, "missing-days").level, CheckLevel::kOk) << check(s, "missing-days").message;
  EXPECT_EQ(check(s, "last-run").level, CheckLevel::kOk);
  EXPECT_EQ(check(s, "oplog-lag").level, CheckLevel::kOk);
}

TEST(BackupStatus, LatestBackupOlderThanMaxAgeIsAnError) {
  TempDir tmp;
  make_archive(tmp.path() / "backup", kNow - 26 * kHour, 1000);
  auto s = backup_status(nullptr, tmp.path() / "backup", at_now());
  EXPECT_EQ(check(s, "latest-backup").level, CheckLevel::kError);
  EXPECT_NE(check(s, "latest-backup").message.find("older than the limit of 25h0m"), std::string::npos)
      << check(s, "latest-backup").message;
  auto relaxed = at_now();
  relaxed.max_age_seconds = 27 * 3600;
  EXPECT_EQ(check(backup_status(nullptr, tmp.path() / "backup", relaxed), "latest-backup").level, CheckLevel::kOk);
}

TEST(BackupStatus, SizeFarFromTheMedianOfRecentBackupsWarns) {
  for (auto [latest, expected] : std::vector<std::pair<uint64_t, CheckLevel>>{
           {400, CheckLevel::kWarning}, {2100, CheckLevel::kWarning}, {600, CheckLevel::kOk}, {1900, CheckLevel::kOk}}) {
    TempDir tmp;
    daily_archives(tmp.path() / "backup", 5, 1000);
    // The median ignores one odd earlier backup.
    fs::resize_file(tmp.path() / "backup" / archive_file_name(kDb, kNow - 2 * kHour - 3 * kDay), 50);
    fs::resize_file(tmp.path() / "backup" / archive_file_name(kDb, kNow - 2 * kHour), latest);
    auto s = backup_status(nullptr, tmp.path() / "backup", at_now());
    EXPECT_EQ(check(s, "size").level, expected) << latest << ": " << check(s, "size").message;
    if (expected == CheckLevel::kWarning) {
      EXPECT_EQ(s.level, CheckLevel::kWarning);
      EXPECT_EQ(s.exit_code(), 1);
      EXPECT_EQ(s.summary_line().rfind("WARNING: size: ", 0), 0u) << s.summary_line();
    }
  }
}

TEST(BackupStatus, MissingDaysSinceTheFirstBackupAreListed) {
  TempDir tmp;
  fs::path dir = tmp.path() / "backup";
  UnixMillis today_1am = kNow - 2 * kHour;
  make_archive(dir, today_1am - 4 * kDay, 1000);  // 2024-01-06, the first archive
  make_archive(dir, today_1am - 2 * kDay, 1000);  // 2024-01-08
  make_archive(dir, today_1am, 1000);             // today
  auto s = backup_status(nullptr, dir, at_now());
  const auto& c = check(s, "missing-days");
  EXPECT_EQ(c.level, CheckLevel::kWarning);
  EXPECT_NE(c.message.find("2024-01-07"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("2024-01-09"), std::string::npos) << c.message;
  EXPECT_EQ(c.message.find("2024-01-05"), std::string::npos) << "days before the first archive are not missing: " << c.message;
  EXPECT_NE(c.message.find("2 of the last 7"), std::string::npos) << c.message;
}

TEST(BackupStatus, LastFailedRunIsAnErrorWithItsReason) {
  TempDir tmp;
  fs::path dir = tmp.path() / "backup";
  daily_archives(dir, 2, 1000);
  BackupCatalog catalog(dir);
  write_text(catalog.log_file(),
             R"({"start":"2024-01-09T01:00:00.000Z","db":"face-recognition","outcome":"ok"})" "\n"
             R"({"start":"2024-01-10T01:00:00.000Z","db":"face-recognition","outcome":"failed","error":"cannot write: No space left on device"})" "\n"
             R"({"start":"2024-01-10T01:05:00.000Z","db":"other-db","outcome":"ok"})" "\n");
  auto s = backup_status(nullptr, dir, at_now());
  EXPECT_EQ(check(s, "last-run").level, CheckLevel::kError);
  EXPECT_NE(check(s, "last-run").message.find("No space left"), std::string::npos) << check(s, "last-run").message;

  write_text(catalog.log_file(), R"({"start":"2024-01-10T01:00:00.000Z","db":"face-recognition","outcome":"ok"})" "\n{\"start\":\"2024-01-1");
  auto torn = backup_status(nullptr, dir, at_now());
  EXPECT_EQ(check(torn, "last-run").level, CheckLevel::kWarning) << check(torn, "last-run").message;
  EXPECT_NE(check(torn, "last-run").message.find("not JSON"), std::string::npos);
}

TEST(BackupStatus, OplogShippingLagWarnsAfterFiveMinutesAndErrsAfterAnHour) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path dir = tmp.path() / "backup";
  fs::create_directories(dir);
  {
    auto db = Database::open(data, kDb);
    auto w = db->write();
    w.insert("users", Document::from_json({{"username", "ann"}}));
    w.commit();
  }
  StatusOptions o;
  o.now = now_millis() + 10 * 60 * 1000;
  EXPECT_EQ(check(backup_status(&data, dir, o), "oplog-lag").level, CheckLevel::kWarning);
  o.now = now_millis() + 2 * kHour;
  auto late = backup_status(&data, dir, o);
  EXPECT_EQ(check(late, "oplog-lag").level, CheckLevel::kError);
  EXPECT_NE(check(late, "oplog-lag").message.find("no oplog slice shipped yet"), std::string::npos);

  ship_oplog(data, dir, {});
  auto shipped = backup_status(&data, dir, o);
  EXPECT_EQ(check(shipped, "oplog-lag").level, CheckLevel::kOk) << check(shipped, "oplog-lag").message;
}

TEST(BackupStatus, TooLittleFreeSpaceForTheNextBackupIsAnError) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir tmp;
  fs::path dir = tmp.path() / "small";
  fs::create_directories(dir);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=2m") != 0) GTEST_SKIP() << "cannot mount tmpfs";
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{dir};
  make_archive(dir, kNow - kHour, 1200 * 1024);
  auto s = backup_status(nullptr, dir, at_now());
  EXPECT_EQ(check(s, "disk-space").level, CheckLevel::kError) << check(s, "disk-space").message;
  EXPECT_NE(check(s, "disk-space").message.find("may not fit"), std::string::npos);
}

TEST(BackupStatus, BinaryPrintsSummaryFirstAndExitsWithTheLevel) {
  TempDir tmp;
  fs::path dir = tmp.path() / "backup";
  fs::create_directories(dir);
  std::string dirs = "--data " + (tmp.path() / "data").string() + " --backup-dir " + dir.string();
  auto none = run_facecrowd(dirs + " backups status");
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_EQ(none.out.rfind("ERROR: ", 0), 0u) << none.out;
  EXPECT_FALSE(fs::exists(tmp.path() / "data")) << "status must not create a data directory";

  UnixMillis now = now_millis();
  for (int d = 5; d >= 1; --d) make_archive(dir, now - d * kDay, 1000);
  make_archive(dir, now - kHour, 5000);  // five times the usual size
  auto warn = run_facecrowd(dirs + " backups status --json");
  EXPECT_EQ(warn.exit_code, 1) << warn.out << warn.err;
  auto j = nlohmann::json::parse(warn.out);
  EXPECT_EQ(j["status"], "WARNING");
  bool found = false;
  for (const auto& c : j["checks"])
    if (c["name"] == "size") found = c["status"] == "WARNING";
  EXPECT_TRUE(found) << warn.out;

  auto bad_flag = run_facecrowd(dirs + " backups status --max-age soon");
  EXPECT_EQ(bad_flag.exit_code, int(ExitCode::kUsage));
}


// ---- backups list and the point-in-time window (backup_window.h) ----

OplogTimestamp ts(uint32_t secs, uint32_t inc) { return {secs, inc}; }

fs::path make_listed_archive(const fs::path& dir, UnixMillis created, std::optional<std::pair<OplogTimestamp, OplogTimestamp>> oplog) {
  fs::create_directories(dir);
  fs::path archive = dir / archive_file_name(kDb, created);
  write_text(archive, "tar.gz bytes");
  if (oplog) {
    Manifest m;
    m.created_at = format_iso8601(created);
    m.db = kDb;
    m.collections = {"users", "attendances"};
    m.oplog_start = oplog->first;
    m.oplog_end = oplog->second;
    write_text(fs::path(archive.string() + ".manifest.json"), m.to_json().dump());
  }
  return archive;
}

// A real slice holding one note entry at `to`.
fs::path make_slice(const fs::path& dir, OplogTimestamp from, OplogTimestamp to) {
  fs::create_directories(dir);
  OplogSliceWriter w(dir, from, "face-recognition");
  Document note = Document::from_json({{"msg", "test"}});
  w.add(to, encode_oplog_entry(to, 'n', kDb + ".users", note.get()).bytes());
  return w.finish();
}

TEST(BackupsList, WindowFollowsTheSliceChainFromEachArchive) {
  TempDir tmp;
  fs::path dir = tmp.path();
  auto a = make_listed_archive(dir, 1704243600000, std::make_pair(ts(1704243600, 1), ts(1704243601, 2)));
  make_slice(dir, ts(0, 0), ts(1704243500, 1));           // before the archive, still part of the chain
  make_slice(dir, ts(1704243500, 1), ts(1704243700, 1));  // covers the archive's end
  make_slice(dir, ts(1704243700, 1), ts(1704243800, 4));
  BackupCatalog catalog(dir);
  auto w = pitr_window(catalog, catalog.archives(kDb).at(0));
  EXPECT_EQ(w.archive, a);
  EXPECT_EQ(w.start, ts(1704243600, 1));
  EXPECT_EQ(w.end, ts(1704243800, 4));
  EXPECT_EQ(w.slices.size(), 2u);
  EXPECT_FALSE(w.gap);
  EXPECT_TRUE(w.holds(ts(1704243750, 9)));
  EXPECT_FALSE(w.holds(ts(1704243599, 1)));
}

TEST(BackupsList, AGapInTheChainEndsTheWindowAndIsNamed) {
  TempDir tmp;
  fs::path dir = tmp.path();
  make_listed_archive(dir, 1704243600000, std::make_pair(ts(100, 1), ts(100, 5)));
  make_slice(dir, ts(100, 5), ts(200, 1));
  make_slice(dir, ts(300, 1), ts(400, 1));  // entries 200:1 < ts <= 300:1 are missing
  BackupCatalog catalog(dir);
  auto w = pitr_window(catalog, catalog.archives(kDb).at(0));
  EXPECT_EQ(w.end, ts(200, 1));
  ASSERT_TRUE(w.gap);
  EXPECT_NE(w.gap->find("200:1"), std::string::npos) << *w.gap;
  EXPECT_NE(w.gap->find("300:1"), std::string::npos) << *w.gap;

  // A later archive past the gap starts a second range.
  make_listed_archive(dir, 1704330000000, std::make_pair(ts(350, 1), ts(350, 2)));
  auto overall = overall_pitr_window(catalog, kDb);
  ASSERT_EQ(overall.ranges.size(), 2u);
  EXPECT_EQ(overall.ranges[0].end, ts(200, 1));
  EXPECT_EQ(overall.ranges[1].start, ts(350, 1));
  EXPECT_EQ(overall.ranges[1].end, ts(400, 1));
  EXPECT_EQ(overall.gaps.size(), 1u);

  auto base = pitr_base(catalog, kDb, ts(380, 0));
  ASSERT_TRUE(base);
  EXPECT_EQ(base->archive.manifest->oplog_start, ts(350, 1));
  EXPECT_FALSE(pitr_base(catalog, kDb, ts(250, 0))) << "250 lies in the gap";
  auto early = pitr_base(catalog, kDb, ts(150, 0));
  ASSERT_TRUE(early);
  EXPECT_EQ(early->window.slices.size(), 1u);
}

TEST(BackupsList, ADamagedSliceStopsTheWindowAndIsReported) {
  TempDir tmp;
  fs::path dir = tmp.path();
  make_listed_archive(dir, 1704243600000, std::make_pair(ts(100, 1), ts(100, 5)));
  auto bad = make_slice(dir, ts(100, 5), ts(200, 1));
  write_text(bad, "this is not gzip at all");
  make_slice(dir, ts(200, 1), ts(300, 1));
  BackupCatalog catalog(dir);
  auto w = pitr_window(catalog, catalog.archives(kDb).at(0));
  EXPECT_EQ(w.end, ts(100, 5));
  ASSERT_TRUE(w.gap);
  EXPECT_NE(w.gap->find("damaged"), std::string::npos) << *w.gap;

  auto r = run_facecrowd("--backup-dir " + dir.string() + " backups list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("damaged slice: " + bad.filename().string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gap: "), std::string::npos) << r.out;
}

TEST(BackupsList, ArchivesWithoutOrWithDamagedManifestsAreListedButGiveNoWindow) {
  TempDir tmp;
  fs::path dir = tmp.path();
  auto missing = make_listed_archive(dir, 1704243600000, std::nullopt);
  auto damaged = make_listed_archive(dir, 1704330000000, std::nullopt);
  write_text(fs::path(damaged.string() + ".manifest.json"), "{\"format\": \"facecrowd-backup\", trunc");
  BackupCatalog catalog(dir);
  EXPECT_THROW(pitr_window(catalog, catalog.archives(kDb).at(0)), Error);
  auto overall = overall_pitr_window(catalog, kDb);
  EXPECT_TRUE(overall.ranges.empty());
  ASSERT_TRUE(overall.none_reason);
  EXPECT_EQ(overall.problems.size(), 2u);

  auto r = run_facecrowd("--backup-dir " + dir.string() + " backups list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no manifest"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("damaged manifest"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("point-in-time window: none"), std::string::npos) << r.out;
}

TEST(BackupsList, JsonHasArchivesSlicesAndWindow) {
  TempDir tmp;
  fs::path dir = tmp.path();
  make_listed_archive(dir, 1704243600000, std::make_pair(ts(1704243600, 1), ts(1704243601, 2)));
  make_slice(dir, ts(0, 0), ts(1704243700, 3));
  auto r = run_facecrowd("--backup-dir " + dir.string() + " backups list --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["archives"].size(), 1u);
  EXPECT_EQ(j["archives"][0]["name"], "backup_face-recognition_20240103_010000.tar.gz");
  EXPECT_EQ(j["archives"][0]["created"], "2024-01-03T01:00:00.000Z");
  EXPECT_EQ(j["archives"][0]["oplog"]["start"], "1704243600:1");
  EXPECT_EQ(j["slices"]["count"], 1);
  EXPECT_EQ(j["slices"]["last_to"], "1704243700:3");
  ASSERT_TRUE(j["window"]["available"].get<bool>());
  EXPECT_EQ(j["window"]["ranges"][0]["start"]["ts"], "1704243600:1");
  EXPECT_EQ(j["window"]["ranges"][0]["end"]["ts"], "1704243700:3");
  EXPECT_EQ(j["window"]["ranges"][0]["end"]["time"], "2024-01-03T01:01:40.000Z");

  auto text = run_facecrowd("--backup-dir " + dir.string() + " backups list");
  EXPECT_NE(text.out.find("point-in-time window: 2024-01-03T01:00:00.000Z (1704243600:1) .. "
                          "2024-01-03T01:01:40.000Z (1704243700:3)"),
            std::string::npos)
      << text.out;
}

TEST(BackupsList, MissingBackupDirectoryIsNotFound) {
  TempDir tmp;
  auto r = run_facecrowd("--backup-dir " + (tmp.path() / "nope").string() + " backups list");
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotFound));
  EXPECT_NE(r.err.find((tmp.path() / "nope").string()), std::string::npos) << r.err;
}

}  // namespace
}  // namespace facecrowd
