// `facecrowd serve` (issue 10): unknown faces (crops, annotated photo, listing, clustering, assignment),
// the warm gallery catching up with CLI enrollments and erasures, and sessions that survive a restart.
// A real server on loopback per test, real HTTP, real store.
#include <gtest/gtest.h>

#include <set>

#include "face_test_support.h"
#include "server_test_support.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

fs::path identity(const std::string& person, const std::string& file) { return faces_dir() / "identities" / person / file; }
fs::path group_photo(const std::string& file) { return faces_dir() / "groups" / file; }

Reply recognize(httplib::Client& c, const std::string& token, const std::string& session, const fs::path& photo,
                const std::string& crops = "") {
  httplib::MultipartFormDataItems items = {text_part("session", session), file_part("photo", photo)};
  if (!crops.empty()) items.push_back(text_part("crops", crops));
  return http_multipart(c, "/api/v1/recognize", items, token);
}

std::set<std::string> recognised_names(const Reply& r) {
  std::set<std::string> names;
  for (const auto& f : r.json["recognised"]) names.insert(f["personName"].get<std::string>());
  return names;
}

TEST(ServeUnknownFaces, RecognizeAnswersUnknownFacesWithCropsAndTheAnnotatedPhotoAndListsThemBySession) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  std::string viewer = server.user_token("vera", "viewer");
  auto c = server.client();
  ASSERT_EQ(http_multipart(c, "/api/v1/people", {text_part("name", "Joe Biden"), file_part("photos", identity("biden", "biden.jpg"))},
                           admin).status, 201);

  auto rec = recognize(c, admin, "class-1", group_photo("two_people.jpg"), "inline");
  ASSERT_EQ(rec.status, 200) << rec.body;
  EXPECT_EQ(recognised_names(rec), std::set<std::string>{"Joe Biden"}) << rec.body;
  ASSERT_EQ(rec.json["unknown"].size(), 1u) << rec.body;
  const Json& unknown = rec.json["unknown"][0];
  for (const char* key : {"faceId", "cropFileId", "cropUrl", "cropJpeg", "box", "label"}) EXPECT_TRUE(unknown.contains(key)) << key << " " << rec.body;
  EXPECT_EQ(unknown["cropJpeg"].get<std::string>().substr(0, 4), "/9j/") << "base64 of a JPEG (FF D8 FF)";
  std::string face_id = unknown["faceId"];

  // The crop is a facial image: operators and admins download it, viewers may not.
  auto crop = http(c, "GET", unknown["cropUrl"], admin);
  ASSERT_EQ(crop.status, 200) << crop.body;
  EXPECT_EQ(crop.body.substr(0, 2), "\xFF\xD8");
  EXPECT_EQ(http(c, "GET", unknown["cropUrl"], viewer).status, 403);
  // The annotated photo: a JPEG of the photo's size, stored and downloadable.
  ASSERT_TRUE(rec.json.contains("annotatedUrl")) << rec.body;
  auto annotated = http(c, "GET", rec.json["annotatedUrl"], viewer);
  ASSERT_EQ(annotated.status, 200) << annotated.body;
  EXPECT_EQ(annotated.body.substr(0, 2), "\xFF\xD8");
  EXPECT_NE(annotated.body, read_text(group_photo("two_people.jpg")));

  auto listed = http(c, "GET", "/api/v1/unknown-faces?session=class-1", admin);
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.json["items"].size(), 1u) << listed.body;
  EXPECT_EQ(listed.json["items"][0]["id"], face_id);
  EXPECT_EQ(listed.json["items"][0]["cropFileId"], unknown["cropFileId"]);
  EXPECT_EQ(listed.json["items"][0]["box"], unknown["box"]);
  EXPECT_TRUE(http(c, "GET", "/api/v1/unknown-faces?session=class-2", admin).json["items"].empty());
  EXPECT_EQ(http(c, "GET", "/api/v1/unknown-faces?session=class-1", viewer).status, 403);

  // Embeddings of strangers are biometric data: the attendance listing never shows them.
  auto att = http(c, "GET", "/api/v1/attendance?session=class-1", admin);
  ASSERT_EQ(att.status, 200);
  EXPECT_EQ(att.body.find("$binary"), std::string::npos) << att.body;
}

