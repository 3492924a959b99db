// The writer fence (backup/offsite/writer_fence.h) and `facecrowd target take-over` as an operator and an
// attacker meet them: a take-over on a stand-by with no data yet or before it set an encrypted target again,
// two take-overs at once, an identity file that was deleted, linked or grown huge. Each: what the operator
// sees, and the target and the backup directory left as they were.
#include <gtest/gtest.h>

#include <functional>
#include <utility>

#include "backup/offsite/offsite_store.h"
#include "backup/offsite/target_take_over.h"
#include "backup/offsite/writer_fence.h"
#include "backup/targets/directory_target.h"
#include "core/file_lock.h"
#include "core/files.h"
#include "offsite_push_site.h"
#include "test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;
using push_test::PushSite;

std::string target_writer_id(const fs::path& remote, const fs::path& scratch) {
  DirectoryTarget t(remote);
  OffsiteStore store(t, scratch);
  return store.require_index().writer.value().id;
}

// A stand-by that set its target (which leaves <data>/backup-target.json) and takes over before it restores
// has no database to hold the audit entry: the take-over was written to the target and then the command
// failed (exit 4), so a script retried or gave up on a take-over that had happened. Now it is done with a
// note; and a data directory that cannot take the entry (not facecrowd's) stops it before the target changes.
TEST(OffsiteWriterFenceCli, ATakeOverOnAStandByWithNoDatabaseYetSucceedsWithANoteAndAForeignDataDirectoryStopsItBeforeTheTargetChanges) {
  PushSite old_server;
  const fs::path remote = old_server.tmp.path() / "remote";
  DirectoryTarget t(remote);
  old_server.push(t);
  const std::string old_id = read_writer_identity(old_server.backups).value().id;

  const fs::path standby = old_server.tmp.path() / "standby", data = standby / "data", backups = standby / "backup";
  const std::string dirs = "--data " + data.string() + " --backup-dir " + backups.string();
  ASSERT_EQ(run_facecrowd(dirs + " target set " + remote.string()).exit_code, 0);
  auto r = run_facecrowd(dirs + " target take-over");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("now writes target"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("holds no database yet"), std::string::npos) << r.out;
  EXPECT_EQ(target_writer_id(remote, standby), read_writer_identity(backups).value().id);

  // A data directory that is somebody else's: refused (exit 8) with the target's writer unchanged.
  const fs::path foreign = standby / "foreign", other_backups = standby / "other-backup";
  fs::create_directories(foreign);
  write_text(foreign / "notes.txt", "mine\n");
  const auto before = push_test::file_digests(remote);
  auto refused = run_facecrowd("--data " + foreign.string() + " --backup-dir " + other_backups.string() + " target take-over --target " +
                               remote.string());
  EXPECT_EQ(refused.exit_code, int(ExitCode::kNotOurs)) << refused.err;
  EXPECT_EQ(push_test::file_digests(remote), before);
  EXPECT_NE(target_writer_id(remote, standby), old_id);
}

// A symbolic link as the identity file made the backup directory the writer the link pointed at, so two
// machines (or two backup directories) pushed to one target unseen; a file of hundreds of MB was read whole
// (1.3 GB of memory for 300 MB) and accepted. Both are refused as damaged, naming the file, nothing sent.
TEST(OffsiteWriterFence, AnIdentityFileThatIsASymbolicLinkOrHugeIsRefusedNamingItAndNothingIsSent) {
  PushSite old_server, other;
  const fs::path remote = old_server.tmp.path() / "remote", link = other.backups / WriterIdentity::kFile;
  DirectoryTarget t(remote);
  old_server.push(t);
  fs::create_symlink(old_server.backups / WriterIdentity::kFile, link);
  auto before = push_test::file_digests(remote);
  expect_error([&] { other.push(t); }, ExitCode::kBadInput, {link.string(), "not a regular file", "target take-over"});
  EXPECT_EQ(push_test::file_digests(remote), before);
  EXPECT_TRUE(fs::is_symlink(link));

  const fs::path file = old_server.backups / WriterIdentity::kFile;
  auto j = nlohmann::json::parse(read_text(file));
  j["host"] = std::string(100 * 1024, 'h');  // the file written is ~100 bytes
  write_text(file, j.dump());
  const std::string huge = read_text(file);
  expect_error([&] { old_server.push(t); }, ExitCode::kBadInput, {file.string(), "bytes, more than"});
  EXPECT_EQ(push_test::file_digests(remote), before);
  EXPECT_EQ(read_text(file), huge);
}

