// A restore's claim on the generation it builds (issue 10, store/generation_claim.h): while it is held, no
// Database::open — on any thread of this process or in another process — removes that generation as a
// stale leftover; once its holder is gone (a crashed build), the next open removes the leftover as before.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>

#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/generation_claim.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr const char* kDb = "face-recognition";

TEST(GenerationClaim, ADatabaseOpenedOnAnyThreadWhileARestoreBuildsLeavesTheClaimedGeneration) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  Database::open(dir, kDb);  // the live generation
  auto building = dir.next_generation_file(kDb);
  auto claim = GenerationClaim::acquire(building.parent_path());
  claim->name(building.filename().string());
  write_text(building, "a generation under construction");
  write_text(fs::path(building.string() + "-wal"), "its WAL");

  EXPECT_NE(Database::open(dir, kDb), nullptr);
  EXPECT_TRUE(std::async(std::launch::async, [&] { return Database::open(dir, kDb) != nullptr; }).get());
  EXPECT_TRUE(fs::exists(building)) << "an open removed the generation being built";
  EXPECT_TRUE(fs::exists(fs::path(building.string() + "-wal")));

  claim.reset();  // the build gave up without deleting (or its process died): an ordinary leftover now
  Database::open(dir, kDb);
  EXPECT_FALSE(fs::exists(building)) << "an unclaimed leftover generation was kept";
  EXPECT_FALSE(fs::exists(fs::path(building.string() + "-wal")));
}

TEST(GenerationClaim, TheLeftoverOfABuildWhoseProcessDiedIsRemovedByTheNextOpen) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  Database::open(dir, kDb);
  auto building = dir.next_generation_file(kDb);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a restore killed mid-build: claim, name, create, then gone without cleaning up
    auto claim = GenerationClaim::acquire(building.parent_path());
    claim->name(building.filename().string());
    write_text(building, "half a generation");
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(fs::exists(building));
  EXPECT_EQ(generation_being_built(building.parent_path()), "") << "a dead process's claim still protects";
  Database::open(dir, kDb);
  EXPECT_FALSE(fs::exists(building)) << "the crashed build's leftover was not cleaned up";
}

TEST(GenerationClaim, ASecondRestoreOfTheSameDatabaseIsBusyWhileTheFirstHoldsTheClaim) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  Database::open(dir, kDb);
  const auto folder = tmp.path() / "data" / kDb;
  auto first = GenerationClaim::acquire(folder);
  first->name("gen-000002.sqlite");
  EXPECT_EQ(generation_being_built(folder), "gen-000002.sqlite");
  try {
    GenerationClaim::acquire(folder, 0);
    FAIL() << "a second claim was granted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBusy);
    EXPECT_NE(std::string(e.what()).find("another restore"), std::string::npos) << e.what();
  }
  first.reset();
  EXPECT_FALSE(fs::exists(folder / GenerationClaim::kFileName)) << "a released claim left its file behind";
  EXPECT_NO_THROW(GenerationClaim::acquire(folder, 0));
}

}  // namespace
}  // namespace facecrowd
