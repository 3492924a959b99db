// Reads a backup in any of its three shapes and hands it on as a sequence of members, each streamed in
// bounded chunks (a multi-GB archive is never held in memory):
//
//   kArchive   backup_<db>_YYYYMMDD_HHMMSS.tar.gz, members in archive order: the gzip layer by
//              StrictGzipReader (CRC-32 and length checked, exactly one gzip stream, nothing after it), the
//              tar layer by libarchive. Every member must sit under one top folder `backup_…/`; absolute
//              names, `..`, empty components, links and devices are refused, manifest.json must be the last
//              member, and only zero padding may follow the tar end-of-archive marker.
//   kFolder    the same layout extracted (`tar -xzf`): manifest.json first when present, then oplog.bson,
//              then `<db>/*` in name order. Only regular files; anything else is refused.
//   kBsonFile  one `<collection>.bson`, presented as the member `<db>/<collection>.bson`.
//
// Member paths given to the sink are relative to the top folder ("face-recognition/users.bson").
// Errors: Error(kBadInput) naming the backup, the member and the reason (truncated, corrupt, unsafe name,
// checksum of the gzip layer), never a crash: every libarchive error path has a message even when
// libarchive gives none; Error(kNotFound) when the input does not exist.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace facecrowd {

namespace fs = std::filesystem;

enum class BackupShape { kArchive, kFolder, kBsonFile };

// By what `input` is: a directory → kFolder, a name ending in ".bson" → kBsonFile, else kArchive.
BackupShape detect_backup_shape(const fs::path& input);
const char* shape_name(BackupShape shape);  // "archive", "folder", "bson file"

// Receives the members of a backup. begin/end bracket each member; data() may be called any number of
// times (chunks of at most 1 MiB) between them. An exception thrown by the sink stops the reading.
class MemberSink {
 public:
  virtual ~MemberSink() = default;
  virtual void begin_member(const std::string& path, uint64_t size) = 0;
  virtual void member_data(const char* data, size_t size) = 0;
  virtual void end_member() = 0;
};

struct ReadSummary {
  std::string top_folder;  // "backup_face-recognition_20240103_010000" (archive, folder); empty for a .bson
  int64_t members = 0;     // regular members handed to the sink
  uint64_t bytes = 0;      // their uncompressed bytes
};

ReadSummary read_archive(const fs::path& archive, MemberSink& sink);
ReadSummary read_folder(const fs::path& folder, MemberSink& sink);
// `db` and `collection` name the member: "<db>/<collection>.bson".
ReadSummary read_bson_file(const fs::path& file, const std::string& db, const std::string& collection,
                           MemberSink& sink);

// Refuses (Error kBadInput naming `where`) a member path that is absolute, has "..", "." or empty
// components, or a backslash.
void require_safe_member_path(const std::string& path, const std::string& where);

}  // namespace facecrowd
