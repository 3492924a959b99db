// libsodium's crypto_secretstream_xchacha20poly1305_push, byte for byte, with the ChaCha20 and Poly1305
// of OpenSSL: the same state, the same output, the same state afterwards (nonce update and rekey included),
// at about three times the speed on this hardware (OpenSSL 3's AVX-512 code: secretstream ~1.0 GB/s
// through libsodium, ChaCha20-Poly1305 ~3.8 GB/s through OpenSSL), which was a fifth of the CPU of an
// encrypted push. Only the push is replaced: the stream is set up (init_push) and read back (pull) by
// libsodium itself, and tests/secretstream_push_test.cpp checks the two pushes give the same bytes.
// The cipher's key schedule lives in OpenSSL's context, which OpenSSL wipes when it is freed.
// Fail-safe: the layout of the state's nonce (a counter, then an inner nonce) is libsodium's own, not its API.
// So the first pusher of a process seals two chunks (a REKEY tag, then a FINAL one) both ways from one random
// state; if the bytes or the states differ (a libsodium whose internals changed), every push of the process
// goes through libsodium's own push instead: slower, never unreadable.
#pragma once

#include <sodium.h>

#include <cstddef>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace facecrowd {

class SecretstreamPusher {
 public:
  SecretstreamPusher();
  ~SecretstreamPusher();
  SecretstreamPusher(const SecretstreamPusher&) = delete;
  SecretstreamPusher& operator=(const SecretstreamPusher&) = delete;
  // As crypto_secretstream_xchacha20poly1305_push(state, out, &len, m, mlen, nullptr, 0, tag): writes
  // mlen + ABYTES bytes to `out` (which must not overlap `m`) and advances `state`. Returns the bytes written.
  // Error(kInternal) if OpenSSL fails.
  size_t push(crypto_secretstream_xchacha20poly1305_state& state, unsigned char* out, const unsigned char* m, size_t mlen,
              unsigned char tag);

 // Whether this process's pushes go through OpenSSL (false: they fall back to libsodium; see the header).
  static bool matches_libsodium();

 private:
  size_t push_openssl(crypto_secretstream_xchacha20poly1305_state& state, unsigned char* out, const unsigned char* m,
                      size_t mlen, unsigned char tag);

  EVP_CIPHER_CTX* cipher_;
  EVP_MAC_CTX* mac_;
};

}  // namespace facecrowd
