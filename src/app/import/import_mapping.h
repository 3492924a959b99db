// The mapping `facecrowd import` applies to the old application's collections: which source collection
// becomes which facecrowd collection, and which source field fills each facecrowd field. The default
// (src/app/import/default_mapping.json, printed by `facecrowd import --print-mapping`) covers the usual
// Mongoose shapes; an operator edits a copy and passes it with --mapping FILE.
//
//   {"format": "facecrowd-import-mapping", "version": 1,
//    "db": "face-recognition",                  // the dump's database this mapping is for
//    "unknownCollections": "refuse",            // the only policy: facecrowd keeps a fixed set of collections
//    "collections": {
//      "<source collection>": {"as": "users"|"faceprofiles"|"attendances"|"crowdcounts"|"auditlogs"|"fs.files"|"fs.chunks",
//                              "kind": "facial_image",            // fs.files only: the kind of unreferenced files
//                              "fields": {"<facecrowd field>": {"from": ["<source field>", …],  // first present wins
//                                                               "required": true,   // a document without it is refused
//                                                               "optional": true,   // no document need have it
//                                                               "default": "…",     // used when it is absent
//                                                               "values": {"<old>": "<new>"}}}}}}  // value translation
//
// The facecrowd fields each `as` understands are fixed (kTargetFields); every source field that no mapped
// field takes is kept under the document's `legacy` (auditlogs: under details.legacy, which the audit
// chain seals). A field that is neither `required` nor `optional` must occur in at least one document of a
// non-empty collection: a mapping naming a field no document has is an error, not a silent gap.
//
// Errors: Error(kBadInput) naming the mapping (file or "the default mapping"), the collection and the
// field, for malformed JSON, an unknown `as`, a facecrowd field the `as` does not have, an empty `from`,
// two source collections mapped to one GridFS collection.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace facecrowd {

// The text of src/app/import/default_mapping.json (compiled in).
const char* default_import_mapping_text();

struct FieldMapping {
  std::string target;             // facecrowd field
  std::vector<std::string> from;  // source field names, first present wins
  bool required = false;
  bool optional = false;
  std::optional<nlohmann::json> default_value;
  std::map<std::string, std::string> values;  // empty: values kept as they are
};

struct CollectionMapping {
  std::string source;             // the dump's collection
  std::string as;                 // facecrowd collection
  std::string kind;               // fs.files: the file kind of files nothing points to
  std::vector<FieldMapping> fields;
  const FieldMapping* field(const std::string& target) const;
};

struct ImportMapping {
  std::string label;              // "the default mapping" or "mapping 'FILE'"
  std::string db;
  std::vector<CollectionMapping> collections;
  std::string text_sha256;        // of the mapping's text, recorded in the import's audit entry

  const CollectionMapping* for_source(const std::string& collection) const;
  static ImportMapping parse(const std::string& text, const std::string& label);
  static ImportMapping default_mapping();
};

// facecrowd fields each `as` understands.
const std::map<std::string, std::set<std::string>>& import_target_fields();

}  // namespace facecrowd
