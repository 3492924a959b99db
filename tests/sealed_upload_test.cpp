// Objects encrypted as they are uploaded, in one pass (KeyRing::seal_for_upload, backup/crypto/sealed_upload.cpp):
// the bytes are an ordinary encrypted object (decrypt_file opens them) of the announced size, every reader
// (a retry) gives the same bytes, the plaintext is read and encrypted once per upload, and a plaintext that no
// longer matches its recorded sha256 stops the reader before its last bytes, so nothing is stored; on a
// directory target and on S3 (s3rver, with the fault proxy for a dropped connection, bytes damaged in
// transit and multipart aborts). The stored digest (sha256; MD5 for one S3 PUT) is the one the target computed from the bytes it stored.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "backup/crypto/object_crypto.h"
#include "backup/targets/directory_target.h"
#include "backup/targets/s3_target.h"
#include "core/error.h"
#include "core/sha256.h"
#include "random_bytes.h"
#include "s3_test_support.h"

namespace facecrowd {
namespace {

// Everything one reader of `source` produces, read in pieces of `piece` bytes.
std::string read_source(const UploadSource& source, size_t piece = 7777) {
  std::string out(size_t(source.size()), '\0');
  auto reader = source.open();
  for (size_t at = 0; at < out.size(); at += piece) reader->read(out.data() + at, std::min(piece, out.size() - at));
  return out;
}

// Bytes this process has read from files so far (/proc/self/io "rchar": every read and pread, page cache
// included); nullopt where the kernel does not report it.
std::optional<uint64_t> bytes_read_by_this_process() {
  std::ifstream io("/proc/self/io");
  std::string name;
  uint64_t value = 0;
  while (io >> name >> value)
    if (name == "rchar:") return value;
  return std::nullopt;
}

struct Keys {
  TempDir dir;
  KeyRing ring;
  Keys() {
    generate_key_file(dir.path() / "k");
    ring.add_key_file(dir.path() / "k");
  }
};

TEST(SealedUpload, IsAnEncryptedObjectOfTheAnnouncedSizeThatEveryReaderGivesAlikeAndThatDecrypts) {
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  for (size_t n : {size_t(0), size_t(1), size_t(65535), size_t(65536), size_t(65537), size_t(3 * 65536), size_t(300001),
                   size_t(16 * 65536), size_t(16 * 65536 + 1), size_t(40 * 65536 + 3)}) {
    SCOPED_TRACE(std::to_string(n) + " bytes");
    const std::string data = random_bytes(n);
    write_text(plain, data);
    auto source = k.ring.seal_for_upload(plain, sha256_hex(data));
    const std::string sealed = read_source(*source);
    EXPECT_EQ(sealed.size(), source->size());
    if (n > 64) {
      EXPECT_EQ(sealed.find(data.substr(0, 64)), std::string::npos);
    }
    // A second reader (a retry from the start), read in other pieces, gives the same bytes: one sealed chunk
    // a time, and the pieces libcurl asks for (1 MiB, its 2 MiB maximum), which take whole chunks straight
    // into the caller's buffer and the chunk that straddles two pieces through a buffer of its own.
    for (size_t piece : {size_t(65553), size_t(1) << 20, size_t(2) << 20}) EXPECT_EQ(read_source(*source, piece), sealed) << piece;
    write_text(k.dir.path() / "sealed", sealed);
    EXPECT_EQ(object_key_id(k.dir.path() / "sealed"), k.ring.encrypting_key_id());
    fs::remove(k.dir.path() / "back");
    k.ring.decrypt_file(k.dir.path() / "sealed", k.dir.path() / "back", "obj");
    EXPECT_EQ(read_text(k.dir.path() / "back"), data);
  }
}

// The plaintext is damaged (or changed) since its sha256 was recorded: a reader encrypts and gives out the
// bytes before the last batch, then refuses, naming the file and the recorded sha256; it never gives out the
// whole object, so no upload of it can complete.
TEST(SealedUpload, APlaintextThatNoLongerMatchesItsRecordedSha256StopsTheReaderBeforeItsLastBytes) {
  Keys k;
  const fs::path plain = k.dir.path() / "archive.tar.gz";
  for (size_t n : {size_t(200000), size_t(5 << 20)}) {
    SCOPED_TRACE(n);
    std::string data = random_bytes(n);
    const std::string recorded = sha256_hex(data);
    data[n / 3] ^= 1;  // same size, one bit
    write_text(plain, data);
    auto source = k.ring.seal_for_upload(plain, recorded);
    auto reader = source->open();
    std::string got(size_t(source->size()), '\0');
    size_t at = 0;
    try {
      for (; at < got.size(); at += 4096) reader->read(got.data() + at, std::min<size_t>(4096, got.size() - at));
      FAIL() << "a damaged archive must not be given out whole";
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
      EXPECT_NE(m.find(plain.string()), std::string::npos) << m;
      EXPECT_NE(m.find(recorded), std::string::npos) << m;
    }
    EXPECT_LT(at, got.size());
  }
}

// A retry reads the plaintext again: if it changed after the first attempt, the retry stops before its last
// bytes instead of sending an object other than the recorded plaintext's.
TEST(SealedUpload, APlaintextChangedBetweenTwoAttemptsStopsTheSecondBeforeItsLastBytes) {
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  std::string data = random_bytes(5 * 65536 + 10);
  write_text(plain, data);
  auto source = k.ring.seal_for_upload(plain, sha256_hex(data));
  const std::string first = read_source(*source);
  data[3 * 65536 + 9] ^= 1;
  write_text(plain, data);
  try {
    read_source(*source);
    FAIL() << "a changed plaintext must stop the upload";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("changed"), std::string::npos) << e.what();
  }
  // A plaintext that shrank stops the reader at once, even without a recorded sha256.
  auto unchecked = k.ring.seal_for_upload(plain, "");
  write_text(plain, data.substr(0, 100));
  EXPECT_THROW(read_source(*unchecked), Error);
}

TEST(SealedUpload, ADirectoryTargetStoresTheSealedObjectWithTheSha256OfItsBytesOrNothing) {
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  std::string data = random_bytes(300001);
  write_text(plain, data);
  DirectoryTarget t(k.dir.path() / "remote");
  auto source = k.ring.seal_for_upload(plain, sha256_hex(data));
  auto stored = t.put("archives/a", *source);
  const fs::path object = k.dir.path() / "remote" / "archives" / "a";
  EXPECT_EQ(stored.size, source->size());
  EXPECT_EQ(stored.sha256, *sha256_of_file(object));
  EXPECT_EQ(t.stat("archives/a")->sha256, stored.sha256);
  t.get("archives/a", k.dir.path() / "fetched", stored.sha256);
  k.ring.decrypt_file(k.dir.path() / "fetched", k.dir.path() / "back", "obj");
  EXPECT_EQ(read_text(k.dir.path() / "back"), data);

  auto other = k.ring.seal_for_upload(plain, sha256_hex(data));
  data[100] ^= 1;
  write_text(plain, data);
  EXPECT_THROW(t.put("archives/b", *other), Error);
  EXPECT_FALSE(t.stat("archives/b"));
  EXPECT_FALSE(fs::exists(k.dir.path() / "remote" / "archives" / "b.sha256"));
}

S3Target s3_target_at(const std::string& endpoint) {
  return S3Target(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(endpoint));
}

// One PUT and a parallel multipart upload, each through a connection the proxy cuts once in the middle: the
// PUT is retried from its start (a new reader), a part from the worker's memory; the object S3 holds is
// exactly the bytes whose size and digest the upload returned (no x-amz-meta-sha256: the caller keeps the
// digest, and a download checks against it), and it decrypts to the plaintext. The one PUT returns the MD5
// that its ETag was checked against and no sha256 (none is computed: sealed_upload.cpp says why); the
// multipart upload, whose ETag is no MD5, returns the sha256.
TEST(SealedUpload, GoesToS3InOnePutOrInParallelPartsSurvivesADroppedConnectionAndStoresTheReturnedBytes) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  Keys k;
  auto t = s3_target_at(proxy.endpoint());
  const fs::path plain = k.dir.path() / "plain";
  const std::string data = random_bytes((12 << 20) + 321);
  write_text(plain, data);
  for (bool multipart : {false, true}) {
    SCOPED_TRACE(multipart);
    t.settings().multipart_threshold = multipart ? (5 << 20) : (64 << 20);
    t.settings().part_size = 5 << 20;
    t.settings().parallel_parts = 3;
    const std::string key = multipart ? "archives/multi" : "archives/single";
    proxy.fault({{"cut_after", 1 << 20}, {"count", 1}, {"match", multipart ? "partNumber=2" : "PUT /facecrowd-test/site/" + key}});
    auto source = k.ring.seal_for_upload(plain, sha256_hex(data));
    auto stored = t.put(key, *source);
    EXPECT_EQ(stored.size, source->size());
    auto info = t.stat(key);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->size, stored.size);
    EXPECT_EQ(info->sha256, "") << "no sha256 in the metadata: it was not known when the upload started";
    EXPECT_EQ(info->etag, stored.etag);
    const fs::path fetched = k.dir.path() / (multipart ? "m.enc" : "s.enc");
    ExpectedDigests recorded;
    if (multipart) {
      EXPECT_EQ(stored.md5, "");
      ASSERT_EQ(stored.sha256.size(), 64u);
      recorded.sha256 = stored.sha256;
    } else {
      EXPECT_EQ(stored.sha256, "") << "one PUT computes no sha256 of the sealed bytes";
      EXPECT_EQ(stored.md5, stored.etag) << "the MD5 returned is the one the ETag was checked against";
      recorded.md5 = stored.md5;
    }
    auto got = t.get(key, fetched, recorded);
    EXPECT_EQ(got.sha256, stored.sha256);
    EXPECT_EQ(got.md5, stored.md5);
    const std::string sealed = read_text(fetched);
    if (multipart) EXPECT_EQ(sha256_hex(sealed), stored.sha256);
    else EXPECT_EQ(md5_hex(sealed), stored.md5);
    const fs::path back = k.dir.path() / (multipart ? "m.plain" : "s.plain");
    k.ring.decrypt_file(fetched, back, key);
    EXPECT_EQ(read_text(back), data);
    // A download whose bytes do not match the caller's digest is refused, and leaves nothing.
    ExpectedDigests wrong = multipart ? ExpectedDigests{sha256_hex("other"), ""} : ExpectedDigests{"", md5_hex("other")};
    try {
      t.get(key, k.dir.path() / "wrong", wrong);
      FAIL() << "a download that does not match its recorded digest must be refused";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find(multipart ? "sha256" : "MD5"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(k.dir.path() / "wrong"));
  }
  int parts = 0, single_puts = 0;
  for (const auto& r : proxy.log()) {
    const std::string url = r["url"].get<std::string>();
    parts += url.find("partNumber=") != std::string::npos;
    single_puts += r["method"] == "PUT" && url.find("archives/single") != std::string::npos;
  }
  EXPECT_EQ(parts, 4) << "three parts and the one retried";
  EXPECT_EQ(single_puts, 2) << "the PUT cut mid-body and its retry";
  EXPECT_TRUE(server.upload_part_files().empty());
}

