// The value an indexed field of a document takes in its SQL column (store/schema.h), in one place: the
// store binds it when it writes a document, and the restore scan checks unique indexes with it before a
// restore builds them (so `restore --dry-run` and `verify` refuse what the real restore's index build
// would). The value is passed to `fn` as std::monostate (NULL: the field is missing or of a type the
// column does not take), int64_t, or std::string_view (valid only during the call; an ObjectId as 24 hex
// characters). Nothing is allocated: this runs for every document a restore loads.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "store/schema.h"

namespace facecrowd {

// The column value of the element `it` points at (found at `field`'s path).
template <class Fn>
void column_value_at(const IndexedField& field, const bson_iter_t& it, Fn&& fn) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_UTF8: {
      uint32_t len;
      const char* s = bson_iter_utf8(&it, &len);
      if (field.type == ColumnType::kText) fn(std::string_view(s, len));
      else fn(std::monostate{});
      break;
    }
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(&it), hex);
      fn(std::string_view(hex, 24));
      break;
    }
    case BSON_TYPE_INT32: fn(int64_t(bson_iter_int32(&it))); break;
    case BSON_TYPE_INT64: fn(bson_iter_int64(&it)); break;
    case BSON_TYPE_DOUBLE: fn(int64_t(bson_iter_double(&it))); break;
    case BSON_TYPE_BOOL: fn(int64_t(bson_iter_bool(&it) ? 1 : 0)); break;
    case BSON_TYPE_DATE_TIME: fn(bson_iter_date_time(&it)); break;
    default: fn(std::monostate{});
  }
}

template <class Fn>
void with_column_value(const IndexedField& field, const bson_t* doc, Fn&& fn) {
  bson_iter_t root, it;
  if (!bson_iter_init(&root, doc) || !bson_iter_find_descendant(&root, field.path.c_str(), &it)) {
    fn(std::monostate{});
    return;
  }
  column_value_at(field, it, fn);
}

// Every field of `spec`, in order, as with_column_value gives it: fn(i, value) for spec.fields[i]. The
// top-level fields (no dot in the path: all but fs.files' metadata.kind) are found in one pass over the
// document, the first element of each name as bson_iter_find would find it, instead of one search from
// the start per field: a restore binds every document's columns through here.
template <class Fn>
void with_column_values(const CollectionSpec& spec, const bson_t* doc, Fn&& fn) {
  constexpr size_t kMaxFields = 8;
  struct Found {  // libbson's 128-byte alignment is on the typedef, which an array drops: a struct keeps it
    alignas(alignof(bson_iter_t)) bson_iter_t it;
  };
  const size_t n = spec.fields.size();
  Found found[kMaxFields];
  bool seen[kMaxFields] = {}, top_level[kMaxFields] = {};
  size_t wanted = 0;
  for (size_t i = 0; i < n && i < kMaxFields; ++i)
    if (spec.fields[i].path.find('.') == std::string::npos) {
      top_level[i] = true;
      ++wanted;
    }
  bson_iter_t it;
  if (wanted && bson_iter_init(&it, doc))
    while (wanted && bson_iter_next(&it)) {
      const char* key = bson_iter_key(&it);
      for (size_t i = 0; i < n && i < kMaxFields; ++i)
        if (top_level[i] && !seen[i] && std::strcmp(key, spec.fields[i].path.c_str()) == 0) {
          found[i].it = it;
          seen[i] = true;
          --wanted;
        }
    }
  for (size_t i = 0; i < n; ++i) {
    auto bound = [&](auto value) { fn(i, value); };
    if (i >= kMaxFields || !top_level[i]) with_column_value(spec.fields[i], doc, bound);
    else if (seen[i]) column_value_at(spec.fields[i], found[i].it, bound);
    else fn(i, std::monostate{});
  }
}

}  // namespace facecrowd
