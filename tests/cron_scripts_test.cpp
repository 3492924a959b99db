// scripts/setup-cron-backup.sh (the block it prints and installs, idempotently) and
// scripts/check-backup-status.sh (nagios exit codes).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "backup/catalog.h"
#include "test_support.h"

namespace facecrowd {
namespace {

const std::string kScripts = std::string(FACECROWD_SOURCE_DIR) + "/scripts";

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(CronScripts, PrintShowsTheJobsWithAbsolutePaths) {
  TempDir tmp;
  auto r = run_shell("cd " + tmp.path().string() + " && " + kScripts + "/setup-cron-backup.sh --print --binary " +
                     FACECROWD_BINARY + " --data rel-data --backup-dir /srv/backups");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string data_abs = (fs::canonical(tmp.path()) / "rel-data").string();
  EXPECT_NE(r.out.find("0 1 * * * umask 077; " + std::string(FACECROWD_BINARY) + " --quiet --data " + data_abs +
                       " --backup-dir /srv/backups backup >> /srv/backups/facecrowd-backup.log 2>&1"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("0 2 * * * "), std::string::npos);
  EXPECT_NE(r.out.find(" retention run >> "), std::string::npos);
  EXPECT_NE(r.out.find("30 2 * * * "), std::string::npos);
  EXPECT_NE(r.out.find(" gallery index >> /srv/backups/facecrowd-gallery-index.log"), std::string::npos);
  EXPECT_NE(r.out.find("* * * * * "), std::string::npos);
  EXPECT_NE(r.out.find(" oplog ship >> "), std::string::npos);
  EXPECT_EQ(count(r.out, "# BEGIN facecrowd backups"), 1);
  EXPECT_EQ(count(r.out, "# END facecrowd backups"), 1);
}

TEST(CronScripts, SetupRefusesAMissingBinaryAndUnknownFlags) {
  auto r = run_shell(kScripts + "/setup-cron-backup.sh --print --binary /nonexistent/facecrowd");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/facecrowd"), std::string::npos) << r.err;
  auto bad = run_shell(kScripts + "/setup-cron-backup.sh --bogus");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--bogus"), std::string::npos) << bad.err;
}

TEST(CronScripts, MissingCrontabSaysHowToInstallCron) {
  auto r = run_shell("CRONTAB_BIN=/nonexistent/crontab " + kScripts + "/setup-cron-backup.sh --binary " +
                     FACECROWD_BINARY + " --backup-dir /srv/backups");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("apt-get install cron"), std::string::npos) << r.err;
}

// A stand-in crontab that keeps the table in a file (`crontab -l`, `crontab -`), so installing can be
// tested without touching the machine's real crontab.
fs::path fake_crontab(const fs::path& dir) {
  fs::path bin = dir / "crontab";
  write_text(bin,
             "#!/bin/sh\n"
             "table=\"" + (dir / "table").string() + "\"\n"
             "[ \"$1\" = -u ] && shift 2\n"
             "case \"$1\" in\n"
             "  -l) [ -f \"$table\" ] || { echo 'no crontab for root' >&2; exit 1; }; cat \"$table\" ;;\n"
             "  -) cat > \"$table\" ;;\n"
             "  *) exit 2 ;;\n"
             "esac\n");
  fs::permissions(bin, fs::perms::owner_all);
  return bin;
}

TEST(CronScripts, InstallReplacesItsOwnBlockAndKeepsOtherLines) {
  TempDir tmp;
  auto crontab = fake_crontab(tmp.path());
  write_text(tmp.path() / "table", "MAILTO=ops@example.org\n5 4 * * * /usr/local/bin/other-job\n");
  std::string setup = "CRONTAB_BIN=" + crontab.string() + " " + kScripts + "/setup-cron-backup.sh --binary " +
                      FACECROWD_BINARY + " --data /srv/data --backup-dir " + (tmp.path() / "b").string();
  auto first = run_shell(setup);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto second = run_shell(setup + " --data /srv/data2");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  std::string table = read_text(tmp.path() / "table");
  EXPECT_EQ(count(table, "# BEGIN facecrowd backups"), 1) << table;
  EXPECT_EQ(count(table, " oplog ship "), 1) << table;
  EXPECT_NE(table.find("--data /srv/data2 "), std::string::npos) << table;
  EXPECT_EQ(table.find("--data /srv/data "), std::string::npos) << "the old block was replaced: " << table;
  EXPECT_NE(table.find("5 4 * * * /usr/local/bin/other-job"), std::string::npos) << table;
  EXPECT_NE(table.find("MAILTO=ops@example.org"), std::string::npos) << table;

  auto removed = run_shell(setup + " --remove");
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  table = read_text(tmp.path() / "table");
  EXPECT_EQ(table.find("facecrowd"), std::string::npos) << table;
  EXPECT_NE(table.find("other-job"), std::string::npos) << table;
}

// Issue 15.1: every job runs under umask 077 (the logs its shell creates are private), and installing
// makes an existing data, backup and log directory private.
TEST(CronScripts, InstallingMakesTheDirectoriesAndTheJobsLogsPrivate) {
  TempDir tmp;
  auto crontab = fake_crontab(tmp.path());
  fs::path data = tmp.path() / "data", backups = tmp.path() / "b";
  fs::create_directories(data);
  fs::create_directories(backups);
  write_text(backups / "old.log", "x");
  ::chmod(data.c_str(), 0755);
  ::chmod(backups.c_str(), 0755);
  ::chmod((backups / "old.log").c_str(), 0644);
  auto r = run_shell("CRONTAB_BIN=" + crontab.string() + " " + kScripts + "/setup-cron-backup.sh --binary " +
                     FACECROWD_BINARY + " --data " + data.string() + " --backup-dir " + backups.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::status(data).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(backups).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(backups / "old.log").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  std::string table = read_text(tmp.path() / "table");
  EXPECT_EQ(count(table, "umask 077; "), 5) << table;  // backup, retention, index, check, ship
}

// The jobs read ~/.aws/credentials (cron passes no AWS_* variables), and facecrowd refuses one that others
// can read: installing makes it private and says so.
TEST(CronScripts, InstallingMakesTheAwsCredentialsFileOthersCanReadPrivate) {
  TempDir tmp;
  auto crontab = fake_crontab(tmp.path());
  const fs::path home = tmp.path() / "home", credentials = home / ".aws" / "credentials";
  fs::create_directories(credentials.parent_path());
  write_text(credentials, "[default]\naws_access_key_id = K\naws_secret_access_key = S\n");
  ::chmod(credentials.c_str(), 0644);
  auto r = run_shell("HOME=" + home.string() + " AWS_SHARED_CREDENTIALS_FILE= CRONTAB_BIN=" + crontab.string() + " " + kScripts +
                     "/setup-cron-backup.sh --binary " + FACECROWD_BINARY + " --data " + (tmp.path() / "data").string() +
                     " --backup-dir " + (tmp.path() / "b").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::status(credentials).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_NE(r.out.find("'" + credentials.string() + "' private"), std::string::npos) << r.out;
  // Already private: nothing to say.
  auto again = run_shell("HOME=" + home.string() + " AWS_SHARED_CREDENTIALS_FILE= CRONTAB_BIN=" + crontab.string() + " " + kScripts +
                         "/setup-cron-backup.sh --binary " + FACECROWD_BINARY + " --data " + (tmp.path() / "data").string() +
                         " --backup-dir " + (tmp.path() / "b").string());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out.find("credentials"), std::string::npos) << again.out;
}

TEST(CronScripts, StatusWrapperExitsWithTheStatusCode) {
  TempDir tmp;
  fs::path dir = tmp.path() / "backup";
  fs::create_directories(dir);
  std::string wrapper = kScripts + "/check-backup-status.sh --binary " + std::string(FACECROWD_BINARY) +
                        " --data " + (tmp.path() / "data").string() + " --backup-dir " + dir.string();
  auto error = run_shell(wrapper);
  EXPECT_EQ(error.exit_code, 2) << error.out << error.err;
  EXPECT_EQ(error.out.rfind("ERROR: ", 0), 0u) << error.out;

  // Daily backups with the latest far larger than usual: a WARNING, passed through with --json.
  UnixMillis now = now_millis();
  for (int d = 4; d >= 1; --d) write_text(dir / archive_file_name("face-recognition", now - d * 86400000LL), "1234567890");
  write_text(dir / archive_file_name("face-recognition", now - 3600000), std::string(100, 'x'));
  auto warn = run_shell(wrapper + " --json --max-age 25h");
  EXPECT_EQ(warn.exit_code, 1) << warn.out << warn.err;
  EXPECT_EQ(nlohmann::json::parse(warn.out)["status"], "WARNING") << warn.out;

  auto relaxed = run_shell(wrapper + " --max-age 2d");
  EXPECT_EQ(relaxed.exit_code, 1) << "flags pass through; the size warning stays: " << relaxed.out;

  auto unknown = run_shell(kScripts + "/check-backup-status.sh --binary /nonexistent/facecrowd");
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_EQ(unknown.out.rfind("UNKNOWN: ", 0), 0u) << unknown.out;
}

TEST(CronScripts, StatusWrapperReportsOkWhenAllIsWell) {
  TempDir tmp;
  fs::path dir = tmp.path() / "backup";
  fs::create_directories(dir);
  UnixMillis now = now_millis();
  for (int d = 8; d >= 0; --d) write_text(dir / archive_file_name("face-recognition", now - d * 86400000LL - 60000), "same size");
  auto r = run_shell(kScripts + "/check-backup-status.sh --binary " + std::string(FACECROWD_BINARY) + " --backup-dir " +
                     dir.string() + " --data " + (tmp.path() / "data").string());
  // Only the machine's own disk (< 10% free) could make this a warning; say so rather than fail blindly.
  if (r.exit_code == 1 && r.out.find("disk-space") != std::string::npos && r.out.find("WARNING: disk-space") == 0)
    GTEST_SKIP() << "this machine's temp file system is almost full: " << r.out;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("OK: latest backup ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace facecrowd
