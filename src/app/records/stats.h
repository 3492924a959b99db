// `facecrowd stats`: per-collection document counts and sizes, and the oplog's extent, read in one
// snapshot so the numbers agree with each other.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "store/data_dir.h"

namespace facecrowd {

// {"db", "position", "collections": [{"name", "count", "bytes"}], "oplog": {"entries", "first", "last"},
//  "file_bytes"}. Error(kNotFound) when the database does not exist.
nlohmann::json collect_stats(const DataDir& dir, const std::string& db);

}  // namespace facecrowd
