// The S3 backup target against a real S3-compatible server (s3rver on loopback), with faults injected by
// tests/s3/fault_proxy.js: retries, a dropped connection, 5xx answers, a slow and a stalled server, an
// aborted multipart upload, a full disk during a download, and credentials kept out of every message.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <random>

#include "backup/crypto/object_crypto.h"
#include "backup/targets/backup_target.h"
#include "backup/targets/s3_target.h"
#include "core/error.h"
#include "core/sha256.h"
#include "core/utc_time.h"
#include "random_bytes.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

#define REQUIRE_S3_TOOLS() \
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message()

S3Target target_at(const std::string& endpoint, const std::string& prefix = "site-a") {
  return S3Target(parse_bucket_location("s3://facecrowd-test/" + prefix), S3rver::settings_for(endpoint));
}

// What most tests start from: a real S3 server (s3rver on loopback), the fault proxy in front of it once a
// test asks for it, and a scratch folder. Without the npm tools the test skips, and CI refuses that skip.
class S3TargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
    server_.emplace();
  }
  S3rver& server() { return *server_; }
  FaultProxy& proxy() {
    if (!proxy_) proxy_.emplace(server_->port(), server_->store());
    return *proxy_;
  }
  TempDir dir;

 private:
  std::optional<S3rver> server_;
  std::optional<FaultProxy> proxy_;
};

TEST_F(S3TargetTest, PutGetStatListAndRemoveRoundTripThroughARealS3Server) {
  auto t = target_at(server().endpoint());
  std::string data = random_bytes(300000);
  write_text(dir.path() / "a.bin", data);
  auto stored = t.put("archives/a.bin", dir.path() / "a.bin");
  EXPECT_EQ(stored.size, data.size());
  EXPECT_EQ(stored.sha256, sha256_hex(data));
  t.put("oplog/s1", dir.path() / "a.bin");

  auto info = t.stat("archives/a.bin");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_EQ(info->sha256, sha256_hex(data));  // recorded as x-amz-meta-sha256
  EXPECT_FALSE(t.stat("archives/missing"));

  auto listed = t.list("archives/");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "archives/a.bin");
  EXPECT_EQ(t.list("").size(), 2u);

  t.get("archives/a.bin", dir.path() / "back.bin");
  EXPECT_EQ(read_text(dir.path() / "back.bin"), data);
  t.remove("archives/a.bin");
  EXPECT_FALSE(t.stat("archives/a.bin"));
  t.remove("archives/a.bin");  // missing: not an error
  try {
    t.get("archives/a.bin", dir.path() / "gone.bin");
    FAIL() << "a missing object must not download";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("archives/a.bin"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "gone.bin"));
}

TEST_F(S3TargetTest, ListingFollowsContinuationTokensPastOneThousandKeys) {
  auto t = target_at(server().endpoint());
  write_text(dir.path() / "x", "x");
  // s3rver pages at 1000 keys; 1003 keys need two pages.
  for (int i = 0; i < 1003; ++i) t.put("many/k" + std::to_string(10000 + i), dir.path() / "x");
  EXPECT_EQ(t.list("many/").size(), 1003u);
}

TEST_F(S3TargetTest, VirtualHostedAddressingPutsTheBucketInTheHostName) {
  auto s = S3rver::settings_for("http://s3.amazonaws.com:" + std::to_string(server().port()));
  s.path_style = false;
  s.connect_to = {"::127.0.0.1:" + std::to_string(server().port())};  // AWS's name, served by s3rver on loopback
  S3Target t(parse_bucket_location("s3://facecrowd-test/vh"), s);
  EXPECT_EQ(t.object_url("k/x.bin"), "http://facecrowd-test.s3.amazonaws.com:" + std::to_string(server().port()) + "/vh/k/x.bin");
  write_text(dir.path() / "x.bin", "virtual hosted");
  t.put("k/x.bin", dir.path() / "x.bin");
  // The object is in the bucket: path-style addressing finds it too.
  auto path_style = target_at(server().endpoint(), "vh");
  path_style.get("k/x.bin", dir.path() / "back");
  EXPECT_EQ(read_text(dir.path() / "back"), "virtual hosted");
}

