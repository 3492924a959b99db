// A real `facecrowd serve` on loopback for the API tests: started on a free port (--port 0, read back from
// its "listening" log line), stopped with SIGTERM at the end. Plus small HTTP helpers on cpp-httplib's
// client.
#pragma once

#include <httplib.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_support.h"

namespace facecrowd {

// Starts a server `name` on a fresh temporary directory `name##_dir` (config optional) inside a test, and
// fails the test with the server's log when it did not start.
#define START_SERVER(name, ...)                           \
  TempDir name##_dir;                                     \
  ServerUnderTest name(name##_dir.path(), ##__VA_ARGS__); \
  ASSERT_TRUE(name.started()) << name.log();

class ServerUnderTest {
 public:
  // `config` is written to a JSON config file (rate limits are off unless it sets them).
  explicit ServerUnderTest(const fs::path& dir, nlohmann::json config = nlohmann::json::object());
  ~ServerUnderTest();
  bool started() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const fs::path& data() const { return data_; }
  const fs::path& backups() const { return backups_; }
  std::string log() const;
  // SIGTERM, then waits; the exit status (-1 when it had to be killed).
  int stop();
  httplib::Client client() const;
  // Runs facecrowd on this server's data directory (e.g. "users add ...").
  CommandResult cli(const std::string& args, const std::string& stdin_text = "") const;
  // Creates a user through the CLI and logs in; the bearer token.
  std::string user_token(const std::string& name, const std::string& role);

 private:
  fs::path dir_, data_, backups_, log_file_;
  pid_t pid_ = -1;
  int port_ = -1;
};

struct Reply {
  int status = 0;  // 0: no answer
  nlohmann::json json;
  std::string body;
  std::string header(const std::string& name) const;
  httplib::Headers headers;
};

Reply http(httplib::Client& c, const std::string& method, const std::string& path, const std::string& token = "",
           const std::string& body = "", const std::string& content_type = "application/json",
           const std::string& api_key = "");
Reply http_multipart(httplib::Client& c, const std::string& path, const httplib::MultipartFormDataItems& items,
                     const std::string& token = "", const std::string& api_key = "");
httplib::MultipartFormData file_part(const std::string& field, const fs::path& file);
httplib::MultipartFormData text_part(const std::string& field, const std::string& value);

}  // namespace facecrowd
