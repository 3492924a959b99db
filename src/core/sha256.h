// Streaming SHA-256 (libsodium), hex-encoded. Used for archive members and content-addressed files.
#pragma once

#include <sodium.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace facecrowd {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::string hex_digest();  // finishes the hash; call once

 private:
  crypto_hash_sha256_state state_;
};

std::string sha256_hex(std::string_view data);
// The file's sha256, read in 1 MiB blocks; nullopt when it cannot be opened or read.
std::optional<std::string> sha256_of_file(const std::filesystem::path& path);

}  // namespace facecrowd
