// KeyRing::seal_for_upload: an object encrypted as the upload sends it, in ONE pass over the plaintext:
// each reader reads the plaintext once, encrypts it chunk by chunk and gives the sealed bytes out as the
// upload asks for them; nothing is written to disk and nothing is encrypted twice. Whole chunks are sealed
// straight into the buffer the upload gives to fill (libcurl's), so the sealed bytes are not copied again
// (that copy was 3% of an encrypted push's CPU); only a chunk that straddles two of those buffers is sealed
// into one of the reader's own and handed out in two pieces. The object's size is
// known at the start (it follows from the plaintext's: header + plaintext + 17 bytes per 64 KiB chunk), its
// digest only at the end, so the target hashes the bytes as it stores them and the caller records that
// digest where verify and restore read it (the off-site index, remote_index.h), not in the object's metadata.
//
// Which digest: on S3, a single PUT records the MD5 of the sealed bytes, the one compared with the ETag,
// and computes no sha256 of them (a directory target and a multipart upload, whose ETag is no MD5, record
// the sha256). The sha256 cost a quarter of the push's CPU (about 0.12 s per 200 MB on 2 cores shared with
// the server) for no guarantee the MD5 and the object's own format do not already give:
//   - damage at rest or in transit (a download, verify --read-data): any change of the bytes changes the MD5
//     (checked as the bytes arrive) as surely as the sha256; decryption then checks every 64 KiB chunk's
//     Poly1305 MAC, the final tag (truncation) and the plaintext against the sha256 recorded when it was
//     written (the archive's manifest, the slice's record), so a restore never takes altered plaintext.
//   - an object replaced on purpose: MD5's known weakness is collisions, which need the attacker to make
//     both messages; these bytes are ciphertext under a fresh random data key, which nobody else chose, so
//     matching their MD5 would take a second preimage (no attack known). An attacker able to replace objects
//     can rewrite index.json (plaintext, not signed) as well, so a sha256 in it would stop no one either; the
//     MACs do (a key or passphrase target: no valid object without the key), and Object Lock keeps the
//     objects there.
//   - verify --target without --read-data compares the ETag with the index, as before (no digest of an
//     encrypted object can be read without downloading it), and write-only mode changes nothing: a download
//     of an encrypted object needs the private key in any case (offsite_store.h).
// Entries recorded before this (a sha256, no MD5) are still checked by their sha256.
//
// Why one pass, and how the S3 upload checks it (targets/s3_target.cpp). S3 wants the payload's sha256
// before the first byte (the signed x-amz-content-sha256), which made the old upload encrypt every object
// twice (once to hash, once to send) or hold it in memory. The ways out that were weighed:
//   - a single PUT with x-amz-content-sha256: UNSIGNED-PAYLOAD (valid on AWS S3 and GCS's XML API), the MD5
//     of the bytes computed as they go and compared with the ETag S3 returns for a single PUT (the MD5 of
//     what it stored; a mismatch deletes the object and fails): CHOSEN. It is what `curl -T` does, one
//     request, and s3rver (the test server) accepts it.
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD (aws-chunked, each chunk signed): s3rver 3.7.1 accepts the header
//     but does not decode the aws-chunked body (it would store the chunk framing), and curl's SigV4 does not
//     sign chunks, so this would need a SigV4 signer of our own and could not be tested here.
//   - always multipart: the parts are signed and hashed in memory, but every object (4 KB manifests
//     included) would take three requests, and s3rver's completion copies the whole object again (0.5x of
//     `curl -T` measured). Multipart stays for objects above the threshold, and for Object Lock targets
//     (S3 wants a checksum header with a locked PUT, which one pass cannot give at the start; parts carry
//     theirs); there the parts are made in order by one reader and sent in parallel from memory.
//
// Retries: a retried PUT opens a new reader, which starts again from the secretstream state kept at the
// start (the same data key and nonce), so the same plaintext gives the same bytes; and the target hashes the
// bytes of each attempt afresh, so the sha256 it returns is of the bytes the answered attempt sent, whatever
// happened before.
//
// The plaintext's own check: when the caller gives the sha256 recorded when the plaintext was written, each
// reader hashes the plaintext it encrypts and compares it once it has read the last bytes, before it seals
// the final chunk: a damaged or changed file stops the upload before the batch that holds the final chunk
// (one chunk to 1 MiB) is sealed, so the object's last bytes never go out and S3 stores nothing (kBadInput
// naming the file). A file that shrinks stops the reader at once; one that grows is refused at the end.
//
// The secretstream states hold the stream's key, so they live in guarded memory (sodium_malloc) and are
// wiped when freed; the data key itself is wiped as soon as the stream is set up. libsodium sets the stream
// up; its chunks are sealed by SecretstreamPusher (secretstream_push.h), libsodium's push to the byte, run on
// OpenSSL's ChaCha20 and Poly1305, three times as fast here.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "backup/crypto/object_crypto.h"
#include "backup/crypto/secretstream_push.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"

