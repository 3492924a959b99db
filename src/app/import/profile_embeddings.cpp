#include "app/import/profile_embeddings.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "app/faces/enrollment_face.h"
#include "app/photo_input.h"
#include "core/error.h"
#include "vision/face_choice.h"
#include "vision/face_pipeline.h"

namespace facecrowd {
namespace {

namespace fs = std::filesystem;

float l2(const ImportVector& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 2;  // another model's space: as far apart as unit vectors can be
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

// What the face pipeline makes of one stored image: the main face's unit embedding or a reason.
struct ImageEmbedding {
  std::optional<std::vector<float>> unit;
  nlohmann::json quality;
  std::string why;
};

class Embedder {
 public:
  Embedder(const std::optional<fs::path>& models, vision::FaceModel face_model) : models_(models), face_model_(face_model) {}
  vision::FacePipeline& pipeline() {
    if (!pipeline_) pipeline_ = vision::FacePipeline::open(models_, face_model_);
    return *pipeline_;
  }
  ImageEmbedding embed(const std::string& bytes, const std::string& name) {
    ImageEmbedding out;
    try {
      Photo photo = decode_photo(bytes, name, pipeline().options().image);
      auto faces = find_enrollment_faces(pipeline(), photo.bgr);  // as enrollment finds them
      auto pick = vision::choose_face(faces);
      if (!pick) {
        out.why = "no face found";
        return out;
      }
      out.unit = faces[*pick].embedding.unit;
      out.quality = {{"imported", true},
                     {"detectionScore", faces[*pick].detection_score},
                     {"faces", int64_t(faces.size())}};
    } catch (const Error& e) {
      out.why = e.what();
    }
    return out;
  }

 private:
  std::optional<fs::path> models_;
  vision::FaceModel face_model_;
  std::unique_ptr<vision::FacePipeline> pipeline_;
};

}  // namespace

EmbeddingOutcome settle_profile_embeddings(std::vector<ImportedProfile>& profiles,
                                           const std::function<std::optional<std::string>(const std::string&)>& image_bytes,
                                           const EmbeddingCheck& check, const std::function<void(const std::string&)>& say_fn) {
  auto say = [&](const std::string& line) {
    if (say_fn) say_fn(line);
  };
  EmbeddingOutcome out;
  Embedder embedder(check.models_dir, check.face_model);
  int64_t with_descriptors = 0, with_images = 0;
  for (const auto& p : profiles) {
    with_descriptors += !p.descriptors.empty();
    with_images += !p.images.empty();
  }
  std::string model_version;
  if (with_descriptors > 0 || with_images > 0) model_version = embedder.pipeline().models().embedding_model_version;
  out.model_version = model_version;
  // The sample: profiles with both descriptors and images, spread over the collection.
  std::vector<size_t> both;
  for (size_t i = 0; i < profiles.size(); ++i)
    if (!profiles[i].descriptors.empty() && !profiles[i].images.empty()) both.push_back(i);
  bool agree = true;
  // The old system's descriptors are dlib's 128 numbers: another selected model can never use them.
  const bool descriptors_of_another_model = check.face_model != vision::FaceModel::kDlib;
  if (!both.empty() && check.sample > 0 && !descriptors_of_another_model) {
    size_t step = std::max<size_t>(1, both.size() / size_t(check.sample));
    for (size_t k = 0; k < both.size() && out.sample_checked < check.sample; k += step) {
      ImportedProfile& p = profiles[both[k]];
      say("checking the descriptors of '" + p.name + "' against facecrowd's model");
      bool measured = false;
      for (const auto& img : p.images) {
        auto bytes = image_bytes(img);
        if (!bytes) continue;
        ImageEmbedding e = embedder.embed(*bytes, img);
        if (!e.unit) continue;
        float best = 2;
        for (const auto& d : p.descriptors) best = std::min(best, l2(d, *e.unit));
        out.sample_max_distance = std::max(out.sample_max_distance, double(best));
        if (best >= check.agree_distance) agree = false;
        measured = true;
        break;
      }
      if (measured) out.sample_checked++;
      else out.sample_without_face++;
    }
  }
  if (with_descriptors == 0) out.decision = "none";
  else if (descriptors_of_another_model) {
    out.decision = "re-embedded";
    out.warnings.push_back(std::string("the imported descriptors are dlib's 128-D ones and the selected face model is ") +
                           vision::face_model_name(check.face_model) + ": profiles were re-embedded from their stored images");
  } else if (out.sample_checked == 0) {
    out.decision = "unchecked";
    out.warnings.push_back("the imported descriptors could not be checked against facecrowd's model (no profile has a "
                              "stored image with a face): they are used as they are; check recognition, or re-enroll");
  } else {
    out.decision = agree ? "descriptors-agree" : "re-embedded";
    if (!agree)
      out.warnings.push_back("the imported descriptors differ from facecrowd's model (largest distance " +
                                std::to_string(out.sample_max_distance) + " >= " + std::to_string(check.agree_distance) +
                                "): profiles were re-embedded from their stored images");
  }
  const bool use_descriptors = out.decision != "re-embedded";
  size_t to_reembed = 0;
  for (const auto& p : profiles)
    if (!p.images.empty() && (!use_descriptors || p.descriptors.empty())) ++to_reembed;
  size_t reembedded = 0;
  for (auto& p : profiles) {
    const bool from_images = !p.images.empty() && (!use_descriptors || p.descriptors.empty());
    if (!from_images) {
      for (size_t i = 0; i < p.descriptors.size(); ++i) {
        ImportedProfile::Embedding e{{p.descriptors[i].begin(), p.descriptors[i].end()}, use_descriptors ? model_version : kUnverifiedModel, std::nullopt,
                         {{"imported", true}, {"descriptorNorm", p.descriptor_norms[i]}}};
        if (p.images.size() == p.descriptors.size()) e.source_file = p.images[i];
        p.embeddings.push_back(std::move(e));
        out.embeddings_imported++;
      }
    } else {
      say("re-embedding " + std::to_string(++reembedded) + "/" + std::to_string(to_reembed) + ": '" + p.name + "' (" +
          std::to_string(p.images.size()) + " images)");
      for (const auto& img : p.images) {
        auto bytes = image_bytes(img);
        ImageEmbedding e = bytes ? embedder.embed(*bytes, img) : ImageEmbedding{std::nullopt, {}, "image not readable"};
        if (!e.unit) {
          p.notes.push_back("image " + img + ": " + e.why);
          continue;
        }
        p.embeddings.push_back({*e.unit, model_version, img, e.quality});
        out.embeddings_computed++;
      }
      out.profiles_reembedded++;
      if (!use_descriptors)
        for (size_t i = 0; i < p.descriptors.size(); ++i)
          p.embeddings.push_back({{p.descriptors[i].begin(), p.descriptors[i].end()}, kUnverifiedModel, std::nullopt,
                                  {{"imported", true}, {"descriptorNorm", p.descriptor_norms[i]}}});
    }
    bool searchable = std::any_of(p.embeddings.begin(), p.embeddings.end(),
                                  [&](const ImportedProfile::Embedding& e) { return e.model == model_version && !model_version.empty(); });
    if (!searchable) {
      std::string reason = p.descriptors.empty() && p.images.empty()
                               ? "no descriptor and no image: not recognisable until enrolled (`facecrowd enroll --profile " + p.id + " PHOTO`)"
                               : "no usable embedding (" + (p.notes.empty() ? std::string("descriptors disagree with facecrowd's model and no image embeds") : p.notes.back()) +
                                     "): not recognisable until enrolled";
      p.notes.push_back(reason);
      out.flagged.push_back({p.id, p.name, reason});
    }
  }
  return out;
}

}  // namespace facecrowd
