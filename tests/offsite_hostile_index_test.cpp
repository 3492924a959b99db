// A restore, verify or listing from a bucket that someone else wrote to: the target's index.json is read,
// not trusted. Most tests here edit a real pushed index (or its objects) the way an attacker with write
// access to the bucket, or a damaged copy, would, and check the exit code, the message, and that nothing
// was written outside the destination and the local data stayed as it was; the last ones check that a
// refused restore from a target leaves the live erasure ledger as it was, and that a recovery point short of
// what the target shipped is a warning.
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>

#include "app/privacy/erasure_ledger.h"
#include "backup/offsite/index_auth.h"
#include "backup/offsite/offsite_push.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/target_config.h"
#include "backup/oplog_shipper.h"
#include "backup/slice_integrity.h"
#include "backup/catalog.h"
#include "backup/targets/directory_target.h"
#include "core/files.h"
#include "core/sha256.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

// A deployment that pushed one archive, one slice and one erasure to a directory target, and a new,
// empty machine to restore on.
struct Bucket {
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", remote = tmp.path() / "remote";
  fs::path machine = tmp.path() / "machine";  // the machine that restores: data/ and backup/ inside
  Bucket() {
    fill(data, 20);
    push_test::back_up_write_one_more_and_ship(data, backups);
    append_line_durably(data / ErasureLedger::kFileName,
                        nlohmann::json{{"person_id", "p1"}, {"erased_at", "2026-01-01T00:00:00.000Z"},
                                       {"db", "face-recognition"}, {"attendance_policy", "remove"},
                                       {"requested_by", "dpo"}, {"file_ids", nlohmann::json::array()}}
                            .dump());
    push();
  }
  // Pushes the backup directory and the ledger to the target, as the deployment's cron line does.
  void push() const {
    DirectoryTarget t(remote);
    PushOptions o;
    o.ledger_file = data / ErasureLedger::kFileName;
    push_to_target(backups, t, {}, o);
  }
  // Writes user `id` and ships it in a slice of its own (not pushed).
  void write_user_and_ship(const std::string& id) const {
    {
      auto db = Database::open(DataDir::open(data), "face-recognition");
      auto w = db->write();
      w.insert("users", Document::from_json({{"_id", id}, {"username", id}}));
      w.commit();
    }
    ship_oplog(DataDir::open(data), backups, {});
  }
  // The target's index with every slice inline (format 1, still read): edit_index writes it back as such.
  nlohmann::json index() const {
    const auto j = nlohmann::json::parse(read_text(remote / "index.json"));
    return j["format_version"] == 1 ? j : push_test::format1_index(remote);
  }
  // Rewrites index.json as an attacker would: the directory target's sha256 sidecar made to match.
  void edit_index(const std::function<void(nlohmann::json&)>& edit) const {
    auto j = index();
    edit(j);
    const std::string text = j.dump(1);
    write_text(remote / "index.json", text);
    write_text(remote / "index.json.sha256", sha256_hex(text));
  }
  CommandResult restore(const std::string& extra = "") const {
    return run_facecrowd("--data " + (machine / "data").string() + " --backup-dir " + (machine / "backup").string() +
                         " restore latest --target " + remote.string() + " " + extra);
  }
  RemoteIndex parsed() const { return RemoteIndex::from_json(index(), "index 'test'"); }
};

// A restore (--json) that stops short of what the target shipped: exit 1, one warning naming each of `named`,
// and a recovery point before `before_to`.
void expect_restore_stopped_short(Bucket& b, const std::vector<std::string>& named, const std::string& before_to) {
  auto r = b.restore("--json");
  EXPECT_EQ(r.exit_code, int(ExitCode::kWarning)) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["offsite"]["warnings"].size(), 1u) << r.out;
  const std::string w = j["offsite"]["warnings"][0];
  for (const auto& name : named) EXPECT_NE(w.find(name), std::string::npos) << w;
  EXPECT_LT(*parse_oplog_timestamp(j["offsite"]["recovery_point"].get<std::string>()), *parse_oplog_timestamp(before_to));
}

// Every regular file under `dir`, as paths.
std::set<fs::path> files_under(const fs::path& dir) {
  std::set<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) out.insert(it->path());
  return out;
}