namespace facecrowd {
namespace {

using State = crypto_secretstream_xchacha20poly1305_state;
constexpr size_t kAbytes = crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr size_t kSealedChunk = kEncryptedChunkBytes + kAbytes;
// At most this many chunks are read with one pread and sealed in one go: 1 MiB of plaintext, the size of the
// upload's own buffer (s3_request.cpp).
constexpr size_t kChunksPerBatch = 16;

// Reads exactly `n` bytes at `offset`; a short read (the file shrank) or an error is refused.
void pread_exactly(int fd, unsigned char* buf, size_t n, uint64_t offset, const fs::path& file) {
  for (size_t got = 0; got < n;) {
    ssize_t r = ::pread(fd, buf + got, n - got, off_t(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_io_error("cannot read file to encrypt for upload", file, errno);
    if (r == 0)
      throw Error(ExitCode::kBadInput, "file '" + file.string() + "' shrank while it was being encrypted and uploaded; nothing was stored");
    got += size_t(r);
  }
}

// A secretstream state in guarded memory, wiped and freed with the object.
class GuardedState {
 public:
  GuardedState() : state_(static_cast<State*>(sodium_malloc(sizeof(State)))) {
    if (!state_) throw Error(ExitCode::kInternal, "cannot allocate guarded memory for an encryption state");
  }
  ~GuardedState() { sodium_free(state_); }
  GuardedState(const GuardedState&) = delete;
  GuardedState& operator=(const GuardedState&) = delete;
  State* get() const { return state_; }

 private:
  State* state_;
};

class SealedUpload final : public UploadSource {
 public:
  SealedUpload(std::string header, SecretKey& data_key, const fs::path& plain, std::string plain_sha256)
      : plain_(plain), header_(std::move(header)), plain_sha256_(std::move(plain_sha256)) {
    fd_ = ::open(plain.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw_io_error("cannot open file to encrypt for upload", plain, errno);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int e = errno;
      ::close(fd_);
      throw_io_error("cannot stat file to encrypt for upload", plain, e);
    }
    plain_size_ = uint64_t(st.st_size);
    // One chunk per 64 KiB, and one (possibly empty) final chunk for an empty file: encrypt_file's layout.
    chunks_ = plain_size_ == 0 ? 1 : (plain_size_ + kEncryptedChunkBytes - 1) / kEncryptedChunkBytes;
    unsigned char stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_init_push(start_.get(), stream_header, data_key.data());
    header_.append(reinterpret_cast<const char*>(stream_header), sizeof stream_header);
    size_ = header_.size() + plain_size_ + chunks_ * kAbytes;
  }
  ~SealedUpload() override { ::close(fd_); }

  uint64_t size() const override { return size_; }
  std::string name() const override { return plain_.string(); }
  std::unique_ptr<UploadReader> open() const override;

 private:
  friend class SealedReader;
  fs::path plain_;
  std::string header_;  // everything before the first chunk, secretstream header included
  std::string plain_sha256_;
  int fd_ = -1;
  uint64_t plain_size_ = 0, chunks_ = 0, size_ = 0;
  GuardedState start_;  // the stream's state before its first chunk: every reader starts from a copy
};

class SealedReader final : public UploadReader {
 public:
  explicit SealedReader(const SealedUpload& s)
      : s_(s), plain_(kChunksPerBatch * kEncryptedChunkBytes), staged_(kSealedChunk) {
    std::memcpy(state_.get(), s.start_.get(), sizeof(State));
  }

  void read(char* out, size_t n) override {
    if (pos_ + n > s_.size_) throw Error(ExitCode::kInternal, "read past the end of the encrypted upload of '" + s_.plain_.string() + "'");
    auto* o = reinterpret_cast<unsigned char*>(out);
    while (n > 0) {
      size_t take;
      if (pos_ < s_.header_.size()) {
        take = std::min(n, size_t(s_.header_.size() - pos_));
        std::memcpy(o, s_.header_.data() + pos_, take);
      } else if (at_ < staged_n_) {  // the rest of a chunk that did not fit in the caller's last buffer
        take = std::min(n, staged_n_ - at_);
        std::memcpy(o, staged_.data() + at_, take);
        at_ += take;
      } else if (size_t whole = whole_chunks_fitting(n)) {
        take = seal(whole, o);  // straight into the caller's buffer: no copy of the sealed bytes
      } else {                  // less room than the next chunk: sealed aside, given out in pieces
        staged_n_ = seal(1, staged_.data());
        at_ = 0;
        continue;
      }
      o += take;
      pos_ += take;
      n -= take;
    }
  }

 private:
  size_t sealed_size(uint64_t chunk) const {
    const uint64_t offset = chunk * kEncryptedChunkBytes;
    return size_t(std::min<uint64_t>(kEncryptedChunkBytes, s_.plain_size_ - std::min(s_.plain_size_, offset))) + kAbytes;
  }
  // How many of the next chunks (at most kChunksPerBatch) fit whole in `room` bytes.
  size_t whole_chunks_fitting(size_t room) const {
    size_t count = 0;
    for (uint64_t c = next_chunk_; c < s_.chunks_ && count < kChunksPerBatch; ++c, ++count) {
      const size_t need = sealed_size(c);
      if (need > room) break;
      room -= need;
    }
    return count;
  }
  // The next `count` chunks read with one pread, hashed and encrypted into `out`; returns the bytes written.
  // The whole plaintext is checked before the final chunk is sealed, so a changed file never gives out the
  // object's last bytes (the upload then stops short and S3 stores nothing).
  size_t seal(size_t count, unsigned char* out) {
    const uint64_t first = next_chunk_;
    const uint64_t offset = first * kEncryptedChunkBytes;
    const size_t plain_n = size_t(std::min<uint64_t>(count * kEncryptedChunkBytes, s_.plain_size_ - offset));
    pread_exactly(s_.fd_, plain_.data(), plain_n, offset, s_.plain_);
    if (!s_.plain_sha256_.empty()) plain_hash_.update(plain_.data(), plain_n);
    next_chunk_ = first + count;
    if (next_chunk_ == s_.chunks_) check_whole_plaintext();
    size_t written = 0;
    for (uint64_t i = 0; i < count; ++i) {
      const size_t from = size_t(i * kEncryptedChunkBytes);
      const size_t len = std::min(kEncryptedChunkBytes, plain_n - std::min(plain_n, from));
      const bool final = first + i + 1 == s_.chunks_;
      written += pusher_.push(*state_.get(), out + written, plain_.data() + from, len,
                              final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    }
    return written;
  }

  void check_whole_plaintext() {
    if (!s_.plain_sha256_.empty()) {
      const std::string read = plain_hash_.hex_digest();
      if (read != s_.plain_sha256_) throw_changed_since_recorded(s_.plain_, s_.plain_sha256_, read, "the encrypted upload");
    }
    struct stat now {};
    if (::fstat(s_.fd_, &now) != 0 || uint64_t(now.st_size) != s_.plain_size_)
      throw Error(ExitCode::kBadInput, "file '" + s_.plain_.string() + "' changed size while it was being encrypted and uploaded; nothing was stored");
  }

  const SealedUpload& s_;
  GuardedState state_;
  SecretstreamPusher pusher_;  // libsodium's push through OpenSSL's ChaCha20 and Poly1305 (3x faster here)
  std::vector<unsigned char> plain_, staged_;
  Sha256 plain_hash_;
  uint64_t pos_ = 0;         // object bytes given out
  uint64_t next_chunk_ = 0;  // the first chunk not yet sealed
  size_t staged_n_ = 0, at_ = 0;  // staged_[0, staged_n_) holds one sealed chunk; at_ is the next byte to give out
};

std::unique_ptr<UploadReader> SealedUpload::open() const { return std::make_unique<SealedReader>(*this); }

}  // namespace

std::unique_ptr<UploadSource> KeyRing::seal_for_upload(const fs::path& plain, const std::string& plain_sha256) const {
  SecretKey data_key;
  std::string header = begin_object(data_key);
  return std::make_unique<SealedUpload>(std::move(header), data_key, plain, plain_sha256);
}

}  // namespace facecrowd
