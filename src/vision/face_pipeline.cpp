#include "vision/face_pipeline.h"

#include "vision/false_face_filter.h"
#include "vision/pass_costs.h"
#include "vision/rotation_passes.h"

namespace facecrowd::vision {

std::unique_ptr<FacePipeline> FacePipeline::open(const std::optional<std::filesystem::path>& models_dir,
                                                 FaceModel face_model) {
  return std::make_unique<FacePipeline>(open_model_files(find_models_dir(models_dir), face_model));
}

FacePipeline::FacePipeline(const ModelFiles& models)
    : models_(models), detector_(models), landmarks_(models), aligner_(models), embedder_(make_face_embedder(models)) {}

Face FacePipeline::describe(const cv::Mat& bgr, const FaceDetection& detection) {
  Face f = measure(bgr, detection, false);
  f.embedding = embed(bgr, f);
  return f;
}

Face FacePipeline::measure(const cv::Mat& bgr, const FaceDetection& detection, bool only_what_filters_need) {
  Face f;
  f.box = detection.box;
  f.detection_score = detection.score;
  f.landmarks = landmarks_.detect(bgr, detection.box);
  if (options_.refine_box_from_landmarks) {
    cv::Rect2f refined = box_from_landmarks(f.landmarks) & cv::Rect2f(0, 0, float(bgr.cols), float(bgr.rows));
    if (refined.area() > 0) {
      f.box = refined;
      f.landmarks = landmarks_.detect(bgr, refined);
    }
  }
  AlignedFace aligned;
  {
    PassTimer timer(PassKind::kAlign);
    aligned = aligner_.align(bgr, f.landmarks);
  }
  f.quality = assess_face_quality(f.landmarks, aligned);
  f.chip = aligned.chip;
  // The mirrored pass decides nothing for a face that keep_real_faces drops on its own points anyway.
  if (only_what_filters_need && !passes_own_point_checks(f.quality, options_)) return f;
  f.quality.landmark_flip_error = float(landmark_flip_error(f.landmarks, landmarks_.detect_mirrored(bgr, f.box)));
  return f;
}

Embedding FacePipeline::embed(const cv::Mat& bgr, const Face& face) {
  PassTimer timer(PassKind::kEmbedding);
  return embedder_->embed(bgr, face.landmarks, face.chip);
}

std::vector<Face> FacePipeline::analyse(const cv::Mat& bgr, const DetectorOptions& options) {
  const RotationOptions& r = options_.rotation;
  const bool near_miss_tilts = r.tilt_degrees > 0 && r.tilt_scope == RotationOptions::TiltScope::kNearMisses;
  std::vector<NearMiss> near_misses;
  std::vector<Face> faces = analyse_upright(bgr, options, near_miss_tilts ? &near_misses : nullptr);
  auto upright = [&](const cv::Mat& image) { return analyse_upright(image, options); };
  // A near miss's crop holds one face at ~1/2.5 of its side: one detector pass, no tiles.
  DetectorOptions whole_only = options;
  whole_only.min_face_px = 0;
  auto crop = [&](const cv::Mat& image) { return analyse_upright(image, whole_only); };
  for (Face& f : find_rotated_faces(upright, bgr, faces, r, near_misses, crop)) faces.push_back(std::move(f));
  return faces;
}

std::vector<Face> FacePipeline::analyse_upright(const cv::Mat& bgr, const DetectorOptions& options,
                                                std::vector<NearMiss>* near_misses) {
  std::vector<Face> faces;
  for (const FaceDetection& d : detector_.detect(bgr, options)) {
    faces.push_back(measure(bgr, d, true));
    const Face& f = faces.back();
    if (near_misses && !passes_single_face_checks(f.quality, options_)) near_misses->push_back({d, f.landmarks, f.quality});
  }
  // Only the faces that are kept are embedded: a dropped detection's embedding is never seen.
  std::vector<Face> kept = keep_real_faces(std::move(faces), options_);
  for (Face& f : kept) f.embedding = embed(bgr, f);
  return kept;
}

std::vector<Face> FacePipeline::analyse_file(const std::filesystem::path& path) {
  return analyse(load_image(path, options_.image));
}

}  // namespace facecrowd::vision
