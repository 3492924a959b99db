// Off-site configuration under attack, on the write side: keys that would make every backup unreadable or
// put the offline key on the server, key files that do not load, retention numbers that are not what they
// look like, an empty target, and what an oplog ship says when its upload fails.
#include <gtest/gtest.h>

#include "backup/catalog.h"
#include "backup/crypto/object_crypto.h"
#include "backup/offsite/target_config.h"
#include "backup/targets/directory_target.h"
#include "core/error.h"
#include "core/files.h"
#include "offsite_push_site.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace push_test;

// Write-only mode seals every backup to a public key; `target keygen --write-only` writes the pair as FILE
// (private) and FILE.pub, both 64 hex characters. The private half given as the public key would seal every
// backup to a key whose secret no one holds (none could ever be restored) and put the offline key on the
// server: refused by name, when the target is set and at every push (fail closed: nothing uploaded).
TEST(OffsiteKeys, ThePrivateKeyOfAWriteOnlyPairGivenAsThePublicKeyIsRefusedByNameAndNothingIsUploaded) {
  PushSite s;
  const fs::path pair = s.tmp.path() / "restore.key";
  generate_key_pair(pair);
  TargetConfig config;
  config.target = (s.tmp.path() / "remote").string();
  config.encryption = "public-key";
  config.public_key_file = pair;
  DirectoryTarget t(s.tmp.path() / "remote");
  expect_error([&] { s.push(t, config); }, ExitCode::kUsage, {"PRIVATE key", pair.string() + ".pub", "refusing to upload plaintext"});
  EXPECT_TRUE(t.list("").empty());

  auto set = run_facecrowd("target set " + config.target + " --encryption public-key --public-key " + pair.string(),
                           "FACECROWD_DATA=" + s.data.string());
  EXPECT_EQ(set.exit_code, int(ExitCode::kUsage)) << set.err;
  EXPECT_NE(set.err.find("PRIVATE key"), std::string::npos) << set.err;
  EXPECT_FALSE(fs::exists(s.data / "backup-target.json"));

  // The right half works.
  config.public_key_file = pair.string() + ".pub";
  EXPECT_FALSE(s.push(t, config).uploaded.empty());
}

// Write-only mode means the server holds nothing that reads its backups. `target set --encryption public-key`
// used to take the PRIVATE key as --key-file and store its path in the server's configuration (read at every
// push): refused now, naming the file and where the private key belongs, with nothing written.
TEST(OffsiteKeys, TargetSetRefusesThePrivateKeyOfAWriteOnlyTargetAndWritesNothing) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", pair = tmp.path() / "offline" / "restore.key";
  fs::create_directories(pair.parent_path());
  generate_key_pair(pair);
  const std::string remote = (tmp.path() / "remote").string();
  for (const std::string& args :
       {"target set " + remote + " --encryption public-key --public-key " + pair.string() + ".pub --key-file " + pair.string(),
        "target set " + remote + " --key-file " + pair.string() + " --encryption public-key --public-key " + pair.string() + ".pub"}) {
    auto r = run_facecrowd(args, "FACECROWD_DATA=" + data.string());
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << args << "\n" << r.err;
    for (const std::string& part : {"--key-file " + pair.string(), std::string("--public-key"), std::string("offline"),
                                    std::string("restore"), std::string("--read-data"), std::string("nothing was written")})
      EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
    EXPECT_FALSE(fs::exists(data / "backup-target.json"));
  }
  // Only the .pub: accepted, and the configuration names no private key.
  auto ok = run_facecrowd("target set " + remote + " --encryption public-key --public-key " + pair.string() + ".pub",
                          "FACECROWD_DATA=" + data.string());
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(read_file(data / "backup-target.json").find(pair.string() + "\""), std::string::npos);
}