// The identity file deleted (by hand, a clean-up script, a backup directory restored without it): the
// machine is refused at its own target, as it must be (it cannot prove it is the writer), but the refusal
// said it "has not written to a target yet", which sends the operator looking for another machine. It now
// names the missing file and why it may be missing; the take-over it names lets the machine in again.
TEST(OffsiteWriterFence, APushWhoseIdentityFileWasDeletedIsRefusedNamingTheMissingFileAndATakeOverLetsItPushAgain) {
  PushSite site;
  const fs::path remote = site.tmp.path() / "remote", file = site.backups / WriterIdentity::kFile;
  DirectoryTarget t(remote);
  site.push(t);
  fs::remove(file);
  const auto before = push_test::file_digests(remote);
  expect_error([&] { site.push(t); }, ExitCode::kConflict, {file.string(), "does not exist", "deleted", "the writer named is on this host", "target take-over"});
  EXPECT_EQ(push_test::file_digests(remote), before);
  EXPECT_FALSE(fs::exists(file));
  take_over_target(site.backups, t, {});
  EXPECT_NO_THROW(site.push(t));
}

// A directory target that runs `hook` once, right after index.json is put (another machine's write landing
// just after this one's).
class AfterIndexPut : public DirectoryTarget {
 public:
  AfterIndexPut(fs::path dir, std::function<void()> hook) : DirectoryTarget(std::move(dir)), hook_(std::move(hook)) {}
  using DirectoryTarget::put;
  ObjectInfo put(const std::string& key, const fs::path& file, const std::string& known_sha256) override {
    ObjectInfo info = DirectoryTarget::put(key, file, known_sha256);
    if (hook_ && key == RemoteIndex::kKey) std::exchange(hook_, nullptr)();
    return info;
  }

 private:
  std::function<void()> hook_;
};

// Two stand-bys taking over in the same seconds: the later write won and both said "now writes target"
// (exit 0, each with an audit entry), so one operator believed a machine wrote the target that did not.
// The one whose write was overwritten is now told, naming the writer that won.
TEST(OffsiteWriterFence, OfTwoTakeOversAtOnceTheOneWhoseWriteWasOverwrittenIsToldItIsNotTheWriterNamingTheOther) {
  PushSite old_server, first, second;
  const fs::path remote = old_server.tmp.path() / "remote";
  DirectoryTarget plain(remote);
  old_server.push(plain);
  const std::string second_id = writer_identity(second.backups).id;
  AfterIndexPut racing(remote, [&] { take_over_target(second.backups, plain, {}); });
  expect_error([&] { take_over_target(first.backups, racing, {}); }, ExitCode::kConflict,
               {"written again right after it", second_id, "not the target's writer"});
  OffsiteStore store(plain, old_server.tmp.path());
  EXPECT_EQ(store.require_index().writer.value().id, second_id);
}

// A stand-by restored from a keyed target runs the take-over command the restore printed before it sets the
// target again: refused (exit 2, nothing written, as a push is), but the remedy said to set "encryption" in
// backup-target.json by hand; it now gives the `target set` command with the target's encryption.
TEST(OffsiteWriterFenceCli, ATakeOverOfAnEncryptedTargetBeforeTargetSetIsRefusedGivingTheTargetSetCommand) {
  PushSite old_server;
  const fs::path remote = old_server.tmp.path() / "remote", key = old_server.tmp.path() / "backup.key";
  ASSERT_EQ(run_facecrowd("target keygen " + key.string()).exit_code, 0);
  const std::string old = "--data " + old_server.data.string() + " --backup-dir " + old_server.backups.string();
  ASSERT_EQ(run_facecrowd(old + " target set " + remote.string() + " --encryption key --key-file " + key.string()).exit_code, 0);
  ASSERT_EQ(run_facecrowd(old + " oplog ship").exit_code, 0);
  const fs::path standby = old_server.tmp.path() / "standby";
  const auto before = push_test::file_digests(remote);
  auto r = run_facecrowd("--data " + (standby / "data").string() + " --backup-dir " + (standby / "backup").string() +
                         " target take-over --target " + remote.string());
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.err;
  EXPECT_NE(r.err.find("facecrowd target set " + remote.string() + " --encryption key --key-file"), std::string::npos) << r.err;
  EXPECT_EQ(push_test::file_digests(remote), before);
}

