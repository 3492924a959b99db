// One source document seen through its collection's mapping (import_mapping.h): for each facecrowd
// field, the first of its `from` fields the document has (null and undefined count as absent), and the
// rest of the document — every top-level field no mapped field took — as the `legacy` subdocument.
// Plus the value conversions the import needs, each returning nullopt when the value has another type.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/import/import_mapping.h"

namespace facecrowd {

class MappedDocument {
 public:
  // `data` must stay valid while this object is used.
  MappedDocument(const uint8_t* data, size_t size, const CollectionMapping& mapping);

  const bson_t* bson() const { return &doc_; }
  // The `_id` as the store's key text (ObjectId hex, string, integer); empty when missing or of another type.
  const std::string& id_key() const { return id_key_; }
  bool id_is_object_id() const { return id_oid_; }
  // Appends the source `_id` element unchanged under "_id".
  void append_id(bson_t* out) const;

  // The value for `target`, or nullopt when the document has none of its source fields.
  std::optional<bson_iter_t> field(const std::string& target) const;
  // Top-level fields kept under legacy (in document order).
  const std::vector<std::string>& legacy_fields() const { return legacy_; }
  // Moves the source field behind `target` into legacy (a value the import could not use as such).
  void keep_in_legacy(const std::string& target);
  // Appends {legacy: {...}} to `out` when there is any legacy field.
  void append_legacy(bson_t* out, const char* key = "legacy") const;

 private:
  bson_t doc_;
  const CollectionMapping& mapping_;
  std::string id_key_;
  bool id_oid_ = false;
  std::vector<std::pair<std::string, std::string>> taken_;  // target -> source field
  std::vector<std::string> legacy_;
};

// Every top-level field name of a document (for the mapping's presence check).
void collect_field_names(const uint8_t* data, size_t size, std::set<std::string>& names);

std::optional<std::string> import_text(const bson_iter_t& it);
// A BSON date, an ISO 8601 string, or a number of milliseconds since the epoch.
std::optional<int64_t> import_date_millis(const bson_iter_t& it);
std::optional<double> import_number(const bson_iter_t& it);
std::optional<bool> import_bool(const bson_iter_t& it);
// An ObjectId, or a string of 24 hex characters: as lower-case hex.
std::optional<std::string> import_object_id(const bson_iter_t& it);
// One id or an array of ids; nullopt when any element is not an id.
std::optional<std::vector<std::string>> import_object_ids(const bson_iter_t& it);
// Descriptors: one array of 128 numbers, an array of such arrays, or a Float32Array serialised as an
// object {"0": x, …, "127": y}. Returns the vectors as read (not normalised); `why` says what was wrong.
std::optional<std::vector<std::vector<double>>> import_descriptors(const bson_iter_t& it, std::string& why);

}  // namespace facecrowd
