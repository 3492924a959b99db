// `facecrowd eval detect`: face detection recall and precision against hand-drawn boxes in dlib's imglab
// XML (<dataset><images><image file='a.jpg'><box top left width height [ignore='1']/>…), e.g.
// ../shared/data/faces/detection/dlib_training/training.xml.
//
// Matching, per image: detections by score descending, each takes the unmatched annotated box it
// overlaps most, when IoU >= `iou` (a true positive). A detection that matches an ignore='1' box instead
// is neither right nor wrong. A detection that matches nothing is a false positive only when its shorter
// side is at least the smallest annotated box's shorter side in that image (in the whole file when the
// image has none): such data sets leave small background faces unboxed, and a detector that finds them
// is not wrong — those detections are counted apart as `unmatched_small`.
//   recall = true positives / annotated boxes (ignore boxes excluded)
//   precision = true positives / (true positives + false positives)
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "vision/face_detector.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct AnnotatedBox {
  cv::Rect2f box;
  bool ignore = false;
};
struct AnnotatedImage {
  std::string file;  // as written in the XML (relative to the XML's folder unless absolute)
  std::vector<AnnotatedBox> boxes;
};

// Error(kNotFound) when the file is missing, kBadInput naming the file (and the element) when it is not
// imglab XML or a box lacks a number.
std::vector<AnnotatedImage> read_imglab_xml(const fs::path& xml);

struct ImageDetectResult {
  std::string file;
  size_t boxes = 0;            // annotated, not ignored
  size_t detections = 0;
  size_t true_positives = 0;
  size_t false_positives = 0;
  size_t unmatched_small = 0;  // unmatched but smaller than the smallest box: not counted (see above)
  size_t matched_ignored = 0;
  std::vector<float> matched_iou;
  std::vector<cv::Rect2f> missed;                     // annotated, not ignored, matched by no detection
  std::vector<vision::FaceDetection> false_detections;  // the false positives themselves
};

// Matches one image's detections against its boxes (the rule above). `smallest_side`: the fallback
// smallest annotated side for an image without boxes.
// `truth` turned as vision::rotate_whole(bgr, degrees) turns its image (see DetectEvalOptions::rotations).
AnnotatedImage rotate_annotation(const AnnotatedImage& truth, const cv::Matx23d& to_rotated, double degrees);

ImageDetectResult match_detections(const AnnotatedImage& truth, const std::vector<vision::FaceDetection>& detections,
                                   float iou, float smallest_side);

struct DetectEvalOptions {
  float iou = 0.5f;
  vision::DetectorOptions detector;
  // Each image is also measured turned by these angles (degrees counter-clockwise, vision::rotate_whole: the
  // canvas grows to hold the whole photo); an annotated box becomes the square of its mean side around its
  // turned centre. {0}: the images as they are. Heads tilted in a photo that was not (issue 12).
  std::vector<double> rotations{0};
};

struct DetectEvalReport {
  DetectEvalOptions options;
  std::vector<ImageDetectResult> images;
  size_t boxes = 0, detections = 0, true_positives = 0, false_positives = 0, unmatched_small = 0, matched_ignored = 0;
  double recall = 0, precision = 0, mean_iou = 0;

  void add(ImageDetectResult image);  // accumulates and recomputes the rates
  nlohmann::json to_json() const;
  std::string text() const;
  std::string csv() const;            // one row per image
};

// Detects faces in every image of `xml` (found in `images_dir`, default the XML's folder) at every angle of
// options.rotations (a turned copy is reported as "file@angle") with the same pipeline recognition uses
// (detector, landmark checks, rotation passes), and matches.
DetectEvalReport evaluate_detection(vision::FacePipeline& pipeline, const fs::path& xml, const fs::path& images_dir,
                                    const DetectEvalOptions& options,
                                    const std::function<void(size_t, size_t)>& progress = {});

}  // namespace facecrowd
