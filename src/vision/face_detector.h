// Face detection over whole photos: one pass of a detector network (face_detection.h: BlazeFace by default,
// or face-api's SSD) over the whole image, plus tiles for faces too small for that pass.
// Contract: detect(bgr) returns boxes in the image's pixel coordinates (SSD box convention), best score
// first, each face once. A pass finds faces down to about the net's smallest_face_fraction() of the longer
// side; when `min_face_px` is smaller than that for the whole photo, levels of overlapping square tiles
// (side halving per level, step 3/4 side) are run too, until a level reaches min_face_px or the pass budget;
// detections cut by an inner tile edge are dropped (a neighbouring tile sees them whole) and all passes are
// merged by NMS at `merge_iou`. Cost: passes x the net's pass time; see bench/vision_bench.cpp.
// Not thread-safe (cv::dnn::Net::forward); use one detector per thread.
#pragma once

#include <opencv2/core.hpp>

#include <memory>
#include <string>
#include <vector>

#include "vision/face_detection.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

enum class DetectorModel { kBlazeFace, kSsd };
std::string to_string(DetectorModel model);
// "blazeface" or "ssd"; anything else is Error(kUsage) naming the accepted values.
DetectorModel parse_detector_model(const std::string& name);

struct DetectorOptions {
  DetectorModel model = DetectorModel::kBlazeFace;
  float min_score = 0.5f;  // face-api's and MediaPipe's default
  float nms_iou = 0.5f;    // within one pass (face-api)
  float merge_iou = 0.3f;  // across the whole-image pass and tiles
  int max_results = 100;   // per pass
  // Smallest face (shorter box side, pixels) to look for; decides the tile levels. 0: whole image only.
  int min_face_px = 20;
  // At most this many tile passes per image; levels that would exceed it are not run (coarse levels first).
  int max_tile_passes = 32;
};

// Tiles are never smaller than this (a 128 px tile is already upscaled 2x-4x to the net's input).
inline constexpr int kMinTileSide = 128;

class FaceDetector {
 public:
  // The networks are loaded on first use, so a command pays only for the one it runs.
  explicit FaceDetector(const ModelFiles& models);
  ~FaceDetector();
  std::vector<FaceDetection> detect(const cv::Mat& bgr, const DetectorOptions& options = {});
  // One pass over the whole of `bgr` (no tiles).
  std::vector<FaceDetection> detect_single_pass(const cv::Mat& bgr, const DetectorOptions& options = {});
  // Number of passes detect() runs on an image of this size (1 + tiles).
  int planned_passes(cv::Size image, const DetectorOptions& options);

 private:
  FaceDetectorNet& net(DetectorModel model);
  ModelFiles models_;
  std::unique_ptr<FaceDetectorNet> blazeface_, ssd_;
};

}  // namespace facecrowd::vision