// `target set --encryption none --key-file K` used to save K with the configuration, where nothing uses it
// (the backups go up unencrypted): refused, exit 2, naming --key-file and where key files belong.
TEST(OffsiteKeys, TargetSetRefusesAKeyFileWithEncryptionNoneAndWritesNothing) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", key = tmp.path() / "k";
  generate_key_file(key);
  const std::string remote = (tmp.path() / "remote").string();
  for (const std::string& args : {"target set " + remote + " --encryption none --key-file " + key.string(),
                                  "target set " + remote + " --key-file " + key.string() + " --encryption none"}) {
    auto r = run_facecrowd(args, "FACECROWD_DATA=" + data.string());
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << args << "\n" << r.err;
    for (const std::string& part : {"--key-file " + key.string(), std::string("--encryption none"),
                                    std::string("--encryption key"), std::string("--public-key"), std::string("nothing was written")})
      EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
    EXPECT_FALSE(fs::exists(data / "backup-target.json"));
  }
  auto ok = run_facecrowd("target set " + remote + " --encryption none", "FACECROWD_DATA=" + data.string());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// The same private key written into the configuration file by hand: every push refuses it (exit 3, naming
// the file and the field) before anything is uploaded, and the push works once the field is gone.
TEST(OffsiteKeys, AHandEditedConfigurationWithThePrivateKeyOfAWriteOnlyTargetIsRefusedAtPushAndNothingIsUploaded) {
  PushSite s;
  const fs::path pair = s.tmp.path() / "restore.key", remote = s.tmp.path() / "remote", file = s.data / "backup-target.json";
  generate_key_pair(pair);
  fs::create_directories(remote);
  nlohmann::json j = {{"target", remote.string()}, {"encryption", "public-key"},
                      {"public_key_file", pair.string() + ".pub"}, {"key_files", {pair.string()}}};
  write_text(file, j.dump(2));

  auto config = TargetConfig::load(s.data);
  ASSERT_TRUE(config);
  DirectoryTarget t(remote);
  expect_error([&] { s.push(t, *config); }, ExitCode::kBadInput,
               {file.string(), "\"key_files\"", pair.string(), "public_key_file", "offline", "--key-file"});
  EXPECT_TRUE(t.list("").empty());

  const std::string env = "FACECROWD_DATA=" + s.data.string() + " FACECROWD_BACKUP_DIR=" + s.backups.string();
  auto r = run_facecrowd("oplog ship", env);
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
  EXPECT_NE(r.err.find(file.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"key_files\""), std::string::npos) << r.err;
  EXPECT_TRUE(t.list("").empty());

  j.erase("key_files");
  write_text(file, j.dump(2));
  EXPECT_FALSE(s.push(t, *TargetConfig::load(s.data)).uploaded.empty());
}

