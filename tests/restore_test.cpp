// `facecrowd restore`: round trips, collection restores, --drop, --db, folder and .bson inputs, dry run,
// and every bad input leaving the live data exactly as it was.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct Fixture {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  fs::path archive;
  Snapshot at_backup;
  explicit Fixture(int n = 20) {
    fill(data, n);
    archive = backup(data, backups).archive;
    at_backup = snapshot(data, "face-recognition");
  }
  RestoreOptions options() const {
    RestoreOptions o;
    o.backup_dir = backups;
    return o;
  }
  fs::path db_dir(const std::string& db = "face-recognition") const { return data / db; }
};

TEST(Restore, FullRestoreIntoFreshDataDirReproducesEveryDocument) {
  Fixture f;
  TempDir other;
  auto result = restore_backup(other.path() / "data", f.archive.string(), f.options());
  EXPECT_EQ(result.db, "face-recognition");
  EXPECT_FALSE(result.copied_live);
  EXPECT_EQ(snapshot(other.path() / "data", "face-recognition"), f.at_backup);
  // The backup's audit entries plus the restore's own.
  EXPECT_EQ(count(other.path() / "data", "face-recognition", "auditlogs"), 21);
  auto db = Database::open(DataDir::open(other.path() / "data"), "face-recognition");
  auto r = db->read();
  int64_t restores = r.count("auditlogs", {{{"action", "=", std::string("restore")}}});
  EXPECT_EQ(restores, 1);
  bool note_seen = false;
  r.scan_oplog({}, r.position(), [&](OplogTimestamp, std::string_view e) {
    auto entry = decode_oplog_entry(reinterpret_cast<const uint8_t*>(e.data()), e.size(), "oplog");
    if (entry.op == 'n' && entry.o.to_json().value("restore", "") == f.archive.filename().string()) note_seen = true;
  });
  EXPECT_TRUE(note_seen);
  EXPECT_GE(r.position(), result.manifest->oplog_end);
}

TEST(Restore, NonEmptyTargetWithoutDropIsAConflictNamingCollectionAndCount) {
  Fixture f;
  auto before = folder_listing(f.db_dir());
  expect_error([&] { restore_backup(f.data, f.archive.string(), f.options()); }, ExitCode::kConflict,
               {"users", "20 documents", "--drop"});
  EXPECT_EQ(folder_listing(f.db_dir()), before);
  auto cli = run_facecrowd("--data '" + f.data.string() + "' restore '" + f.archive.string() + "'");
  EXPECT_EQ(cli.exit_code, int(ExitCode::kConflict)) << cli.err;
  EXPECT_NE(cli.err.find("already has"), std::string::npos) << cli.err;
}

TEST(Restore, DropReplacesTheLiveStateWithTheBackup) {
  Fixture f;
  {
    auto db = Database::open(DataDir::open(f.data), "face-recognition");
    auto w = db->write();
    w.insert("users", Document::from_json({{"_id", "late"}, {"username", "late"}}));
    w.remove("attendances", f.at_backup["attendances"].begin()->first);
    w.commit();
  }
  OplogTimestamp live_position = Database::open(DataDir::open(f.data), "face-recognition")->read().position();
  auto opts = f.options();
  opts.drop = true;
  auto result = restore_backup(f.data, f.archive.string(), opts);
  EXPECT_EQ(snapshot(f.data, "face-recognition"), f.at_backup);
  EXPECT_GT(result.position, live_position) << "the restored db must continue after the live position";
  EXPECT_EQ(generation_files(f.db_dir()).size(), 1u);
  // New writes continue after it.
  auto db = Database::open(DataDir::open(f.data), "face-recognition");
  auto w = db->write();
  w.insert("users", Document::from_json({{"username", "after"}}));
  EXPECT_GT(w.last_position(), live_position);
}

