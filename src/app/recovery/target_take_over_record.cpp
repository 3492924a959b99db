#include "app/recovery/target_take_over_record.h"

#include "app/records/audit.h"

namespace facecrowd {

std::string record_take_over(Database& db, const TakeOverResult& result, const Actor& actor) {
  AuditEntry e;
  e.action = "backup.target.take_over";
  e.target = result.target;
  e.actor = actor.id;
  e.client_address = actor.client_address;
  e.details = result.to_json();
  auto tx = db.write();
  auto id = append_audit(tx, e);
  tx.commit();
  return id;
}

}  // namespace facecrowd
