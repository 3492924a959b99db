// Damage to facecrowd's own data directory, and the one exit code for it (9, README "Exit codes").
//
// Damage is a CURRENT that is missing, empty or garbled, a CURRENT naming a generation that is missing,
// and a generation file that is empty, not an SQLite database, or that SQLite cannot read ("file is not a
// database", "malformed", no schema). DataDir::live_file() and Database::open() report it as
// Error(kExitDamaged) built by damaged_store_error(): the database, the reason, every generation file
// found with its size, "Nothing was changed or deleted", and the commands that recover:
//   facecrowd restore latest --drop             rebuilds it from the newest backup (restore never reads
//                                               the live data for a full restore)
//   facecrowd repair --db DB --use-generation N makes an intact generation live again (store/repair.h)
// Opening never deletes a file it cannot prove stale: generations CURRENT does not name are removed only
// after the named one is proven (DataDir::remove_stale_generations).
//
// The recovery paths move damaged files aside instead of deleting them:
//   <root>/damaged/<db>-<UTC time>[-n]/   the other generation files (+ -wal/-shm) and a copy of CURRENT
// facecrowd never deletes that folder; the operator does, once the recovered data is checked.
#pragma once

#include <filesystem>
#include <string>

#include "core/error.h"
#include "store/data_dir.h"

namespace facecrowd {

// Exit code 9: the data directory is damaged; nothing was changed; the message says how to recover.
inline constexpr ExitCode kExitDamaged = static_cast<ExitCode>(9);

// Error(kExitDamaged) "database '<db>' in data directory '<root>' is damaged: <reason>. Generation files
// found in ...: gen-000001.sqlite (N bytes), .... Nothing was changed or deleted. To recover: ...".
Error damaged_store_error(const DataDir& dir, const std::string& db, const std::string& reason);

// Moves every generation file of `db` except `keep` (and its side files) into a new folder
// <root>/damaged/<db>-<UTC time>[-n]/, with a copy of CURRENT, and returns the folder (empty when there
// was nothing to move). The caller holds the exclusive data-directory lock.
std::filesystem::path set_aside_damaged(const DataDir& dir, const std::string& db, const std::filesystem::path& keep);

}  // namespace facecrowd
