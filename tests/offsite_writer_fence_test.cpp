// The writer fence of a backup target (backup/offsite/writer_fence.h, target_take_over.h): a take-over
// moves the target to another backup directory and the old one is refused from then on; a restore from the
// bucket does not adopt the old writer; a malformed writer field, a damaged identity file, a take-over with
// no index or while a push runs, and a take-over during a push are refused without changing anything.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "app/recovery/offsite_restore.h"
#include "app/records/audit.h"
#include "backup/archive_manifest.h"
#include "backup/catalog.h"
#include "backup/offsite/offsite_push.h"
#include "backup/oplog_shipper.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/target_take_over.h"
#include "backup/offsite/writer_fence.h"
#include "backup/targets/directory_target.h"
#include "backup/targets/s3_target.h"
#include "core/file_lock.h"
#include "core/files.h"
#include "core/sha256.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;
using push_test::PushSite;

std::string writer_id(const fs::path& backups) { return read_writer_identity(backups).value().id; }

std::optional<IndexWriter> target_writer(BackupTarget& t, const fs::path& scratch) {
  OffsiteStore store(t, scratch);
  return store.require_index().writer;
}

// The old server pushes; a stand-by restored from the target (which does not adopt the old server's
// identity) is refused until it takes over; then its pushes go through, the old server's are refused, and
// a restore from the target gives the stand-by's data. `restore`: restores the target into an empty machine.
void take_over_moves_the_target(BackupTarget& t, const std::function<void(const fs::path& data, const fs::path& backups)>& restore) {
  PushSite old_server(20);
  old_server.push(t);
  const fs::path standby = old_server.tmp.path() / "standby", data = standby / "data", backups = standby / "backup";
  restore(data, backups);
  EXPECT_FALSE(fs::exists(backups / WriterIdentity::kFile));
  // The stand-by's own changes, backed up (a second later: an archive's name holds its second) and shipped.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    w.insert("users", Document::from_json({{"_id", "only-standby"}, {"username", "only-standby"}}));
    w.commit();
  }
  backup(data, backups);
  ship_oplog(DataDir::open(data), backups, {});
  auto push_standby = [&] { return push_to_target(backups, t, {}, PushOptions{}); };
  auto before = push_test::file_digests(backups);
  expect_error(push_standby, ExitCode::kConflict, {writer_id(old_server.backups), "take-over"});
  EXPECT_EQ(push_test::file_digests(backups), before);  // not even the push's lock file (push_lock.h)

  TakeOverResult r = take_over_target(backups, t, {});
  EXPECT_FALSE(r.already);
  ASSERT_TRUE(r.previous);
  EXPECT_EQ(r.previous->id, writer_id(old_server.backups));
  EXPECT_EQ(r.writer.id, writer_id(backups));
  EXPECT_EQ(target_writer(t, standby)->id, writer_id(backups));
  EXPECT_TRUE(take_over_target(backups, t, {}).already);  // again: nothing to do

  auto pushed = push_standby();
  EXPECT_FALSE(pushed.uploaded.empty()) << pushed.to_json().dump();
  expect_error([&] { old_server.push(t); }, ExitCode::kConflict, {writer_id(backups), "take-over"});

  const fs::path fresh = old_server.tmp.path() / "fresh";
  restore(fresh / "data", fresh / "backup");
  EXPECT_EQ(snapshot(fresh / "data", "face-recognition"), snapshot(data, "face-recognition"));
  EXPECT_EQ(count(fresh / "data", "face-recognition", "users"), 22);  // u0..u19, "late", "only-standby"
}

TEST(OffsiteWriterFence, ATakeOverOfADirectoryTargetRefusesTheOldWriterFromThenOnAndTheTargetRestoresTheNewWritersData) {
  TempDir tmp;
  DirectoryTarget t(tmp.path() / "remote");
  take_over_moves_the_target(t, [&](const fs::path& data, const fs::path& backups) {
    OffsiteRestoreOptions o;
    o.target = t.url();
    o.restore.backup_dir = backups;
    auto r = restore_from_target(data, "latest", o);
    EXPECT_FALSE(r.take_over_command.empty());
  });
}

