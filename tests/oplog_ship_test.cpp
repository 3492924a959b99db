// Oplog shipping: slices chain from the shipped position, nothing twice, trimming keeps an anchor, gaps are
// refused, unneeded slices are pruned, and `oplog ship --watch` stops cleanly on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "backup/backup_window.h"
#include "backup/catalog.h"
#include "backup/oplog_shipper.h"
#include "backup/oplog_slice.h"
#include "core/error.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

const std::string kDb{kDefaultDatabase};

OplogTimestamp insert_attendances(const DataDir& data, int n, const std::string& db_name = kDb) {
  auto db = Database::open(data, db_name);
  auto w = db->write();
  for (int i = 0; i < n; ++i) w.insert("attendances", Document::from_json({{"personId", "p" + std::to_string(i)}, {"session", "s"}}));
  auto last = w.last_position();
  w.commit();
  return last;
}

// An archive file plus its sidecar manifest, as the backup job leaves them; the catalog reads only these.
fs::path make_archive(const fs::path& dir, UnixMillis created, OplogTimestamp start, OplogTimestamp end,
                      const std::string& db = kDb) {
  fs::path archive = dir / archive_file_name(db, created);
  write_text(archive, "not really a tar.gz");
  Manifest m;
  m.created_at = format_iso8601(created);
  m.db = db;
  m.collections = {"attendances"};
  m.oplog_start = start;
  m.oplog_end = end;
  write_text(fs::path(archive.string() + ".manifest.json"), m.to_json().dump());
  return archive;
}

std::vector<OplogTimestamp> slice_entries(const fs::path& slice) {
  std::vector<OplogTimestamp> out;
  read_oplog_slice(slice, [&](std::string_view e) {
    out.push_back(decode_oplog_entry(reinterpret_cast<const uint8_t*>(e.data()), e.size(), "slice").ts);
  });
  return out;
}

ShipOptions no_keep() {
  ShipOptions o;
  o.keep_live_seconds = 0;
  return o;
}

TEST(OplogShip, ShipsNewEntriesOnceIntoAChainedSlice) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  auto last = insert_attendances(data, 3);

  auto first = ship_oplog(data, backups, {});
  ASSERT_EQ(first.slices.size(), 1u);
  EXPECT_EQ(first.entries, 3);
  EXPECT_EQ(first.slices[0].filename(), slice_file_name({}, last));
  EXPECT_EQ(slice_entries(first.slices[0]).size(), 3u);
  EXPECT_EQ(BackupCatalog(backups).shipped_position(), last);

  auto again = ship_oplog(data, backups, {});
  EXPECT_TRUE(again.slices.empty());
  EXPECT_EQ(again.entries, 0);
  EXPECT_EQ(BackupCatalog(backups).slices().size(), 1u);

  auto last2 = insert_attendances(data, 2);
  auto second = ship_oplog(data, backups, {});
  ASSERT_EQ(second.slices.size(), 1u);
  EXPECT_EQ(second.slices[0].filename(), slice_file_name(last, last2));  // starts where the first ended
  auto ts = slice_entries(second.slices[0]);
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_GT(ts.front(), last);
}

TEST(OplogShip, SplitsLargeShipsIntoChainedSlices) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  insert_attendances(data, 5);
  ShipOptions o;
  o.max_slice_entries = 2;
  auto r = ship_oplog(data, tmp.path() / "backup", o);
  ASSERT_EQ(r.slices.size(), 3u);
  auto slices = BackupCatalog(tmp.path() / "backup").slices();
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_TRUE(slices[0].from.is_null());
  EXPECT_EQ(slices[1].from, slices[0].to);
  EXPECT_EQ(slices[2].from, slices[1].to);
  EXPECT_EQ(slice_entries(slices[0].path).size(), 2u);
  EXPECT_EQ(slice_entries(slices[2].path).size(), 1u);
}

