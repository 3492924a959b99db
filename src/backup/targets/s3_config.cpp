#include "backup/targets/s3_config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "core/display_text.h"
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

// The key = value lines of one [section] of an INI file (the AWS config files' format). A nested
// sub-section ("s3 =" followed by indented key = value lines, as the aws CLI writes its transfer settings)
// comes back as "s3.key". Empty when the file or section is absent.
std::map<std::string, std::string> ini_section(const std::string& file, const std::string& section) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  if (!in) return out;
  std::string line, current, nested;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']') throw Error(ExitCode::kBadInput, "AWS configuration file '" + file + "': malformed section line");
      current = trim(t.substr(1, t.size() - 2));
      nested.clear();
      continue;
    }
    if (current != section) continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(t.substr(0, eq)), value = trim(t.substr(eq + 1));
    const bool indented = line[0] == ' ' || line[0] == '\t';
    if (!indented) nested = value.empty() ? key : "";
    if (!indented) out[key] = value;
    else if (!nested.empty()) out[nested + "." + key] = value;
  }
  return out;
}

// A size as the aws CLI reads multipart_threshold and multipart_chunksize: bytes, or a number with KB, MB,
// GB or TB (powers of 1024, as the aws CLI takes them; KiB, MiB, GiB, TiB too).
uint64_t parse_transfer_size(const std::string& text, const std::string& where) {
  static const std::regex re(R"(^([0-9]{1,13})\s*(([KMGT])(i?B))?$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(text, m, re))
    throw Error(ExitCode::kBadInput, where + " is '" + text + "'; give bytes or a size such as 64MB or 1GB");
  const uint64_t value = std::stoull(m[1]);
  const int shift = m[3].matched ? 10 * int(1 + std::string("KMGT").find(char(std::toupper(m[3].str()[0])))) : 0;
  if (value > (UINT64_MAX >> shift)) throw Error(ExitCode::kBadInput, where + " is '" + text + "', too large");
  return value << shift;
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

// The aws CLI's transfer settings (multipart_threshold, multipart_chunksize, max_concurrent_requests in the
// profile's "s3 =" sub-section), held to what S3 accepts: parts of 5 MiB to 5 GiB, and no single PUT over
// 5 GiB. Error(kBadInput) naming the setting, the file and the limit.
void load_transfer_settings(std::map<std::string, std::string>& config, const std::string& where, S3Settings& s) {
  constexpr uint64_t kMinPart = 5ull << 20, kMaxPut = 5ull << 30;
  if (auto it = config.find("s3.multipart_threshold"); it != config.end()) {
    s.multipart_threshold = parse_transfer_size(it->second, "multipart_threshold in " + where);
    if (s.multipart_threshold > kMaxPut)
      throw Error(ExitCode::kBadInput, "multipart_threshold in " + where + " is over 5GB, the largest object S3 takes in one PUT");
  }
  if (auto it = config.find("s3.multipart_chunksize"); it != config.end()) {
    s.part_size = parse_transfer_size(it->second, "multipart_chunksize in " + where);
    if (s.part_size < kMinPart || s.part_size > kMaxPut)
      throw Error(ExitCode::kBadInput, "multipart_chunksize in " + where + " is '" + it->second +
                                           "'; S3 takes parts of 5MB to 5GB");
  }
  if (auto it = config.find("s3.max_concurrent_requests"); it != config.end()) {
    const std::string& v = it->second;
    const bool digits = !v.empty() && v.size() <= 3 && v.find_first_not_of("0123456789") == std::string::npos;
    s.parallel_parts = digits ? std::stoi(v) : 0;
    if (s.parallel_parts < 1 || s.parallel_parts > 64)
      throw Error(ExitCode::kBadInput, "max_concurrent_requests in " + where + " is '" + v + "'; give 1 to 64");
  }
}

// $AWS_CA_BUNDLE wins over ca_bundle in the profile, as in the aws CLI. The file must be readable now, so
// that a typo is a bad-input error before any backup is made or anything is uploaded, not a TLS failure later.
void load_ca_bundle(std::map<std::string, std::string>& config, const std::string& where, S3Settings& s) {
  s.ca_bundle = env("AWS_CA_BUNDLE");
  s.ca_bundle_setting = "$AWS_CA_BUNDLE";
  if (s.ca_bundle.empty() && config.count("ca_bundle")) {
    s.ca_bundle = config["ca_bundle"];
    s.ca_bundle_setting = "ca_bundle in " + where;
  }
  if (s.ca_bundle.empty()) {
    s.ca_bundle_setting.clear();
    return;
  }
  if (s.ca_bundle[0] == '~' && (s.ca_bundle.size() == 1 || s.ca_bundle[1] == '/') && !env("HOME").empty())
    s.ca_bundle = env("HOME") + s.ca_bundle.substr(1);
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(s.ca_bundle, ec);
  std::ifstream in(s.ca_bundle, std::ios::binary);
  if (!regular || !in || in.peek() == std::ifstream::traits_type::eof())
    throw Error(ExitCode::kBadInput, "the CA bundle '" + s.ca_bundle + "' (" + s.ca_bundle_setting + ") " +
                                         (!std::filesystem::exists(s.ca_bundle, ec) ? "does not exist"
                                          : !regular                               ? "is not a file"
                                          : !in                                    ? "cannot be read"
                                                                                   : "is empty") +
                                         "; give a readable PEM file of the CA certificates the S3 endpoint's certificate is signed by");
}

// The storage class sent as x-amz-storage-class, checked here: a mistyped one is otherwise sent with every
// upload and refused by the store only after the local backup is made, as an InvalidStorageClass answer.
// S3's classes as its API documents them (the StorageClass enum of the AWS SDKs, e.g. the C++ SDK 1.11;
// its newest also lists FSX_OPENZFS and FSX_ONTAP, for data on FSx file systems, not a class an upload to a
// bucket asks for). GCS (gs://): its classes, as its XML API takes them (the last three are its older
// names). Upper case, as the APIs write them; empty: the bucket's default.
std::string checked_storage_class(const std::string& value, bool gcs) {
  static const std::vector<std::string> s3 = {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                                              "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR",
                                              "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"};
  static const std::vector<std::string> gcs_classes = {"STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE",
                                                       "MULTI_REGIONAL", "REGIONAL", "DURABLE_REDUCED_AVAILABILITY"};
  const auto& allowed = gcs ? gcs_classes : s3;
  if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return value;
  std::string list;
  for (const auto& c : allowed) list += (list.empty() ? "" : ", ") + c;
  throw Error(ExitCode::kBadInput, "$FACECROWD_S3_STORAGE_CLASS is '" + shortened(value, 80) + "', which is not a storage class " +
                                       (gcs ? "of GCS (gs:// targets)" : "of S3") + ": use one of " + list +
                                       " (upper case), or leave it unset for the bucket's default. Nothing was sent");
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
  // Shown escaped: the text is the operator's (or a config file's) and may hold a newline or an ESC.
  if (!std::regex_match(text, m, re))
    throw Error(ExitCode::kUsage, "backup target '" + shortened(text) + "' is not s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX] "
                                  "(bucket names are 3-63 lower-case letters, digits, '.' and '-')");
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f)
      throw Error(ExitCode::kUsage, "backup target '" + shortened(text) + "': the prefix may not contain control characters");
  BucketLocation loc{m[1], m[2], m[3]};
  while (!loc.prefix.empty() && loc.prefix.front() == '/') loc.prefix.erase(0, 1);
  while (!loc.prefix.empty() && loc.prefix.back() == '/') loc.prefix.pop_back();
  if (loc.prefix.find("//") != std::string::npos || loc.prefix.find("..") != std::string::npos)
    throw Error(ExitCode::kUsage, "backup target '" + shortened(text) + "': the prefix may not contain '//' or '..'");
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
  if (addressing.empty() && config.count("s3.addressing_style") && config["s3.addressing_style"] != "auto")
    addressing = config["s3.addressing_style"];
  if (addressing.empty()) s.path_style = custom_endpoint;
  else if (addressing == "path") s.path_style = true;
  else if (addressing == "virtual") s.path_style = false;
  else throw Error(ExitCode::kBadInput, "$FACECROWD_S3_ADDRESSING (or addressing_style in the s3 settings of '" + config_file +
                                            "') is '" + addressing + "'; use path or virtual");
  // Virtual-hosted names cannot carry a bucket with dots over TLS (the certificate does not match).
  if (!s.path_style && location.bucket.find('.') != std::string::npos && addressing.empty()) s.path_style = true;
  s.storage_class = checked_storage_class(env("FACECROWD_S3_STORAGE_CLASS"), gcs);
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

  load_ca_bundle(config, "profile [" + profile + "] of '" + config_file + "'", s);
  load_transfer_settings(config, "the s3 settings of profile [" + profile + "] in '" + config_file + "'", s);

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
