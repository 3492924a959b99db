#include "core/object_id.h"

#include <bson/bson.h>

namespace facecrowd {

std::string new_object_id() {
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);  // libbson's generator: time + process-random + atomic counter
  char hex[25];
  bson_oid_to_string(&oid, hex);
  return hex;
}

bool is_object_id(const std::string& text) {
  return bson_oid_is_valid(text.c_str(), text.size()) && text.size() == 24;
}

}  // namespace facecrowd
