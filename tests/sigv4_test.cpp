// SigV4 signing (curl's CURLOPT_AWS_SIGV4 as S3Connection drives it) checked three ways, on the exact
// bytes libcurl sent to a loopback capture server:
//   1. AWS's documented example request (S3 "GET Object" with a Range header) yields AWS's documented
//      Authorization header;
//   2. for every request shape facecrowd sends (PUT with metadata, multipart start/part/complete/abort,
//      list with a query, HEAD, DELETE, a session token) the signature equals one computed independently
//      here from the SigV4 specification (libsodium HMAC-SHA256);
//   3. and equals the one the pinned npm `aws4` package computes for the same request.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "backup/targets/s3_request.h"
#include "core/sha256.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

#define REQUIRE_S3_TOOLS() \
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message()

const char* kExampleKeyId = "AKIAIOSFODNN7EXAMPLE";
const char* kExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_auth_hmacsha256_final(&st, out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string to_hex(const std::string& bin) {
  std::string out(bin.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()), bin.size());
  out.pop_back();
  return out;
}

struct Auth {
  std::string credential, signed_headers, signature;
};

Auth parse_auth(const std::string& header) {
  static const std::regex re(R"(AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64}))");
  std::smatch m;
  if (!std::regex_match(header, m, re)) return {};
  return {m[1], m[2], m[3]};
}

// SigV4 for S3 from the specification, over a request as the server received it.
std::string reference_signature(const nlohmann::json& request, const std::string& secret, const std::string& region) {
  const auto& headers = request["headers"];
  Auth auth = parse_auth(headers["authorization"].get<std::string>());
  std::string url = request["url"];
  std::string path = url.substr(0, url.find('?'));
  std::string query = url.find('?') == std::string::npos ? "" : url.substr(url.find('?') + 1);
  // Canonical query: name=value pairs (a bare name gets '='), sorted; values are already encoded.
  std::vector<std::string> params;
  std::stringstream qs(query);
  for (std::string p; std::getline(qs, p, '&');)
    if (!p.empty()) params.push_back(p.find('=') == std::string::npos ? p + "=" : p);
  std::sort(params.begin(), params.end());
  std::string canonical_query;
  for (const auto& p : params) canonical_query += (canonical_query.empty() ? "" : "&") + p;
  std::string canonical_headers;
  std::stringstream sh(auth.signed_headers);
  for (std::string name; std::getline(sh, name, ';');) {
    std::string v = headers[name].get<std::string>();
    v.erase(0, v.find_first_not_of(' '));
    v.erase(v.find_last_not_of(' ') + 1);
    canonical_headers += name + ":" + v + "\n";
  }
  std::string canonical = request["method"].get<std::string>() + "\n" + path + "\n" + canonical_query + "\n" +
                          canonical_headers + "\n" + auth.signed_headers + "\n" +
                          headers["x-amz-content-sha256"].get<std::string>();
  std::string date = headers["x-amz-date"];
  std::string scope = date.substr(0, 8) + "/" + region + "/s3/aws4_request";
  std::string to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + sha256_hex(canonical);
  std::string key = hmac(hmac(hmac(hmac("AWS4" + secret, date.substr(0, 8)), region), "s3"), "aws4_request");
  return to_hex(hmac(key, to_sign));
}

std::string aws4_signature(const nlohmann::json& request, const std::string& key_id, const std::string& secret,
                           const std::string& region) {
  const auto& headers = request["headers"];
  Auth auth = parse_auth(headers["authorization"].get<std::string>());
  nlohmann::json signed_headers = nlohmann::json::object();
  std::stringstream sh(auth.signed_headers);
  for (std::string name; std::getline(sh, name, ';');)
    if (name != "host") signed_headers[name] = headers[name];
  nlohmann::json in = {{"host", headers["host"]}, {"method", request["method"]}, {"path", request["url"]},
                       {"headers", signed_headers}, {"body", request["body"]}, {"region", region},
                       {"accessKeyId", key_id}, {"secretAccessKey", secret}};
  TempDir d;
  write_text(d.path() / "r.json", in.dump());
  auto r = run_shell("node " + std::string(FACECROWD_SOURCE_DIR) + "/tests/s3/aws4_sign.js " + (d.path() / "r.json").string());
  return parse_auth(r.out.substr(0, r.out.find('\n'))).signature;
}

S3Settings example_settings(int port) {
  S3Settings s;
  s.endpoint = "http://s3.amazonaws.com";
  s.region = "us-east-1";
  s.path_style = false;
  s.credentials.access_key_id = kExampleKeyId;
  s.credentials.secret_access_key = Secret(kExampleSecret);
  s.connect_to = {"::127.0.0.1:" + std::to_string(port)};
  s.max_attempts = 1;
  return s;
}

