#include "backup/crypto/index_signing.h"

#include "core/error.h"
#include "core/process_hardening.h"

namespace facecrowd {
namespace {

std::string signed_message(const std::string& digest) { return std::string(kIndexSignatureContext, sizeof kIndexSignatureContext) + digest; }

}  // namespace

IndexSigningKey::IndexSigningKey(const unsigned char* seed) {
  keep_secrets_out_of_core_dumps();
  if (sodium_init() < 0) throw Error(ExitCode::kInternal, "libsodium could not be initialised");
  secret_ = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (!secret_) throw Error(ExitCode::kInternal, "cannot allocate guarded memory for a key");
  crypto_sign_seed_keypair(verify_key_.data(), secret_, seed);
}

IndexSigningKey::~IndexSigningKey() { sodium_free(secret_); }

std::string IndexSigningKey::sign(const std::string& digest) const {
  const std::string message = signed_message(digest);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_);
  std::string out(2 * crypto_sign_BYTES + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), signature, sizeof signature);
  out.pop_back();
  return out;
}

bool index_signature_holds(const IndexVerifyKey& key, const std::string& digest, const std::string& signature_hex) {
  unsigned char signature[crypto_sign_BYTES];
  size_t used = 0;
  const char* end = nullptr;
  if (signature_hex.size() != 2 * crypto_sign_BYTES ||
      sodium_hex2bin(signature, sizeof signature, signature_hex.data(), signature_hex.size(), nullptr, &used, &end) != 0 ||
      used != sizeof signature)
    return false;
  const std::string message = signed_message(digest);
  return crypto_sign_verify_detached(signature, reinterpret_cast<const unsigned char*>(message.data()), message.size(), key.data()) == 0;
}

}  // namespace facecrowd
