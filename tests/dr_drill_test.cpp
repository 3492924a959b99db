// Disaster recovery from the bucket alone, through the real binary and s3rver: configure an encrypted S3
// target, back up, ship, erase a person, lose the data and backup directories, restore from the bucket;
// every record is back to the recovery point and the erased person stays erased. Also the drill script,
// point in time from the bucket, wrong keys, and credentials from ~/.aws/credentials kept out of output.
#include <gtest/gtest.h>

#include "app/privacy/erasure_ledger.h"
#include "core/files.h"
#include "backup/offsite/offsite_push.h"
#include "backup/oplog_shipper.h"
#include "backup/targets/directory_target.h"
#include "core/object_id.h"
#include "core/oplog_timestamp.h"
#include "core/sha256.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

constexpr const char* kErasedName = "Ottilie Vanishwood";

struct Deployment {
  S3rver server;
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", key = tmp.path() / "backup.key";
  std::string p = new_object_id();
  std::string env;
  std::string target = "s3://facecrowd-test/prod";

  Deployment() {
    env = "FACECROWD_DATA=" + data.string() + " FACECROWD_BACKUP_DIR=" + backups.string() +
          " AWS_ENDPOINT_URL=" + server.endpoint() + " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER"
          " AWS_REGION=us-east-1 AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent";
    fill(data, 30);
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    w.insert("faceprofiles", Document::from_json({{"_id", {{"$oid", p}}}, {"name", kErasedName}, {"externalId", "EMP-9"}}));
    for (int k = 0; k < 3; ++k)
      w.insert("attendances", Document::from_json({{"personId", {{"$oid", p}}}, {"personName", kErasedName},
                                                   {"session", "s" + std::to_string(k)},
                                                   {"timestamp", {{"$date", 1704240000000 + k}}}}));
    w.commit();
  }
  CommandResult cli(const std::string& args, const std::string& extra_env = "") const {
    return run_facecrowd(args, env + " " + extra_env);
  }
  void write_users(int from, int n) {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    for (int i = from; i < from + n; ++i) w.insert("users", Document::from_json({{"_id", "x" + std::to_string(i)}, {"username", "x" + std::to_string(i)}}));
    w.commit();
  }
};

bool name_anywhere(const Snapshot& s, const std::string& name) {
  for (const auto& [coll, docs] : s)
    for (const auto& [id, text] : docs)
      if (text.find(name) != std::string::npos) return true;
  return false;
}

TEST(DisasterRecovery, TheBucketAloneBringsEveryRecordBackAndErasedPeopleStayErased) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  Deployment d;
  ASSERT_EQ(d.cli("target keygen " + d.key.string()).exit_code, 0);
  auto set = d.cli("target set " + d.target + " --encryption key --key-file " + d.key.string());
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto b = d.cli("backup --json");  // no --target: the configured one, as from cron
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_FALSE(nlohmann::json::parse(b.out)["offsite"]["uploaded"].empty()) << b.out;
  d.write_users(0, 5);
  auto erase = d.cli("person delete " + d.p);
  ASSERT_EQ(erase.exit_code, 0) << erase.err;
  d.write_users(5, 5);
  auto ship = d.cli("oplog ship --json");
  ASSERT_EQ(ship.exit_code, 0) << ship.err;
  EXPECT_NE(ship.out.find("offsite"), std::string::npos) << ship.out;
  const Snapshot expected = snapshot(d.data, "face-recognition");
  ASSERT_FALSE(name_anywhere(expected, kErasedName));
  const auto ledger_before = read_text(d.data / ErasureLedger::kFileName);

  auto listed = d.cli("backups list --target " + d.target);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("encrypted: key"), std::string::npos) << listed.out;
  auto verified = d.cli("verify --target " + d.target + " --read-data");
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // The disk is lost: data, backups, and the configuration with it. Only the key was kept elsewhere.
  fs::remove_all(d.data);
  fs::remove_all(d.backups);
  auto no_key = d.cli("restore " + d.target + "/latest");
  EXPECT_EQ(no_key.exit_code, int(ExitCode::kUsage)) << no_key.err;
  EXPECT_NE(no_key.err.find("encrypted"), std::string::npos) << no_key.err;
  EXPECT_FALSE(fs::exists(d.data / "face-recognition"));

  auto r = d.cli("restore " + d.target + "/latest --key-file " + d.key.string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["offsite"]["slices"], 1) << r.out;
  EXPECT_EQ(j["offsite"]["ledger_records_added"], 1) << r.out;
  EXPECT_EQ(snapshot(d.data, "face-recognition"), expected);  // every record, to the recovery point
  EXPECT_FALSE(name_anywhere(snapshot(d.data, "face-recognition", true), kErasedName));
  EXPECT_EQ(read_text(d.data / ErasureLedger::kFileName), ledger_before);
  auto audit = d.cli("audit list --action backup.restore.offsite --json");
  EXPECT_NE(audit.out.find(d.target), std::string::npos) << audit.out;
  // The audit entry records what the run did: it said 0 erasures added from the target here.
  auto entries = nlohmann::json::parse(audit.out);
  ASSERT_EQ(entries.size(), 1u) << audit.out;
  EXPECT_EQ(entries[0]["details"]["ledger_records_added"], 1) << audit.out;

  // The configuration went with the disk: the restore's note gives the `target set` that sends new backups
  // off-site again, encrypted as the target is (it said only "with the --encryption and key it had").
  const fs::path second = d.tmp.path() / "second-machine";
  auto again = d.cli("--data " + (second / "data").string() + " --backup-dir " + (second / "backup").string() + " restore " +
                     d.target + "/latest --key-file " + d.key.string());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("`facecrowd target set " + d.target + " --encryption key --key-file " + d.key.string() +
                           "` sends them off-site again"), std::string::npos) << again.out;
}

