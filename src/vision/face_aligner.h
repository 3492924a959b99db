// Alignment to the recogniser's face chip: dlib's get_face_chip_details(shape, 150, 0.25) equivalent.
// Contract: align(bgr, landmarks) fits a least-squares similarity transform (rotation + uniform scale +
// translation; Umeyama, as dlib's find_similarity_transform) from landmarks 27..54 and 60..64 onto the
// template in MODELS.json (face_recognition.input.alignment), and warps a 150x150 chip with it (bilinear,
// black outside the image). The fit's RMS residual, in chip pixels, says how well the points match a face
// shape (face_quality uses it as the landmark confidence).
#pragma once

#include <opencv2/core.hpp>

#include <vector>

#include "vision/landmark_detector.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

struct AlignedFace {
  cv::Mat chip;                // 150x150 BGR
  cv::Matx23d image_to_chip;   // the similarity transform
  double residual_rms = 0;     // RMS distance of the mapped landmarks from the template, chip pixels
};

class FaceAligner {
 public:
  explicit FaceAligner(const ModelFiles& models);  // reads the template from MODELS.json
  AlignedFace align(const cv::Mat& bgr, const Landmarks68& landmarks) const;
  int chip_size() const { return size_; }

 private:
  int size_ = 150;
  std::vector<int> indices_;
  std::vector<cv::Point2d> template_;
};

// Least-squares similarity transform mapping src onto dst (Umeyama 1991), as a 2x3 matrix.
cv::Matx23d similarity_transform(const std::vector<cv::Point2d>& src, const std::vector<cv::Point2d>& dst);

}  // namespace facecrowd::vision