TEST(HostileIndex, AnArchiveNameThatPointsOutsideTheBackupDirectoryIsRefusedAndNothingIsWrittenThere) {
  Bucket b;
  const auto before = files_under(b.tmp.path());
  const std::string real = b.index()["archives"][0]["name"];
  const fs::path outside_abs = b.tmp.path() / "planted_backup.tar.gz";
  for (const std::string& name : {outside_abs.string(), "../../" + real, std::string("backup_a\x1b[31m.tar.gz")}) {
    b.edit_index([&](nlohmann::json& j) { j["archives"][0]["name"] = name; });
    auto r = b.restore();
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << name << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("archives[0].name"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("index.json"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "a control character reached the terminal";
    EXPECT_FALSE(fs::exists(b.machine / "data")) << name;
  }
  auto after = files_under(b.tmp.path());
  for (const auto& f : after)  // only the edited index and its sidecar are new or changed; nothing was planted
    EXPECT_TRUE(before.count(f)) << "written outside the destination: " << f;
  EXPECT_FALSE(fs::exists(outside_abs));
}

TEST(HostileIndex, ASliceNameThatIsNotItsRangeIsRefusedByNameInsteadOfCrashingTheRestore) {
  Bucket b;
  b.edit_index([](nlohmann::json& j) { j["slices"][0]["name"] = "../../planted_oplog.bson.gz"; });
  auto r = b.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("slices[0].name"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(b.tmp.path() / "planted_oplog.bson.gz"));
  EXPECT_FALSE(fs::exists(b.machine / "data"));
  // verify --target and backups list read the same index and refuse it the same way.
  auto v = run_facecrowd("verify --target " + b.remote.string());
  EXPECT_EQ(v.exit_code, int(ExitCode::kBadInput)) << v.out << v.err;
  auto l = run_facecrowd("backups list --target " + b.remote.string());
  EXPECT_EQ(l.exit_code, int(ExitCode::kBadInput)) << l.out << l.err;
  EXPECT_NE(l.err.find("slices[0].name"), std::string::npos) << l.err;
}

TEST(HostileIndex, SizesThatAreNotWholeNumbersDigestsThatAreNotHexOrAbsentAndKeysOffTheLayoutAreRefusedByField) {
  Bucket b;
  ASSERT_NO_THROW(b.parsed());  // what push wrote is valid
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& j) { j["archives"][0]["object"]["size"] = -1; }, "archives[0].object.size"},
      {[](auto& j) { j["archives"][0]["object"]["size"] = 1.5; }, "archives[0].object.size"},
      {[](auto& j) { j["slices"][0]["object"]["size"] = "12"; }, "slices[0].object.size"},
      {[](auto& j) { j["archives"][0]["object"]["sha256"] = std::string(64, 'z'); }, "archives[0].object.sha256"},
      {[](auto& j) { j["archives"][0]["object"]["sha256"] = ""; }, "archives[0].object records neither"},
      {[](auto& j) { j["ledger"]["chunks"][0]["plain_sha256"] = "abc"; }, "ledger.chunks[0].plain_sha256"},
      {[](auto& j) { j["archives"][0]["object"]["key"] = "archives/../../other/x.tar.gz"; }, "archives[0].object.key"},
      {[](auto& j) { j["archives"][0]["manifest_object"]["key"] = j["slices"][0]["object"]["key"]; },
       "archives[0].manifest_object.key"},
      {[](auto& j) { j["ledger"]["chunks"][0]["object"]["key"] = "ledger/ledger-0000000000000099.jsonl"; },
       "ledger.chunks[0].object.key"},
      {[](auto& j) { j["archives"].push_back(j["archives"][0]); }, "archives[1].name"},
      {[](auto& j) { j["slices"][0]["from"] = "not-a-position"; }, "slices[0].from"},
      {[](auto& j) { j["archives"][0]["db"] = "other-db"; }, "archives[0].db"},
      {[](auto& j) { j["archives"][0]["created"] = "2020-01-01T00:00:00Z"; }, "archives[0].created"},
  };
  for (const auto& c : cases) {
    auto j = b.index();
    c.edit(j);
    expect_error([&] { RemoteIndex::from_json(j, "index 'test'"); }, ExitCode::kBadInput, {"index 'test'", c.field});
  }
  // Through the binary: exit 3, nothing restored.
  b.edit_index([](nlohmann::json& j) { j["archives"][0]["object"]["size"] = -1; });
  auto r = b.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
  EXPECT_NE(r.err.find("archives[0].object.size is -1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(b.machine / "data"));
}

// Objects are encrypted without their names in the ciphertext, so another backup's object (the same key)
// copied over an archive decrypts, checks against an index patched to its size and sha256, and restores.
// A slices_pruned_through that is not a string was refused as "malformed: type must be string, but is
// number", naming no field.
TEST(HostileIndex, ASlicesPrunedThroughThatIsNotAStringIsRefusedNamingTheField) {
  Bucket b;
  const nlohmann::json original = b.index();
  for (const nlohmann::json& value : {nlohmann::json(5), nlohmann::json(nullptr), nlohmann::json::array()}) {
    b.edit_index([&](nlohmann::json& j) {
      j = original;
      j["slices_pruned_through"] = value;
    });
    auto l = run_facecrowd("backups list --target " + b.remote.string());
    EXPECT_EQ(l.exit_code, int(ExitCode::kBadInput)) << value.dump() << ": " << l.out << l.err;
    EXPECT_NE(l.err.find("slices_pruned_through " + value.dump()), std::string::npos) << l.err;
  }
}

TEST(HostileIndex, TheIndexsOwnFieldsThatTheListingPrintsOrKeysAreChosenByAreRefusedWhenNotWhatPushWrites) {
  Bucket b;
  const nlohmann::json original = b.index();
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"updated_at", "\x1b[2J"}, {"encryption", "\x1b[31mnone"}, {"passphrase_salt", "not hex"},
           {"slices_pruned_through", "\x1b[2J"}}) {
    b.edit_index([&](nlohmann::json& j) {
      j = original;
      j[field] = value;
    });
    auto l = run_facecrowd("backups list --target " + b.remote.string());
    EXPECT_EQ(l.exit_code, int(ExitCode::kBadInput)) << field << ": " << l.out << l.err;
    EXPECT_NE(l.err.find(field + " "), std::string::npos) << l.err;
    EXPECT_EQ((l.out + l.err).find('\x1b'), std::string::npos) << "a control character reached the terminal";
  }
}

