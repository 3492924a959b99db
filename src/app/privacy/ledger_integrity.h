// Is the live erasure ledger whole? (DESIGN invariant 5: a lost, shortened or replaced ledger is
// detected, never silently ignored.) The ledger is append-only, so every fingerprint ever recorded of
// it (store/ledger_fingerprint.h) must be a prefix of it: the one each database recorded at its last
// erasure or restore, and the one each backup's manifest recorded beside the copy it carries.
//
// assess_ledger() compares the live file against all of them and says what is wrong and where an intact
// copy is: a backup whose copy is at least as long as every record. `person erasures`, `check`, erasure
// and restore use it:
//   - `person erasures` and `check` report a damaged ledger as an error (exit 3), never as "no erasures";
//   - `person delete` refuses to append to a damaged ledger (that would overwrite the evidence);
//   - restore (restore_with_erasures.h) picks the longest consistent ledger among the live file and the
//     backup's copy, re-creates the live file from the copy when the copy is the one that is whole, and
//     refuses, saying where an intact copy is and how to proceed, when neither is.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/ledger_fingerprint.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct LedgerRecordSeen {
  std::string where;  // "database 'face-recognition'", "backup backup_face-recognition_….tar.gz"
  LedgerFingerprint fingerprint;
};

struct LedgerAssessment {
  fs::path path;
  enum class FileState { kMissing, kRegular, kNotRegular, kUnreadable } file = FileState::kMissing;
  std::string text;                       // the file's bytes (kRegular)
  LedgerFingerprint live;                 // of `text` (complete lines only)
  bool torn = false;                      // a last line without its newline
  std::vector<LedgerRecordSeen> records;  // every fingerprint found
  std::vector<std::string> problems;      // empty: consistent with every record
  std::vector<fs::path> intact_copies;    // backups whose copy covers the longest record (newest first)
  std::vector<std::pair<fs::path, LedgerFingerprint>> backup_copies;  // every backup's recorded copy, oldest first
  std::vector<std::string> notes;         // e.g. a database that could not be read

  bool ok() const { return problems.empty(); }
  const LedgerRecordSeen* longest_record() const;
  // The problems, where an intact copy is and how to put it back; empty when ok().
  std::string message() const;
};

// Reads the ledger of the data directory at `data_root`, the fingerprint of every database in it, and,
// when `backup_dir` is given, of every backup there (sidecar manifests: no archive is decompressed).
LedgerAssessment assess_ledger(const fs::path& data_root, const std::optional<fs::path>& backup_dir);

// The live file read again and judged against the records `earlier` collected (they only ever grow by
// appending, so earlier ones stay valid). For a restore: it collects records before it starts, because
// opening a database while a new generation is being built beside it is not safe.
LedgerAssessment reassess_ledger(const LedgerAssessment& earlier);

// Error(kBadInput) with assessment.message() when the ledger is not whole.
void require_whole_ledger(const LedgerAssessment& assessment);

}  // namespace facecrowd
