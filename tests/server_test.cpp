// `facecrowd serve` end to end (issue 10): a real server on loopback per test, real HTTP, real store.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "face_test_support.h"
#include "server_test_support.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

TEST(Serve, HealthAnswersWithoutCredentialsAndTheApiRefusesThemWithJson) {
  START_SERVER(server);
  auto c = server.client();
  auto health = http(c, "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json["status"], "ok");
  auto people = http(c, "GET", "/api/v1/people");
  EXPECT_EQ(people.status, 401);
  EXPECT_EQ(people.json["error"], "unauthorized");
  EXPECT_TRUE(people.json["detail"].is_string());
  EXPECT_FALSE(people.header("X-Request-Id").empty());
  auto nowhere = http(c, "GET", "/api/v1/nowhere");
  EXPECT_EQ(nowhere.status, 404);
  EXPECT_EQ(nowhere.json["error"], "no_route");
  // One JSON log line per request, with its request id, never the query string.
  http(c, "GET", "/api/v1/people?q=Secret%20Name");
  EXPECT_NE(server.log().find("\"requestId\""), std::string::npos);
  EXPECT_EQ(server.log().find("Secret"), std::string::npos);
}

TEST(Serve, LoginGivesATokenWrongPasswordsAreAuditedAndLeadToALockout) {
  START_SERVER(server, Json{{"auth", {{"loginMaxFailures", 3}, {"lockoutMinutes", 1}}}});
  std::string password = "correct horse battery staple";
  auto add = server.cli("users add ana --role admin --password-stdin", password + "\n");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  // The password is on no command line and in no output.
  EXPECT_EQ(add.out.find(password), std::string::npos);
  auto c = server.client();
  auto ok = http(c, "POST", "/api/v1/auth/login", "", Json{{"username", "ana"}, {"password", password}}.dump());
  ASSERT_EQ(ok.status, 200) << ok.body;
  std::string token = ok.json["token"];
  EXPECT_TRUE(ok.json["expiresAt"].is_string());
  EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", token).json["name"], "ana");

  for (int i = 0; i < 3; ++i) {
    auto bad = http(c, "POST", "/api/v1/auth/login", "", Json{{"username", "ana"}, {"password", "wrong password " + std::to_string(i)}}.dump());
    EXPECT_EQ(bad.status, 401) << bad.body;
    EXPECT_EQ(bad.json["error"], "invalid_credentials");
  }
  auto locked = http(c, "POST", "/api/v1/auth/login", "", Json{{"username", "ana"}, {"password", password}}.dump());
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_FALSE(locked.header("Retry-After").empty());

  auto audit = http(c, "GET", "/api/v1/audit?action=auth.login&limit=50", token);
  ASSERT_EQ(audit.status, 200) << audit.body;
  int failed = 0;
  for (const auto& e : audit.json["items"]) failed += e["outcome"] == "failed";
  EXPECT_GE(failed, 4);  // three wrong passwords and the locked attempt
  EXPECT_EQ(audit.body.find("wrong password"), std::string::npos) << "a password reached the audit log";
  EXPECT_EQ(server.log().find(password), std::string::npos) << "a password reached the log";
  EXPECT_EQ(server.log().find(token), std::string::npos) << "a token reached the log";

  // Logout ends the session.
  EXPECT_EQ(http(c, "POST", "/api/v1/auth/logout", token).status, 200);
  EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", token).status, 401);
}

TEST(Serve, ADisabledUserLosesItsSessionAtOnceAndDemoAccountsNeverLogIn) {
  START_SERVER(server);
  std::string admin = server.user_token("root", "admin");
  std::string viewer = server.user_token("vic", "viewer");
  auto c = server.client();
  EXPECT_EQ(http(c, "GET", "/api/v1/people", viewer).status, 200);
  EXPECT_EQ(http(c, "POST", "/api/v1/users/vic/disable", admin).status, 200);
  EXPECT_EQ(http(c, "GET", "/api/v1/people", viewer).status, 401);
  // demo-data's accounts carry a published password: they are no way in.
  auto demo = server.cli("demo-data --users 2 --profiles 1 --attendances 1 --crowdcounts 1 --auditlogs 1 --image-mb 0 --db face-recognition");
  auto users = http(c, "GET", "/api/v1/users", admin);
  for (const auto& u : users.json["items"]) {
    if (!u.contains("username") || u["username"] == "root" || u["username"] == "vic") continue;
    auto r = http(c, "POST", "/api/v1/auth/login", "", Json{{"username", u["username"]}, {"password", "demo-password"}}.dump());
    EXPECT_EQ(r.status, 401) << u.dump();
  }
}

TEST(Serve, CameraKeysOnlyUploadAndARevokedKeyIsRefused) {
  START_SERVER(server);
  auto key = server.cli("users key add gate-1 --json");
  ASSERT_EQ(key.exit_code, 0) << key.err;
  auto k = Json::parse(key.out);
  auto c = server.client();
  EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", "", "", "", k["key"]).json["role"], "camera");
  EXPECT_EQ(http(c, "GET", "/api/v1/people", "", "", "", k["key"]).status, 403);
  // A multipart upload the camera may make is not refused for its role (it is bad input here).
  auto up = http_multipart(c, "/api/v1/recognize", {text_part("session", "s")}, "", k["key"]);
  EXPECT_EQ(up.status, 400) << up.body;
  auto list = server.cli("users key list --json");
  EXPECT_EQ(list.out.find(k["key"].get<std::string>()), std::string::npos) << "key list shows the key";
  ASSERT_EQ(server.cli("users key revoke " + k["id"].get<std::string>()).exit_code, 0);
  EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", "", "", "", k["key"]).status, 401);
}

// The role x endpoint matrix, walked in full from the served OpenAPI document (every documented route
// answers; each role gets exactly what x-roles says), and compared with the README's table.
TEST(Serve, EveryDocumentedRouteAnswersAndEachRoleGetsExactlyWhatTheMatrixSays) {
  START_SERVER(server);
  std::map<std::string, std::string> creds;  // role -> token or key
  for (std::string role : {"admin", "operator", "viewer"}) creds[role] = server.user_token("u-" + role, role);
  auto key = Json::parse(server.cli("users key add cam --json").out);
  auto c = server.client();
  auto doc = http(c, "GET", "/api/openapi.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.json["openapi"].get<std::string>().substr(0, 2), "3.");
  struct Op {
    std::string method, path;
    std::set<std::string> roles;
  };
  std::vector<Op> ops;
  for (auto& [path, methods] : doc.json["paths"].items())
    for (auto& [method, op] : methods.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      ops.push_back({m, path, op["x-roles"].get<std::set<std::string>>()});
    }
  // Logout last: it ends the session it is called with.
  std::stable_partition(ops.begin(), ops.end(), [](const Op& o) { return o.path != "/api/v1/auth/logout"; });
  ASSERT_GE(ops.size(), 25u);

  std::map<std::string, std::set<std::string>> matrix;  // "METHOD path" -> roles
  for (const auto& op : ops) {
    std::string path = std::regex_replace(op.path, std::regex(R"(\{id\})"), "000000000000000000000000");
    path = std::regex_replace(path, std::regex(R"(\{username\})"), "nobody");
    path = std::regex_replace(path, std::regex(R"(\{name\})"), "latest");
    matrix[op.method + " " + op.path] =
        op.roles.count("anonymous") ? std::set<std::string>{"anonymous", "admin", "operator", "viewer", "camera"} : op.roles;
    for (std::string who : {"anonymous", "viewer", "operator", "admin", "camera"}) {
      std::string token = who == "anonymous" || who == "camera" ? "" : creds[who];
      std::string api_key = who == "camera" ? key["key"].get<std::string>() : "";
      auto r = http(c, op.method, path, token, op.method == "GET" ? "" : "{}", "application/json", api_key);
      std::string what = who + " " + op.method + " " + op.path + " -> " + std::to_string(r.status) + " " + r.body;
      ASSERT_NE(r.status, 0) << what;
      EXPECT_TRUE(r.status < 400 || (r.json.is_object() && r.json.contains("error"))) << "errors are JSON: " << what;
      if (r.json.is_object()) {
        EXPECT_NE(r.json.value("error", ""), "no_route") << what;
      }
      bool allowed = op.roles.count(who) || op.roles.count("anonymous");
      if (allowed) {
        EXPECT_NE(r.status, 401) << what;
        EXPECT_NE(r.status, 403) << what;
        EXPECT_LT(r.status, 500) << what;
      } else {
        EXPECT_EQ(r.status, who == "anonymous" ? 401 : 403) << what;
      }
    }
  }
  // Routes the document does not list are not answered.
  for (std::string path : {"/api/v1/secrets", "/api/v1/people/x/embeddings", "/api/v2/people", "/admin"})
    EXPECT_EQ(http(c, "GET", path, creds["admin"]).json.value("error", ""), "no_route") << path;
  EXPECT_EQ(http(c, "PUT", "/api/v1/people", creds["admin"], "{}").status, 404);

  // The README's matrix says the same.
  std::ifstream readme(fs::path(FACECROWD_SOURCE_DIR) / "README.md");
  std::string line;
  std::map<std::string, std::set<std::string>> readme_matrix;
  std::regex row(R"(^\| `(GET|POST|PATCH|DELETE|PUT) ([^`]+)` \|(.*)\|\s*$)");
  std::vector<std::string> columns = {"anonymous", "admin", "operator", "viewer", "camera"};
  while (std::getline(readme, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) continue;
    std::set<std::string> roles;
    std::stringstream cells(m[3].str());
    std::string cell;
    for (size_t i = 0; std::getline(cells, cell, '|') && i < columns.size(); ++i)
      if (cell.find("yes") != std::string::npos) roles.insert(columns[i]);
    readme_matrix[m[1].str() + " " + m[2].str()] = roles;
  }
  EXPECT_EQ(readme_matrix, matrix) << "README.md's permission matrix differs from /api/openapi.json's x-roles";
}

TEST(Serve, OversizedTooManyFilesTooDeepAndPathTricksAreRefusedWithJsonAndWriteNothing) {
  START_SERVER(server, Json{{"limits", {{"maxBodyBytes", 2000000}, {"maxFilesPerUpload", 2}, {"maxJsonDepth", 8}}}});
  std::string admin = server.user_token("root", "admin");
  auto c = server.client();
  auto before = http(c, "GET", "/api/v1/stats", admin);
  ASSERT_EQ(before.status, 200) << before.body;

  auto big = http(c, "POST", "/api/v1/auth/login", "", std::string(3000000, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.json["error"], "too_large");

  httplib::MultipartFormDataItems three = {text_part("name", "Many Files")};
  for (int i = 0; i < 3; ++i) three.push_back({"photos", "not really a jpeg", "p" + std::to_string(i) + ".jpg", "image/jpeg"});
  auto many = http_multipart(c, "/api/v1/people", three, admin);
  EXPECT_EQ(many.status, 400) << many.body;
  EXPECT_EQ(many.json["error"], "too_many_files");

  std::string deep = std::string(50, '[') + std::string(50, ']');
  auto too_deep = http(c, "POST", "/api/v1/auth/login", "", deep);
  EXPECT_EQ(too_deep.status, 400);
  EXPECT_EQ(too_deep.json["error"], "too_deep");
  EXPECT_EQ(http(c, "POST", "/api/v1/auth/login", "", "{\"username\": ").json["error"], "bad_json");

  // A decodable image far above the megapixel limit is refused before it is decoded.
  auto huge = http_multipart(c, "/api/v1/recognize", {text_part("session", "s"), {"photo", huge_png(20000, 20000), "huge.png", "image/png"}}, admin);
  EXPECT_EQ(huge.status, 400) << huge.body;

  for (std::string path : {"/api/v1/files/..%2F..%2Fetc%2Fpasswd", "/api/v1/files/../../etc/passwd", "/api/v1/files/%2e%2e",
                           "/api/v1/files/not-an-id"}) {
    auto r = http(c, "GET", path, admin);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << path << " -> " << r.status << " " << r.body;
    EXPECT_TRUE(r.json.contains("error")) << path;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << path;
  }
  auto restore = http(c, "POST", "/api/v1/restore", admin, Json{{"archive", "../../etc/passwd"}}.dump());
  EXPECT_EQ(restore.status, 400);
  EXPECT_EQ(http(c, "POST", "/api/v1/backups/..%2Fx/verify", admin).status / 100, 4);

  // Nothing was half-written by any of the refused requests.
  auto after = http(c, "GET", "/api/v1/stats", admin);
  auto count = [](const Json& stats, const std::string& coll) {
    for (const auto& c : stats["collections"])
      if (c["name"] == coll) return c["count"].get<int64_t>();
    return int64_t(-1);
  };
  for (std::string coll : {"faceprofiles", "attendances", "fs.files", "fs.chunks"})
    EXPECT_EQ(count(after.json, coll), count(before.json, coll)) << coll;
}

TEST(Serve, PerAddressRateLimitAnswers429WithRetryAfter) {
  START_SERVER(server, Json{{"rateLimits", {{"perAddressPerMinute", 60}}}});
  auto c = server.client();
  int limited = 0;
  std::string retry;
  for (int i = 0; i < 40; ++i) {
    auto r = http(c, "GET", "/api/v1/people");
    if (r.status == 429) {
      ++limited;
      retry = r.header("Retry-After");
      EXPECT_EQ(r.json["error"], "rate_limited");
    }
  }
  EXPECT_GT(limited, 0);
  EXPECT_FALSE(retry.empty());
  EXPECT_EQ(http(c, "GET", "/health").status, 200) << "liveness is never rate limited";
}

TEST(ServeConfig, AnUnknownKeyIsRefusedNamingItAndTheEnvironmentOverridesTheFile) {
  TempDir tmp;
  write_text(tmp.path() / "c.json", R"({"port": 5001, "limits": {"maxBodyByte": 10}})");
  auto bad = run_facecrowd("serve --config '" + (tmp.path() / "c.json").string() + "' --print-config");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("limits.maxBodyByte"), std::string::npos) << bad.err;
  write_text(tmp.path() / "c.json", R"({"port": 5001, "threads": 3})");
  auto ok = run_facecrowd("serve --config '" + (tmp.path() / "c.json").string() + "' --print-config", "FACECROWD_PORT=6002");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto j = Json::parse(ok.out);
  EXPECT_EQ(j["port"], 6002);
  EXPECT_EQ(j["threads"], 3);
  EXPECT_EQ(j["limits"]["maxFilesPerUpload"], 10);
}

// The README's walkthrough, through HTTP only (after the CLI creates the admin).
TEST(ServeFaces, WalkthroughEnrollTwoPeopleRecognizeTheGroupPhotoAndReadTheAttendance) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  auto c = server.client();
  auto ids = faces_dir() / "identities";
  auto obama = http_multipart(c, "/api/v1/people", {text_part("name", "Barack Obama"), text_part("externalId", "P-1"),
                                                    file_part("photos", ids / "obama" / "obama.jpg")}, admin);
  ASSERT_EQ(obama.status, 201) << obama.body;
  auto biden = http_multipart(c, "/api/v1/people", {text_part("name", "Joe Biden"), file_part("photos", ids / "biden" / "biden.jpg"),
                                                    file_part("photos", ids / "biden" / "biden2.jpg")}, admin);
  ASSERT_EQ(biden.status, 201) << biden.body;
  auto rec = http_multipart(c, "/api/v1/recognize", {text_part("session", "class-7A"),
                                                     file_part("photo", faces_dir() / "groups" / "two_people.jpg")}, admin);
  ASSERT_EQ(rec.status, 200) << rec.body;
  std::set<std::string> names;
  for (const auto& r : rec.json["recognised"]) names.insert(r["personName"]);
  EXPECT_EQ(names, (std::set<std::string>{"Barack Obama", "Joe Biden"})) << rec.body;
  auto att = http(c, "GET", "/api/v1/attendance?session=class-7A", admin);
  ASSERT_EQ(att.status, 200);
  EXPECT_EQ(att.json["items"].size(), 2u);
  auto csv = http(c, "GET", "/api/v1/attendance/export?session=class-7A", admin);
  EXPECT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("Joe Biden"), std::string::npos);
  // The audit says who did it, from where.
  auto audit = http(c, "GET", "/api/v1/audit?action=attendance.recognize", admin);
  ASSERT_FALSE(audit.json["items"].empty());
  EXPECT_EQ(audit.json["items"][0]["actor"], "user:admin");
  EXPECT_EQ(audit.json["items"][0]["clientAddress"], "127.0.0.1");
  // Erasure through the API takes the person out of the warm gallery at once.
  std::string obama_id = obama.json["profileId"];
  ASSERT_EQ(http(c, "DELETE", "/api/v1/people/" + obama_id, admin).status, 200);
  auto again = http_multipart(c, "/api/v1/recognize", {text_part("session", "class-7B"),
                                                       file_part("photo", faces_dir() / "groups" / "two_people.jpg")}, admin);
  for (const auto& r : again.json["recognised"]) EXPECT_NE(r["personName"], "Barack Obama");
}

