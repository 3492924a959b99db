// Reads back a collection that stage_mongodump (mongodump_reader.h) staged: document by document with
// bounded reads (read-ahead windows of at least 1 MiB), or one document at a known offset. The file was
// framed and checked when staged, so a damaged one is Error(kInternal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace facecrowd {

namespace fs = std::filesystem;

// Walks a staged .bson file document by document (bounded reads; the file was checked when staged).
class StagedBsonReader {
 public:
  explicit StagedBsonReader(const fs::path& file);
  ~StagedBsonReader();
  StagedBsonReader(const StagedBsonReader&) = delete;
  StagedBsonReader& operator=(const StagedBsonReader&) = delete;
  // The next document's bytes (valid until the next call) and its byte offset; false at the end.
  bool next(const uint8_t** doc, size_t* size, uint64_t* offset = nullptr);
  // Reads the document at `offset` (random access, e.g. a GridFS chunk) into `out`.
  void read_at(uint64_t offset, std::string& out);

 private:
  fs::path file_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::string window_;         // bytes of the file from window_start_ (read ahead)
  uint64_t window_start_ = 0;
};

}  // namespace facecrowd
