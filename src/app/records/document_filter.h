// A document filter written as a MongoDB query, as `mongoexport --query` takes it: a JSON object of
// conditions on (dotted) fields, all of which must hold.
//
//   {"archived": true}                                 plain value: equality
//   {"personId": {"$oid": "65a…"}}                     Extended JSON values ($oid, $date, $numberLong, …)
//   {"timestamp": {"$gte": {"$date": "2024-01-01T00:00:00Z"}, "$lt": {"$date": …}}}
//   {"session": {"$in": ["a", "b"]}, "box": {"$exists": true}, "location": {"$ne": "gate"}}
//
// Operators: $eq $ne $gt $gte $lt $lte $in $exists. Semantics follow MongoDB's where it matters: a path
// walks into arrays (any element may match), numbers compare across int32/int64/double, comparisons
// between different types (a string and a date) never match, {"f": null} matches a missing field.
// Anything else — malformed JSON, an unknown operator, a mix of operators and fields — is rejected
// (Error kBadInput naming the query) rather than guessed at.
#pragma once

#include <bson/bson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.h"
#include "store/schema.h"

namespace facecrowd {

class DocumentFilter {
 public:
  // `what` names the query in errors, e.g. "--query '{\"a\": 1}'". Bounds: 64 KiB text, depth 32.
  static DocumentFilter parse(std::string_view json_text, const std::string& what);
  static DocumentFilter match_all() { return DocumentFilter(); }

  bool matches(const bson_t* doc) const;
  bool matches_everything() const { return clauses_.empty(); }

  // The conditions that can run on the store's indexed columns of `spec` (plain equality or ranges on an
  // indexed field). The store query returns every document matches() accepts, and possibly more, so
  // callers still apply matches() to each document it returns.
  Query index_query(const CollectionSpec& spec) const;

  struct Clause;

 private:
  DocumentFilter() = default;
  std::vector<std::shared_ptr<const Clause>> clauses_;
};

}  // namespace facecrowd
