// Which face models a gallery's embeddings were made by, and what a change of model leaves unsearchable.
// Each stored embedding records its model (`modelVersion`); recognition searches only the current model's
// (app/faces/gallery_loader.h). After an operator switches model, a profile whose embeddings are all of
// other models silently drops out of recognition until its stored facial images are embedded again
// (`facecrowd gallery reembed`, app/faces/gallery_reembed.h). This file finds those profiles and words the
// warning that recognize, serve (/api/monitoring/health) and `gallery status` give.
// Contract:
//  - profile_image_ids(): a profile's stored facial images: its facialImageIds, then the sourceFileIds of
//    its embeddings not among them, each once, in that order; only ObjectIds (the form facecrowd writes).
//  - plan_profile(): per profile, those images and the ones without an embedding of `model_version`.
//  - survey_gallery(): the sums over every profile, and the embeddings per model, in one read snapshot.
//  - gallery_model_warning(): nullopt when no profile lacks the model; else one sentence naming how many
//    profiles cannot be recognised, the models their embeddings are of (`their_models`), and the remedy;
//    when one of them is kOldSystemEmbeddingModel, also what to do if they are demo-data's synthetic profiles.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/database.h"

namespace facecrowd {

std::vector<std::string> profile_image_ids(const Document& profile);

struct ProfilePlan {
  std::string profile_id;
  std::vector<std::string> images;    // profile_image_ids
  std::vector<std::string> to_embed;  // those without an embedding of the model
  int64_t embeddings = 0, of_model = 0;
  std::map<std::string, int64_t> by_model;
  bool lacks_model() const { return embeddings > 0 && of_model == 0; }
};
ProfilePlan plan_profile(const Document& profile, const std::string& model_version);

struct GallerySurvey {
  std::string model_version;
  int64_t profiles = 0;
  int64_t profiles_with_model = 0;     // at least one embedding of the model: recognisable
  int64_t profiles_without_model = 0;  // embeddings, none of the model: not recognisable
  int64_t profiles_without_model_or_image = 0;  // ... and no stored image: only `enroll` can help
  int64_t profiles_without_embeddings = 0;
  int64_t images = 0;           // stored facial images, counted per profile
  int64_t images_to_embed = 0;  // of them, without an embedding of the model
  std::map<std::string, int64_t> embeddings;  // per modelVersion
  std::set<std::string> models_of_profiles_without_model;
  // {modelVersion, profiles, profilesWithModel, profilesWithoutModel, profilesWithoutModelOrImage,
  //  profilesWithoutEmbeddings, images, imagesToEmbed, embeddings: {model: n}, modelsOfProfilesWithoutModel}
  nlohmann::json to_json() const;
};
GallerySurvey survey_gallery(Database::ReadTransaction& tx, const std::string& model_version);

// The model version the old system (face-api.js) stamped on its embeddings, which no prepared model is: the
// profiles `facecrowd import` brings from it have their photos (`gallery reembed` embeds them), and
// `facecrowd demo-data` stamps it on its synthetic profiles, whose embeddings are random and whose images
// hold no face (nothing can embed them). gallery_model_warning() names both cases when it sees this model.
inline constexpr const char* kOldSystemEmbeddingModel = "face-api@1.7.15/face_recognition_model";

std::optional<std::string> gallery_model_warning(int64_t profiles_without_model, const std::string& model_version,
                                                 const std::set<std::string>& their_models);
// The same from GalleryLoadReport::without_model (profile id -> the models its embeddings are of).
std::optional<std::string> gallery_model_warning(const std::map<std::string, std::set<std::string>>& without_model,
                                                 const std::string& model_version);

}  // namespace facecrowd
