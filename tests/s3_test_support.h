// Loopback servers for the backup-target tests: s3rver (a real S3-compatible server, pinned in
// tools/s3/package.json), the fault proxy and the capture server (tests/s3/*.js). Each runs as a child
// process on a port the kernel picks, and is stopped (by its own pid) when the object is destroyed.
// s3_tools_available() is false when node or tools/s3/node_modules is missing (tests then skip with a message;
// scripts/install-deps.sh installs both).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backup/targets/s3_config.h"
#include "test_support.h"

namespace facecrowd {

bool s3_tools_available();
std::string s3_tools_missing_message();

// A child process whose stdout is read until `ready_line` returns a port.
class ChildServer {
 public:
  ChildServer(const std::vector<std::string>& argv, const std::string& port_marker);
  ~ChildServer();
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A private CA and a server certificate it signed (SAN IP:127.0.0.1 and DNS:localhost), made with the
// openssl CLI into a temporary directory: what a school's MinIO behind its own CA looks like to a client.
// Another TestCa is a CA that did not sign this server's certificate.
class TestCa {
 public:
  TestCa();
  const fs::path& ca_cert() const { return ca_cert_; }       // PEM: what AWS_CA_BUNDLE names
  const fs::path& server_key() const { return server_key_; }
  const fs::path& server_cert() const { return server_cert_; }

 private:
  TempDir dir_;
  fs::path ca_cert_, server_key_, server_cert_;
};

class S3rver {
 public:
  static constexpr const char* kAccessKey = "S3RVER";      // s3rver's built-in account
  static constexpr const char* kSecretKey = "S3RVER";
  explicit S3rver(const std::string& bucket = "facecrowd-test");
  // Serves https with the server certificate of `ca` (s3rver's --key/--cert).
  S3rver(const std::string& bucket, const TestCa& ca);
  int port() const { return server_->port(); }
  std::string endpoint() const { return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()); }
  const fs::path& store() const { return dir_.path(); }
  // Settings for a target at `endpoint` (this s3rver or a proxy in front of it): path-style, s3rver's
  // account, quick retries and short timeouts so that fault tests finish fast.
  static S3Settings settings_for(const std::string& endpoint);
  // Files left under s3rver's multipart upload folders (orphan parts).
  std::vector<fs::path> upload_part_files() const;

 private:
  TempDir dir_;
  std::unique_ptr<ChildServer> server_;
  bool tls_ = false;
};

class FaultProxy {
 public:
  FaultProxy(int upstream_port, const fs::path& store);
  int port() const { return server_->port(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }
  void fault(const nlohmann::json& spec);
  nlohmann::json log();

 private:
  std::unique_ptr<ChildServer> server_;
};

class CaptureServer {
 public:
  CaptureServer();
  int port() const { return server_->port(); }
  std::vector<nlohmann::json> requests() const;

 private:
  TempDir dir_;
  std::unique_ptr<ChildServer> server_;
};

// Sets environment variables for the object's lifetime, restoring the old values after.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::vector<std::pair<std::string, std::string>>& vars);
  ~ScopedEnv();

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace facecrowd
