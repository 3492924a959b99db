#include "app/import/mapped_document.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "core/object_id.h"
#include "core/utc_time.h"
#include "store/document.h"

namespace facecrowd {

namespace {
bool present(const bson_iter_t& it) {
  auto t = bson_iter_type(&it);
  return t != BSON_TYPE_NULL && t != BSON_TYPE_UNDEFINED;
}
}  // namespace

MappedDocument::MappedDocument(const uint8_t* data, size_t size, const CollectionMapping& mapping) : mapping_(mapping) {
  bson_init_static(&doc_, data, size);
  bson_iter_t it;
  if (bson_iter_init_find(&it, &doc_, "_id")) {
    auto t = bson_iter_type(&it);
    if (t == BSON_TYPE_OID || t == BSON_TYPE_UTF8 || t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64) {
      id_key_ = id_key_of(it);
      id_oid_ = t == BSON_TYPE_OID;
    }
  }
  std::set<std::string> used{"_id"};
  for (const auto& f : mapping.fields)
    for (const auto& name : f.from) {
      bson_iter_t fi;
      if (bson_iter_init_find(&fi, &doc_, name.c_str()) && present(fi)) {
        taken_.emplace_back(f.target, name);
        used.insert(name);
        break;
      }
    }
  if (bson_iter_init(&it, &doc_))
    while (bson_iter_next(&it))
      if (!used.count(bson_iter_key(&it))) legacy_.push_back(bson_iter_key(&it));
}

void MappedDocument::append_id(bson_t* out) const {
  bson_iter_t it;
  if (bson_iter_init_find(&it, &doc_, "_id")) bson_append_iter(out, "_id", 3, &it);
}

std::optional<bson_iter_t> MappedDocument::field(const std::string& target) const {
  for (const auto& [t, source] : taken_)
    if (t == target) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, &doc_, source.c_str())) return it;
    }
  return std::nullopt;
}

void MappedDocument::keep_in_legacy(const std::string& target) {
  for (auto it = taken_.begin(); it != taken_.end(); ++it)
    if (it->first == target) {
      legacy_.push_back(it->second);
      taken_.erase(it);
      return;
    }
}

void MappedDocument::append_legacy(bson_t* out, const char* key) const {
  if (legacy_.empty()) return;
  bson_t child;
  bson_append_document_begin(out, key, -1, &child);
  bson_iter_t it;
  if (bson_iter_init(&it, &doc_))
    while (bson_iter_next(&it))
      if (std::find(legacy_.begin(), legacy_.end(), bson_iter_key(&it)) != legacy_.end())
        bson_append_iter(&child, bson_iter_key(&it), -1, &it);
  bson_append_document_end(out, &child);
}

void collect_field_names(const uint8_t* data, size_t size, std::set<std::string>& names) {
  bson_t doc;
  bson_iter_t it;
  if (!bson_init_static(&doc, data, size) || !bson_iter_init(&it, &doc)) return;
  while (bson_iter_next(&it))
    if (present(it)) names.insert(bson_iter_key(&it));
}

std::optional<std::string> import_text(const bson_iter_t& it) {
  if (!BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  uint32_t n = 0;
  const char* s = bson_iter_utf8(&it, &n);
  return std::string(s, n);
}

std::optional<int64_t> import_date_millis(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_DATE_TIME: return bson_iter_date_time(&it);
    case BSON_TYPE_INT64: return bson_iter_int64(&it);
    case BSON_TYPE_INT32: return bson_iter_int32(&it);
    case BSON_TYPE_DOUBLE: {
      double d = bson_iter_double(&it);
      if (!std::isfinite(d)) return std::nullopt;
      return int64_t(d);
    }
    case BSON_TYPE_UTF8: return parse_iso8601(*import_text(it));
    default: return std::nullopt;
  }
}

std::optional<double> import_number(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_DOUBLE: {
      double d = bson_iter_double(&it);
      return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
    }
    case BSON_TYPE_INT32: return bson_iter_int32(&it);
    case BSON_TYPE_INT64: return double(bson_iter_int64(&it));
    case BSON_TYPE_DECIMAL128: {
      bson_decimal128_t dec;
      bson_iter_decimal128(&it, &dec);
      char text[BSON_DECIMAL128_STRING];
      bson_decimal128_to_string(&dec, text);
      char* end = nullptr;
      double d = std::strtod(text, &end);
      return end && *end == '\0' && std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::optional<bool> import_bool(const bson_iter_t& it) {
  if (BSON_ITER_HOLDS_BOOL(&it)) return bson_iter_bool(&it);
  if (BSON_ITER_HOLDS_INT32(&it)) return bson_iter_int32(&it) != 0;
  return std::nullopt;
}

std::optional<std::string> import_object_id(const bson_iter_t& it) {
  if (BSON_ITER_HOLDS_OID(&it)) {
    char hex[25];
    bson_oid_to_string(bson_iter_oid(&it), hex);
    return std::string(hex);
  }
  if (auto text = import_text(it); text && is_object_id(*text)) {
    std::string lower = *text;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return lower;
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> import_object_ids(const bson_iter_t& it) {
  if (!BSON_ITER_HOLDS_ARRAY(&it)) {
    auto one = import_object_id(it);
    if (!one) return std::nullopt;
    return std::vector<std::string>{*one};
  }
  std::vector<std::string> out;
  bson_iter_t child;
  bson_iter_t copy = it;
  if (!bson_iter_recurse(&copy, &child)) return std::nullopt;
  while (bson_iter_next(&child)) {
    auto id = import_object_id(child);
    if (!id) return std::nullopt;
    out.push_back(*id);
  }
  return out;
}

namespace {
// A flat vector of numbers (array, or an object keyed "0".."n-1"); nullopt when it is not one.
std::optional<std::vector<double>> number_vector(const bson_iter_t& it) {
  if (!BSON_ITER_HOLDS_ARRAY(&it) && !BSON_ITER_HOLDS_DOCUMENT(&it)) return std::nullopt;
  bson_iter_t copy = it, child;
  if (!bson_iter_recurse(&copy, &child)) return std::nullopt;
  std::vector<double> out;
  size_t index = 0;
  while (bson_iter_next(&child)) {
    if (BSON_ITER_HOLDS_DOCUMENT(&it) && std::string(bson_iter_key(&child)) != std::to_string(index)) return std::nullopt;
    auto n = import_number(child);
    if (!n) return std::nullopt;
    out.push_back(*n);
    ++index;
  }
  return out;
}
}  // namespace

std::optional<std::vector<std::vector<double>>> import_descriptors(const bson_iter_t& it, std::string& why) {
  if (auto flat = number_vector(it)) {
    if (flat->size() != 128) {
      why = "a descriptor of " + std::to_string(flat->size()) + " numbers, not 128";
      return std::nullopt;
    }
    return std::vector<std::vector<double>>{*flat};
  }
  if (!BSON_ITER_HOLDS_ARRAY(&it)) {
    why = "descriptors are neither an array of 128 numbers nor an array of such arrays";
    return std::nullopt;
  }
  std::vector<std::vector<double>> out;
  bson_iter_t copy = it, child;
  if (!bson_iter_recurse(&copy, &child)) return std::nullopt;
  while (bson_iter_next(&child)) {
    auto v = number_vector(child);
    if (!v) {
      why = "descriptor #" + std::to_string(out.size() + 1) + " is not an array of numbers";
      return std::nullopt;
    }
    if (v->size() != 128) {
      why = "descriptor #" + std::to_string(out.size() + 1) + " has " + std::to_string(v->size()) + " numbers, not 128";
      return std::nullopt;
    }
    out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace facecrowd
