// Objects encrypted as they are uploaded (KeyRing::seal_for_upload, backup/crypto/sealed_upload.cpp): the
// bytes are an ordinary encrypted object (decrypt_file opens them) with the size and sha256 announced before
// the first byte, any offset can be read again (retries, parallel parts), and a plaintext that changes after
// its sha256 was computed stops the upload before the changed chunk, so nothing is stored; on a directory
// target and on S3 (s3rver, with the fault proxy for a dropped connection and for multipart aborts).
#include <gtest/gtest.h>

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

// Everything a source produces, read in pieces of `piece` bytes from `offset`.
std::string read_source(const UploadSource& source, uint64_t offset = 0, size_t piece = 7777) {
  std::string out(size_t(source.size() - offset), '\0');
  auto reader = source.open(offset);
  for (size_t at = 0; at < out.size(); at += piece) reader->read(out.data() + at, std::min(piece, out.size() - at));
  return out;
}

// seal_for_upload's memory limit that makes every upload encrypt its chunks again as it sends them (the
// path of objects above 64 MiB), so that small test files exercise it.
constexpr uint64_t kEncryptAgain = 0;

struct Keys {
  TempDir dir;
  KeyRing ring;
  Keys() {
    generate_key_file(dir.path() / "k");
    ring.add_key_file(dir.path() / "k");
  }
};

TEST(SealedUpload, IsAnEncryptedObjectOfTheAnnouncedSizeAndSha256ReadableFromAnyOffsetAtEveryChunkBoundary) {
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  for (auto [n, keep] : {std::pair{size_t(0), kEncryptAgain}, {size_t(1), kEncryptAgain}, {size_t(65535), kEncryptAgain},
                          {size_t(65536), kEncryptAgain}, {size_t(65537), kEncryptAgain}, {size_t(3 * 65536), kEncryptAgain},
                          {size_t(300001), kEncryptAgain}, {size_t(0), kKeepSealedInMemoryBytes},
                          {size_t(65537), kKeepSealedInMemoryBytes}, {size_t(300001), kKeepSealedInMemoryBytes}}) {
    SCOPED_TRACE(std::to_string(n) + " bytes, kept in memory up to " + std::to_string(keep));
    const std::string data = random_bytes(n);
    write_text(plain, data);
    auto source = k.ring.seal_for_upload(plain, sha256_hex(data), keep);
    const std::string sealed = read_source(*source);
    EXPECT_EQ(sealed.size(), source->size());
    EXPECT_EQ(sha256_hex(sealed), source->sha256());
    if (n > 64) {
      EXPECT_EQ(sealed.find(data.substr(0, 64)), std::string::npos);
    }
    // Any offset gives the same bytes again (a retry from the start, a part in the middle of a chunk).
    for (uint64_t offset : {uint64_t(0), uint64_t(5), uint64_t(140), uint64_t(65536 + 200), uint64_t(sealed.size() / 2)}) {
      if (offset > sealed.size()) continue;
      EXPECT_EQ(read_source(*source, offset, 65553), sealed.substr(size_t(offset))) << "offset " << offset;
    }
    write_text(k.dir.path() / "sealed", sealed);
    EXPECT_EQ(object_key_id(k.dir.path() / "sealed"), k.ring.encrypting_key_id());
    fs::remove(k.dir.path() / "back");
    k.ring.decrypt_file(k.dir.path() / "sealed", k.dir.path() / "back", "obj");
    EXPECT_EQ(read_text(k.dir.path() / "back"), data);
  }
}

TEST(SealedUpload, APlaintextThatNoLongerMatchesItsRecordedSha256IsRefusedBeforeAnyByteIsProduced) {
  Keys k;
  const fs::path plain = k.dir.path() / "archive.tar.gz";
  write_text(plain, random_bytes(200000));
  const std::string recorded = sha256_hex("what the archive held when it was written");
  try {
    k.ring.seal_for_upload(plain, recorded);
    FAIL() << "a damaged archive must not be encrypted for upload";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
    EXPECT_NE(m.find(plain.string()), std::string::npos) << m;
    EXPECT_NE(m.find(recorded), std::string::npos) << m;
  }
}