TEST(OffsiteWriterFence, ATakeOverOfAnS3TargetRefusesTheOldWriterFromThenOnAndTheBucketRestoresTheNewWritersData) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  ScopedEnv env({{"AWS_ENDPOINT_URL", server.endpoint()}, {"AWS_ACCESS_KEY_ID", "S3RVER"}, {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
                 {"AWS_REGION", "us-east-1"}, {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}, {"AWS_CONFIG_FILE", "/nonexistent"}});
  S3Target t(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(server.endpoint()));
  take_over_moves_the_target(t, [&](const fs::path& data, const fs::path& backups) {
    OffsiteRestoreOptions o;
    o.restore.backup_dir = backups;
    auto r = restore_from_target(data, "s3://facecrowd-test/site/latest", o);
    EXPECT_EQ(r.take_over_command, "facecrowd target take-over --target s3://facecrowd-test/site");
  });
}

// The disaster restore: the machine restored from the bucket is told who writes the target and the exact
// take-over command, and is refused until it runs it; after the take-over (audited) it pushes and the old
// server is refused.
TEST(OffsiteWriterFence, ARestoreFromTheTargetOnAnEmptyMachineDoesNotAdoptTheWriterAndNamesTheTakeOverCommand) {
  PushSite old_server;
  const fs::path remote = old_server.tmp.path() / "remote", machine = old_server.tmp.path() / "machine";
  DirectoryTarget t(remote);
  old_server.push(t);
  const std::string no_config = "FACECROWD_BACKUP_TARGET= FACECROWD_BACKUP_TARGET_CONFIG=" + (machine / "none.json").string();
  auto cli = [&](const std::string& args) {
    return run_facecrowd("--data " + (machine / "data").string() + " --backup-dir " + (machine / "backup").string() + " " + args, no_config);
  };
  auto r = cli("restore latest --target " + remote.string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out)["offsite"];
  EXPECT_EQ(j["writer"]["id"], writer_id(old_server.backups)) << r.out;
  EXPECT_EQ(j["take_over_command"], "facecrowd target take-over --target " + remote.string()) << r.out;
  EXPECT_FALSE(fs::exists(machine / "backup" / WriterIdentity::kFile));
  // In words too, on a second empty machine: the writer and the command.
  auto words = run_facecrowd("--data " + (machine / "data2").string() + " --backup-dir " + (machine / "backup2").string() +
                                 " restore latest --target " + remote.string(),
                             no_config);
  ASSERT_EQ(words.exit_code, 0) << words.err;
  EXPECT_NE(words.out.find("`facecrowd target take-over --target " + remote.string() + "`"), std::string::npos) << words.out;
  EXPECT_NE(words.out.find(writer_id(old_server.backups)), std::string::npos) << words.out;

  auto refused = cli("oplog ship --target " + remote.string());
  EXPECT_EQ(refused.exit_code, int(ExitCode::kConflict)) << refused.out << refused.err;
  auto listed = cli("backups list --target " + remote.string());
  EXPECT_NE(listed.out.find("writer: host"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("another backup directory"), std::string::npos) << listed.out;

  auto took = cli("target take-over --target " + remote.string());
  ASSERT_EQ(took.exit_code, 0) << took.out << took.err;
  EXPECT_NE(took.out.find("replaces host"), std::string::npos) << took.out;
  const std::string me = writer_id(machine / "backup");
  auto audit = cli("audit list --action backup.target.take_over --json");
  auto entries = nlohmann::json::parse(audit.out);
  ASSERT_EQ(entries.size(), 1u) << audit.out;
  EXPECT_EQ(entries[0]["details"]["previous_writer"]["id"], writer_id(old_server.backups)) << audit.out;
  EXPECT_EQ(entries[0]["details"]["writer"]["id"], me) << audit.out;
  EXPECT_FALSE(entries[0]["actor"].get<std::string>().empty()) << audit.out;

  EXPECT_EQ(cli("oplog ship --target " + remote.string()).exit_code, 0);
  expect_error([&] { old_server.push(t); }, ExitCode::kConflict, {me});
  listed = cli("backups list --target " + remote.string());
  EXPECT_NE(listed.out.find("(this backup directory)"), std::string::npos) << listed.out;
  auto verify = cli("verify --target " + remote.string() + " --json");
  EXPECT_NE(verify.out.find("written by host"), std::string::npos) << verify.out;
  auto show = run_facecrowd("--data " + (machine / "data").string() + " --backup-dir " + (machine / "backup").string() +
                                " target show --json",
                            "FACECROWD_BACKUP_TARGET=" + remote.string() + " FACECROWD_BACKUP_TARGET_CONFIG=" + (machine / "none.json").string());
  ASSERT_EQ(show.exit_code, 0) << show.out << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["writer_identity"]["id"], me) << show.out;
}

