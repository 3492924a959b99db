#include "store/audit_seal.h"


#include <algorithm>
#include <cstring>
#include <sstream>
#include <string_view>

#include "core/random_hex.h"
#include "core/sha256.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

constexpr std::string_view kChainFields[] = {"seq", "prevHash", "detailsSalt", "detailsCommit", "hash", "erasedFor"};
constexpr const char* kHashedFields[] = {"_id", "timestamp", "actor", "action", "target", "outcome", "clientAddress",
                                         "prevHash", "detailsCommit"};

bool is_chain_field(std::string_view key) {
  return std::find(std::begin(kChainFields), std::end(kChainFields), key) != std::end(kChainFields);
}

std::string random_salt() { return random_hex(16); }

// Every field except the chain's own, in order.
bson_t* copy_without_chain_fields(const bson_t* entry) {
  bson_t* out = bson_sized_new(entry->len + 256);
  bson_iter_t it;
  if (bson_iter_init(&it, entry))
    while (bson_iter_next(&it))
      if (!is_chain_field(bson_iter_key(&it))) bson_append_iter(out, bson_iter_key(&it), -1, &it);
  return out;
}


template <typename Tx>
AuditChainHead read_head(Tx& tx) {
  if (auto cached = tx.meta(kAuditChainHeadKey)) {
    std::istringstream in(*cached);
    AuditChainHead head;
    if (in >> head.seq >> head.id >> head.hash) {
      if (auto doc = tx.get("auditlogs", head.id)) {
        int64_t seq;
        std::string hash;
        if (audit_chain_fields(doc->get(), seq, hash) && seq == head.seq && hash == head.hash) return head;
      }
    }
  }
  AuditChainHead head;
  tx.find("auditlogs", Query{}, [&](const Document& doc) {
    fold_audit_chain_head(head, doc.get());
    return true;
  });
  return head;
}

}  // namespace

// The BSON bytes of the entry's details ("" when it has none, which never matches a commitment).
std::string_view audit_details_bytes(const bson_t* doc) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, "details") || !BSON_ITER_HOLDS_DOCUMENT(&it)) return {};
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&it, &len, &data);
  return {reinterpret_cast<const char*>(data), len};
}

std::string audit_details_commitment(const std::string& salt, std::string_view details) {
  Sha256 h;
  h.update(salt);
  h.update(details);
  return h.hex_digest();
}

std::string audit_entry_hash(const bson_t* entry) {
  bson_t payload;
  bson_init(&payload);
  BSON_APPEND_INT32(&payload, "v", 1);
  for (const char* field : kHashedFields) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, entry, field)) bson_append_iter(&payload, field, -1, &it);
    else BSON_APPEND_NULL(&payload, field);
  }
  std::string hash = sha256_hex({reinterpret_cast<const char*>(bson_get_data(&payload)), payload.len});
  bson_destroy(&payload);
  return hash;
}

Document seal_audit_entry(const Document& entry, int64_t seq, const std::string& prev_hash) {
  bson_t* out = copy_without_chain_fields(entry.get());
  std::string salt = random_salt();
  std::string commit = audit_details_commitment(salt, audit_details_bytes(out));
  BSON_APPEND_INT64(out, "seq", seq);
  BSON_APPEND_UTF8(out, "prevHash", prev_hash.c_str());
  BSON_APPEND_UTF8(out, "detailsSalt", salt.c_str());
  BSON_APPEND_UTF8(out, "detailsCommit", commit.c_str());
  std::string hash = audit_entry_hash(out);
  BSON_APPEND_UTF8(out, "hash", hash.c_str());
  return Document(out);
}

