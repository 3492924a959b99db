// Audit entries: who did what to which target, when, from where, and whether it worked. An entry is
// written in the same WriteTransaction as the change it describes, so a committed change always has its
// entry and a rolled-back one never does. Each entry is a link of a hash chain (app/records/audit_chain.h), which
// `facecrowd audit verify` checks.
//
//   auditlogs {timestamp: date, actor, action, target, outcome: "ok"|"failed", clientAddress, details: {...},
//              seq, prevHash, detailsSalt, detailsCommit, hash}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/utc_time.h"
#include "store/database.h"

namespace facecrowd {

struct AuditEntry {
  std::string action;                     // dotted verb, e.g. "retention.run", "person.delete"
  std::string target;                     // what it acted on (an id, a collection, a file); may be empty
  std::string outcome = "ok";             // "ok" or "failed"
  std::optional<std::string> actor;       // default: default_audit_actor()
  std::string client_address = "local";   // the HTTP client's address; "local" for the CLI
  nlohmann::json details = nlohmann::json::object();  // Extended JSON allowed ({"$date": …})
  std::optional<UnixMillis> timestamp;    // default: now
};

// $USER, else "cli".
std::string default_audit_actor();

// Appends the entry to `auditlogs` in `tx`; returns its id. Error(kBadInput) when outcome is not ok/failed
// or details is not a JSON object.
std::string append_audit(Database::WriteTransaction& tx, const AuditEntry& entry);

// A filter for list_audit; every set field must match. Newest first.
struct AuditQuery {
  std::optional<UnixMillis> since;  // timestamp >= since
  std::optional<UnixMillis> until;  // timestamp <= until
  std::optional<std::string> action;
  std::optional<std::string> target;
  int64_t limit = 100;              // -1: all
};

// Matching entries, newest first, read through the timestamp/action/target indexes.
std::vector<Document> list_audit(Database::ReadTransaction& tx, const AuditQuery& query);

}  // namespace facecrowd