TEST(HostileIndex, AnotherBackupsObjectCopiedOverAnArchiveDecryptsWithTheSameKeyButIsRefusedAsNotThatBackup) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", remote = tmp.path() / "remote",
                 key = tmp.path() / "k", machine = tmp.path() / "machine";
  fill(data, 10);
  const std::string a = backup(data, backups).archive.filename().string();
  {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    w.insert("users", Document::from_json({{"_id", "between"}, {"username", "between"}}));
    w.commit();
  }
  const std::string b = backup(data, backups).archive.filename().string();
  ASSERT_NE(a, b);
  generate_key_file(key);
  TargetConfig config;
  config.target = remote.string();
  config.encryption = "key";
  config.key_files = {key};
  DirectoryTarget t(remote);
  PushOptions o;
  o.prune = false;  // both archives are of today: remote retention would keep only the newer
  push_to_target(backups, t, config, o);

  auto index = nlohmann::json::parse(read_text(remote / "index.json"));
  ASSERT_EQ(index["archives"].size(), 2u);
  ASSERT_EQ(index["archives"][0]["name"], a);
  // The attacker copies B's objects (and the directory target's sha256 sidecars) over A's, and patches A's
  // entry in the index to their sizes and digests.
  auto copy_over = [&](const char* field) {
    const std::string from = index["archives"][1][field]["key"], to = index["archives"][0][field]["key"];
    for (const std::string suffix : {"", ".sha256"})
      fs::copy_file(remote / (from + suffix), remote / (to + suffix), fs::copy_options::overwrite_existing);
    for (const char* f : {"size", "sha256"}) index["archives"][0][field][f] = index["archives"][1][field][f];
  };
  // Re-signed with the key: the identity check stands on its own, behind the index's tag (index_auth.h),
  // which refuses such an edit by whoever lacks the key.
  KeyRing ring;
  ring.add_key_file(key);
  auto write_index = [&] {
    const std::string text = signed_index_text(index, &ring).text;
    write_text(remote / "index.json", text);
    write_text(remote / "index.json.sha256", sha256_hex(text));
  };
  auto restore_a = [&] {
    return run_facecrowd("--data " + (machine / "data").string() + " --backup-dir " + (machine / "backup").string() +
                         " restore " + a + " --target " + remote.string() + " --key-file " + key.string());
  };
  const fs::path restored_db = machine / "data" / "face-recognition";

  // Only the archive object replaced (its manifest copy still A's): the archive's own manifest says B.
  copy_over("object");
  write_index();
  auto r = restore_a();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("is not backup '" + a + "'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("it holds " + b), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(restored_db / "CURRENT"));
  auto v = run_facecrowd("verify --target " + remote.string() + " --read-data --key-file " + key.string() + " " + a);
  EXPECT_EQ(v.exit_code, int(ExitCode::kBadInput)) << v.out << v.err;
  EXPECT_NE(v.out.find("archive identity"), std::string::npos) << v.out;

  // Both objects replaced: refused as the manifest copy arrives, before anything is restored.
  fs::remove_all(machine);
  copy_over("manifest_object");
  write_index();
  r = restore_a();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.out << r.err;
  EXPECT_NE(r.err.find("it holds " + b), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(machine / "data"));
}

