#include "app/faces/enrollment_face.h"

#include <algorithm>
#include <cmath>

#include "core/number_text.h"
#include "store/document.h"
#include "vision/face_choice.h"

namespace facecrowd {

std::vector<vision::Face> find_enrollment_faces(vision::FacePipeline& pipeline, const cv::Mat& bgr) {
  vision::DetectorOptions one_pass = pipeline.options().detector;
  one_pass.min_face_px = 0;
  auto faces = pipeline.analyse(bgr, one_pass);
  if (faces.empty()) faces = pipeline.analyse(bgr);
  return faces;
}

std::variant<vision::Face, std::string> pick_enrollment_face(std::vector<vision::Face> faces, bool largest,
                                                             const EnrollmentQuality* quality) {
  if (faces.empty()) return std::string("no face found");
  if (faces.size() > 1 && !largest)
    return std::to_string(faces.size()) + " faces found; enrol a photo of one person, or pass --largest to use the main face";
  vision::Face face = std::move(faces[*vision::choose_face(faces)]);  // by score and size (face_choice.h)
  if (!quality) return face;
  if (face.quality.interocular_px < quality->min_interocular_px)
    return "face too small: " + fixed_decimals(face.quality.interocular_px, 1) + " px between the eyes (minimum " +
           fixed_decimals(quality->min_interocular_px, 1) + "); use a closer or larger photo";
  if (face.quality.blur_variance < quality->min_blur_variance)
    return "face too blurred: sharpness " + fixed_decimals(face.quality.blur_variance, 1) + " (Laplacian variance, minimum " +
           fixed_decimals(quality->min_blur_variance, 1) + ")";
  return face;
}

nlohmann::json enrollment_quality_json(const vision::Face& f) {
  return {{"size", int(std::lround(std::min(f.box.width, f.box.height)))},
          {"interocular", std::round(f.quality.interocular_px * 10) / 10},
          {"blur", std::round(f.quality.blur_variance * 10) / 10},
          {"landmarks", std::round(f.quality.landmark_confidence * 1000) / 1000},
          {"detection", std::round(f.detection_score * 1000) / 1000},
          {"score", std::round(f.quality.score * 1000) / 1000}};
}

nlohmann::json embedding_document(const std::string& embedding_id, const EmbeddingVector& unit,
                                  const std::string& model_version, const std::string& source_file_id,
                                  const nlohmann::json& quality) {
  bson_t* e = bson_new();
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, embedding_id.c_str());
  BSON_APPEND_OID(e, "_id", &oid);
  append_embedding_vector(e, "vector", unit);
  BSON_APPEND_UTF8(e, "modelVersion", model_version.c_str());
  bson_oid_t file_oid;
  bson_oid_init_from_string(&file_oid, source_file_id.c_str());
  BSON_APPEND_OID(e, "sourceFileId", &file_oid);
  nlohmann::json embedding = Document(e).to_json();
  embedding["quality"] = quality;
  return embedding;
}

}  // namespace facecrowd
