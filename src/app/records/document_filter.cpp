#include "app/records/document_filter.h"

#include <cstring>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/display_text.h"
#include "core/error.h"

namespace facecrowd {

namespace {

constexpr size_t kMaxQueryBytes = 64 * 1024;
constexpr int kMaxDepth = 32;

const std::set<std::string>& operators() {
  static const std::set<std::string> ops = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$exists"};
  return ops;
}

// Keys that make an object an Extended JSON value rather than an operator expression. The legacy
// {"$regex": …, "$options": …} form is left out: in a query, $regex is an operator (not supported).
bool is_extended_json_key(const std::string& key) {
  static const std::set<std::string> keys = {
      "$oid",   "$date",  "$numberLong", "$numberInt",         "$numberDouble", "$numberDecimal", "$binary",
      "$uuid",  "$timestamp", "$regularExpression", "$symbol", "$code", "$scope",
      "$minKey", "$maxKey", "$undefined", "$dbPointer", "$ref", "$id"};
  return keys.count(key) > 0;
}

int json_depth(const nlohmann::json& j) {
  int deepest = 0;
  if (j.is_structured())
    for (const auto& child : j) deepest = std::max(deepest, json_depth(child));
  return 1 + deepest;
}

bool is_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

enum class Bracket { kNull, kNumber, kString, kDocument, kArray, kBinary, kOid, kBool, kDate, kTimestamp, kOther };

Bracket bracket_of(const bson_iter_t& it) {
  switch (bson_iter_type(&it)) {
    case BSON_TYPE_NULL:
    case BSON_TYPE_UNDEFINED: return Bracket::kNull;
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64: return Bracket::kNumber;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: return Bracket::kString;
    case BSON_TYPE_DOCUMENT: return Bracket::kDocument;
    case BSON_TYPE_ARRAY: return Bracket::kArray;
    case BSON_TYPE_BINARY: return Bracket::kBinary;
    case BSON_TYPE_OID: return Bracket::kOid;
    case BSON_TYPE_BOOL: return Bracket::kBool;
    case BSON_TYPE_DATE_TIME: return Bracket::kDate;
    case BSON_TYPE_TIMESTAMP: return Bracket::kTimestamp;
    default: return Bracket::kOther;
  }
}

template <typename T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_bytes(const uint8_t* a, size_t alen, const uint8_t* b, size_t blen) {
  int c = std::memcmp(a, b, std::min(alen, blen));
  return c != 0 ? (c < 0 ? -1 : 1) : three_way(alen, blen);
}

// MongoDB-like ordering within one type bracket; nullopt when the brackets differ (never matches).
std::optional<int> compare_values(const bson_iter_t& a, const bson_iter_t& b) {
  Bracket ba = bracket_of(a), bb = bracket_of(b);
  if (ba != bb || ba == Bracket::kOther) return std::nullopt;
  switch (ba) {
    case Bracket::kNull: return 0;
    case Bracket::kNumber: {
      auto as_number = [](const bson_iter_t& it) -> long double {
        if (BSON_ITER_HOLDS_DOUBLE(&it)) return bson_iter_double(&it);
        return static_cast<long double>(bson_iter_as_int64(&it));
      };
      return three_way(as_number(a), as_number(b));
    }
    case Bracket::kString: {
      uint32_t la = 0, lb = 0;
      const char* sa = BSON_ITER_HOLDS_UTF8(&a) ? bson_iter_utf8(&a, &la) : bson_iter_symbol(&a, &la);
      const char* sb = BSON_ITER_HOLDS_UTF8(&b) ? bson_iter_utf8(&b, &lb) : bson_iter_symbol(&b, &lb);
      return compare_bytes(reinterpret_cast<const uint8_t*>(sa), la, reinterpret_cast<const uint8_t*>(sb), lb);
    }
    case Bracket::kOid: {
      int c = bson_oid_compare(bson_iter_oid(&a), bson_iter_oid(&b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Bracket::kBool: return three_way(bson_iter_bool(&a), bson_iter_bool(&b));
    case Bracket::kDate: return three_way(bson_iter_date_time(&a), bson_iter_date_time(&b));
    case Bracket::kTimestamp: {
      uint32_t ta, ia, tb, ib;
      bson_iter_timestamp(&a, &ta, &ia);
      bson_iter_timestamp(&b, &tb, &ib);
      return ta != tb ? three_way(ta, tb) : three_way(ia, ib);
    }
    case Bracket::kDocument:
    case Bracket::kArray: {
      uint32_t la = 0, lb = 0;
      const uint8_t *da = nullptr, *db = nullptr;
      if (ba == Bracket::kDocument) {
        bson_iter_document(&a, &la, &da);
        bson_iter_document(&b, &lb, &db);
      } else {
        bson_iter_array(&a, &la, &da);
        bson_iter_array(&b, &lb, &db);
      }
      return compare_bytes(da, la, db, lb);
    }
    case Bracket::kBinary: {
      bson_subtype_t sa, sb;
      uint32_t la = 0, lb = 0;
      const uint8_t *da = nullptr, *db = nullptr;
      bson_iter_binary(&a, &sa, &la, &da);
      bson_iter_binary(&b, &sb, &lb, &db);
      if (sa != sb) return three_way(int(sa), int(sb));
      return compare_bytes(da, la, db, lb);
    }
    default: return std::nullopt;
  }
}

bool find_key(const bson_iter_t& container, const std::string& key, bson_iter_t* found) {
  bson_iter_t it;
  if (BSON_ITER_HOLDS_DOCUMENT(&container) || BSON_ITER_HOLDS_ARRAY(&container)) {
    if (!bson_iter_recurse(&container, &it)) return false;
  } else {
    return false;
  }
  if (!bson_iter_find_w_len(&it, key.c_str(), int(key.size()))) return false;
  *found = it;
  return true;
}

// libbson declares bson_iter_t 128-byte aligned by an attribute on its typedef, and template arguments
// drop such attributes: a std::vector<bson_iter_t> was allocated 16-byte aligned, so every reference to
// an element was misaligned (undefined behaviour, found by UBSan in fuzz/fuzz_document_filter with the
// query {"archived": true}). A struct declared alignas carries the alignment into the allocator.
struct AlignedIter {
  alignas(alignof(bson_iter_t)) bson_iter_t it;
};
static_assert(alignof(AlignedIter) >= alignof(bson_iter_t));
using IterList = std::vector<AlignedIter>;

// Collects the values the path reaches from `value` (which `parts[i]` named), walking arrays as MongoDB
// does: a terminal array yields itself and each element; an array on the way is searched element-wise,
// and a numeric part indexes it.
void collect(const bson_iter_t& value, const std::vector<std::string>& parts, size_t i, IterList& out) {
  if (i + 1 == parts.size()) {
    out.push_back({value});
    if (BSON_ITER_HOLDS_ARRAY(&value)) {
      bson_iter_t element;
      if (bson_iter_recurse(&value, &element))
        while (bson_iter_next(&element)) out.push_back({element});
    }
    return;
  }
  const std::string& next = parts[i + 1];
  bson_iter_t found;
  if (BSON_ITER_HOLDS_DOCUMENT(&value)) {
    if (find_key(value, next, &found)) collect(found, parts, i + 1, out);
  } else if (BSON_ITER_HOLDS_ARRAY(&value)) {
    if (is_digits(next) && find_key(value, next, &found)) collect(found, parts, i + 1, out);
    bson_iter_t element;
    if (bson_iter_recurse(&value, &element))
      while (bson_iter_next(&element))
        if (BSON_ITER_HOLDS_DOCUMENT(&element) && find_key(element, next, &found)) collect(found, parts, i + 1, out);
  }
}

}  // namespace

// One condition on one path. `value` holds {"v": <value>} so the BSON stays owned and typed.
struct DocumentFilter::Clause {
  std::string path;
  std::vector<std::string> parts;
  std::string op;  // one of operators()
  Document value;

  bson_iter_t operand() const {
    bson_iter_t it;
    bson_iter_init_find(&it, value.get(), "v");
    return it;
  }

  // Equality as MongoDB means it: a null operand also matches a missing field.
  static bool equals_any(const IterList& candidates, const bson_iter_t& operand) {
    if (bracket_of(operand) == Bracket::kNull && candidates.empty()) return true;
    for (const auto& c : candidates) {
      auto cmp = compare_values(c.it, operand);
      if (cmp && *cmp == 0) return true;
    }
    return false;
  }

  bool matches(const bson_t* doc) const {
    IterList candidates;
    bson_iter_t root, first;
    if (bson_iter_init(&root, doc) && bson_iter_find_w_len(&root, parts[0].c_str(), int(parts[0].size()))) {
      first = root;
      collect(first, parts, 0, candidates);
    }
    bson_iter_t v = operand();
    if (op == "$eq") return equals_any(candidates, v);
    if (op == "$ne") return !equals_any(candidates, v);
    if (op == "$exists") return bson_iter_as_bool(&v) == !candidates.empty();
    if (op == "$in") {
      bson_iter_t element;
      if (!bson_iter_recurse(&v, &element)) return false;
      while (bson_iter_next(&element))
        if (equals_any(candidates, element)) return true;
      return false;
    }
    for (const auto& c : candidates) {
      auto cmp = compare_values(c.it, v);
      if (!cmp) continue;
      if ((op == "$gt" && *cmp > 0) || (op == "$gte" && *cmp >= 0) || (op == "$lt" && *cmp < 0) ||
          (op == "$lte" && *cmp <= 0))
        return true;
    }
    return false;
  }
};

namespace {

Document wrap_value(const nlohmann::json& value, const std::string& what) {
  return Document::from_json(nlohmann::json{{"v", value}}, what);
}

std::vector<std::string> split_path(const std::string& path, const std::string& what) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw Error(ExitCode::kBadInput, what + ": field path '" + path + "' has an empty part");
    parts.push_back(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace

DocumentFilter DocumentFilter::parse(std::string_view json_text, const std::string& what) {
  if (json_text.size() > kMaxQueryBytes)
    throw Error(ExitCode::kBadInput, what + ": longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  nlohmann::json query;
  try {
    query = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e400
    throw Error(ExitCode::kBadInput, what + " is not valid JSON: " + shortened(e.what(), 300));
  }
  if (!query.is_object()) throw Error(ExitCode::kBadInput, what + " must be a JSON object of field conditions");
  if (json_depth(query) > kMaxDepth)
    throw Error(ExitCode::kBadInput, what + ": nested deeper than " + std::to_string(kMaxDepth) + " levels");

  DocumentFilter filter;
  auto add = [&](const std::string& path, const std::string& op, const nlohmann::json& value) {
    auto clause = std::make_shared<Clause>();
    clause->path = path;
    clause->parts = split_path(path, what);
    clause->op = op;
    std::string value_what = what + ": value of '" + path + "'";
    if (op == "$in" && !value.is_array())
      throw Error(ExitCode::kBadInput, what + ": $in on '" + path + "' needs an array");
    if (op == "$exists" && !value.is_boolean())
      throw Error(ExitCode::kBadInput, what + ": $exists on '" + path + "' needs true or false");
    clause->value = wrap_value(value, value_what);
    filter.clauses_.push_back(std::move(clause));
  };

  for (const auto& [field, condition] : query.items()) {
    if (field.empty() || field[0] == '$')
      throw Error(ExitCode::kBadInput, what + ": unknown top-level operator '" + field +
                                           "' (only field conditions are supported)");
    bool is_operator_object = condition.is_object() && !condition.empty() &&
                              condition.begin().key().starts_with("$") && !is_extended_json_key(condition.begin().key());
    if (!is_operator_object) {
      add(field, "$eq", condition);
      continue;
    }
    for (const auto& [op, operand] : condition.items()) {
      if (!op.starts_with("$"))
        throw Error(ExitCode::kBadInput, what + ": field '" + field + "' mixes operators and the field '" + op + "'");
      if (!operators().count(op))
        throw Error(ExitCode::kBadInput, what + ": unknown operator '" + op + "' on field '" + field +
                                             "' (operators: $eq $ne $gt $gte $lt $lte $in $exists)");
      add(field, op, operand);
    }
  }
  return filter;
}

bool DocumentFilter::matches(const bson_t* doc) const {
  for (const auto& clause : clauses_)
    if (!clause->matches(doc)) return false;
  return true;
}

Query DocumentFilter::index_query(const CollectionSpec& spec) const {
  Query query;
  for (const auto& clause : clauses_) {
    static const std::set<std::string> pushable = {"$eq", "$gt", "$gte", "$lt", "$lte"};
    if (!pushable.count(clause->op)) continue;
    const IndexedField* field = nullptr;
    for (const auto& f : spec.fields)
      if (f.path == clause->path) field = &f;
    bool is_id = clause->path == "_id";
    if (!field && !is_id) continue;
    bson_iter_t v = clause->operand();
    std::string sql_op = clause->op == "$eq" ? "=" : clause->op == "$gt" ? ">" : clause->op == "$gte" ? ">=" :
                         clause->op == "$lt" ? "<" : "<=";
    if (is_id) {
      // Keys are text: only equality on an ObjectId or a string key is safe to push down.
      if (clause->op != "$eq") continue;
      if (BSON_ITER_HOLDS_OID(&v)) {
        char hex[25];
        bson_oid_to_string(bson_iter_oid(&v), hex);
        query.where.push_back({"_id", "=", std::string(hex, 24)});
      } else if (BSON_ITER_HOLDS_UTF8(&v)) {
        query.where.push_back({"_id", "=", std::string(bson_iter_utf8(&v, nullptr))});
      }
      continue;
    }
    if (field->type == ColumnType::kText) {
      if (BSON_ITER_HOLDS_UTF8(&v)) {
        uint32_t len = 0;
        const char* s = bson_iter_utf8(&v, &len);
        query.where.push_back({field->column, sql_op, std::string(s, len)});
      } else if (BSON_ITER_HOLDS_OID(&v)) {
        char hex[25];
        bson_oid_to_string(bson_iter_oid(&v), hex);
        query.where.push_back({field->column, sql_op, std::string(hex, 24)});
      }
      continue;
    }
    // Integer columns hold dates as ms, bools as 0/1, and doubles truncated toward zero. A strict bound on
    // an integer operand is widened (> to >=, < to <=) so a truncated double that matches is never lost.
    if (BSON_ITER_HOLDS_DATE_TIME(&v)) {
      query.where.push_back({field->column, sql_op, int64_t(bson_iter_date_time(&v))});
    } else if (BSON_ITER_HOLDS_BOOL(&v) && clause->op == "$eq") {
      query.where.push_back({field->column, "=", int64_t(bson_iter_bool(&v) ? 1 : 0)});
    } else if (BSON_ITER_HOLDS_INT32(&v) || BSON_ITER_HOLDS_INT64(&v)) {
      std::string widened = sql_op == ">" ? ">=" : sql_op == "<" ? "<=" : sql_op;
      query.where.push_back({field->column, widened, bson_iter_as_int64(&v)});
    }
  }
  return query;
}

}  // namespace facecrowd