TEST(ServeUnknownFaces, TheSameStrangerInThreeSessionsIsOneClusterAndAssigningEnrollsAndRecognisesThem) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  std::string op = server.user_token("otto", "operator");
  std::string viewer = server.user_token("vera", "viewer");
  auto c = server.client();
  ASSERT_EQ(http_multipart(c, "/api/v1/people", {text_part("name", "Joe Biden"), file_part("photos", identity("biden", "biden.jpg"))},
                           admin).status, 201);
  std::map<std::string, std::string> face_of;  // session -> the stranger's face id
  for (std::string s : {"mon", "tue", "wed"}) {
    auto r = recognize(c, op, s, group_photo("two_people.jpg"));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.json["unknown"].size(), 1u) << r.body;
    face_of[s] = r.json["unknown"][0]["faceId"];
  }
  auto other = recognize(c, op, "thu", group_photo("kit_with_rose.jpg"));
  ASSERT_EQ(other.status, 200) << other.body;
  const size_t other_strangers = other.json["unknown"].size();
  ASSERT_GE(other_strangers, 1u) << other.body;

  auto all = http(c, "GET", "/api/v1/unknown-faces", op);
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json["items"].size(), 3 + other_strangers) << all.body;
  auto clusters = http(c, "GET", "/api/v1/unknown-faces?cluster=true", op);
  ASSERT_EQ(clusters.status, 200) << clusters.body;
  EXPECT_TRUE(clusters.json["clustered"].get<bool>());
  ASSERT_EQ(clusters.json["items"].size(), 1 + other_strangers) << "one cluster for the stranger of the three sessions: " << clusters.body;
  const Json* stranger = nullptr;
  for (const auto& cl : clusters.json["items"])
    if (cl["size"] == 3) stranger = &cl;
  ASSERT_NE(stranger, nullptr) << clusters.body;
  EXPECT_EQ((*stranger)["sessions"].get<std::set<std::string>>(), (std::set<std::string>{"mon", "tue", "wed"}));
  EXPECT_EQ((*stranger)["faceIds"].get<std::set<std::string>>(),
            (std::set<std::string>{face_of["mon"], face_of["tue"], face_of["wed"]}));

  // Refusals, as JSON, writing nothing.
  EXPECT_EQ(http(c, "POST", "/api/v1/unknown-faces/" + face_of["mon"] + "/assign", viewer, Json{{"name", "X"}}.dump()).status, 403);
  EXPECT_EQ(http(c, "POST", "/api/v1/unknown-faces/not-an-id/assign", op, Json{{"name", "X"}}.dump()).status, 400);
  EXPECT_EQ(http(c, "POST", "/api/v1/unknown-faces/" + face_of["mon"] + "/assign", op, "{}").status, 400);
  EXPECT_EQ(http(c, "POST", "/api/v1/unknown-faces/" + face_of["mon"] + "/assign", op,
                 Json{{"personId", "0123456789abcdef01234567"}}.dump()).status, 404);
  EXPECT_EQ(http(c, "POST", "/api/v1/unknown-faces/0123456789abcdef01234567-1/assign", op, Json{{"name", "X"}}.dump()).status, 404);
  EXPECT_EQ(http(c, "GET", "/api/v1/unknown-faces?session=mon", op).json["items"].size(), 1u);

  // Assign Monday's stranger to a new person: enrolled from the crop, Monday's attendance names them.
  auto assigned = http(c, "POST", "/api/v1/unknown-faces/" + face_of["mon"] + "/assign", op, Json{{"name", "Barack Obama"}}.dump());
  ASSERT_EQ(assigned.status, 201) << assigned.body;
  EXPECT_TRUE(assigned.json["enrollment"]["created"].get<bool>()) << assigned.body;
  EXPECT_EQ(assigned.json["assignment"]["record"], "inserted");
  std::string obama = assigned.json["enrollment"]["profileId"];
  std::set<std::string> monday;
  auto monday_records = http(c, "GET", "/api/v1/attendance?session=mon", op);
  for (const auto& a : monday_records.json["items"])
    if (!a["personId"].is_null()) monday.insert(a["personName"].get<std::string>());
  EXPECT_EQ(monday, (std::set<std::string>{"Joe Biden", "Barack Obama"})) << monday_records.body;
  EXPECT_TRUE(http(c, "GET", "/api/v1/unknown-faces?session=mon", op).json["items"].empty());
  EXPECT_EQ(http(c, "POST", "/api/v1/unknown-faces/" + face_of["mon"] + "/assign", op, Json{{"name", "Barack Obama"}}.dump()).status, 404)
      << "a face is assigned once";
  // Tuesday's face (the same crop bytes) to the now enrolled person: nothing new to enroll, still assigned.
  auto tuesday = http(c, "POST", "/api/v1/unknown-faces/" + face_of["tue"] + "/assign", op, Json{{"personId", obama}}.dump());
  ASSERT_EQ(tuesday.status, 201) << tuesday.body;
  EXPECT_EQ(tuesday.json["assignment"]["attendanceId"].get<std::string>().size(), 24u);
  EXPECT_EQ(http(c, "GET", "/api/v1/unknown-faces?cluster=true", op).json["items"].size(), 1 + other_strangers);

  // The audit names the actor; the next recognition knows the person.
  auto audit = http(c, "GET", "/api/v1/audit?action=unknown.assign", admin);
  std::vector<Json> done, refused;  // the refusals above are audited too
  for (const auto& e : audit.json["items"]) (e["outcome"] == "ok" ? done : refused).push_back(e);
  ASSERT_EQ(done.size(), 2u) << audit.body;
  EXPECT_EQ(refused.size(), 4u) << audit.body;
  EXPECT_EQ(done[0]["actor"], "user:otto");
  EXPECT_EQ(done[0]["target"], obama);
  auto fri = recognize(c, op, "fri", group_photo("two_people.jpg"));
  EXPECT_EQ(recognised_names(fri), (std::set<std::string>{"Joe Biden", "Barack Obama"})) << fri.body;
  EXPECT_TRUE(fri.json["unknown"].empty()) << fri.body;
}