TEST_F(S3TargetTest, AFileAboveTheThresholdGoesUpAsAParallelMultipartUploadAndComesBackWhole) {
  auto t = target_at(proxy().endpoint());
  t.settings().multipart_threshold = 5 << 20;
  t.settings().part_size = 5 << 20;
  t.settings().parallel_parts = 3;
  t.settings().storage_class = "STANDARD_IA";
  std::string data = random_bytes((12 << 20) + 123);
  write_text(dir.path() / "big", data);
  t.put("archives/big", dir.path() / "big");
  int parts = 0, inits = 0, completes = 0;
  for (const auto& r : proxy().log()) {
    std::string what = r["method"].get<std::string>() + " " + r["url"].get<std::string>();
    if (what.find("partNumber=") != std::string::npos) ++parts;
    if (what.rfind("POST", 0) == 0 && what.find("uploads=") != std::string::npos) {
      ++inits;
      EXPECT_EQ(r["headers"]["x-amz-storage-class"], "STANDARD_IA");
      EXPECT_EQ(r["headers"]["x-amz-meta-sha256"], sha256_hex(data));
    }
    if (what.rfind("POST", 0) == 0 && what.find("uploadId=") != std::string::npos) ++completes;
  }
  EXPECT_EQ(inits, 1);
  EXPECT_EQ(parts, 3);
  EXPECT_EQ(completes, 1);
  t.get("archives/big", dir.path() / "back");
  EXPECT_EQ(sha256_of_file(dir.path() / "back"), sha256_hex(data));
  EXPECT_TRUE(server().upload_part_files().empty());
}

// S3 Object Lock (optional per target): every upload carries the lock mode, a retain-until date the
// configured days ahead, and the checksum S3 requires with a lock; a multipart upload declares the
// algorithm at its start and each part and the completion carry their checksums. All of them are signed.
TEST(S3TargetHeaders, ObjectLockHeadersGoWithEverySignedUploadWhenConfigured) {
  REQUIRE_S3_TOOLS();
  CaptureServer capture;
  TempDir dir;
  auto t = target_at("http://127.0.0.1:" + std::to_string(capture.port()));
  t.settings().object_lock_days = 30;
  t.settings().object_lock_mode = "COMPLIANCE";
  t.settings().multipart_threshold = 5 << 20;
  t.settings().part_size = 5 << 20;
  write_text(dir.path() / "small", "locked");
  t.put("small", dir.path() / "small");
  const std::string big = random_bytes((5 << 20) + 10);
  write_text(dir.path() / "big", big);
  t.put("big", dir.path() / "big");

  auto requests = capture.requests();
  ASSERT_GE(requests.size(), 5u);  // PUT small; start, 2 parts, complete of big
  const auto& put = requests[0];
  EXPECT_EQ(put["method"], "PUT");
  EXPECT_EQ(put["headers"]["x-amz-object-lock-mode"], "COMPLIANCE");
  const auto until = parse_iso8601(put["headers"]["x-amz-object-lock-retain-until-date"].get<std::string>());
  ASSERT_TRUE(until) << put["headers"].dump();
  EXPECT_NEAR(double(*until - now_millis()) / 86400000.0, 30.0, 0.01);
  EXPECT_EQ(put["headers"]["x-amz-checksum-sha256"], "FEk/X1Rw7UjD8QPZF+xSrpAF+jkTEoAx0PrCpJrDzEE=");  // base64 sha256 of "locked"
  const std::string signed_headers = put["headers"]["authorization"];
  for (const char* h : {"x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-checksum-sha256"})
    EXPECT_NE(signed_headers.find(h), std::string::npos) << h << " is not signed: " << signed_headers;

  int parts = 0;
  for (size_t i = 1; i < requests.size(); ++i) {
    const auto& r = requests[i];
    const std::string url = r["url"];
    if (url.find("uploads=") != std::string::npos) {
      EXPECT_EQ(r["headers"]["x-amz-object-lock-mode"], "COMPLIANCE");
      EXPECT_EQ(r["headers"]["x-amz-checksum-algorithm"], "SHA256");
    } else if (url.find("partNumber=") != std::string::npos) {
      ++parts;
      EXPECT_TRUE(r["headers"].contains("x-amz-checksum-sha256")) << r.dump();
    } else if (r["method"] == "POST") {
      EXPECT_NE(r["body"].get<std::string>().find("<ChecksumSHA256>"), std::string::npos) << r["body"];
    }
  }
  EXPECT_EQ(parts, 2);
}