TEST(Restore, OneCollectionWithDropKeepsTheOthers) {
  Fixture f;
  {
    auto db = Database::open(DataDir::open(f.data), "face-recognition");
    auto w = db->write();
    w.remove("users", "u3");
    w.insert("crowdcounts", Document::from_json({{"location", "new"}, {"count", 99}}));
    w.commit();
  }
  auto changed = snapshot(f.data, "face-recognition");
  auto opts = f.options();
  opts.collections = {"users"};
  expect_error([&] { restore_backup(f.data, f.archive.string(), opts); }, ExitCode::kConflict, {"'users'", "19"});
  opts.drop = true;
  auto result = restore_backup(f.data, f.archive.string(), opts);
  EXPECT_TRUE(result.copied_live);
  ASSERT_EQ(result.collections.size(), 1u);
  auto now = snapshot(f.data, "face-recognition");
  EXPECT_EQ(now["users"], f.at_backup["users"]);
  EXPECT_EQ(now["crowdcounts"], changed["crowdcounts"]);  // kept, with the late insert
  EXPECT_EQ(now["attendances"], changed["attendances"]);
}

TEST(Restore, OneCollectionIntoAnEmptyCollectionNeedsNoDrop) {
  Fixture f;
  {
    auto db = Database::open(DataDir::open(f.data), "face-recognition");
    auto w = db->write();
    for (const auto& [id, doc] : f.at_backup["crowdcounts"]) w.remove("crowdcounts", id);
    w.commit();
  }
  auto opts = f.options();
  opts.collections = {"crowdcounts"};
  restore_backup(f.data, f.archive.string(), opts);
  EXPECT_EQ(snapshot(f.data, "face-recognition")["crowdcounts"], f.at_backup["crowdcounts"]);
}

TEST(Restore, UnknownOrMissingCollectionIsNotFound) {
  Fixture f;
  auto opts = f.options();
  opts.db = "t";
  opts.collections = {"nosuch"};
  expect_error([&] { restore_backup(f.data, f.archive.string(), opts); }, ExitCode::kNotFound, {"nosuch"});
  // An archive of one collection does not hold another.
  auto only_users = backup(f.data, f.backups, {"users"}).archive;
  opts.collections = {"attendances"};
  expect_error([&] { restore_backup(f.data, only_users.string(), opts); }, ExitCode::kNotFound,
               {"attendances", "not in backup", "users"});
  EXPECT_FALSE(DataDir::open(f.data).database_exists("t"));
  auto cli = run_facecrowd("--data '" + f.data.string() + "' restore '" + f.archive.string() + "' --db t --collection nosuch");
  EXPECT_EQ(cli.exit_code, int(ExitCode::kNotFound)) << cli.err;
}

TEST(Restore, IntoAnotherDatabaseLeavesTheLiveOneAlone) {
  Fixture f;
  auto live_files = folder_listing(f.db_dir());
  auto cli = run_facecrowd("--data '" + f.data.string() + "' --backup-dir '" + f.backups.string() +
                           "' restore latest --db face-recognition-test --json");
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  auto json = nlohmann::json::parse(cli.out);
  EXPECT_EQ(json["db"], "face-recognition-test");
  EXPECT_EQ(snapshot(f.data, "face-recognition-test"), f.at_backup);
  EXPECT_EQ(snapshot(f.data, "face-recognition"), f.at_backup);
  EXPECT_EQ(folder_listing(f.db_dir()).count(live_files.begin()->first), 1u);
}

