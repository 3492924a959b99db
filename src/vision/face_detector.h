// Face detection: SSD MobileNetV1 (face-api's weights, ssd_mobilenetv1.onnx) with its anchor decoding,
// non-maximum suppression, and tiles for faces too small for one 512x512 pass over the whole photo.
// Contract: detect(bgr) returns boxes in the image's pixel coordinates, best score first, each face once.
// One pass = the image (or tile) placed top-left in a black square, resized to 512x512, decoded and
// NMS'd exactly as face-api's SsdMobilenetv1 (tools/check_models.py is the reference). A pass finds faces
// down to about kPassSmallestFaceFraction of the square's side; when `min_face_px` is smaller than that
// for the whole photo, levels of overlapping square tiles (side halving per level, step 3/4 side) are run
// too, until a level reaches min_face_px or the pass budget; detections cut by an inner tile edge are
// dropped (a neighbouring tile sees them whole) and all passes are merged by NMS at `merge_iou`.
// Cost: one SSD forward (~180-300 ms on 2 cores) per pass; see bench/vision_bench.cpp.
// Not thread-safe (cv::dnn::Net::forward); use one detector per thread.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <vector>

#include "vision/model_files.h"

namespace facecrowd::vision {

struct FaceDetection {
  cv::Rect2f box;  // pixels, clipped to the image
  float score = 0;
};

struct DetectorOptions {
  float min_score = 0.5f;  // face-api minConfidence
  float nms_iou = 0.5f;    // within one pass (face-api)
  float merge_iou = 0.3f;  // across the whole-image pass and tiles
  int max_results = 100;   // per pass
  // Smallest face (shorter box side, pixels) to look for; decides the tile levels. 0: whole image only.
  int min_face_px = 20;
  // At most this many tile passes per image; levels that would exceed it are not run (coarse levels first).
  int max_tile_passes = 32;
};

// A single pass finds faces whose side is at least about this fraction of its square input's side
// (measured: 37 px faces in 500 px PASCAL photos, i.e. 0.074, are found).
inline constexpr double kPassSmallestFaceFraction = 0.07;
// Tiles are never smaller than this (a 128 px tile is already upscaled 4x to 512).
inline constexpr int kMinTileSide = 128;

class FaceDetector {
 public:
  explicit FaceDetector(const ModelFiles& models);
  std::vector<FaceDetection> detect(const cv::Mat& bgr, const DetectorOptions& options = {});
  // One pass over the whole of `bgr` (no tiles): face-api's locateFaces.
  std::vector<FaceDetection> detect_single_pass(const cv::Mat& bgr, const DetectorOptions& options = {});
  // Number of SSD passes detect() runs on an image of this size (1 + tiles).
  static int planned_passes(cv::Size image, const DetectorOptions& options);

 private:
  cv::dnn::Net net_;
  std::vector<cv::Vec4f> anchors_;  // ymin, xmin, ymax, xmax, normalised
  float scale_y_ = 10, scale_x_ = 10, scale_h_ = 5, scale_w_ = 5;
};

// Greedy NMS (face-api): by score descending, keep a box unless its IoU with a kept one is > iou.
std::vector<FaceDetection> non_max_suppression(std::vector<FaceDetection> boxes, float iou, size_t max_results);
float intersection_over_union(const cv::Rect2f& a, const cv::Rect2f& b);

}  // namespace facecrowd::vision
