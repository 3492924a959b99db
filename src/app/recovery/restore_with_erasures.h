// The app-level restore: backup/restore.h's restore_backup with the erasure ledger re-applied inside the
// new generation, after load and oplog replay and before the swap (DESIGN invariant 5). Every restore
// the CLI runs — full, --collection, --drop, --until (point in time), into another --db — goes through
// here, so a person erased after the backup was taken (or whose insert the replayed oplog repeats) is
// erased again before anyone can see the restored data.
//
// The ledger is read in the after_load hook, and read again at the swap (an at_swap hook), which runs
// under the data directory's exclusive lock: there no erasure can be half-way (an erasure holds a shared
// lock from before its ledger append until after its commit), so every erasure committed before the swap
// is applied — also those committed to the live store while a server's restore built the new generation
// beside it (backup/restore.h: the records appended since the first read are applied at the swap). An
// erasure is never undone by a restore, whenever it was made.
// A dry run writes nothing and so applies nothing; its counts are what the backup holds.
// A caller's options.on_scanned runs first, before the ledger is settled (an off-site restore merges the
// target's ledger there: under the restore's lock, once the backup has been read and checked).
//
// Before anything is replayed or swapped, the ledger itself is checked (app/privacy/ledger_integrity.h): the
// longest ledger consistent with every recorded fingerprint, among the live file and the backup's copy,
// is the one re-applied — the live file is re-created from the copy when the copy is the whole one (the
// old file kept aside) — and the restore is refused (Error kBadInput, nothing changed) when neither is
// whole, naming where an intact copy is. The new generation records the ledger's fingerprint.
#pragma once

#include <filesystem>
#include <string>

#include "app/privacy/erasure.h"
#include "backup/restore.h"

namespace facecrowd {

struct RestoreWithErasuresResult {
  RestoreResult restore;
  ReapplyReport erasures;  // what re-applying the ledger changed in the restored data (zero for a dry run)
  std::string ledger_note; // set when the live ledger was re-created from the backup's copy (ledger_integrity.h)
  nlohmann::json to_json() const;  // restore's JSON plus "erasuresReapplied"
};

// `unknown_face_distance`: the recognition threshold the erasures are re-applied with (app/privacy/erasure.h's
// apply_erasure: which unknown faces are the erased person's); the server passes its configured one.
RestoreWithErasuresResult restore_with_erasures(const fs::path& data_root, const std::string& input,
                                                RestoreOptions options,
                                                float unknown_face_distance = MatchPolicy{}.max_distance);

}  // namespace facecrowd
