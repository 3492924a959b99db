// `facecrowd serve`: the `force` field of POST /api/v1/people (the CLI's `enroll --force`), and the warning
// that profiles have no embedding of the current face model (/api/monitoring/health, recognize's answer) until
// `gallery reembed`. A real server on loopback, real HTTP, real models and store.
#include <gtest/gtest.h>

#include "devtools/model_switch.h"
#include "face_test_support.h"
#include "server_test_support.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

fs::path photo_of(const std::string& person, const std::string& file) { return faces_dir() / "identities" / person / file; }

Reply enroll_obama_as(httplib::Client& c, const std::string& token, const std::string& name,
                      std::optional<std::string> force) {
  httplib::MultipartFormDataItems items = {text_part("name", name), file_part("photos", photo_of("obama", "obama1.jpg"))};
  if (force) items.push_back(text_part("force", *force));
  return http_multipart(c, "/api/v1/people", items, token);
}

TEST(ServeEnrollForce, AFaceMatchingAnotherProfileIsRefusedUnlessForceIsTrueAndABadForceIsA400NamingIt) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  auto c = server.client();
  ASSERT_EQ(http_multipart(c, "/api/v1/people", {text_part("name", "Barack Obama"), file_part("photos", photo_of("obama", "obama.jpg"))},
                           admin).status, 201);

  for (std::optional<std::string> force : {std::optional<std::string>(), std::optional<std::string>("false")}) {
    auto refused = enroll_obama_as(c, admin, "Look Alike", force);
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_EQ(refused.json["error"], "conflict");
    EXPECT_NE(refused.json["detail"].get<std::string>().find("Barack Obama"), std::string::npos) << refused.body;
  }
  for (std::string bad : {"yes", "1", "TRUE", ""}) {
    auto r = enroll_obama_as(c, admin, "Look Alike", bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_NE(r.json["detail"].get<std::string>().find("'force'"), std::string::npos) << r.body;
  }
  auto people = http(c, "GET", "/api/v1/people", admin);
  EXPECT_EQ(people.json["items"].size(), 1u) << "nothing stored by a refused enrollment";

  auto forced = enroll_obama_as(c, admin, "Look Alike", "true");
  ASSERT_EQ(forced.status, 201) << forced.body;
  ASSERT_EQ(forced.json["warnings"].size(), 1u) << forced.body;
  EXPECT_NE(forced.json["warnings"][0].get<std::string>().find("enrolled anyway"), std::string::npos);
  // Audited as the CLI's --force: the enrollment's entry records force and the warning; the refusals too.
  auto audit = http(c, "GET", "/api/v1/audit?action=profile.enroll", admin);
  int forced_ok = 0, refused = 0;
  for (const auto& a : audit.json["items"]) {
    if (a["outcome"] == "ok" && a["details"].value("force", false)) {
      ++forced_ok;
      EXPECT_EQ(a["details"]["warnings"].size(), 1u);
    }
    refused += a["outcome"] == "failed";
  }
  EXPECT_EQ(forced_ok, 1) << audit.body;
  EXPECT_EQ(refused, 6) << audit.body;
  // The contract documents it as a boolean.
  auto api = http(c, "GET", "/api/openapi.json");
  auto props = api.json["paths"]["/api/v1/people"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"];
  EXPECT_EQ(props["force"]["type"], "boolean") << props.dump();
}

TEST(ServeEnrollForce, HealthAndRecognizeWarnOfProfilesWithoutTheCurrentModelUntilTheyAreReembedded) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  auto c = server.client();
  ASSERT_EQ(http_multipart(c, "/api/v1/people", {text_part("name", "Joe Biden"), file_part("photos", photo_of("biden", "biden.jpg"))},
                           admin).status, 201);
  auto gallery_check = [&] {
    auto h = http(c, "GET", "/api/monitoring/health", admin);
    for (const auto& check : h.json["checks"])
      if (check["name"] == "gallery-models") return check;
    return Json();
  };
  EXPECT_EQ(gallery_check()["status"], "OK");

  {
    // Another process relabels the embeddings as an older model's (what a model switch looks like).
    auto db = Database::open(DataDir::open(server.data()), std::string(kDefaultDatabase));
    relabel_embeddings_as(*db, "older-model-v0");
  }
  auto check = gallery_check();
  EXPECT_EQ(check["status"], "WARNING") << check.dump();
  EXPECT_NE(check["message"].get<std::string>().find("1 enrolled profile has"), std::string::npos) << check.dump();
  EXPECT_NE(check["message"].get<std::string>().find("gallery reembed"), std::string::npos) << check.dump();
  auto rec = http_multipart(c, "/api/v1/recognize", {text_part("session", "s1"), file_part("photo", faces_dir() / "groups" / "two_people.jpg")}, admin);
  ASSERT_EQ(rec.status, 200) << rec.body;
  EXPECT_TRUE(rec.json["recognised"].empty()) << rec.body;
  ASSERT_EQ(rec.json["warnings"].size(), 1u) << rec.body;

  auto run = server.cli("--models '" + face_models_dir().string() + "' gallery reembed");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(gallery_check()["status"], "OK");
  auto again = http_multipart(c, "/api/v1/recognize", {text_part("session", "s2"), file_part("photo", faces_dir() / "groups" / "two_people.jpg")}, admin);
  ASSERT_EQ(again.status, 200) << again.body;
  ASSERT_EQ(again.json["recognised"].size(), 1u) << again.body;
  EXPECT_EQ(again.json["recognised"][0]["personName"], "Joe Biden");
  EXPECT_TRUE(again.json["warnings"].empty()) << again.body;
}

}  // namespace
}  // namespace facecrowd