TEST(Restore, ExtractedFolderAndSingleBsonFile) {
  Fixture f;
  TempDir x;
  fs::path folder = extract(f.archive, x.path());
  auto opts = f.options();
  opts.db = "from-folder";
  auto result = restore_backup(f.data, folder.string(), opts);
  EXPECT_EQ(result.shape, BackupShape::kFolder);
  EXPECT_EQ(snapshot(f.data, "from-folder"), f.at_backup);

  // Without a manifest a folder still restores (only decoding is checked).
  fs::remove(folder / "manifest.json");
  opts.db = "no-manifest";
  restore_backup(f.data, folder.string(), opts);
  EXPECT_EQ(snapshot(f.data, "no-manifest"), f.at_backup);

  fs::path users_bson = folder / "face-recognition" / "users.bson";
  opts.db = "one-file";
  result = restore_backup(f.data, users_bson.string(), opts);
  EXPECT_EQ(result.shape, BackupShape::kBsonFile);
  EXPECT_EQ(snapshot(f.data, "one-file")["users"], f.at_backup["users"]);
  EXPECT_EQ(count(f.data, "one-file", "attendances"), 0);

  opts.collections = {"attendances"};
  expect_error([&] { restore_backup(f.data, users_bson.string(), opts); }, ExitCode::kUsage, {"users"});
  fs::copy_file(users_bson, x.path() / "people.bson");
  opts.collections = {};
  expect_error([&] { restore_backup(f.data, (x.path() / "people.bson").string(), opts); }, ExitCode::kUsage,
               {"not named after a collection"});
}

TEST(Restore, DryRunReportsRealCountsAndWritesNothing) {
  Fixture f;
  auto before = folder_listing(f.db_dir());
  auto opts = f.options();
  opts.dry_run = true;
  opts.db = "never-created";
  auto result = restore_backup(f.data, f.archive.string(), opts);
  EXPECT_TRUE(result.dry_run);
  std::map<std::string, int64_t> counts;
  for (const auto& c : result.collections) counts[c.name] = c.documents_read;
  EXPECT_EQ(counts["users"], 20);
  EXPECT_EQ(counts["attendances"], 40);
  EXPECT_EQ(counts["fs.chunks"], 2);
  EXPECT_FALSE(DataDir::open(f.data).database_exists("never-created"));
  EXPECT_FALSE(fs::exists(f.data / "never-created"));
  EXPECT_EQ(folder_listing(f.db_dir()), before);
  EXPECT_TRUE(result.warnings.empty());
  // Against the non-empty live database it predicts the conflict, still writing nothing.
  opts.db = "face-recognition";
  result = restore_backup(f.data, f.archive.string(), opts);
  ASSERT_FALSE(result.warnings.empty());
  EXPECT_NE(result.warnings[0].find("20 documents in 'users'"), std::string::npos) << result.warnings[0];
  EXPECT_EQ(folder_listing(f.db_dir()), before);
  // Through the CLI, against a data dir that does not exist: not created.
  TempDir empty;
  auto cli = run_facecrowd("--data '" + (empty.path() / "nodata").string() + "' restore '" + f.archive.string() +
                           "' --dry-run");
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("attendances"), std::string::npos);
  EXPECT_NE(cli.out.find("40 documents"), std::string::npos) << cli.out;
  EXPECT_FALSE(fs::exists(empty.path() / "nodata"));
}

TEST(Restore, AfterLoadHookRunsInsideTheNewGeneration) {
  Fixture f;
  auto opts = f.options();
  opts.db = "hooked";
  opts.after_load.push_back([](Database::WriteTransaction& w) { EXPECT_TRUE(w.remove("users", "u7")); });
  restore_backup(f.data, f.archive.string(), opts);
  auto db = Database::open(DataDir::open(f.data), "hooked");
  EXPECT_FALSE(db->read().get("users", "u7"));
  EXPECT_EQ(db->read().count("users"), 19);
}

// ---- bad inputs: clear message, non-zero exit, live data untouched ----

struct BadInputFixture : Fixture {
  std::map<std::string, uintmax_t> before = folder_listing(db_dir());
  TempDir work;
  fs::path folder = extract(archive, work.path() / "x");
  fs::path rebuilt = work.path() / archive.filename();

