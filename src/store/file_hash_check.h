// Proves that stored files' bytes still hash to the sha256 their fs.files document records (DESIGN
// invariant 8), while fs.files and fs.chunks documents stream past (a backup writing them, a scrub
// reading them), so the check costs no second read of the chunks in the common case.
//
// Feed every fs.files document first, then every fs.chunks document (the order backups write them, see
// schema.h). Chunks that arrive in order per file (n = 0, 1, 2 …, any interleaving of files) are hashed
// as they pass; a file whose chunks arrive out of order is re-read at finish() with get_file(), which
// checks numbering, sizes, length and sha256 itself. finish() reports every damaged file: wrong sha256,
// wrong length, a missing, extra or misnumbered chunk. Chunks of no file (orphans) are listed apart:
// they waste space but no restore or read depends on them.
// Memory: one hash state per file whose chunks are still arriving, plus each file's expected length and
// digest (about 150 bytes a file).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "store/database.h"

namespace facecrowd {

class FileHashCheck {
 public:
  FileHashCheck();
  ~FileHashCheck();
  // An fs.files document (raw BSON).
  void add_file(const uint8_t* doc, size_t size);
  // An fs.chunks document (raw BSON).
  void add_chunk(const uint8_t* doc, size_t size);
  // The damaged files, one line each ("file '<id>' (<name>): sha256 does not match …"). `txn` re-reads
  // the files whose chunks came out of order; without it they are reported as unverifiable damage.
  std::vector<std::string> finish(Database::ReadTransaction* txn);
  const std::vector<std::string>& orphan_chunks() const { return orphans_; }
  int64_t files() const { return int64_t(files_.size()); }
  uint64_t bytes_hashed() const { return bytes_hashed_; }

 private:
  struct File {
    std::string name;
    std::string sha256;
    int64_t length = -1, chunk_size = -1;
    int64_t next_n = 0;        // the chunk expected next
    int64_t received = 0;      // bytes hashed so far
    bool reread = false;       // chunks arrived out of order: re-read at finish()
    std::unique_ptr<Sha256> hash;
  };
  std::map<std::string, File> files_;
  std::vector<std::string> problems_, orphans_;
  uint64_t bytes_hashed_ = 0;
};

}  // namespace facecrowd
