// The one check a backup's document passes before it is loaded, verified or counted: its BSON structure
// and its strings, in a single walk.
//
// Contract: check_bson_document(doc, len) returns kSound only when
//   - the length field says `len`, the document ends with its NUL, and every element decodes (libbson's
//     bson_iter_next: type, key, the value's size, each string's length and NUL, each nested document's
//     length and end) to the end of the document and of every nested document, array and code-with-scope
//     scope, with no element left undecoded;
//   - every key and every string (UTF-8 values, symbols, JavaScript code and its scope, regular
//     expressions and their options, DBPointer collections) is valid UTF-8: NUL allowed in string values,
//     not in keys or C strings;
//   - nothing nests deeper than kMaxBsonNesting (MongoDB's limit).
// Every document libbson's bson_validate(BSON_VALIDATE_NONE), or bson_validate with BSON_VALIDATE_UTF8,
// refuses is refused (bson_check_test.cpp and fuzz/fuzz_bson_check.cpp check this against libbson). It is
// a little stricter than bson_validate: libbson stops checking a (sub)document after a code-with-scope
// whose scope is sound, and skips a nested document whose own length field is wrong; this walk checks them.
//
// Why our own walk: bson_validate walks the document a second time and checks every string with libbson's
// byte-by-byte UTF-8 decoder; restore spent 12% of its CPU time there. Here a run of ASCII bytes (almost
// every key and value) is accepted eight bytes at a time, and only a string with a byte >= 0x80 is decoded.
#pragma once

#include <cstddef>
#include <cstdint>

namespace facecrowd {

inline constexpr int kMaxBsonNesting = 100;

enum class BsonVerdict {
  kSound,
  kBadString,  // a key or string that is not valid UTF-8 (or holds a NUL where none may be), or too deep
  kCorrupt,    // the structure does not decode; `offset` is where, in bytes from the document's start
};

struct BsonCheck {
  BsonVerdict verdict = BsonVerdict::kSound;
  size_t offset = 0;
};

BsonCheck check_bson_document(const uint8_t* doc, size_t len);

}  // namespace facecrowd
