// An S3 target over https, as real S3, GCS and a self-hosted MinIO behind a private CA are reached: s3rver
// serves TLS with a certificate signed by a CA the test makes (openssl CLI), and the real binary trusts it
// only through $AWS_CA_BUNDLE or ca_bundle in the AWS config file (the AWS conventions). Without that CA the
// push fails at once, naming the endpoint, the distrust and the remedy, and nothing counts as shipped; a CA
// bundle that does not exist is bad input before any backup is made.
#include <gtest/gtest.h>

#include "backup/targets/s3_target.h"
#include "core/sha256.h"
#include "random_bytes.h"
#include "restore_test_support.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

using namespace restore_test;

struct TlsSite {
  TestCa ca;
  S3rver server{"facecrowd-test", ca};
  TempDir tmp;
  fs::path data = tmp.path() / "data", backups = tmp.path() / "backup", key = tmp.path() / "backup.key";
  std::string env;

  TlsSite() {
    env = "FACECROWD_DATA=" + data.string() + " FACECROWD_BACKUP_DIR=" + backups.string() + " AWS_ENDPOINT_URL=" +
          server.endpoint() + " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1"
          " AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent AWS_CA_BUNDLE=";
    fill(data, 12);
  }
  CommandResult cli(const std::string& args, const std::string& extra_env = "") const {
    return run_facecrowd(args, env + " " + extra_env);
  }
  std::string with_ca() const { return "AWS_CA_BUNDLE=" + ca.ca_cert().string(); }
  // Objects s3rver holds under `prefix` of the bucket.
  size_t stored_objects(const std::string& prefix) const {
    size_t n = 0;
    std::error_code ec;
    const fs::path dir = server.store() / "facecrowd-test" / prefix;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file() && it->path().string().ends_with("._S3rver_object")) ++n;
    return n;
  }
};

// Every file of a directory tree with its size and a hash of its bytes: the local state a failed push must
// leave as it was. Empty *.lock files (flock(2) targets, made by the first push or ship) are not state.
std::map<std::string, std::string> tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() != ".lock") {
      const std::string bytes = read_text(e.path());
      out[fs::relative(e.path(), dir).string()] = std::to_string(bytes.size()) + " bytes, hash " + std::to_string(std::hash<std::string>{}(bytes));
    }
  return out;
}

void expect_untrusted_error(const CommandResult& r, const TlsSite& s, const std::string& remedy) {
  EXPECT_EQ(r.exit_code, int(ExitCode::kIo)) << r.err;
  EXPECT_NE(r.err.find("TLS certificate of endpoint " + s.server.endpoint() + " was not trusted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(remedy), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(1 attempt;"), std::string::npos) << "a certificate that does not verify is not retried: " << r.err;
}

TEST(S3OverTls, APlainAndAnEncryptedBackupGoUpToAnHttpsEndpointTrustedThroughAwsCaBundleAndRestoreFromIt) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  TlsSite s;
  auto plain = s.cli("backup --target s3://facecrowd-test/plain --json", s.with_ca());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(nlohmann::json::parse(plain.out)["offsite"]["uploaded"].empty()) << plain.out;

  ASSERT_EQ(s.cli("target keygen " + s.key.string()).exit_code, 0);
  auto set = s.cli("target set s3://facecrowd-test/sealed --encryption key --key-file " + s.key.string(), s.with_ca());
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto sealed = s.cli("backup --json", s.with_ca());
  ASSERT_EQ(sealed.exit_code, 0) << sealed.err;
  EXPECT_FALSE(nlohmann::json::parse(sealed.out)["offsite"]["uploaded"].empty()) << sealed.out;
  EXPECT_GE(s.stored_objects("sealed"), 2u);
  const Snapshot expected = snapshot(s.data, "face-recognition");

  fs::remove_all(s.data);
  fs::remove_all(s.backups);
  auto r = s.cli("restore s3://facecrowd-test/sealed/latest --key-file " + s.key.string(), s.with_ca());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(snapshot(s.data, "face-recognition"), expected);

  fs::remove_all(s.data);
  fs::remove_all(s.backups);
  auto rp = s.cli("restore s3://facecrowd-test/plain/latest", s.with_ca());
  ASSERT_EQ(rp.exit_code, 0) << rp.err;
  EXPECT_EQ(snapshot(s.data, "face-recognition"), expected);
}

TEST(S3OverTls, CaBundleInTheAwsConfigFileIsTrustedAndAwsCaBundleInTheEnvironmentWinsOverIt) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  TlsSite s;
  const fs::path config = s.tmp.path() / "aws-config";
  write_text(config, "[default]\nregion = us-east-1\nca_bundle = " + s.ca.ca_cert().string() + "\n");
  const std::string from_file = "AWS_CONFIG_FILE=" + config.string();
  auto b = s.cli("backup --target s3://facecrowd-test/site --json", from_file);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_FALSE(nlohmann::json::parse(b.out)["offsite"]["uploaded"].empty()) << b.out;
  const Snapshot expected = snapshot(s.data, "face-recognition");

  // Another CA in the environment takes precedence, as in the aws CLI: this server is then not trusted.
  TestCa other;
  auto env_wins = s.cli("verify --target s3://facecrowd-test/site", from_file + " AWS_CA_BUNDLE=" + other.ca_cert().string());
  expect_untrusted_error(env_wins, s, "The CA bundle '" + other.ca_cert().string() + "' ($AWS_CA_BUNDLE) does not vouch for it");

  fs::remove_all(s.data);
  fs::remove_all(s.backups);
  auto r = s.cli("restore s3://facecrowd-test/site/latest", from_file);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(snapshot(s.data, "face-recognition"), expected);
}

