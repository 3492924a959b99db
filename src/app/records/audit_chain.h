// The tamper-evident audit trail (issue 15.2): every `auditlogs` entry is a link of a hash chain.
//
// Fields append_audit() adds to each entry (app/records/audit.h):
//   seq            1, 2, 3, ... the entry's place in the chain
//   prevHash       the previous entry's `hash` (64 zeros for the first entry of a chain)
//   detailsSalt    32 random hex characters, this entry's own
//   detailsCommit  sha256(detailsSalt + the BSON bytes of `details`): a commitment to the details
//   hash           sha256 of the BSON document {v: 1, _id, timestamp, actor, action, target, outcome,
//                  clientAddress, prevHash, detailsCommit} built from the entry's own fields
// The hash covers the commitment, not the details themselves, so a GDPR erasure can scrub an entry's
// personal details and leave the chain verifiable: it replaces the details, deletes the salt (without
// it the old details cannot be confirmed by guessing either) and records `erasedFor: [person ids]`.
// `audit verify` accepts a scrubbed entry only when every id in erasedFor is in the erasure ledger or is
// the target of a person.delete entry in the log; any other entry whose details no longer match its
// commitment is reported as changed. `seq` is not hashed: the prevHash links fix the order, so a swap of
// two entries' seq shows as a reorder rather than as two changes.
//
// Retention (app/records/retention.h) deletes old entries in batches; each batch writes, in its own transaction,
// an `audit.checkpoint` entry {deletedEntries, ranges: [{fromSeq, toSeq, lastHash}]}, so the gap it leaves
// is accounted for: verify accepts a missing run of entries only when checkpoints cover it and the entry
// after it links to the recorded lastHash.
//
// Migration (databases from before the chain): the first audit write that finds entries but no chain
// starts it, in that write's transaction: seq 1 is an `audit.chain.start` entry {migratedEntries: N},
// and the N older entries follow it, oldest first, sealed as they were found (they were not protected
// before, so the chain vouches only for their content from then on). Until that first write, `audit
// verify` reports the log as not chained yet (WARNING).
//
// What the chain does not stop: whoever can write the database can rebuild a whole consistent chain.
// That is why every backup manifest records the head {seq, hash} (backup/manifest.h) and `audit verify
// --against ARCHIVE|latest` checks that the live log still holds that entry with that hash: an edit or
// truncation made after a backup is found by comparing against any later backup.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/audit_seal.h"
#include "store/database.h"

namespace facecrowd {

// `entry` with its details replaced by `details` (the scrubbed ones), its salt removed and `person_id`
// added to erasedFor. Its chain hash stays valid.
Document with_erased_details(const Document& entry, const Document& details, const std::string& person_id);

struct AuditProblem {
  int64_t seq = 0;        // 0: an entry without chain fields
  std::string id;         // the entry's _id (for a removed run: the entry after the gap)
  std::string kind;       // "changed", "removed", "inserted", "reordered", "mismatch" (--against)
  std::string message;
};

struct AuditVerifyReport {
  int64_t entries = 0;      // documents in auditlogs
  int64_t chained = 0;
  int64_t scrubbed = 0;     // erased details accepted (erasedFor in the ledger)
  int64_t checkpoints = 0;  // audit.checkpoint entries
  int64_t accounted_gap = 0;  // entries deleted by retention and covered by checkpoints
  int64_t unchained = 0;    // entries with no chain fields
  AuditChainHead head;
  bool not_chained_yet = false;  // entries exist but none is chained (a database from before the chain)
  std::vector<AuditProblem> problems;  // in chain order; the first one is the first break
  std::vector<std::string> against;    // what the head was compared with ("backup_….tar.gz: seq 12 ok")

  // For check_against_recorded_head: the stored hash of every chained entry, and the runs of deleted
  // entries the checkpoints account for.
  struct DeletedRun {
    int64_t from = 0, to = 0;
    std::string last_hash;
  };
  std::map<int64_t, std::string> hashes;
  std::vector<DeletedRun> deleted_runs;

  bool ok() const { return problems.empty(); }
  // 0 intact, 1 not chained yet (WARNING), 3 broken (bad input: the data is not what was written).
  int exit_code() const { return !problems.empty() ? 3 : not_chained_yet ? 1 : 0; }
  nlohmann::json to_json() const;
};

// Checks the whole chain of `tx`'s auditlogs. `erased_ids`: the person ids of the erasure ledger.
AuditVerifyReport verify_audit_chain(Database::ReadTransaction& tx, const std::set<std::string>& erased_ids);

// Compares the live chain (as verified into `report`) with a head recorded by a backup, named `source`:
// appends a "mismatch" problem when the live log no longer holds entry `recorded.seq` with that hash
// (truncated, rewritten or replaced after the backup) — unless retention deleted it, which a checkpoint
// accounts for. Appends a line to report.against either way.
void check_against_recorded_head(AuditVerifyReport& report, int64_t recorded_seq,
                                 const std::string& recorded_hash, const std::string& source);

}  // namespace facecrowd