// The payload of a one-pass PUT is not signed, so S3 cannot compare it with a signed hash: the MD5 of the
// bytes sent is compared with the ETag S3 computed from the bytes it stored. A byte damaged in transit (the
// proxy flips one) is caught: the object is deleted and the upload fails (kIo); it is not recorded as stored.
TEST(SealedUpload, AnS3ObjectStoredWithOtherBytesThanWereSentIsDeletedAndTheUploadFails) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());
  Keys k;
  auto t = s3_target_at(proxy.endpoint());
  const fs::path plain = k.dir.path() / "plain";
  const std::string data = random_bytes(3 << 20);
  write_text(plain, data);
  proxy.fault({{"flip_byte_at", 2 << 20}, {"count", 1}, {"match", "PUT"}});
  auto source = k.ring.seal_for_upload(plain, sha256_hex(data));
  try {
    t.put("archives/damaged", *source);
    FAIL() << "bytes damaged in transit must not be taken as stored";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kIo) << m;
    EXPECT_NE(m.find("ETag"), std::string::npos) << m;
    EXPECT_NE(m.find("deleted"), std::string::npos) << m;
  }
  EXPECT_FALSE(t.stat("archives/damaged"));
  // The next attempt, undamaged, goes up.
  auto stored = t.put("archives/damaged", *source);
  EXPECT_EQ(t.stat("archives/damaged")->etag, stored.etag);
}

