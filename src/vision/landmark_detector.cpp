#include "vision/landmark_detector.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace facecrowd::vision {

constexpr int kInputSide = 112;

LandmarkDetector::LandmarkDetector(const ModelFiles& models) {
  net_ = cv::dnn::readNetFromONNX(models.landmarks.string());
}

cv::Rect2f box_from_landmarks(const Landmarks68& points) {
  constexpr float kCentreDx = 0.016f, kCentreDy = -0.148f, kWidthScale = 0.924f, kHeightScale = 1.487f;
  cv::Point2f lo = points[0], hi = points[0];
  for (const cv::Point2f& p : points) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  cv::Rect2f span(lo, hi);
  float w = kWidthScale * span.width, h = kHeightScale * span.height;
  float cx = span.x + span.width / 2 + kCentreDx * span.width, cy = span.y + span.height / 2 + kCentreDy * span.height;
  return {cx - w / 2, cy - h / 2, w, h};
}

Landmarks68 LandmarkDetector::detect(const cv::Mat& bgr, const cv::Rect2f& box) {
  const double side = std::max(box.width, box.height);
  const double sx = box.x - (side - box.width) / 2, sy = box.y - (side - box.height) / 2;
  const double k = kInputSide / side;
  cv::Matx23d crop_transform(k, 0, -sx * k, 0, k, -sy * k);
  cv::Mat crop;
  cv::warpAffine(bgr, crop, crop_transform, cv::Size(kInputSide, kInputSide), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  cv::Mat blob = cv::dnn::blobFromImage(crop, 1 / 255.0, cv::Size(kInputSide, kInputSide),
                                        cv::Scalar(122.782, 117.001, 104.298), /*swapRB=*/true, /*crop=*/false);
  net_.setInput(blob);
  cv::Mat out = net_.forward("landmarks");
  const float* p = out.ptr<float>();
  Landmarks68 points;
  for (int i = 0; i < 68; ++i) {
    points[i] = cv::Point2f(float(sx + p[2 * i] * side), float(sy + p[2 * i + 1] * side));
  }
  return points;
}

}  // namespace facecrowd::vision
