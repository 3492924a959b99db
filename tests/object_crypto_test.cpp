// Encryption of backup objects (backup/crypto/object_crypto.h): round trips at chunk boundaries, key
// files that others can read refused, wrong keys / tampered / truncated / extended objects refused by name
// with no output left, write-only mode, key rotation and the passphrase.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>

#include "backup/crypto/object_crypto.h"
#include "core/error.h"
#include "core/sha256.h"
#include "random_bytes.h"
#include "test_support.h"

namespace facecrowd {
namespace {

void expect_refused(const KeyRing& ring, const fs::path& sealed, const fs::path& out, const std::string& needle) {
  try {
    ring.decrypt_file(sealed, out, "s3://bucket/p/archives/x.tar.gz");
    FAIL() << "decryption must be refused (" << needle << ")";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
    EXPECT_NE(m.find("s3://bucket/p/archives/x.tar.gz"), std::string::npos) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
    EXPECT_NE(m.find("nothing was changed"), std::string::npos) << m;
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST(ObjectCrypto, RoundTripsAtEveryChunkBoundaryHidesThePlaintextAndReportsTheSealedFilesSha256) {
  TempDir d;
  generate_key_file(d.path() / "k");
  KeyRing ring;
  ring.add_key_file(d.path() / "k");
  for (size_t n : {size_t(0), size_t(1), size_t(65535), size_t(65536), size_t(65537), size_t(3 * 65536), size_t(300001)}) {
    SCOPED_TRACE(n);
    std::string data = random_bytes(n);
    write_text(d.path() / "plain", data);
    const std::string sealed_sha = ring.encrypt_file(d.path() / "plain", d.path() / "sealed");
    EXPECT_EQ(sealed_sha, sha256_hex(read_text(d.path() / "sealed")));  // what the upload signs without reading it again
    EXPECT_TRUE(is_encrypted_object(d.path() / "sealed"));
    EXPECT_EQ(object_key_id(d.path() / "sealed"), ring.encrypting_key_id());
    if (n > 64) {
      EXPECT_EQ(read_text(d.path() / "sealed").find(data.substr(0, 64)), std::string::npos);
    }
    fs::remove(d.path() / "back");
    ring.decrypt_file(d.path() / "sealed", d.path() / "back", "obj");
    EXPECT_EQ(read_text(d.path() / "back"), data);
  }
}

TEST(ObjectCrypto, AKeyFileOthersCanReadIsRefusedWithTheRemedy) {
  TempDir d;
  generate_key_file(d.path() / "k");
  struct stat st {};
  ::stat((d.path() / "k").c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::chmod((d.path() / "k").c_str(), 0644);
  KeyRing ring;
  try {
    ring.add_key_file(d.path() / "k");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
  }
  EXPECT_THROW(generate_key_file(d.path() / "k"), Error);  // never overwritten
  write_text(d.path() / "bad", "not a key");
  ::chmod((d.path() / "bad").c_str(), 0600);
  EXPECT_THROW(ring.add_key_file(d.path() / "bad"), Error);
}

TEST(ObjectCrypto, WrongKeyTamperedTruncatedOrExtendedObjectsAreRefusedByName) {
  TempDir d;
  generate_key_file(d.path() / "k1");
  generate_key_file(d.path() / "k2");
  KeyRing one, two;
  one.add_key_file(d.path() / "k1");
  two.add_key_file(d.path() / "k2");
  write_text(d.path() / "plain", random_bytes(200000));
  one.encrypt_file(d.path() / "plain", d.path() / "sealed");
  const std::string sealed = read_text(d.path() / "sealed");
  const fs::path out = d.path() / "out";

  expect_refused(two, d.path() / "sealed", out, "not among the keys given");

  std::string tampered = sealed;
  tampered[sealed.size() / 2] ^= 1;
  write_text(d.path() / "t", tampered);
  expect_refused(one, d.path() / "t", out, "fails authentication");

  write_text(d.path() / "t", sealed.substr(0, 121 + 2 * 65553));  // cut at a chunk boundary: the last chunks are gone
  expect_refused(one, d.path() / "t", out, "truncated");

  write_text(d.path() / "t", sealed.substr(0, sealed.size() - 5));  // the final chunk cut short
  expect_refused(one, d.path() / "t", out, "fails authentication");

  write_text(d.path() / "t", sealed + "x");  // the extra byte lands in the final chunk's read
  expect_refused(one, d.path() / "t", out, "fails authentication");
  write_text(d.path() / "t", sealed + std::string(70000, 'x'));  // a whole chunk's worth after the final one
  expect_refused(one, d.path() / "t", out, "fails authentication");

  std::string header = sealed;
  header[30] ^= 1;  // inside the wrapped data key
  write_text(d.path() / "t", header);
  expect_refused(one, d.path() / "t", out, "does not open");
}

TEST(ObjectCrypto, WriteOnlyModeEncryptsWithThePublicKeyAndOnlyThePrivateKeyDecrypts) {
  TempDir d;
  generate_key_pair(d.path() / "restore.key");
  ASSERT_TRUE(fs::exists(d.path() / "restore.key.pub"));
  KeyRing server;
  server.add_public_key_file(d.path() / "restore.key.pub");
  EXPECT_TRUE(server.can_encrypt());
  write_text(d.path() / "plain", random_bytes(100000));
  server.encrypt_file(d.path() / "plain", d.path() / "sealed");
  // The server that wrote it cannot read it back.
  expect_refused(server, d.path() / "sealed", d.path() / "out", "write-only");
  KeyRing offline;
  offline.add_box_secret_key_file(d.path() / "restore.key");
  offline.decrypt_file(d.path() / "sealed", d.path() / "out", "obj");
  EXPECT_EQ(read_text(d.path() / "out"), read_text(d.path() / "plain"));
}

TEST(ObjectCrypto, AfterRotationNewObjectsUseTheNewKeyAndOldOnesStillOpen) {
  TempDir d;
  generate_key_file(d.path() / "old");
  generate_key_file(d.path() / "new");
  KeyRing before;
  before.add_key_file(d.path() / "old");
  write_text(d.path() / "plain", "archive of January");
  before.encrypt_file(d.path() / "plain", d.path() / "jan");
  KeyRing after;
  after.add_key_file(d.path() / "new");
  after.add_key_file(d.path() / "old");
  after.encrypt_file(d.path() / "plain", d.path() / "feb");
  EXPECT_NE(object_key_id(d.path() / "jan"), object_key_id(d.path() / "feb"));
  EXPECT_EQ(object_key_id(d.path() / "feb"), after.encrypting_key_id());
  after.decrypt_file(d.path() / "jan", d.path() / "jan.out", "jan");
  after.decrypt_file(d.path() / "feb", d.path() / "feb.out", "feb");
  EXPECT_EQ(read_text(d.path() / "jan.out"), "archive of January");
  EXPECT_EQ(read_text(d.path() / "feb.out"), "archive of January");
}

TEST(ObjectCrypto, APassphraseWithTheSameSaltDerivesTheSameKeyAndAnotherIsRefused) {
  TempDir d;
  std::array<unsigned char, 16> salt{};
  salt.fill(7);
  KeyRing a, b, wrong;
  a.add_passphrase("correct horse battery staple", salt);
  b.add_passphrase("correct horse battery staple", salt);
  wrong.add_passphrase("incorrect horse battery staple", salt);
  EXPECT_EQ(a.encrypting_key_id(), b.encrypting_key_id());
  write_text(d.path() / "plain", "slice");
  a.encrypt_file(d.path() / "plain", d.path() / "sealed");
  b.decrypt_file(d.path() / "sealed", d.path() / "out", "obj");
  EXPECT_EQ(read_text(d.path() / "out"), "slice");
  expect_refused(wrong, d.path() / "sealed", d.path() / "out2", "wrong passphrase");
  KeyRing short_pass;
  EXPECT_THROW(short_pass.add_passphrase("short", salt), Error);
}

// A wrong passphrase (or one changed since the object was sealed) used to be reported only as "key X is not
// among the keys given (Y)": two opaque ids. It is named as what it is, with the remedy; still exit 3.
TEST(ObjectCrypto, AWrongPassphraseIsReportedAsAPassphraseThatDoesNotGiveTheObjectsKey) {
  TempDir d;
  std::array<unsigned char, 16> salt{};
  salt.fill(9);
  KeyRing sealer, wrong;
  sealer.add_passphrase("the passphrase of January", salt);
  wrong.add_passphrase("the passphrase of February", salt);
  write_text(d.path() / "plain", "archive");
  sealer.encrypt_file(d.path() / "plain", d.path() / "sealed");
  for (const std::string& part : {std::string("passphrase given"), std::string("$FACECROWD_BACKUP_PASSPHRASE"),
                                  std::string("wrong passphrase"), std::string("passphrase was changed"),
                                  sealer.encrypting_key_id()})
    expect_refused(wrong, d.path() / "sealed", d.path() / "out", part);
  // A key file alone keeps the key-id message: no passphrase was given.
  generate_key_file(d.path() / "k");
  KeyRing by_file;
  by_file.add_key_file(d.path() / "k");
  expect_refused(by_file, d.path() / "sealed", d.path() / "out", "not among the keys given");
}

}  // namespace
}  // namespace facecrowd