TEST(OffsiteVerifyCli, ReadDataTakesTheArchiveNameAfterAKeyFileAndAMissingKeyIsAUsageErrorNotADamagedTarget) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", remote = tmp.path() / "remote",
                 key = tmp.path() / "k";
  fill(data, 5);
  const std::string a = backup(data, backups).archive.filename().string();
  generate_key_file(key);
  TargetConfig config;
  config.target = remote.string();
  config.encryption = "key";
  config.key_files = {key};
  DirectoryTarget t(remote);
  push_to_target(backups, t, config, {});
  // The positional after --key-file is the archive, not a second key file.
  auto named = run_facecrowd("verify --target " + remote.string() + " --read-data --key-file " + key.string() + " " + a);
  EXPECT_EQ(named.exit_code, 0) << named.out << named.err;
  EXPECT_NE(named.out.find(a), std::string::npos) << named.out;
  // No key: the target is fine; verify says which key it needs (exit 2), not "do not rely on this target".
  auto no_key = run_facecrowd("verify --target " + remote.string() + " --read-data",
                              "FACECROWD_BACKUP_TARGET_CONFIG=" + (tmp.path() / "none.json").string());
  EXPECT_EQ(no_key.exit_code, int(ExitCode::kUsage)) << no_key.out << no_key.err;
  EXPECT_NE(no_key.err.find("--key-file"), std::string::npos) << no_key.err;
  EXPECT_EQ(no_key.out.find("do not rely"), std::string::npos) << no_key.out;
}

TEST(HostileIndex, AnIndexEditedToDropTheLedgerStillRestoresTheErasuresFromTheLedgerObjectsLeftInTheBucket) {
  Bucket b;
  const std::string ledger_text = read_text(b.data / ErasureLedger::kFileName);
  b.edit_index([](nlohmann::json& j) { j["ledger"] = {{"bytes", 0}, {"sha256", ""}, {"chunks", nlohmann::json::array()}}; });
  auto v = run_facecrowd("verify --target " + b.remote.string());
  EXPECT_EQ(v.exit_code, int(ExitCode::kBadInput)) << v.out << v.err;
  EXPECT_NE(v.out.find("ledger/ledger-0000000000000000.jsonl"), std::string::npos) << v.out;
  auto r = b.restore("--json");
  EXPECT_EQ(r.exit_code, int(ExitCode::kWarning)) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["offsite"]["ledger_records_added"], 1) << r.out;
  ASSERT_EQ(j["offsite"]["warnings"].size(), 1u) << r.out;
  EXPECT_NE(j["offsite"]["warnings"][0].get<std::string>().find("not named by the target's index"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(b.machine / "data" / ErasureLedger::kFileName), ledger_text);
}

TEST(OffsiteRestoreCli, ARestoreOnAMachineWithoutATargetConfiguredSaysHowToSendNewBackupsOffSiteAgain) {
  Bucket b;
  const std::string no_config = "FACECROWD_BACKUP_TARGET= FACECROWD_BACKUP_TARGET_CONFIG=" + (b.tmp.path() / "none.json").string();
  auto r = run_facecrowd("--data " + (b.machine / "data").string() + " --backup-dir " + (b.machine / "backup").string() +
                             " restore latest --target " + b.remote.string(), no_config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("facecrowd target set " + b.remote.string()), std::string::npos) << r.out;
}

TEST(OffsiteRestoreCli, WhatARestoreKilledMidwayLeftInTheBackupDirectoryIsRemovedByTheNextOneAndNothingElse) {
  Bucket b;
  const fs::path dir = b.machine / "backup";
  fs::create_directories(dir);
  // A pid that ran and exited (SIGKILL leaves what a destructor would have removed).
  auto sh = run_shell("sh -c 'echo $$'");
  const std::string dead = sh.out.substr(0, sh.out.find('\n'));
  ASSERT_FALSE(dead.empty());
  const std::string archive = b.index()["archives"][0]["name"], slice = b.index()["slices"][0]["name"];
  const std::vector<fs::path> leftovers = {dir / (".offsite-tmp-" + dead + "-0"), dir / (archive + ".partial-" + dead),
                                           dir / (archive + ".manifest.json.partial-" + dead), dir / (slice + ".partial-" + dead),
                                           dir / (slice + ".json.partial-" + dead)};
  fs::create_directories(leftovers[0]);
  write_text(leftovers[0] / "download.enc", std::string(1000, 'x'));
  for (size_t i = 1; i < leftovers.size(); ++i) write_text(leftovers[i], "half");
  const fs::path live = dir / (archive + ".partial-" + std::to_string(::getpid()));  // a live writer's
  const fs::path other = dir / ("notes.partial-" + dead);                             // not a name we write
  write_text(live, "x");
  write_text(other, "x");
  auto r = b.restore();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& l : leftovers) EXPECT_FALSE(fs::exists(l)) << l;
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
}

