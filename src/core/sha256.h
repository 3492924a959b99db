// Streaming SHA-256, hex-encoded. Used for archive members and content-addressed files.
// OpenSSL's EVP implementation: it uses the CPU's SHA extensions (SHA-NI) where present, several times
// faster than a portable implementation, which matters because restore and verify hash every byte.
// Md5, through the same code: only because S3's ETag of a single PUT is the MD5 of the stored bytes
// (targets/s3_request.cpp checks one-pass uploads against it, and the off-site index then records that MD5
// to check their downloads: crypto/sealed_upload.cpp says why that is enough); never as a content address.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;

namespace facecrowd {

// A streaming OpenSSL digest; errors are std::runtime_error naming the algorithm.
class EvpDigest {
 public:
  ~EvpDigest();
  EvpDigest(const EvpDigest&) = delete;
  EvpDigest& operator=(const EvpDigest&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  std::string hex_digest();  // finishes the hash; call once

 protected:
  EvpDigest(const EVP_MD* algorithm, const char* name);

 private:
  EVP_MD_CTX* ctx_;
  const char* name_;
};

class Sha256 : public EvpDigest {
 public:
  Sha256();
};

class Md5 : public EvpDigest {
 public:
  Md5();
};

std::string sha256_hex(std::string_view data);
std::string md5_hex(std::string_view data);
// The file's sha256, read in 1 MiB blocks; nullopt when it cannot be opened or read.
std::optional<std::string> sha256_of_file(const std::filesystem::path& path);

}  // namespace facecrowd
