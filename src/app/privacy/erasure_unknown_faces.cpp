#include "app/privacy/erasure_unknown_faces.h"

#include "app/faces/match_policy.h"
#include "app/faces/profiles.h"
#include "app/faces/unknown_faces.h"
#include "core/error.h"
#include "vision/face_embedder.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

bool is_persons(const Json& face, const PersonsFaces& person) {
  if (face.contains("cropFileId") && face["cropFileId"].is_object() &&
      person.crop_file_ids.count(face["cropFileId"].value("$oid", "")))
    return true;
  if (!face.contains("embedding")) return false;
  const auto v = unknown_face_vector(face["embedding"]);
  if (!v) return false;
  const std::string model = face["embedding"].value("modelVersion", "");
  // max_distance is dlib's (128-D); a faceres vector (1024-D) is judged by faceres' calibrated threshold.
  const float limit = v->size() == size_t(vision::kDlibEmbeddingSize) ? person.max_distance : float(kFaceresMatchThreshold);
  for (const auto& [m, e] : person.embeddings)
    if (m == model && embedding_vector_distance(*v, e) <= limit) return true;
  return false;
}

}  // namespace

PersonsFaces persons_faces(const std::optional<Document>& profile, const std::set<std::string>& known_file_ids,
                           float max_distance) {
  PersonsFaces p;
  p.max_distance = max_distance;
  p.crop_file_ids = known_file_ids;
  if (profile)
    for (const auto& e : profile_embeddings(*profile)) {
      if (e.vector) p.embeddings.emplace_back(e.model_version, *e.vector);
      if (e.source_file_id) p.crop_file_ids.insert(*e.source_file_id);
    }
  return p;
}

std::optional<Document> without_persons_faces(const Document& record, const PersonsFaces& person,
                                              std::set<std::string>& crops, int64_t& faces_stripped) {
  bson_iter_t it;
  if (person.empty() || !bson_iter_init_find(&it, record.get(), "faces")) return std::nullopt;
  Json j = record.to_json();
  if (!j["faces"].is_array()) return std::nullopt;
  bool changed = false;
  for (auto& face : j["faces"]) {
    if (!face.is_object() || !is_persons(face, person)) continue;
    if (face.contains("cropFileId") && face["cropFileId"].is_object()) crops.insert(face["cropFileId"].value("$oid", ""));
    face.erase("cropFileId");
    face.erase("embedding");
    ++faces_stripped;
    changed = true;
  }
  if (!changed) return std::nullopt;
  return Document::from_json(j, "unknown-faces record without an erased person's faces");
}

}  // namespace facecrowd