// Sends `r` with the documentation's credentials to its example bucket, through a capture server; the
// headers of the one request that arrived.
nlohmann::json send_documented_example(const S3Request& r) {
  CaptureServer capture;
  auto settings = example_settings(capture.port());
  S3Connection c(settings, BucketLocation{"s3", "examplebucket", ""});
  c.perform(r, "the AWS example");
  auto requests = capture.requests();
  EXPECT_EQ(requests.size(), 1u);
  return requests.empty() ? nlohmann::json::object() : requests[0]["headers"];
}

TEST(SigV4, AwsDocumentedGetObjectExampleGetsAwsDocumentedAuthorizationHeader) {
  REQUIRE_S3_TOOLS();
  S3Request r;
  r.key = "test.txt";
  r.headers = {"Range: bytes=0-9", "x-amz-date: 20130524T000000Z"};
  auto headers = send_documented_example(r);
  EXPECT_EQ(headers["host"], "examplebucket.s3.amazonaws.com");
  Auth auth = parse_auth(headers.value("authorization", ""));
  EXPECT_EQ(auth.credential, "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(auth.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(auth.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsDocumentedListObjectsExampleGetsAwsDocumentedSignature) {
  REQUIRE_S3_TOOLS();
  S3Request r;
  r.query = "max-keys=2&prefix=J";
  r.headers = {"x-amz-date: 20130524T000000Z"};
  Auth auth = parse_auth(send_documented_example(r).value("authorization", ""));
  EXPECT_EQ(auth.signed_headers, "host;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(auth.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, EveryRequestShapeFacecrowdSendsIsSignedAsTheSpecificationAndAws4Sign) {
  REQUIRE_S3_TOOLS();
  CaptureServer capture;
  auto settings = example_settings(capture.port());
  settings.credentials.session_token = Secret("FQoGZXIvYXdzEXAMPLETOKEN");
  BucketLocation bucket{"s3", "examplebucket", ""};
  S3Connection c(settings, bucket);
  TempDir d;
  write_text(d.path() / "body", "Welcome to Amazon S3.");
  int fd = ::open((d.path() / "body").c_str(), O_RDONLY);
  auto send = [&](S3Request r) { c.perform(r, "a signed request"); };
  S3Request put;
  put.method = "PUT";
  put.key = "backups/archives/backup_face-recognition_20240103_010000.tar.gz";
  put.fd = fd;
  put.length = 21;
  put.payload_sha256 = sha256_hex("Welcome to Amazon S3.");
  put.headers = {"x-amz-meta-sha256: " + put.payload_sha256, "x-amz-storage-class: STANDARD_IA"};
  send(put);
  S3Request init = put;
  init.method = "POST";
  init.fd = -1;
  init.payload_sha256.clear();
  init.query = "uploads=";
  send(init);
  S3Request part = put;
  part.query = "partNumber=2&uploadId=" + s3_query_encode("VXBsb2FkIElE+/=");
  part.headers.clear();
  send(part);
  S3Request complete;
  complete.method = "POST";
  complete.key = put.key;
  complete.query = "uploadId=abc";
  complete.body = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag></Part></CompleteMultipartUpload>";
  complete.payload_sha256 = sha256_hex(complete.body);
  send(complete);
  S3Request list;
  list.query = "continuation-token=" + s3_query_encode("1/2+3") + "&list-type=2&prefix=" + s3_query_encode("site a/archives/");
  send(list);
  S3Request head;
  head.method = "HEAD";
  head.key = "index.json";
  send(head);
  S3Request del;
  del.method = "DELETE";
  del.key = "oplog/oplog_1704240000-1_1704240060-3.bson.gz";
  send(del);
  ::close(fd);

  auto requests = capture.requests();
  ASSERT_EQ(requests.size(), 7u);
  for (const auto& r : requests) {
    std::string what = r["method"].get<std::string>() + " " + r["url"].get<std::string>();
    Auth auth = parse_auth(r["headers"].value("authorization", ""));
    ASSERT_FALSE(auth.signature.empty()) << what << ": no SigV4 Authorization header";
    EXPECT_NE(auth.signed_headers.find("x-amz-content-sha256"), std::string::npos) << what;
    EXPECT_EQ(r["headers"]["x-amz-content-sha256"], sha256_hex(r["body"].get<std::string>())) << what;
    EXPECT_EQ(auth.signature, reference_signature(r, kExampleSecret, "us-east-1")) << what;
    EXPECT_EQ(auth.signature, aws4_signature(r, kExampleKeyId, kExampleSecret, "us-east-1")) << what;
    EXPECT_EQ(r["headers"]["x-amz-security-token"], "FQoGZXIvYXdzEXAMPLETOKEN") << what;
  }
}

}  // namespace
}  // namespace facecrowd
