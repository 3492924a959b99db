// core/file_lock.h: a lock file its holder removes (release_and_remove) does not let two processes hold the
// lock at once: one that waited on the removed file locks the file the name reaches now.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/file_lock.h"
#include "test_support.h"

namespace facecrowd {
namespace {

// Before the check, the waiter got the lock on the removed file while the next caller created a new file and
// locked that: both held "the" lock (two pushes of one backup directory at once).
TEST(FileLock, AWaiterOnALockFileItsHolderRemovedLocksTheFileTheNameReachesNotTheRemovedOne) {
  TempDir tmp;
  const fs::path path = tmp.path() / "x.lock";
  std::optional<FileLock> holder = FileLock::wait(path);
  EXPECT_TRUE(holder->created());
  std::atomic<bool> waiter_holds = false, release_waiter = false;
  std::thread waiter([&] {
    FileLock lock = FileLock::wait(path);  // opens the file now, and waits on it
    waiter_holds = true;
    while (!release_waiter) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(waiter_holds);
  holder->release_and_remove();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The waiter took the lock of the file the name reaches now (it made it): a third one is refused.
  EXPECT_TRUE(waiter_holds);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(FileLock::try_lock(path).has_value()) << "two holders at once";
  release_waiter = true;
  waiter.join();
  auto again = FileLock::try_lock(path);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->created());
}

}  // namespace
}  // namespace facecrowd
