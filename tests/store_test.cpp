// The store: one write path with oplog entries, snapshots, queries, the data directory's guards.
#include <gtest/gtest.h>

#include <thread>

#include "core/error.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

TEST(Store, InsertReplaceRemoveEachAppendOneOplogEntry) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  auto db = Database::open(dir, "face-recognition");
  std::string id;
  {
    auto w = db->write();
    id = w.insert("attendances", Document::from_json({{"personId", "p1"}, {"session", "s1"},
                                                       {"timestamp", {{"$date", 1704240000000}}}}));
    w.commit();
  }
  {
    auto w = db->write();
    auto doc = Document::from_json({{"_id", {{"$oid", id}}}, {"personId", "p2"}, {"session", "s1"}});
    w.replace("attendances", doc);
    EXPECT_TRUE(w.remove("attendances", id));
    EXPECT_FALSE(w.remove("attendances", id));
    w.commit();
  }
  auto r = db->read();
  EXPECT_EQ(r.count("attendances"), 0);
  auto range = r.oplog_range();
  EXPECT_EQ(range.entries, 3);
  std::vector<char> ops;
  r.scan_oplog({}, range.last, [&](OplogTimestamp, std::string_view e) {
    ops.push_back(decode_oplog_entry(reinterpret_cast<const uint8_t*>(e.data()), e.size(), "oplog").op);
  });
  EXPECT_EQ(ops, (std::vector<char>{'i', 'u', 'd'}));
}

TEST(Store, RolledBackWriteLeavesNoDocumentAndNoOplogEntry) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  auto db = Database::open(dir, "face-recognition");
  {
    auto w = db->write();
    w.insert("users", Document::from_json({{"username", "ann"}}));
  }  // no commit
  auto r = db->read();
  EXPECT_EQ(r.count("users"), 0);
  EXPECT_EQ(r.oplog_range().entries, 0);
}

TEST(Store, UniqueFieldConflictIsRefused) {
  TempDir tmp;
  auto db = Database::open(DataDir::open(tmp.path() / "data"), "face-recognition");
  auto w = db->write();
  w.insert("users", Document::from_json({{"username", "ann"}}));
  try {
    w.insert("users", Document::from_json({{"username", "ann"}}));
    FAIL() << "duplicate username accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kConflict);
  }
}

TEST(Store, QueriesUseIndexedFields) {
  TempDir tmp;
  auto db = Database::open(DataDir::open(tmp.path() / "data"), "face-recognition");
  {
    auto w = db->write();
    for (int i = 0; i < 10; ++i)
      w.insert("crowdcounts", Document::from_json({{"location", i % 2 ? "gate" : "hall"},
                                                   {"timestamp", {{"$date", 1000 * i}}},
                                                   {"count", i}}));
    w.commit();
  }
  auto r = db->read();
  Query q{{{"location", "=", std::string("gate")}, {"timestamp", ">=", int64_t(5000)}}, "timestamp", true, -1};
  std::vector<int> counts;
  r.find("crowdcounts", q, [&](const Document& d) {
    counts.push_back(d.to_json()["count"].get<int>());
    return true;
  });
  EXPECT_EQ(counts, (std::vector<int>{9, 7, 5}));
  EXPECT_EQ(r.count("crowdcounts", q), 3);
  EXPECT_THROW(r.count("crowdcounts", Query{{{"nope", "=", int64_t(1)}}}), Error);
}

TEST(Store, UnknownCollectionIsNotFound) {
  TempDir tmp;
  auto db = Database::open(DataDir::open(tmp.path() / "data"), "face-recognition");
  auto w = db->write();
  try {
    w.insert("people", Document());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("faceprofiles"), std::string::npos);
  }
}

TEST(Store, SnapshotDoesNotSeeLaterWrites) {
  TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  auto reader = Database::open(dir, "face-recognition");
  auto writer = Database::open(dir, "face-recognition");
  {
    auto w = writer->write();
    w.insert("auditlogs", Document::from_json({{"action", "a"}}));
    w.commit();
  }
  auto snapshot = reader->read();
  auto pos = snapshot.position();
  std::thread t([&] {
    auto w = writer->write();
    w.insert("auditlogs", Document::from_json({{"action", "b"}}));
    w.commit();
  });
  t.join();
  EXPECT_EQ(snapshot.count("auditlogs"), 1);
  EXPECT_EQ(snapshot.position(), pos);
}

TEST(DataDirGuard, RefusesANonEmptyDirectoryThatIsNotOurs) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "theirs");
  write_text(tmp.path() / "theirs" / "important.txt", "keep me");
  try {
    DataDir::open(tmp.path() / "theirs");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kNotOurs);
  }
  EXPECT_EQ(read_text(tmp.path() / "theirs" / "important.txt"), "keep me");
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "theirs" / "face-recognition"));
}

TEST(DataDirGuard, OplogPositionsOnlyGrow) {
  OplogTimestamp a{100, 5};
  EXPECT_EQ(OplogTimestamp::next(a, 100), (OplogTimestamp{100, 6}));
  EXPECT_EQ(OplogTimestamp::next(a, 99), (OplogTimestamp{100, 6}));  // clock went back
  EXPECT_EQ(OplogTimestamp::next(a, 101), (OplogTimestamp{101, 1}));
}

}  // namespace
}  // namespace facecrowd