// An object encrypted in one pass: its sha256 is not known when the request starts, so a plain target gets
// one PUT whose payload is UNSIGNED-PAYLOAD (still a signed request) and which carries no x-amz-meta-sha256;
// an Object Lock target (S3 wants a checksum header with a locked PUT) gets a multipart upload whose start
// carries the lock headers and whose parts carry their sha256 checksums.
TEST(S3TargetHeaders, AnObjectEncryptedInOnePassGoesUnsignedInOnePutOrAsCheckedPartsToALockedTarget) {
  REQUIRE_S3_TOOLS();
  TempDir dir;
  generate_key_file(dir.path() / "k");
  KeyRing keys;
  keys.add_key_file(dir.path() / "k");
  write_text(dir.path() / "plain", random_bytes(100000));
  for (bool locked : {false, true}) {
    SCOPED_TRACE(locked);
    CaptureServer capture;
    auto t = target_at("http://127.0.0.1:" + std::to_string(capture.port()));
    if (locked) t.settings().object_lock_days = 30;
    auto source = keys.seal_for_upload(dir.path() / "plain", "");
    t.put("sealed", *source);
    auto requests = capture.requests();
    if (!locked) {
      ASSERT_EQ(requests.size(), 1u);
      EXPECT_EQ(requests[0]["method"], "PUT");
      EXPECT_EQ(requests[0]["headers"]["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
      EXPECT_FALSE(requests[0]["headers"].contains("x-amz-meta-sha256"));
      EXPECT_NE(requests[0]["headers"]["authorization"].get<std::string>().find("x-amz-content-sha256"), std::string::npos);
      continue;
    }
    ASSERT_EQ(requests.size(), 3u);  // start, one part, complete
    EXPECT_NE(requests[0]["url"].get<std::string>().find("uploads="), std::string::npos);
    EXPECT_EQ(requests[0]["headers"]["x-amz-object-lock-mode"], "COMPLIANCE");
    EXPECT_EQ(requests[0]["headers"]["x-amz-checksum-algorithm"], "SHA256");
    EXPECT_NE(requests[1]["url"].get<std::string>().find("partNumber=1"), std::string::npos);
    EXPECT_TRUE(requests[1]["headers"].contains("x-amz-checksum-sha256")) << requests[1].dump();
    EXPECT_NE(requests[2]["body"].get<std::string>().find("<ChecksumSHA256>"), std::string::npos);
  }
}

TEST(S3TargetHeaders, WithoutObjectLockNoLockOrChecksumHeaderIsSent) {
  REQUIRE_S3_TOOLS();
  CaptureServer capture;
  TempDir dir;
  auto t = target_at("http://127.0.0.1:" + std::to_string(capture.port()));
  write_text(dir.path() / "small", "plain");
  t.put("small", dir.path() / "small");
  auto requests = capture.requests();
  ASSERT_EQ(requests.size(), 1u);
  for (const char* h : {"x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-checksum-sha256"})
    EXPECT_FALSE(requests[0]["headers"].contains(h)) << h;
}

TEST_F(S3TargetTest, AnUploadRetriesAfter503And500AnswersAndSucceeds) {
  auto t = target_at(proxy().endpoint());
  write_text(dir.path() / "f", random_bytes(100000));
  proxy().fault({{"status", 503}, {"count", 1}, {"match", "PUT"}});
  proxy().fault({{"status", 500}, {"count", 1}, {"match", "PUT"}});
  t.put("f", dir.path() / "f");
  int puts = 0;
  for (const auto& r : proxy().log()) puts += r["method"] == "PUT";
  EXPECT_EQ(puts, 3);  // 503, 500, then the one that went through
  t.get("f", dir.path() / "back");
  EXPECT_EQ(read_text(dir.path() / "back"), read_text(dir.path() / "f"));
}

TEST_F(S3TargetTest, PersistentServerErrorsFailAfterTheAttemptsWithTheServersAnswer) {
  auto t = target_at(proxy().endpoint());
  write_text(dir.path() / "f", "x");
  proxy().fault({{"status", 503}, {"count", 100}});
  try {
    t.put("f", dir.path() / "f");
    FAIL() << "must fail";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(m.find("503"), std::string::npos) << m;
    EXPECT_NE(m.find("4 attempts"), std::string::npos) << m;
    EXPECT_NE(m.find("s3://facecrowd-test/site-a/f"), std::string::npos) << m;
  }
}

TEST_F(S3TargetTest, AConnectionDroppedInTheMiddleOfAnUploadIsRetriedAndTheObjectIsWhole) {
  auto t = target_at(proxy().endpoint());
  std::string data = random_bytes(1 << 20);
  write_text(dir.path() / "f", data);
  proxy().fault({{"cut_after", 65536}, {"count", 1}, {"match", "PUT"}});
  t.put("f", dir.path() / "f");
  t.get("f", dir.path() / "back");
  EXPECT_EQ(sha256_of_file(dir.path() / "back"), sha256_hex(data));
}

TEST_F(S3TargetTest, AConnectionDroppedInTheMiddleOfADownloadIsRetriedFromTheStartAndTheFileIsWhole) {
  auto t = target_at(proxy().endpoint());
  std::string data = random_bytes(1 << 20);
  write_text(dir.path() / "f", data);
  t.put("f", dir.path() / "f");
  proxy().fault({{"cut_response_after", 300000}, {"count", 1}, {"match", "GET"}});
  t.get("f", dir.path() / "back");
  EXPECT_EQ(sha256_of_file(dir.path() / "back"), sha256_hex(data)) << "the retry must not append to the cut first attempt";
  int gets = 0;
  for (const auto& r : proxy().log()) gets += r["method"] == "GET";
  EXPECT_EQ(gets, 2);

  // Cut every time: the download fails after its attempts, naming the object, and leaves no file behind.
  proxy().fault({{"cut_response_after", 300000}, {"count", 100}, {"match", "GET"}});
  try {
    t.get("f", dir.path() / "cut");
    FAIL() << "a download cut on every attempt must fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find("s3://facecrowd-test/site-a/f"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 attempts"), std::string::npos) << e.what();
  }
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_TRUE(e.path().filename() == "f" || e.path().filename() == "back") << "left behind: " << e.path();
}

TEST_F(S3TargetTest, AMultipartUploadWhosePartKeepsFailingIsAbortedWithNoOrphanParts) {
  auto t = target_at(proxy().endpoint());
  t.settings().multipart_threshold = 5 << 20;
  t.settings().part_size = 5 << 20;
  t.settings().parallel_parts = 1;  // part 1 is stored before part 2 fails
  write_text(dir.path() / "big", random_bytes(11 << 20));
  proxy().fault({{"cut_after", 100000}, {"count", 100}, {"match", "partNumber=2"}});
  try {
    t.put("archives/big", dir.path() / "big");
    FAIL() << "must fail";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("part 2 of 3"), std::string::npos) << m;
    EXPECT_NE(m.find("aborted"), std::string::npos) << m;
  }
  bool abort_sent = false;
  for (const auto& r : proxy().log())
    abort_sent = abort_sent || (r["method"] == "DELETE" && r["url"].get<std::string>().find("uploadId=") != std::string::npos);
  EXPECT_TRUE(abort_sent);
  EXPECT_TRUE(server().upload_part_files().empty()) << server().upload_part_files().size() << " part files left";
  EXPECT_FALSE(t.stat("archives/big"));
}

// A caller that recorded the file's sha256 when it wrote it (an archive, an encrypted object, an oplog
// slice) gives it to put(), which then reads the file once: the request is signed with it and the bytes are
// hashed as they go. An S3-compatible store may not check x-amz-content-sha256 (s3rver does not), so the
// target compares them itself.
TEST_F(S3TargetTest, AnUploadGivenItsSha256IsSignedWithItAndStoredWhole) {
  auto t = target_at(proxy().endpoint());
  std::string data = random_bytes(3 << 20);
  write_text(dir.path() / "f", data);
  auto stored = t.put("archives/f", dir.path() / "f", sha256_hex(data));
  EXPECT_EQ(stored.sha256, sha256_hex(data));
  ASSERT_EQ(proxy().log().size(), 1u);  // one PUT, nothing else
  EXPECT_EQ(proxy().log()[0]["headers"]["x-amz-content-sha256"], sha256_hex(data));
  t.get("archives/f", dir.path() / "back");
  EXPECT_EQ(read_text(dir.path() / "back"), data);
}

TEST_F(S3TargetTest, AFileThatNoLongerMatchesTheSha256GivenForItIsRefusedByNameAndNothingIsStored) {
  auto t = target_at(proxy().endpoint());  // the proxy answers AbortMultipartUpload, which s3rver lacks
  const std::string recorded = sha256_hex("what the file held when it was written");
  for (bool multipart : {false, true}) {
    t.settings().multipart_threshold = multipart ? (1 << 20) : (64 << 20);
    t.settings().part_size = multipart ? (5 << 20) : t.settings().part_size;
    write_text(dir.path() / "f", random_bytes(multipart ? (11 << 20) : (2 << 20)));
    try {
      t.put("archives/f", dir.path() / "f", recorded);
      FAIL() << "a file that changed since its sha256 was recorded must not be uploaded (multipart " << multipart << ")";
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
      EXPECT_NE(m.find((dir.path() / "f").string()), std::string::npos) << m;
      EXPECT_NE(m.find("changed or is damaged since its sha256 was recorded"), std::string::npos) << m;
      EXPECT_NE(m.find(recorded), std::string::npos) << m;
    }
    EXPECT_FALSE(t.stat("archives/f")) << "multipart " << multipart;
    EXPECT_TRUE(server().upload_part_files().empty()) << "multipart " << multipart;
  }
}

TEST(DirectoryTargetTest, AFileThatNoLongerMatchesTheSha256GivenForItIsRefusedAndNothingIsStored) {
  TempDir dir;
  auto t = open_backup_target((dir.path() / "target").string());
  write_text(dir.path() / "f", "changed since it was written");
  try {
    t->put("archives/f", dir.path() / "f", sha256_hex("what it held when it was written"));
    FAIL() << "must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("since its sha256 was recorded"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(t->stat("archives/f"));
  auto stored = t->put("archives/f", dir.path() / "f", sha256_hex("changed since it was written"));
  EXPECT_EQ(stored.sha256, sha256_hex("changed since it was written"));
}

// A damaged object (its bytes no longer match the recorded sha256, or the MD5 the caller expects) is refused
// before it is renamed to the destination: a file already there keeps its bytes, and no partial copy stays.
// (Regression: the download was renamed into place first and deleted after the check, which also destroyed
// the file that was there before.)
TEST(DirectoryTargetTest, ADamagedObjectIsRefusedBeforeItReachesTheDestinationAndAFileAlreadyThereIsKept) {
  TempDir dir;
  const fs::path remote = dir.path() / "target";
  auto t = open_backup_target(remote.string());
  write_text(dir.path() / "f", "original bytes");
  t->put("archives/f", dir.path() / "f");
  const fs::path dest = dir.path() / "restored" / "f";
  fs::create_directories(dest.parent_path());
  auto expect_refused = [&](const ExpectedDigests& expected, const std::string& digest) {
    write_text(dest, "what was here before");
    try {
      t->get("archives/f", dest, expected);
      FAIL() << "a damaged object must be refused";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find(digest), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_text(dest), "what was here before");
    for (const auto& e : fs::directory_iterator(dest.parent_path())) EXPECT_EQ(e.path(), dest) << "left behind";
  };
  // The MD5 the caller recorded does not match (the object itself is intact).
  expect_refused({"", md5_hex("other bytes")}, "MD5");
  auto got = t->get("archives/f", dest, ExpectedDigests{"", md5_hex("original bytes")});
  EXPECT_EQ(got.md5, md5_hex("original bytes"));
  EXPECT_EQ(read_text(dest), "original bytes");
  // The stored bytes damaged behind the target's back (same size): its own .sha256 no longer matches.
  write_text(remote / "archives" / "f", "damaged! bytes");
  expect_refused({}, "sha256");
}

TEST_F(S3TargetTest, ASlowServerStillCompletesAndAStalledOneFailsByTheStallTimeout) {
  auto t = target_at(proxy().endpoint());
  write_text(dir.path() / "f", random_bytes(200000));
  proxy().fault({{"delay_ms", 700}, {"count", 3}});
  t.put("f", dir.path() / "f");
  t.get("f", dir.path() / "back");
  EXPECT_EQ(read_text(dir.path() / "back"), read_text(dir.path() / "f"));

  t.settings().stall_timeout_s = 1;
  t.settings().max_attempts = 2;
  proxy().fault({{"clear", true}});
  proxy().fault({{"stall", true}, {"count", 2}});
  try {
    t.get("f", dir.path() / "stalled");
    FAIL() << "a stalled server must not hang the download";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find("2 attempts"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "stalled"));
}

TEST_F(S3TargetTest, ADiskThatFillsDuringADownloadFailsNamingItAndLeavesNoFile) {
  TempDir small;
  TmpfsMount tmpfs(small.path(), "size=1m");
  if (!tmpfs.ok()) GTEST_SKIP() << "mounting a tmpfs needs root";
  auto t = target_at(server().endpoint());
  write_text(dir.path() / "f", random_bytes(3 << 20));
  t.put("f", dir.path() / "f");
  try {
    t.get("f", small.path() / "f");
    FAIL() << "must fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(small.path()));
}

TEST_F(S3TargetTest, ADownloadWhoseBytesDoNotMatchTheRecordedSha256IsRefused) {
  auto t = target_at(server().endpoint());
  write_text(dir.path() / "f", "original bytes");
  t.put("f", dir.path() / "f");
  // Damage the stored object behind the server's back (same size).
  bool damaged = false;
  for (auto& e : fs::recursive_directory_iterator(server().store()))
    if (e.is_regular_file() && read_text(e.path()) == "original bytes") {
      write_text(e.path(), "damaged! bytes");
      damaged = true;
    }
  ASSERT_TRUE(damaged);
  try {
    t.get("f", dir.path() / "back");
    FAIL() << "must refuse";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "back"));
}

TEST_F(S3TargetTest, CredentialsNeverAppearInAnErrorMessage) {
  const std::string secret = "SeCrEt/DoNotLeak+0123456789abcdefghijklmn";
  const std::string token = "SeSsIoNtOkEn-DoNotLeak";
  auto s = S3rver::settings_for(proxy().endpoint());
  s.credentials.secret_access_key = Secret(std::string(secret));
  s.credentials.session_token = Secret(std::string(token));
  s.max_attempts = 2;
  write_text(dir.path() / "f", "x");
  std::vector<std::string> messages;
  auto collect = [&](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      messages.push_back(e.what());
    }
  };
  S3Target t(parse_bucket_location("s3://facecrowd-test/p"), s);
  proxy().fault({{"status", 503}, {"count", 10}});
  collect([&] { t.put("f", dir.path() / "f"); });
  S3Target missing_bucket(parse_bucket_location("s3://no-such-bucket/p"), S3rver::settings_for(server().endpoint()));
  collect([&] { missing_bucket.get("f", dir.path() / "g"); });
  auto refused = s;
  refused.endpoint = "http://127.0.0.1:1";
  S3Target nowhere(parse_bucket_location("s3://facecrowd-test/p"), refused);
  collect([&] { nowhere.list(""); });
  ASSERT_EQ(messages.size(), 3u);
  for (const auto& m : messages) {
    EXPECT_EQ(m.find(secret), std::string::npos) << m;
    EXPECT_EQ(m.find(token), std::string::npos) << m;
  }
  // The credentials did reach the server, as headers only.
  bool token_sent = false;
  for (const auto& r : proxy().log()) token_sent = token_sent || r["headers"].value("x-amz-security-token", "") == token;
  EXPECT_TRUE(token_sent);
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// A bucket that does not exist, and an endpoint that is not S3 (a web server's HTML 404), were both read as
// "no facecrowd backups in target ... run `facecrowd backup` first" (exit 4): the missing index.json's 404.
// Each now says what it is and what to do (exit 2), for reading the index and for a push alike.
class S3TargetEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
    server_.emplace();
    proxy_.emplace(server_->port(), server_->store());
  }
  CommandResult cli(const std::string& endpoint, const std::string& args) {
    return run_facecrowd("--data " + (dir.path() / "data").string() + " --backup-dir " + (dir.path() / "backup").string() + " " + args,
                         "AWS_ENDPOINT_URL=" + endpoint + " AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1");
  }
  TempDir dir;
  std::optional<S3rver> server_;
  std::optional<FaultProxy> proxy_;
};

