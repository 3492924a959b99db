#include "app/faces/gallery_models.h"

#include <algorithm>

#include "app/faces/gallery_loader.h"
#include "core/number_text.h"

namespace facecrowd {

std::vector<std::string> profile_image_ids(const Document& profile) {
  std::vector<std::string> out;
  auto add = [&](const std::string& id) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  bson_iter_t it, arr;
  if (bson_iter_init_find(&it, profile.get(), "facialImageIds") && BSON_ITER_HOLDS_ARRAY(&it) &&
      bson_iter_recurse(&it, &arr))
    while (bson_iter_next(&arr))
      if (BSON_ITER_HOLDS_OID(&arr)) add(oid_hex(arr));
  for (const auto& e : profile_embeddings(profile))
    if (e.source_file_id) add(*e.source_file_id);
  return out;
}

ProfilePlan plan_profile(const Document& profile, const std::string& model_version) {
  ProfilePlan plan;
  plan.profile_id = profile.id_key().value_or("");
  plan.images = profile_image_ids(profile);
  std::vector<std::string> embedded;
  for (const auto& e : profile_embeddings(profile)) {
    ++plan.embeddings;
    ++plan.by_model[e.model_version];
    if (e.model_version != model_version) continue;
    ++plan.of_model;
    if (e.source_file_id) embedded.push_back(*e.source_file_id);
  }
  for (const auto& image : plan.images)
    if (std::find(embedded.begin(), embedded.end(), image) == embedded.end()) plan.to_embed.push_back(image);
  return plan;
}

GallerySurvey survey_gallery(Database::ReadTransaction& tx, const std::string& model_version) {
  GallerySurvey s;
  s.model_version = model_version;
  tx.find("faceprofiles", Query{}, [&](const Document& profile) {
    ProfilePlan p = plan_profile(profile, model_version);
    ++s.profiles;
    s.profiles_with_model += p.of_model > 0;
    s.profiles_without_model += p.lacks_model();
    s.profiles_without_model_or_image += p.lacks_model() && p.images.empty();
    s.profiles_without_embeddings += p.embeddings == 0;
    s.images += int64_t(p.images.size());
    s.images_to_embed += int64_t(p.to_embed.size());
    for (const auto& [model, n] : p.by_model) {
      s.embeddings[model] += n;
      if (p.lacks_model()) s.models_of_profiles_without_model.insert(model);
    }
    return true;
  });
  return s;
}

nlohmann::json GallerySurvey::to_json() const {
  return {{"modelVersion", model_version},
          {"profiles", profiles},
          {"profilesWithModel", profiles_with_model},
          {"profilesWithoutModel", profiles_without_model},
          {"profilesWithoutModelOrImage", profiles_without_model_or_image},
          {"profilesWithoutEmbeddings", profiles_without_embeddings},
          {"images", images},
          {"imagesToEmbed", images_to_embed},
          {"embeddings", embeddings},
          {"modelsOfProfilesWithoutModel", models_of_profiles_without_model}};
}

std::optional<std::string> gallery_model_warning(int64_t profiles_without_model, const std::string& model_version,
                                                 const std::set<std::string>& their_models) {
  if (profiles_without_model <= 0) return std::nullopt;
  std::string models;
  for (const auto& model : their_models) models += (models.empty() ? "'" : ", '") + model + "'";
  return counted(profiles_without_model, "enrolled profile") + (profiles_without_model == 1 ? " has" : " have") +
         " embeddings only of other face models" +
         (models.empty() ? "" : " (" + models + ")") + ", none of the current model '" + model_version +
         "', so recognition cannot find them: embed their stored photos with the current model by running "
         "`facecrowd gallery reembed` (see `facecrowd gallery status`)" +
         // After `facecrowd demo-data` a new user was sent to reembed, which then skipped every image ("no face
         // found"): say what those profiles are and what to do instead.
         (their_models.count(kOldSystemEmbeddingModel)
              ? std::string(". If they are the synthetic profiles of `facecrowd demo-data` (it stamps model '") +
                    kOldSystemEmbeddingModel +
                    "' on them), no model can embed them: their embeddings are random and their images hold no face. To "
                    "try recognition, enroll real people: `facecrowd enroll --name NAME PHOTO`"
              : std::string());
}

std::optional<std::string> gallery_model_warning(const std::map<std::string, std::set<std::string>>& without_model,
                                                 const std::string& model_version) {
  std::set<std::string> their_models;
  for (const auto& [id, models] : without_model) their_models.insert(models.begin(), models.end());
  return gallery_model_warning(int64_t(without_model.size()), model_version, their_models);
}

}  // namespace facecrowd
