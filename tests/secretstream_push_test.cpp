// SecretstreamPusher (backup/crypto/secretstream_push.h) against libsodium's own push: from the same state,
// the same bytes and the same state after, for message lengths around every padding and block boundary,
// every tag, over consecutive chunks; and libsodium's pull reads what it wrote. The process's self-check
// (matches_libsodium) passes, so these pushes are OpenSSL's.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

#include "backup/crypto/secretstream_push.h"
#include "random_bytes.h"

namespace facecrowd {
namespace {

using State = crypto_secretstream_xchacha20poly1305_state;
constexpr size_t kAbytes = crypto_secretstream_xchacha20poly1305_ABYTES;

TEST(SecretstreamPush, GivesLibsodiumsBytesAndStateForEveryLengthAndTagAndLibsodiumPullsThem) {
  ASSERT_GE(sodium_init(), 0);
  // The self-check passes here, so push() below is the OpenSSL path (on a mismatch it would be libsodium's own).
  ASSERT_TRUE(SecretstreamPusher::matches_libsodium()) << "the OpenSSL push differs from this libsodium's";
  unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  State ours{}, theirs{};
  unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(&theirs, header, key);
  std::memcpy(&ours, &theirs, sizeof(State));
  SecretstreamPusher pusher;
  const std::vector<size_t> lengths = {0, 1, 15, 16, 17, 47, 48, 49, 63, 64, 65, 127, 128, 1000, 65535, 65536};
  const std::vector<unsigned char> tags = {0, crypto_secretstream_xchacha20poly1305_TAG_PUSH,
                                           crypto_secretstream_xchacha20poly1305_TAG_REKEY};
  std::vector<std::string> plain;
  std::string stream;
  for (size_t i = 0; i < lengths.size() * tags.size(); ++i) {
    const size_t len = lengths[i % lengths.size()];
    const unsigned char tag = i + 1 == lengths.size() * tags.size() ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                                                    : tags[i / lengths.size()];
    SCOPED_TRACE(testing::Message() << "chunk " << i << ", " << len << " bytes, tag " << int(tag));
    const std::string m = random_bytes(len);
    std::vector<unsigned char> a(len + kAbytes), b(len + kAbytes);
    unsigned long long b_len = 0;
    const size_t a_len = pusher.push(ours, a.data(), reinterpret_cast<const unsigned char*>(m.data()), len, tag);
    crypto_secretstream_xchacha20poly1305_push(&theirs, b.data(), &b_len, reinterpret_cast<const unsigned char*>(m.data()), len,
                                               nullptr, 0, tag);
    ASSERT_EQ(a_len, b_len);
    ASSERT_EQ(a, b);
    ASSERT_EQ(std::memcmp(&ours, &theirs, sizeof(State)), 0) << "the state after the push";
    plain.push_back(m);
    stream.append(reinterpret_cast<const char*>(a.data()), a.size());
  }
  State pull{};
  ASSERT_EQ(crypto_secretstream_xchacha20poly1305_init_pull(&pull, header, key), 0);
  size_t at = 0;
  for (size_t i = 0; i < plain.size(); ++i) {
    std::vector<unsigned char> m(plain[i].size());
    unsigned long long m_len = 0;
    unsigned char tag = 0;
    ASSERT_EQ(crypto_secretstream_xchacha20poly1305_pull(&pull, m.data(), &m_len, &tag,
                                                         reinterpret_cast<const unsigned char*>(stream.data()) + at,
                                                         plain[i].size() + kAbytes, nullptr, 0),
              0)
        << "chunk " << i;
    EXPECT_EQ(std::string(m.begin(), m.end()), plain[i]);
    at += plain[i].size() + kAbytes;
  }
}

}  // namespace
}  // namespace facecrowd