// A restore or `verify --read-data` of a write-only target without its private key used to suggest a key file
// or $FACECROWD_BACKUP_PASSPHRASE, neither of which can open it: it says the target is write-only and that the
// PRIVATE key (kept offline) is needed with --key-file, still exit 2, and with that key the restore runs.
TEST(OffsiteKeys, ARestoreOfAWriteOnlyTargetWithoutThePrivateKeySaysThePrivateKeyIsNeededWithKeyFile) {
  PushSite s;
  const fs::path pair = s.tmp.path() / "offline" / "restore.key", remote = s.tmp.path() / "remote";
  fs::create_directories(pair.parent_path());
  generate_key_pair(pair);
  TargetConfig config;
  config.target = remote.string();
  config.encryption = "public-key";
  config.public_key_file = pair.string() + ".pub";
  DirectoryTarget t(remote);
  ASSERT_FALSE(s.push(t, config).uploaded.empty());

  const std::string machine = "--data " + (s.tmp.path() / "m" / "data").string() + " --backup-dir " +
                              (s.tmp.path() / "m" / "backup").string();
  const std::string env = "FACECROWD_BACKUP_TARGET= FACECROWD_BACKUP_KEY_FILE= FACECROWD_BACKUP_PASSPHRASE= "
                          "FACECROWD_BACKUP_TARGET_CONFIG=" + (s.tmp.path() / "none.json").string();
  for (const std::string& cmd : {" restore latest --target " + remote.string(),
                                 " verify latest --read-data --target " + remote.string()}) {
    auto r = run_facecrowd(machine + cmd, env);
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << cmd << "\n" << r.err;
    for (const std::string& part : {std::string("write-only"), std::string("PRIVATE key"), std::string("offline"),
                                    std::string("--key-file")})
      EXPECT_NE(r.err.find(part), std::string::npos) << cmd << ": " << part << "\n" << r.err;
    EXPECT_EQ(r.err.find("PASSPHRASE"), std::string::npos) << cmd << "\n" << r.err;
  }
  auto ok = run_facecrowd(machine + " restore latest --target " + remote.string() + " --key-file " + pair.string(), env);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// The pair's public half is not a symmetric key file (it is meant to be public), and a directory is not a
// key file at all: each refused with the reason, not as a permission problem to chmod away.
TEST(OffsiteKeys, APublicKeyOrADirectoryGivenAsAKeyFileIsRefusedWithTheReason) {
  TempDir tmp;
  generate_key_pair(tmp.path() / "restore.key");
  expect_error([&] { KeyRing().add_key_file(tmp.path() / "restore.key.pub"); }, ExitCode::kUsage,
               {"restore.key.pub", "public key of a write-only key pair", "--encryption public-key"});
  fs::create_directories(tmp.path() / "dir.key");
  expect_error([&] { KeyRing().add_key_file(tmp.path() / "dir.key"); }, ExitCode::kBadInput, {"dir.key", "is a directory"});
}

// The README's first off-site step, `target keygen /etc/facecrowd/backup.key`, failed on a fresh machine
// with only "No such file or directory": no such folder yet. keygen makes the missing folders, private
// (0700) as the key is, says so, and a key pair goes there too.
TEST(OffsiteKeys, KeygenIntoAFolderThatDoesNotExistYetMakesItPrivateAndWritesTheKey) {
  TempDir tmp;
  const fs::path folder = tmp.path() / "etc" / "facecrowd";
  auto r = run_facecrowd("target keygen " + (folder / "backup.key").string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("created folder " + folder.string() + " (mode 0700)"), std::string::npos) << r.out;
  for (const fs::path& f : {folder, folder.parent_path()})
    EXPECT_EQ(fs::status(f).permissions() & fs::perms::all, fs::perms::owner_all) << f;
  EXPECT_EQ(fs::status(folder / "backup.key").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  KeyRing().add_key_file(folder / "backup.key");
  auto pair = run_facecrowd("target keygen --write-only " + (tmp.path() / "offline" / "restore.key").string());
  ASSERT_EQ(pair.exit_code, 0) << pair.out << pair.err;
  EXPECT_TRUE(fs::exists(tmp.path() / "offline" / "restore.key.pub"));
}

// `target set` proves now, not at 01:00 or at the restore, that every key file loads: a restore loads them
// all, so an older key that is missing would stop every restore from this configuration.
TEST(OffsiteKeys, TargetSetRefusesAnOlderKeyFileThatDoesNotLoadAndAnEmptyTargetAndWritesNothing) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  generate_key_file(tmp.path() / "new.key");
  auto r = run_facecrowd("target set " + (tmp.path() / "remote").string() + " --encryption key --key-file " +
                             (tmp.path() / "new.key").string() + " --key-file " + (tmp.path() / "old.key").string(),
                         "FACECROWD_DATA=" + data.string());
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotFound)) << r.err;
  EXPECT_NE(r.err.find("old.key"), std::string::npos) << r.err;
  auto empty = run_facecrowd("target set ''", "FACECROWD_DATA=" + data.string());
  EXPECT_EQ(empty.exit_code, int(ExitCode::kUsage)) << empty.err;
  EXPECT_NE(empty.err.find("TARGET is empty"), std::string::npos) << empty.err;
  EXPECT_FALSE(fs::exists(data / "backup-target.json"));
}

