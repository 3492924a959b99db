// The embeddings step of `facecrowd import` (app/import/import_mongodump.h): decides, for the imported face
// profiles, which embeddings facecrowd will search. Contract:
//  - Descriptors (scaled to unit length when read) are compared with facecrowd's own embedding of the
//    profile's stored images on a sample of up to `sample` profiles having both, spread over the collection:
//    for each sampled profile, the first image with a face is embedded and its distance to the nearest of
//    the profile's descriptors measured (unit-vector L2). Descriptors are 128-D (the old system's dlib
//    model): with another model selected (faceres) they never agree, and profiles are re-embedded.
//  - Every measured distance below `agree_distance`: "descriptors-agree", descriptors are used as they are
//    (model version: facecrowd's; sourceFileId the i-th image when there are as many images as descriptors).
//    No profile could be measured: "unchecked", used as they are, with a warning. Otherwise "re-embedded":
//    every profile with images is embedded from them (progress through `say`), and its descriptors are
//    kept under the model version kUnverifiedModel, which the gallery never searches.
//  - A profile with images but no descriptors is always embedded from its images.
//  - A profile left without an embedding of facecrowd's model is flagged (and gets an importNotes line),
//    never dropped. The face models are opened only when some profile has descriptors or images.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vision/face_model.h"

namespace facecrowd {

inline constexpr const char* kUnverifiedModel = "imported-unverified";

using ImportVector = std::array<float, 128>;

struct FlaggedProfile {
  std::string id, name, reason;
};

// A face profile between reading and writing (profiles are few; attendances stream past instead).
struct ImportedProfile {
  std::string id, name;
  std::optional<std::string> external_id;
  std::vector<ImportVector> descriptors;  // unit length
  std::vector<float> descriptor_norms;    // as stored by the old system
  std::vector<std::string> images;        // stored file ids
  std::optional<int64_t> created, updated;
  std::string source;                     // the source document (its legacy fields are copied from it)
  std::vector<std::string> notes;
  struct Embedding {
    std::vector<float> unit;  // 128 numbers (descriptors, dlib) or the selected model's size
    std::string model;
    std::optional<std::string> source_file;
    nlohmann::json quality;
  };
  std::vector<Embedding> embeddings;      // filled by settle_profile_embeddings
};

struct EmbeddingCheck {
  int sample = 20;
  double agree_distance = 0.1;
  std::optional<std::filesystem::path> models_dir;
  vision::FaceModel face_model = vision::FaceModel::kDlib;  // embeds the stored images (vision/face_model.h)
};

struct EmbeddingOutcome {
  std::string decision;  // "descriptors-agree", "re-embedded", "unchecked", "none"
  std::string model_version;
  int64_t sample_checked = 0, sample_without_face = 0;
  double sample_max_distance = 0;
  int64_t profiles_reembedded = 0, embeddings_imported = 0, embeddings_computed = 0;
  std::vector<FlaggedProfile> flagged;
  std::vector<std::string> warnings;
};

// `image_bytes(file id)`: the stored image's bytes, nullopt when unreadable.
EmbeddingOutcome settle_profile_embeddings(std::vector<ImportedProfile>& profiles,
                                           const std::function<std::optional<std::string>(const std::string&)>& image_bytes,
                                           const EmbeddingCheck& check, const std::function<void(const std::string&)>& say);

}  // namespace facecrowd
