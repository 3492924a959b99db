// Housekeeping of the backup directory (catalog.h describes its layout), run by `facecrowd backup`:
//
// - Stale partials: a backup writes `<archive>.partial-<pid>` and renames it at the end; a killed backup
//   leaves its partial behind. Partials (and `<archive>.manifest.json.tmp-<pid>` sidecar temporaries) whose
//   pid no longer runs on this host are removed, as are sidecars `<archive>.manifest.json` whose archive
//   is missing and is not being written by a live process (a backup killed between the two renames).
// - Retention: after a successful backup, archives of one database whose name time is older than
//   `keep_days` days before `now` are removed with their sidecars; the archive just written never is.
//
// Both only remove names they recognise, never anything else in the directory. Removal errors are
// skipped (a file that cannot be removed now is retried by the next backup) and not thrown.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/utc_time.h"

namespace facecrowd {

// "<final>.partial-<this pid>": where a backup writes before renaming.
std::filesystem::path partial_archive_path(const std::filesystem::path& final_path);
// True when a live process (other than this one) writes `<final>.partial-<pid>` now.
bool partial_in_progress(const std::filesystem::path& final_path);

// Returns what was removed.
std::vector<std::filesystem::path> remove_stale_partials(const std::filesystem::path& backup_dir);
std::vector<std::filesystem::path> prune_archives(const std::filesystem::path& backup_dir, const std::string& db,
                                                  int keep_days, UnixMillis now,
                                                  const std::filesystem::path& keep);

}  // namespace facecrowd