TEST(OffsiteRestoreCli, ADamagedArchiveAlreadyInTheBackupDirectoryIsNamedAsTheLocalCopyWithHowToGetTheTargetsOne) {
  Bucket b;
  ASSERT_EQ(b.restore().exit_code, 0);
  const fs::path local = b.machine / "backup" / b.index()["archives"][0]["name"].get<std::string>();
  flip_byte(local, std::streamoff(fs::file_size(local) / 2));
  fs::remove_all(b.machine / "data");
  auto r = b.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
  EXPECT_NE(r.err.find("already in the backup directory, not the target's"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("move '" + local.string() + "' away"), std::string::npos) << r.err;
  fs::rename(local, b.tmp.path() / "damaged.tar.gz");
  EXPECT_EQ(b.restore().exit_code, 0);
}

// A directory target named like an S3 source, DIR/latest, was answered "not found" with no hint of the form
// a directory target takes.
TEST(OffsiteRestoreCli, ADirectoryTargetGivenAsDirSlashLatestIsAnsweredWithTheTargetForm) {
  TempDir tmp;
  const fs::path target = tmp.path() / "offsite";
  fs::create_directories(target);
  write_text(target / "index.json", "{}");
  auto r = run_facecrowd("--data " + (tmp.path() / "data").string() + " --backup-dir " + (tmp.path() / "backup").string() +
                         " restore " + (target / "latest").string());
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotFound)) << r.err;
  EXPECT_NE(r.err.find("`facecrowd restore latest --target " + target.string() + "`"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "data"));
}

TEST(OffsiteRestoreCli, AnS3SourceWithATrailingSlashIsTheSameSource) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  TempDir tmp;
  const std::string env = "AWS_ENDPOINT_URL=" + server.endpoint() + " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER "
                          "AWS_REGION=us-east-1 AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent";
  fill(tmp.path() / "data", 3);
  auto up = run_facecrowd("--data " + (tmp.path() / "data").string() + " --backup-dir " + (tmp.path() / "backup").string() +
                              " backup --target s3://facecrowd-test/p",
                          env);
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto r = run_facecrowd("--data " + (tmp.path() / "new").string() + " --backup-dir " + (tmp.path() / "newb").string() +
                             " restore s3://facecrowd-test/p/latest/",
                         env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(snapshot(tmp.path() / "new", "face-recognition"), snapshot(tmp.path() / "data", "face-recognition"));
}

TEST(HostileIndex, AnArchiveObjectChangedInTheBucketIsRefusedByNameAndLeavesNoFileInTheBackupDirectory) {
  Bucket b;
  const fs::path object = b.remote / b.index()["archives"][0]["object"]["key"].get<std::string>();
  flip_byte(object, std::streamoff(fs::file_size(object) / 2));
  write_text(fs::path(object.string() + ".sha256"), *sha256_of_file(object));  // the target's own digest agrees
  auto r = b.restore();
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
  EXPECT_NE(r.err.find(b.index()["archives"][0]["object"]["key"].get<std::string>()), std::string::npos) << r.err;
  EXPECT_TRUE(files_under(b.machine).empty()) << *files_under(b.machine).begin();
}

// slices_pruned_through edited to the far future: an --until past everything shipped was answered by
// restoring the backup to its own time with a warning that retention deleted slices up to 2106 (exit 1),
// instead of being refused as outside the window.
TEST(HostileIndex, ASlicesPrunedThroughBeyondTheNewestSliceIsNotBelievedAndAnUntilPastTheWindowIsStillRefused) {
  Bucket b;
  b.edit_index([](nlohmann::json& j) { j["slices_pruned_through"] = "4294967295:4294967295"; });
  auto r = b.restore("--until 2099-01-01T00:00:00Z");
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("remote retention deleted"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("outside the window"), std::string::npos) << r.err;
}

