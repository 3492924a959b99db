// Streaming SHA-256, hex-encoded. Used for archive members and content-addressed files.
// OpenSSL's EVP implementation: it uses the CPU's SHA extensions (SHA-NI) where present, several times
// faster than a portable implementation, which matters because restore and verify hash every byte.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace facecrowd {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::string hex_digest();  // finishes the hash; call once

 private:
  EVP_MD_CTX* ctx_;
};

std::string sha256_hex(std::string_view data);
// The file's sha256, read in 1 MiB blocks; nullopt when it cannot be opened or read.
std::optional<std::string> sha256_of_file(const std::filesystem::path& path);

}  // namespace facecrowd
