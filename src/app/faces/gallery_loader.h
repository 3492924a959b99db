// The in-memory gallery (vision/gallery.h) built from `faceprofiles`, and the BSON form of an embedding.
// Contract:
//  - An embedding's vector is BSON binary subtype 0 of N little-endian float32 (unit length): N = 128 for dlib,
//    1024 for faceres (vision/face_model.h; the embedding's modelVersion says which). encode/decode convert;
//    decode returns nullopt for any other type or subtype, or a size that is not a whole number of float32
//    within 1..kMaxEmbeddingSize numbers.
//  - load_gallery() adds every embedding of every profile whose modelVersion equals `model_version`
//    (embeddings of another model live in another space: comparing them would be meaningless, so they are
//    counted per model, not loaded; profiles left with none of this model are named). A vector whose size
//    differs from the gallery's (the first one loaded) is counted as malformed, not loaded. The gallery's
//    person id is the profile's `_id` key; the embedding id is the
//    embedding's `_id` (ObjectId hex) or, for embeddings without one, "<profile id>#<index>".
//  - It reads inside the caller's transaction, so the gallery is one consistent snapshot.
//  - A one-shot command (enroll, recognize: a handful of faces, then exit) builds its gallery with
//    kOneShotHnswFromSize, i.e. it never builds an index itself (~1-2 minutes for 100k embeddings on 2
//    cores, bench/gallery_bench.cpp): it adopts the cached one of app/faces/gallery_index.h when there is one,
//    and scans exactly otherwise (~3 ms a face at 100k). A long-running server keeps one Gallery with the
//    default size and adds/removes as profiles change.
#pragma once

#include <array>
#include <bson/bson.h>
#include <cstdint>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/faces/match_policy.h"
#include "store/database.h"
#include "vision/gallery.h"

namespace facecrowd {

using EmbeddingVector = std::vector<float>;
inline constexpr size_t kMaxEmbeddingSize = 4096;

inline constexpr size_t kOneShotHnswFromSize = SIZE_MAX;

void append_embedding_vector(bson_t* doc, const char* key, const EmbeddingVector& unit);
std::optional<EmbeddingVector> decode_embedding_vector(const bson_iter_t& iter);
// The 24 hex characters of the ObjectId `iter` holds (the caller checked BSON_ITER_HOLDS_OID).
std::string oid_hex(const bson_iter_t& iter);

struct GalleryLoadReport {
  int64_t profiles = 0;             // profiles with at least one loaded embedding
  int64_t embeddings = 0;           // loaded
  int64_t other_model = 0;          // skipped: another modelVersion
  int64_t malformed = 0;            // skipped: no decodable vector
  std::map<std::string, std::string> names;  // profile id -> name, for the loaded profiles
  // Profiles that have embeddings but none of `model_version` -> the models theirs are of: recognition cannot
  // find them (the model changed; app/faces/gallery_models.h words the warning, `gallery reembed` is the remedy).
  std::map<std::string, std::set<std::string>> without_model;
};

GalleryLoadReport load_gallery(Database::ReadTransaction& tx, const std::string& model_version,
                               vision::Gallery& gallery);

// One profile's embeddings in the gallery's id scheme: embedding id -> (model version, vector or nullopt).
struct StoredEmbedding {
  std::string id;
  std::string model_version;
  std::optional<std::string> source_file_id;
  std::optional<EmbeddingVector> vector;
  std::optional<float> sharpness;  // quality.blur: the chip sharpness enroll measured (app/faces/enrollment_face.h)
};
std::vector<StoredEmbedding> profile_embeddings(const Document& profile);

// The chip sharpness stored with embedding `embedding_id` of `profile` (gallery id scheme), which a match with it
// is judged by (MatchPolicy::soft_enrolled_faces); kUnknownSharpness (judged as sharp) when the profile has no such
// embedding or it was stored without one.
float enrolled_sharpness(const Document& profile, const std::string& embedding_id);

}  // namespace facecrowd
