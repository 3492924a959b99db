#include "app/faces/gallery_loader.h"

#include <bit>
#include <cstring>

namespace facecrowd {

void append_embedding_vector(bson_t* doc, const char* key, const EmbeddingVector& unit) {
  std::vector<uint8_t> bytes(unit.size() * 4);
  for (size_t i = 0; i < unit.size(); ++i) {
    uint32_t bits = std::bit_cast<uint32_t>(unit[i]);
    for (int k = 0; k < 4; ++k) bytes[i * 4 + size_t(k)] = uint8_t(bits >> (8 * k));  // little-endian
  }
  bson_append_binary(doc, key, -1, BSON_SUBTYPE_BINARY, bytes.data(), uint32_t(bytes.size()));
}

std::optional<EmbeddingVector> decode_embedding_vector(const bson_iter_t& iter) {
  if (!BSON_ITER_HOLDS_BINARY(&iter)) return std::nullopt;
  bson_subtype_t subtype;
  uint32_t length = 0;
  const uint8_t* data = nullptr;
  bson_iter_binary(&iter, &subtype, &length, &data);
  if (subtype != BSON_SUBTYPE_BINARY || length == 0 || length % 4 != 0 || length / 4 > kMaxEmbeddingSize)
    return std::nullopt;
  EmbeddingVector v(length / 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits = 0;
    for (int k = 0; k < 4; ++k) bits |= uint32_t(data[i * 4 + size_t(k)]) << (8 * k);
    v[i] = std::bit_cast<float>(bits);
  }
  return v;
}

std::string oid_hex(const bson_iter_t& iter) {
  char hex[25];
  bson_oid_to_string(bson_iter_oid(&iter), hex);
  return std::string(hex, 24);
}

std::vector<StoredEmbedding> profile_embeddings(const Document& profile) {
  std::vector<StoredEmbedding> out;
  std::string profile_id = profile.id_key().value_or("");
  bson_iter_t it, arr;
  if (!bson_iter_init_find(&it, profile.get(), "embeddings") || !BSON_ITER_HOLDS_ARRAY(&it) ||
      !bson_iter_recurse(&it, &arr))
    return out;
  int index = 0;
  while (bson_iter_next(&arr)) {
    StoredEmbedding e;
    e.id = profile_id + "#" + std::to_string(index++);
    bson_iter_t field;
    if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &field)) {
      while (bson_iter_next(&field)) {
        std::string_view key = bson_iter_key(&field);
        if (key == "_id" && BSON_ITER_HOLDS_OID(&field)) e.id = oid_hex(field);
        else if (key == "modelVersion" && BSON_ITER_HOLDS_UTF8(&field)) e.model_version = bson_iter_utf8(&field, nullptr);
        else if (key == "sourceFileId" && BSON_ITER_HOLDS_OID(&field)) e.source_file_id = oid_hex(field);
        else if (key == "vector") e.vector = decode_embedding_vector(field);
        else if (key == "quality" && BSON_ITER_HOLDS_DOCUMENT(&field)) {
          bson_iter_t blur;
          if (bson_iter_recurse(&field, &blur) && bson_iter_find(&blur, "blur") && BSON_ITER_HOLDS_NUMBER(&blur))
            e.sharpness = float(bson_iter_as_double(&blur));
        }
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

float enrolled_sharpness(const Document& profile, const std::string& embedding_id) {
  for (const auto& e : profile_embeddings(profile))
    if (e.id == embedding_id) return e.sharpness.value_or(kUnknownSharpness);
  return kUnknownSharpness;
}

GalleryLoadReport load_gallery(Database::ReadTransaction& tx, const std::string& model_version,
                               vision::Gallery& gallery) {
  GalleryLoadReport report;
  tx.find("faceprofiles", Query{}, [&](const Document& profile) {
    auto id = profile.id_key();
    if (!id) return true;
    bool loaded_any = false, of_model = false;
    auto embeddings = profile_embeddings(profile);
    for (const auto& e : embeddings) {
      if (e.model_version != model_version) {
        ++report.other_model;
        continue;
      }
      of_model = true;
      if (!e.vector || (gallery.dimension() != 0 && e.vector->size() != gallery.dimension())) {
        ++report.malformed;
      } else {
        gallery.add(*id, e.id, *e.vector);
        ++report.embeddings;
        loaded_any = true;
      }
    }
    if (!embeddings.empty() && !of_model)
      for (const auto& e : embeddings) report.without_model[*id].insert(e.model_version);
    if (loaded_any) {
      ++report.profiles;
      bson_iter_t it;
      report.names[*id] = bson_iter_init_find(&it, profile.get(), "name") && BSON_ITER_HOLDS_UTF8(&it)
                              ? bson_iter_utf8(&it, nullptr)
                              : "";
    }
    return true;
  });
  return report;
}

}  // namespace facecrowd