// An oplog ship whose upload fails has still shipped locally: the error says so (and what was shipped), as a
// backup's does, so an operator does not ship again by hand or think the slices lost.
TEST(OffsitePushCli, AnOplogShipWhoseUploadFailsSaysTheSlicesAreSafeLocally) {
  PushSite s;
  {
    auto db = Database::open(DataDir::open(s.data), "face-recognition");
    auto w = db->write();
    w.insert("users", Document::from_json({{"_id", "later"}, {"username", "later"}}));
    w.commit();
  }
  const fs::path not_a_dir = s.tmp.path() / "remote-is-a-file";
  write_text(not_a_dir, "x");
  auto r = run_facecrowd("oplog ship --target " + not_a_dir.string(),
                         "FACECROWD_DATA=" + s.data.string() + " FACECROWD_BACKUP_DIR=" + s.backups.string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("the oplog ship is complete locally (shipped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("but sending it to '" + not_a_dir.string() + "' failed"), std::string::npos) << r.err;
}

// Remote retention numbers are read as written: 1.9 days or 4294967297 days must not quietly become 1 (a
// retention that deletes the backups the operator meant to keep), nor 2000000000 months a plan that loops
// for ever at every push. Refused by name, in the file and on the command line.
TEST(OffsiteTargetConfig, RetentionThatIsNotAWholeNumberInRangeIsRefusedNamingTheSetting) {
  TempDir tmp;
  const fs::path file = tmp.path() / "backup-target.json";
  ScopedEnv env({{"FACECROWD_BACKUP_TARGET_CONFIG", file.string()}});
  for (const auto& [field, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"keep_daily", 1.9}, {"keep_daily", 4294967297LL}, {"keep_daily", 0}, {"keep_daily", "30"},
           {"keep_monthly", 2000000000}, {"keep_monthly", -1}, {"pitr_days", 0}, {"pitr_days", 1.5}, {"pitr_days", 36501}}) {
    write_text(file, nlohmann::json{{"target", "s3://bucket/p"}, {field, value}}.dump());
    expect_error([&] { TargetConfig::load(tmp.path()); }, ExitCode::kBadInput, {file.string(), field, value.dump()});
  }
  write_text(file, nlohmann::json{{"target", "s3://bucket/p"}, {"keep_daily", 365}, {"keep_monthly", 0}}.dump());
  auto ok = TargetConfig::load(tmp.path());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->keep_daily, 365);
  EXPECT_EQ(ok->keep_monthly, 0);

  fs::remove(file);
  auto r = run_facecrowd("target set " + (tmp.path() / "remote").string() + " --keep-monthly 2000000000",
                         "FACECROWD_BACKUP_TARGET_CONFIG=" + file.string() + " FACECROWD_DATA=" + (tmp.path() / "data").string());
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.err;
  EXPECT_NE(r.err.find("--keep-monthly"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(file));
}
// A hand-edited value that is refused says how to set it right: the flag that writes it, not only the range.
TEST(OffsiteTargetConfig, AHandEditedRetentionValueThatIsRefusedSaysWhichTargetSetFlagWritesIt) {
  TempDir tmp;
  const fs::path file = tmp.path() / "backup-target.json";
  ScopedEnv env({{"FACECROWD_BACKUP_TARGET_CONFIG", file.string()}});
  for (const auto& [field, flag] : std::vector<std::pair<std::string, std::string>>{
           {"pitr_days", "--pitr-days"}, {"keep_daily", "--keep-daily"}, {"keep_monthly", "--keep-monthly"}}) {
    write_text(file, nlohmann::json{{"target", "s3://bucket/p"}, {field, "7"}}.dump());
    expect_error([&] { TargetConfig::load(tmp.path()); }, ExitCode::kBadInput,
                 {file.string(), field + " is \"7\"", "`facecrowd target set TARGET " + flag + " N`"});
  }
}
// The point-in-time window (oplog slices kept off-site) is its own setting: `target set --pitr-days` stores
// it, `target show` prints it, a push uses it, and a value out of range is refused before anything is written.
TEST(OffsiteTargetConfig, ThePointInTimeWindowIsStoredShownAndRangeChecked) {
  TempDir tmp;
  const fs::path file = tmp.path() / "backup-target.json";
  const std::string env = "FACECROWD_BACKUP_TARGET_CONFIG=" + file.string() + " FACECROWD_DATA=" + (tmp.path() / "data").string();
  const std::string remote = (tmp.path() / "remote").string();
  auto refused = run_facecrowd("target set " + remote + " --pitr-days 0", env);
  EXPECT_EQ(refused.exit_code, int(ExitCode::kUsage)) << refused.err;
  EXPECT_NE(refused.err.find("--pitr-days"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(file));

  ASSERT_EQ(run_facecrowd("target set " + remote + " --pitr-days 3", env).exit_code, 0);
  auto loaded = TargetConfig::load(tmp.path());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->pitr_days, 3);
  EXPECT_EQ(loaded->keep_daily, 30) << "the window does not change the daily archives";
  auto shown = run_facecrowd("target show", env);
  EXPECT_NE(shown.out.find("point-in-time window (oplog slices): 3 days"), std::string::npos) << shown.out;

  // A configuration written before the setting existed gets the default window.
  write_text(file, nlohmann::json{{"target", remote}, {"keep_daily", 30}}.dump());
  EXPECT_EQ(TargetConfig::load(tmp.path())->pitr_days, 7);
  auto help = run_facecrowd("target set --help", env);
  EXPECT_NE(help.out.find("--pitr-days"), std::string::npos) << help.out;
}

// `target show --json` gives a machine (a dashboard, a monitoring check) the configuration as the config file
// holds it, and where it was read from; with no target configured it is the same exit 4 as the text form.
TEST(OffsiteTargetConfig, TargetShowJsonGivesTheConfigFilesFieldsAndWhereTheyWereRead) {
  TempDir tmp;
  const fs::path file = tmp.path() / "backup-target.json";
  const std::string env = "FACECROWD_BACKUP_TARGET_CONFIG=" + file.string() + " FACECROWD_DATA=" + (tmp.path() / "data").string();
  EXPECT_EQ(run_facecrowd("target show --json", env).exit_code, int(ExitCode::kNotFound));
  const std::string remote = (tmp.path() / "remote").string();
  ASSERT_EQ(run_facecrowd("target set " + remote + " --pitr-days 3 --keep-monthly 12", env).exit_code, 0);
  auto shown = run_facecrowd("target show --json", env);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  auto j = nlohmann::json::parse(shown.out);
  EXPECT_EQ(j["target"], remote);
  EXPECT_EQ(j["encryption"], "none");
  EXPECT_EQ(j["keep_daily"], 30);
  EXPECT_EQ(j["keep_monthly"], 12);
  EXPECT_EQ(j["pitr_days"], 3);
  EXPECT_TRUE(j["key_files"].empty());
  EXPECT_EQ(j["config_file"], file.string());
  // This backup directory's writer identity too (backup/offsite/writer_fence.h): none before its first push.
  EXPECT_TRUE(j["writer_identity"].is_null()) << shown.out;
  EXPECT_EQ(j.size(), 10u) << "the config file's seven fields, config_file, writer_identity and writer_identity_file: " << shown.out;
}

// A count is taken only as plain decimal digits in range: CLI11's Range converted first, so '0x10' was
// stored as 16 days and ' 3' as 3, and 'abc' or '' were reported as "not in range".
TEST(OffsiteTargetConfig, ARetentionCountThatIsNotPlainDigitsInRangeIsRefusedNamingWhatWasGivenAndWritesNothing) {
  TempDir tmp;
  const fs::path file = tmp.path() / "backup-target.json";
  const std::string env = "FACECROWD_BACKUP_TARGET_CONFIG=" + file.string() + " FACECROWD_DATA=" + (tmp.path() / "data").string();
  const std::string remote = (tmp.path() / "remote").string();
  for (const std::string flag : {"--pitr-days", "--keep-daily", "--keep-monthly"})
    for (const std::string value : {"abc", "", "0x10", " 3", "3.5", "1e9", "-1", "99999999999999999999", "+3"}) {
      auto r = run_facecrowd("target set " + remote + " " + flag + " '" + value + "'", env);
      EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << flag << " '" << value << "': " << r.err;
      EXPECT_NE(r.err.find(flag + ": '" + value + "' is not a whole number of"), std::string::npos) << r.err;
      EXPECT_FALSE(fs::exists(file)) << flag << " '" << value << "'";
    }
  ASSERT_EQ(run_facecrowd("target set " + remote + " --pitr-days 36500 --keep-daily 3 --keep-monthly 0", env).exit_code, 0);
  EXPECT_EQ(TargetConfig::load(tmp.path())->pitr_days, 36500);
  EXPECT_EQ(TargetConfig::load(tmp.path())->keep_monthly, 0);
}

// With --json a machine reads stdout: when the upload fails it still gets the report of what was written
// locally (the archive, the slices shipped) with the failure as "offsite_error" (code and message), and the
// exit code is the upload's, instead of an empty stdout that hides the archive that was made.
TEST(OffsitePushCli, WithJsonABackupOrShipWhoseUploadFailsStillReportsWhatWasWrittenLocallyAndTheFailure) {
  PushSite s;
  const fs::path not_a_dir = s.tmp.path() / "remote-is-a-file";
  write_text(not_a_dir, "x");
  const std::string env = "FACECROWD_DATA=" + s.data.string() + " FACECROWD_BACKUP_DIR=" + s.backups.string();
  auto b = run_facecrowd("backup --json --target " + not_a_dir.string(), env);
  EXPECT_NE(b.exit_code, 0) << b.err;
  auto report = nlohmann::json::parse(b.out);
  const std::string archive = report.at("archive").get<std::string>();
  EXPECT_TRUE(fs::exists(archive)) << b.out;
  EXPECT_EQ(report.at("offsite_error").at("code").get<int>(), b.exit_code) << b.out;
  EXPECT_NE(report["offsite_error"]["message"].get<std::string>().find("is complete, but sending it to"), std::string::npos) << b.out;
  EXPECT_FALSE(report.contains("offsite")) << b.out;

  auto o = run_facecrowd("oplog ship --json --target " + not_a_dir.string(), env);
  EXPECT_NE(o.exit_code, 0) << o.err;
  auto ship = nlohmann::json::parse(o.out);
  EXPECT_TRUE(ship.contains("offsite_error")) << o.out;
  EXPECT_EQ(ship["offsite_error"]["code"].get<int>(), o.exit_code) << o.out;
}

// A cron job reads the exit code: a push that could not send a local archive (its manifest copy and its
// own manifest unreadable) leaves the target short of the backup directory, which is exit 1 (warning) with
// the archive named, not 0.
TEST(OffsitePushCli, AShipThatCouldNotSendALocalArchiveExitsWithAWarningNamingIt) {
  PushSite s;
  const fs::path archive = BackupCatalog(s.backups).latest("face-recognition")->path;
  fs::remove(archive.string() + ".manifest.json");
  write_text(archive, "not a gzip archive");
  const fs::path remote = s.tmp.path() / "remote";
  auto r = run_facecrowd("oplog ship --json --target " + remote.string(),
                         "FACECROWD_DATA=" + s.data.string() + " FACECROWD_BACKUP_DIR=" + s.backups.string());
  EXPECT_EQ(r.exit_code, int(ExitCode::kWarning)) << r.err;
  EXPECT_NE(r.err.find(archive.string() + "' was NOT sent off-site"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["offsite"]["not_sent"], nlohmann::json::array({archive.filename().string()})) << r.out;
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// `target set` on a new machine before any data exists: the folder it wrote backup-target.json into was then
// refused by every command (exit 8, "not empty ... point --data at an empty or new folder"), the restore of a
// disaster included; and a folder that is not facecrowd's got the file written into it.
TEST(OffsiteTargetConfig, TargetSetBeforeAnyDataLeavesAFolderThatEveryCommandStillOpensAndRefusesAForeignFolder) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  const std::string remote = (tmp.path() / "remote").string();
  ASSERT_EQ(run_facecrowd("--data " + data.string() + " target set " + remote).exit_code, 0);
  auto stats = run_facecrowd("--data " + data.string() + " stats");
  EXPECT_NE(stats.exit_code, int(ExitCode::kNotOurs)) << stats.err;
  EXPECT_EQ(stats.err.find("is not a facecrowd data directory"), std::string::npos) << stats.err;
  EXPECT_TRUE(fs::exists(data / "backup-target.json"));

  // A folder left with only backup-target.json by the older `target set` opens too.
  const fs::path left = tmp.path() / "left";
  fs::create_directories(left);
  write_text(left / "backup-target.json", nlohmann::json{{"target", remote}}.dump());
  auto opened = run_facecrowd("--data " + left.string() + " stats");
  EXPECT_EQ(opened.err.find("is not a facecrowd data directory"), std::string::npos) << opened.err;

  // A folder that is somebody else's is refused, and nothing is written into it.
  const fs::path foreign = tmp.path() / "foreign";
  fs::create_directories(foreign);
  write_text(foreign / "notes.txt", "mine\n");
  auto refused = run_facecrowd("--data " + foreign.string() + " target set " + remote);
  EXPECT_EQ(refused.exit_code, int(ExitCode::kNotOurs)) << refused.err;
  EXPECT_FALSE(fs::exists(foreign / "backup-target.json"));
  EXPECT_FALSE(fs::exists(foreign / "facecrowd-data.json"));
}

// A file:// URL was made absolute before it was checked, so the refusal named '<cwd>/file:///srv/x', a path
// nobody typed, and did not say how a directory target is given.
TEST(OffsiteTargetConfig, AFileUrlIsRefusedAsTypedWithHowToGiveTheDirectory) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  auto r = run_facecrowd("--data " + data.string() + " target set file:///srv/backups");
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.err;
  EXPECT_NE(r.err.find("backup target 'file:///srv/backups'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("a directory target is given as its path: /srv/backups"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(data));
}

// A mistyped URL (one slash, none, upper case) was taken for a directory: `target set s3:/my-bucket/fc` wrote
// the target '<cwd>/s3:/my-bucket/fc' and every backup went into that folder without a word. A name holding
// a control character was echoed raw to the terminal (an ESC recoloured it). Each is refused (exit 2) as
// typed, escaped, and nothing is written.
TEST(OffsiteTargetConfig, AMistypedBucketUrlIsRefusedInsteadOfBecomingADirectoryAndControlCharactersAreShownEscaped) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  for (const std::string name : {"s3:/my-bucket/fc", "s3:my-bucket/fc", "gs:/my-bucket/fc", "S3://my-bucket/fc"}) {
    auto r = run_shell("cd '" + tmp.path().string() + "' && " + FACECROWD_BINARY + " --data data target set '" + name + "'");
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << name << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("backup target '" + name + "' is not a bucket: write s3://BUCKET/PREFIX"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(data)) << name;
    EXPECT_FALSE(fs::exists(tmp.path() / name.substr(0, 3))) << name;
  }
  for (const std::string name : {"s3://my-bucket/fc\\033[31mred", "s3://my-bucket/fc\\nforged line"}) {
    auto r = run_facecrowd("--data " + data.string() + " target set \"$(printf '" + name + "')\"");
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << name << ": " << r.err;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(data)) << name;
  }
}

// FACECROWD_S3_STORAGE_CLASS was sent as it was given, with every upload: a mistyped class ("bad class",
// "standard_ia") was refused by S3 only at the first PUT, after the local backup, as an InvalidStorageClass
// answer. It is checked against S3's classes when the target is opened: before the backup, before any
// request (the endpoint here is a closed port, so a request would fail otherwise), naming the variable.
TEST(OffsiteTargetConfig, AStorageClassThatS3DoesNotHaveIsRefusedNamingTheVariableAndTheClassesBeforeAnythingIsBackedUpOrSent) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", backups = tmp.path() / "backup";
  restore_test::fill(data, 3);
  const std::string env = "AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=id AWS_SECRET_ACCESS_KEY=secret "
                          "AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent FACECROWD_BACKUP_TARGET= ";
  const std::string dirs = "--data " + data.string() + " --backup-dir " + backups.string() + " ";
  for (const std::string bad : {"bad class", "standard_ia", "NEARLINE"}) {
    for (const std::string command : {"backup --target s3://my-bucket/fc", "target set s3://my-bucket/fc"}) {
      auto r = run_facecrowd(dirs + command, env + "FACECROWD_S3_STORAGE_CLASS='" + bad + "'");
      EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << command << " " << bad << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("$FACECROWD_S3_STORAGE_CLASS is '" + bad + "', which is not a storage class of S3"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, "
                           "GLACIER_IR, OUTPOSTS, SNOW, EXPRESS_ONEZONE"),
                std::string::npos)
          << r.err;
      EXPECT_FALSE(fs::exists(backups)) << command << ": a backup was made before the refusal";
      EXPECT_FALSE(fs::exists(data / "backup-target.json")) << command;
    }
  }
  // GCS has classes of its own; S3's are checked for s3:// only.
  auto gcs = run_facecrowd(dirs + "target set gs://my-bucket/fc", env + "FACECROWD_S3_STORAGE_CLASS=STANDARD_IA");
  EXPECT_EQ(gcs.exit_code, int(ExitCode::kBadInput)) << gcs.err;
  EXPECT_NE(gcs.err.find("not a storage class of GCS (gs:// targets): use one of STANDARD, NEARLINE, COLDLINE, ARCHIVE"), std::string::npos)
      << gcs.err;
  // A class S3 has gets as far as the request (here: nothing listens, so the connection fails, exit 6 or 4, not 3).
  auto good = run_facecrowd(dirs + "backup --target s3://my-bucket/fc", env + "FACECROWD_S3_STORAGE_CLASS=GLACIER_IR");
  EXPECT_NE(good.exit_code, int(ExitCode::kBadInput)) << good.err;
  EXPECT_EQ(good.err.find("STORAGE_CLASS"), std::string::npos) << good.err;
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// `target set` run again (the key rotation its help describes) put the retention it was not given back to the
// defaults: a 30-day point-in-time window became 7 days, and the next push deleted the slices of the other 23.
TEST(OffsiteTargetConfig, RunningTargetSetAgainKeepsTheRetentionItIsNotGiven) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  const std::string remote = (tmp.path() / "remote").string();
  ASSERT_EQ(run_facecrowd("--data " + data.string() + " target set " + remote + " --pitr-days 30 --keep-daily 90 --keep-monthly 6").exit_code, 0);
  auto again = run_facecrowd("--data " + data.string() + " target set " + remote + " --keep-monthly 12");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("retention: 90 daily, 12 monthly; point-in-time window (oplog slices): 30 days (--keep-daily, "
                           "--pitr-days as configured before)"), std::string::npos) << again.out;
  auto c = TargetConfig::load(data);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pitr_days, 30);
  EXPECT_EQ(c->keep_daily, 90);
  EXPECT_EQ(c->keep_monthly, 12);
}

}  // namespace
}  // namespace facecrowd
