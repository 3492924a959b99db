// check_bson_document (backup/bson_check.h) replaced "a depth-bounded UTF-8 walk, then libbson's
// bson_validate(BSON_VALIDATE_NONE)" in every check of a backup's documents. It must stay exactly as strict:
// every document the old pair refused, and every document bson_validate refuses with or without its UTF-8
// check, is refused. The old pair is kept below, verbatim, as the reference; hundreds of thousands of
// mutations of documents holding every BSON type are run through both.
#include <gtest/gtest.h>

#include <bson/bson.h>

#include <cstring>
#include <string>
#include <vector>

#include "backup/bson_check.h"

namespace facecrowd {
namespace {

// ---- The check as it was (restore_scan.cpp before bson_check.h), the reference ----

bool legacy_utf8_ok(const char* s, size_t n, bool allow_nul) {
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

bool legacy_strings_are_utf8(bson_iter_t* it, int depth);

bool legacy_document_strings_are_utf8(const uint8_t* data, uint32_t len, int depth) {
  bson_t doc;
  bson_iter_t child;
  return bson_init_static(&doc, data, len) && bson_iter_init(&child, &doc) && legacy_strings_are_utf8(&child, depth);
}

bool legacy_strings_are_utf8(bson_iter_t* it, int depth) {
  if (depth > 100) return false;
  while (bson_iter_next(it)) {
    const char* key = bson_iter_key(it);
    if (!legacy_utf8_ok(key, std::strlen(key), false)) return false;
    uint32_t n = 0;
    switch (bson_iter_type(it)) {
      case BSON_TYPE_UTF8: {
        const char* value = bson_iter_utf8(it, &n);
        if (!legacy_utf8_ok(value, n, true)) return false;
        break;
      }
      case BSON_TYPE_SYMBOL: {
        const char* value = bson_iter_symbol(it, &n);
        if (!legacy_utf8_ok(value, n, true)) return false;
        break;
      }
      case BSON_TYPE_CODE: {
        const char* value = bson_iter_code(it, &n);
        if (!legacy_utf8_ok(value, n, true)) return false;
        break;
      }
      case BSON_TYPE_CODEWSCOPE: {
        uint32_t scope_len = 0;
        const uint8_t* scope = nullptr;
        const char* code = bson_iter_codewscope(it, &n, &scope_len, &scope);
        if (!code || !legacy_utf8_ok(code, n, true) || !legacy_document_strings_are_utf8(scope, scope_len, depth + 1))
          return false;
        break;
      }
      case BSON_TYPE_REGEX: {
        const char* options = nullptr;
        const char* regex = bson_iter_regex(it, &options);
        if (!regex || !legacy_utf8_ok(regex, std::strlen(regex), false) ||
            (options && !legacy_utf8_ok(options, std::strlen(options), false)))
          return false;
        break;
      }
      case BSON_TYPE_DBPOINTER: {
        const char* collection = nullptr;
        const bson_oid_t* oid = nullptr;
        bson_iter_dbpointer(it, &n, &collection, &oid);
        if (!collection || !legacy_utf8_ok(collection, n, true)) return false;
        break;
      }
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY: {
        bson_iter_t child;
        if (!bson_iter_recurse(it, &child) || !legacy_strings_are_utf8(&child, depth + 1)) return false;
        break;
      }
      default: break;
    }
  }
  return true;
}

// What restore_scan.cpp's check_document accepted before: the length field, the walk, bson_validate.
bool legacy_accepts(const std::string& d) {
  bson_t view;
  bson_iter_t it;
  size_t off = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(d.data());
  return bson_init_static(&view, p, d.size()) && bson_iter_init(&it, &view) && legacy_strings_are_utf8(&it, 0) &&
         bson_validate(&view, BSON_VALIDATE_NONE, &off);
}

bool validate_accepts(const std::string& d, bson_validate_flags_t flags) {
  bson_t view;
  size_t off = 0;
  return bson_init_static(&view, reinterpret_cast<const uint8_t*>(d.data()), d.size()) && bson_validate(&view, flags, &off);
}

bool new_accepts(const std::string& d) {
  return check_bson_document(reinterpret_cast<const uint8_t*>(d.data()), d.size()).verdict == BsonVerdict::kSound;
}

std::string bytes_of(bson_t* b) {
  std::string s(reinterpret_cast<const char*>(bson_get_data(b)), b->len);
  bson_destroy(b);
  return s;
}

// Documents holding every BSON type, nested documents and arrays, code with scope, and strings with
// multi-byte UTF-8 and NUL bytes: the seeds the mutations start from.
std::vector<std::string> seeds() {
  std::vector<std::string> out;
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "5f1d7e9a2b3c4d5e6f708192");
  {
    bson_t* b = bson_new();
    BSON_APPEND_OID(b, "_id", &oid);
    BSON_APPEND_UTF8(b, "name", "Zoë Ångström 名前");
    bson_append_utf8(b, "nul", 3, "a\0b", 3);
    BSON_APPEND_DOUBLE(b, "d", 1.5);
    BSON_APPEND_INT32(b, "i", 7);
    BSON_APPEND_INT64(b, "l", 1ll << 40);
    BSON_APPEND_BOOL(b, "t", true);
    BSON_APPEND_DATE_TIME(b, "when", 1700000000000);
    BSON_APPEND_NULL(b, "null");
    BSON_APPEND_UNDEFINED(b, "undef");
    BSON_APPEND_TIMESTAMP(b, "ts", 5, 6);
    BSON_APPEND_MINKEY(b, "min");
    BSON_APPEND_MAXKEY(b, "max");
    bson_decimal128_t dec;
    bson_decimal128_from_string("12.5", &dec);
    BSON_APPEND_DECIMAL128(b, "dec", &dec);
    const uint8_t bin[] = {1, 2, 3, 0, 0xff};
    BSON_APPEND_BINARY(b, "bin", BSON_SUBTYPE_BINARY, bin, sizeof bin);
    BSON_APPEND_REGEX(b, "re", "^a.*é$", "imx");
    BSON_APPEND_SYMBOL(b, "sym", "sÿmbol");
    BSON_APPEND_CODE(b, "code", "function () { return 'ü'; }");
    bson_append_dbpointer(b, "ptr", 3, "coll.ëction", &oid);
    bson_t scope;
    bson_init(&scope);
    BSON_APPEND_UTF8(&scope, "x", "scöpe");
    bson_t inner;
    BSON_APPEND_DOCUMENT_BEGIN(&scope, "in", &inner);
    BSON_APPEND_INT32(&inner, "y", 1);
    bson_append_document_end(&scope, &inner);
    BSON_APPEND_CODE_WITH_SCOPE(b, "cws", "f(x)", &scope);
    bson_destroy(&scope);
    BSON_APPEND_UTF8(b, "after", "after the scope");
    out.push_back(bytes_of(b));
  }
  {
    bson_t* b = bson_new();
    BSON_APPEND_UTF8(b, "_id", "string-id");
    bson_t child, arr, deeper;
    BSON_APPEND_DOCUMENT_BEGIN(b, "metadata", &child);
    BSON_APPEND_UTF8(&child, "kind", "face");
    BSON_APPEND_ARRAY_BEGIN(&child, "embedding", &arr);
    for (int k = 0; k < 6; ++k) {
      char key[16];
      const char* kp = nullptr;
      bson_uint32_to_string(uint32_t(k), &kp, key, sizeof key);
      BSON_APPEND_DOUBLE(&arr, kp, 0.25 * k);
    }
    bson_append_array_end(&child, &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&child, "deeper", &deeper);
    BSON_APPEND_UTF8(&deeper, "where", "日本");
    bson_append_document_end(&child, &deeper);
    bson_append_document_end(b, &child);
    BSON_APPEND_INT32(b, "n", 3);
    out.push_back(bytes_of(b));
  }
  {
    bson_t* b = bson_new();
    BSON_APPEND_INT64(b, "_id", 42);
    out.push_back(bytes_of(b));
  }
  return out;
}

// Found by fuzz_bson_check: an empty input (a null pointer, as an empty vector's data() may be) aborted the
// process inside libbson instead of being refused.
TEST(BsonCheck, AnEmptyOrNullInputIsRefusedAsCorruptNotACrash) {
  EXPECT_EQ(check_bson_document(nullptr, 0).verdict, BsonVerdict::kCorrupt);
  const uint8_t four[4] = {4, 0, 0, 0};
  EXPECT_EQ(check_bson_document(four, sizeof four).verdict, BsonVerdict::kCorrupt);
  const uint8_t empty_doc[5] = {5, 0, 0, 0, 0};
  EXPECT_EQ(check_bson_document(empty_doc, sizeof empty_doc).verdict, BsonVerdict::kSound);
}

TEST(BsonCheck, EveryTypeNestingAndMultiByteStringIsAccepted) {
  for (const auto& s : seeds()) {
    EXPECT_TRUE(legacy_accepts(s));
    EXPECT_TRUE(new_accepts(s));
  }
}

TEST(BsonCheck, InvalidUtf8InAValueAKeyOrAScopeIsRefusedAsABadString) {
  auto verdict = [](const std::string& d) {
    return check_bson_document(reinterpret_cast<const uint8_t*>(d.data()), d.size()).verdict;
  };
  bson_t* b = bson_new();
  bson_append_utf8(b, "s", 1, "bad\xff\xfe", 5);
  EXPECT_EQ(verdict(bytes_of(b)), BsonVerdict::kBadString);
  b = bson_new();
  BSON_APPEND_INT32(b, "k\xc3", 1);
  EXPECT_EQ(verdict(bytes_of(b)), BsonVerdict::kBadString);
  b = bson_new();
  bson_t scope;
  bson_init(&scope);
  bson_append_utf8(&scope, "x", 1, "\xed\xa0\x80", 3);  // a surrogate
  BSON_APPEND_CODE_WITH_SCOPE(b, "c", "f()", &scope);
  bson_destroy(&scope);
  EXPECT_EQ(verdict(bytes_of(b)), BsonVerdict::kBadString);
}

TEST(BsonCheck, NestingDeeperThanMongoDbAllowsIsRefused) {
  auto nested = [](int levels) {
    bson_t* b = bson_new();
    BSON_APPEND_INT32(b, "leaf", 1);
    for (int k = 0; k < levels; ++k) {
      bson_t* outer = bson_new();
      BSON_APPEND_DOCUMENT(outer, "d", b);
      bson_destroy(b);
      b = outer;
    }
    return bytes_of(b);
  };
  EXPECT_TRUE(new_accepts(nested(kMaxBsonNesting)));
  EXPECT_FALSE(new_accepts(nested(kMaxBsonNesting + 1)));
}

TEST(BsonCheck, AnElementThatDoesNotDecodeIsRefusedAtTheOffsetLibbsonNames) {
  std::string d = seeds()[2];  // {_id: int64}: length, type 0x12 at byte 4, "_id\0", 8 bytes, end
  d[4] = 0x7e;                 // no such type
  auto c = check_bson_document(reinterpret_cast<const uint8_t*>(d.data()), d.size());
  EXPECT_EQ(c.verdict, BsonVerdict::kCorrupt);
  bson_t view;
  size_t libbson_offset = 0;
  ASSERT_TRUE(bson_init_static(&view, reinterpret_cast<const uint8_t*>(d.data()), d.size()));
  EXPECT_FALSE(bson_validate(&view, BSON_VALIDATE_NONE, &libbson_offset));
  EXPECT_EQ(c.offset, libbson_offset);  // the byte libbson names (after the unknown element's key)
  EXPECT_FALSE(legacy_accepts(d));
}

// The property the replacement rests on, over mutations that keep the outer length and end byte right
// half of the time (so that they reach the elements, nested documents and scopes, not only the header).
TEST(BsonCheck, EveryMutationTheOldCheckOrBsonValidateRefusesIsRefused) {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const auto base = seeds();
  int64_t runs = 0, legacy_refused = 0, stricter = 0;
  for (int round = 0; round < 300000; ++round) {
    std::string d = base[next() % base.size()];
    int edits = 1 + int(next() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t at = next() % d.size();
      switch (next() % 7) {
        case 0: d[at] = char(next()); break;
        case 1: d[at] = char(d[at] ^ (1 << (next() % 8))); break;
        case 2: d[at] = char(0); break;
        case 3: d[at] = char(0x80 | (next() & 0x7f)); break;
        case 4: d.insert(d.begin() + long(at), char(next())); break;
        case 5: d.erase(d.begin() + long(at)); break;
        case 6: {  // a length field (of the document, a string, a nested document) off by a little
          if (at + 4 > d.size()) break;
          int32_t v;
          std::memcpy(&v, d.data() + at, 4);
          v += int32_t(next() % 9) - 4;
          std::memcpy(d.data() + at, &v, 4);
          break;
        }
      }
      if (d.size() < 5) d = base[0];
    }
    if (next() % 2) {  // repair the outer frame
      int32_t len = int32_t(d.size());
      std::memcpy(d.data(), &len, 4);
      d.back() = 0;
    }
    ++runs;
    bool legacy = legacy_accepts(d), now = new_accepts(d);
    bool plain = validate_accepts(d, BSON_VALIDATE_NONE);
    bool utf8 = validate_accepts(d, bson_validate_flags_t(BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL));
    if (!legacy) ++legacy_refused;
    if (!legacy && now) ADD_FAILURE() << "the old check refused, the new one accepts, round " << round;
    if (!plain && now) ADD_FAILURE() << "bson_validate refused, the new check accepts, round " << round;
    if (!utf8 && now) ADD_FAILURE() << "bson_validate (UTF-8) refused, the new check accepts, round " << round;
    if (legacy && !now) ++stricter;
    if (HasFailure()) break;
  }
  // Not vacuous: both verdicts occur often.
  EXPECT_GT(legacy_refused, runs / 10);
  EXPECT_GT(runs - legacy_refused, runs / 100);
  RecordProperty("mutations", std::to_string(runs));
  RecordProperty("refused_by_the_old_check", std::to_string(legacy_refused));
  RecordProperty("refused_only_by_the_new_check", std::to_string(stricter));
  std::printf("mutations %lld, refused by the old check %lld, refused only by the new one %lld\n",
              static_cast<long long>(runs), static_cast<long long>(legacy_refused), static_cast<long long>(stricter));
}

}  // namespace
}  // namespace facecrowd