// The plaintext changes between the pass that computed the sha256 and the upload's own reading of it: the
// reader stops at the changed chunk (the bytes before it are those announced), and never produces bytes
// that differ from the announced object.
TEST(SealedUpload, APlaintextChangedAfterTheSha256WasComputedStopsTheReaderAtTheChangedChunk) {
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  std::string data = random_bytes(5 * 65536 + 10);
  write_text(plain, data);
  auto source = k.ring.seal_for_upload(plain, "", kEncryptAgain);
  const std::string announced = read_source(*source);
  data[3 * 65536 + 9] ^= 1;  // same size, one bit in chunk 3
  write_text(plain, data);
  auto reader = source->open(0);
  std::string got(announced.size(), '\0');
  size_t at = 0;
  try {
    for (; at < got.size(); at += 4096) reader->read(got.data() + at, std::min<size_t>(4096, got.size() - at));
    FAIL() << "a changed plaintext must stop the upload";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
    EXPECT_NE(m.find(plain.string()), std::string::npos) << m;
    EXPECT_NE(m.find("changed"), std::string::npos) << m;
  }
  EXPECT_GE(at, 3u * 65536) << "the chunks before the change were produced";
  EXPECT_EQ(got.substr(0, at), announced.substr(0, at));
}

// Held in memory between the two passes, the object sent is the one hashed even when the plaintext changes
// after the first pass.
TEST(SealedUpload, AnObjectKeptInMemoryIsTheAnnouncedOneWhateverHappensToThePlaintextAfter) {
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  std::string data = random_bytes(5 * 65536 + 10);
  write_text(plain, data);
  auto source = k.ring.seal_for_upload(plain, sha256_hex(data));
  write_text(plain, "replaced");
  const std::string sealed = read_source(*source);
  EXPECT_EQ(sha256_hex(sealed), source->sha256());
  write_text(k.dir.path() / "sealed", sealed);
  k.ring.decrypt_file(k.dir.path() / "sealed", k.dir.path() / "back", "obj");
  EXPECT_EQ(read_text(k.dir.path() / "back"), data);
}

TEST(SealedUpload, ADirectoryTargetStoresTheSealedObjectWithItsSha256OrNothing) {
  Keys k;
  const fs::path plain = k.dir.path() / "plain";
  std::string data = random_bytes(300001);
  write_text(plain, data);
  DirectoryTarget t(k.dir.path() / "remote");
  auto source = k.ring.seal_for_upload(plain, "", kEncryptAgain);
  auto stored = t.put("archives/a", *source);
  EXPECT_EQ(stored.sha256, source->sha256());
  EXPECT_EQ(t.stat("archives/a")->sha256, source->sha256());
  t.get("archives/a", k.dir.path() / "fetched");
  k.ring.decrypt_file(k.dir.path() / "fetched", k.dir.path() / "back", "obj");
  EXPECT_EQ(read_text(k.dir.path() / "back"), data);

  auto other = k.ring.seal_for_upload(plain, "", kEncryptAgain);
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
// request is retried from its start (the source read again from the part's offset), the object S3 holds is
// the announced one (its metadata sha256 and the bytes), and it decrypts to the plaintext.
TEST(SealedUpload, GoesToS3InOnePutOrInParallelPartsSurvivesADroppedConnectionAndDecrypts) {
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
    proxy.fault({{"cut_after", 1 << 20}, {"count", 1}, {"match", multipart ? "partNumber=2" : "PUT"}});
    const std::string key = multipart ? "archives/multi" : "archives/single";
    // The single PUT sends what the first pass kept in memory, the parts are encrypted again as they go.
    auto source = k.ring.seal_for_upload(plain, sha256_hex(data), multipart ? kEncryptAgain : kKeepSealedInMemoryBytes);
    auto stored = t.put(key, *source);
    EXPECT_EQ(stored.size, source->size());
    EXPECT_EQ(stored.sha256, source->sha256());
    EXPECT_EQ(t.stat(key)->sha256, source->sha256());
    const fs::path fetched = k.dir.path() / (multipart ? "m.enc" : "s.enc");
    t.get(key, fetched);  // checks the bytes against the stored sha256
    EXPECT_EQ(*sha256_of_file(fetched), source->sha256());
    const fs::path back = k.dir.path() / (multipart ? "m.plain" : "s.plain");
    k.ring.decrypt_file(fetched, back, key);
    EXPECT_EQ(read_text(back), data);
  }
  int parts = 0;
  for (const auto& r : proxy.log()) parts += r["url"].get<std::string>().find("partNumber=") != std::string::npos;
  EXPECT_EQ(parts, 4) << "three parts and the one retried";
  EXPECT_TRUE(server.upload_part_files().empty());
}

// The plaintext changes after the sealed object's sha256 was computed: the upload stops at the changed
// chunk, nothing is stored under the key, and a multipart upload is aborted with no orphan parts. The single
// PUT goes to s3rver directly: it writes a body into the object's file as it arrives and keeps what it got
// when the request stops short (S3 stores nothing), which the target then removes.
TEST(SealedUpload, AnS3UploadWhosePlaintextChangesMidwayStoresNothingAndLeavesNoParts) {
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
    write_text(plain, data);
    auto source = k.ring.seal_for_upload(plain, "", kEncryptAgain);
    data[11 << 20] ^= 1;
    write_text(plain, data);
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

}  // namespace
}  // namespace facecrowd
