// The backup toolkit on bad days (issue 9, items 8, 16 and 18):
//  - verify's scratch copy of the data is private (0700) and a killed verify's copy is removed by the next
//    verify; a missing or full temporary directory is a file-system error (exit 6) that names it, never a
//    "do not rely on this backup" verdict on a good backup;
//  - two backups started in the same second both succeed, with distinct archives, and status stays OK;
//  - `backups status` says ERROR (exit 2) when it cannot open the database.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "restore_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct Deployment {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fs::path backups = tmp.path() / "backup";
  fs::path scratch = tmp.path() / "tmp";
  explicit Deployment(int n = 20) {
    fill(data, n);
    fs::create_directories(scratch);
  }
  std::string dirs() const { return "--data '" + data.string() + "' --backup-dir '" + backups.string() + "' "; }
  std::string tmpdir_env() const { return "TMPDIR='" + scratch.string() + "'"; }
};

std::vector<fs::path> scratch_folders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind("facecrowd-verify-", 0) == 0) out.push_back(e.path());
  return out;
}

TEST(BackupHardening, VerifyWithAMissingTempDirIsAFileSystemErrorNamingItNotAVerdict) {
  Deployment d;
  backup(d.data, d.backups);
  auto r = run_facecrowd(d.dirs() + "verify latest", "TMPDIR='" + (d.tmp.path() / "gone").string() + "'");
  EXPECT_EQ(r.exit_code, int(ExitCode::kIo)) << r.out << r.err;
  EXPECT_NE(r.err.find("temporary directory is the problem, not the backup"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("do not rely"), std::string::npos) << r.out;
  auto ok = run_facecrowd(d.dirs() + "verify latest", d.tmpdir_env());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST(BackupHardening, VerifyWithAFullTempDirIsAFileSystemErrorNamingItNotAVerdict) {
  Deployment d(3000);
  backup(d.data, d.backups);
  fs::path small = d.tmp.path() / "small";
  fs::create_directories(small);
  TmpfsMount full(small, "size=64k");
  if (!full.ok()) GTEST_SKIP() << "needs root to mount a small tmpfs";
  auto r = run_facecrowd(d.dirs() + "verify latest", "TMPDIR='" + small.string() + "'");
  EXPECT_EQ(r.exit_code, int(ExitCode::kIo)) << r.out << r.err;
  EXPECT_NE(r.err.find(small.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("temporary directory is the problem"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("do not rely"), std::string::npos) << r.out;
  EXPECT_TRUE(scratch_folders(small).empty()) << "the failed verify removes its scratch folder";
}

TEST(BackupHardening, KilledVerifyLeavesAPrivateScratchCopyThatTheNextVerifyRemoves) {
  Deployment d(20000);
  backup(d.data, d.backups);
  pid_t child = ::fork();
  if (child == 0) {
    ::setenv("TMPDIR", d.scratch.c_str(), 1);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(FACECROWD_BINARY, FACECROWD_BINARY, "--backup-dir", d.backups.c_str(), "verify", "latest",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until its restore has written into the scratch database, then kill it there.
  std::vector<fs::path> seen;
  for (int i = 0; i < 200000; ++i) {
    seen = scratch_folders(d.scratch);
    std::error_code ec;
    if (!seen.empty() && fs::exists(seen[0] / "data" / "face-recognition", ec)) break;
    ASSERT_EQ(::waitpid(child, nullptr, WNOHANG), 0) << "verify ended before it could be killed";
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_EQ(seen.size(), 1u);
  struct stat st {};
  ASSERT_EQ(::stat(seen[0].c_str(), &st), 0) << "the killed verify's scratch folder is still there";
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "the copy of the data is private to its owner";

  auto next = run_facecrowd(d.dirs() + "verify latest", d.tmpdir_env());
  EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
  EXPECT_TRUE(scratch_folders(d.scratch).empty()) << "the next verify removed the stale copy";
}

TEST(BackupHardening, ScratchFolderOfARunningVerifyIsNotRemovedByAnother) {
  Deployment d;
  backup(d.data, d.backups);
  // A folder whose owner.lock is held stands for a verify in progress.
  fs::path busy = d.scratch / "facecrowd-verify-1-1";
  fs::create_directories(busy / "data");
  int fd = ::open((busy / "owner.lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  pid_t child = ::fork();  // the lock must be held by another process: flock is per open file, not per process
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ::close(fd);  // the child's copy of the descriptor keeps the lock
  auto r = run_facecrowd(d.dirs() + "verify latest", d.tmpdir_env());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(busy / "data"));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  auto again = run_facecrowd(d.dirs() + "verify latest", d.tmpdir_env());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(fs::exists(busy)) << "once its owner is gone, it is stale";
}

TEST(BackupHardening, TwoBackupsStartedInTheSameSecondBothSucceedWithDistinctArchives) {
  Deployment d(3000);
  std::string bin = std::string(FACECROWD_BINARY) + " " + d.dirs() + "backup --keep-days 0";
  fs::path t = d.tmp.path();
  auto r = run_shell("(" + bin + " >'" + (t / "o1").string() + "' 2>&1; echo $? >'" + (t / "c1").string() + "') & (" +
                     bin + " >'" + (t / "o2").string() + "' 2>&1; echo $? >'" + (t / "c2").string() + "') & wait");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(t / "c1"), "0\n") << read_text(t / "o1");
  EXPECT_EQ(read_text(t / "c2"), "0\n") << read_text(t / "o2");
  int archives = 0;
  for (const auto& e : fs::directory_iterator(d.backups))
    if (e.path().filename().string().ends_with(".tar.gz")) ++archives;
  EXPECT_EQ(archives, 2);
  auto status = run_facecrowd(d.dirs() + "backups status");
  EXPECT_EQ(status.out.find("ERROR"), std::string::npos) << status.out;
  EXPECT_NE(status.exit_code, 2) << status.out;
}

TEST(BackupHardening, BackupsStatusIsErrorWhenTheDatabaseCannotBeOpened) {
  Deployment d;
  backup(d.data, d.backups);
  write_text(d.data / "face-recognition" / "CURRENT", "\x01garbage");
  auto r = run_facecrowd(d.dirs() + "backups status");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("ERROR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("damaged"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace facecrowd