// index.json's writer as a damaged copy or someone who can write the bucket leaves it: refused by name,
// by a push and a reader, and the target left as it was.
TEST(OffsiteWriterFence, AMalformedWriterFieldInTheIndexIsRefusedNamingTheFieldAndNothingChanges) {
  PushSite site;
  const fs::path remote = site.tmp.path() / "remote";
  DirectoryTarget t(remote);
  site.push(t);
  const auto pushed = nlohmann::json::parse(read_text(remote / "index.json"));
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::vector<std::string>>> edits = {
      {[](nlohmann::json& j) { j["writer"] = "the old server"; }, {"writer ", "not an object"}},
      {[](nlohmann::json& j) { j["writer"].erase("id"); }, {"writer.id", "missing"}},
      {[](nlohmann::json& j) { j["writer"]["id"] = 42; }, {"writer.id", "not a string"}},
      {[](nlohmann::json& j) { j["writer"]["id"] = "ABCDEF0123456789ABCDEF0123456789"; }, {"writer.id", "32 hex digits"}},
      {[](nlohmann::json& j) { j["writer"]["id"] = "0123"; }, {"writer.id", "32 hex digits"}},
      {[](nlohmann::json& j) { j["writer"]["host"] = "evil\x1b[31mhost"; }, {"writer.host", "host name"}},
      {[](nlohmann::json& j) { j["writer"]["host"] = ""; }, {"writer.host", "host name"}},
      {[](nlohmann::json& j) { j["writer"]["host"] = std::string(300, 'h'); }, {"writer.host", "host name"}},
      {[](nlohmann::json& j) { j["writer"]["since"] = "yesterday"; }, {"writer.since", "ISO 8601"}},
  };
  for (const auto& [edit, parts] : edits) {
    auto j = pushed;
    edit(j);
    const std::string text = j.dump(1);
    write_text(remote / "index.json", text);
    write_text(remote / "index.json.sha256", sha256_hex(text));
    const auto before = push_test::file_digests(remote);
    std::vector<std::string> expected = parts;
    expected.push_back("index.json");
    expect_error([&] { site.push(t); }, ExitCode::kBadInput, {expected[0], expected[1], expected[2]});
    expect_error([&] { take_over_target(site.backups, t, {}); }, ExitCode::kBadInput, {expected[0]});
    auto listed = run_facecrowd("backups list --target " + remote.string());
    EXPECT_EQ(listed.exit_code, int(ExitCode::kBadInput)) << listed.out << listed.err;
    EXPECT_NE(listed.err.find(expected[0]), std::string::npos) << listed.err;
    EXPECT_EQ(push_test::file_digests(remote), before) << text;
  }
}

