// The GridFS-style file store: images and density maps kept as `fs.files` (one document a file) and
// `fs.chunks` (the bytes, 261120 per chunk), as MongoDB's GridFS lays them out, so archives look like a
// mongodump of the old system.
//
//   fs.files  {_id: ObjectId, filename, length, chunkSize: 261120, uploadDate, sha256, contentType,
//              metadata: {kind: "facial_image"|"group_photo"|"crowd_image"|"density_map"}}
//   fs.chunks {_id: ObjectId, files_id: ObjectId, n: int32, data: binary}
//
// Contracts:
// - Files are content-addressed and immutable (DESIGN invariant 4): put() of bytes whose sha256 is already
//   stored returns the existing file's id and writes nothing.
// - Every write goes through Database::WriteTransaction, so each files/chunks insert and delete has its
//   oplog entry in the caller's transaction (DESIGN invariant 1).
// - get() never returns damaged bytes: it checks chunk numbering, sizes, length and sha256.
// - A file is deleted only when nothing points to it; file_reference_fields() is the one list of the
//   document fields that point to files, shared by retention and erasure.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/utc_time.h"
#include "store/database.h"

namespace facecrowd {

inline constexpr int32_t kFileChunkSize = 261120;  // GridFS's default (255 KiB)

enum class FileKind { kFacialImage, kGroupPhoto, kCrowdImage, kDensityMap };

std::string to_string(FileKind kind);  // "facial_image", …
// Error(kBadInput) naming the known kinds when `text` is not one.
FileKind parse_file_kind(const std::string& text);

struct NewFile {
  std::string filename;
  std::string content_type;  // e.g. "image/jpeg"
  FileKind kind = FileKind::kFacialImage;
  std::optional<UnixMillis> upload_date;  // default: now
  std::optional<std::string> id;          // 24 hex characters; default: a new ObjectId (demo-data passes
                                          // ids derived from its seed so its output is reproducible)
};

// Stores `bytes` and returns the file's id (24 hex characters); an existing file with the same sha256 is
// reused and its id returned. Error(kBadInput) for an id that is not an ObjectId.
std::string put_file(Database::WriteTransaction& tx, std::string_view bytes, const NewFile& file);
std::string put_file(Database::WriteTransaction& tx, std::string_view bytes, const std::string& filename,
                     const std::string& content_type, FileKind kind);

// The id of the stored file with this sha256 (hex), if any.
std::optional<std::string> find_file_by_sha256(Database::WriteTransaction& tx, const std::string& sha256_hex);

// The file's bytes. Error(kNotFound) when there is no such file; Error(kBadInput) naming the file and the
// defect when a chunk is missing, misnumbered, the wrong size, or the bytes do not match length/sha256.
std::string get_file(Database::ReadTransaction& tx, const std::string& id);

// The fs.files document, or nullopt.
std::optional<Document> file_info(Database::ReadTransaction& tx, const std::string& id);

// Removes the file and its chunks (each delete with its oplog entry); false when there was no such file.
// The caller is responsible for having checked that nothing points to it.
bool remove_file(Database::WriteTransaction& tx, const std::string& id);

// A document field that points to files. `path` is dotted; arrays met on the way are walked, so
// "embeddings.sourceFileId" reaches every embedding's sourceFileId and "facialImageIds" every element.
struct FileReferenceField {
  std::string collection;
  std::string path;
};
// attendances.photoFileId, attendances.annotatedFileId, attendances.faces.cropFileId (unknown faces),
// crowdcounts.imageFileId, crowdcounts.densityMapFileId, crowdcounts.heatmapFileId,
// faceprofiles.embeddings.sourceFileId, faceprofiles.facialImageIds.
const std::vector<FileReferenceField>& file_reference_fields();
// The collections that appear in file_reference_fields(), each once.
std::vector<std::string> file_referencing_collections();

// Calls `fn` with each file id (ObjectId as hex; a string holding 24 hex characters is accepted too) that
// `doc` of `collection` points to; null and missing fields are skipped.
void for_each_file_reference(const std::string& collection, const bson_t* doc,
                             const std::function<void(const std::string& file_id)>& fn);

}  // namespace facecrowd
