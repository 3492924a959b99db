// Where the mongodump reader takes its bytes from: a descriptor (a file or standard input), a file read
// through the strict gzip reader, bytes already peeked followed by the rest of a source, or exactly one
// gzip stream inflated from another source. Each read() returns 0 only at the end; errors are Error(kIo)
// for a failed read and Error(kBadInput) naming the input for a truncated or corrupt gzip stream.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "backup/strict_gzip_reader.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {

// Bytes for libarchive: a strict gzip reader over a file, or a plain descriptor; with the first bytes
// peeked so the --archive format can be recognised before libarchive sees them.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual size_t read(char* out, size_t size) = 0;
};

class FdSource : public ByteSource {
 public:
  FdSource(int fd, std::string label) : fd_(fd), label_(std::move(label)) {}
  size_t read(char* out, size_t size) override {
    for (;;) {
      ssize_t n = ::read(fd_, out, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_io_error("cannot read", label_, errno);
      return size_t(n);
    }
  }

 private:
  int fd_;
  std::string label_;
};

class GzipFileSource : public ByteSource {
 public:
  explicit GzipFileSource(const fs::path& file) : gzip_(file) {}
  size_t read(char* out, size_t size) override { return gzip_.read(out, size); }

 private:
  StrictGzipReader gzip_;
};

// Hands out `prefix` (bytes already peeked from `inner`), then the rest of `inner`.
class PrefixedSource : public ByteSource {
 public:
  PrefixedSource(std::string prefix, ByteSource& inner) : prefix_(std::move(prefix)), inner_(inner) {}
  size_t read(char* out, size_t size) override {
    if (pos_ < prefix_.size()) {
      size_t n = std::min(size, prefix_.size() - pos_);
      std::memcpy(out, prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return inner_.read(out, size);
  }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  ByteSource& inner_;
};

// Exactly one gzip stream read from `inner` (standard input), nothing after it.
class GunzipSource : public ByteSource {
 public:
  static constexpr size_t kBufferBytes = 1 << 20;
  GunzipSource(ByteSource& inner, std::string label) : inner_(inner), label_(std::move(label)), in_(kBufferBytes) {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) throw Error(ExitCode::kInternal, "zlib could not be initialised");
  }
  ~GunzipSource() override { inflateEnd(&z_); }
  size_t read(char* out, size_t size) override {
    if (ended_) return 0;
    z_.next_out = reinterpret_cast<unsigned char*>(out);
    z_.avail_out = uInt(size);
    while (z_.avail_out == size) {
      if (z_.avail_in == 0) {
        size_t n = inner_.read(reinterpret_cast<char*>(in_.data()), in_.size());
        if (n == 0) throw Error(ExitCode::kBadInput, "'" + label_ + "': truncated gzip stream (it ends before the gzip trailer)");
        z_.next_in = in_.data();
        z_.avail_in = uInt(n);
      }
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        ended_ = true;
        char extra;
        if (z_.avail_in > 0 || inner_.read(&extra, 1) > 0)
          throw Error(ExitCode::kBadInput, "'" + label_ + "': bytes after the end of the gzip stream (corrupt)");
        break;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR)
        throw Error(ExitCode::kBadInput, "'" + label_ + "': not a valid gzip stream (" + std::string(z_.msg ? z_.msg : "zlib error") + ")");
    }
    return size - z_.avail_out;
  }

 private:
  ByteSource& inner_;
  std::string label_;
  std::vector<unsigned char> in_;
  z_stream z_{};
  bool ended_ = false;
};

}  // namespace facecrowd