// `target take-over --json` refused printed its error on stderr only, so a script reading stdout got nothing
// to parse. It now prints {target, error: {code, message}} there too (the shape of backup --json's
// offsite_error), with the same exit code and the same message on stderr.
TEST(OffsiteWriterFenceCli, ARefusedTakeOverWithJsonPrintsItsErrorAsAJsonObjectWithTheSameExitCode) {
  PushSite old_server;
  const fs::path remote = old_server.tmp.path() / "remote", empty = old_server.tmp.path() / "empty";
  DirectoryTarget t(remote);
  old_server.push(t);
  fs::create_directories(empty);
  const fs::path standby = old_server.tmp.path() / "standby", backups = standby / "backup";
  const std::string dirs = "--data " + (standby / "data").string() + " --backup-dir " + backups.string();
  auto expect_json_error = [](const CommandResult& r, ExitCode code, const nlohmann::json& target, const std::string& why) {
    EXPECT_EQ(r.exit_code, int(code)) << why << "\n" << r.out << r.err;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << why << ": stdout is not JSON: " << r.out;
    EXPECT_EQ(j["target"], target) << why << ": " << r.out;
    EXPECT_EQ(j["error"]["code"], int(code)) << why << ": " << r.out;
    EXPECT_EQ("error: " + j["error"]["message"].get<std::string>() + "\n", r.err) << why << ": the message is stderr's";
  };
  expect_json_error(run_facecrowd(dirs + " target take-over --json"), ExitCode::kUsage, nullptr, "no target configured");
  expect_json_error(run_facecrowd(dirs + " target take-over --json --target " + empty.string()), ExitCode::kNotFound, empty.string(),
                    "no index.json");
  fs::create_directories(backups);
  {
    FileLock pushing = FileLock::wait(backups / "offsite-push.lock");
    expect_json_error(run_facecrowd(dirs + " target take-over --json --target " + remote.string()), ExitCode::kBusy, remote.string(),
                      "a push running");
  }
  // Done, it prints the result as before (no "error").
  auto done = run_facecrowd(dirs + " target take-over --json --target " + remote.string());
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_FALSE(nlohmann::json::parse(done.out).contains("error")) << done.out;
}

// `--target ''` (an unset shell variable) was taken as "no --target": the configured target was taken over,
// moving its writer to this machine unasked. It is refused (exit 2) with nothing changed.
TEST(OffsiteWriterFenceCli, AnEmptyTargetFlagIsRefusedAndDoesNotTakeOverTheConfiguredTarget) {
  PushSite old_server;
  const fs::path remote = old_server.tmp.path() / "remote";
  DirectoryTarget t(remote);
  old_server.push(t);
  const std::string old_id = read_writer_identity(old_server.backups).value().id;
  const fs::path standby = old_server.tmp.path() / "standby", backups = standby / "backup";
  const std::string dirs = "--data " + (standby / "data").string() + " --backup-dir " + backups.string();
  ASSERT_EQ(run_facecrowd(dirs + " target set " + remote.string()).exit_code, 0);
  const auto before = push_test::file_digests(remote);
  auto r = run_facecrowd(dirs + " target take-over --target ''");
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.out << r.err;
  EXPECT_NE(r.err.find("--target: it is empty"), std::string::npos) << r.err;
  EXPECT_EQ(push_test::file_digests(remote), before);
  EXPECT_EQ(target_writer_id(remote, old_server.tmp.path()), old_id);
  EXPECT_FALSE(fs::exists(backups));
}

// A take-over of a folder with no index.json said only that it had none: a mistyped --target (a folder that
// does not exist, or another folder than the configured target) read like a target never pushed to. It now
// says the folder does not exist, and names the configured target; nothing is created, here or there.
TEST(OffsiteWriterFenceCli, ATakeOverOfAFolderWithoutAnIndexSaysItDoesNotExistAndNamesTheConfiguredTarget) {
  PushSite old_server;
  const fs::path remote = old_server.tmp.path() / "remote", typo = old_server.tmp.path() / "remot", empty = old_server.tmp.path() / "empty";
  DirectoryTarget t(remote);
  old_server.push(t);
  fs::create_directories(empty);
  const fs::path standby = old_server.tmp.path() / "standby", backups = standby / "backup";
  const std::string dirs = "--data " + (standby / "data").string() + " --backup-dir " + backups.string();
  ASSERT_EQ(run_facecrowd(dirs + " target set " + remote.string()).exit_code, 0);

  auto r = run_facecrowd(dirs + " target take-over --target " + typo.string());
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotFound)) << r.err;
  EXPECT_NE(r.err.find("the folder '" + typo.string() + "' does not exist"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("The configured target is '" + remote.string() + "'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("leave --target out"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(typo));
  EXPECT_FALSE(fs::exists(backups));

  auto e = run_facecrowd(dirs + " target take-over --target " + empty.string());
  EXPECT_EQ(e.exit_code, int(ExitCode::kNotFound)) << e.err;
  EXPECT_EQ(e.err.find("does not exist"), std::string::npos) << "the folder exists: " << e.err;
  EXPECT_NE(e.err.find("The configured target is '" + remote.string() + "'"), std::string::npos) << e.err;
  EXPECT_TRUE(push_test::file_digests(empty).empty());
  EXPECT_FALSE(fs::exists(backups));
}

}  // namespace
}  // namespace facecrowd
