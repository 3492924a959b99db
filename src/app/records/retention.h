// Retention and archival, as the operators' nightly job did it (12/12/24 months, archive after 6):
//
//   - attendances older than `attendance_months`, crowd counts older than `crowd_months` and audit entries
//     older than `audit_months` are deleted;
//   - attendances and crowd counts older than `archive_after_months` (and kept) get `archived: true`;
//   - fs.files/fs.chunks that no document points to any more (file_store.h's reference fields) are
//     deleted — never a file something points to (DESIGN invariant 4);
//   - every committed batch carries its own audit entry in the same transaction: {action: "retention.batch",
//     details: {run, collection, batch, deleted|archived}}, or for a batch of audit entries an
//     {action: "audit.checkpoint", details: {run, deletedEntries, ranges: [{fromSeq, toSeq, lastHash}]}}
//     that accounts for the gap in the audit chain (app/records/audit_chain.h); and one entry
//     {action: "retention.run", details: this run's totals, run} is written with the file sweep. A run
//     killed mid-way thus leaves an entry for every batch it committed: the batch entries of all runs
//     add up to exactly what was deleted.
// Face profiles and users are kept until deleted explicitly.
//
// "Older than N months" is calendar months: a record is affected when its timestamp is strictly before
// the same day-of-month and time N months before `now` (the day clamped to the month's end: 6 months
// before Aug 31 is Feb 28/29). Records without a date timestamp are never touched.
//
// Every change goes through Database::WriteTransaction (each with its oplog entry); deletions and
// archive marks are committed in batches so a huge first run neither holds the writer lock for long nor
// loses finished work when interrupted (running it again continues). The file sweep, which must decide
// "nothing points to this" without a writer slipping in between, runs in one transaction. A dry run
// computes the same counts from one snapshot and writes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/utc_time.h"
#include "store/database.h"

namespace facecrowd {

struct RetentionPolicy {
  int attendance_months = 12;
  int crowd_months = 12;
  int audit_months = 24;
  int archive_after_months = 6;
};

// Error(kUsage) naming the setting when a value is below 1 (or above 1200).
void validate_retention_policy(const RetentionPolicy& policy);

// The instant `months` calendar months before `t` (day clamped to the end of a shorter month).
UnixMillis months_before(UnixMillis t, int months);

struct RetentionReport {
  bool dry_run = false;
  UnixMillis now = 0;
  RetentionPolicy policy;
  UnixMillis attendance_cutoff = 0, crowd_cutoff = 0, audit_cutoff = 0, archive_cutoff = 0;
  int64_t attendances_deleted = 0;
  int64_t crowdcounts_deleted = 0;
  int64_t auditlogs_deleted = 0;
  int64_t attendances_archived = 0;
  int64_t crowdcounts_archived = 0;
  int64_t files_deleted = 0;
  int64_t file_bytes_freed = 0;  // sum of the deleted files' lengths
  std::string audit_id;          // the retention.run entry; empty for a dry run

  // {"dryRun", "now", "policy": {...months}, "cutoffs": {...}, "deleted": {attendances, crowdcounts,
  //  auditlogs, files}, "archived": {attendances, crowdcounts}, "fileBytesFreed", "auditId"}
  nlohmann::json to_json() const;
};

struct RetentionOptions {
  RetentionPolicy policy;
  UnixMillis now = 0;     // 0: the current time
  bool dry_run = false;
  int batch_size = 5000;  // documents per transaction for deletions and archive marks
  std::optional<std::string> actor;  // audit actor; default: default_audit_actor()
  std::string client_address = "local";
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;  // may be empty
};

RetentionReport run_retention(Database& db, const RetentionOptions& options);
RetentionReport run_retention(Database& db, const RetentionPolicy& policy, UnixMillis now, bool dry_run);

}  // namespace facecrowd