TEST(OplogShip, TrimsShippedLiveEntriesButKeepsTheAnchorAndRecentOnes) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  auto last = insert_attendances(data, 3);
  auto kept = ship_oplog(data, tmp.path() / "backup", {});  // default: keep an hour of shipped entries
  EXPECT_EQ(kept.trimmed, 0);

  auto r = ship_oplog(data, tmp.path() / "backup", no_keep());
  EXPECT_EQ(r.trimmed, 2);
  auto db = Database::open(data, kDb);
  auto range = db->read().oplog_range();
  EXPECT_EQ(range.entries, 1);
  EXPECT_EQ(range.first, last);  // the anchor proves no entry after it was lost
}

TEST(OplogShip, RefusesToShipAcrossEntriesTrimmedBeforeShippingUntilABackupCoversThem) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  auto shipped = insert_attendances(data, 2);
  ship_oplog(data, backups, no_keep());
  insert_attendances(data, 2);
  auto third = insert_attendances(data, 1);
  insert_attendances(data, 1);
  {
    auto db = Database::open(data, kDb);
    auto w = db->write();
    w.trim_oplog(third);  // loses the anchor and two unshipped entries
    w.commit();
  }
  try {
    ship_oplog(data, backups, no_keep());
    FAIL() << "shipped across a gap";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kConflict);
    EXPECT_NE(std::string(e.what()).find(shipped.to_string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(third.to_string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(BackupCatalog(backups).slices().size(), 1u);

  make_archive(backups, now_millis(), third, third);  // a backup taken at `third` covers the lost entries
  auto r = ship_oplog(data, backups, no_keep());
  ASSERT_EQ(r.slices.size(), 1u);
  EXPECT_EQ(r.from, third);
  EXPECT_EQ(r.entries, 1);
  EXPECT_NE(r.note.find("restarts"), std::string::npos) << r.note;
}

TEST(OplogShip, PrunesSlicesThatNoKeptArchiveNeeds) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  insert_attendances(data, 1);
  ship_oplog(data, backups, {});
  auto b = insert_attendances(data, 1);
  ship_oplog(data, backups, {});
  auto c = insert_attendances(data, 1);
  BackupCatalog catalog(backups);

  EXPECT_TRUE(prune_unneeded_slices(catalog).empty()) << "no archive: slices are all there is";
  fs::path no_sidecar = backups / archive_file_name(kDb, now_millis() - 7200000);
  write_text(no_sidecar, "x");
  make_archive(backups, now_millis() - 3600000, b, b);
  EXPECT_TRUE(prune_unneeded_slices(catalog).empty()) << "an archive with unknown position may need any slice";
  fs::remove(no_sidecar);

  auto r = ship_oplog(data, backups, {});  // ships c, then prunes
  ASSERT_EQ(r.pruned.size(), 2u);          // (0, a] and (a, b]: the archive starts at b
  auto left = catalog.slices();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].from, b);
  EXPECT_EQ(left[0].to, c);
  auto window = pitr_window(catalog, catalog.archives(kDb).front());
  EXPECT_EQ(window.end, c);
}

// Found 2026-12-01: `oplog ship --db face-recognition-test` into the main database's backup directory (the
// README's test restore goes to that database) continued the main chain with the test database's entries. The
// main database's next ship then started after them, trimmed its own unshipped entries from the live oplog and
// said "nothing to ship": its point-in-time recovery lost them, exit 0.
TEST(OplogShip, ASecondDatabaseIsRefusedInADirectoryThatShipsAnotherOnesOplogAndTheFirstLosesNothing) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  insert_attendances(data, 2);
  ship_oplog(data, backups, no_keep());
  EXPECT_EQ(shipped_database(BackupCatalog(backups)), kDb) << "each slice's record names its database";
  auto unshipped = insert_attendances(data, 3);  // the main database's, not shipped yet
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the test database's entries come later
  insert_attendances(data, 4, "face-recognition-test");
  const auto before = BackupCatalog(backups).slices().size();

  ShipOptions other = no_keep();
  other.db = "face-recognition-test";
  try {
    ship_oplog(data, backups, other);
    FAIL() << "shipping a second database into the directory was not refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kConflict);
    EXPECT_NE(std::string(e.what()).find("holds the shipped oplog of database 'face-recognition'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--backup-dir"), std::string::npos) << "the remedy: " << e.what();
  }
  EXPECT_EQ(BackupCatalog(backups).slices().size(), before) << "nothing was shipped";

  auto r = ship_oplog(data, backups, no_keep());
  EXPECT_EQ(r.entries, 3) << "the main database ships every entry of its own";
  EXPECT_EQ(r.to, unshipped);
  // A directory of its own ships the test database.
  EXPECT_EQ(ship_oplog(data, tmp.path() / "backup-test", other).entries, 4);
}

