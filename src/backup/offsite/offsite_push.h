// Sends what the local backup directory holds to a backup target, so that a lost disk loses nothing
// (`facecrowd backup --target`, `facecrowd oplog ship --target`, and both from cron with a configured
// target):
//
//   0. the writer fence (writer_fence.h): a target whose index names another backup directory as its writer
//      is refused (Error kConflict) before anything is sent, deleted or written; an index naming none is
//      claimed (this backup directory becomes its writer); a push that sends an archive reads index.json
//      again before each write of it and refuses to write over one someone else wrote meanwhile;
//   1. every archive with its manifest copy, and every oplog slice with its record, that the target's index
//      lacks: the archives in one lane, the slices (then the ledger's chunk) in a second lane on a thread and
//      connection of its own, at the same time;
//   2. the erasure ledger's new bytes (whole lines only) as one more append-only object: the target's
//      ledger is the concatenation of its chunks, each recorded with offset, length and sha256, and the
//      index records the whole length and sha256. A local ledger that does not start with what the target
//      holds is a conflict (Error kConflict): it is never overwritten;
//   3. the index, rewritten: index.json and the slice segments whose entries changed (remote_index.h; the
//      segments of hours whose local slices the index already has, by their digest, are not even read);
//      a push that fails part-way still rewrites it with what went up whole, so the
//      next push sends only the rest;
//   4. remote retention (offsite_retention.h): the index is rewritten without the pruned objects first,
//      then they are deleted. Before it deletes anything, the archives it keeps are looked up in the target:
//      one the index names but the target lost leaves the index (and goes up again when the backup directory
//      still has it), so retention never deletes the last restorable archives in favour of a missing one.
// A target with no index that holds objects this backup directory lacks lost its index: Error kConflict,
// nothing uploaded (a new index would forget the backups only the target has, and its encryption).
// Objects go up encrypted when `keys` is given (and must be when the target's index says it is encrypted:
// target_config.h's keys_for_upload fails closed). Pushes are serialised by an flock on
// `<backup_dir>/offsite-push.lock` (a push waits for the one running; a push that fails or is refused leaves no
// lock file or backup directory it made: push_lock.h). A push first aborts the multipart uploads
// a killed push left (recorded under <backup_dir>/.offsite-uploads/), so their parts do not stay in the bucket.
#pragma once

#include <filesystem>
#include <memory>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backup/offsite/offsite_retention.h"
#include "backup/offsite/target_config.h"
#include "backup/targets/backup_target.h"

namespace facecrowd {

struct PushOptions {
  std::string db = "face-recognition";
  fs::path ledger_file;              // <data>/erasure-ledger.jsonl; empty: none
  RemoteRetention retention;
  bool prune = true;
  UnixMillis now = 0;                // the time retention counts days from; 0: the clock (tests set it)
  // sha256 of archives by file name, as their writer computed it (a backup that pushes its own new
  // archive): that archive is then read once on its way up instead of twice (BackupTarget::put). Archives
  // not named here use the sha256 their run recorded in the backup log (catalog.h), when there is one.
  std::map<std::string, std::string> archive_sha256;
};

struct PushResult {
  std::string target;
  std::vector<std::string> uploaded;  // object keys
  uint64_t bytes = 0;                 // stored bytes uploaded
  uint64_t ledger_bytes = 0;          // new ledger bytes uploaded
  std::vector<std::string> pruned;    // object keys deleted
  std::string encryption;             // "" plaintext, else the mode and key id
  std::vector<std::string> warnings;
  // Local archives this push could not send (unreadable manifest): the target is short of the backup
  // directory, so the command exits 1 (warning) rather than 0.
  std::vector<std::string> not_sent;
  double seconds = 0;
  nlohmann::json to_json() const;
  std::string summary() const;
};

// The folder under the backup directory where a push records its multipart uploads until they are
// completed or aborted (targets/multipart_journal.h); the next push aborts what a killed one left there.
inline constexpr const char* kUploadJournalFolder = ".offsite-uploads";

PushResult push_to_target(const fs::path& backup_dir, BackupTarget& target, const TargetConfig& config,
                          const PushOptions& options);

}  // namespace facecrowd