  void expect_refused(const fs::path& input, ExitCode code, std::initializer_list<std::string> parts) {
    auto opts = options();
    opts.drop = true;
    expect_error([&] { restore_backup(data, input.string(), opts); }, code, parts);
    EXPECT_EQ(folder_listing(db_dir()), before) << "live data touched or a generation left behind";
    EXPECT_EQ(snapshot(data, "face-recognition"), at_backup);
    auto cli = run_facecrowd("--data '" + data.string() + "' restore '" + input.string() + "' --drop");
    EXPECT_EQ(cli.exit_code, int(code)) << cli.err;
    EXPECT_EQ(cli.err.rfind("error: ", 0), 0u) << cli.err;
    EXPECT_EQ(folder_listing(db_dir()), before);
    // Into a database that does not exist yet: nothing of it is left behind.
    opts.db = "fresh-db";
    expect_error([&] { restore_backup(data, input.string(), opts); }, code, parts);
    EXPECT_FALSE(fs::exists(data / "fresh-db"));
  }
};

TEST(Restore, TruncatedArchiveIsRefused) {
  BadInputFixture f;
  fs::copy_file(f.archive, f.rebuilt);
  fs::resize_file(f.rebuilt, fs::file_size(f.archive) / 2);
  f.expect_refused(f.rebuilt, ExitCode::kBadInput, {f.rebuilt.string(), "truncated"});
}

TEST(Restore, FlippedByteInsideABsonMemberIsRefused) {
  BadInputFixture f;
  flip_byte(f.folder / "face-recognition" / "users.bson", 40);
  repack(f.folder, f.rebuilt);
  f.expect_refused(f.rebuilt, ExitCode::kBadInput, {"users.bson"});
  f.expect_refused(f.folder, ExitCode::kBadInput, {"users.bson"});
}

TEST(Restore, ChecksumMismatchInTheManifestIsRefused) {
  BadInputFixture f;
  auto manifest = nlohmann::json::parse(read_text(f.folder / "manifest.json"));
  for (auto& file : manifest["files"])
    if (file["path"] == "face-recognition/attendances.bson") file["sha256"] = std::string(64, '0');
  write_text(f.folder / "manifest.json", manifest.dump());
  repack(f.folder, f.rebuilt);
  f.expect_refused(f.rebuilt, ExitCode::kBadInput, {"checksum mismatch", "attendances.bson"});
}

TEST(Restore, MissingCollectionFileIsRefused) {
  BadInputFixture f;
  fs::remove(f.folder / "face-recognition" / "crowdcounts.bson");
  repack(f.folder, f.rebuilt);
  f.expect_refused(f.rebuilt, ExitCode::kBadInput, {"crowdcounts.bson", "does not hold it"});
}

TEST(Restore, UnknownFormatVersionIsRefused) {
  BadInputFixture f;
  auto manifest = nlohmann::json::parse(read_text(f.folder / "manifest.json"));
  manifest["format_version"] = 2;
  write_text(f.folder / "manifest.json", manifest.dump());
  repack(f.folder, f.rebuilt);
  f.expect_refused(f.rebuilt, ExitCode::kBadInput, {"unknown archive format version 2"});
}