TEST(ServeFaces, ARestoreUnderLoadAnswersOnly2xxOr503AndKeepsEveryLaterAnswer) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  auto c = server.client();
  auto ids = faces_dir() / "identities";
  ASSERT_EQ(http_multipart(c, "/api/v1/people", {text_part("name", "Joe Biden"), file_part("photos", ids / "biden" / "biden.jpg")}, admin).status, 201);
  auto backup = http(c, "POST", "/api/v1/backups", admin, "{}");
  ASSERT_EQ(backup.status, 201) << backup.body;

  std::atomic<bool> stop{false}, restored{false};
  std::mutex m;
  std::map<int, int> statuses;
  std::vector<std::string> after_sessions;  // sent after the restore answered, and answered 2xx
  std::vector<std::thread> loaders;
  for (int t = 0; t < 4; ++t)
    loaders.emplace_back([&, t] {
      auto lc = server.client();
      for (int i = 0; !stop; ++i) {
        bool sent_after = restored;
        std::string session = "load-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = http_multipart(lc, "/api/v1/recognize", {text_part("session", session),
                                                          file_part("photo", faces_dir() / "groups" / "two_people.jpg")}, admin);
        std::lock_guard g(m);
        statuses[r.status]++;
        if (sent_after && r.status / 100 == 2) after_sessions.push_back(session);
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto restore = http(c, "POST", "/api/v1/restore", admin, Json{{"archive", "latest"}, {"drop", true}}.dump());
  restored = true;
  // Until a few requests sent after the restore were answered (a loaded machine may take a while).
  for (int waited = 0; waited < 600; ++waited) {
    {
      std::lock_guard g(m);
      if (after_sessions.size() >= 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop = true;
  for (auto& l : loaders) l.join();
  ASSERT_EQ(restore.status, 200) << restore.body;
  for (auto [status, n] : statuses) EXPECT_TRUE(status / 100 == 2 || status == 503) << status << " x" << n;
  ASSERT_FALSE(after_sessions.empty()) << "no request completed after the restore";
  for (const auto& s : after_sessions) {
    auto att = http(c, "GET", "/api/v1/attendance?session=" + s, admin);
    size_t recognised = 0;  // the photo's unknown face has a record of its own (personId null)
    for (const auto& item : att.json["items"]) recognised += !item["personId"].is_null();
    EXPECT_EQ(recognised, 1u) << s << " answered 2xx after the restore but is not in the store: " << att.body;
  }
}

TEST(ServeFaces, SigtermFinishesTheRequestInFlightAndExitsZero) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  START_SERVER(server);
  std::string admin = server.user_token("admin", "admin");
  Reply answer;
  std::thread request([&] {
    auto c = server.client();
    answer = http_multipart(c, "/api/v1/recognize", {text_part("session", "s"), file_part("photo", faces_dir() / "groups" / "two_people.jpg")}, admin);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(server.stop(), 0) << server.log();
  request.join();
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_NE(server.log().find("\"stopped\""), std::string::npos);
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// The README's curl walkthrough, run as written (scripts/api-walkthrough.sh) against a real server.
TEST(ServeFaces, TheReadmeCurlWalkthroughRunsAsWritten) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  ServerUnderTest server(dir.path());
  ASSERT_TRUE(server.started()) << server.log();
  ASSERT_EQ(server.cli("users add admin --role admin --password-stdin", "a long admin passphrase\n").exit_code, 0);
  write_text(dir.path() / "pw", "a long admin passphrase\n");
  auto r = run_shell("(FACECROWD_URL=http://127.0.0.1:" + std::to_string(server.port()) + " FACES='" + faces_dir().string() +
                     "' bash '" + (fs::path(FACECROWD_SOURCE_DIR) / "scripts" / "api-walkthrough.sh").string() + "' < '" +
                     (dir.path() / "pw").string() + "')");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"personName\":\"Barack Obama\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"personName\":\"Joe Biden\""), std::string::npos) << r.out;
  // The CSV's rows: header + the two people.
  auto csv = r.out.substr(r.out.find("id,personId,personName"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;
}

}  // namespace
}  // namespace facecrowd