TEST(OffsiteRestoreRefused, ARestoreRefusedBeforeAnythingIsDownloadedLeavesNoBackupDirectoryBehind) {
  Bucket b;
  b.edit_index([](nlohmann::json& j) { j["archives"][0]["object"]["size"] = -1; });
  EXPECT_EQ(b.restore().exit_code, int(ExitCode::kBadInput));
  EXPECT_FALSE(fs::exists(b.machine / "backup"));
  // One that existed before stays.
  fs::create_directories(b.machine / "backup");
  EXPECT_EQ(b.restore().exit_code, int(ExitCode::kBadInput));
  EXPECT_TRUE(fs::is_directory(b.machine / "backup"));
}

// A deployment's first day off-site is one archive, one slice and one ledger chunk, and every summary said
// "1 archives, 1 oplog slices (in 1 segments), 1 ledger chunks", "downloaded … and 1 oplog slices", "1 shipped
// slices". One helper (core/number_text.h's counted) chooses each count's noun.
TEST(OffsiteCounts, ATargetWithOneArchiveSliceAndLedgerChunkIsListedVerifiedAndRestoredInTheSingular) {
  Bucket b;
  ASSERT_EQ(b.index()["archives"].size(), 1u);
  ASSERT_EQ(b.index()["slices"].size(), 1u);
  auto listed = run_facecrowd("backups list --target " + b.remote.string());
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("  1 oplog slice ("), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(" bytes in 1 chunk\n"), std::string::npos) << listed.out;
  auto verified = run_facecrowd("--backup-dir " + (b.tmp.path() / "scratch").string() + " verify --target " + b.remote.string());
  ASSERT_LE(verified.exit_code, 1) << verified.out << verified.err;  // 1: a warning (a plaintext target's index is not authenticated)
  EXPECT_NE(verified.out.find("index: 1 archive, 1 oplog slice (in 1 segment), 1 ledger chunk ("), std::string::npos) << verified.out;
  EXPECT_NE(verified.out.find("ledger chain: 1 chunk covers bytes 0.."), std::string::npos) << verified.out;
  auto restored = b.restore();
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  for (const std::string part : {" and 1 oplog slice (", ", 1 shipped slice)", "erasure ledger: 1 record from the target"})
    EXPECT_NE(restored.out.find(part), std::string::npos) << part << " in: " << restored.out;
  for (const auto* out : {&listed.out, &verified.out, &restored.out})
    for (const std::string wrong : {"1 archives", "1 oplog slices", "1 segments", "1 ledger chunks", "1 chunks", "1 shipped slices",
                                    "1 records", "1 objects"})
      EXPECT_EQ(out->find(wrong), std::string::npos) << wrong << " in: " << *out;
}