TEST(Restore, MemberOutsideTheTopFolderIsRefused) {
  BadInputFixture f;
  // tar -P keeps the absolute names.
  auto r = run_shell("tar -czPf '" + f.rebuilt.string() + "' '" + f.folder.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  f.expect_refused(f.rebuilt, ExitCode::kBadInput, {"absolute path"});
}

TEST(Restore, ArchiveThatDoesNotExistIsNotFound) {
  Fixture f;
  auto opts = f.options();
  expect_error([&] { restore_backup(f.data, "backup_face-recognition_19990101_000000.tar.gz", opts); },
               ExitCode::kNotFound, {"19990101"});
}

TEST(Restore, BusyWhileAnotherProcessHoldsTheDataDir) {
  Fixture f;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open((f.data / "LOCK").c_str(), O_RDWR);
    ::flock(fd, LOCK_SH);
    char c = 'x';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  auto opts = f.options();
  opts.db = "other";
  expect_error([&] { restore_backup(f.data, f.archive.string(), opts); }, ExitCode::kBusy, {f.data.string()});
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_FALSE(fs::exists(f.data / "other" / "CURRENT"));
}

// A tmpfs mounted for the test's lifetime.
class Tmpfs {
 public:
  Tmpfs(const fs::path& dir, const std::string& options) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::geteuid() == 0 && ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

TEST(Restore, DiskFullFailsWithIoAndLeavesTheLiveDataExactlyAsBefore) {
  TempDir tmp;
  Tmpfs small(tmp.path() / "small", "size=1m");
  if (!small.mounted()) GTEST_SKIP() << "needs root to mount a tmpfs";
  fs::path data = tmp.path() / "small" / "data";
  fill(data, 5);
  auto live = snapshot(data, "face-recognition");
  // A source far larger than the tmpfs.
  fs::path big = tmp.path() / "big";
  {
    auto db = Database::open(DataDir::open(big), "face-recognition");
    auto w = db->write();
    std::string payload(4000, 'x');
    for (int i = 0; i < 800; ++i)
      w.insert("fs.chunks", Document::from_json({{"files_id", "f" + std::to_string(i)}, {"n", 0}, {"data", payload + std::to_string(i)}}));
    w.commit();
  }
  auto archive = backup(big, tmp.path() / "backup").archive;
  auto before = folder_listing(data / "face-recognition");
  RestoreOptions opts;
  opts.backup_dir = tmp.path() / "backup";
  opts.drop = true;
  expect_error([&] { restore_backup(data, archive.string(), opts); }, ExitCode::kIo, {"full"});
  EXPECT_EQ(generation_files(data / "face-recognition"), std::vector<std::string>{"gen-000001.sqlite"});
  EXPECT_EQ(folder_listing(data / "face-recognition"), before);
  EXPECT_EQ(snapshot(data, "face-recognition"), live);
  auto cli = run_facecrowd("--data '" + data.string() + "' restore '" + archive.string() + "' --drop");
  EXPECT_EQ(cli.exit_code, int(ExitCode::kIo)) << cli.err;
  EXPECT_EQ(generation_files(data / "face-recognition"), std::vector<std::string>{"gen-000001.sqlite"});
  EXPECT_EQ(snapshot(data, "face-recognition"), live);
}

TEST(Restore, KilledMidRestoreLeavesLiveDataAndTheNextOpenRemovesTheStaleGeneration) {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fill(data, 200);
  auto live = snapshot(data, "face-recognition");
  // A larger archive of another deployment (a regular file: FIFOs are refused as backups), so the restore
  // spends long enough building its generation to be stopped there: it is frozen (SIGSTOP) as soon as
  // the new generation appears, checked to be unswapped, then killed.
  fs::path src = tmp.path() / "src";
  fill(src, 20000);
  auto archive = backup(src, tmp.path() / "backup").archive;
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(FACECROWD_BINARY, FACECROWD_BINARY, "--data", data.c_str(), "restore", archive.c_str(), "--drop",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool building = false;
  for (int i = 0; i < 600000 && !building; ++i) {
    building = generation_files(data / "face-recognition").size() >= 2;
    if (!building) {
      ASSERT_EQ(::waitpid(child, nullptr, WNOHANG), 0) << "the restore exited before it was seen building";
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  ::kill(child, SIGSTOP);
  ASSERT_TRUE(building) << "the restore never started building";
  ASSERT_EQ(read_text(data / "face-recognition" / "CURRENT"), "gen-000001.sqlite\n")
      << "the restore swapped before it could be stopped; make the archive larger";
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(snapshot(data, "face-recognition"), live);  // opening removes the stale generation
  EXPECT_EQ(generation_files(data / "face-recognition"), std::vector<std::string>{"gen-000001.sqlite"});
  for (const auto& [name, size] : folder_listing(data / "face-recognition"))
    EXPECT_EQ(name.rfind("gen-000002", 0), std::string::npos) << name;
}

// Starts `facecrowd --data DATA restore ARCHIVE`, freezes it as soon as its first generation file appears in
// DATA/face-recognition (while CURRENT does not exist yet), and kills it there.
void kill_a_first_restore_while_it_builds(const fs::path& data, const fs::path& archive) {
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(FACECROWD_BINARY, FACECROWD_BINARY, "--data", data.c_str(), "restore", archive.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool building = false;
  for (int i = 0; i < 600000 && !building; ++i) {
    building = !generation_files(data / "face-recognition").empty();
    if (!building) {
      ASSERT_EQ(::waitpid(child, nullptr, WNOHANG), 0) << "the restore exited before it was seen building";
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  ::kill(child, SIGSTOP);
  ASSERT_TRUE(building) << "the restore never started building";
  ASSERT_FALSE(fs::exists(data / "face-recognition" / "CURRENT")) << "the restore swapped before it could be stopped; make the archive larger";
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
}

TEST(Restore, AFirstRestoreKilledWhileBuildingIsNotTakenForDamageByTheRerunWhichRemovesWhatItLeftAndSaysSo) {
  TempDir tmp;
  fs::path data = tmp.path() / "data";  // an empty machine: the restore builds the database's first generation
  fs::path src = tmp.path() / "src";
  fill(src, 20000);
  auto archive = backup(src, tmp.path() / "backup").archive;
  const auto expected = snapshot(src, "face-recognition");
  kill_a_first_restore_while_it_builds(data, archive);
  ASSERT_EQ(generation_files(data / "face-recognition"), std::vector<std::string>{"gen-000001.sqlite"});

  auto rerun = run_facecrowd("--data " + data.string() + " restore " + archive.string());
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  EXPECT_EQ(rerun.out.find("damaged"), std::string::npos) << rerun.out;
  EXPECT_NE(rerun.out.find("removed gen-000001.sqlite, the unfinished generation of an earlier import or restore that was killed"),
            std::string::npos) << rerun.out;
  EXPECT_FALSE(fs::exists(data / "damaged")) << "the leftover of a killed build was kept as if it were damage";
  EXPECT_EQ(generation_files(data / "face-recognition"), std::vector<std::string>{"gen-000002.sqlite"});
  EXPECT_EQ(snapshot(data, "face-recognition"), expected);
}

TEST(Restore, ALostCurrentBesideALiveGenerationIsStillDamageEvenWithADeadClaimNamingAnotherGeneration) {
  Fixture f;
  // The live generation lost its CURRENT, and a killed restore's claim (no one holds it) names another one.
  fs::remove(f.db_dir() / "CURRENT");
  write_text(f.db_dir() / "BUILDING", "gen-000002.sqlite\n");
  write_text(f.db_dir() / "gen-000002.sqlite", "half built");
  auto stats = run_facecrowd("--data " + f.data.string() + " stats");
  EXPECT_EQ(stats.exit_code, 9) << stats.out << stats.err;
  auto r = run_facecrowd("--data " + f.data.string() + " restore " + f.archive.string() + " --drop");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("the damaged database was replaced"), std::string::npos) << r.out;
  bool kept = false;
  for (const auto& e : fs::recursive_directory_iterator(f.data / "damaged"))
    kept = kept || e.path().filename() == "gen-000001.sqlite";
  EXPECT_TRUE(kept) << "the live generation whose CURRENT was lost must be kept";
}

TEST(Restore, FifoGivenAsTheBackupIsRefusedAtOnceInsteadOfHanging) {
  Fixture f;
  fs::path fifo = f.tmp.path() / "backup_face-recognition_20240103_010000.tar.gz";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = run_facecrowd("--data '" + f.data.string() + "' restore '" + fifo.string() + "' --drop");
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
  EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
  auto v = run_facecrowd("verify '" + fifo.string() + "'");
  EXPECT_EQ(v.exit_code, int(ExitCode::kBadInput)) << v.out << v.err;
}

}  // namespace
}  // namespace facecrowd
