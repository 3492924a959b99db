// The secret scan (15.3): a session that uses a password (users add, logins over HTTP to a real
// `facecrowd serve`, one of them wrong), a session token, an API key (created, used for a recognize upload;
// a forged one refused), S3 credentials (backup and oplog ship to s3rver, key and session token from the
// environment) and a backup passphrase. Then every byte facecrowd produced is searched for each secret:
// the commands' stdout and stderr, the server's log, and every file under the data, backup and temporary
// directories (raw bytes: the SQLite database, its WAL, archives, oplog slices, the ledger, the target
// config). None may appear. The only exceptions are the places a secret is meant to go: the API key on
// the stdout of the `users key add` that creates it (shown once), and the token in the login's HTTP reply.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/object_id.h"
#include "face_test_support.h"
#include "s3_test_support.h"
#include "server_test_support.h"
#include "test_support.h"

namespace facecrowd {
namespace {

struct Found {
  std::string secret_name, where;
};

// Each (name, secret) that occurs in `text`, reported as found in `where`.
void scan_text(const std::map<std::string, std::string>& secrets, const std::string& text, const std::string& where,
               std::vector<Found>& found) {
  for (const auto& [name, secret] : secrets)
    if (!secret.empty() && text.find(secret) != std::string::npos) found.push_back({name, where});
}

// Every regular file under `root`, read as raw bytes. Returns how many files were read.
size_t scan_tree(const std::map<std::string, std::string>& secrets, const fs::path& root, std::vector<Found>& found) {
  size_t files = 0;
  std::error_code ec;
  if (!fs::exists(root, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    scan_text(secrets, bytes.str(), it->path().string(), found);
    ++files;
  }
  return files;
}

std::string describe(const std::vector<Found>& found) {
  std::string out;
  for (const auto& f : found) out += "  " + f.secret_name + " in " + f.where + "\n";
  return out;
}

TEST(SecretScan, APasswordTokenApiKeyS3CredentialsAndPassphraseAppearInNoOutputLogOrFile) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  const std::string nonce = new_object_id();
  std::map<std::string, std::string> secrets = {
      {"password", "pw-" + nonce + "-Correct!Horse"},
      {"wrong password", "pw-" + nonce + "-Wrong!Battery"},
      {"S3 secret key", "s3-" + nonce + "/Secret+Key0123456789abcdef"},
      {"S3 session token", "tok-" + nonce + "-SessionToken"},
      {"backup passphrase", "pass-" + nonce + "-Staple!Passphrase"},
      {"forged API key", "fck_" + nonce + "_ForgedKeyForgedKeyForgedKeyForgedKeyForgedK"},
  };
  S3rver s3;
  TempDir tmp;
  const fs::path scratch = tmp.path() / "tmp";
  fs::create_directories(scratch);
  std::vector<std::pair<std::string, CommandResult>> outputs;  // every command's stdout and stderr

  ServerUnderTest server(tmp.path());
  ASSERT_TRUE(server.started()) << server.log();
  // The password: an admin made through the CLI, logins over HTTP (one right, one wrong).
  auto add = server.cli("users add admin --role admin --password-stdin", secrets["password"] + "\n");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  outputs.push_back({"users add", add});
  auto c = server.client();
  auto wrong = http(c, "POST", "/api/v1/auth/login", "",
                    nlohmann::json{{"username", "admin"}, {"password", secrets["wrong password"]}}.dump());
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  auto login = http(c, "POST", "/api/v1/auth/login", "", nlohmann::json{{"username", "admin"}, {"password", secrets["password"]}}.dump());
  ASSERT_EQ(login.status, 200) << login.body;
  secrets["session token"] = login.json.value("token", "");
  ASSERT_FALSE(secrets["session token"].empty());
  EXPECT_EQ(http(c, "GET", "/api/v1/people", secrets["session token"]).status, 200);

  // The API key: created (shown once), used for a recognize upload; a forged key is refused.
  auto key_add = server.cli("users key add gate-camera --json");
  ASSERT_EQ(key_add.exit_code, 0) << key_add.err;
  secrets["API key"] = nlohmann::json::parse(key_add.out).value("key", "");
  ASSERT_FALSE(secrets["API key"].empty());
  EXPECT_NE(key_add.out.find(secrets["API key"]), std::string::npos);  // its one showing
  outputs.push_back({"users key add (stderr only)", CommandResult{0, "", key_add.err}});
  httplib::MultipartFormDataItems upload = {text_part("session", "gate-morning")};
  const bool faces = face_skip_reason().empty();
  if (faces) upload.push_back(file_part("photo", faces_dir() / "groups" / "two_people.jpg"));
  auto rec = http_multipart(c, "/api/v1/recognize", upload, "", secrets["API key"]);
  EXPECT_EQ(rec.status, faces ? 200 : 400) << rec.body;  // authenticated either way: not 401/403
  EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", "", "", "", secrets["forged API key"]).status, 401);
  EXPECT_EQ(http(c, "GET", "/api/v1/auth/me", "Bearer-less-" + nonce).status, 401);
  EXPECT_EQ(http(c, "POST", "/api/v1/auth/logout", secrets["session token"]).status, 200);

  // S3 credentials and a backup passphrase: an encrypted S3 target, a backup and an oplog ship.
  const std::string s3env = "TMPDIR='" + scratch.string() + "' AWS_ENDPOINT_URL=" + s3.endpoint() +
                            " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY='" + secrets["S3 secret key"] +
                            "' AWS_SESSION_TOKEN='" + secrets["S3 session token"] +
                            "' AWS_REGION=us-east-1 AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent"
                            " FACECROWD_BACKUP_PASSPHRASE='" + secrets["backup passphrase"] + "'";
  // Run like server.cli() (the server's data and backup directories), with the S3 settings in the environment.
  auto s3cli = [&](const std::string& args) {
    auto r = run_shell("(FACECROWD_DATA='" + server.data().string() + "' FACECROWD_BACKUP_DIR='" + server.backups().string() +
                       "' " + s3env + " " + FACECROWD_BINARY + " " + args + ")");
    outputs.push_back({args, r});
    return r;
  };
  auto set = s3cli("target set s3://facecrowd-test/scan --encryption passphrase");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto backup = s3cli("backup");
  ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  EXPECT_EQ(s3cli("oplog ship").exit_code, 0);
  EXPECT_EQ(s3cli("backups list --target s3://facecrowd-test/scan --json").exit_code, 0);
  auto verified = s3cli("verify --target s3://facecrowd-test/scan --read-data latest --json");
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  auto audit = s3cli("audit list --json --limit 0");
  EXPECT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_NE(audit.out.find("auth.login"), std::string::npos) << "the logins were audited: " << audit.out;

  // The scan: while the server runs (the WAL is there) and after it stopped.
  std::vector<Found> found;
  size_t files = scan_tree(secrets, server.data(), found) + scan_tree(secrets, server.backups(), found) +
                 scan_tree(secrets, scratch, found);
  EXPECT_GT(files, 5u);
  ASSERT_EQ(server.stop(), 0);
  scan_tree(secrets, server.data(), found);
  scan_tree(secrets, server.backups(), found);
  scan_text(secrets, server.log(), "the server's log", found);
  scan_text(secrets, wrong.body, "the refused login's reply", found);
  scan_text(secrets, rec.body, "the recognize reply", found);
  for (const auto& [args, r] : outputs) {
    scan_text(secrets, r.out, "stdout of `" + args + "`", found);
    scan_text(secrets, r.err, "stderr of `" + args + "`", found);
  }
  EXPECT_TRUE(found.empty()) << "secrets found:\n" << describe(found);
  EXPECT_NE(server.log().find("\"path\":\"/api/v1/auth/login\""), std::string::npos) << "the log was written";
}

}  // namespace
}  // namespace facecrowd