TEST(DisasterRecovery, APointInTimeFromTheBucketBeforeTheErasureStillKeepsThePersonErased) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  Deployment d;
  ASSERT_EQ(d.cli("backup --target " + d.target).exit_code, 0);
  d.write_users(0, 3);
  ASSERT_EQ(d.cli("oplog ship --target " + d.target).exit_code, 0);
  auto listing = nlohmann::json::parse(d.cli("backups list --target " + d.target + " --json").out);
  std::string reach = listing["slices"][0]["to"];  // "secs:inc" of the third user
  ASSERT_EQ(d.cli("person delete " + d.p).exit_code, 0);
  ASSERT_EQ(d.cli("oplog ship --target " + d.target).exit_code, 0);
  fs::remove_all(d.data);
  fs::remove_all(d.backups);
  auto pos = parse_oplog_timestamp(reach);
  ASSERT_TRUE(pos);
  OplogTimestamp until{pos->secs, pos->inc + 1};
  auto r = d.cli("restore " + d.target + " --until " + until.to_string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = snapshot(d.data, "face-recognition");
  EXPECT_TRUE(s["users"].count("x2"));            // the change before the point is there
  EXPECT_FALSE(name_anywhere(s, kErasedName));    // the erasure after it still applies
}

CommandResult run_drill(const Deployment& d, const std::string& args, const std::string& env_after = "") {
  return run_shell("env " + d.env + " " + env_after + " " + std::string(FACECROWD_SOURCE_DIR) + "/scripts/dr-drill.sh --binary " +
                   FACECROWD_BINARY + " " + args);
}

// The backup.dr_drill entries in the audit log of the data directory `data`, newest first.
nlohmann::json drill_entries(const fs::path& data) {
  auto audit = run_facecrowd("--data " + data.string() + " audit list --action backup.dr_drill --json");
  EXPECT_EQ(audit.exit_code, 0) << audit.err;
  return audit.exit_code == 0 ? nlohmann::json::parse(audit.out) : nlohmann::json::array();
}

