#include "backup/bson_check.h"

#include <bson/bson.h>

#include <cstring>

namespace facecrowd {
namespace {

// Valid UTF-8, quickly: a run of ASCII bytes is valid without decoding; only a string with a byte >= 0x80
// goes through libbson's validator (which checks overlong forms, surrogates and the range). `allow_nul`:
// whether U+0000 may appear.
bool utf8_ok(const char* s, size_t n, bool allow_nul) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, s + i, 8);
    if (word & 0x8080808080808080ull) return bson_utf8_validate(s, n, allow_nul);
  }
  for (; i < n; ++i)
    if (static_cast<unsigned char>(s[i]) & 0x80) return bson_utf8_validate(s, n, allow_nul);
  return allow_nul || std::memchr(s, 0, n) == nullptr;
}

class Walk {
 public:
  explicit Walk(const uint8_t* top) : top_(top) {}
  const BsonCheck& result() const { return result_; }

  // A (nested) document at `data`: its length and end byte, then every element.
  bool document(const uint8_t* data, uint32_t len, int depth) {
    bson_t doc;
    bson_iter_t it;
    if (!bson_init_static(&doc, data, len) || !bson_iter_init(&it, &doc)) return corrupt(data, 0);
    return elements(&it, data, depth);
  }

 private:
  bool corrupt(const uint8_t* base, uint32_t at) {
    result_ = {BsonVerdict::kCorrupt, size_t(base - top_) + at};
    return false;
  }
  bool bad_string() {
    result_ = {BsonVerdict::kBadString, 0};
    return false;
  }

  // `base`: where the document iterated starts (libbson clears it->raw when an element does not decode).
  bool elements(bson_iter_t* it, const uint8_t* base, int depth) {
    if (depth > kMaxBsonNesting) return bad_string();
    while (bson_iter_next(it)) {
      const char* key = bson_iter_key(it);
      if (!utf8_ok(key, std::strlen(key), false)) return bad_string();
      uint32_t n = 0;
      switch (bson_iter_type(it)) {
        case BSON_TYPE_UTF8: {
          const char* value = bson_iter_utf8(it, &n);
          if (!utf8_ok(value, n, true)) return bad_string();
          break;
        }
        case BSON_TYPE_SYMBOL: {
          const char* value = bson_iter_symbol(it, &n);
          if (!utf8_ok(value, n, true)) return bad_string();
          break;
        }
        case BSON_TYPE_CODE: {
          const char* value = bson_iter_code(it, &n);
          if (!utf8_ok(value, n, true)) return bad_string();
          break;
        }
        case BSON_TYPE_CODEWSCOPE: {
          uint32_t scope_len = 0;
          const uint8_t* scope = nullptr;
          const char* code = bson_iter_codewscope(it, &n, &scope_len, &scope);
          if (!code || !scope) return corrupt(base, it->off);
          if (!utf8_ok(code, n, true)) return bad_string();
          if (!document(scope, scope_len, depth + 1)) return false;
          break;
        }
        case BSON_TYPE_REGEX: {
          const char* options = nullptr;
          const char* regex = bson_iter_regex(it, &options);
          if (!regex) return corrupt(base, it->off);
          if (!utf8_ok(regex, std::strlen(regex), false) || (options && !utf8_ok(options, std::strlen(options), false)))
            return bad_string();
          break;
        }
        case BSON_TYPE_DBPOINTER: {
          const char* collection = nullptr;
          const bson_oid_t* oid = nullptr;
          bson_iter_dbpointer(it, &n, &collection, &oid);
          if (!collection) return corrupt(base, it->off);
          if (!utf8_ok(collection, n, true)) return bad_string();
          break;
        }
        case BSON_TYPE_DOCUMENT:
        case BSON_TYPE_ARRAY: {
          const uint8_t* data = nullptr;
          uint32_t len = 0;
          if (bson_iter_type(it) == BSON_TYPE_DOCUMENT) bson_iter_document(it, &len, &data);
          else bson_iter_array(it, &len, &data);
          if (!data) return corrupt(base, it->off);
          if (!document(data, len, depth + 1)) return false;
          break;
        }
        default: break;
      }
    }
    // bson_iter_next also ends at an element it cannot decode; err_off says so (what bson_validate's
    // walk reports as corrupt).
    if (it->err_off) return corrupt(base, it->err_off);
    return true;
  }

  const uint8_t* top_;
  BsonCheck result_;
};

}  // namespace

BsonCheck check_bson_document(const uint8_t* doc, size_t len) {
  // libbson aborts the process on a null buffer (a precondition, not an error); the smallest document is 5 bytes.
  if (doc == nullptr || len < 5 || len > UINT32_MAX) return {BsonVerdict::kCorrupt, 0};
  Walk walk(doc);
  walk.document(doc, uint32_t(len), 0);
  return walk.result();
}

}  // namespace facecrowd
