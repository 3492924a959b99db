// Two machines pushing to one backup target (a restored stand-by and the old server, both configured with
// it): the second is refused before it sends, deletes or writes anything (backup/offsite/writer_fence.h),
// so the target stays what the first wrote and restores. Through the CLI, as cron runs the push, on a
// directory target and on S3 (s3rver), where the refused push makes no request but reading index.json.
#include <gtest/gtest.h>

#include "core/error.h"
#include "offsite_push_site.h"
#include "restore_test_support.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

// Two deployments: "old" (20 users) and "standby" (5 users and one only it has), each with its data and
// backup directory, run with `env` (credentials for an S3 target).
struct TwoMachines {
  TempDir tmp;
  std::string env;
  fs::path data(const std::string& m) const { return tmp.path() / m / "data"; }
  fs::path backups(const std::string& m) const { return tmp.path() / m / "backup"; }
  TwoMachines() {
    fill(data("old"), 20);
    fill(data("standby"), 5);
    auto db = Database::open(DataDir::open(data("standby")), "face-recognition");
    auto w = db->write();
    w.insert("users", Document::from_json({{"_id", "only-standby"}, {"username", "only-standby"}}));
    w.commit();
  }
  CommandResult cli(const std::string& m, const std::string& args) const {
    return run_facecrowd("--data " + data(m).string() + " --backup-dir " + backups(m).string() + " " + args, env);
  }
  // `backup --target`: the old server's push works (first_push), the stand-by's is refused (exit 5) naming the old
  // server's writer id and the take-over; the stand-by's backup directory gains no identity file.
  void first_push(const std::string& target) const {
    auto first = cli("old", "backup --target " + target);
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  }
  void second_push_is_refused(const std::string& target) const {
    auto second = cli("standby", "backup --target " + target);
    ASSERT_EQ(second.exit_code, int(ExitCode::kConflict)) << second.out << second.err;
    const auto writer = nlohmann::json::parse(read_text(backups("old") / "offsite-writer.json"));
    EXPECT_NE(second.err.find(writer["id"].get<std::string>()), std::string::npos) << second.err;
    EXPECT_NE(second.err.find("facecrowd target take-over --target "), std::string::npos) << second.err;
    EXPECT_NE(second.err.find("overwrite each other"), std::string::npos) << second.err;
    EXPECT_FALSE(fs::exists(backups("standby") / "offsite-writer.json"));
  }
  // A restore from the target on an empty machine gives the old server's data, not the stand-by's.
  void target_restores_the_old_servers_data(const std::string& source) const {
    auto r = cli("fresh", "restore " + source);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(snapshot(data("fresh"), "face-recognition"), snapshot(data("old"), "face-recognition"));
  }
};

TEST(OffsiteTwoWriters, ASecondMachinePushingToADirectoryTargetIsRefusedWithNothingChangedAndTheFirstsBackupsStillRestore) {
  TwoMachines m;
  const fs::path remote = m.tmp.path() / "remote";
  m.first_push(remote.string());
  m.second_push_is_refused(remote.string());
  const auto before = push_test::file_digests(remote);
  // Again, as cron would every minute: still refused, and the target is as the old server left it.
  EXPECT_EQ(m.cli("standby", "oplog ship --target " + remote.string()).exit_code, int(ExitCode::kConflict));
  EXPECT_EQ(push_test::file_digests(remote), before);
  auto verify = m.cli("old", "verify --target " + remote.string());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  m.target_restores_the_old_servers_data("latest --target " + remote.string());
}

TEST(OffsiteTwoWriters, ASecondMachinePushingToAnS3TargetIsRefusedAfterReadingOnlyTheIndexAndTheFirstsBackupsStillRestore) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  TwoMachines m;
  m.env = "AWS_ENDPOINT_URL=" + proxy.endpoint() + " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 "
          "AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent";
  const std::string target = "s3://facecrowd-test/prod";
  m.first_push(target);
  const size_t before = proxy.log().size();
  m.second_push_is_refused(target);
  // The stand-by's push asked for index.json and nothing else: no object of the old server's was
  // overwritten (their names are the same), none deleted, no multipart upload begun or aborted.
  auto log = proxy.log();
  ASSERT_EQ(log.size(), before + 1) << log.dump();
  EXPECT_EQ(log.back()["method"], "GET") << log.back().dump();
  EXPECT_NE(log.back()["url"].get<std::string>().find("/prod/index.json"), std::string::npos) << log.back().dump();
  const size_t after_refusal = log.size();
  EXPECT_EQ(m.cli("standby", "oplog ship --target " + target).exit_code, int(ExitCode::kConflict));
  EXPECT_EQ(proxy.log().size(), after_refusal + 1) << proxy.log().dump();
  auto verify = m.cli("old", "verify --target " + target);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  m.target_restores_the_old_servers_data(target + "/latest");
}

}  // namespace
}  // namespace facecrowd
