// A take-over of a backup target (backup/offsite/target_take_over.h) as an audit entry
// ("backup.target.take_over"): who made this machine the target's writer, and which writer it replaced, in
// the audit log of the data directory, where an auditor looks for why an old server's pushes are refused.
#pragma once

#include <string>

#include "app/users/users.h"
#include "backup/offsite/target_take_over.h"
#include "store/database.h"

namespace facecrowd {

// Appends the entry in its own write transaction and returns its id.
std::string record_take_over(Database& db, const TakeOverResult& result, const Actor& actor);

}  // namespace facecrowd