// The backup directory's identity file damaged: the push cannot tell whether it is the writer, so it is
// refused naming the file and the remedy, and neither the target nor the file changes.
TEST(OffsiteWriterFence, ADamagedWriterIdentityFileIsRefusedNamingItAndNothingIsSent) {
  PushSite site;
  const fs::path remote = site.tmp.path() / "remote", file = site.backups / WriterIdentity::kFile;
  DirectoryTarget t(remote);
  site.push(t);
  const std::string good = read_text(file);
  for (const std::string& damaged : {std::string(""), std::string("not json"), std::string("[]"), std::string(R"({"host": "a"})"),
                                     std::string(R"({"id": "xyz"})"), std::string(R"({"id": "0123456789abcdef0123456789abcdeg"})")}) {
    write_text(file, damaged);
    const auto before = push_test::file_digests(remote);
    expect_error([&] { site.push(t); }, ExitCode::kBadInput, {file.string(), "damaged", "target take-over"});
    expect_error([&] { take_over_target(site.backups, t, {}); }, ExitCode::kBadInput, {file.string()});
    EXPECT_EQ(push_test::file_digests(remote), before);
    EXPECT_EQ(read_text(file), damaged);
  }
  // Not a file at all (what a read error looks like to root, whom no permission stops).
  fs::remove(file);
  fs::create_directory(file);
  expect_error([&] { site.push(t); }, ExitCode::kBadInput, {file.string(), "not a regular file"});
  fs::remove(file);
  write_text(file, good);
  EXPECT_TRUE(site.push(t).uploaded.empty());
}

TEST(OffsiteWriterFence, ATakeOverOfATargetWithoutAnIndexIsRefusedAndWritesNothing) {
  PushSite site;
  const fs::path remote = site.tmp.path() / "remote";
  fs::create_directories(remote);
  DirectoryTarget t(remote);
  expect_error([&] { take_over_target(site.backups, t, {}); }, ExitCode::kNotFound, {"index.json", "no writer to take over"});
  EXPECT_TRUE(push_test::file_digests(remote).empty());
  // Objects but no index (a lost index): still nothing to take over, and nothing that would hide the loss.
  site.push(t);
  fs::remove(remote / "index.json");
  fs::remove(remote / "index.json.sha256");
  const auto before = push_test::file_digests(remote);
  expect_error([&] { take_over_target(site.backups, t, {}); }, ExitCode::kNotFound, {"index.json"});
  EXPECT_EQ(push_test::file_digests(remote), before);
}

TEST(OffsiteWriterFence, ATakeOverWhileAPushOfTheSameBackupDirectoryRunsIsRefusedAsBusy) {
  PushSite old_server, standby;
  const fs::path remote = old_server.tmp.path() / "remote";
  DirectoryTarget t(remote);
  old_server.push(t);
  const auto before = push_test::file_digests(remote);
  {
    FileLock pushing = FileLock::wait(standby.backups / "offsite-push.lock");
    expect_error([&] { take_over_target(standby.backups, t, {}); }, ExitCode::kBusy, {"offsite-push.lock", "nothing was changed"});
  }
  EXPECT_EQ(push_test::file_digests(remote), before);
  const std::string took = take_over_target(standby.backups, t, {}).writer.id;
  EXPECT_EQ(took, writer_id(standby.backups));
}

