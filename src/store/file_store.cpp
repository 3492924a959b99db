#include "store/file_store.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/object_id.h"
#include "core/sha256.h"

namespace facecrowd {
namespace {

constexpr const char* kFiles = "fs.files";
constexpr const char* kChunks = "fs.chunks";

bson_oid_t oid_from_hex(const std::string& hex, const std::string& what) {
  if (!is_object_id(hex)) throw Error(ExitCode::kBadInput, what + " '" + hex + "' is not an ObjectId (24 hex characters)");
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, hex.c_str());
  return oid;
}

// Chunk ids derive from the file id and the chunk number, so a file stored with a given id always has the
// same chunk ids (demo-data output is reproducible); the file id's time prefix keeps them sorting with it.
bson_oid_t chunk_oid(const bson_oid_t& file_oid, const std::string& file_hex, int32_t n) {
  std::string digest = sha256_hex(file_hex + ":" + std::to_string(n));
  bson_oid_t oid;
  std::memcpy(oid.bytes, file_oid.bytes, 4);
  for (int i = 0; i < 8; ++i) oid.bytes[4 + i] = uint8_t(std::stoi(digest.substr(size_t(i) * 2, 2), nullptr, 16));
  return oid;
}

std::string utf8_field(const bson_t* doc, const char* path) {
  bson_iter_t root, it;
  if (bson_iter_init(&root, doc) && bson_iter_find_descendant(&root, path, &it) && BSON_ITER_HOLDS_UTF8(&it)) {
    uint32_t len = 0;
    const char* s = bson_iter_utf8(&it, &len);
    return std::string(s, len);
  }
  return {};
}

int64_t integer_field(const bson_t* doc, const char* path, int64_t fallback) {
  bson_iter_t root, it;
  if (bson_iter_init(&root, doc) && bson_iter_find_descendant(&root, path, &it) && BSON_ITER_HOLDS_NUMBER(&it))
    return bson_iter_as_int64(&it);
  return fallback;
}

// Walks `path` (dotted) from `iter`'s current container, descending into every element of arrays.
void walk_path(bson_iter_t* container, std::string_view path, const std::function<void(const bson_iter_t&)>& fn) {
  auto dot = path.find('.');
  std::string head(path.substr(0, dot));
  std::string_view rest = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  bson_iter_t it;
  if (!bson_iter_find_w_len(container, head.c_str(), int(head.size()))) return;
  it = *container;
  auto visit = [&](bson_iter_t& value) {
    if (rest.empty()) {
      fn(value);
    } else if (BSON_ITER_HOLDS_DOCUMENT(&value)) {
      bson_iter_t child;
      if (bson_iter_recurse(&value, &child)) walk_path(&child, rest, fn);
    }
  };
  if (BSON_ITER_HOLDS_ARRAY(&it)) {
    bson_iter_t element;
    if (!bson_iter_recurse(&it, &element)) return;
    while (bson_iter_next(&element)) visit(element);
  } else {
    visit(it);
  }
}

}  // namespace

std::string to_string(FileKind kind) {
  switch (kind) {
    case FileKind::kFacialImage: return "facial_image";
    case FileKind::kGroupPhoto: return "group_photo";
    case FileKind::kCrowdImage: return "crowd_image";
    case FileKind::kDensityMap: return "density_map";
  }
  return "unknown";
}

FileKind parse_file_kind(const std::string& text) {
  for (auto kind : {FileKind::kFacialImage, FileKind::kGroupPhoto, FileKind::kCrowdImage, FileKind::kDensityMap})
    if (to_string(kind) == text) return kind;
  throw Error(ExitCode::kBadInput,
              "unknown file kind '" + text + "' (kinds: facial_image, group_photo, crowd_image, density_map)");
}

std::optional<std::string> find_file_by_sha256(Database::WriteTransaction& tx, const std::string& sha256_hex) {
  std::optional<std::string> id;
  tx.find(kFiles, Query{{{"sha256", "=", sha256_hex}}, "", false, 1}, [&](const Document& doc) {
    id = doc.id_key();
    return false;
  });
  return id;
}

std::string put_file(Database::WriteTransaction& tx, std::string_view bytes, const NewFile& file) {
  std::string digest = sha256_hex(bytes);
  if (auto existing = find_file_by_sha256(tx, digest)) return *existing;

  std::string file_hex = file.id ? *file.id : new_object_id();
  bson_oid_t file_oid = oid_from_hex(file_hex, "file id");
  for (int32_t n = 0; size_t(n) * kFileChunkSize < bytes.size(); ++n) {  // an empty file has no chunks
    std::string_view part = bytes.substr(size_t(n) * kFileChunkSize, kFileChunkSize);
    bson_oid_t id = chunk_oid(file_oid, file_hex, n);
    bson_t* chunk = bson_sized_new(uint32_t(part.size() + 64));
    BSON_APPEND_OID(chunk, "_id", &id);
    BSON_APPEND_OID(chunk, "files_id", &file_oid);
    BSON_APPEND_INT32(chunk, "n", n);
    BSON_APPEND_BINARY(chunk, "data", BSON_SUBTYPE_BINARY, reinterpret_cast<const uint8_t*>(part.data()),
                       uint32_t(part.size()));
    tx.insert(kChunks, Document(chunk));
  }
  bson_t* doc = bson_new();
  BSON_APPEND_OID(doc, "_id", &file_oid);
  BSON_APPEND_UTF8(doc, "filename", file.filename.c_str());
  BSON_APPEND_INT64(doc, "length", int64_t(bytes.size()));
  BSON_APPEND_INT32(doc, "chunkSize", kFileChunkSize);
  BSON_APPEND_DATE_TIME(doc, "uploadDate", file.upload_date ? *file.upload_date : now_millis());
  BSON_APPEND_UTF8(doc, "sha256", digest.c_str());
  BSON_APPEND_UTF8(doc, "contentType", file.content_type.c_str());
  bson_t metadata;
  BSON_APPEND_DOCUMENT_BEGIN(doc, "metadata", &metadata);
  BSON_APPEND_UTF8(&metadata, "kind", to_string(file.kind).c_str());
  bson_append_document_end(doc, &metadata);
  tx.insert(kFiles, Document(doc));
  return file_hex;
}

