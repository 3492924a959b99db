// `facecrowd target take-over`: makes this backup directory the writer of a target whose index names another
// (writer_fence.h), once that machine no longer pushes there: the old server was lost or retired, or a
// stand-by restored from the target replaces it. Nothing but index.json changes: its writer becomes this
// backup directory (made an identity when it has none), under the same flock as a push
// (<backup dir>/offsite-push.lock; a refused take-over leaves no lock file or backup directory it made:
// push_lock.h), and it is signed as a push signs it (a keyed target needs its key,
// fail closed, and its tag must hold: an edited index is refused as a push refuses it). From then on the
// old machine's pushes are refused.
//   - a target with no index.json: Error(kNotFound), nothing written (there is nothing to take over; the
//     next push claims the target, or refuses it when objects are there without an index);
//   - a push or take-over of this backup directory running: Error(kBusy), nothing written;
//   - this backup directory already the writer: nothing written (`already`);
//   - index.json, read back after the write, names another writer (a take-over or push at the same moment
//     won): Error(kConflict) naming it.
// The caller records the take-over in the audit log (the CLI: action "backup.target.take_over").
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backup/offsite/remote_index.h"
#include "backup/offsite/target_config.h"
#include "backup/offsite/writer_fence.h"
#include "backup/targets/backup_target.h"

namespace facecrowd {

struct TakeOverResult {
  std::string target;
  std::optional<IndexWriter> previous;  // the writer the index named (none: an index without one)
  IndexWriter writer;                   // this backup directory, as index.json now names it
  bool already = false;                 // this backup directory was the writer: nothing was written
  std::vector<std::string> warnings;    // OffsiteStore::write_index's (a leftover segment not deleted)
  nlohmann::json to_json() const;
};

TakeOverResult take_over_target(const fs::path& backup_dir, BackupTarget& target, const TargetConfig& config);

}  // namespace facecrowd
