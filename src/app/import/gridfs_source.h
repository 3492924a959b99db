// The old system's GridFS files, read from a staged dump (backup/mongodump_reader.h): `fs.files` (one
// document a file: _id, length, chunkSize, md5, filename, contentType, uploadDate) and `fs.chunks`
// ({files_id, n, data}). The chunks are indexed by (files_id, n) → offset in the staged file, so one
// file's bytes are assembled at a time, however large the store.
//
// assemble() checks what GridFS promises: chunks 0..k-1 present once each, every chunk but the last of
// chunkSize bytes, the total equal to `length`, and the md5 (when the document has one) equal to the
// bytes' md5; any defect is returned as a reason, never thrown, so the import refuses that one file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backup/mongodump_reader.h"
#include "backup/staged_bson_reader.h"

namespace facecrowd {

struct GridFsFile {
  std::string id;  // ObjectId hex (or the store key of another _id type)
  int64_t length = -1;
  int64_t chunk_size = 0;
  std::string md5, filename, content_type;
  std::optional<int64_t> upload_date;
  std::optional<std::string> metadata_kind;  // metadata.kind, when the file says what it is
  std::string refused;  // why this fs.files document is unusable ("" when it is fine)
};

struct AssembledFile {
  std::string bytes;
  bool md5_checked = false;
  std::string refused;  // "" when the bytes are good
};

class GridFsSource {
 public:
  // Either collection may be null (a dump without GridFS).
  GridFsSource(const DumpCollection* files, const DumpCollection* chunks);

  const std::vector<GridFsFile>& files() const { return files_; }
  const GridFsFile* file(const std::string& id) const;
  AssembledFile assemble(const GridFsFile& file) const;
  // Chunks whose files_id names no fs.files document, and chunks that are not {files_id, n, data}.
  int64_t orphan_chunks() const { return orphan_chunks_; }
  int64_t malformed_chunks() const { return malformed_chunks_; }
  int64_t chunks_of(const std::string& id) const;

 private:
  std::vector<GridFsFile> files_;
  std::map<std::string, size_t> by_id_;
  std::map<std::pair<std::string, int64_t>, std::vector<uint64_t>> chunks_;  // (files_id, n) -> offsets
  std::optional<fs::path> chunks_file_;
  int64_t orphan_chunks_ = 0, malformed_chunks_ = 0;
};

}  // namespace facecrowd
