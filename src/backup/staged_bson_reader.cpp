#include "backup/staged_bson_reader.h"

#include <bson/bson.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "backup/mongodump_reader.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {
constexpr size_t kReadAheadBytes = 1 << 20;
}  // namespace

StagedBsonReader::StagedBsonReader(const fs::path& file) : file_(file) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw_io_error("cannot open staged collection", file, errno);
}
StagedBsonReader::~StagedBsonReader() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {
void pread_exact(int fd, char* out, size_t size, uint64_t offset, const fs::path& file) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, out + got, size - got, off_t(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_io_error("cannot read staged collection", file, errno);
    if (n == 0) throw Error(ExitCode::kInternal, "staged collection '" + file.string() + "' ends early");
    got += size_t(n);
  }
}
}  // namespace

bool StagedBsonReader::next(const uint8_t** doc, size_t* size, uint64_t* offset) {
  // Reads ahead in windows of at least 1 MiB: one pread for many small documents.
  auto fill = [&](size_t need) {
    window_.resize(std::max<size_t>(kReadAheadBytes, need));
    size_t got = 0;
    while (got < window_.size()) {
      ssize_t n = ::pread(fd_, window_.data() + got, window_.size() - got, off_t(offset_ + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_io_error("cannot read staged collection", file_, errno);
      if (n == 0) break;
      got += size_t(n);
    }
    window_.resize(got);
    window_start_ = offset_;
  };
  auto available = [&] { return window_start_ + window_.size() - offset_; };
  if (offset_ < window_start_ || available() < 4) fill(4);
  if (available() == 0) return false;
  if (available() < 4) throw Error(ExitCode::kInternal, "staged collection '" + file_.string() + "' is damaged");
  uint32_t len;
  std::memcpy(&len, window_.data() + (offset_ - window_start_), 4);
  len = BSON_UINT32_FROM_LE(len);
  if (len < 5 || len > kMongoMaxDocumentBytes) throw Error(ExitCode::kInternal, "staged collection '" + file_.string() + "' is damaged");
  if (available() < len) fill(len);
  if (available() < len) throw Error(ExitCode::kInternal, "staged collection '" + file_.string() + "' ends early");
  if (offset) *offset = offset_;
  *doc = reinterpret_cast<const uint8_t*>(window_.data() + (offset_ - window_start_));
  *size = len;
  offset_ += len;
  return true;
}

void StagedBsonReader::read_at(uint64_t offset, std::string& out) {
  uint32_t len;
  pread_exact(fd_, reinterpret_cast<char*>(&len), 4, offset, file_);
  len = BSON_UINT32_FROM_LE(len);
  if (len < 5 || len > kMongoMaxDocumentBytes) throw Error(ExitCode::kInternal, "staged collection '" + file_.string() + "' is damaged");
  out.resize(len);
  pread_exact(fd_, out.data(), len, offset, file_);
}

}  // namespace facecrowd
