// Decompresses a backup archive's gzip layer strictly, with zlib:
//
//   - the file starts with the gzip magic (1f 8b), else "not a gzip file";
//   - the deflate data decodes, and the trailer's CRC-32 and ISIZE match what was decompressed;
//   - it ends exactly where the one gzip member ends: a file cut short anywhere (an archive still being
//     written, a partial copy, a trailer missing its last bytes) and any byte after the trailer (garbage
//     appended, two archives concatenated) are refused.
//
// libarchive's gzip filter checks neither the trailer nor what follows it, and stops at the tar
// end-of-archive marker, so those damages used to pass `verify` as "gzip intact". Reading through this
// class instead makes every one of them an Error(kBadInput) naming the file, the compressed byte offset
// and what is wrong; Error(kNotFound)/kIo when the file cannot be opened or read.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace facecrowd {

class StrictGzipReader {
 public:
  explicit StrictGzipReader(const std::filesystem::path& file);
  ~StrictGzipReader();
  StrictGzipReader(const StrictGzipReader&) = delete;
  StrictGzipReader& operator=(const StrictGzipReader&) = delete;

  // Decompresses up to `size` bytes into `out`. Returns 0 only at the end of the stream, after the
  // trailer was checked and nothing was found after it.
  size_t read(char* out, size_t size);

  uint64_t decompressed_bytes() const { return out_total_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  [[noreturn]] void fail(const std::string& why) const;
  bool refill();           // false at the end of the file
  void require_nothing_after_trailer();
  uint64_t compressed_offset() const { return in_total_ - stream_.avail_in; }

  std::filesystem::path file_;
  int fd_ = -1;
  z_stream stream_{};
  bool stream_ready_ = false;
  bool ended_ = false;
  bool file_eof_ = false;
  std::vector<unsigned char> in_;
  uint64_t in_total_ = 0;   // bytes read from the file
  uint64_t out_total_ = 0;  // bytes decompressed
};

}  // namespace facecrowd
