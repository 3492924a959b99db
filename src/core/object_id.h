// ObjectId-style identifiers (12 bytes: 4-byte seconds, 5 random bytes, 3-byte counter), as MongoDB makes
// them, so ids sort by creation time and look familiar to operators migrating from MongoDB.
#pragma once

#include <string>

namespace facecrowd {

// A new id as 24 lower-case hex characters. Thread-safe.
std::string new_object_id();

// True when `text` is 24 hex characters.
bool is_object_id(const std::string& text);

}  // namespace facecrowd
