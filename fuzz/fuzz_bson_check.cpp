// check_bson_document (backup/bson_check.h), differentially. Property: every input libbson's
// bson_validate refuses, with or without its UTF-8 check, the walk refuses too (it replaced bson_validate
// in every check of a backup's documents and must stay as strict); and the walk never reads outside the
// input (ASan).
#include <bson/bson.h>

#include <cstdlib>
#include <vector>

#include "backup/bson_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facecrowd;
  std::vector<uint8_t> copy(data, data + size);  // exactly `size` bytes: ASan sees any read past them
  bool sound = check_bson_document(copy.data(), copy.size()).verdict == BsonVerdict::kSound;
  if (!sound) return 0;
  bson_t view;
  size_t offset = 0;
  if (!bson_init_static(&view, copy.data(), copy.size())) std::abort();
  if (!bson_validate(&view, BSON_VALIDATE_NONE, &offset)) std::abort();
  if (!bson_validate(&view, bson_validate_flags_t(BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL), &offset))
    std::abort();
  return 0;
}
