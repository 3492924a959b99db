// What a face detector returns, and the pieces every detector shares: IoU, greedy NMS, and the interface of
// one detector network's single pass (FaceDetectorNet), which face_detector.h tiles over large photos.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <vector>

namespace facecrowd::vision {

struct FaceDetection {
  cv::Rect2f box;  // pixels, clipped to the image, in face-api's SSD box convention (brow-top to chin)
  float score = 0;
};

struct PassOptions {
  float min_score = 0.5f;
  float nms_iou = 0.5f;
  int max_results = 100;
};

// One detector network. Contract of pass(): `bgr` is placed top-left in a black square of side
// max(cols, rows), resized to the network's input, run once; the boxes come back in `bgr`'s pixels, clipped
// to it, in face-api's SSD box convention (so landmarks and alignment see the same crop whichever net found
// the face), NMS'd at nms_iou, best score first. A pass finds faces whose side is at least about
// smallest_face_fraction() of the square's side. Not thread-safe (cv::dnn::Net::forward).
class FaceDetectorNet {
 public:
  virtual ~FaceDetectorNet() = default;
  virtual std::vector<FaceDetection> pass(const cv::Mat& bgr, const PassOptions& options) = 0;
  virtual double smallest_face_fraction() const = 0;
};

// `bgr` resized by input_side / max(cols, rows) into the top-left of a black input_side square: the same
// pixels as padding to a square first and resizing after, without allocating the big square.
cv::Mat top_left_square(const cv::Mat& bgr, int input_side);

// Greedy NMS (face-api): by score descending, keep a box unless its IoU with a kept one is > iou.
std::vector<FaceDetection> non_max_suppression(std::vector<FaceDetection> boxes, float iou, size_t max_results);
float intersection_over_union(const cv::Rect2f& a, const cv::Rect2f& b);

}  // namespace facecrowd::vision
