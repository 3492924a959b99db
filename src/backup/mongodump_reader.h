// Reads a plain mongodump — what `mongodump --db DB --out DIR` writes, with or without --gzip, usually
// packed afterwards with `tar -czf backup_DB_YYYYMMDD_HHMMSS.tar.gz` — into a private staging folder:
// one decompressed, framing-checked `<db>/<collection>.bson` per collection. `facecrowd import` then maps
// the staged collections (staged_bson_reader.h) in the order it needs (GridFS before the profiles that
// point into it), which a tar stream read from standard input could not offer. The --archive format's
// parser is mongodump_archive_format.h; the byte sources, mongodump_byte_source.h.
//
// Input shapes (stage_mongodump's `input`):
//   "-"            a tar stream on standard input, compressed (gzip, xz, bzip2, zstd) or not
//   a folder       DIR as mongodump wrote it (DIR/<db>/…) or one of its db folders; walked 4 levels deep
//   a file         a tar archive, compressed or not; a gzip layer is read strictly (backup/strict_gzip_reader.h)
//   a file or "-"  the single-file `mongodump --archive` format, plain or --gzip, read from its public
//                  specification (mongo-tools' archive format 0.1): magic 0x8199e26d, a header, collection
//                  metadata, then namespace segments in any interleaving, each namespace closed by an EOF
//                  header whose CRC-64 (ECMA, as Go's hash/crc64) of the namespace's documents is checked
//
// Members it understands, wherever they sit (the db is the folder holding them):
//   <db>/<collection>.bson, <db>/<collection>.bson.gz            the documents
//   <db>/<collection>.metadata.json, …metadata.json.gz           options and indexes (parsed, kept)
// Everything else (oplog.bson of --oplog, prelude.json, README files) is listed in `ignored`.
//
// Checks, each an Error(kBadInput) naming the input, the member and the reason, nothing staged kept:
//   - a document longer than MongoDB's 16 MiB limit (16777216 bytes) or shorter than 5 bytes;
//   - a .bson that ends inside a document (truncated), a document that does not decode (bson_validate);
//   - a .gz member that is not gzip, is truncated, or has bytes after its end;
//   - a metadata.json over 16 MiB or not JSON; an unsafe member name (absolute, "..", links, devices);
//   - an --archive stream that is truncated (a namespace without its EOF header), whose CRC-64 does not
//     match, whose format version is not 0.1, or that continues a namespace after its EOF header.
// Error(kNotFound) when the input does not exist; Error(kIo) when staging cannot be written (disk full).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace facecrowd {

namespace fs = std::filesystem;

inline constexpr uint32_t kMongoMaxDocumentBytes = 16 * 1024 * 1024;  // MongoDB's BSON document limit
inline constexpr uint32_t kMongodumpArchiveMagic = 0x8199e26d;        // `mongodump --archive`, little-endian

struct DumpCollection {
  std::string db, name;      // "face-recognition", "faceprofiles"
  std::string member;        // the member it came from ("backup_…/face-recognition/users.bson.gz")
  fs::path staged;           // the decompressed documents in the staging folder
  uint64_t bytes = 0;        // decompressed
  int64_t documents = 0;
  bool gzipped = false;
  std::optional<nlohmann::json> metadata;  // its .metadata.json, when present
};

struct MongoDump {
  std::string source;        // the input as named ("-" reads as "standard input")
  std::string shape;         // "archive", "folder", "stdin"
  std::vector<DumpCollection> collections;  // in reading order
  std::set<std::string> databases;          // db folders that hold at least one .bson
  std::vector<std::string> ignored;         // members that are not collections or metadata
  uint64_t bytes = 0;                       // decompressed bytes of every .bson

  const DumpCollection* find(const std::string& db, const std::string& name) const;
};

// Stages `input` into `staging` (an existing, empty, private folder the caller removes afterwards).
MongoDump stage_mongodump(const std::string& input, const fs::path& staging);

}  // namespace facecrowd
