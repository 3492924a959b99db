// Alignment to the recogniser's face chip: dlib's get_face_chip_details(shape, 150, 0.25) equivalent.
// Contract: align(bgr, landmarks) fits a least-squares similarity transform (rotation + uniform scale +
// translation; Umeyama, as dlib's find_similarity_transform) from landmarks 27..54 and 60..64 onto the
// template in MODELS.json (face_recognition.input.alignment), and warps a 150x150 chip with it (bilinear,
// black outside the image). The fit's RMS residual, in chip pixels, says how well the points match a face
// shape (face_quality uses it as the landmark confidence).
// five_point_crop() is the other alignment, for the faceres embedder (faceres_embedder.h): the 5-point ArcFace
// template (eye centres of landmarks 36..41 and 42..47, nose tip 30, mouth corners 48 and 54), as MODELS.json's
// face_recognition_hse entry gives it for its crop size and margin, fitted the same way (least squares).
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "vision/landmark_detector.h"
#include "vision/model_files.h"

namespace facecrowd::vision {

// MODELS.json's input.alignment of the model entry named `name`: the crop size, the template points, and
// the landmark indices fitted onto them when the entry lists them (dlib's chip; five_point_crop's points
// are fixed). No such entry gives an empty spec; a file that cannot be read as such is Error(kBadInput)
// naming it.
struct AlignmentSpec {
  int size = 0;
  std::vector<int> landmark_indices;
  std::vector<cv::Point2d> template_points;
};
AlignmentSpec read_alignment(const std::filesystem::path& models_json, const std::string& name);

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

// The five ArcFace points of 68 landmarks: eye centres (image left, right), nose tip, mouth corners.
std::vector<cv::Point2d> five_points(const Landmarks68& landmarks);
// A size x size BGR crop mapping five_points(landmarks) onto `template5` (bilinear, black outside).
cv::Mat five_point_crop(const cv::Mat& bgr, const Landmarks68& landmarks, const std::vector<cv::Point2d>& template5,
                        int size);

// Least-squares similarity transform mapping src onto dst (Umeyama 1991), as a 2x3 matrix.
cv::Matx23d similarity_transform(const std::vector<cv::Point2d>& src, const std::vector<cv::Point2d>& dst);

}  // namespace facecrowd::vision