// An --until the target cannot reach was refused only once the archive and its slices had been downloaded
// (25 MB for the demo data), and they stayed in the backup directory. It is refused from the index: before the
// oldest archive (exit 2, naming the oldest point, where it said "no backup archive" with exit 4) and past the
// newest slice, with nothing downloaded and no file left behind.
TEST(OffsiteRestoreRefused, AnUntilBeforeTheOldestOrPastTheNewestRecoveryPointIsRefusedBeforeAnythingIsDownloaded) {
  Bucket b;
  const std::string archive = b.index()["archives"][0]["name"];
  const std::string start = b.index()["archives"][0]["manifest"]["oplog"]["start"];
  for (const bool backup_dir_existed : {false, true}) {
    if (backup_dir_existed) fs::create_directories(b.machine / "backup");
    auto late = b.restore("--until 2099-01-01T00:00:00Z");
    EXPECT_EQ(late.exit_code, int(ExitCode::kUsage)) << late.out << late.err;
    EXPECT_NE(late.err.find("is outside the window this backup and the shipped oplog cover"), std::string::npos) << late.err;
    EXPECT_NE(late.err.find("its newest recovery point is"), std::string::npos) << late.err;
    auto early = b.restore("--until 2000-01-01T00:00:00Z");
    EXPECT_EQ(early.exit_code, int(ExitCode::kUsage)) << early.out << early.err;
    EXPECT_NE(early.err.find("--until 946684800:0 (2000-01-01T00:00:00.000Z) is before every backup of 'face-recognition' in target '"),
              std::string::npos)
        << early.err;
    EXPECT_NE(early.err.find("the oldest, '" + archive + "', starts at " + start), std::string::npos) << early.err;
    EXPECT_EQ(fs::exists(b.machine / "backup"), backup_dir_existed);
    EXPECT_TRUE(files_under(b.machine).empty()) << "a refused restore left " << files_under(b.machine).begin()->string();
    EXPECT_FALSE(fs::exists(b.machine / "data"));
  }
  // An --until inside the window still restores.
  auto ok = b.restore("--until " + b.index()["slices"][0]["to"].get<std::string>());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST(OffsiteRestoreRefused, ARestoreRefusedForANonEmptyDatabaseOrAnUntilOutsideTheWindowLeavesTheLiveErasureLedgerAsItWas) {
  Bucket b;
  // A machine with data of its own, and an erasure ledger of its own.
  fill(b.machine / "data", 5);
  const fs::path ledger = b.machine / "data" / ErasureLedger::kFileName;
  append_line_durably(ledger, nlohmann::json{{"person_id", "local-1"}, {"erased_at", "2026-02-01T00:00:00.000Z"},
                                             {"db", "face-recognition"}, {"attendance_policy", "remove"},
                                             {"requested_by", "dpo"}, {"file_ids", nlohmann::json::array()}}
                                  .dump());
  const std::string before = read_text(ledger);
  auto conflict = b.restore();
  EXPECT_EQ(conflict.exit_code, int(ExitCode::kConflict)) << conflict.out << conflict.err;
  EXPECT_EQ(read_text(ledger), before) << "a refused restore added the target's erasures to the live ledger";
  auto late = b.restore("--drop --until 2099-01-01T00:00:00Z");
  EXPECT_EQ(late.exit_code, int(ExitCode::kUsage)) << late.out << late.err;
  EXPECT_EQ(read_text(ledger), before);
  // A machine without a ledger keeps having none.
  fs::remove(ledger);
  EXPECT_EQ(b.restore().exit_code, int(ExitCode::kConflict));
  EXPECT_FALSE(fs::exists(ledger));
  // The same restore with --drop goes through, and then the target's erasure is in the ledger, after the local one.
  write_text(ledger, before);
  auto ok = b.restore("--drop --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["offsite"]["ledger_records_added"], 1) << ok.out;
  const std::string after = read_text(ledger);
  EXPECT_EQ(after.rfind(before, 0), 0u) << after;
  EXPECT_NE(after.find("\"p1\""), std::string::npos) << after;
}

TEST(OffsiteRestoreRefused, ARecoveryPointShortOfWhatTheTargetShippedIsAWarningNamingWhereTheSlicesStop) {
  Bucket b;
  b.write_user_and_ship("later");
  b.push();
  ASSERT_EQ(b.index()["slices"].size(), 2u);
  const std::string missing_to = b.index()["slices"][0]["to"];
  const std::string shipped = b.index()["slices"][1]["to"];
  // The first slice after the archive is lost from the bucket (and from its index).
  b.edit_index([](nlohmann::json& j) { j["slices"].erase(0); });
  ASSERT_NO_FATAL_FAILURE(expect_restore_stopped_short(b, {shipped, "missing"}, missing_to));
  auto s = snapshot(b.machine / "data", "face-recognition");
  EXPECT_FALSE(s["users"].count("later"));
}

// Found by the attacker's pass, 2026-12-01: a slice the index lists but the bucket lost (a lifecycle rule, a
// hand) made the whole disaster recovery fail (exit 4, after the archive was downloaded), where a slice missing
// from the index stops it short with a warning (the README's runbook). Now both stop short, exit 1.
TEST(OffsiteRestore, ASliceTheIndexListsButTheBucketLostStopsTheRestoreShortWithAWarningNamingItInsteadOfFailingIt) {
  Bucket b;
  b.write_user_and_ship("later");
  b.push();
  ASSERT_EQ(b.index()["slices"].size(), 2u);
  const std::string lost_to = b.index()["slices"][1]["to"];
  const std::string lost_key = b.index()["slices"][1]["object"]["key"];
  ASSERT_TRUE(fs::remove(b.remote / lost_key)) << lost_key;

  ASSERT_NO_FATAL_FAILURE(expect_restore_stopped_short(b, {lost_key, "no longer holds it"}, lost_to));
  auto s = snapshot(b.machine / "data", "face-recognition");
  EXPECT_TRUE(s["users"].count("late")) << "the slice before the lost one was replayed";
  EXPECT_FALSE(s["users"].count("later"));
}

// A target keeps oplog slices only for its point-in-time window (offsite_retention.h): an --until before it
// restores the older archive to its own time, with a warning (exit 1) that says retention removed the
// slices and names the recovery point, instead of a refusal that blames the window or a silent short restore.
TEST(OffsiteRestore, AnUntilBeforeThePointInTimeWindowRestoresTheOlderBackupToItsOwnTimeAndSaysRetentionRemovedTheSlices) {
  Bucket b;  // backup A, user "late" in slice S1, pushed
  const std::string late_to = b.index()["slices"][0]["to"];
  b.write_user_and_ship("between");
  backup(b.data, b.backups);  // backup B
  b.write_user_and_ship("newest");
  // Ten days on, with a one-day window: no backup was made inside it, so the slices kept are those the
  // newest backup (B) needs; the slices after A go.
  DirectoryTarget t(b.remote);
  PushOptions o;
  o.ledger_file = b.data / ErasureLedger::kFileName;
  o.retention = {30, 24, 1};
  o.now = now_millis() + 10 * 86400000LL;
  auto pushed = push_to_target(b.backups, t, {}, o);
  ASSERT_EQ(b.index()["slices"].size(), 1u) << b.index().dump(1);
  // S1 and its record, and A (the older backup of the same day) with its manifest copy; the slice of
  // "between" was never sent (retention would delete it at once).
  ASSERT_EQ(pushed.pruned.size(), 4u) << pushed.to_json().dump();
  EXPECT_EQ(b.index()["slices_pruned_through"], late_to);
  // A backup of today cannot be older than the window, so A comes back by a push without retention (of
  // this backup directory without the slices retention deleted): the target then holds what it holds months
  // later, a monthly backup whose slices retention deleted.
  const auto newest = BackupCatalog(b.backups).shipped_position();
  for (const auto& sl : BackupCatalog(b.backups).slices())
    if (sl.to != newest) {
      fs::remove(sl.path);
      fs::remove(slice_record_path(sl.path));
    }
  o.prune = false;
  push_to_target(b.backups, t, {}, o);
  ASSERT_EQ(b.index()["archives"].size(), 2u) << b.index().dump(1);
  ASSERT_EQ(b.index()["slices"].size(), 1u) << b.index().dump(1);

  const OplogTimestamp late = *parse_oplog_timestamp(late_to);
  auto r = b.restore("--json --until " + OplogTimestamp{late.secs, late.inc + 1}.to_string());
  ASSERT_EQ(r.exit_code, int(ExitCode::kWarning)) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["offsite"]["warnings"].size(), 1u) << r.out;
  const std::string w = j["offsite"]["warnings"][0];
  EXPECT_NE(w.find("remote retention deleted its oplog slices"), std::string::npos) << w;
  EXPECT_NE(w.find("restored to its own time"), std::string::npos) << w;
  EXPECT_NE(w.find("--pitr-days"), std::string::npos) << w;
  const auto point = *parse_oplog_timestamp(j["offsite"]["recovery_point"].get<std::string>());
  EXPECT_LT(point, late);
  EXPECT_NE(w.find(point.to_string()), std::string::npos) << "names the recovery point: " << w;
  auto s = snapshot(b.machine / "data", "face-recognition");
  EXPECT_TRUE(s["users"].count("u0"));
  EXPECT_FALSE(s["users"].count("late"));

  // Inside the window (the default: the last shipped slice) nothing is short.
  auto latest = b.restore("--drop --json");
  ASSERT_EQ(latest.exit_code, 0) << latest.out << latest.err;
  s = snapshot(b.machine / "data", "face-recognition");
  EXPECT_TRUE(s["users"].count("between"));
  EXPECT_TRUE(s["users"].count("newest"));
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// A directory target's '<object>.sha256' sidecar is the target's text, not ours: a hostile one holding ESC
// sequences or a newline reached the terminal raw in the 'is damaged' refusal (and forged a line).
TEST(HostileIndex, ADirectoryTargetsShaSidecarWithControlCharactersIsShownEscapedInTheDamageRefusal) {
  TempDir tmp;
  DirectoryTarget target(tmp.path() / "target");
  const fs::path object = tmp.path() / "object";
  write_file_durably(object, "the object's bytes\n");
  target.put("archives/a.tar.gz", object);
  write_file_durably(tmp.path() / "target" / "archives" / "a.tar.gz.sha256", std::string(64, 'a') + "\x1b[2J\nforged line");
  try {
    target.get("archives/a.tar.gz", tmp.path() / "copy");
    FAIL() << "a sidecar that does not match was taken";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << what;
    EXPECT_EQ(what.find('\x1b'), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find("\\x1b[2J\\nforged line"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "copy"));
}

}  // namespace
}  // namespace facecrowd