AuditChainHead audit_chain_head_for_append(Database::WriteTransaction& tx) {
  AuditChainHead head = read_audit_chain_head(tx);
  if (head.seq > 0 || head.unchained == 0) return head;
  // A log from before the chain: start it (see the header), oldest entries first.
  std::vector<Document> legacy;
  tx.find("auditlogs", Query{}, [&](const Document& d) {
    legacy.push_back(d);
    return true;
  });
  auto time_of = [](const Document& d) {
    bson_iter_t it;
    return bson_iter_init_find(&it, d.get(), "timestamp") && BSON_ITER_HOLDS_DATE_TIME(&it) ? bson_iter_date_time(&it)
                                                                                           : int64_t(0);
  };
  std::stable_sort(legacy.begin(), legacy.end(), [&](const Document& a, const Document& b) {
    auto ta = time_of(a), tb = time_of(b);
    return ta != tb ? ta < tb : a.id_key().value_or("") < b.id_key().value_or("");
  });
  bson_t* start = bson_new();
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  BSON_APPEND_OID(start, "_id", &oid);
  BSON_APPEND_DATE_TIME(start, "timestamp", now_millis());
  BSON_APPEND_UTF8(start, "actor", "facecrowd");
  BSON_APPEND_UTF8(start, "action", "audit.chain.start");
  BSON_APPEND_UTF8(start, "target", "auditlogs");
  BSON_APPEND_UTF8(start, "outcome", "ok");
  BSON_APPEND_UTF8(start, "clientAddress", "local");
  bson_t details;
  BSON_APPEND_DOCUMENT_BEGIN(start, "details", &details);
  BSON_APPEND_INT64(&details, "migratedEntries", int64_t(legacy.size()));
  BSON_APPEND_UTF8(&details, "note", "entries written before the audit chain existed follow, oldest first, sealed as found");
  bson_append_document_end(start, &details);
  Document first = seal_audit_entry(Document(start), 1, kAuditChainGenesis);
  head.id = tx.insert("auditlogs", first);
  head.seq = 1;
  audit_chain_fields(first.get(), head.seq, head.hash);
  for (const auto& entry : legacy) {
    Document sealed = seal_audit_entry(entry, head.seq + 1, head.hash);
    tx.replace("auditlogs", sealed);
    audit_chain_fields(sealed.get(), head.seq, head.hash);
    head.id = sealed.id_key().value_or("");
  }
  head.unchained = 0;
  cache_audit_chain_head(tx, head);
  return head;
}

std::string insert_sealed_audit_entry(Database::WriteTransaction& tx, const Document& entry, bool may_start_chain) {
  Document with_id = entry;
  with_id.ensure_id();  // the _id is hashed, so it must exist before the seal
  if (!may_start_chain) {
    AuditChainHead found = read_audit_chain_head(tx);
    if (found.seq == 0 && found.unchained > 0) return tx.insert("auditlogs", with_id);  // a log from before the chain
  }
  AuditChainHead head = audit_chain_head_for_append(tx);
  Document sealed = seal_audit_entry(with_id, head.seq + 1, head.hash);
  AuditChainHead next;
  audit_chain_fields(sealed.get(), next.seq, next.hash);
  next.id = tx.insert("auditlogs", sealed);
  cache_audit_chain_head(tx, next);
  return next.id;
}

bool audit_chain_fields(const bson_t* entry, int64_t& seq, std::string& hash) {
  bson_iter_t it;
  // Any integer type: a tool that rewrites the document through JSON may store a small seq as int32.
  if (!bson_iter_init_find(&it, entry, "seq") || !(BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)))
    return false;
  seq = bson_iter_as_int64(&it);
  if (!bson_iter_init_find(&it, entry, "hash") || !BSON_ITER_HOLDS_UTF8(&it)) return false;
  hash = bson_iter_utf8(&it, nullptr);
  return true;
}

void fold_audit_chain_head(AuditChainHead& head, const bson_t* entry) {
  // audit_chain_fields in one pass, allocating nothing unless the entry is the new head: a restore runs
  // this for every audit entry. As there, the first field of each name counts.
  bson_iter_t it, seq_it, hash_it;
  bool seq_seen = false, hash_seen = false;
  if (bson_iter_init(&it, entry))
    while ((!seq_seen || !hash_seen) && bson_iter_next(&it)) {
      const char* key = bson_iter_key(&it);
      if (!seq_seen && std::strcmp(key, "seq") == 0) {
        seq_it = it;
        seq_seen = true;
      } else if (!hash_seen && std::strcmp(key, "hash") == 0) {
        hash_it = it;
        hash_seen = true;
      }
    }
  if (!seq_seen || !(BSON_ITER_HOLDS_INT64(&seq_it) || BSON_ITER_HOLDS_INT32(&seq_it)) || !hash_seen ||
      !BSON_ITER_HOLDS_UTF8(&hash_it)) {
    ++head.unchained;
    return;
  }
  int64_t seq = bson_iter_as_int64(&seq_it);
  if (seq <= head.seq) return;
  head.seq = seq;
  head.hash = bson_iter_utf8(&hash_it, nullptr);
  head.id = bson_iter_init_find(&it, entry, "_id") ? id_key_of(it) : std::string();
}

AuditChainHead read_audit_chain_head(Database::ReadTransaction& tx) { return read_head(tx); }
AuditChainHead read_audit_chain_head(Database::WriteTransaction& tx) { return read_head(tx); }

void cache_audit_chain_head(Database::WriteTransaction& tx, const AuditChainHead& head) {
  tx.set_meta(kAuditChainHeadKey, std::to_string(head.seq) + " " + head.id + " " + head.hash);
}

}  // namespace facecrowd
