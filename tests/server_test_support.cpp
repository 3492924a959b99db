#include "server_test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

namespace facecrowd {

ServerUnderTest::ServerUnderTest(const fs::path& dir, nlohmann::json config)
    : dir_(dir), data_(dir / "data"), backups_(dir / "backup"), log_file_(dir / "serve.log") {
  nlohmann::json c = {{"port", 0}, {"bind", "127.0.0.1"}, {"data", data_.string()}, {"backupDir", backups_.string()},
                      {"models", (fs::path(FACECROWD_SOURCE_DIR) / "models").string()}, {"threads", 8},
                      {"rateLimits", {{"perAddressPerMinute", 0}, {"perTokenPerMinute", 0}, {"loginPerAddressPerMinute", 0}}}};
  c.merge_patch(config);
  write_text(dir / "serve.json", c.dump(2));
  fs::create_directories(data_);
  // Private, as serve requires (it refuses a data directory others can read; the test's umask may be 022).
  fs::permissions(data_, fs::perms::owner_all, fs::perm_options::replace);
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::string config_path = (dir / "serve.json").string();
    ::execl(FACECROWD_BINARY, FACECROWD_BINARY, "serve", "--config", config_path.c_str(), nullptr);
    ::_exit(127);
  }
  std::regex listening(R"("msg":"listening".*"port":(\d+))");
  for (int i = 0; i < 1200 && port_ < 0; ++i) {
    std::smatch m;
    std::string text = log();
    if (std::regex_search(text, m, listening)) port_ = std::stoi(m[1]);
    int status;
    if (port_ < 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    if (port_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ServerUnderTest::~ServerUnderTest() { stop(); }

std::string ServerUnderTest::log() const {
  std::error_code ec;
  return fs::exists(log_file_, ec) ? read_text(log_file_) : "";
}

int ServerUnderTest::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 600; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

httplib::Client ServerUnderTest::client() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(120, 0);
  c.set_write_timeout(60, 0);
  return c;
}

CommandResult ServerUnderTest::cli(const std::string& args, const std::string& stdin_text) const {
  fs::path in = dir_ / "stdin.txt";
  write_text(in, stdin_text);
  // run_shell gives the command </dev/null: the subshell's own redirection wins inside it.
  return run_shell("(FACECROWD_DATA='" + data_.string() + "' FACECROWD_BACKUP_DIR='" + backups_.string() + "' " +
                   std::string(FACECROWD_BINARY) + " " + args + " < '" + in.string() + "')");
}

std::string ServerUnderTest::user_token(const std::string& name, const std::string& role) {
  std::string password = "pass-of-" + name + "-123";
  auto r = cli("users add " + name + " --role " + role + " --password-stdin", password + "\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto c = client();
  auto reply = http(c, "POST", "/api/v1/auth/login", "", nlohmann::json{{"username", name}, {"password", password}}.dump());
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.json.value("token", "");
}

std::string Reply::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

namespace {
Reply to_reply(const httplib::Result& res) {
  Reply r;
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.headers = res->headers;
  r.json = nlohmann::json::parse(res->body, nullptr, false);
  if (r.json.is_discarded()) r.json = nlohmann::json();
  return r;
}
httplib::Headers auth_headers(const std::string& token, const std::string& api_key) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  if (!api_key.empty()) h.emplace("X-API-Key", api_key);
  return h;
}
}  // namespace

Reply http(httplib::Client& c, const std::string& method, const std::string& path, const std::string& token,
           const std::string& body, const std::string& content_type, const std::string& api_key) {
  auto h = auth_headers(token, api_key);
  if (method == "GET") return to_reply(c.Get(path, h));
  if (method == "POST") return to_reply(c.Post(path, h, body, content_type));
  if (method == "PATCH") return to_reply(c.Patch(path, h, body, content_type));
  if (method == "PUT") return to_reply(c.Put(path, h, body, content_type));
  if (method == "DELETE") return to_reply(c.Delete(path, h, body, content_type));
  return {};
}

Reply http_multipart(httplib::Client& c, const std::string& path, const httplib::MultipartFormDataItems& items,
                     const std::string& token, const std::string& api_key) {
  return to_reply(c.Post(path, auth_headers(token, api_key), items));
}

httplib::MultipartFormData file_part(const std::string& field, const fs::path& file) {
  return {field, read_text(file), file.filename().string(), "image/jpeg"};
}
httplib::MultipartFormData text_part(const std::string& field, const std::string& value) { return {field, value, "", ""}; }

}  // namespace facecrowd
