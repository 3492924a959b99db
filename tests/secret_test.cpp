// Secrets in memory (core/secret.h): never printed, wiped when done; and disable_core_dumps() for serve.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "backup/crypto/object_crypto.h"
#include "core/error.h"
#include "core/process_hardening.h"
#include "core/secret.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr const char* kKey = "AKIA-super-secret-key-0123456789";

TEST(Secret, PrintsOnlyRedactedInStreamsJsonAndMessages) {
  Secret s{std::string(kKey)};
  std::ostringstream out;
  out << "connecting with " << s;
  EXPECT_EQ(out.str().find(kKey), std::string::npos);
  EXPECT_NE(out.str().find("redacted"), std::string::npos);
  nlohmann::json j = {{"key", s}};
  EXPECT_EQ(j.dump().find(kKey), std::string::npos);
  EXPECT_EQ(j["key"], Secret::kRedacted);
  EXPECT_EQ(s.reveal(), kKey);  // the one way to the bytes
}

TEST(Secret, WipesTheSourceStringAndMovedFromSecrets) {
  std::string source(kKey);
  const char* buffer = source.data();
  size_t n = source.size();
  Secret a(std::move(source));
  EXPECT_EQ(std::string(buffer, n), std::string(n, '\0')) << "the caller's copy still holds the key";
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b.reveal(), kKey);
  std::string big(200, 'k');
  const char* heap = big.data();
  wipe_string(big);
  EXPECT_TRUE(big.empty());
  EXPECT_EQ(std::string(heap, 200), std::string(200, '\0'));  // the whole buffer, still owned by `big`
}

TEST(Secret, FromEnvRemovesTheVariableAndFromFileRefusesAReadableFile) {
  ::setenv("FACECROWD_TEST_SECRET", kKey, 1);
  Secret s = secret_from_env("FACECROWD_TEST_SECRET");
  EXPECT_EQ(s.reveal(), kKey);
  EXPECT_EQ(std::getenv("FACECROWD_TEST_SECRET"), nullptr);
  try {
    secret_from_env("FACECROWD_TEST_SECRET");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
  }

  TempDir tmp;
  fs::path file = tmp.path() / "s3.key";
  write_text(file, std::string(kKey) + "\n");
  ::chmod(file.c_str(), 0644);
  try {
    secret_from_file(file);
    FAIL() << "a key others can read was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find(kKey), std::string::npos);  // the message never holds the value
  }
  ::chmod(file.c_str(), 0600);
  EXPECT_EQ(secret_from_file(file).reveal(), kKey);
}

TEST(ProcessHardening, DisableCoreDumpsMakesTheProcessNotDumpable) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // in a child, so the test process stays debuggable
    disable_core_dumps();
    struct rlimit lim {};
    ::getrlimit(RLIMIT_CORE, &lim);
    ::_exit(::prctl(PR_GET_DUMPABLE) == 0 && lim.rlim_cur == 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// A CLI command that takes a password, S3 credentials or a backup key into memory (`users add`, `backup`
// from cron, `restore`) cannot write it to a core file: the first Secret or key turns core dumps off.
TEST(ProcessHardening, TheFirstSecretOrKeyInMemoryTurnsCoreDumpsOff) {
  TempDir tmp;
  const fs::path key_file = tmp.path() / "backup.key";
  for (int which = 0; which < 2; ++which) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // in a child, so the test process stays debuggable
      if (which == 0) {
        Secret s{std::string(kKey)};
      } else {
        generate_key_file(key_file);  // holds the new key in a SecretKey
      }
      struct rlimit lim {};
      ::getrlimit(RLIMIT_CORE, &lim);
      ::_exit(::prctl(PR_GET_DUMPABLE) == 0 && lim.rlim_cur == 0 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << (which == 0 ? "a Secret" : "a backup key");
  }
}

}  // namespace
}  // namespace facecrowd
