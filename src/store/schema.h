// The collections of database `face-recognition` and the fields the store indexes. A collection is a
// table of (_id key, BSON document); each indexed field is copied out of the document into a column at
// write time, so operators' queries (by person, session, time range, location) use SQL indexes while the
// document stays the single source of truth. Only the collections listed here exist.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace facecrowd {

enum class ColumnType {
  kText,     // UTF-8 string or ObjectId (as 24 hex characters)
  kInteger,  // int32, int64, double (truncated), bool (0/1) or date (ms since epoch)
};

struct IndexedField {
  std::string column;  // SQL column name, also the name used in store queries
  std::string path;    // dotted path inside the document, e.g. "metadata.kind"
  ColumnType type;
};

struct IndexSpec {
  std::vector<std::string> columns;
  bool unique = false;
};

struct CollectionSpec {
  std::string name;
  std::vector<IndexedField> fields;
  std::vector<IndexSpec> indexes;
};

inline constexpr std::string_view kDefaultDatabase = "face-recognition";

// All collections, in the order backups write them (fs.chunks last: it is the bulk).
const std::vector<CollectionSpec>& collection_specs();
// nullptr when `name` is not a collection.
const CollectionSpec* find_collection_spec(std::string_view name);
// "users, faceprofiles, …" for error messages.
std::string collection_names_joined();

}  // namespace facecrowd
