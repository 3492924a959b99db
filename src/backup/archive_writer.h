// Writes a .tar.gz (libarchive: pax-restricted tar, gzip at zlib's default level like `tar -czf`) into
// one file, member by member, streaming. A member's size is declared before its bytes (tar needs it in
// the header), then the bytes arrive in any number of pieces; the writer hashes (sha256) and counts
// them as they pass and refuses a member that gets a different number of bytes than declared.
//
// Errors: Error(kIo) naming the file and the reason (ENOSPC, EROFS, EACCES …) when the file system fails;
// Error(kInternal) on a misuse (size mismatch, member not ended). The writer never renames or deletes its
// file: callers write under a temporary name and rename after finish() (see backup_job.h). Members carry
// mode 0600 (private when extracted), owner 0:0 and `mtime`; no directory entries are written (extractors create folders).
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backup/manifest.h"
#include "core/files.h"
#include "core/sha256.h"
#include "core/utc_time.h"

struct archive;

namespace facecrowd {

class ArchiveWriter {
 public:
  // Creates (truncating) `path`.
  ArchiveWriter(const std::filesystem::path& path, UnixMillis mtime);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  void begin_member(const std::string& member_path, uint64_t size);
  void write(const void* data, size_t size);
  void write(std::string_view data) { write(data.data(), data.size()); }
  // Ends the member; returns its path, sha256, bytes and `documents` (-1 for non-BSON members).
  ManifestFile end_member(int64_t documents = -1);
  // begin + write + end for a member held in memory.
  ManifestFile add_member(const std::string& member_path, std::string_view content, int64_t documents = -1);

  // Ends the archive, then fsyncs and closes the file. The file is complete only after this returns.
  void finish();

  const std::filesystem::path& path() const { return file_.path(); }
  uint64_t compressed_bytes() const { return file_.bytes_written(); }  // written to the file so far
  // The sha256 (hex) of the whole file, hashed as it was written; after finish(), once.
  std::string file_sha256() { return file_hash_.hex_digest(); }
  uint64_t input_bytes() const { return input_bytes_; }                // member bytes accepted so far

 private:
  static long on_write(struct archive*, void* self, const void* buffer, size_t length);
  void flush_buffer();
  void pass_to_archive(const char* data, size_t size);
  [[noreturn]] void fail(const std::string& doing);

  OutputFile file_;
  struct archive* archive_ = nullptr;
  UnixMillis mtime_;
  std::exception_ptr write_error_;  // an Error thrown by the file, carried across libarchive's C frames
  std::vector<char> buffer_;        // coalesces small pieces (one BSON document) into large tar writes
  size_t buffered_ = 0;
  bool in_member_ = false;
  bool abandoned_ = false;
  std::string member_path_;
  uint64_t member_size_ = 0, member_written_ = 0, input_bytes_ = 0;
  std::unique_ptr<Sha256> member_hash_;
  Sha256 file_hash_;  // of the compressed bytes, for the upload (it need not read the file again)
};

// Writes a whole archive of in-memory members (tests, small tools); not durable: no rename, one fsync.
struct ArchiveMember {
  std::string path;
  std::string content;
};
std::vector<ManifestFile> write_archive(const std::filesystem::path& path, const std::vector<ArchiveMember>& members,
                                        UnixMillis mtime);

}  // namespace facecrowd
