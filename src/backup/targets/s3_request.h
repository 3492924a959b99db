// One signed S3 request with retries: the HTTP layer under s3_target.h. Requests go through libcurl,
// signed by curl's own SigV4 (CURLOPT_AWS_SIGV4, "aws:amz:<region>:s3"), with the payload's sha256 in the
// x-amz-content-sha256 header (S3 requires it, and it lets the server reject a body damaged in transit; an
// upload made in one pass, whose hash is known only at the end, sends UNSIGNED-PAYLOAD instead) and
// $AWS_SESSION_TOKEN as x-amz-security-token.
//
// Canonical form: curl signs the path and query string as given, so callers pass keys as they are (this
// file percent-encodes them by RFC 3986) and queries already canonical (parameters sorted by name, values
// encoded by s3_query_encode, and "name=" for a value-less one such as "uploads=").
//
// Retries: connection failures (refused, reset, dropped mid-transfer, timed out, stalled below 1 byte/s
// for stall_timeout_s) and answers 500, 502, 503, 504 and 429 are retried up to max_attempts times, waiting
// backoff_ms, doubling, with jitter. Uploads are read in 1 MiB pieces (libcurl's default is 64 KiB: 16
// times the read and send calls for the same bytes). A request body is re-read from its file range (or its
// source, from its first byte: a source request is always a whole object) on each attempt, and hashed
// afresh, so the hashes describe the bytes of the attempt that was answered; a response sink is reset before each attempt. An exception
// from the sink (e.g. disk full) or the source (its input changed) stops at once.
// Other answers (2xx, 3xx, 4xx) are returned to the caller, who turns them into errors.
// TLS: an https endpoint's certificate is verified against the system's CAs, or only against the PEM file
// S3Settings::ca_bundle ($AWS_CA_BUNDLE / ca_bundle) when given. A certificate that does not verify is never
// retried: Error(kIo) at the first attempt, naming the endpoint, saying it was not trusted, and the remedy.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backup/targets/backup_target.h"
#include "backup/targets/s3_config.h"

namespace facecrowd {

struct S3Request {
  std::string method = "GET";          // GET HEAD PUT POST DELETE
  std::string key;                     // object key inside the bucket (prefix included); empty: the bucket
  std::string query;                   // canonical, without '?'
  std::vector<std::string> headers;    // "name: value"
  std::string payload_sha256;          // hex; empty: the sha256 of an empty body
  // Body: `body` when non-empty, else all `length` bytes of `source` (when set: bytes produced as they are
  // sent, backup_target.h), or `length` bytes from `offset` of file descriptor `fd` (fd >= 0).
  std::string body;
  const UploadSource* source = nullptr;
  int fd = -1;
  uint64_t offset = 0, length = 0;
  // When set, the request body is hashed as it is sent, into S3Response::sent_sha256 (an upload whose sha256
  // was given by the caller is checked against the bytes that actually went out, without a second read; a
  // source's sha256 is known only so).
  bool hash_sent = false;
  // When set, the body's MD5 too, into S3Response::sent_md5: compared with the ETag of an upload whose
  // payload is not signed (UNSIGNED-PAYLOAD), S3's only check of such a body.
  bool md5_sent = false;
  // Response body sink (downloads); when unset the body is collected into S3Response::body.
  std::function<void(const char*, size_t)> sink;
  std::function<void()> reset_sink;    // before every attempt
};

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  int attempts = 0;
  std::string sent_sha256;  // hex, of the body the final attempt sent (S3Request::hash_sent)
  std::string sent_md5;     // hex, likewise (S3Request::md5_sent)
};

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash).
std::string s3_uri_encode(const std::string& text, bool keep_slash);
inline std::string s3_query_encode(const std::string& text) { return s3_uri_encode(text, false); }

// The code and message of an S3 error document ("AccessDenied: Access Denied"), or the first 200
// characters of a body that is not one.
std::string s3_error_text(const std::string& body);

class S3Connection {
 public:
  S3Connection(const S3Settings& settings, const BucketLocation& location);
  ~S3Connection();
  S3Connection(const S3Connection&) = delete;
  S3Connection& operator=(const S3Connection&) = delete;

  // The URL a request for `key` and `query` goes to (path-style or virtual-hosted).
  std::string url_for(const std::string& key, const std::string& query) const;
  // Performs `request` with retries. Error(kIo) "<what>: <reason> after N attempts" on connection
  // failures and 5xx answers once the attempts are spent; every other answer is returned. Messages never
  // hold a credential.
  S3Response perform(const S3Request& request, const std::string& what);

 private:
  S3Response attempt(const S3Request& request, std::string& transport_error, bool& retryable);
  const S3Settings& settings_;
  BucketLocation location_;
  void* curl_;  // CURL*
};

}  // namespace facecrowd
