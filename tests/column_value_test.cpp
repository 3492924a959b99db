// with_column_values (store/column_value.h) binds every indexed column of a document in one pass; it must
// give each field exactly what with_column_value's search per field gives: the first element of the name,
// NULL when missing or of a type the column does not take, dotted paths (fs.files' metadata.kind) followed.
#include <gtest/gtest.h>

#include <bson/bson.h>

#include <string>
#include <variant>
#include <vector>

#include "store/column_value.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

using Value = std::variant<std::monostate, int64_t, std::string>;

Value own(auto v) {
  if constexpr (std::is_same_v<decltype(v), std::string_view>) return std::string(v);
  else return v;
}

std::vector<bson_t*> documents() {
  std::vector<bson_t*> docs;
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "5f1d7e9a2b3c4d5e6f708192");
  bson_t* b = bson_new();  // every field present, of the column's type
  BSON_APPEND_OID(b, "_id", &oid);
  for (const char* key : {"username", "email", "name", "externalId", "personId", "session", "location", "action",
                          "target", "sha256", "files_id"})
    BSON_APPEND_UTF8(b, key, (std::string("v-") + key).c_str());
  for (const char* key : {"timestamp", "archived", "uploadDate", "n"}) BSON_APPEND_INT64(b, key, 1700000000000);
  bson_t meta;
  BSON_APPEND_DOCUMENT_BEGIN(b, "metadata", &meta);
  BSON_APPEND_UTF8(&meta, "kind", "face");
  bson_append_document_end(b, &meta);
  docs.push_back(b);
  b = bson_new();  // duplicates: the first of each name counts; types the columns refuse
  BSON_APPEND_UTF8(b, "timestamp", "not a number");
  BSON_APPEND_DATE_TIME(b, "timestamp", 5);
  BSON_APPEND_INT32(b, "personId", 7);
  BSON_APPEND_UTF8(b, "personId", "second");
  BSON_APPEND_OID(b, "files_id", &oid);
  BSON_APPEND_DOUBLE(b, "n", 2.9);
  BSON_APPEND_BOOL(b, "archived", true);
  BSON_APPEND_NULL(b, "session");
  BSON_APPEND_UTF8(b, "metadata.kind", "a key with a dot, not a path");
  BSON_APPEND_INT32(b, "TIMESTAMP", 9);  // names are case-sensitive
  docs.push_back(b);
  docs.push_back(bson_new());  // nothing at all
  return docs;
}

TEST(ColumnValues, OnePassGivesEveryFieldWhatTheSearchPerFieldGives) {
  auto docs = documents();
  for (const auto& spec : collection_specs())
    for (size_t d = 0; d < docs.size(); ++d) {
      std::vector<Value> one_pass(spec.fields.size()), per_field;
      with_column_values(spec, docs[d], [&](size_t i, auto v) { one_pass.at(i) = own(v); });
      for (const auto& field : spec.fields) with_column_value(field, docs[d], [&](auto v) { per_field.push_back(own(v)); });
      EXPECT_EQ(one_pass, per_field) << spec.name << ", document " << d;
    }
  Value first_timestamp;
  with_column_values(*find_collection_spec("attendances"), docs[1], [&](size_t i, auto v) {
    if (i == 2) first_timestamp = own(v);
  });
  EXPECT_EQ(first_timestamp, Value{});  // the first "timestamp" is text: NULL in an INTEGER column
  for (auto* b : docs) bson_destroy(b);
}

}  // namespace
}  // namespace facecrowd