TEST(S3OverTls, WithoutThePrivateCaAPushFailsAtOnceNamingTheEndpointAndTheRemedyAndNothingCountsAsShipped) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  TlsSite s;
  ASSERT_EQ(s.cli("backup").exit_code, 0);
  ASSERT_EQ(s.cli("oplog ship").exit_code, 0);
  const auto before = tree(s.backups);

  auto ship = s.cli("oplog ship --target s3://facecrowd-test/site");
  expect_untrusted_error(ship, s, "give its CA certificate (PEM) in $AWS_CA_BUNDLE or as ca_bundle in the AWS config file");
  EXPECT_EQ(tree(s.backups), before);
  EXPECT_EQ(s.stored_objects("site"), 0u);

  auto backup = s.cli("backup --target s3://facecrowd-test/site");
  expect_untrusted_error(backup, s, "$AWS_CA_BUNDLE");
  EXPECT_NE(backup.err.find("is complete, but sending it to"), std::string::npos) << backup.err;
  EXPECT_EQ(s.stored_objects("site"), 0u);

  // Nothing was marked as sent: with the CA, the next push sends both archives and the slice.
  auto again = s.cli("oplog ship --target s3://facecrowd-test/site --json", s.with_ca());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto uploaded = nlohmann::json::parse(again.out)["offsite"]["uploaded"];
  EXPECT_GE(uploaded.size(), 3u) << again.out;
}

TEST(S3OverTls, ACaBundleThatDoesNotExistIsBadInputNamingTheSettingAndTheFileBeforeAnyBackupIsMade) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  TlsSite s;
  const std::string missing = (s.tmp.path() / "no-such-ca.pem").string();
  auto r = s.cli("backup --target s3://facecrowd-test/site", "AWS_CA_BUNDLE=" + missing);
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
  EXPECT_NE(r.err.find("the CA bundle '" + missing + "' ($AWS_CA_BUNDLE) does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(s.backups)) << "no backup is made";

  const fs::path config = s.tmp.path() / "aws-config";
  write_text(config, "[profile school]\nca_bundle = " + missing + "\n");
  auto from_file = s.cli("backup --target s3://facecrowd-test/site", "AWS_PROFILE=school AWS_CONFIG_FILE=" + config.string());
  EXPECT_EQ(from_file.exit_code, int(ExitCode::kBadInput)) << from_file.err;
  EXPECT_NE(from_file.err.find("(ca_bundle in profile [school] of '" + config.string() + "') does not exist"), std::string::npos)
      << from_file.err;
  EXPECT_FALSE(fs::exists(s.backups));
  EXPECT_EQ(s.stored_objects("site"), 0u);
}

// The CA bundle is set on every connection of the target's pool: parallel multipart workers each open their
// own, and a bundle that does not vouch for the server stops the upload at the first request, leaving no parts.
TEST(S3OverTls, AParallelMultipartUploadTrustsThePrivateCaOnEveryConnectionAndAWrongCaStoresNothing) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  TestCa ca;
  S3rver server("facecrowd-test", ca);
  TempDir dir;
  const std::string data = random_bytes((11 << 20) + 77);
  write_text(dir.path() / "big", data);
  auto settings = S3rver::settings_for(server.endpoint());
  settings.multipart_threshold = settings.part_size = 5 << 20;
  settings.parallel_parts = 3;
  settings.ca_bundle = ca.ca_cert().string();
  settings.ca_bundle_setting = "$AWS_CA_BUNDLE";
  S3Target t(parse_bucket_location("s3://facecrowd-test/mp"), settings);
  t.put("archives/big", dir.path() / "big");
  t.get("archives/big", dir.path() / "back");
  EXPECT_EQ(sha256_of_file(dir.path() / "back"), sha256_hex(data));
  EXPECT_TRUE(server.upload_part_files().empty());

  TestCa other;
  settings.ca_bundle = other.ca_cert().string();
  S3Target wrong(parse_bucket_location("s3://facecrowd-test/wrong"), settings);
  try {
    wrong.put("archives/big", dir.path() / "big");
    FAIL() << "a server the CA bundle does not vouch for must not get the upload";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo) << e.what();
    EXPECT_NE(std::string(e.what()).find("was not trusted"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(1 attempt;"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(server.store() / "facecrowd-test" / "wrong"));
  EXPECT_TRUE(server.upload_part_files().empty());
}

}  // namespace
}  // namespace facecrowd
