// GDPR erasure reaches the erased person's face among the unknown faces (issue 10; app/erasure_unknown_faces.h):
// the crop an operator assigned to them, and the same stranger's face in another session that nobody
// assigned, lose crop and embedding, their crop files are deleted and no byte of them stays in the data
// directory; other strangers' faces are untouched. A real server on loopback, the real face pipeline.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "face_test_support.h"
#include "server_test_support.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

Reply recognize(httplib::Client& c, const std::string& token, const std::string& session, const fs::path& photo) {
  return http_multipart(c, "/api/v1/recognize", {text_part("session", session), file_part("photo", photo)}, token);
}

bool any_file_holds(const fs::path& dir, const std::string& bytes) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (content.find(bytes) != std::string::npos) return true;
  }
  return false;
}

const Json* face_in(const Reply& listing, const std::string& id) {
  for (const auto& f : listing.json["items"])
    if (f["id"] == id) return &f;
  return nullptr;
}

TEST(ErasureOfUnknownFaces, ErasingAnAssignedPersonTakesTheirCropsInOtherSessionsAndLeavesOtherStrangersAlone) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  auto c = server.client();
  ASSERT_EQ(http_multipart(c, "/api/v1/people", {text_part("name", "Joe Biden"), file_part("photos", faces_dir() / "identities/biden/biden.jpg")},
                           admin).status, 201);
  // The same stranger (Obama, not enrolled) in two sessions, from two different photos; others on Thursday.
  auto mon = recognize(c, admin, "mon", faces_dir() / "groups/two_people.jpg");
  ASSERT_EQ(mon.status, 200) << mon.body;
  ASSERT_EQ(mon.json["unknown"].size(), 1u) << mon.body;
  auto tue = recognize(c, admin, "tue", faces_dir() / "identities/obama/obama.jpg");
  ASSERT_EQ(tue.status, 200) << tue.body;
  ASSERT_EQ(tue.json["unknown"].size(), 1u) << tue.body;
  auto thu = recognize(c, admin, "thu", faces_dir() / "groups/kit_with_rose.jpg");
  ASSERT_EQ(thu.status, 200) << thu.body;
  ASSERT_GE(thu.json["unknown"].size(), 1u) << thu.body;
  const std::string mon_face = mon.json["unknown"][0]["faceId"], tue_face = tue.json["unknown"][0]["faceId"];
  const std::string mon_crop_url = mon.json["unknown"][0]["cropUrl"], tue_crop_url = tue.json["unknown"][0]["cropUrl"];
  const std::string thu_crop_url = thu.json["unknown"][0]["cropUrl"];
  auto mon_crop = http(c, "GET", mon_crop_url, admin), tue_crop = http(c, "GET", tue_crop_url, admin);
  ASSERT_EQ(mon_crop.status, 200);
  ASSERT_EQ(tue_crop.status, 200);
  ASSERT_NE(mon_crop.body, tue_crop.body) << "two different crops";
  // Precondition: recognition's own threshold puts Monday's and Tuesday's faces in one cluster.
  auto clusters = http(c, "GET", "/api/v1/unknown-faces?cluster=true", admin);
  bool together = false;
  for (const auto& cl : clusters.json["items"]) {
    auto ids = cl["faceIds"].get<std::set<std::string>>();
    together = together || (ids.count(mon_face) && ids.count(tue_face));
  }
  ASSERT_TRUE(together) << clusters.body;

  auto assigned = http(c, "POST", "/api/v1/unknown-faces/" + mon_face + "/assign", admin, Json{{"name", "Barack Obama"}}.dump());
  ASSERT_EQ(assigned.status, 201) << assigned.body;
  const std::string obama = assigned.json["enrollment"]["profileId"];
  ASSERT_NE(face_in(http(c, "GET", "/api/v1/unknown-faces?session=tue", admin), tue_face), nullptr);

  auto erased = http(c, "DELETE", "/api/v1/people/" + obama, admin);
  ASSERT_EQ(erased.status, 200) << erased.body;
  EXPECT_GE(erased.json["effect"]["unknownFacesStripped"].get<int>(), 1) << erased.body;

  // Tuesday's face stays as a head count: listed, with its box, but no crop and not assignable.
  auto listed = http(c, "GET", "/api/v1/unknown-faces?session=tue", admin);
  const Json* face = face_in(listed, tue_face);
  ASSERT_NE(face, nullptr) << listed.body;
  EXPECT_TRUE((*face)["cropFileId"].is_null()) << listed.body;
  EXPECT_FALSE((*face)["assignable"].get<bool>()) << listed.body;
  EXPECT_EQ((*face)["box"], tue.json["unknown"][0]["box"]);
  EXPECT_EQ(http(c, "GET", tue_crop_url, admin).status, 404);
  EXPECT_EQ(http(c, "GET", mon_crop_url, admin).status, 404);
  EXPECT_EQ(http(c, "POST", "/api/v1/unknown-faces/" + tue_face + "/assign", admin, Json{{"name", "Someone"}}.dump()).status, 400)
      << "no crop left to enroll from";
  // Another stranger is not the erased person: their crop stays.
  EXPECT_EQ(http(c, "GET", thu_crop_url, admin).status, 200);

  ASSERT_EQ(server.stop(), 0) << server.log();
  EXPECT_FALSE(any_file_holds(server.data(), tue_crop.body)) << "Tuesday's crop: no copy in the database, WAL or oplog";
  EXPECT_FALSE(any_file_holds(server.data(), mon_crop.body)) << "the assigned crop: no copy left";
}

}  // namespace
}  // namespace facecrowd
