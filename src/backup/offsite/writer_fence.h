// One writer per backup target (issue 11). Two machines pushing to one target (a restored stand-by and the
// old server, both configured with it) break it: on S3 their objects of the same name (slices, segments,
// index.json) overwrite each other, on a directory target index.json and its .sha256 race, and one machine's
// retention deletes objects the other's index still names, so every restore is then refused.
//
// The fence:
//   - each backup directory gets a writer identity the first time it pushes (or takes over):
//     <backup dir>/offsite-writer.json {"id": 32 hex digits (16 random bytes), "host", "created"}, written
//     durably (core/files.h). Only the id counts; host and created are for people. It never leaves the
//     machine: a restore from the bucket does not adopt it, so a restored stand-by is a new writer;
//   - the target's index.json names its writer (remote_index.h's IndexWriter), inside what index_auth.h's tag
//     covers on a keyed target; an index with no writer (a new target, or one written by a facecrowd before
//     the fence) is claimed by the next push;
//   - a push refuses (Error kConflict, before it uploads or deletes anything, and before it writes the
//     identity file) a target whose index names another writer, naming the target, the other writer's host,
//     id and since, why, and the remedy: `facecrowd target take-over` (target_take_over.h), which makes this
//     backup directory the writer, so the old machine's pushes are refused from then on;
//   - a push that sends an archive (minutes long) reads index.json again just before each time it writes it
//     and refuses, without writing it, when another writer or a newer sequence is there (a take-over or
//     another machine's write during the push: writing would put back the old writer and drop what that
//     write recorded). A push that sends only slices (the minute's ship, well under a second) does not, so
//     it adds no request: such a push that read the index just before a take-over can still write it once.
//     Conditional PUTs (If-Match on index.json's ETag, on AWS S3 since 2024) would close that window for
//     every push; s3rver, which the tests run against, does not support them.
// What stays open: a backup directory copied whole to another machine (a disk image) carries the same id.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "backup/offsite/remote_index.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct WriterIdentity {
  static constexpr const char* kFile = "offsite-writer.json";
  static constexpr uintmax_t kMaxBytes = 64 * 1024;  // what is written is ~100 bytes; anything larger is refused
  std::string id;       // 32 hex digits
  std::string host;
  std::string created;  // ISO 8601
  nlohmann::json to_json() const;
};

// The backup directory's identity; nullopt when it has none yet. Error(kBadInput) naming the file when it
// is empty, not JSON, its id is not 32 hex digits, it is not a regular file (a symbolic link included: it
// would make two backup directories one writer) or larger than kMaxBytes (with the remedy: delete it and take over);
// Error(kIo) when it cannot be read.
std::optional<WriterIdentity> read_writer_identity(const fs::path& backup_dir);
// The identity, made (and written durably) when there is none yet.
WriterIdentity writer_identity(const fs::path& backup_dir);

// Whether the index's writer is `me` (false when the index names none, or `me` is null).
bool is_writer(const RemoteIndex& index, const std::optional<WriterIdentity>& me);
// "host H, writer id I, the writer since S".
std::string describe_writer(const IndexWriter& writer);
// `facecrowd target take-over --target <url>`.
std::string take_over_command(const std::string& target_url);
// One sentence for listings and reports: who writes the target, and whether that is `me` (the caller's
// backup directory; nullopt: none, or not known), with the take-over command when it is not.
std::string writer_status(const RemoteIndex& index, const std::optional<WriterIdentity>& me, const std::string& target_url);
// read_writer_identity, nullopt also when the file is damaged (for reports, which must not fail on it).
std::optional<WriterIdentity> writer_identity_if_readable(const fs::path& backup_dir);
// Error(kConflict) when `index` names a writer that is not `backup_dir`'s identity (see above; none yet, or
// its file deleted, is not the writer either: the message names the file); `target_url` names the target.
// read_writer_identity's errors when the identity file is damaged.
void refuse_other_writer(const RemoteIndex& index, const fs::path& backup_dir, const std::string& target_url);
// For a push that sends an archive (above): Error(kConflict) when index.json as it is now (`now`) is not the
// one this push last read or wrote: none was expected (`expected_sequence` nullopt) and one is there, or
// its sequence is not `expected_sequence` (raised by every write), naming the writer it names now.
void refuse_index_written_meanwhile(const std::optional<RemoteIndex>& now, std::optional<uint64_t> expected_sequence,
                                    const std::string& target_url);
// The IndexWriter that `me` records when it claims or takes over a target now.
IndexWriter writer_entry(const WriterIdentity& me);

}  // namespace facecrowd
