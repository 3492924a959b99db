#include "vision/face_detection.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace facecrowd::vision {

cv::Mat top_left_square(const cv::Mat& bgr, int input_side) {
  const double scale = double(input_side) / std::max(bgr.cols, bgr.rows);
  cv::Mat canvas(input_side, input_side, CV_8UC3, cv::Scalar::all(0));
  cv::Size scaled(std::clamp(int(std::lround(bgr.cols * scale)), 1, input_side),
                  std::clamp(int(std::lround(bgr.rows * scale)), 1, input_side));
  cv::Mat resized;
  cv::resize(bgr, resized, scaled, 0, 0, cv::INTER_LINEAR);
  resized.copyTo(canvas(cv::Rect(0, 0, scaled.width, scaled.height)));
  return canvas;
}

float intersection_over_union(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return (a.area() > 0 && b.area() > 0 && uni > 0) ? inter / uni : 0.0f;
}

std::vector<FaceDetection> non_max_suppression(std::vector<FaceDetection> boxes, float iou, size_t max_results) {
  std::stable_sort(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
  std::vector<FaceDetection> kept;
  for (const auto& b : boxes) {
    if (kept.size() >= max_results) break;
    bool overlaps = std::any_of(kept.begin(), kept.end(),
                                [&](const auto& k) { return intersection_over_union(b.box, k.box) > iou; });
    if (!overlaps) kept.push_back(b);
  }
  return kept;
}

}  // namespace facecrowd::vision
