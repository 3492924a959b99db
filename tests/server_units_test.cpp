// Small pieces of the HTTP front end (issue 10): JSON depth bound, rate limiter, config file.
#include <gtest/gtest.h>

#include "core/error.h"
#include "server/http_error.h"
#include "server/json_body.h"
#include "server/rate_limiter.h"
#include "server/server_config.h"
#include "test_support.h"

namespace facecrowd {
namespace {

TEST(JsonBody, NestingIsMeasuredOutsideStringsAndTooDeepIsRefusedBeforeParsing) {
  EXPECT_EQ(json_nesting_depth(R"({"a": [1, {"b": "[[[[{{{{"}]})"), 3);
  EXPECT_EQ(json_nesting_depth(R"("\"[[[")"), 0);
  EXPECT_NO_THROW(parse_json_body(R"({"a": [[1]]})", 3));
  try {
    parse_json_body(std::string(100000, '[') + std::string(100000, ']'), 16);
    FAIL() << "a body nested 100000 deep was parsed";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "too_deep");
  }
  try {
    parse_json_body("{\"a\": ", 16);
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.code, "bad_json");
  }
}

TEST(RateLimiter, ABurstPassesThenTheKeyWaitsWhileOtherKeysGoOn) {
  RateLimiter limiter(60, 5);  // one a second, bursts of five
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.take("10.0.0.1"), 0) << i;
  int wait = limiter.take("10.0.0.1");
  EXPECT_GE(wait, 1);
  EXPECT_EQ(limiter.take("10.0.0.2"), 0);
  RateLimiter off(0, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(off.take("x"), 0);
}

TEST(ServerConfig, FileValuesApplyAndAWrongTypeIsNamed) {
  TempDir tmp;
  write_text(tmp.path() / "c.json", R"({"threads": 4, "limits": {"maxFilesPerUpload": 3}, "auth": {"lockoutMinutes": 2}})");
  ServerConfig c;
  apply_config_file(c, tmp.path() / "c.json");
  EXPECT_EQ(c.threads, 4);
  EXPECT_EQ(c.max_files_per_upload, 3);
  EXPECT_EQ(c.lockout_minutes, 2);
  EXPECT_EQ(c.port, 5000);  // untouched defaults stay
  write_text(tmp.path() / "c.json", R"({"limits": {"maxJsonDepth": "deep"}})");
  try {
    apply_config_file(c, tmp.path() / "c.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("limits.maxJsonDepth"), std::string::npos) << e.what();
  }
  write_text(tmp.path() / "c.json", R"({"threads": 0})");
  EXPECT_THROW(apply_config_file(c, tmp.path() / "c.json"), Error);
}

// Issue 12: serve kept the old 0.39 threshold (and 0.04 margin) after recognition's calibrated defaults
// moved; a photo recognised through the server must be decided as `facecrowd recognize` decides it.
TEST(ServerConfig, ServeDecidesMatchesWithTheSameCalibratedPolicyAsTheCommandLine) {
  ServerConfig c;
  const MatchPolicy cli;
  EXPECT_FLOAT_EQ(c.match_policy().max_distance, cli.max_distance);
  EXPECT_FLOAT_EQ(c.match_policy().min_margin, cli.min_margin);
  EXPECT_EQ(c.to_json()["match"]["threshold"].get<double>(), kDefaultMatchThreshold);  // printed as 0.36
}

}  // namespace
}  // namespace facecrowd
