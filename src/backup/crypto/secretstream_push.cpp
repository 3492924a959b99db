#include "backup/crypto/secretstream_push.h"

#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "core/error.h"

namespace facecrowd {
namespace {

// libsodium's layout of state.nonce (private names in its source): a 4-byte counter, then an 8-byte inner nonce.
constexpr size_t kCounterBytes = 4;
constexpr size_t kInonceBytes = 8;
static_assert(kCounterBytes + kInonceBytes == sizeof(crypto_secretstream_xchacha20poly1305_state::nonce));

[[noreturn]] void openssl_failed(const char* what) {
  throw Error(ExitCode::kInternal, std::string("OpenSSL failed to ") + what + " while encrypting an object");
}

}  // namespace

SecretstreamPusher::SecretstreamPusher() : cipher_(EVP_CIPHER_CTX_new()), mac_(nullptr) {
  EVP_MAC* poly = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
  if (poly) mac_ = EVP_MAC_CTX_new(poly);
  EVP_MAC_free(poly);
  if (!cipher_ || !mac_) {
    EVP_CIPHER_CTX_free(cipher_);
    EVP_MAC_CTX_free(mac_);
    openssl_failed("set up ChaCha20 and Poly1305");
  }
}

SecretstreamPusher::~SecretstreamPusher() {
  EVP_CIPHER_CTX_free(cipher_);
  EVP_MAC_CTX_free(mac_);
}

// libsodium 1.0.18's secretstream push, step by step: block 0 of the ChaCha20-IETF keystream (key state.k,
// nonce state.nonce) is the Poly1305 key; block 1 encrypts the tag block (the tag, 63 zeros); the message is
// encrypted from block 2. The MAC covers the (empty) additional data, the encrypted tag block, the ciphertext
// followed by (0x10 - 64 + mlen) & 0xf zero bytes (libsodium's padding, reproduced as it is written), and both
// lengths; it ends the output, its first 8 bytes are XORed into the inner nonce,
// the counter is incremented, and the state is rekeyed on a REKEY tag or a counter that wrapped.
size_t SecretstreamPusher::push(crypto_secretstream_xchacha20poly1305_state& state, unsigned char* out, const unsigned char* m,
                                size_t mlen, unsigned char tag) {
  if (matches_libsodium()) return push_openssl(state, out, m, mlen, tag);
  unsigned long long written = 0;
  if (crypto_secretstream_xchacha20poly1305_push(&state, out, &written, m, mlen, nullptr, 0, tag) != 0)
    throw Error(ExitCode::kInternal, "libsodium failed to encrypt a chunk of an object");
  return size_t(written);
}

bool SecretstreamPusher::matches_libsodium() {
  static const bool matches = [] {
    using State = crypto_secretstream_xchacha20poly1305_state;
    if (sodium_init() < 0) return false;
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    unsigned char header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_keygen(key);
    State ours{}, theirs{};
    crypto_secretstream_xchacha20poly1305_init_push(&theirs, header, key);
    sodium_memzero(key, sizeof key);
    ours = theirs;
    unsigned char m[100];
    randombytes_buf(m, sizeof m);
    SecretstreamPusher pusher;
    for (unsigned char tag : {crypto_secretstream_xchacha20poly1305_TAG_REKEY, crypto_secretstream_xchacha20poly1305_TAG_FINAL}) {
      unsigned char a[sizeof m + crypto_secretstream_xchacha20poly1305_ABYTES];
      unsigned char b[sizeof a];
      unsigned long long b_len = 0;
      const size_t a_len = pusher.push_openssl(ours, a, m, sizeof m, tag);
      crypto_secretstream_xchacha20poly1305_push(&theirs, b, &b_len, m, sizeof m, nullptr, 0, tag);
      if (a_len != b_len || std::memcmp(a, b, sizeof a) != 0 || std::memcmp(&ours, &theirs, sizeof(State)) != 0) return false;
    }
    return true;
  }();
  return matches;
}

size_t SecretstreamPusher::push_openssl(crypto_secretstream_xchacha20poly1305_state& state, unsigned char* out,
                                        const unsigned char* m, size_t mlen, unsigned char tag) {
  static const unsigned char zeros[16] = {};
  unsigned char iv[16] = {};  // OpenSSL's ChaCha20 IV: the 32-bit block counter (little-endian), then the nonce
  std::memcpy(iv + 4, state.nonce, sizeof state.nonce);
  unsigned char blocks[128] = {};  // block 0: keystream (the MAC key); block 1: the tag block
  blocks[64] = tag;
  int n = 0;
  if (EVP_EncryptInit_ex(cipher_, EVP_chacha20(), nullptr, state.k, iv) != 1 ||
      EVP_EncryptUpdate(cipher_, blocks, &n, blocks, sizeof blocks) != 1)
    openssl_failed("start ChaCha20");
  // The cipher now stands at block 2, where the message starts.
  if (mlen > 0 && EVP_EncryptUpdate(cipher_, out + 1, &n, m, int(mlen)) != 1) openssl_failed("run ChaCha20");
  out[0] = blocks[64];
  unsigned char lengths[16] = {};
  const uint64_t ct_len = 64 + uint64_t(mlen);
  for (int i = 0; i < 8; ++i) lengths[8 + i] = static_cast<unsigned char>(ct_len >> (8 * i));  // adlen (0), then 64 + mlen
  unsigned char* mac = out + 1 + mlen;
  size_t mac_len = 0;
  if (EVP_MAC_init(mac_, blocks, 32, nullptr) != 1 || EVP_MAC_update(mac_, blocks + 64, 64) != 1 ||
      EVP_MAC_update(mac_, out + 1, mlen) != 1 || EVP_MAC_update(mac_, zeros, size_t(0x10 - 64 + mlen) & 0xf) != 1 ||
      EVP_MAC_update(mac_, lengths, sizeof lengths) != 1 || EVP_MAC_final(mac_, mac, &mac_len, 16) != 1 || mac_len != 16)
    openssl_failed("compute Poly1305");
  sodium_memzero(blocks, sizeof blocks);
  for (size_t i = 0; i < kInonceBytes; ++i) state.nonce[kCounterBytes + i] ^= mac[i];
  sodium_increment(state.nonce, kCounterBytes);
  if ((tag & crypto_secretstream_xchacha20poly1305_TAG_REKEY) != 0 || sodium_is_zero(state.nonce, kCounterBytes))
    crypto_secretstream_xchacha20poly1305_rekey(&state);
  return mlen + crypto_secretstream_xchacha20poly1305_ABYTES;
}

}  // namespace facecrowd
