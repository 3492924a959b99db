// Signatures over a write-only target's index.json (offsite/index_auth.h says what is covered and who checks).
//
// Why a signature and not the MAC a keyed target uses: a write-only server seals each object's data key to a
// public key (crypto_box_seal) and holds no secret the offline restorer shares, so nothing it could MAC with
// is known to the restorer. A signature needs no shared secret: `target keygen --write-only` makes an
// Ed25519 pair (crypto_sign) beside the box pair; the server's file (FILE.pub) holds its secret seed, the
// offline private file (FILE) its public (verify) key. The server signs, a restore with the offline file checks.
//
// What is signed: kIndexSignatureContext followed by the 32-byte digest of the index's canonical bytes
// (index_auth.h's index_canonical_digest, the one canonicalisation). The context keeps a signature from ever
// being valid for anything else; the key signs nothing else either.
#pragma once

#include <sodium.h>

#include <array>
#include <string>

namespace facecrowd {

inline constexpr char kIndexSignatureContext[] = "facecrowd index.json signature v1";
using IndexVerifyKey = std::array<unsigned char, crypto_sign_PUBLICKEYBYTES>;

// An Ed25519 secret key, in guarded memory (sodium_malloc: locked, wiped when destroyed).
class IndexSigningKey {
 public:
  // From the 32-byte seed the server's key file holds.
  explicit IndexSigningKey(const unsigned char* seed);
  ~IndexSigningKey();
  IndexSigningKey(const IndexSigningKey&) = delete;
  IndexSigningKey& operator=(const IndexSigningKey&) = delete;
  const IndexVerifyKey& verify_key() const { return verify_key_; }
  // The detached signature (hex, 128 characters) of `digest` (binary, 32 bytes) under the context.
  std::string sign(const std::string& digest) const;

 private:
  unsigned char* secret_;  // crypto_sign_SECRETKEYBYTES
  IndexVerifyKey verify_key_{};
};

// True when `signature_hex` (as index.json carries it: attacker's input) is the signature of `digest` under
// `key`. A signature that is not 128 lowercase hex digits is false.
bool index_signature_holds(const IndexVerifyKey& key, const std::string& digest, const std::string& signature_hex);

}  // namespace facecrowd