// The plaintext no longer matches the sha256 recorded when it was written (it changed after the backup
// wrote it): the upload stops before its last bytes, nothing is stored under the key, and a multipart upload
// is aborted with no orphan parts. The single PUT goes to s3rver directly: it writes a body into the object's
// file as it arrives and keeps what it got when the request stops short (S3 stores nothing), which the
// target then removes.
TEST(SealedUpload, AnS3UploadWhosePlaintextChangedStoresNothingAndLeavesNoParts) {
  if (!s3_tools_available()) GTEST_SKIP() << s3_tools_missing_message();
  S3rver server;
  FaultProxy proxy(server.port(), server.store());  // answers AbortMultipartUpload, which s3rver lacks
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  for (bool multipart : {false, true}) {
    SCOPED_TRACE(multipart);
    auto t = s3_target_at(multipart ? proxy.endpoint() : server.endpoint());
    t.settings().multipart_threshold = multipart ? (5 << 20) : (64 << 20);
    t.settings().part_size = 5 << 20;
    t.settings().parallel_parts = 1;  // part 1 is stored before part 3 fails
    std::string data = random_bytes(12 << 20);
    const std::string recorded = sha256_hex(data);
    data[11 << 20] ^= 1;
    write_text(plain, data);
    auto source = k.ring.seal_for_upload(plain, recorded);
    const std::string key = multipart ? "archives/multi" : "archives/single";
    try {
      t.put(key, *source);
      FAIL() << "a plaintext that changed must not be stored";
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
      EXPECT_NE(m.find(plain.string()), std::string::npos) << m;
      if (multipart) {
        EXPECT_NE(m.find("aborted"), std::string::npos) << m;
      }
    }
    EXPECT_FALSE(t.stat(key)) << "s3rver keeps a body that stopped short; the target removes that leftover";
    EXPECT_TRUE(server.upload_part_files().empty()) << server.upload_part_files().size() << " part files left";
  }
}