TEST(OplogShip, ABackupOfAnotherDatabaseInTheDirectoryPrunesSlicesByTheShippedDatabasesArchivesNotItsOwn) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  auto a = insert_attendances(data, 1);
  make_archive(backups, now_millis() - 3600000, a, a);  // the main database's backup, at a
  insert_attendances(data, 1);
  ship_oplog(data, backups, {});
  insert_attendances(data, 1);
  ship_oplog(data, backups, {});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto t = insert_attendances(data, 1, "face-recognition-test");
  make_archive(backups, now_millis(), t, t, "face-recognition-test");  // newer than every slice
  const BackupCatalog catalog(backups);
  const auto slices = catalog.slices().size();
  // The backup job prunes with its own database after pruning its archives (backup_job.cpp).
  EXPECT_TRUE(prune_unneeded_slices(catalog, "face-recognition-test").empty())
      << "the main database's backup at a still needs every slice after it";
  EXPECT_EQ(catalog.slices().size(), slices);
  // Nor do the main database's slices reach past the test database's backup: its window is its own.
  const auto test_window = pitr_window(catalog, catalog.archives("face-recognition-test").front());
  EXPECT_EQ(test_window.end, t);
  EXPECT_TRUE(test_window.slices.empty());
}

TEST(OplogShip, NeverPrunesTheNewestSliceSoTheShippedPositionHolds) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  auto a = insert_attendances(data, 1);
  ship_oplog(data, backups, {});
  make_archive(backups, now_millis(), a, a);  // every slice ends at or before the archive's start
  EXPECT_TRUE(prune_unneeded_slices(BackupCatalog(backups)).empty());
  EXPECT_EQ(BackupCatalog(backups).shipped_position(), a);
}

TEST(OplogShip, ContinuesFromACorruptSlicesNameWithoutReadingIt) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  auto a = insert_attendances(data, 2);
  ship_oplog(data, backups, {});
  auto slice = BackupCatalog(backups).slices().at(0).path;
  write_text(slice, "garbage, not gzip");
  EXPECT_TRUE(ship_oplog(data, backups, {}).slices.empty());
  auto b = insert_attendances(data, 1);
  auto r = ship_oplog(data, backups, {});
  ASSERT_EQ(r.slices.size(), 1u);
  EXPECT_EQ(r.slices[0].filename(), slice_file_name(a, b));
  EXPECT_THROW(read_oplog_slice(slice, [](std::string_view) {}), Error);
}

TEST(OplogShip, RemovesThePartialSliceAKilledShipLeftAndRefusesAConcurrentShip) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  fs::path backups = tmp.path() / "backup";
  fs::create_directories(backups);
  write_text(backups / "oplog_slice.partial-999999", "half a slice");
  insert_attendances(data, 1);
  ship_oplog(data, backups, {});
  EXPECT_FALSE(fs::exists(backups / "oplog_slice.partial-999999"));

  // Another process holds the ship lock: this ship must not write a second slice from the same position.
  auto holder = run_shell("flock -n " + (backups / "oplog-ship.lock").string() +
                          " " + FACECROWD_BINARY + " --data " + (tmp.path() / "data").string() + " --backup-dir " +
                          backups.string() + " oplog ship");
  ASSERT_EQ(holder.exit_code, int(ExitCode::kBusy)) << holder.err;
  EXPECT_NE(holder.err.find("another `facecrowd oplog ship` is running"), std::string::npos) << holder.err;
}