TEST(DisasterRecovery, TheDrillScriptRestoresIntoAnEmptyDirectoryAndRecordsItsResultInTheLiveMachinesAuditLog) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  Deployment d;
  ASSERT_EQ(d.cli("backup --target " + d.target).exit_code, 0);
  d.write_users(0, 2);
  ASSERT_EQ(d.cli("oplog ship --target " + d.target).exit_code, 0);
  TempDir work;
  auto r = run_drill(d, "--target " + d.target + " --workdir " + (work.path() / "drill").string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GE(j["rto_seconds"].get<double>(), 0.0);
  EXPECT_GE(j["rpo_seconds"].get<double>(), 0.0);
  EXPECT_TRUE(j["verified"].get<bool>());
  EXPECT_TRUE(j["recorded_live"].get<bool>()) << r.out;
  EXPECT_EQ(fs::path(j["recorded_in"].get<std::string>()), d.data) << r.out;
  auto drilled = work.path() / "drill" / "data";
  EXPECT_EQ(snapshot(drilled, "face-recognition"), snapshot(d.data, "face-recognition"));

  // The live machine's audit log (FACECROWD_DATA), where an auditor looks, holds the result; the drill's
  // own restore, which is thrown away, is not where it went.
  auto live = drill_entries(d.data);
  ASSERT_EQ(live.size(), 1u) << live.dump();
  const auto& e = live[0];
  EXPECT_EQ(e["outcome"], "ok") << e.dump();
  EXPECT_EQ(e["target"], d.target) << e.dump();
  EXPECT_FALSE(e["actor"].get<std::string>().empty()) << e.dump();
  EXPECT_EQ(e["details"]["source"], d.target) << e.dump();
  EXPECT_DOUBLE_EQ(e["details"]["rto_seconds"].get<double>(), j["rto_seconds"].get<double>()) << e.dump();
  EXPECT_DOUBLE_EQ(e["details"]["rpo_seconds"].get<double>(), j["rpo_seconds"].get<double>()) << e.dump();
  EXPECT_EQ(e["details"]["recovery_point"], j["recovery_point"]) << e.dump();
  EXPECT_EQ(e["details"]["recovery_point_iso"], j["recovery_point_iso"]) << e.dump();
  EXPECT_EQ(e["details"]["verified"], true) << e.dump();
  EXPECT_TRUE(drill_entries(drilled).empty());

  // The text output says where it went; --data names the live directory as FACECROWD_DATA does.
  auto text = run_drill(d, "--target " + d.target + " --data " + d.data.string(), "FACECROWD_DATA=/nonexistent-live");
  ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("recorded in the audit log of the live data directory " + d.data.string()), std::string::npos) << text.out;
  EXPECT_EQ(drill_entries(d.data).size(), 2u);
}

TEST(DisasterRecovery, ADrillOnAMachineWithNoLiveDataSaysWhereItsFiguresWentAndCreatesNoDataDirectory) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  Deployment d;
  ASSERT_EQ(d.cli("backup --target " + d.target).exit_code, 0);
  fs::remove_all(d.data);  // a truly empty machine: FACECROWD_DATA names nothing
  auto temporary = run_drill(d, "--target " + d.target + " --no-verify");
  ASSERT_EQ(temporary.exit_code, 0) << temporary.out << temporary.err;
  EXPECT_NE(temporary.out.find("removed with the temporary work directory"), std::string::npos) << temporary.out;
  EXPECT_NE(temporary.out.find("no live facecrowd data at '" + d.data.string() + "'"), std::string::npos) << temporary.out;
  EXPECT_FALSE(fs::exists(d.data));

  TempDir work;
  auto kept = run_drill(d, "--target " + d.target + " --no-verify --json --workdir " + (work.path() / "drill").string());
  ASSERT_EQ(kept.exit_code, 0) << kept.out << kept.err;
  auto j = nlohmann::json::parse(kept.out);
  EXPECT_FALSE(j["recorded_live"].get<bool>());
  auto drilled = work.path() / "drill" / "data";
  EXPECT_EQ(fs::path(j["recorded_in"].get<std::string>()), drilled) << kept.out;
  auto entries = drill_entries(drilled);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["details"]["verified"], false);
  EXPECT_FALSE(fs::exists(d.data));
}

