#include "app/records/audit.h"

#include <cstdlib>

#include "app/records/audit_chain.h"
#include "core/error.h"

namespace facecrowd {

std::string default_audit_actor() {
  const char* user = std::getenv("USER");
  return user && *user ? user : "cli";
}

std::string append_audit(Database::WriteTransaction& tx, const AuditEntry& entry) {
  if (entry.outcome != "ok" && entry.outcome != "failed")
    throw Error(ExitCode::kBadInput, "audit entry '" + entry.action + "': outcome must be ok or failed, not '" +
                                         entry.outcome + "'");
  if (!entry.details.is_object())
    throw Error(ExitCode::kBadInput, "audit entry '" + entry.action + "': details must be a JSON object");
  Document details = Document::from_json(entry.details, "details of audit entry '" + entry.action + "'");
  std::string actor = entry.actor ? *entry.actor : default_audit_actor();
  bson_t* doc = bson_new();
  bson_oid_t oid;  // the _id is part of the chain hash, so it is made here rather than by insert()
  bson_oid_init(&oid, nullptr);
  BSON_APPEND_OID(doc, "_id", &oid);
  BSON_APPEND_DATE_TIME(doc, "timestamp", entry.timestamp ? *entry.timestamp : now_millis());
  BSON_APPEND_UTF8(doc, "actor", actor.c_str());
  BSON_APPEND_UTF8(doc, "action", entry.action.c_str());
  BSON_APPEND_UTF8(doc, "target", entry.target.c_str());
  BSON_APPEND_UTF8(doc, "outcome", entry.outcome.c_str());
  BSON_APPEND_UTF8(doc, "clientAddress", entry.client_address.c_str());
  BSON_APPEND_DOCUMENT(doc, "details", details.get());
  return insert_sealed_audit_entry(tx, Document(doc));
}

std::vector<Document> list_audit(Database::ReadTransaction& tx, const AuditQuery& query) {
  Query q;
  if (query.since) q.where.push_back({"timestamp", ">=", int64_t(*query.since)});
  if (query.until) q.where.push_back({"timestamp", "<=", int64_t(*query.until)});
  if (query.action) q.where.push_back({"action", "=", *query.action});
  if (query.target) q.where.push_back({"target", "=", *query.target});
  q.order_by = "timestamp";
  q.descending = true;
  q.limit = query.limit;
  std::vector<Document> out;
  tx.find("auditlogs", q, [&](const Document& d) {
    out.push_back(d);
    return true;
  });
  return out;
}

}  // namespace facecrowd