TEST(OplogShip, ADatabaseThatDoesNotExistHasNothingToShipAndIsNotCreated) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  auto r = ship_oplog(data, tmp.path() / "backup", {});
  EXPECT_EQ(r.entries, 0);
  EXPECT_NE(r.note.find("does not exist"), std::string::npos);
  EXPECT_FALSE(data.database_exists(kDb));
  EXPECT_TRUE(fs::is_directory(tmp.path() / "backup"));  // created, like a backup would
}

TEST(OplogShip, ReadOnlyBackupDirectoryIsAnIoError) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a read-only tmpfs";
  TempDir tmp;
  fs::path ro = tmp.path() / "ro";
  fs::create_directories(ro);
  if (::mount("tmpfs", ro.c_str(), "tmpfs", MS_RDONLY, "size=1m") != 0) GTEST_SKIP() << "cannot mount tmpfs";
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount(p.c_str()); }
  } unmount{ro};
  auto data = DataDir::open(tmp.path() / "data");
  insert_attendances(data, 1);
  try {
    ship_oplog(data, ro, {});
    FAIL() << "shipped into a read-only directory";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find(ro.string()), std::string::npos) << e.what();
  }
}

TEST(OplogShip, BinaryRefusesADataDirectoryThatIsNotOurs) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "theirs");
  write_text(tmp.path() / "theirs" / "important.txt", "keep");
  auto r = run_facecrowd("--data " + (tmp.path() / "theirs").string() + " --backup-dir " +
                         (tmp.path() / "backup").string() + " oplog ship");
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotOurs)) << r.err;
  EXPECT_NE(r.err.find("not a facecrowd data directory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "theirs" / "facecrowd-data.json"));

  auto missing = run_facecrowd("--data " + (tmp.path() / "nope").string() + " oplog ship");
  EXPECT_EQ(missing.exit_code, int(ExitCode::kNotFound)) << missing.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "nope"));
}

TEST(OplogShip, BinaryPrintsJson) {
  TempDir tmp;
  {
    auto data = DataDir::open(tmp.path() / "data");
    insert_attendances(data, 4);
  }
  std::string dirs = "--data " + (tmp.path() / "data").string() + " --backup-dir " + (tmp.path() / "backup").string();
  auto r = run_facecrowd(dirs + " oplog ship --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["entries"], 4);
  EXPECT_EQ(j["slices"].size(), 1u);
  auto again = run_facecrowd(dirs + " oplog ship");
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to ship"), std::string::npos) << again.out;
}

// Waits (bounded, not timed: the bound only keeps a broken build from hanging) until `done` holds.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 600; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(OplogShip, WatchShipsEachIntervalAndStopsCleanlyOnSigterm) {
  TempDir tmp;
  auto data = DataDir::open(tmp.path() / "data");
  insert_attendances(data, 1);
  fs::path backups = tmp.path() / "backup", out = tmp.path() / "out", err = tmp.path() / "err";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen(out.c_str(), "w", stdout);
    freopen(err.c_str(), "w", stderr);
    std::string d = (tmp.path() / "data").string(), b = backups.string();
    execl(FACECROWD_BINARY, "facecrowd", "--data", d.c_str(), "--backup-dir", b.c_str(), "oplog", "ship", "--watch",
          "--interval", "1s", "--keep-live", "0s", static_cast<char*>(nullptr));
    _exit(127);
  }
  auto slice_count = [&] { return BackupCatalog(backups).slices().size(); };
  bool first = eventually([&] { return slice_count() == 1; });
  auto later = insert_attendances(data, 2);  // shipped by a later round of the same process
  bool second = first && eventually([&] { return BackupCatalog(backups).shipped_position() == later; });
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(first) << read_text(err);
  EXPECT_TRUE(second) << read_text(out) << read_text(err);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_text(err);
  EXPECT_NE(read_text(err).find("stopped"), std::string::npos);
  EXPECT_NE(read_text(out).find("shipped 2 entries"), std::string::npos) << read_text(out);
  for (const auto& e : fs::directory_iterator(backups))
    EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos) << "left " << e.path();
}

}  // namespace
}  // namespace facecrowd