TEST(DisasterRecovery, AFailedDrillIsRecordedAsFailedInTheLiveAuditLogNamingTheStepAndItsExitCode) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  Deployment d;
  const std::string empty = "s3://facecrowd-test/nothing-here";  // a target nothing was ever pushed to
  auto r = run_drill(d, "--target " + empty);
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotFound)) << r.out << r.err;
  EXPECT_NE(r.err.find("recorded as a failed drill in the audit log of " + d.data.string()), std::string::npos) << r.err;
  auto live = drill_entries(d.data);
  ASSERT_EQ(live.size(), 1u) << live.dump();
  EXPECT_EQ(live[0]["outcome"], "failed") << live.dump();
  EXPECT_EQ(live[0]["details"]["source"], empty) << live.dump();
  EXPECT_EQ(live[0]["details"]["failed_step"], "restore") << live.dump();
  EXPECT_EQ(live[0]["details"]["exit_code"], int(ExitCode::kNotFound)) << live.dump();
}

// A restore that succeeds with a warning (exit 1) does not stop the drill: here the target's first slice after
// the archive is lost (from the bucket's index too), so the restore stops at the archive, short of what was shipped.
TEST(DisasterRecovery, ADrillWhoseRestoreStopsShortAtAMissingSliceCompletesReportsThePointItReachedRecordsTheWarningAndExits1) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", remote = tmp.path() / "remote";
  fill(data, 20);
  push_test::back_up_write_one_more_and_ship(data, backups);  // the archive, then slice 1 (user "late")
  {
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    w.insert("users", Document::from_json({{"_id", "later"}, {"username", "later"}}));
    w.commit();
  }
  ship_oplog(DataDir::open(data), backups, {});  // slice 2 (user "later")
  DirectoryTarget t(remote);
  push_to_target(backups, t, {}, PushOptions{});
  auto index = push_test::format1_index(remote);
  ASSERT_EQ(index["slices"].size(), 2u) << index.dump();
  const std::string missing_to = index["slices"][0]["to"], shipped = index["slices"][1]["to"];
  index["slices"].erase(0);
  const std::string text = index.dump(1);
  write_text(remote / "index.json", text);
  write_text(remote / "index.json.sha256", sha256_hex(text));

  const std::string drill = std::string(FACECROWD_SOURCE_DIR) + "/scripts/dr-drill.sh --binary " + FACECROWD_BINARY +
                            " --target " + remote.string() + " --data " + data.string();
  auto r = run_shell(drill + " --json");
  ASSERT_EQ(r.exit_code, int(ExitCode::kWarning)) << r.out << r.err;  // the header's exit for a drill that passed with a warning
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["warnings"].size(), 1u) << r.out;
  const std::string warning = j["warnings"][0];
  EXPECT_NE(warning.find("missing"), std::string::npos) << warning;
  EXPECT_NE(warning.find(shipped), std::string::npos) << warning;
  // The recovery point it really reached: the archive's, before the lost slice, not the shipped one.
  const auto point = parse_oplog_timestamp(j["recovery_point"].get<std::string>());
  ASSERT_TRUE(point.has_value()) << r.out;
  EXPECT_LT(*point, *parse_oplog_timestamp(missing_to)) << r.out;
  EXPECT_TRUE(j["verified"].get<bool>()) << r.out;
  EXPECT_TRUE(j["recorded_live"].get<bool>()) << r.out;

  // Recorded in the live audit log as passed, with the warning and the point reached.
  auto live = drill_entries(data);
  ASSERT_EQ(live.size(), 1u) << live.dump();
  EXPECT_EQ(live[0]["outcome"], "ok") << live[0].dump();
  EXPECT_EQ(live[0]["details"]["recovery_point"], j["recovery_point"]) << live[0].dump();
  ASSERT_EQ(live[0]["details"]["warnings"].size(), 1u) << live[0].dump();
  EXPECT_EQ(live[0]["details"]["warnings"][0], warning) << live[0].dump();

  // The text report says it too.
  auto plain = run_shell(drill);
  EXPECT_EQ(plain.exit_code, int(ExitCode::kWarning)) << plain.out << plain.err;
  EXPECT_NE(plain.out.find("verified, with 1 warning(s)"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("RPO"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("recovery point " + j["recovery_point"].get<std::string>()), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("WARNING: " + warning.substr(0, 40)), std::string::npos) << plain.out;
  EXPECT_EQ(drill_entries(data).size(), 2u);
}

TEST(DrillRecord, APassedDrillWithoutItsFiguresOrAFailedOneWithoutItsStepIsAUsageErrorAndWritesNothing) {
  TempDir tmp;
  fill(tmp.path() / "data", 1);
  const std::string data = "--data " + (tmp.path() / "data").string() + " drill record --target s3://b/p ";
  EXPECT_EQ(run_facecrowd(data + "--rpo 5").exit_code, int(ExitCode::kUsage));
  EXPECT_EQ(run_facecrowd(data + "--outcome failed").exit_code, int(ExitCode::kUsage));
  EXPECT_TRUE(drill_entries(tmp.path() / "data").empty());
  auto missing = run_facecrowd("--data " + (tmp.path() / "nowhere").string() + " drill record --target s3://b/p --rto 1 --rpo 2");
  EXPECT_EQ(missing.exit_code, int(ExitCode::kNotFound)) << missing.err;
  EXPECT_NE(missing.err.find("no data directory at"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "nowhere"));
}

TEST(DrillRecord, AnAbsurdMalformedOrContradictoryValueIsAUsageErrorNamingItsFlagAndWritesNothing) {
  TempDir tmp;
  fill(tmp.path() / "data", 1);
  const std::string data = "--data " + (tmp.path() / "data").string() + " drill record --target s3://b/p ";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"--rto nan --rpo 5", "--rto nan"},
      {"--rto 5 --rpo inf", "--rpo inf"},
      {"--rto 1e300 --rpo 5", "--rto 1e+300"},
      {"--rto -1 --rpo 5", "--rto -1"},
      {"--rto 5 --rpo 5 --recovery-point garbage", "--recovery-point 'garbage'"},
      {"--rto 5 --rpo 5 --recovery-point-iso yesterday", "--recovery-point-iso 'yesterday'"},
      {"--rto 5 --rpo 5 --failed-step restore", "--failed-step and --exit-code"},
      {"--rto 5 --rpo 5 --exit-code 3", "--failed-step and --exit-code"},
      {"--outcome failed --failed-step 'rm -rf'", "--failed-step 'rm -rf'"},
      {"--outcome failed --failed-step restore --exit-code 0", "--exit-code 0"},
      {"--rto 5 --rpo 5 --warning ''", "a --warning is empty"},
      {"--rto 5 --rpo 5 --warning 'slices stop at 1:1' --warning ' '", "a --warning is empty"},
  };
  for (const auto& [args, named] : refused) {
    auto r = run_facecrowd(data + args);
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << args << ": " << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << args << ": " << r.err;
  }
  EXPECT_TRUE(drill_entries(tmp.path() / "data").empty());
  // What the drill script writes is still taken.
  auto ok = run_facecrowd(data + "--rto 41.2 --rpo 58 --recovery-point 1704240000:3 --recovery-point-iso 2024-01-03T00:00:00Z --verified yes");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto failed = run_facecrowd(data + "--outcome failed --failed-step verify --exit-code 3");
  EXPECT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_EQ(drill_entries(tmp.path() / "data").size(), 2u);
}

