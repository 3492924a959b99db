#include "backup/strict_gzip_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace facecrowd {
namespace {

constexpr size_t kInputChunk = 1 << 20;

}  // namespace

StrictGzipReader::StrictGzipReader(const std::filesystem::path& file) : file_(file), in_(kInputChunk) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    if (errno == ENOENT) throw Error(ExitCode::kNotFound, "backup '" + file.string() + "' does not exist");
    throw_io_error("cannot open backup archive", file, errno);
  }
  // 15 + 16: a gzip wrapper only (not zlib, not raw deflate); zlib then checks CRC-32 and ISIZE itself.
  if (inflateInit2(&stream_, 15 + 16) != Z_OK) {
    ::close(fd_);
    throw Error(ExitCode::kInternal, "zlib could not start a gzip decoder for '" + file.string() + "'");
  }
  stream_ready_ = true;
  // A constructor that throws runs no destructor: the refusals below release the decoder and the
  // descriptor themselves (found by fuzzing: every refused non-gzip file leaked both).
  try {
    if (!refill() || stream_.avail_in < 2 || in_[0] != 0x1f || in_[1] != 0x8b)
      fail(in_total_ == 0 ? "the file is empty, not a .tar.gz"
                          : "not a gzip file (it does not start with the gzip signature 1f 8b)");
  } catch (...) {
    inflateEnd(&stream_);
    ::close(fd_);
    throw;
  }
}

StrictGzipReader::~StrictGzipReader() {
  if (stream_ready_) inflateEnd(&stream_);
  if (fd_ >= 0) ::close(fd_);
}

void StrictGzipReader::fail(const std::string& why) const {
  throw Error(ExitCode::kBadInput, "backup '" + file_.string() + "': gzip layer at compressed byte " +
                                       std::to_string(compressed_offset()) + ": " + why);
}

bool StrictGzipReader::refill() {
  if (file_eof_) return false;
  for (;;) {
    ssize_t n = ::read(fd_, in_.data(), in_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_io_error("cannot read backup archive", file_, errno);
    if (n == 0) {
      file_eof_ = true;
      return false;
    }
    stream_.next_in = in_.data();
    stream_.avail_in = uInt(n);
    in_total_ += uint64_t(n);
    return true;
  }
}

void StrictGzipReader::require_nothing_after_trailer() {
  uint64_t extra = stream_.avail_in;
  stream_.avail_in = 0;
  while (refill()) {
    extra += stream_.avail_in;
    stream_.avail_in = 0;
  }
  if (extra > 0)
    throw Error(ExitCode::kBadInput,
                "backup '" + file_.string() + "': " + std::to_string(extra) + " bytes follow the end of the gzip " +
                    "stream at compressed byte " + std::to_string(in_total_ - extra) +
                    " (garbage appended, or two archives concatenated); an archive is exactly one gzip stream");
}

size_t StrictGzipReader::read(char* out, size_t size) {
  if (ended_ || size == 0) return 0;
  stream_.next_out = reinterpret_cast<Bytef*>(out);
  stream_.avail_out = uInt(size);
  while (stream_.avail_out > 0) {
    if (stream_.avail_in == 0 && !refill())
      fail("truncated: the file ends inside the gzip stream, after " + std::to_string(out_total_ + (size - stream_.avail_out)) +
           " decompressed bytes (cut short, or still being written; a complete archive ends with the gzip "
           "CRC-32 and length)");
    int rc = inflate(&stream_, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      ended_ = true;
      require_nothing_after_trailer();
      break;
    }
    if (rc == Z_OK || (rc == Z_BUF_ERROR && stream_.avail_in == 0)) continue;  // needs more input
    std::string msg = stream_.msg ? stream_.msg : "error " + std::to_string(rc);
    if (msg == "incorrect data check") fail("CRC-32 mismatch: the trailer's checksum does not match the data");
    if (msg == "incorrect length check") fail("length mismatch: the trailer's ISIZE does not match the data");
    if (rc == Z_MEM_ERROR) throw Error(ExitCode::kIo, "out of memory decompressing '" + file_.string() + "'");
    fail("corrupt compressed data (" + msg + ")");
  }
  size_t produced = size - stream_.avail_out;
  out_total_ += produced;
  return produced;
}

}  // namespace facecrowd