// A refused push left an empty offsite-push.lock in the backup directory, and a refused take-over left it too,
// in a backup directory it made when there was none (a stand-by that had not restored yet). Both leave the
// machine as they found it; a push that goes through keeps its lock file.
TEST(OffsiteWriterFence, ARefusedPushOrTakeOverLeavesNoLockFileAndNoBackupDirectoryItMade) {
  PushSite old_server, standby;
  const fs::path remote = old_server.tmp.path() / "remote", lock_file = standby.backups / "offsite-push.lock";
  DirectoryTarget t(remote);
  old_server.push(t);
  ASSERT_TRUE(fs::exists(old_server.backups / "offsite-push.lock"));
  const auto before = push_test::file_digests(standby.backups);
  expect_error([&] { standby.push(t); }, ExitCode::kConflict, {"take-over"});
  EXPECT_FALSE(fs::exists(lock_file)) << "a refused push leaves no lock file";
  EXPECT_EQ(push_test::file_digests(standby.backups), before);

  const fs::path empty_remote = standby.tmp.path() / "empty-remote";
  fs::create_directories(empty_remote);
  DirectoryTarget empty(empty_remote);
  expect_error([&] { take_over_target(standby.backups, empty, {}); }, ExitCode::kNotFound, {"index.json"});
  EXPECT_FALSE(fs::exists(lock_file)) << "a refused take-over leaves no lock file";
  EXPECT_EQ(push_test::file_digests(standby.backups), before);

  const fs::path fresh = standby.tmp.path() / "fresh", fresh_backups = fresh / "machine" / "backup";
  expect_error([&] { take_over_target(fresh_backups, empty, {}); }, ExitCode::kNotFound, {"index.json"});
  EXPECT_FALSE(fs::exists(fresh)) << "a refused take-over leaves no backup directory (nor the folders above it) that it made";
  EXPECT_TRUE(push_test::file_digests(empty_remote).empty());

  take_over_target(standby.backups, t, {});  // goes through: the lock file stays, as a push's does
  EXPECT_TRUE(fs::exists(lock_file));
}

// A directory target that runs `hook` once, when the archive itself (not its manifest copy) is put.
class ArchivePutHook : public DirectoryTarget {
 public:
  ArchivePutHook(fs::path dir, std::function<void()> hook) : DirectoryTarget(std::move(dir)), hook_(std::move(hook)) {}
  using DirectoryTarget::put;
  ObjectInfo put(const std::string& key, const fs::path& file, const std::string& known_sha256) override {
    if (hook_ && key.rfind("archives/", 0) == 0 && key.size() > 7 && key.substr(key.size() - 7) == ".tar.gz") std::exchange(hook_, nullptr)();
    return DirectoryTarget::put(key, file, known_sha256);
  }

 private:
  std::function<void()> hook_;
};

// The stand-by takes over while the old server's push is sending an archive (it read index.json before):
// that push reads index.json again before it writes it, finds the take-over and does not write over it.
TEST(OffsiteWriterFence, APushSendingAnArchiveWhileAnotherMachineTakesOverDoesNotWriteTheIndexOverTheTakeOver) {
  PushSite old_server, standby;
  const fs::path remote = old_server.tmp.path() / "remote";
  // The old server's first push without its archive (moved aside), so the target has an index it writes.
  const fs::path archive = BackupCatalog(old_server.backups).archives().at(0).path, aside = old_server.tmp.path() / "aside";
  fs::create_directories(aside);
  for (const fs::path& f : {archive, manifest_copy_path(archive)}) fs::rename(f, aside / f.filename());
  DirectoryTarget plain(remote);
  old_server.push(plain);
  for (const fs::path& f : {archive, manifest_copy_path(archive)}) fs::rename(aside / f.filename(), f);

  const std::string standby_id = writer_identity(standby.backups).id;  // made now, so the refusal can be matched
  ArchivePutHook hooked(remote, [&] { take_over_target(standby.backups, plain, {}); });
  expect_error([&] { old_server.push(hooked); }, ExitCode::kConflict, {"while this push was sending", standby_id});
  EXPECT_EQ(target_writer(plain, old_server.tmp.path())->id, standby_id);
  OffsiteStore store(plain, old_server.tmp.path());
  EXPECT_TRUE(store.require_index().archives.empty()) << "the old server's archive is named by nothing";
  expect_error([&] { old_server.push(plain); }, ExitCode::kConflict, {standby_id});
}

}  // namespace
}  // namespace facecrowd
