// Point-in-time recovery: which oplog entries bring a backup forward to a moment, with mongorestore's
// `--oplogLimit secs:inc` meaning (replay the entries strictly before the limit).
//
// A backup's dump is the state at manifest oplog.start; its oplog.bson holds start < ts <= end. Shipped
// slices (oplog_slice.h) continue it: a slice continues the chain when slice.from <= reach < slice.to,
// and reach becomes slice.to. The covered window is [start, reach]; a limit U is inside it when
// start < U <= reach+1inc (U = start+1inc replays nothing: the state at start). Entries are replayed in
// ts order, each once (slices may overlap the archive and each other).
#pragma once

#include <filesystem>
#include <string>
#include <functional>
#include <vector>

#include "backup/catalog.h"
#include "backup/manifest.h"
#include "core/oplog_timestamp.h"
#include "store/oplog_entry.h"

namespace facecrowd {

// "1704240000:1" or "1704240000-1" as is; an ISO 8601 time (utc_time.h) as Timestamp(secs, 0), so every
// entry of earlier seconds is replayed. Error(kUsage) naming the text otherwise.
OplogTimestamp parse_until(const std::string& text);

// "1704240000:1 (2024-01-03T00:00:00.000Z)"
std::string oplog_position_text(OplogTimestamp ts);

struct OplogWindow {
  OplogTimestamp start;             // the backup's snapshot position
  OplogTimestamp reach;             // the last position the archive and the chained slices cover
  std::vector<SliceInfo> slices;    // the slices that continue the chain, in order
};

// Chains `slices` (any order; those that do not continue the chain are ignored) onto the archive's range,
// as far as they reach (from names only; collect_replay_entries reads only the slices `until` needs).
OplogWindow plan_oplog_window(const Manifest& manifest, std::vector<SliceInfo> slices);

// Error(kUsage) naming the limit and the window (secs:inc and ISO times) when `until` is outside it; past
// the window's reach, also the newest recovery point and the --until that restores to it.
void require_inside_window(const OplogWindow& window, OplogTimestamp until);

// The newest archive of `db` in `catalog` whose manifest starts before `until`: the copy beside it, or,
// when that is missing or damaged, the one inside it (read_archive_manifest). Error(kUsage)
// naming the oldest position that is covered when none does; Error(kNotFound) when there is no archive.
std::filesystem::path choose_archive_before(const BackupCatalog& catalog, const std::string& db, OplogTimestamp until);

// Streams the entries to replay, in ts order, each ts once: those of the archive's oplog
// (`archive_entries`, already decoded, in ts order) and then of the window's slices, with
// window.start < ts < until. Nothing is held beyond one slice's bytes, so replay memory does not grow with
// the number of entries. Error(kBadInput) naming the slice and the entry when a slice is corrupt or holds
// an entry outside its own range. Returns how many entries `fn` saw.
int64_t for_each_replay_entry(const OplogWindow& window, const std::vector<OplogEntry>& archive_entries,
                              OplogTimestamp until, const std::function<void(const OplogEntry&)>& fn);

}  // namespace facecrowd
