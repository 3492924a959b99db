// The generation header probe (DataDir::live_file, before every open): it reads the file as it is now,
// and leaves no descriptor behind once the connections to it are closed (review of commit 822f5c4, which
// kept one descriptor per generation path for the process's life: a server that restores again and
// again kept every replaced generation open, its disk space included, and judged a file replaced at the
// same path by the old file's first bytes).
#include <gtest/gtest.h>

#include "store/database.h"
#include "store/store_damage.h"
#include "test_support.h"

namespace facecrowd {
namespace {

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(GenerationProbe, AGenerationReplacedAtTheSamePathIsJudgedByItsNewBytes) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  { auto db = Database::open(dir, "face-recognition"); }
  fs::path live = dir.live_file("face-recognition");  // probed: the SQLite header is there
  write_text(tmp.path() / "garbage", "this is not an SQLite database at all");
  fs::rename(tmp.path() / "garbage", live);  // a new file (inode) at the same path
  try {
    dir.live_file("face-recognition");
    FAIL() << "a generation that is no longer an SQLite file was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kExitDamaged) << e.what();
    EXPECT_NE(std::string(e.what()).find("not an SQLite database"), std::string::npos) << e.what();
  }
}

TEST(GenerationProbe, OpeningAndClosingManyDatabasesLeavesNoDescriptorOpen) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  { auto warm = Database::open(dir, "warmup"); }
  size_t before = open_descriptors();
  for (int i = 0; i < 20; ++i) {
    auto db = Database::open(dir, "db" + std::to_string(i));
    auto again = Database::open(dir, "db" + std::to_string(i));  // a probe while a connection holds locks
  }
  EXPECT_EQ(open_descriptors(), before);
}

TEST(GenerationProbe, AProbeWhileAConnectionIsOpenKeepsItsWrites) {
  // The reason for probing through SQLite's VFS: a plain close() of a probe descriptor would drop the open
  // connection's POSIX locks. Whatever the probe does, the connection still reads and writes afterwards.
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  auto db = Database::open(dir, "face-recognition");
  for (int i = 0; i < 5; ++i) dir.live_file("face-recognition");
  {
    auto tx = db->write();
    tx.insert("users", Document::from_json({{"username", "probe"}}));
    tx.commit();
  }
  auto other = Database::open(dir, "face-recognition");
  EXPECT_EQ(other->read().count("users"), 1);
}

}  // namespace
}  // namespace facecrowd
