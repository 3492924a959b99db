// Listing and clustering unknown faces stay bounded however many attendance records there are (issue 10):
// the listing reads only the records without a person (personId null, through its index), stops at the
// page it answers, and clustering takes at most 2000 faces, refusing more with a 400 that says how to narrow
// it. The records are written straight into a real store; the listing runs through a real server.
#include <gtest/gtest.h>

#include "app/faces/unknown_faces.h"
#include "store/null_condition.h"
#include "core/object_id.h"
#include "server_test_support.h"
#include "store/database.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

// One record of `faces` unknown faces (boxes only) in `session`, and `people` person records beside it.
void add_records(Database& db, const std::string& session, int faces, int people, int64_t timestamp) {
  auto tx = db.write();
  Json entries = Json::array(), boxes = Json::array();
  for (int n = 1; n <= faces; ++n) {
    Json box = {{"x", n}, {"y", 1}, {"w", 20}, {"h", 20}};
    entries.push_back({{"n", n}, {"box", box}});
    boxes.push_back(box);
  }
  tx.insert("attendances", Document::from_json({{"_id", {{"$oid", new_object_id()}}}, {"personId", nullptr},
                                                {"personName", "unknown"}, {"session", session},
                                                {"timestamp", {{"$date", timestamp}}}, {"unknownFaces", faces},
                                                {"boxes", boxes}, {"faces", entries}, {"archived", false}},
                                               "test record"));
  for (int i = 0; i < people; ++i)
    tx.insert("attendances", Document::from_json({{"_id", {{"$oid", new_object_id()}}}, {"personId", {{"$oid", new_object_id()}}},
                                                  {"personName", "P"}, {"session", session},
                                                  {"timestamp", {{"$date", timestamp + i}}}, {"confidence", 0.9},
                                                  {"archived", false}},
                                                 "test record"));
  tx.commit();
}

TEST(UnknownFacesBounds, TheListingReadsOnlyRecordsWithoutAPersonAndStopsAtMaxFaces) {
  TempDir dir;
  auto db = Database::open(DataDir::open(dir.path() / "data"), std::string(kDefaultDatabase));
  add_records(*db, "a", 3, 50, 1000);
  add_records(*db, "b", 2, 50, 2000);
  auto tx = db->read();
  auto all = list_unknown_faces(tx, {});
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.front().session, "a");
  EXPECT_EQ(all.back().session, "b");
  EXPECT_EQ(list_unknown_faces(tx, {.session = "b"}).size(), 2u);
  EXPECT_EQ(list_unknown_faces(tx, {.from = 1500}).size(), 2u);
  // The scan stops once it has max_faces (a record's faces come whole).
  UnknownFaceQuery page;
  page.max_faces = 1;
  EXPECT_EQ(list_unknown_faces(tx, page).size(), 3u) << "the first record's three faces, not the second record";
}

TEST(UnknownFacesBounds, AnIsNullConditionSelectsTheRecordsWithoutTheField) {
  TempDir dir;
  auto db = Database::open(DataDir::open(dir.path() / "data"), std::string(kDefaultDatabase));
  add_records(*db, "a", 1, 4, 1000);
  size_t n = 0;
  auto tx = db->read();
  tx.find("attendances", Query{{{"personId", kIsNull, int64_t(0)}}}, [&](const Document& d) {
    EXPECT_TRUE(d.to_json()["personId"].is_null());
    ++n;
    return true;
  });
  EXPECT_EQ(n, 1u);
}

TEST(UnknownFacesBounds, ClusteringMoreThanItsCapIsRefusedWith400AndAPageOfTheUnfilteredListingIsAnswered) {
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  {
    auto db = Database::open(DataDir::open(server.data()), std::string(kDefaultDatabase));
    add_records(*db, "big-1", 1000, 0, 1000);
    add_records(*db, "big-2", 1000, 0, 2000);
    add_records(*db, "small", 2, 3, 3000);
  }
  auto c = server.client();
  auto refused = http(c, "GET", "/api/v1/unknown-faces?cluster=true", admin);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(refused.json.value("error", ""), "too_many_faces") << refused.body;
  EXPECT_NE(refused.json.value("detail", "").find("at most 2000"), std::string::npos) << refused.body;
  EXPECT_NE(refused.json.value("detail", "").find("session="), std::string::npos) << refused.body;

  auto narrowed = http(c, "GET", "/api/v1/unknown-faces?cluster=true&session=small", admin);
  ASSERT_EQ(narrowed.status, 200) << narrowed.body;
  EXPECT_TRUE(narrowed.json["clustered"].get<bool>());

  auto page = http(c, "GET", "/api/v1/unknown-faces?limit=2&offset=1", admin);
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_EQ(page.json["items"].size(), 2u) << page.body;
  EXPECT_EQ(page.json["items"][0]["session"], "big-1");
  EXPECT_EQ(page.json["nextOffset"], 3);
  auto last = http(c, "GET", "/api/v1/unknown-faces?session=small&limit=5", admin);
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ(last.json["items"].size(), 2u);
  EXPECT_TRUE(last.json["nextOffset"].is_null()) << last.body;
}

}  // namespace
}  // namespace facecrowd
