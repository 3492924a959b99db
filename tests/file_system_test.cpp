// The file-system seam (core/file_system.h): what it creates is private whatever the umask, and the
// fault-injecting file system gives the faults of a real disk (full disk, EIO, short write, failed
// rename) without root or tmpfs; core/files.h's helpers meet them and leave nothing half-written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "core/error.h"
#include "core/fault_file_system.h"
#include "core/files.h"
#include "test_support.h"

namespace facecrowd {
namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Sets the process umask for the scope.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FileSystemSeam, CreatesPrivateFilesAndFoldersEvenUnderUmaskZero) {
  TempDir tmp;
  Umask open_umask(0);
  ensure_writable_dir(tmp.path() / "a" / "b", "test folder");
  write_file_durably(tmp.path() / "a" / "b" / "f.json", "{}");
  append_line_durably(tmp.path() / "a" / "log.jsonl", "{}");
  OutputFile out(tmp.path() / "a" / "out.bin");
  out.write("x", 1);
  out.sync_and_close();
  EXPECT_EQ(mode_of(tmp.path() / "a"), 0700u);
  EXPECT_EQ(mode_of(tmp.path() / "a" / "b"), 0700u);
  EXPECT_EQ(mode_of(tmp.path() / "a" / "b" / "f.json"), 0600u);
  EXPECT_EQ(mode_of(tmp.path() / "a" / "log.jsonl"), 0600u);
  EXPECT_EQ(mode_of(tmp.path() / "a" / "out.bin"), 0600u);
}

TEST(FileSystemSeam, WritingIntoAnExistingOpenFileMakesItPrivate) {
  TempDir tmp;
  write_text(tmp.path() / "log.jsonl", "old\n");
  ::chmod((tmp.path() / "log.jsonl").c_str(), 0644);
  append_line_durably(tmp.path() / "log.jsonl", "new");
  EXPECT_EQ(mode_of(tmp.path() / "log.jsonl"), 0600u);
  EXPECT_EQ(read_text(tmp.path() / "log.jsonl"), "old\nnew\n");
}

TEST(FaultFileSystem, AFullDiskFailsTheWriteAndKeepsTheOldFile) {
  TempDir tmp;
  write_text(tmp.path() / "CURRENT", "old");
  FaultFileSystem faults;
  faults.add({.op = FaultOp::kWrite, .after_bytes = 10, .error = ENOSPC});
  ScopedFileSystem scope(faults);
  try {
    write_file_durably(tmp.path() / "CURRENT", std::string(100, 'n'));
    FAIL() << "a full disk went unnoticed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
  }
  EXPECT_EQ(faults.fired(), 1);
  EXPECT_EQ(read_text(tmp.path() / "CURRENT"), "old");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"CURRENT"});  // no temporary left
}

TEST(FaultFileSystem, AShortWriteIsReportedAsSuch) {
  TempDir tmp;
  FaultFileSystem faults;
  faults.add({.op = FaultOp::kWrite, .after_bytes = 3, .error = 0});
  ScopedFileSystem scope(faults);
  OutputFile out(tmp.path() / "x");
  try {
    out.write("abcdef", 6);
    FAIL() << "a short write went unnoticed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("short write"), std::string::npos) << e.what();
  }
  EXPECT_EQ(fs::file_size(tmp.path() / "x"), 3u);  // what the disk took really is there
}

TEST(FaultFileSystem, EioOnFsyncAndAFailedRenameLeaveTheTargetAsItWas) {
  TempDir tmp;
  write_text(tmp.path() / "f", "old");
  {
    FaultFileSystem faults;
    faults.add({.op = FaultOp::kSync, .path_contains = ".tmp-", .error = EIO, .times = 1});
    ScopedFileSystem scope(faults);
    EXPECT_THROW(write_file_durably(tmp.path() / "f", "new"), Error);
    EXPECT_EQ(faults.fired(), 1);
  }
  {
    FaultFileSystem faults;
    faults.add({.op = FaultOp::kRename, .error = EXDEV});
    ScopedFileSystem scope(faults);
    try {
      write_file_durably(tmp.path() / "f", "new");
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cannot rename"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(read_text(tmp.path() / "f"), "old");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"f"});
  // Outside the scopes the real file system is back.
  write_file_durably(tmp.path() / "f", "new");
  EXPECT_EQ(read_text(tmp.path() / "f"), "new");
}

TEST(FaultFileSystem, ARuleFiresOnlyForItsPathAndItsNumberOfTimes) {
  TempDir tmp;
  FaultFileSystem faults;
  faults.add({.op = FaultOp::kCreate, .path_contains = "ledger", .error = EACCES, .times = 1});
  ScopedFileSystem scope(faults);
  write_file_durably(tmp.path() / "other", "ok");  // another path: untouched
  EXPECT_THROW(append_line_durably(tmp.path() / "ledger.jsonl", "x"), Error);
  append_line_durably(tmp.path() / "ledger.jsonl", "x");  // the rule is spent
  EXPECT_EQ(read_text(tmp.path() / "ledger.jsonl"), "x\n");
  EXPECT_EQ(faults.fired(), 1);
}

}  // namespace
}  // namespace facecrowd
