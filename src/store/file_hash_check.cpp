#include "store/file_hash_check.h"

#include <bson/bson.h>

#include "core/error.h"
#include "store/file_store.h"

namespace facecrowd {
namespace {

std::optional<std::string> oid_or_text(const bson_t* doc, const char* key) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, key)) return std::nullopt;
  if (BSON_ITER_HOLDS_OID(&it)) {
    char hex[25];
    bson_oid_to_string(bson_iter_oid(&it), hex);
    return std::string(hex, 24);
  }
  if (BSON_ITER_HOLDS_UTF8(&it)) {
    uint32_t len = 0;
    const char* s = bson_iter_utf8(&it, &len);
    return std::string(s, len);
  }
  return std::nullopt;
}

int64_t integer(const bson_t* doc, const char* key) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_NUMBER(&it)) return bson_iter_as_int64(&it);
  return -1;
}

}  // namespace

FileHashCheck::FileHashCheck() = default;
FileHashCheck::~FileHashCheck() = default;

void FileHashCheck::add_file(const uint8_t* data, size_t size) {
  bson_t doc;
  if (!bson_init_static(&doc, data, size)) return;  // undecodable documents are the document check's to report
  auto id = oid_or_text(&doc, "_id");
  if (!id) return;
  File f;
  f.name = oid_or_text(&doc, "filename").value_or("");
  f.sha256 = oid_or_text(&doc, "sha256").value_or("");
  f.length = integer(&doc, "length");
  f.chunk_size = integer(&doc, "chunkSize");
  f.hash = std::make_unique<Sha256>();
  files_[*id] = std::move(f);
}

void FileHashCheck::add_chunk(const uint8_t* data, size_t size) {
  bson_t doc;
  if (!bson_init_static(&doc, data, size)) return;
  auto files_id = oid_or_text(&doc, "files_id");
  auto chunk_id = oid_or_text(&doc, "_id").value_or("?");
  if (!files_id) {
    orphans_.push_back("chunk '" + chunk_id + "' names no file (files_id missing)");
    return;
  }
  auto it = files_.find(*files_id);
  if (it == files_.end()) {
    orphans_.push_back("chunk '" + chunk_id + "' belongs to file '" + *files_id + "', which fs.files does not hold");
    return;
  }
  File& f = it->second;
  if (f.reread) return;
  bson_iter_t bin;
  int64_t n = integer(&doc, "n");
  if (n != f.next_n || !bson_iter_init_find(&bin, &doc, "data") || !BSON_ITER_HOLDS_BINARY(&bin)) {
    f.reread = true;  // out of order (or malformed): get_file() decides at finish()
    return;
  }
  bson_subtype_t subtype;
  uint32_t len = 0;
  const uint8_t* bytes = nullptr;
  bson_iter_binary(&bin, &subtype, &len, &bytes);
  f.hash->update(bytes, len);
  f.received += len;
  bytes_hashed_ += len;
  ++f.next_n;
}

std::vector<std::string> FileHashCheck::finish(Database::ReadTransaction* txn) {
  std::vector<std::string> out = std::move(problems_);
  for (auto& [id, f] : files_) {
    std::string name = "file '" + id + "' (" + f.name + ")";
    if (f.reread) {
      if (!txn) {
        out.push_back(name + ": its chunks are out of order or malformed");
        continue;
      }
      try {
        get_file(*txn, id);
      } catch (const Error& e) {
        out.push_back(e.what());
      }
      continue;
    }
    if (f.length < 0 || f.chunk_size <= 0) {
      out.push_back(name + " is damaged: fs.files document has no valid length/chunkSize");
      continue;
    }
    int64_t chunks = (f.length + f.chunk_size - 1) / f.chunk_size;
    std::string digest = f.hash->hex_digest();
    if (f.next_n != chunks || f.received != f.length)
      out.push_back(name + " is damaged: " + std::to_string(f.next_n) + " chunks with " + std::to_string(f.received) +
                    " bytes, expected " + std::to_string(chunks) + " chunks with " + std::to_string(f.length) + " bytes");
    else if (digest != f.sha256)
      out.push_back(name + " is damaged: its bytes hash to sha256 " + digest + ", fs.files records " + f.sha256);
  }
  return out;
}

}  // namespace facecrowd
