// KeyRing::seal_for_upload: an object encrypted as the upload reads it, so that encryption overlaps the
// transfer instead of writing an encrypted copy to disk first and uploading that.
//
// Why two passes over the plaintext: S3 takes an object's metadata (x-amz-meta-sha256) and the signature of
// its payload before the first byte is sent, so the sealed object's sha256 must be known at the start. The
// first pass (here, when the source is made) encrypts every chunk, hashes the sealed bytes and keeps, for each
// chunk, the secretstream state it started from and the MAC it ended with, and writes nothing. The upload
// (pass two, SealedReader) then encrypts each chunk again from its saved state, which gives the same bytes
// for the same plaintext (same data key, same nonces), and compares the chunk's MAC with the first pass's:
// a plaintext that changed in between gives another MAC, and the upload stops (kBadInput) before that chunk
// is sent, so the object S3 stores is exactly the one whose sha256 was recorded. Any chunk can be made again
// from its state, which is what parallel multipart parts and retries need.
//
// An object of at most `keep_in_memory` bytes (by default kKeepSealedInMemoryBytes, 64 MiB: small archives,
// oplog slices, manifests) is kept in memory by the first pass instead, so its upload does not encrypt it again: that is where a push's fixed costs weigh
// most, and the memory is what the encrypted copy used to take in the page cache.
//
// The saved states hold the key stream's key, so they live in guarded memory (sodium_allocarray) and are
// wiped when the source is destroyed, as are the readers' copies.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "backup/crypto/object_crypto.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"

