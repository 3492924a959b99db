// Bringing a backup back from a target (the first half of disaster recovery; app/recovery/offsite_restore.h does
// the rest): the archive, its manifest copy and the oplog slices that continue it are downloaded into a
// local backup directory, each checked against the index (size, sha256) and decrypted, so that the
// ordinary restore (backup/restore.h) and point-in-time replay run on them unchanged. The ledger comes
// back as one text, every chunk checked and the chunks proven contiguous.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backup/offsite/offsite_store.h"
#include "backup/point_in_time.h"

namespace facecrowd {

struct FetchedBackup {
  fs::path archive;                // local path, in the backup directory
  RemoteArchive remote;
  OplogWindow window;              // start .. reach over the downloaded slices
  std::vector<fs::path> slices;    // downloaded (or already present) slice files
  uint64_t bytes = 0;              // stored bytes downloaded
  bool archive_was_local = false;  // the backup directory already held the archive: it was not downloaded
  // The key of a slice (or its record) the index lists but the target no longer holds: `window` and `slices`
  // stop before it. Empty when none.
  std::string missing_slice;
};

// The archive `which` names in `index`: "latest" (the newest archive of `db`; with `until`, the newest that
// starts before it) or an archive name. Nothing is downloaded. Error(kNotFound) naming the target and what
// is there when no archive fits; Error(kUsage) when `until` is before every archive of `db` (naming the
// oldest recovery point the target holds) or before the named archive.
const RemoteArchive& choose_remote_archive(const RemoteIndex& index, const std::string& which, const std::string& db,
                                           std::optional<OplogTimestamp> until, const std::string& url);
// The window the index's slices give `archive` (plan_oplog_window over them, as files of `backup_dir`),
// before anything is downloaded: how far a restore of it can reach if the target holds every slice it lists.
OplogWindow planned_remote_window(const RemoteIndex& index, const RemoteArchive& archive, const fs::path& backup_dir);

// Downloads the archive choose_remote_archive picks. Only the slices needed up to `until` are fetched (all
// that chain on without it).
FetchedBackup fetch_backup(OffsiteStore& store, const RemoteIndex& index, const std::string& which, const std::string& db,
                           std::optional<OplogTimestamp> until, const KeyRing* keys, const fs::path& backup_dir);

// Refuses (kBadInput, naming the object) an archive whose own manifest `m` (read from the downloaded object,
// after decryption) is not the backup the index names: another database, another creation time than the
// name says, or other oplog positions than the index recorded. Objects are encrypted without their name
// in the ciphertext, so this is what stops another backup's object (same key) copied over this one from
// being restored under this one's name.
void require_archive_is(const RemoteArchive& remote, const Manifest& m, const std::string& object_name);

// The target's whole erasure ledger. Error(kBadInput) naming the chunk when one is missing, overlaps,
// or does not match its recorded sha256, or when the whole does not match the index.
std::string fetch_ledger(OffsiteStore& store, const RemoteIndex& index, const KeyRing* keys);

// Erasure ledger objects the target holds beyond its index's ledger (ledger/ledger-<offset>.jsonl with an
// offset at or past the index's ledger bytes, or a chunk the index does not name): left by a push that was
// interrupted between uploading the chunk and writing the index, or by an index rolled back or edited to drop
// erasures. A restore may add erasures, never drop one: those that continue the ledger without a gap, decrypt
// (on an encrypted target) and hold whole erasure lines come back in `text`, for the restore to apply too; the
// others are named in `unusable` with the reason.
struct UnindexedLedger {
  std::string text;                  // appended to the index's ledger, in offset order
  std::vector<std::string> applied;  // object URLs whose lines are in `text`
  std::vector<std::string> unusable; // "<object URL>: <why>"
};
UnindexedLedger fetch_unindexed_ledger(OffsiteStore& store, const RemoteIndex& index, const KeyRing* keys);

}  // namespace facecrowd
