// A Condition (store/database.h) on a null or missing indexed field: {column, kIsNull, <any value>} becomes
// SQL's `column IS NULL`, with nothing bound, so it uses the column's index like `=` does (e.g. the
// attendances without a person: personId IS NULL through the (personId, timestamp) index).
#pragma once

namespace facecrowd {

inline constexpr const char* kIsNull = "IS NULL";

}  // namespace facecrowd