std::string put_file(Database::WriteTransaction& tx, std::string_view bytes, const std::string& filename,
                     const std::string& content_type, FileKind kind) {
  return put_file(tx, bytes, NewFile{filename, content_type, kind, std::nullopt, std::nullopt});
}

std::optional<Document> file_info(Database::ReadTransaction& tx, const std::string& id) { return tx.get(kFiles, id); }

std::string get_file(Database::ReadTransaction& tx, const std::string& id) {
  auto info = tx.get(kFiles, id);
  if (!info) throw Error(ExitCode::kNotFound, "file '" + id + "' does not exist in fs.files");
  std::string filename = utf8_field(info->get(), "filename");
  std::string name = "file '" + id + "' (" + filename + ")";
  auto damaged = [&](const std::string& why) { return Error(ExitCode::kBadInput, name + " is damaged: " + why); };

  int64_t length = integer_field(info->get(), "length", -1);
  int64_t chunk_size = integer_field(info->get(), "chunkSize", -1);
  std::string expected_sha = utf8_field(info->get(), "sha256");
  if (length < 0 || chunk_size <= 0) throw damaged("fs.files document has no valid length/chunkSize");

  std::string bytes;
  bytes.reserve(size_t(length));
  int64_t expected_n = 0;
  int64_t chunks = chunk_size > 0 ? (length + chunk_size - 1) / chunk_size : 0;
  tx.find(kChunks, Query{{{"files_id", "=", id}}, "n", false, -1}, [&](const Document& chunk) {
    int64_t n = integer_field(chunk.get(), "n", -1);
    if (n != expected_n) throw damaged("chunk " + std::to_string(expected_n) + " is missing (found n=" + std::to_string(n) + ")");
    bson_iter_t it;
    if (!bson_iter_init_find(&it, chunk.get(), "data") || !BSON_ITER_HOLDS_BINARY(&it))
      throw damaged("chunk " + std::to_string(n) + " has no binary data");
    bson_subtype_t subtype;
    uint32_t len = 0;
    const uint8_t* data = nullptr;
    bson_iter_binary(&it, &subtype, &len, &data);
    int64_t want = std::min<int64_t>(chunk_size, length - n * chunk_size);
    if (int64_t(len) != want)
      throw damaged("chunk " + std::to_string(n) + " holds " + std::to_string(len) + " bytes, expected " + std::to_string(want));
    bytes.append(reinterpret_cast<const char*>(data), len);
    ++expected_n;
    return true;
  });
  if (expected_n != chunks)
    throw damaged("has " + std::to_string(expected_n) + " chunks, expected " + std::to_string(chunks));
  if (int64_t(bytes.size()) != length)
    throw damaged("holds " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(length));
  if (sha256_hex(bytes) != expected_sha) throw damaged("sha256 does not match (expected " + expected_sha + ")");
  return bytes;
}

bool remove_file(Database::WriteTransaction& tx, const std::string& id) {
  std::vector<std::string> chunk_ids;
  tx.find(kChunks, Query{{{"files_id", "=", id}}}, [&](const Document& chunk) {
    if (auto key = chunk.id_key()) chunk_ids.push_back(*key);
    return true;
  });
  for (const auto& chunk_id : chunk_ids) tx.remove(kChunks, chunk_id);
  return tx.remove(kFiles, id) || !chunk_ids.empty();
}

const std::vector<FileReferenceField>& file_reference_fields() {
  static const std::vector<FileReferenceField> fields = {
      {"attendances", "photoFileId"},
      {"attendances", "annotatedFileId"},
      {"attendances", "faces.cropFileId"},
      {"crowdcounts", "imageFileId"},
      {"crowdcounts", "densityMapFileId"},
      {"crowdcounts", "heatmapFileId"},
      {"faceprofiles", "embeddings.sourceFileId"},
      {"faceprofiles", "facialImageIds"},
  };
  return fields;
}

std::vector<std::string> file_referencing_collections() {
  std::vector<std::string> out;
  for (const auto& f : file_reference_fields())
    if (std::find(out.begin(), out.end(), f.collection) == out.end()) out.push_back(f.collection);
  return out;
}

void for_each_file_reference(const std::string& collection, const bson_t* doc,
                             const std::function<void(const std::string&)>& fn) {
  for (const auto& field : file_reference_fields()) {
    if (field.collection != collection) continue;
    bson_iter_t root;
    if (!bson_iter_init(&root, doc)) continue;
    walk_path(&root, field.path, [&](const bson_iter_t& value) {
      if (BSON_ITER_HOLDS_OID(&value)) {
        char hex[25];
        bson_oid_to_string(bson_iter_oid(&value), hex);
        fn(std::string(hex, 24));
      } else if (BSON_ITER_HOLDS_UTF8(&value)) {
        uint32_t len = 0;
        std::string text(bson_iter_utf8(&value, &len), len);
        if (is_object_id(text)) fn(text);
      }
    });
  }
}

}  // namespace facecrowd
