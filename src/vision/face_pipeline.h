// Every face in a photo: detect -> 68 landmarks -> 150x150 chip -> unit embedding of the selected model
// (vision/face_model.h: 128-D dlib, the default, or 1024-D faceres) + quality.
// Contract: FacePipeline::open() locates and verifies the models (model_files.h; Error(kNotFound/kBadInput)
// telling how to prepare them) and loads the landmark and recogniser nets (a detector network on first
// use). analyse(bgr) returns one Face per detected face, in detection order (best score first), minus
// detections whose landmarks do not fit a face (see PipelineOptions); an image with no face gives an empty
// vector, not an error.
// analyse_file() loads the image first (image_loader.h: EXIF, grey/alpha/CMYK, megapixel limit; errors
// name the file). The outputs are plain values: nothing here knows about the store.
// Not thread-safe: use one pipeline per thread.
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vision/face_aligner.h"
#include "vision/face_detector.h"
#include "vision/face_embedder.h"
#include "vision/face_quality.h"
#include "vision/image_loader.h"
#include "vision/landmark_detector.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

struct Face {
  cv::Rect2f box;               // pixels in the upright image
  float detection_score = 0;
  Landmarks68 landmarks;        // pixels in the upright image
  cv::Mat chip;                 // dlib's 150x150 BGR chip (quality; dlib's recogniser reads it)
  Embedding embedding;
  FaceQuality quality;
};

// Passes on rotated copies of a photo for the faces the upright pass misses (vision/rotation_passes.h).
struct RotationOptions {
  // +-this many degrees (--rotation-passes near-misses, the default, and all); 0: none.
  float tilt_degrees = 30;
  bool quarter_turns_when_empty = true;  // 90, 270, 180 degrees when the upright pass found no face
  // Where the tilt passes look: only around the upright pass's near misses (the default: a detection at
  // DetectorOptions::min_score whose landmarks the false-face filter rejected, as a tilted face's points
  // often are), or the whole photo (a full detection, tiles included, of a ~1.4x canvas per angle).
  // Lower-scoring detections found only false faces there (tools/calibrate_faces.md, "Tilted heads").
  enum class TiltScope { kNearMisses, kWholePhoto } tilt_scope = TiltScope::kNearMisses;
  int max_near_misses = 8;            // the best-scoring ones, per photo
  float near_miss_crop_sides = 2.5f;  // each is looked at in a square crop of this many box sides
  // Which turns a near miss gets (rotation_passes.h, near_miss_turns()); chosen on PASCAL testing.xml
  // tilted by 8 angles (tools/calibrate_faces.md, "Tilted heads"):
  //  - readable points (chip-alignment residual below this, px; 8 is where landmark_confidence reaches 0):
  //    the eye line shows which way the head leans, so the crop is turned that way only;
  float near_miss_readable_residual = 8.0f;
  //  - unreadable points: looked at only when the detector scored it at least this, both ways. Real tilted
  //    faces with unreadable points scored 0.79-0.97 upright; the rejects of upright photos (texture, parts
  //    of faces) mostly 0.50-0.70;
  float near_miss_unreadable_min_score = 0.75f;
  //  - when tilt_degrees finds nothing new there, this many (0: none): heads leaning 55-65 degrees.
  float near_miss_second_tilt_degrees = 45;
};

// A detection of the upright pass whose landmarks the false-face filter rejected (RotationOptions::TiltScope::
// kNearMisses), with the 68 points and quality it was rejected on: a tilted head's points often still show
// its eye line.
struct NearMiss {
  FaceDetection detection;
  Landmarks68 landmarks;
  FaceQuality quality;
};

struct PipelineOptions {
  DetectorOptions detector;
  ImageLimits image;
  // Second-stage check: drop a detection whose 68 points do not fit a face (landmark_confidence 0: the
  // chip-alignment residual >= 8 px or eyes/nose/mouth out of order). Tiles upscale background texture
  // and a detector then sometimes scores it 0.6-0.8; real faces in data/faces have residuals of 1-5 px.
  bool drop_implausible_landmarks = true;
  // Second check of the same kind, which also catches what the first lets through (issue 12): drop a
  // detection whose landmarks on the mirrored crop disagree with its landmarks by more than this
  // (FaceQuality::landmark_flip_error, in inter-ocular distances). Real faces: 0.02-0.09; false faces
  // (a flag pin, a patterned suit, an eye region inside a face, a face lying on its side in a photo
  // turned 90 degrees, which hid the turn passes): 0.12-0.83. 0: off.
  float max_landmark_flip_error = 0.2f;
  // Smaller than any face the detector can find (a 20 px face has ~8 px between the eyes): landmarks
  // fitted to a speck (vision/false_face_filter.h).
  float min_interocular_px = 4.0f;
  // Landmarks are run twice: on the detector's box, then on box_from_landmarks() of the first points, which
  // becomes the face's box. Detectors differ in where they put the box; this makes the crop (and so the
  // embedding) depend on the face, not on the detector.
  bool refine_box_from_landmarks = true;
  // After the upright pass: tilt passes and quarter turns for faces it misses (vision/rotation_passes.h).
  RotationOptions rotation;
};

class FacePipeline {
 public:
  // `models_dir` as for find_models_dir(): explicit, else $FACECROWD_MODELS, ./models, beside the binary.
  // `face_model`: which embedding model (vision/face_model.h); only its recogniser file is required.
  static std::unique_ptr<FacePipeline> open(const std::optional<std::filesystem::path>& models_dir = std::nullopt,
                                            FaceModel face_model = FaceModel::kDlib);
  explicit FacePipeline(const ModelFiles& models);

  // The upright pass, then the rotation passes of options().rotation (their faces after the upright ones).
  std::vector<Face> analyse(const cv::Mat& bgr, const DetectorOptions& options);
  // The upright pass alone. `near_misses`, when given, receives the detections whose landmarks the
  // false-face filter rejected (see RotationOptions::TiltScope::kNearMisses).
  std::vector<Face> analyse_upright(const cv::Mat& bgr, const DetectorOptions& options,
                                    std::vector<NearMiss>* near_misses = nullptr);
  std::vector<Face> analyse(const cv::Mat& bgr) { return analyse(bgr, options_.detector); }
  std::vector<Face> analyse_file(const std::filesystem::path& path);
  // Landmarks, chip, embedding and quality for one already-detected face.
  Face describe(const cv::Mat& bgr, const FaceDetection& detection);
  // The selected model's embedding of a face already measured on `bgr` (its landmarks and chip set).
  Embedding embed(const cv::Mat& bgr, const Face& face);

  const ModelFiles& models() const { return models_; }
  PipelineOptions& options() { return options_; }
  FaceDetector& detector() { return detector_; }

 private:
  // describe() without the embedding. `only_what_filters_need`: leave out the mirrored landmark pass (flip
  // error 0) when the face fails keep_real_faces' checks on its own points, which drop it whatever that is.
  Face measure(const cv::Mat& bgr, const FaceDetection& detection, bool only_what_filters_need);
  ModelFiles models_;
  PipelineOptions options_;
  FaceDetector detector_;
  LandmarkDetector landmarks_;
  FaceAligner aligner_;
  std::unique_ptr<FaceEmbedder> embedder_;
};

}  // namespace facecrowd::vision
