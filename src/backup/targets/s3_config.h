// Configuration of an S3 or GCS backup target, by the conventions every S3 tool shares, so an operator
// configures facecrowd as they configure the aws CLI:
//
//   target name         s3://bucket/prefix  or  gs://bucket/prefix (GCS through its S3-interoperable XML
//                       API at storage.googleapis.com, with HMAC keys given as the AWS keys below)
//   endpoint            $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, `endpoint_url` in the config file; else
//                       https://s3.<region>.amazonaws.com (s3://) or https://storage.googleapis.com (gs://)
//   region              $AWS_REGION, $AWS_DEFAULT_REGION, `region` in the config file; else us-east-1
//                       (s3://) or auto (gs://)
//   credentials         $AWS_ACCESS_KEY_ID + $AWS_SECRET_ACCESS_KEY (+ $AWS_SESSION_TOKEN), else the
//                       profile $AWS_PROFILE (default "default") of $AWS_SHARED_CREDENTIALS_FILE
//                       (~/.aws/credentials) and $AWS_CONFIG_FILE (~/.aws/config)
//   addressing          $FACECROWD_S3_ADDRESSING = path | virtual; default: virtual-hosted for AWS and
//                       GCS, path-style for any other endpoint (what S3-compatible servers expect)
//   private CA          $AWS_CA_BUNDLE, else `ca_bundle` in the config file's profile (as the aws CLI): a PEM
//                       file of the CA certificates that an https endpoint's certificate must chain to,
//                       instead of the system's (e.g. a MinIO behind a school's or company's own CA).
//                       Verification of the server's certificate and name is never turned off.
//   storage class       $FACECROWD_S3_STORAGE_CLASS (e.g. STANDARD_IA, GLACIER_IR), sent as
//                       x-amz-storage-class on every upload; empty: the bucket's default. Only this
//                       variable sets it (the aws CLI's config files have no storage class setting), and a
//                       value that is not one of S3's classes (GCS's for gs://) is refused here, before any
//                       request: Error(kBadInput) naming the variable and the classes allowed
//   immutability        $FACECROWD_S3_OBJECT_LOCK_DAYS = N (1-36500): every upload is locked by S3 Object
//                       Lock until N days after it, so a compromised server cannot delete or overwrite
//                       recent backups; $FACECROWD_S3_OBJECT_LOCK_MODE = compliance (default: nobody can
//                       shorten it, the account root included) | governance (only a user granted
//                       s3:BypassGovernanceRetention can). The bucket must have Object Lock enabled.
//                       Remote retention's deletions of still-locked objects are refused by S3 and
//                       reported as warnings; give the lock no more days than keep_daily.
//
// Credentials never come from a command line. The secret key and the session token are Secrets
// (core/secret.h: wiped with sodium_memzero, printed only redacted), and nothing here puts a credential
// into an error message: errors name the file and the setting that was missing. A credentials file that
// facecrowd takes credentials from must be private (0600, as `aws configure` creates it): one that group
// or others can read is refused (Error(kBadInput) naming the file and `chmod 600`; issue 15.1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/secret.h"

namespace facecrowd {

struct BucketLocation {
  std::string scheme;  // "s3" | "gs"
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty
  std::string url() const;  // "s3://bucket/prefix"
};

// Error(kUsage) naming the text when it is not s3://BUCKET[/PREFIX] or gs://BUCKET[/PREFIX] with a valid
// bucket name (3-63 of a-z 0-9 . -).
BucketLocation parse_bucket_location(const std::string& text);

// The key id is not secret by AWS's rules (it names the key), but it is wiped too. A copy (S3Settings
// are copied per target) copies the Secrets explicitly, and each copy wipes itself.
struct S3Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;
  S3Credentials() = default;
  S3Credentials(const S3Credentials& other);
  S3Credentials& operator=(const S3Credentials& other);
  S3Credentials(S3Credentials&&) = default;
  S3Credentials& operator=(S3Credentials&&) = default;
  ~S3Credentials();  // wipes access_key_id (the Secrets wipe themselves)
};

struct S3Settings {
  std::string endpoint;      // scheme://host[:port], no trailing '/'
  std::string region;
  bool path_style = false;
  std::string storage_class;
  int object_lock_days = 0;                   // 0: uploads are not locked
  std::string object_lock_mode = "COMPLIANCE";  // or "GOVERNANCE"
  S3Credentials credentials;
  std::string ca_bundle;  // PEM file given to libcurl as CURLOPT_CAINFO on every request; empty: the system's CAs
  std::string ca_bundle_setting;  // where ca_bundle came from ("$AWS_CA_BUNDLE" or "ca_bundle in ..."), for errors
  // Transfer tuning (documented defaults; tests lower them).
  uint64_t multipart_threshold = 64ull << 20;  // files larger than this go up in parts
  uint64_t part_size = 16ull << 20;            // S3's minimum is 5 MiB (except the last part)
  int parallel_parts = 4;                      // parts in flight at once
  int max_attempts = 5;                        // per request, for 5xx answers and connection failures
  int backoff_ms = 250;                        // first retry wait; doubles each attempt (with jitter)
  long connect_timeout_s = 10;
  long stall_timeout_s = 60;                   // abort a transfer that moves < 1 byte/s this long
  // curl's CURLOPT_CONNECT_TO entries ("HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT"): send requests for a
  // name to another address, e.g. a private endpoint; the tests use it to reach loopback servers under AWS's names.
  std::vector<std::string> connect_to;
};

// Reads the environment and the AWS files for `location`. Error(kUsage) naming the missing setting and
// where it may be given when no credentials are found; Error(kBadInput) naming a config file that cannot
// be parsed, a bad $FACECROWD_S3_ADDRESSING, $FACECROWD_S3_STORAGE_CLASS, $FACECROWD_S3_OBJECT_LOCK_DAYS or _MODE, a credentials file
// others can read, or a CA bundle ($AWS_CA_BUNDLE / ca_bundle) that does not exist or cannot be read.
S3Settings load_s3_settings(const BucketLocation& location);

}  // namespace facecrowd