// One pass: an encrypted upload reads its plaintext once (the old upload read it twice or three times: a pass
// to hash the sealed object, a check of the plaintext, then the upload), in one PUT, in parts, and to a
// directory target. Counted by the kernel: the bytes this process read from files during the upload.
TEST(SealedUpload, AnEncryptedUploadReadsItsPlaintextOnlyOnce) {
  if (!bytes_read_by_this_process()) GTEST_SKIP() << "/proc/self/io is not available";
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  const std::string data = random_bytes(24 << 20);
  write_text(plain, data);
  std::optional<S3rver> server;
  if (s3_tools_available()) server.emplace();
  for (std::string where : {"directory", "s3 put", "s3 parts"}) {
    SCOPED_TRACE(where);
    std::optional<DirectoryTarget> dir;
    std::optional<S3Target> s3;
    BackupTarget* t;
    if (where == "directory") {
      t = &dir.emplace(k.dir.path() / "remote");
    } else {
      if (!server) continue;
      t = &s3.emplace(parse_bucket_location("s3://facecrowd-test/site"), S3rver::settings_for(server->endpoint()));
      s3->settings().multipart_threshold = where == "s3 parts" ? (5 << 20) : (64 << 20);
      s3->settings().part_size = 5 << 20;
    }
    const uint64_t before = *bytes_read_by_this_process();
    auto source = k.ring.seal_for_upload(plain, sha256_hex(data));
    auto stored = t->put("archives/" + std::to_string(before), *source);
    const uint64_t read = *bytes_read_by_this_process() - before;
    EXPECT_EQ(stored.size, source->size());
    EXPECT_GE(read, data.size());
    EXPECT_LT(read, data.size() + data.size() / 8) << "the plaintext was read " << double(read) / double(data.size()) << " times";
  }
}

}  // namespace
}  // namespace facecrowd
