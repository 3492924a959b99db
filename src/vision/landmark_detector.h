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

// The face box in face-api's SSD convention that these 68 points imply: scaled and shifted from the points'
// bounding box by medians over 464 SSD faces >= 40 px in ShanghaiTech A and street_india train photos
// (tools/calibrate_blazeface_box.py; median IoU with the SSD's own box 0.83). It makes the crop the
// landmark net sees independent of which detector found the face.
cv::Rect2f box_from_landmarks(const Landmarks68& points);

class LandmarkDetector {
 public:
  explicit LandmarkDetector(const ModelFiles& models);
  Landmarks68 detect(const cv::Mat& bgr, const cv::Rect2f& box);

 private:
  cv::dnn::Net net_;
};

}  // namespace facecrowd::vision