TEST_F(S3TargetEndpointTest, ABucketThatDoesNotExistIsNamedAsSuchWithTheRemedyNotAsABucketWithNoBackups) {
  for (const std::string cmd : {"backups list --target s3://no-such-bucket/p", "restore s3://no-such-bucket/p/latest"}) {
    auto r = cli(server_->endpoint(), cmd);
    EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("NoSuchBucket"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("facecrowd never creates a bucket: create it"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("no facecrowd backups"), std::string::npos) << r.err;
  }
  ASSERT_EQ(cli(server_->endpoint(), "demo-data --profiles 2 --attendances 5 --crowdcounts 1 --auditlogs 1 --image-mb 1").exit_code, 0);
  auto b = cli(server_->endpoint(), "backup --target s3://no-such-bucket/p");
  EXPECT_EQ(b.exit_code, int(ExitCode::kUsage)) << b.err;
  EXPECT_NE(b.err.find("facecrowd never creates a bucket"), std::string::npos) << b.err;
}

TEST_F(S3TargetEndpointTest, AnEndpointThatAnswersAsNoS3ServerDoesIsSaidToBeNotS3) {
  proxy_->fault({{"status", 404}, {"count", 100}, {"body", "<!DOCTYPE HTML><html><body><h1>Error response</h1></body></html>"}});
  auto r = cli(proxy_->endpoint(), "backups list --target s3://facecrowd-test/p");
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.err;
  EXPECT_NE(r.err.find("not an S3 error: the endpoint does not answer as S3 does"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("AWS_ENDPOINT_URL"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no facecrowd backups"), std::string::npos) << r.err;
  proxy_->fault({{"clear", true}});
  auto fine = cli(proxy_->endpoint(), "backups list --target s3://facecrowd-test/p");
  EXPECT_EQ(fine.exit_code, int(ExitCode::kNotFound)) << fine.err;  // a real S3 without the index: no backups yet
  EXPECT_NE(fine.err.find("no facecrowd backups"), std::string::npos) << fine.err;
}

}  // namespace
}  // namespace facecrowd
