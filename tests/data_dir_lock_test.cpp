// In-process locking of the data directory (issue 10): an exclusive lock (a restore) belongs to its
// thread; other threads of the same process (a server's request threads) cannot ride on it, so they can
// never open the store, and remove "stale" generations, while a restore builds the next one.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

TEST(DataDirLock, AnotherThreadIsNotGrantedASharedLockWhileThisThreadHoldsTheExclusiveOne) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  auto exclusive = dir.lock(LockMode::kExclusive);
  auto other = std::async(std::launch::async, [&] {
    try {
      dir.lock(LockMode::kShared, 0);
      return ExitCode::kOk;
    } catch (const Error& e) {
      return e.code();
    }
  });
  EXPECT_EQ(other.get(), ExitCode::kBusy);
  // The owner itself still opens the store under its exclusive lock (restore reads the live generation).
  EXPECT_NO_THROW(dir.lock(LockMode::kShared, 0));
}

TEST(DataDirLock, ADatabaseOpenedOnAnotherThreadDuringARestoreLeavesTheGenerationBeingBuilt) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  Database::open(dir, "face-recognition");  // creates the live generation
  auto exclusive = dir.lock(LockMode::kExclusive);
  auto building = dir.next_generation_file("face-recognition");
  write_text(building, "a generation under construction");
  // A request thread opening the store now waits for the restore instead of deleting its work.
  auto opener = std::async(std::launch::async, [&] { return Database::open(dir, "face-recognition") != nullptr; });
  EXPECT_EQ(opener.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EXPECT_TRUE(fs::exists(building)) << "the generation being built was removed by another thread's open";
  fs::remove(building);  // the restore gives up; its lock goes
  exclusive.reset();
  EXPECT_TRUE(opener.get());
}

TEST(DataDirLock, AnExclusiveLockWaitsForAnotherThreadsOpenConnection) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  auto opened = std::async(std::launch::async, [&] { return Database::open(dir, "face-recognition"); }).get();
  EXPECT_THROW(dir.lock(LockMode::kExclusive, 0), Error);
  opened.reset();
  EXPECT_NO_THROW(dir.lock(LockMode::kExclusive, 0));
}

}  // namespace
}  // namespace facecrowd