TEST(ServeGallery, APersonEnrolledOrErasedByTheCliWhileTheServerRunsIsSeenByTheNextRecognition) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  auto c = server.client();
  auto before = recognize(c, admin, "s1", group_photo("two_people.jpg"));
  ASSERT_EQ(before.status, 200) << before.body;
  EXPECT_TRUE(before.json["recognised"].empty());

  auto enrolled = server.cli("enroll --name 'Joe Biden' --json '" + identity("biden", "biden.jpg").string() + "'");
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  auto after = recognize(c, admin, "s2", group_photo("two_people.jpg"));
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(recognised_names(after), std::set<std::string>{"Joe Biden"}) << after.body;
  EXPECT_EQ(after.json["gallery"]["people"], 1);

  std::string id = Json::parse(enrolled.out)["profileId"];
  auto erased = server.cli("person delete " + id);
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  auto gone = recognize(c, admin, "s3", group_photo("two_people.jpg"));
  ASSERT_EQ(gone.status, 200) << gone.body;
  EXPECT_TRUE(gone.json["recognised"].empty()) << gone.body;
  // Out of the warm gallery itself, not only refused by the re-check inside the write transaction.
  EXPECT_EQ(gone.json["gallery"]["people"], 0) << gone.body;
  for (const auto& u : gone.json["unknown"]) EXPECT_NE(u["why"], "erased or deleted while recognising") << gone.body;
}

TEST(ServeSessions, ASessionSurvivesARestartAndItsLogoutToo) {
  TempDir dir;
  std::string token;
  {
    ServerUnderTest first(dir.path());
    ASSERT_TRUE(first.started()) << first.log();
    token = first.user_token("admin", "admin");
    ASSERT_FALSE(token.empty());
    auto c = first.client();
    ASSERT_EQ(http(c, "GET", "/api/v1/auth/me", token).status, 200);
    ASSERT_EQ(first.stop(), 0);
  }
  fs::remove(dir.path() / "serve.log");  // the next server's "listening" line, not this one's
  // Only the token's hash is stored, never the token.
  for (const auto& f : fs::recursive_directory_iterator(dir.path() / "data"))
    if (f.is_regular_file()) {
      EXPECT_EQ(read_text(f.path()).find(token), std::string::npos) << f.path();
    }
  {
    ServerUnderTest second(dir.path());
    ASSERT_TRUE(second.started()) << second.log();
    auto c = second.client();
    auto me = http(c, "GET", "/api/v1/auth/me", token);
    EXPECT_EQ(me.status, 200) << me.body;
    EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", "fcs_not-a-session").status, 401);
    EXPECT_EQ(http(c, "POST", "/api/v1/auth/logout", token).status, 200);
    EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", token).status, 401);
    ASSERT_EQ(second.stop(), 0);
  }
  fs::remove(dir.path() / "serve.log");
  {
    ServerUnderTest third(dir.path());
    ASSERT_TRUE(third.started()) << third.log();
    auto c = third.client();
    EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", token).status, 401) << "a logged-out session stays logged out after a restart";
  }
}

}  // namespace
}  // namespace facecrowd