TEST(DrillRecord, ADataPathThatIsAFileIsRefusedAsNotADataDirectoryNotAsMissing) {
  TempDir tmp;
  const fs::path file = tmp.path() / "data";
  write_file_durably(file, "not a directory\n");
  auto r = run_facecrowd("--data " + file.string() + " drill record --target s3://b/p --rto 1 --rpo 2");
  EXPECT_EQ(r.exit_code, int(ExitCode::kNotOurs)) << r.err;
  EXPECT_NE(r.err.find("'" + file.string() + "' is a file"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(file), "not a directory\n");
}

// A live data directory the record cannot be written to (read-only, or here a LOCK that is a directory) said
// only "cannot open lock file ...", which dr-drill.sh printed as its warning: not what was being done, nor how
// to fix it.
TEST(DrillRecord, ADataDirectoryThatCannotBeWrittenIsAFileSystemErrorSayingTheDrillWasNotRecordedAndWhatToDo) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  fill(data, 1);
  fs::remove(data / "LOCK");
  fs::create_directory(data / "LOCK");
  auto r = run_facecrowd("--data " + data.string() + " drill record --target s3://b/p --rto 1 --rpo 2");
  EXPECT_EQ(r.exit_code, int(ExitCode::kIo)) << r.err;
  EXPECT_NE(r.err.find("recording a DR drill in the audit log of '" + data.string() + "'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was recorded. Make the data directory writable"), std::string::npos) << r.err;
  fs::remove(data / "LOCK");
  EXPECT_TRUE(drill_entries(data).empty());
}

