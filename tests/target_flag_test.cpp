// --target '' (an unset shell variable in a cron line) on every command that takes a backup target
// (cli/target_flag.h): refused with exit 2, naming the flag, before anything is read or written.
#include <gtest/gtest.h>

#include "backup/offsite/target_config.h"
#include "backup/targets/backup_target.h"
#include "offsite_push_site.h"
#include "test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;
using push_test::PushSite;

// It used to mean "no --target": verify, restore and backups list worked on the local backup directory and
// exited 0 (a cron check of the target reported the local backups), backup and oplog ship pushed to the
// configured target, and drill record wrote an entry naming no target.
TEST(TargetFlag, AnEmptyTargetIsRefusedByEveryCommandThatTakesOneAndNothingIsWritten) {
  PushSite site;
  const fs::path remote = site.tmp.path() / "remote";
  const std::string dirs = "--data " + site.data.string() + " --backup-dir " + site.backups.string();
  ASSERT_EQ(run_facecrowd(dirs + " target set " + remote.string()).exit_code, 0);
  ASSERT_EQ(run_facecrowd(dirs + " backup").exit_code, 0);  // the configured target now holds the backups
  const auto remote_before = push_test::file_digests(remote), backups_before = push_test::file_digests(site.backups);
  const auto data_before = push_test::file_digests(site.data);
  for (const std::string command : {"backup --target ''", "oplog ship --target ''", "verify --target ''", "verify latest --read-data --target ''",
                                    "restore latest --dry-run --target ''", "backups list --target ''", "target take-over --target ''",
                                    "drill record --target '' --rto 1 --rpo 1"}) {
    SCOPED_TRACE(command);
    auto r = run_facecrowd(dirs + " " + command);
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.out << r.err;
    EXPECT_NE(r.err.find("--target: it is empty"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(push_test::file_digests(remote), remote_before);
  EXPECT_EQ(push_test::file_digests(site.backups), backups_before);
  EXPECT_EQ(push_test::file_digests(site.data), data_before);
}

// A directory target was named as given: "remote/", "remote/../remote" and "/srv/remote" were three targets to
// the lookups by URL (the writer fence's memory, the index this machine last signed, "is this the configured
// target?"), and `target set` kept ".." and the trailing slash. Every spelling is now the absolute normal path.
TEST(TargetFlag, EverySpellingOfOneDirectoryIsOneTargetAndTargetSetStoresThatName) {
  TempDir tmp;
  const fs::path remote = tmp.path() / "remote";
  for (const std::string& spelling : {remote.string() + "/", (remote / ".." / "remote").string(), (remote / "." / "").string(),
                                     fs::relative(remote, fs::current_path()).string() + "/"}) {
    SCOPED_TRACE(spelling);
    EXPECT_EQ(open_backup_target(spelling)->url(), remote.string());
  }
  const fs::path data = tmp.path() / "data";
  ASSERT_EQ(run_facecrowd("--data " + data.string() + " target set " + (remote / ".." / "remote").string() + "/").exit_code, 0);
  EXPECT_EQ(TargetConfig::load(data).value().target, remote.string());
}

}  // namespace
}  // namespace facecrowd
