#include "app/import/gridfs_source.h"

#include <bson/bson.h>
#include <openssl/evp.h>

#include <cctype>
#include <memory>

#include "app/import/mapped_document.h"
#include "store/document.h"

namespace facecrowd {

namespace {

std::string md5_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx.get(), digest, &n);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::optional<int64_t> integer(const bson_t* doc, const char* key) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, key)) return std::nullopt;
  if (BSON_ITER_HOLDS_INT32(&it)) return bson_iter_int32(&it);
  if (BSON_ITER_HOLDS_INT64(&it)) return bson_iter_int64(&it);
  if (BSON_ITER_HOLDS_DOUBLE(&it)) return int64_t(bson_iter_double(&it));
  return std::nullopt;
}

std::string text(const bson_t* doc, const char* key) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, key)) return "";
  return import_text(it).value_or("");
}

}  // namespace

GridFsSource::GridFsSource(const DumpCollection* files, const DumpCollection* chunks) {
  if (files) {
    StagedBsonReader reader(files->staged);
    const uint8_t* data;
    size_t size;
    while (reader.next(&data, &size)) {
      bson_t doc;
      bson_init_static(&doc, data, size);
      GridFsFile f;
      bson_iter_t it;
      if (bson_iter_init_find(&it, &doc, "_id")) {
        auto t = bson_iter_type(&it);
        if (t == BSON_TYPE_OID || t == BSON_TYPE_UTF8 || t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64) f.id = id_key_of(it);
      }
      if (f.id.empty()) f.refused = "no _id of a usable type";
      f.length = integer(&doc, "length").value_or(-1);
      f.chunk_size = integer(&doc, "chunkSize").value_or(0);
      if (f.refused.empty() && f.length < 0) f.refused = "no length";
      if (f.refused.empty() && (f.chunk_size <= 0 || f.chunk_size > int64_t(kMongoMaxDocumentBytes)))
        f.refused = "no usable chunkSize";
      f.md5 = text(&doc, "md5");
      for (auto& c : f.md5) c = char(std::tolower(static_cast<unsigned char>(c)));
      f.filename = text(&doc, "filename");
      f.content_type = text(&doc, "contentType");
      if (bson_iter_init_find(&it, &doc, "uploadDate")) f.upload_date = import_date_millis(it);
      bson_iter_t kind;
      if (bson_iter_init(&it, &doc) && bson_iter_find_descendant(&it, "metadata.kind", &kind)) f.metadata_kind = import_text(kind);
      if (f.content_type.empty() && bson_iter_init(&it, &doc) && bson_iter_find_descendant(&it, "metadata.contentType", &kind))
        f.content_type = import_text(kind).value_or("");
      if (!f.id.empty() && by_id_.count(f.id)) f.refused = "a second fs.files document with _id " + f.id;
      else if (!f.id.empty()) by_id_[f.id] = files_.size();
      files_.push_back(std::move(f));
    }
  }
  if (chunks) {
    chunks_file_ = chunks->staged;
    StagedBsonReader reader(chunks->staged);
    const uint8_t* data;
    size_t size;
    uint64_t offset;
    while (reader.next(&data, &size, &offset)) {
      bson_t doc;
      bson_init_static(&doc, data, size);
      bson_iter_t it;
      std::string files_id;
      if (bson_iter_init_find(&it, &doc, "files_id")) {
        auto t = bson_iter_type(&it);
        if (t == BSON_TYPE_OID || t == BSON_TYPE_UTF8 || t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64) files_id = id_key_of(it);
      }
      auto n = integer(&doc, "n");
      bool has_data = bson_iter_init_find(&it, &doc, "data") && BSON_ITER_HOLDS_BINARY(&it);
      if (files_id.empty() || !n || !has_data) {
        ++malformed_chunks_;
        continue;
      }
      if (!by_id_.count(files_id)) {
        ++orphan_chunks_;
        continue;
      }
      chunks_[{files_id, *n}].push_back(offset);
    }
  }
}

const GridFsFile* GridFsSource::file(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &files_[it->second];
}

int64_t GridFsSource::chunks_of(const std::string& id) const {
  int64_t n = 0;
  for (auto it = chunks_.lower_bound({id, INT64_MIN}); it != chunks_.end() && it->first.first == id; ++it)
    n += int64_t(it->second.size());
  return n;
}

AssembledFile GridFsSource::assemble(const GridFsFile& f) const {
  AssembledFile out;
  if (!f.refused.empty()) {
    out.refused = f.refused;
    return out;
  }
  const int64_t expected_chunks = (f.length + f.chunk_size - 1) / f.chunk_size;
  if (chunks_of(f.id) != expected_chunks) {
    out.refused = "has " + std::to_string(chunks_of(f.id)) + " chunks in fs.chunks, its length " + std::to_string(f.length) +
                  " needs " + std::to_string(expected_chunks);
    return out;
  }
  if (expected_chunks == 0) {
    out.md5_checked = !f.md5.empty();
    if (out.md5_checked && md5_hex("") != f.md5) out.refused = "md5 mismatch";
    return out;
  }
  StagedBsonReader reader(*chunks_file_);
  std::string doc_bytes;
  out.bytes.reserve(size_t(f.length));
  for (int64_t n = 0; n < expected_chunks; ++n) {
    auto it = chunks_.find({f.id, n});
    if (it == chunks_.end() || it->second.size() != 1) {
      out.refused = it == chunks_.end() ? "chunk n=" + std::to_string(n) + " is missing" : "chunk n=" + std::to_string(n) + " appears twice";
      out.bytes.clear();
      return out;
    }
    reader.read_at(it->second.front(), doc_bytes);
    bson_t doc;
    bson_init_static(&doc, reinterpret_cast<const uint8_t*>(doc_bytes.data()), doc_bytes.size());
    bson_iter_t data;
    bson_iter_init_find(&data, &doc, "data");
    uint32_t len = 0;
    const uint8_t* bin = nullptr;
    bson_subtype_t subtype;
    bson_iter_binary(&data, &subtype, &len, &bin);
    const int64_t want = n + 1 < expected_chunks ? f.chunk_size : f.length - n * f.chunk_size;
    if (int64_t(len) != want) {
      out.refused = "chunk n=" + std::to_string(n) + " holds " + std::to_string(len) + " bytes, not " + std::to_string(want);
      out.bytes.clear();
      return out;
    }
    out.bytes.append(reinterpret_cast<const char*>(bin), len);
  }
  if (!f.md5.empty()) {
    out.md5_checked = true;
    std::string got = md5_hex(out.bytes);
    if (got != f.md5) {
      out.refused = "its bytes' md5 " + got + " differs from the md5 recorded in fs.files (" + f.md5 + "): damaged";
      out.bytes.clear();
    }
  }
  return out;
}

}  // namespace facecrowd
