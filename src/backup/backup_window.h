// The point-in-time window: which oplog positions a restore can reach from the archives and shipped oplog
// slices in a backup directory. Computed from names and sidecar manifests only (catalog.h), plus a cheap
// gzip-header check of each slice on a chain, so it is fast enough for `backups list` and `backups status`.
//
// An archive (manifest oplog start..end) restores exactly the state at any position start <= P <= end
// (the dump plus its own oplog.bson). Slices extend that reach: from reach R, the slice with
// from <= R < to continues the chain to its `to` (slices hold the entries from < ts <= to, and a slice's
// `from` is its predecessor's `to`, see oplog_slice.h). The chain stops where no slice continues it: at
// the newest shipped position, or at a gap (the next slice starts after R, or a slice on the chain is
// damaged), which is reported.
//
// A point-in-time restore to position T uses `pitr_base(catalog, db, T)`: the newest archive whose window
// holds T, and its window's `slices` (in order) to replay.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backup/catalog.h"
#include "core/oplog_timestamp.h"

namespace facecrowd {

// Where one archive's chain reaches.
struct PitrWindow {
  fs::path archive;
  OplogTimestamp start;              // the archive's snapshot position (manifest oplog.start)
  OplogTimestamp end;                // the furthest reachable position (>= the manifest's oplog.end)
  std::vector<SliceInfo> slices;     // the chain that carries `end` past the archive, in order
  std::optional<std::string> gap;    // why the chain stops before a later slice, when it does
  bool holds(OplogTimestamp p) const { return start <= p && p <= end; }
};

// A contiguous range of restorable positions (merged over archives) and the windows that make it.
struct PitrRange {
  OplogTimestamp start, end;
};

struct OverallPitrWindow {
  std::vector<PitrRange> ranges;      // disjoint, oldest first; empty when nothing is restorable
  std::vector<PitrWindow> archives;   // one per archive of the db that has a readable manifest, oldest first
  std::vector<std::string> gaps;      // every distinct gap met by any chain
  std::vector<std::string> problems;  // archives left out (no or damaged sidecar manifest)
  std::optional<std::string> none_reason;  // set when `ranges` is empty: why
};

// The chain from a reach of `end` over `slices` (sorted by `from`, as BackupCatalog::slices() returns).
PitrWindow follow_slice_chain(const std::vector<SliceInfo>& slices, OplogTimestamp start, OplogTimestamp end);

// One archive's window. Error(kBadInput) naming the archive when it has no readable sidecar manifest
// (the restore then reads the archive's own manifest.json and calls follow_slice_chain itself).
PitrWindow pitr_window(const BackupCatalog& catalog, const ArchiveInfo& archive);

// Every archive of `db` and the union of their windows.
OverallPitrWindow overall_pitr_window(const BackupCatalog& catalog, const std::string& db);

// The newest archive of `db` whose window holds `target`, with that window; nullopt when none does.
struct PitrBase {
  ArchiveInfo archive;
  PitrWindow window;
};
std::optional<PitrBase> pitr_base(const BackupCatalog& catalog, const std::string& db, OplogTimestamp target);

// False when the file is not a gzip stream (too short or wrong magic): a cheap damage check that does not
// decompress. read_oplog_slice() is the full check.
bool slice_looks_intact(const fs::path& slice);

// "2024-01-03T01:00:00.000Z (1704243600:1)"
std::string describe_position(OplogTimestamp p);

}  // namespace facecrowd
