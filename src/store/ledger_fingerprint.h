// The fingerprint of an append-only JSON-lines ledger (the erasure ledger, app/privacy/erasure_ledger.h): how
// many complete lines it holds and the sha256 of exactly those bytes. Because a ledger only ever grows,
// a fingerprint taken at any time must stay a PREFIX of the ledger: the first `entries` lines of the
// ledger, later, hash to the same sha256. A ledger that is missing, shorter, or different in its first
// `entries` lines has lost records (DESIGN invariant 5).
//
// Fingerprints are kept in three places, so that no single loss goes unnoticed:
//   - each database's `meta` table (key `erasure_ledger`), written in the erasure's own transaction and
//     by every restore (so it survives as long as the live database does);
//   - every backup's manifest (`erasure_ledger`: {"entries", "sha256"}), beside a copy of the ledger as
//     the archive member `erasure-ledger.jsonl`;
//   - the ledger file itself, in <data dir>/erasure-ledger.jsonl.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.h"

namespace facecrowd {

inline constexpr const char* kErasureLedgerFileName = "erasure-ledger.jsonl";
inline constexpr const char* kErasureLedgerMember = "erasure-ledger.jsonl";  // inside an archive's top folder

struct LedgerFingerprint {
  int64_t entries = 0;   // complete, non-blank lines
  std::string sha256;    // of the bytes of the complete lines (through the last complete line's '\n')

  nlohmann::json to_json() const { return {{"entries", entries}, {"sha256", sha256}}; }
  // nullopt when `j` is not {"entries": int >= 0, "sha256": 64 hex}.
  static std::optional<LedgerFingerprint> from_json(const nlohmann::json& j);
  std::string text() const;  // "5 entries, sha256 1a2b3c4d…"
};

// The fingerprint of a ledger's text; a torn last line (no '\n') is not counted.
LedgerFingerprint fingerprint_ledger(std::string_view text);
// True when the first `record.entries` complete lines of `text` fingerprint to `record`.
bool ledger_starts_with(std::string_view text, const LedgerFingerprint& record);
// How many complete, non-blank lines `text` has, and whether a torn last line follows them.
int64_t ledger_complete_lines(std::string_view text, bool* torn = nullptr);

// The fingerprint recorded in a database's `meta` table (key `erasure_ledger`; not a collection, so no
// oplog entry and not in backups); nullopt: none recorded, e.g. no erasure since this version. Both run
// on the database's connection, i.e. inside whatever transaction is open on it: record_ledger() inside
// an open WriteTransaction commits or rolls back with it.
std::optional<LedgerFingerprint> recorded_ledger(Database& db);
void record_ledger(Database& db, const LedgerFingerprint& fingerprint);

}  // namespace facecrowd