namespace facecrowd {
namespace {

using State = crypto_secretstream_xchacha20poly1305_state;
constexpr size_t kAbytes = crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr size_t kMacBytes = 16;  // the Poly1305 tag that ends each sealed chunk
constexpr size_t kSealedChunk = kEncryptedChunkBytes + kAbytes;

struct ChunkStart {
  State state;                    // before the chunk was pushed
  unsigned char mac[kMacBytes];   // the chunk's MAC in the first pass
};

// Reads exactly `n` bytes at `offset`; a short read (the file shrank) or an error is refused.
void pread_exactly(int fd, unsigned char* buf, size_t n, uint64_t offset, const fs::path& file) {
  for (size_t got = 0; got < n;) {
    ssize_t r = ::pread(fd, buf + got, n - got, off_t(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_io_error("cannot read file to encrypt for upload", file, errno);
    if (r == 0)
      throw Error(ExitCode::kBadInput, "file '" + file.string() + "' shrank while it was being encrypted for upload; nothing was stored");
    got += size_t(r);
  }
}

class SealedUpload;

class SealedReader final : public UploadReader {
 public:
  SealedReader(const SealedUpload& source, uint64_t offset);
  ~SealedReader() override { sodium_memzero(&state_, sizeof state_); }
  void read(char* out, size_t n) override;

 private:
  void make_chunk(uint64_t index);
  const SealedUpload& s_;
  uint64_t pos_;
  State state_{};
  std::vector<unsigned char> plain_, sealed_;
  uint64_t current_ = UINT64_MAX;  // the chunk in sealed_
  size_t current_len_ = 0;
};

class SealedUpload final : public UploadSource {
 public:
  SealedUpload(std::string header, SecretKey& data_key, const fs::path& plain, const std::string& plain_sha256,
               uint64_t keep_in_memory)
      : plain_(plain), header_(std::move(header)), keep_in_memory_(keep_in_memory) {
    fd_ = ::open(plain.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw_io_error("cannot open file to encrypt for upload", plain, errno);
    try {
      first_pass(data_key, plain_sha256);
    } catch (...) {
      release();
      throw;
    }
  }
  ~SealedUpload() override { release(); }

  uint64_t size() const override { return size_; }
  const std::string& sha256() const override { return sha256_; }
  std::string name() const override { return plain_.string(); }
  std::unique_ptr<UploadReader> open(uint64_t offset) const override {
    return std::make_unique<SealedReader>(*this, offset);
  }

 private:
  friend class SealedReader;

  void first_pass(SecretKey& data_key, const std::string& plain_sha256) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) throw_io_error("cannot stat file to encrypt for upload", plain_, errno);
    plain_size_ = uint64_t(st.st_size);
    // One chunk per 64 KiB, and one (possibly empty) final chunk for an empty file: encrypt_file's layout.
    chunks_ = plain_size_ == 0 ? 1 : (plain_size_ + kEncryptedChunkBytes - 1) / kEncryptedChunkBytes;
    starts_ = static_cast<ChunkStart*>(sodium_allocarray(size_t(chunks_), sizeof(ChunkStart)));
    if (!starts_) throw Error(ExitCode::kInternal, "cannot allocate guarded memory to encrypt '" + plain_.string() + "'");

    State state;
    unsigned char stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_init_push(&state, stream_header, data_key.data());
    header_.append(reinterpret_cast<const char*>(stream_header), sizeof stream_header);
    size_ = header_.size() + plain_size_ + chunks_ * kAbytes;
    if (size_ <= keep_in_memory_) kept_.reserve(size_t(size_));

    // The plaintext checked against the sha256 recorded when it was written, on a thread of its own while
    // this one encrypts: a file damaged since is not sent (as for a plaintext upload).
    std::string plain_read;
    std::exception_ptr plain_error;
    std::thread plain_hash;
    if (!plain_sha256.empty())
      plain_hash = std::thread([&] {
        try {
          Sha256 sha;
          std::vector<unsigned char> buf(1 << 20);
          for (uint64_t done = 0; done < plain_size_;) {
            size_t n = size_t(std::min<uint64_t>(buf.size(), plain_size_ - done));
            pread_exactly(fd_, buf.data(), n, done, plain_);
            sha.update(buf.data(), n);
            done += n;
          }
          plain_read = sha.hex_digest();
        } catch (...) {
          plain_error = std::current_exception();
        }
      });
    try {
      Sha256 sha;
      sha.update(header_.data(), header_.size());
      const bool keep = size_ <= keep_in_memory_;
      if (keep) kept_.assign(header_);
      std::vector<unsigned char> buf(kEncryptedChunkBytes), sealed(kSealedChunk);
      for (uint64_t i = 0; i < chunks_; ++i) {
        std::memcpy(&starts_[i].state, &state, sizeof state);
        const size_t len = seal_chunk(state, i, buf.data(), sealed.data());
        std::memcpy(starts_[i].mac, sealed.data() + len - kMacBytes, kMacBytes);
        sha.update(sealed.data(), len);
        if (keep) kept_.append(reinterpret_cast<const char*>(sealed.data()), len);
      }
      sodium_memzero(&state, sizeof state);
      sha256_ = sha.hex_digest();
    } catch (...) {
      sodium_memzero(&state, sizeof state);
      if (plain_hash.joinable()) plain_hash.join();
      throw;
    }
    if (plain_hash.joinable()) plain_hash.join();
    if (plain_error) std::rethrow_exception(plain_error);
    if (!plain_sha256.empty() && plain_read != plain_sha256)
      throw_changed_since_recorded(plain_, plain_sha256, plain_read, "the encrypted upload");
    struct stat after {};
    if (::fstat(fd_, &after) != 0 || uint64_t(after.st_size) != plain_size_)
      throw Error(ExitCode::kBadInput, "file '" + plain_.string() + "' changed size while it was being encrypted for upload; nothing was stored");
  }

  // Chunk `index` of the plaintext read into `plain` and pushed from `state` into `sealed` (the final chunk
  // with the FINAL tag); returns the sealed length. Both passes make each chunk through here, so the second
  // gives the first's bytes for the same plaintext.
  size_t seal_chunk(State& state, uint64_t index, unsigned char* plain, unsigned char* sealed) const {
    const size_t n = size_t(std::min<uint64_t>(kEncryptedChunkBytes, plain_size_ - index * kEncryptedChunkBytes));
    pread_exactly(fd_, plain, n, index * kEncryptedChunkBytes, plain_);
    unsigned long long len = 0;
    crypto_secretstream_xchacha20poly1305_push(&state, sealed, &len, plain, n, nullptr, 0,
                                               index + 1 == chunks_ ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    return size_t(len);
  }
  void release() {
    if (starts_) sodium_free(starts_);  // wipes the saved states
    starts_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  fs::path plain_;
  std::string header_;  // everything before the first chunk, secretstream header included
  int fd_ = -1;
  uint64_t plain_size_ = 0, chunks_ = 0, size_ = 0;
  ChunkStart* starts_ = nullptr;
  std::string sha256_;
  uint64_t keep_in_memory_;
  std::string kept_;  // the whole sealed object, when it is at most keep_in_memory_ bytes; else empty
};

SealedReader::SealedReader(const SealedUpload& source, uint64_t offset)
    : s_(source), pos_(offset), plain_(kEncryptedChunkBytes), sealed_(kSealedChunk) {}

void SealedReader::make_chunk(uint64_t index) {
  std::memcpy(&state_, &s_.starts_[index].state, sizeof state_);
  const size_t len = s_.seal_chunk(state_, index, plain_.data(), sealed_.data());
  if (sodium_memcmp(sealed_.data() + len - kMacBytes, s_.starts_[index].mac, kMacBytes) != 0)
    throw Error(ExitCode::kBadInput, "file '" + s_.plain_.string() + "' changed while it was being encrypted and uploaded (its " +
                                         "bytes at offset " + std::to_string(index * kEncryptedChunkBytes) +
                                         " differ from those its sha256 was computed from); nothing was stored. Make a new backup");
  current_ = index;
  current_len_ = len;
}

void SealedReader::read(char* out, size_t n) {
  const uint64_t header = s_.header_.size();
  if (pos_ + n > s_.size_) throw Error(ExitCode::kInternal, "read past the end of the encrypted upload of '" + s_.plain_.string() + "'");
  if (!s_.kept_.empty()) {
    std::memcpy(out, s_.kept_.data() + pos_, n);
    pos_ += n;
    return;
  }
  while (n > 0) {
    size_t take;
    if (pos_ < header) {
      take = size_t(std::min<uint64_t>(n, header - pos_));
      std::memcpy(out, s_.header_.data() + pos_, take);
    } else {
      const uint64_t index = (pos_ - header) / kSealedChunk, at = (pos_ - header) % kSealedChunk;
      if (index != current_) make_chunk(index);
      take = size_t(std::min<uint64_t>(n, current_len_ - at));
      std::memcpy(out, sealed_.data() + at, take);
    }
    out += take;
    pos_ += take;
    n -= take;
  }
}

}  // namespace

std::unique_ptr<UploadSource> KeyRing::seal_for_upload(const fs::path& plain, const std::string& plain_sha256,
                                                       uint64_t keep_in_memory) const {
  SecretKey data_key;
  std::string header = begin_object(data_key);
  return std::make_unique<SealedUpload>(std::move(header), data_key, plain, plain_sha256, keep_in_memory);
}

}  // namespace facecrowd
