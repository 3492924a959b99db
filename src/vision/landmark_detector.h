// 68 facial landmarks (iBUG order) for a detected face: face-api's FaceLandmark68Net (face_landmark_68.onnx).
// Contract: detect(bgr, box) crops the box padded (centred, black outside the image) to a square of side
// max(w, h), resizes it to 112x112, and returns the 68 points in the image's pixel coordinates. The net
// gives no confidence of its own; see face_quality.h for the landmark confidence derived from the points.
// Not thread-safe (cv::dnn::Net::forward).
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <array>

#include "vision/model_files.h"

namespace facecrowd::vision {

using Landmarks68 = std::array<cv::Point2f, 68>;

class LandmarkDetector {
 public:
  explicit LandmarkDetector(const ModelFiles& models);
  Landmarks68 detect(const cv::Mat& bgr, const cv::Rect2f& box);

 private:
  cv::dnn::Net net_;
};

}  // namespace facecrowd::vision