TEST(DisasterRecovery, ADataOptionNamingNoLiveDataIsRefusedBeforeTheDrillStarts) {
  TempDir tmp;
  fill(tmp.path() / "live", 1);
  fs::create_directories(tmp.path() / "target");
  fs::create_directories(tmp.path() / "empty");
  fs::create_directories(tmp.path() / "other");
  write_file_durably(tmp.path() / "other" / "notes.txt", "x\n");
  write_file_durably(tmp.path() / "afile", "x\n");
  const std::vector<std::pair<std::string, int>> cases = {
      {(tmp.path() / "typo").string(), int(ExitCode::kNotFound)},
      {(tmp.path() / "empty").string(), int(ExitCode::kNotFound)},
      {(tmp.path() / "afile").string(), int(ExitCode::kNotOurs)},
      {(tmp.path() / "other").string(), int(ExitCode::kNotOurs)},
  };
  int n = 0;
  for (const auto& [live, code] : cases) {
    const fs::path work = tmp.path() / ("drill" + std::to_string(n++));
    auto r = run_shell("env FACECROWD_DATA=" + (tmp.path() / "live").string() + " " + std::string(FACECROWD_SOURCE_DIR) +
                       "/scripts/dr-drill.sh --binary " + FACECROWD_BINARY + " --target " + (tmp.path() / "target").string() +
                       " --data " + live + " --workdir " + work.string());
    EXPECT_EQ(r.exit_code, code) << live << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("--data '" + live + "'"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("done) " + std::to_string(code)), std::string::npos) << r.err;  // the exit code is not echoed
    EXPECT_FALSE(fs::exists(work)) << live << ": the drill started";  // refused before any restore
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "typo"));
  EXPECT_TRUE(drill_entries(tmp.path() / "live").empty());
}

TEST(DisasterRecovery, CredentialsFromTheAwsFilesWorkAndNeverReachTheOutput) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  Deployment d;
  FaultProxy proxy(d.server.port(), d.server.store());
  const std::string secret = "Zx9SuperSecretValue/NeverPrinted+abcdef";
  write_text(d.tmp.path() / "credentials", "[default]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n\n"
                                           "[ops]\naws_access_key_id = S3RVER\naws_secret_access_key = " + secret + "\n");
  fs::permissions(d.tmp.path() / "credentials", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  write_text(d.tmp.path() / "config", "[profile ops]\nregion = eu-west-1\nendpoint_url = " + proxy.endpoint() + "\n");
  std::string files = "AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= AWS_ENDPOINT_URL= AWS_REGION= AWS_PROFILE=ops AWS_SHARED_CREDENTIALS_FILE=" +
                      (d.tmp.path() / "credentials").string() + " AWS_CONFIG_FILE=" + (d.tmp.path() / "config").string();
  auto ok = d.cli("backup --target " + d.target, files);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  bool region_used = false;
  for (const auto& req : proxy.log())
    region_used = region_used || req["headers"].value("authorization", "").find("/eu-west-1/s3/") != std::string::npos;
  EXPECT_TRUE(region_used);
  proxy.fault({{"status", 503}, {"count", 1000}});
  auto failed = d.cli("backup --target " + d.target, files);
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.err.find("503"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("local backup"), std::string::npos) << failed.err;
  for (const auto& text : {failed.out, failed.err, ok.out, ok.err}) EXPECT_EQ(text.find(secret), std::string::npos) << text;
  // A command line never carries credentials: there is no such flag.
  auto flag = d.cli("backup --target " + d.target + " --secret-access-key " + secret);
  EXPECT_EQ(flag.exit_code, int(ExitCode::kUsage));
}

}  // namespace
}  // namespace facecrowd
