#include "core/sha256.h"

#include <openssl/evp.h>

#include <fstream>
#include <stdexcept>

namespace facecrowd {

EvpDigest::EvpDigest(const EVP_MD* algorithm, const char* name) : ctx_(EVP_MD_CTX_new()), name_(name) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, algorithm, nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error(std::string("OpenSSL could not start a ") + name_ + " hash");
  }
}

EvpDigest::~EvpDigest() { EVP_MD_CTX_free(ctx_); }

void EvpDigest::update(const void* data, size_t size) {
  if (size && EVP_DigestUpdate(ctx_, data, size) != 1) throw std::runtime_error(std::string("OpenSSL ") + name_ + " update failed");
}

std::string EvpDigest::hex_digest() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, out, &len) != 1 || int(len) != EVP_MD_CTX_get_size(ctx_))
    throw std::runtime_error(std::string("OpenSSL ") + name_ + " final failed");
  static const char* digits = "0123456789abcdef";
  std::string hex(2 * len, '0');
  for (unsigned i = 0; i < len; ++i) {
    hex[2 * i] = digits[out[i] >> 4];
    hex[2 * i + 1] = digits[out[i] & 15];
  }
  return hex;
}

Sha256::Sha256() : EvpDigest(EVP_sha256(), "SHA-256") {}

Md5::Md5() : EvpDigest(EVP_md5(), "MD5") {}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

std::string md5_hex(std::string_view data) {
  Md5 md5;
  md5.update(data);
  return md5.hex_digest();
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
