#include "backup/targets/s3_config.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>

#include "core/error.h"

namespace facecrowd {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// The key = value lines of one [section] of an INI file (the AWS config files' format). Nested
// sub-sections ("s3 =" followed by indented lines) are skipped. Empty when the file or section is absent.
std::map<std::string, std::string> ini_section(const std::string& file, const std::string& section) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  if (!in) return out;
  std::string line, current;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']') throw Error(ExitCode::kBadInput, "AWS configuration file '" + file + "': malformed section line");
      current = trim(t.substr(1, t.size() - 2));
      continue;
    }
    if (current != section || line[0] == ' ' || line[0] == '\t') continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    out[trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
  }
  return out;
}

// A file that holds credentials must be readable by its owner only (issue 15.1).
void require_private_credentials_file(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || (st.st_mode & 0077) == 0) return;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
  throw Error(ExitCode::kBadInput, "AWS credentials file '" + file + "' holds a secret key but other users can read it (mode " +
                                       mode + "); refusing to use it. Fix: chmod 600 '" + file + "'");
}

std::string home_file(const char* env_name, const char* relative) {
  std::string v = env(env_name);
  if (!v.empty()) return v;
  std::string home = env("HOME");
  return home.empty() ? std::string() : home + "/" + relative;
}

}  // namespace

S3Credentials::S3Credentials(const S3Credentials& other)
    : access_key_id(other.access_key_id),
      secret_access_key(other.secret_access_key.copy()),
      session_token(other.session_token.copy()) {}

S3Credentials& S3Credentials::operator=(const S3Credentials& other) {
  if (this != &other) {
    wipe_string(access_key_id);
    access_key_id = other.access_key_id;
    secret_access_key = other.secret_access_key.copy();
    session_token = other.session_token.copy();
  }
  return *this;
}

S3Credentials::~S3Credentials() { wipe_string(access_key_id); }

std::string BucketLocation::url() const { return scheme + "://" + bucket + (prefix.empty() ? "" : "/" + prefix); }

BucketLocation parse_bucket_location(const std::string& text) {
  static const std::regex re(R"(^(s3|gs)://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, re))
    throw Error(ExitCode::kUsage, "backup target '" + text + "' is not s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX] "
                                  "(bucket names are 3-63 lower-case letters, digits, '.' and '-')");
  BucketLocation loc{m[1], m[2], m[3]};
  while (!loc.prefix.empty() && loc.prefix.front() == '/') loc.prefix.erase(0, 1);
  while (!loc.prefix.empty() && loc.prefix.back() == '/') loc.prefix.pop_back();
  if (loc.prefix.find("//") != std::string::npos || loc.prefix.find("..") != std::string::npos)
    throw Error(ExitCode::kUsage, "backup target '" + text + "': the prefix may not contain '//' or '..'");
  return loc;
}

S3Settings load_s3_settings(const BucketLocation& location) {
  S3Settings s;
  const bool gcs = location.scheme == "gs";
  std::string profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  const std::string credentials_file = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  const std::string config_file = home_file("AWS_CONFIG_FILE", ".aws/config");
  auto config = ini_section(config_file, profile == "default" ? "default" : "profile " + profile);
  if (config.empty() && profile != "default") config = ini_section(config_file, profile);

  s.region = env("AWS_REGION");
  if (s.region.empty()) s.region = env("AWS_DEFAULT_REGION");
  if (s.region.empty() && config.count("region")) s.region = config["region"];
  if (s.region.empty()) s.region = gcs ? "auto" : "us-east-1";

  s.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (s.endpoint.empty()) s.endpoint = env("AWS_ENDPOINT_URL");
  if (s.endpoint.empty() && config.count("endpoint_url")) s.endpoint = config["endpoint_url"];
  const bool custom_endpoint = !s.endpoint.empty();
  if (!custom_endpoint) s.endpoint = gcs ? "https://storage.googleapis.com" : "https://s3." + s.region + ".amazonaws.com";
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0)
    throw Error(ExitCode::kUsage, "the S3 endpoint '" + s.endpoint + "' ($AWS_ENDPOINT_URL or endpoint_url) must start with http:// or https://");

  std::string addressing = env("FACECROWD_S3_ADDRESSING");
  if (addressing.empty()) s.path_style = custom_endpoint;
  else if (addressing == "path") s.path_style = true;
  else if (addressing == "virtual") s.path_style = false;
  else throw Error(ExitCode::kBadInput, "$FACECROWD_S3_ADDRESSING is '" + addressing + "'; use path or virtual");
  // Virtual-hosted names cannot carry a bucket with dots over TLS (the certificate does not match).
  if (!s.path_style && location.bucket.find('.') != std::string::npos && addressing.empty()) s.path_style = true;
  s.storage_class = env("FACECROWD_S3_STORAGE_CLASS");
  if (std::string days = env("FACECROWD_S3_OBJECT_LOCK_DAYS"); !days.empty()) {
    const bool digits = days.size() <= 5 && days.find_first_not_of("0123456789") == std::string::npos;
    s.object_lock_days = digits ? std::stoi(days) : 0;
    if (s.object_lock_days < 1 || s.object_lock_days > 36500)
      throw Error(ExitCode::kBadInput, "$FACECROWD_S3_OBJECT_LOCK_DAYS is '" + days + "'; give a number of days from 1 to 36500");
  }
  if (std::string mode = env("FACECROWD_S3_OBJECT_LOCK_MODE"); !mode.empty()) {
    if (mode == "compliance" || mode == "COMPLIANCE") s.object_lock_mode = "COMPLIANCE";
    else if (mode == "governance" || mode == "GOVERNANCE") s.object_lock_mode = "GOVERNANCE";
    else throw Error(ExitCode::kBadInput, "$FACECROWD_S3_OBJECT_LOCK_MODE is '" + mode + "'; use compliance or governance");
  }

  s.credentials.access_key_id = env("AWS_ACCESS_KEY_ID");
  s.credentials.secret_access_key = Secret(env("AWS_SECRET_ACCESS_KEY"));
  s.credentials.session_token = Secret(env("AWS_SESSION_TOKEN"));
  if (s.credentials.access_key_id.empty() || s.credentials.secret_access_key.empty()) {
    auto creds = ini_section(credentials_file, profile);
    s.credentials.access_key_id = creds["aws_access_key_id"];
    s.credentials.secret_access_key = Secret(std::move(creds["aws_secret_access_key"]));
    s.credentials.session_token = Secret(std::move(creds["aws_session_token"]));
    for (auto& [k, v] : creds) wipe_string(v);
    if (!s.credentials.secret_access_key.empty()) require_private_credentials_file(credentials_file);
  }
  if (s.credentials.access_key_id.empty() || s.credentials.secret_access_key.empty())
    throw Error(ExitCode::kUsage,
                "no credentials for backup target '" + location.url() + "': set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY in the environment, or aws_access_key_id and aws_secret_access_key in "
                "profile [" + profile + "] of '" + credentials_file + "'" +
                (gcs ? " (for GCS: an HMAC key of a service account)" : "") +
                ". Credentials are never taken from the command line.");
  return s;
}

}  // namespace facecrowd
