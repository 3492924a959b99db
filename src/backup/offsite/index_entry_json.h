// How the entries of a target's index are written and checked, shared by index.json and its slice segments
// (remote_index.h): an index is read from a bucket that others may write to, so every name in it becomes a
// local file name or an object key only after these checks, and every size and digest a check. Internal to
// backup/offsite.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "backup/offsite/remote_index.h"

namespace facecrowd::index_entries {

// Throws Error(kBadInput): "<what> is not a valid facecrowd index: <field> <why>; …nothing was changed".
struct IndexRefusal {
  std::string what;
  [[noreturn]] void operator()(const std::string& field, const std::string& why) const;
};

// A value from the index, quoted for a message: control characters escaped, long values cut.
std::string shown_value(const std::string& value);
bool is_hex(const std::string& s, size_t length);
uint64_t unsigned_from(const nlohmann::json& j, const char* name, const std::string& field, const IndexRefusal& refuse);
OplogTimestamp ts_from(const nlohmann::json& j, const char* name, const std::string& field, const IndexRefusal& refuse);

nlohmann::json object_json(const RemoteObject& o);
// An object entry whose key must be `expected_key` (the layout's place for it).
RemoteObject object_from(const nlohmann::json& j, const std::string& field, const std::string& expected_key,
                         const IndexRefusal& refuse);

nlohmann::json slices_json(const std::vector<RemoteSlice>& slices);
// One slice entry, as format 1's index.json and a segment hold it. `seen`: names already listed (extended).
RemoteSlice slice_from(const nlohmann::json& s, const std::string& field, std::set<std::string>& seen, const IndexRefusal& refuse);

// A segment's summary, as index.json lists it (unloaded). `hours`: those already listed (extended).
SliceSegment segment_summary_from(const nlohmann::json& g, const std::string& field, std::set<std::string>& hours,
                                  const IndexRefusal& refuse);

// index.json's "writer" (remote_index.h's IndexWriter, written by its to_json): an object of id (32 hex
// digits), host (a host name: printable, at most 255 bytes, not empty) and since (ISO 8601); it is printed
// and compared, never a path.
IndexWriter writer_from(const nlohmann::json& j, const std::string& field, const IndexRefusal& refuse);

}  // namespace facecrowd::index_entries
