#include "s3_test_support.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <stdexcept>
#include <thread>

namespace facecrowd {
namespace {

fs::path source_dir() { return FACECROWD_SOURCE_DIR; }
fs::path s3rver_bin() { return source_dir() / "tools/s3/node_modules/s3rver/bin/s3rver.js"; }

std::string node_path() {
  auto r = run_shell("command -v node");
  std::string p = r.out;
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  return p;
}

}  // namespace

bool s3_tools_available() { return !node_path().empty() && fs::exists(s3rver_bin()); }

std::string s3_tools_missing_message() {
  return "node or the pinned s3rver (tools/s3/node_modules) is missing: run scripts/install-deps.sh";
}

ChildServer::ChildServer(const std::vector<std::string>& argv, const std::string& port_marker) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(fds[1]);
  // Read lines until one carries the port (after the marker, or the whole line when the marker is empty).
  std::string buffer;
  char c;
  const std::regex re(port_marker + R"((\d+)\s*$)");
  while (::read(fds[0], &c, 1) == 1) {
    if (c != '\n') {
      buffer.push_back(c);
      continue;
    }
    std::smatch m;
    if (std::regex_search(buffer, m, re)) {
      port_ = std::stoi(m[1]);
      break;
    }
    buffer.clear();
  }
  // Keep draining stdout in the background so the child never blocks on a full pipe.
  int fd = fds[0];
  std::thread([fd] {
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    ::close(fd);
  }).detach();
  if (port_ == 0) throw std::runtime_error("server '" + argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + "' printed no port");
}

ChildServer::~ChildServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }
}

S3Settings S3rver::settings_for(const std::string& endpoint) {
  S3Settings s;
  s.endpoint = endpoint;
  s.region = "us-east-1";
  s.path_style = true;
  s.credentials.access_key_id = kAccessKey;
  s.credentials.secret_access_key = Secret(kSecretKey);
  s.max_attempts = 4;
  s.backoff_ms = 20;
  s.connect_timeout_s = 5;
  s.stall_timeout_s = 5;
  return s;
}

TestCa::TestCa()
    : ca_cert_(dir_.path() / "ca.pem"), server_key_(dir_.path() / "server.key"), server_cert_(dir_.path() / "server.pem") {
  const std::string d = dir_.path().string();
  // A v3 CA (basicConstraints CA:true, as OpenSSL 3 requires of an issuer) and a leaf for 127.0.0.1.
  auto r = run_shell(
      "set -e; cd '" + d + "'; "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=facecrowd test CA' "
      "-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null; "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null; "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:false\nextendedKeyUsage=serverAuth\n' > ext.cnf; "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null");
  if (r.exit_code != 0 || !fs::exists(server_cert_))
    throw std::runtime_error("openssl could not make the test CA and server certificate (scripts/install-deps.sh installs openssl): " + r.err);
}

namespace {
std::vector<std::string> s3rver_argv(const fs::path& store, const std::string& bucket, const TestCa* ca) {
  // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 keeps in its legacy provider.
  std::vector<std::string> argv{node_path(), "--openssl-legacy-provider", s3rver_bin().string(), "-d", store.string(),
                                "-a", "127.0.0.1", "-p", "0", "--silent"};
  if (ca) argv.insert(argv.end(), {"--key", ca->server_key().string(), "--cert", ca->server_cert().string()});
  argv.insert(argv.end(), {"--configure-bucket", bucket});  // last: it takes the rest of the line
  return argv;
}
}  // namespace

S3rver::S3rver(const std::string& bucket) {
  server_ = std::make_unique<ChildServer>(s3rver_argv(dir_.path(), bucket, nullptr), "listening on [0-9.]+:");
}

S3rver::S3rver(const std::string& bucket, const TestCa& ca) : tls_(true) {
  server_ = std::make_unique<ChildServer>(s3rver_argv(dir_.path(), bucket, &ca), "listening on [0-9.]+:");
}

std::vector<fs::path> S3rver::upload_part_files() const {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_.path(), ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file() && it->path().string().find("_S3rver_uploads") != std::string::npos) out.push_back(it->path());
  return out;
}

FaultProxy::FaultProxy(int upstream_port, const fs::path& store) {
  server_ = std::make_unique<ChildServer>(
      std::vector<std::string>{node_path(), (source_dir() / "tests/s3/fault_proxy.js").string(), "--upstream",
                               std::to_string(upstream_port), "--store", store.string()},
      "");
}

void FaultProxy::fault(const nlohmann::json& spec) {
  TempDir d;
  write_text(d.path() / "f.json", spec.dump());
  auto r = run_shell("curl -sf -X POST --data-binary @" + (d.path() / "f.json").string() + " http://127.0.0.1:" +
                     std::to_string(port()) + "/__fault");
  if (r.exit_code != 0) throw std::runtime_error("fault proxy did not take the fault: " + r.err);
}

nlohmann::json FaultProxy::log() {
  auto r = run_shell("curl -sf http://127.0.0.1:" + std::to_string(port()) + "/__log");
  return nlohmann::json::parse(r.out);
}

CaptureServer::CaptureServer() {
  server_ = std::make_unique<ChildServer>(
      std::vector<std::string>{node_path(), (source_dir() / "tests/s3/capture_server.js").string(),
                               (dir_.path() / "requests.jsonl").string()},
      "");
}

std::vector<nlohmann::json> CaptureServer::requests() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(dir_.path() / "requests.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

ScopedEnv::ScopedEnv(const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [k, v] : vars) {
    const char* old = std::getenv(k.c_str());
    saved_.push_back({k, old ? std::optional<std::string>(old) : std::nullopt});
    if (v.empty()) ::unsetenv(k.c_str());
    else ::setenv(k.c_str(), v.c_str(), 1);
  }
}

ScopedEnv::~ScopedEnv() {
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
    else ::unsetenv(it->first.c_str());
  }
}

}  // namespace facecrowd
