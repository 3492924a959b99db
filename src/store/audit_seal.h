// The storage side of the audit chain (app/records/audit_chain.h describes it: fields, hashing, verification):
// sealing an entry as the next link, and where the chain ends. Kept in store/, below app/ and backup/,
// because a restore (backup/) writes its own audit entry and a backup records the head in its manifest.
//
// The head is the `auditlogs` entry with the largest `seq`, its hash and id. The head is cached in the database's meta table (key kAuditChainHeadKey,
// "<seq> <id> <hash>"); a cached head is trusted only when the entry it names still exists with that seq
// and hash, otherwise the head is found by reading every entry (after a restore or a load the cache is
// gone anyway, see Database::WriteTransaction::meta).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/database.h"

namespace facecrowd {

inline constexpr const char* kAuditChainHeadKey = "cache.audit_chain_head";
// The prevHash of the first entry of a chain.
inline constexpr const char* kAuditChainGenesis = "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditChainHead {
  int64_t seq = 0;                       // 0: no chained entry yet
  std::string hash = kAuditChainGenesis;
  std::string id;                        // the entry's key; empty when seq is 0
  int64_t unchained = 0;                 // entries without chain fields (only counted by a full read)
};

// The entry's chain hash, recomputed from its fields.
std::string audit_entry_hash(const bson_t* entry);
// The BSON bytes of the entry's details ("" when it has none), and the commitment sha256(salt + bytes).
std::string_view audit_details_bytes(const bson_t* entry);
std::string audit_details_commitment(const std::string& salt, std::string_view details);

// `entry` (without chain fields, or with them: they are replaced) as link `seq` after `prev_hash`: a new
// salt, the commitment to its details, and the hash.
Document seal_audit_entry(const Document& entry, int64_t seq, const std::string& prev_hash);

// The head after which the next entry goes, inside `tx`; starts the chain when the log holds only
// unchained entries (the migration in app/records/audit_chain.h) and returns the new head.
AuditChainHead audit_chain_head_for_append(Database::WriteTransaction& tx);

// Seals `entry` (a complete audit document; an `_id` is added first when missing) as the next link of `tx`'s chain, inserts it
// and caches the new head; returns its key. app/records/audit.h's append_audit(), demo data and a restore's own
// entry go through here; nothing else inserts into auditlogs. `may_start_chain` false (a restore): in a
// log from before the chain the entry is inserted as the others are, unchained, so that restoring an old
// archive reproduces its documents one for one (verify compares counts); the next audited write
// starts the chain.
std::string insert_sealed_audit_entry(Database::WriteTransaction& tx, const Document& entry,
                                      bool may_start_chain = true);

AuditChainHead read_audit_chain_head(Database::ReadTransaction& tx);
// Folds one entry into `head`, as the full read above does for every entry in table order: starting from
// AuditChainHead{} and folding every entry of a log in its table order gives what that read returns. A
// restore folds the entries as it loads them and caches the result (cache_audit_chain_head), so that its
// own audit entry does not read the whole log back twice.
void fold_audit_chain_head(AuditChainHead& head, const bson_t* entry);
AuditChainHead read_audit_chain_head(Database::WriteTransaction& tx);
// Stores `head` as the cached head (inside `tx`).
void cache_audit_chain_head(Database::WriteTransaction& tx, const AuditChainHead& head);

// The `seq` and `hash` fields of an audit entry; false when it has none (an entry written before the chain,
// or one inserted around facecrowd).
bool audit_chain_fields(const bson_t* entry, int64_t& seq, std::string& hash);

}  // namespace facecrowd
