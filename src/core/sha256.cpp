#include "core/sha256.h"

#include <fstream>
#include <stdexcept>

namespace facecrowd {

Sha256::Sha256() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  crypto_hash_sha256_init(&state_);
}

void Sha256::update(const void* data, size_t size) {
  crypto_hash_sha256_update(&state_, static_cast<const unsigned char*>(data), size);
}

std::string Sha256::hex_digest() {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state_, out);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, out, sizeof out);
  return hex;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

std::optional<std::string> sha256_of_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  Sha256 h;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    h.update(buf.data(), size_t(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  return h.hex_digest();
}

}  // namespace facecrowd
