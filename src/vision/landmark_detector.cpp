#include "vision/landmark_detector.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "vision/pass_costs.h"

namespace facecrowd::vision {

constexpr int kInputSide = 112;

LandmarkDetector::LandmarkDetector(const ModelFiles& models) : LandmarkDetector(models, net_engine_from_env()) {}

LandmarkDetector::LandmarkDetector(const ModelFiles& models, NetEngine engine) {
  net_ = cv::dnn::readNetFromONNX(models.landmarks.string());
  if (engine == NetEngine::kXnnpack) {
    xnnpack_ = std::make_unique<LandmarkXnnpack>(net_, models.landmarks.string());
    net_ = cv::dnn::Net();
  }
}

LandmarkDetector::~LandmarkDetector() = default;

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

Landmarks68 LandmarkDetector::detect(const cv::Mat& bgr, const cv::Rect2f& box) { return run(bgr, box, false); }

Landmarks68 LandmarkDetector::detect_mirrored(const cv::Mat& bgr, const cv::Rect2f& box) { return run(bgr, box, true); }

Landmarks68 LandmarkDetector::run(const cv::Mat& bgr, const cv::Rect2f& box, bool mirrored) {
  PassTimer timer(mirrored ? PassKind::kLandmarksMirrored : PassKind::kLandmarks);
  const double side = std::max(box.width, box.height);
  const double sx = box.x - (side - box.width) / 2, sy = box.y - (side - box.height) / 2;
  const double k = kInputSide / side;
  // Mirrored: crop column c shows what column (kInputSide - 1 - c) of the plain crop shows (pixel-exact).
  cv::Matx23d crop_transform = mirrored ? cv::Matx23d(-k, 0, kInputSide - 1 + sx * k, 0, k, -sy * k)
                                        : cv::Matx23d(k, 0, -sx * k, 0, k, -sy * k);
  cv::Mat crop;
  cv::warpAffine(bgr, crop, crop_transform, cv::Size(kInputSide, kInputSide), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(0));
  // RGB, minus face-api's mean, / 255 (what blobFromImage makes; NHWC for XNNPACK, NCHW for OpenCV).
  const cv::Scalar kMeanRgb(122.782, 117.001, 104.298);
  cv::Mat out;
  std::array<float, LandmarkXnnpack::kOutputs> points_xnnpack;
  const float* p = nullptr;
  if (xnnpack_) {
    cv::Mat rgb, input;
    cv::cvtColor(crop, rgb, cv::COLOR_BGR2RGB);
    rgb.convertTo(input, CV_32FC3);
    input = (input - kMeanRgb) * (1 / 255.0);
    xnnpack_->forward(input.ptr<float>(), points_xnnpack);
    p = points_xnnpack.data();
  } else {
    cv::Mat blob = cv::dnn::blobFromImage(crop, 1 / 255.0, cv::Size(kInputSide, kInputSide), kMeanRgb,
                                          /*swapRB=*/true, /*crop=*/false);
    net_.setInput(blob);
    out = net_.forward("landmarks");
    p = out.ptr<float>();
  }
  Landmarks68 points;
  for (int i = 0; i < 68; ++i) {
    double x = p[2 * i] * side, y = sy + p[2 * i + 1] * side;
    if (mirrored) {
      // Back to the image (x_crop = p * kInputSide was column kInputSide - 1 - x_crop of the plain crop),
      // and to the point's own index: the mirrored image's left eye is the face's right eye.
      points[size_t(mirrored_landmark(i))] = cv::Point2f(float(sx + (kInputSide - 1) / k - x), float(y));
    } else {
      points[size_t(i)] = cv::Point2f(float(sx + x), float(y));
    }
  }
  return points;
}

int mirrored_landmark(int i) {
  // iBUG 68: jaw 0-16, brows 17-21 | 22-26, nose bridge 27-30 (on the axis), nostrils 31-35, eyes 36-41 |
  // 42-47, outer lips 48-59, inner lips 60-67.
  if (i <= 16) return 16 - i;
  if (i <= 26) return 43 - i;
  if (i <= 30) return i;
  if (i <= 35) return 66 - i;
  if (i <= 47) {
    static constexpr int eyes[12] = {45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40};
    return eyes[i - 36];
  }
  if (i <= 54) return 102 - i;
  if (i <= 59) return 114 - i;
  if (i <= 64) return 124 - i;
  return 132 - i;
}

double landmark_flip_error(const Landmarks68& points, const Landmarks68& from_mirror) {
  double squares = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    cv::Point2f d = points[i] - from_mirror[i];
    squares += double(d.dot(d));
  }
  cv::Point2f left(0, 0), right(0, 0);
  for (int i = 36; i < 42; ++i) left += points[size_t(i)], right += points[size_t(i + 6)];
  double interocular = cv::norm((right - left) * (1.0f / 6.0f));
  return std::sqrt(squares / double(points.size())) / std::max(1.0, interocular);
}

}  // namespace facecrowd::vision
