// The value an indexed field of a document takes in its SQL column (store/schema.h), in one place: the
// store binds it when it writes a document, and the restore scan checks unique indexes with it before a
// restore builds them (so `restore --dry-run` and `verify` refuse what the real restore's index build
// would). The value is passed to `fn` as std::monostate (NULL: the field is missing or of a type the
// column does not take), int64_t, or std::string_view (valid only during the call; an ObjectId as 24 hex
// characters). Nothing is allocated: this runs for every document a restore loads.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <variant>

#include "store/schema.h"

namespace facecrowd {

template <class Fn>
void with_column_value(const IndexedField& field, const bson_t* doc, Fn&& fn) {
  bson_iter_t root, it;
  if (!bson_iter_init(&root, doc) || !bson_iter_find_descendant(&root, field.path.c_str(), &it)) {
    fn(std::monostate{});
    return;
  }
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

}  // namespace facecrowd
