#include "vision/face_quality.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace facecrowd::vision {
namespace {

cv::Point2f mean_of(const Landmarks68& p, int from, int to) {  // [from, to)
  cv::Point2f s(0, 0);
  for (int i = from; i < to; ++i) s += p[size_t(i)];
  return s * (1.0f / float(to - from));
}

float ramp(double v, double zero_at, double one_at) {
  return float(std::clamp((v - zero_at) / (one_at - zero_at), 0.0, 1.0));
}

}  // namespace

double eye_line_degrees(const Landmarks68& p) {
  cv::Point2f le = mean_of(p, 36, 42), re = mean_of(p, 42, 48);
  return std::atan2(re.y - le.y, re.x - le.x) * 180.0 / CV_PI;
}

bool landmarks_plausible(const Landmarks68& p) {
  cv::Point2f le = mean_of(p, 36, 42), re = mean_of(p, 42, 48), nose = p[30], mouth = mean_of(p, 48, 68);
  double angle = std::abs(eye_line_degrees(p));
  return le.x < nose.x && nose.x < re.x && angle < 30 && std::max(le.y, re.y) < nose.y && nose.y < mouth.y;
}

FaceQuality assess_face_quality(const Landmarks68& landmarks, const AlignedFace& aligned) {
  FaceQuality q;
  cv::Point2f le = mean_of(landmarks, 36, 42), re = mean_of(landmarks, 42, 48);
  q.interocular_px = float(cv::norm(re - le));
  q.size_score = ramp(q.interocular_px, 8, 30);

  cv::Mat grey, lap;
  cv::cvtColor(aligned.chip, grey, cv::COLOR_BGR2GRAY);
  cv::Laplacian(grey, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  q.blur_variance = float(stddev[0] * stddev[0]);
  q.sharpness_score = ramp(q.blur_variance, 10, 100);

  q.landmark_residual = float(aligned.residual_rms);
  q.landmarks_plausible = landmarks_plausible(landmarks);
  q.landmark_confidence = q.landmarks_plausible ? 1.0f - ramp(q.landmark_residual, 2, 8) : 0.0f;
  q.score = q.size_score * q.sharpness_score * q.landmark_confidence;
  return q;
}

}  // namespace facecrowd::vision
