// Target names and S3 configuration by the AWS conventions (backup/targets/s3_config.h).
#include <gtest/gtest.h>

#include "backup/targets/backup_target.h"
#include "backup/targets/s3_config.h"
#include "backup/targets/s3_target.h"
#include "core/error.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

const std::vector<std::pair<std::string, std::string>> kClean = {
    {"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"AWS_SESSION_TOKEN", ""}, {"AWS_REGION", ""},
    {"AWS_DEFAULT_REGION", ""}, {"AWS_ENDPOINT_URL", ""}, {"AWS_ENDPOINT_URL_S3", ""}, {"AWS_PROFILE", ""},
    {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}, {"AWS_CONFIG_FILE", "/nonexistent"},
    {"FACECROWD_S3_ADDRESSING", ""}, {"FACECROWD_S3_STORAGE_CLASS", ""},
    {"FACECROWD_S3_OBJECT_LOCK_DAYS", ""}, {"FACECROWD_S3_OBJECT_LOCK_MODE", ""}, {"AWS_CA_BUNDLE", ""}};

TEST(S3Config, TargetNamesAreParsedAndMalformedOnesRefusedByName) {
  auto l = parse_bucket_location("s3://my-bucket/site/a/");
  EXPECT_EQ(l.scheme, "s3");
  EXPECT_EQ(l.bucket, "my-bucket");
  EXPECT_EQ(l.prefix, "site/a");
  EXPECT_EQ(l.url(), "s3://my-bucket/site/a");
  EXPECT_EQ(parse_bucket_location("gs://b.example").prefix, "");
  for (std::string bad : {"s3://", "s3://UPPER/x", "s3://ab", "s3://b/x/../y", "ftp://b/x"}) {
    try {
      open_backup_target(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage) << bad;
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(S3Config, EnvironmentFirstThenTheProfileOfTheAwsFiles) {
  TempDir d;
  write_text(d.path() / "credentials", "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = defaultsecret\n"
                                       "[backup]\naws_access_key_id = BACKUPKEY\naws_secret_access_key = backupsecret\n"
                                       "aws_session_token = tok\n");
  fs::permissions(d.path() / "credentials", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  write_text(d.path() / "config", "[default]\nregion = us-west-2\n[profile backup]\nregion = eu-central-1\n"
                                  "endpoint_url = http://minio.local:9000\ns3 =\n  addressing_style = path\n");
  auto env = kClean;
  env.push_back({"AWS_SHARED_CREDENTIALS_FILE", (d.path() / "credentials").string()});
  env.push_back({"AWS_CONFIG_FILE", (d.path() / "config").string()});
  {
    ScopedEnv e(env);
    auto s = load_s3_settings(parse_bucket_location("s3://bkt/p"));
    EXPECT_EQ(s.credentials.access_key_id, "DEFAULTKEY");
    EXPECT_EQ(s.region, "us-west-2");
    EXPECT_EQ(s.endpoint, "https://s3.us-west-2.amazonaws.com");
    EXPECT_FALSE(s.path_style);  // AWS: virtual-hosted
  }
  {
    auto with_profile = env;
    with_profile.push_back({"AWS_PROFILE", "backup"});
    ScopedEnv e(with_profile);
    auto s = load_s3_settings(parse_bucket_location("s3://bkt/p"));
    EXPECT_EQ(s.credentials.access_key_id, "BACKUPKEY");
    EXPECT_EQ(s.credentials.session_token.reveal(), "tok");
    EXPECT_EQ(s.region, "eu-central-1");
    EXPECT_EQ(s.endpoint, "http://minio.local:9000");
    EXPECT_TRUE(s.path_style);  // a custom endpoint: path-style
  }
  {
    auto with_env = env;
    with_env.push_back({"AWS_ACCESS_KEY_ID", "ENVKEY"});
    with_env.push_back({"AWS_SECRET_ACCESS_KEY", "envsecret"});
    with_env.push_back({"AWS_REGION", "ap-south-1"});
    with_env.push_back({"FACECROWD_S3_STORAGE_CLASS", "GLACIER_IR"});
    ScopedEnv e(with_env);
    auto s = load_s3_settings(parse_bucket_location("s3://bkt/p"));
    EXPECT_EQ(s.credentials.access_key_id, "ENVKEY");
    EXPECT_EQ(s.region, "ap-south-1");
    EXPECT_EQ(s.storage_class, "GLACIER_IR");
  }
}

// Issue 15.1: a file that holds credentials must be 0600, as `aws configure` makes it.
TEST(S3Config, ACredentialsFileOthersCanReadIsRefusedNamingTheFileAndTheChmod) {
  TempDir d;
  const fs::path file = d.path() / "credentials";
  write_text(file, "[default]\naws_access_key_id = KEYID\naws_secret_access_key = readable-secret-0123\n");
  auto env = kClean;
  env.push_back({"AWS_SHARED_CREDENTIALS_FILE", file.string()});
  ScopedEnv e(env);
  for (auto mode : {fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read}) {
    fs::permissions(file, mode, fs::perm_options::replace);
    try {
      load_s3_settings(parse_bucket_location("s3://bkt/p"));
      FAIL() << "a credentials file others can read was used";
    } catch (const Error& err) {
      const std::string m = err.what();
      EXPECT_EQ(err.code(), ExitCode::kBadInput) << m;
      EXPECT_NE(m.find(file.string()), std::string::npos) << m;
      EXPECT_NE(m.find("chmod 600 '" + file.string() + "'"), std::string::npos) << m;
      EXPECT_EQ(m.find("readable-secret-0123"), std::string::npos) << m;
    }
  }
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  EXPECT_EQ(load_s3_settings(parse_bucket_location("s3://bkt/p")).credentials.secret_access_key.reveal(), "readable-secret-0123");
  // Credentials from the environment do not read the file, so its mode does not matter then.
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read, fs::perm_options::replace);
  ScopedEnv vars(std::vector<std::pair<std::string, std::string>>{{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}});
  EXPECT_EQ(load_s3_settings(parse_bucket_location("s3://bkt/p")).credentials.access_key_id, "ENVKEY");
}

TEST(S3Config, MissingCredentialsSayWhereToPutThemAndNeverAskForAFlag) {
  ScopedEnv e(kClean);
  try {
    load_s3_settings(parse_bucket_location("s3://bkt/p"));
    FAIL();
  } catch (const Error& err) {
    std::string m = err.what();
    EXPECT_EQ(err.code(), ExitCode::kUsage);
    EXPECT_NE(m.find("AWS_ACCESS_KEY_ID"), std::string::npos) << m;
    EXPECT_NE(m.find("never taken from the command line"), std::string::npos) << m;
  }
}

TEST(S3Config, ACaBundleComesFromAwsCaBundleElseTheProfilesCaBundleWithTildeAndAnUnusableOneIsRefusedByName) {
  TempDir home;
  write_text(home.path() / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  write_text(home.path() / "env-ca.pem", "-----BEGIN CERTIFICATE-----\n");
  write_text(home.path() / "empty.pem", "");
  const fs::path config = home.path() / "config";
  write_text(config, "[default]\nca_bundle = ~/ca.pem\n");
  auto env = kClean;
  env.insert(env.end(), {{"AWS_ACCESS_KEY_ID", "K"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_CONFIG_FILE", config.string()},
                         {"HOME", home.path().string()}});
  ScopedEnv e(env);
  const auto where = parse_bucket_location("s3://b-1/x");
  EXPECT_EQ(load_s3_settings(where).ca_bundle, (home.path() / "ca.pem").string());
  {
    ScopedEnv wins(std::vector<std::pair<std::string, std::string>>{{"AWS_CA_BUNDLE", (home.path() / "env-ca.pem").string()}});
    EXPECT_EQ(load_s3_settings(where).ca_bundle, (home.path() / "env-ca.pem").string());
    EXPECT_EQ(load_s3_settings(where).ca_bundle_setting, "$AWS_CA_BUNDLE");
  }
  for (const auto& [file, reason] : std::vector<std::pair<std::string, std::string>>{
           {home.path().string(), "is not a file"}, {(home.path() / "empty.pem").string(), "is empty"}}) {
    ScopedEnv bad(std::vector<std::pair<std::string, std::string>>{{"AWS_CA_BUNDLE", file}});
    try {
      load_s3_settings(where);
      FAIL() << file;
    } catch (const Error& err) {
      EXPECT_EQ(err.code(), ExitCode::kBadInput);
      EXPECT_NE(std::string(err.what()).find("the CA bundle '" + file + "' ($AWS_CA_BUNDLE) " + reason), std::string::npos) << err.what();
    }
  }
  write_text(config, "[default]\n");
  EXPECT_EQ(load_s3_settings(where).ca_bundle, "") << "none given: the system's CAs";
}

TEST(S3Config, GcsGoesToTheInteroperableXmlEndpointWithRegionAuto) {
  auto env = kClean;
  env.push_back({"AWS_ACCESS_KEY_ID", "GOOGHMACID"});
  env.push_back({"AWS_SECRET_ACCESS_KEY", "hmacsecret"});
  ScopedEnv e(env);
  auto s = load_s3_settings(parse_bucket_location("gs://my-bucket/fc"));
  EXPECT_EQ(s.endpoint, "https://storage.googleapis.com");
  EXPECT_EQ(s.region, "auto");
  S3Target t(parse_bucket_location("gs://my-bucket/fc"), s);
  EXPECT_EQ(t.object_url("index.json"), "https://my-bucket.storage.googleapis.com/fc/index.json");
  ScopedEnv path(std::vector<std::pair<std::string, std::string>>{{"FACECROWD_S3_ADDRESSING", "path"}});
  S3Target p(parse_bucket_location("gs://my-bucket/fc"), load_s3_settings(parse_bucket_location("gs://my-bucket/fc")));
  EXPECT_EQ(p.object_url("index.json"), "https://storage.googleapis.com/my-bucket/fc/index.json");
}

TEST(S3Config, ObjectLockIsOffUnlessDaysAreGivenAndBadDaysOrModesAreRefusedByName) {
  auto env = kClean;
  env.push_back({"AWS_ACCESS_KEY_ID", "id"});
  env.push_back({"AWS_SECRET_ACCESS_KEY", "secret"});
  ScopedEnv e(env);
  const auto location = parse_bucket_location("s3://my-bucket/fc");
  EXPECT_EQ(load_s3_settings(location).object_lock_days, 0);
  {
    ScopedEnv lock(std::vector<std::pair<std::string, std::string>>{{"FACECROWD_S3_OBJECT_LOCK_DAYS", "30"},
                                                                    {"FACECROWD_S3_OBJECT_LOCK_MODE", "governance"}});
    auto s = load_s3_settings(location);
    EXPECT_EQ(s.object_lock_days, 30);
    EXPECT_EQ(s.object_lock_mode, "GOVERNANCE");
  }
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"FACECROWD_S3_OBJECT_LOCK_DAYS", "0"}, {"FACECROWD_S3_OBJECT_LOCK_DAYS", "-3"},
           {"FACECROWD_S3_OBJECT_LOCK_DAYS", "99999999999"}, {"FACECROWD_S3_OBJECT_LOCK_DAYS", "30d"},
           {"FACECROWD_S3_OBJECT_LOCK_MODE", "legal-hold"}}) {
    ScopedEnv bad(std::vector<std::pair<std::string, std::string>>{{name, value}});
    try {
      load_s3_settings(location);
      FAIL() << name << "=" << value;
    } catch (const Error& err) {
      EXPECT_EQ(err.code(), ExitCode::kBadInput);
      EXPECT_NE(std::string(err.what()).find(name), std::string::npos) << err.what();
    }
  }
}

// The aws CLI's transfer settings in the profile's "s3 =" sub-section tune multipart uploads as they tune
// `aws s3 cp`; values S3 would refuse are refused by name when the settings are read, not mid-upload.
TEST(S3Config, MultipartSettingsComeFromTheAwsConfigS3SectionAndOutOfRangeOnesAreRefusedByName) {
  TempDir d;
  const fs::path config = d.path() / "config";
  auto env = kClean;
  env.push_back({"AWS_ACCESS_KEY_ID", "id"});
  env.push_back({"AWS_SECRET_ACCESS_KEY", "secret"});
  env.push_back({"AWS_CONFIG_FILE", config.string()});
  ScopedEnv e(env);
  const auto location = parse_bucket_location("s3://my-bucket/fc");
  const S3Settings defaults;
  write_text(config, "[default]\nregion = eu-west-1\n");
  auto s = load_s3_settings(location);
  EXPECT_EQ(s.multipart_threshold, defaults.multipart_threshold);
  EXPECT_EQ(s.part_size, defaults.part_size);
  EXPECT_EQ(s.parallel_parts, defaults.parallel_parts);

  write_text(config, "[default]\nregion = eu-west-1\ns3 =\n  multipart_threshold = 200MB\n  multipart_chunksize = 8MiB\n"
                     "  max_concurrent_requests = 10\n  addressing_style = path\n[profile other]\ns3 =\n  multipart_chunksize = 1KB\n");
  s = load_s3_settings(location);
  EXPECT_EQ(s.multipart_threshold, 200ull << 20);
  EXPECT_EQ(s.part_size, 8ull << 20);
  EXPECT_EQ(s.parallel_parts, 10);
  EXPECT_TRUE(s.path_style);
  EXPECT_EQ(s.region, "eu-west-1");  // the sub-section does not end the profile's settings

  for (std::string bad : {"  multipart_chunksize = 1KB", "  multipart_chunksize = 6GB", "  multipart_threshold = 6GB",
                                 "  multipart_threshold = lots", "  max_concurrent_requests = 0", "  addressing_style = sideways"}) {
    write_text(config, "[default]\ns3 =\n" + bad + "\n");
    const std::string setting = bad.substr(2, bad.find(' ', 2) - 2);
    try {
      load_s3_settings(location);
      FAIL() << bad;
    } catch (const Error& err) {
      EXPECT_EQ(err.code(), ExitCode::kBadInput) << bad;
      EXPECT_NE(std::string(err.what()).find(setting), std::string::npos) << err.what();
      EXPECT_NE(std::string(err.what()).find(config.string()), std::string::npos) << err.what();
    }
  }
}

// S3 takes at most 10,000 parts: a file that would need more at the configured part size gets larger parts.
TEST(S3Config, AFileThatWouldNeedMoreThanTenThousandPartsGetsLargerParts) {
  constexpr uint64_t kMiB = 1 << 20;
  EXPECT_EQ(multipart_part_size(100 * kMiB, 16 * kMiB), 16 * kMiB);
  EXPECT_EQ(multipart_part_size(10000 * 16 * kMiB, 16 * kMiB), 16 * kMiB);  // exactly 10,000 parts
  for (uint64_t size : std::vector<uint64_t>{10000 * 16 * kMiB + 1, 200ull << 30, 5ull << 40}) {
    const uint64_t part = multipart_part_size(size, 16 * kMiB);
    EXPECT_LE((size + part - 1) / part, 10000u) << size;
    EXPECT_EQ(part % kMiB, 0u) << size;
    EXPECT_LE(part, (size + 9999) / 10000 + kMiB) << size;
  }
}

}  // namespace
}  // namespace facecrowd
