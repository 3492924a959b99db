// How enrollment turns one photo of a person into the face it stores, shared by every path that makes a
// profile embedding from a photo: `enroll` (app/faces/enrollment.h), `gallery reembed`
// (app/faces/gallery_reembed.h) and `import`'s re-embedding (app/import/profile_embeddings.h), so that an
// embedding made by any of them is the one enrollment would have made from the same bytes.
// Contract:
//  - find_enrollment_faces(): one whole-image detection pass (a portrait's face is large, ~10 ms), and the
//    small-face tiles (up to 32 passes) only when that pass finds nothing.
//  - pick_enrollment_face(): the one face of the photo, or the reason there is none: "no face found";
//    several faces without `largest` (with it: the main one by score and size, vision/face_choice.h); a face
//    with fewer than quality.min_interocular_px between the eyes or a chip sharpness below
//    quality.min_blur_variance. A null `quality` skips those two gates (a stored image already accepted).
//  - enrollment_quality_json(): the `quality` sub-document stored with the embedding.
//  - embedding_document(): a faceprofiles embedding {_id, vector, modelVersion, sourceFileId, quality} as
//    relaxed Extended JSON (the vector in app/faces/gallery_loader.h's binary form).
#pragma once

#include <opencv2/core.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "app/faces/gallery_loader.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct EnrollmentQuality {
  // Documented in tools/calibrate_faces.md: every identity photo in shared data passes with room; a
  // 40 px face (interocular ~16 px) is the smallest that still embeds reliably.
  float min_interocular_px = 16.0f;
  float min_blur_variance = 20.0f;
};

std::vector<vision::Face> find_enrollment_faces(vision::FacePipeline& pipeline, const cv::Mat& bgr);

std::variant<vision::Face, std::string> pick_enrollment_face(std::vector<vision::Face> faces, bool largest,
                                                             const EnrollmentQuality* quality);

nlohmann::json enrollment_quality_json(const vision::Face& face);

nlohmann::json embedding_document(const std::string& embedding_id, const EmbeddingVector& unit,
                                  const std::string& model_version, const std::string& source_file_id,
                                  const nlohmann::json& quality);

}  // namespace facecrowd
