#include "vision/face_aligner.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <fstream>

#include "core/error.h"

namespace facecrowd::vision {

cv::Matx23d similarity_transform(const std::vector<cv::Point2d>& src, const std::vector<cv::Point2d>& dst) {
  const size_t n = src.size();
  cv::Point2d ms(0, 0), md(0, 0);
  for (size_t i = 0; i < n; ++i) ms += src[i], md += dst[i];
  ms *= 1.0 / double(n);
  md *= 1.0 / double(n);
  cv::Matx22d cov = cv::Matx22d::zeros();
  double src_var = 0;
  for (size_t i = 0; i < n; ++i) {
    cv::Point2d s = src[i] - ms, d = dst[i] - md;
    cov += cv::Matx22d(d.x * s.x, d.x * s.y, d.y * s.x, d.y * s.y);
    src_var += s.dot(s);
  }
  cov *= 1.0 / double(n);
  src_var /= double(n);
  cv::Mat w, u, vt;
  cv::SVD::compute(cv::Mat(cov), w, u, vt);
  cv::Matx22d U(u), Vt(vt);
  cv::Matx22d E = cv::Matx22d::eye();
  if (cv::determinant(U) * cv::determinant(Vt) < 0) E(1, 1) = -1;  // a reflection is not a similarity
  cv::Matx22d R = U * E * Vt;
  double scale = (w.at<double>(0) * E(0, 0) + w.at<double>(1) * E(1, 1)) / src_var;
  cv::Matx22d A = scale * R;
  cv::Vec2d t = cv::Vec2d(md.x, md.y) - A * cv::Vec2d(ms.x, ms.y);
  return cv::Matx23d(A(0, 0), A(0, 1), t[0], A(1, 0), A(1, 1), t[1]);
}

AlignmentSpec read_alignment(const std::filesystem::path& models_json, const std::string& name) {
  AlignmentSpec spec;
  std::ifstream in(models_json);
  try {
    nlohmann::json j;
    in >> j;
    for (const auto& m : j) {
      if (m.at("name") != name) continue;
      const auto& a = m.at("input").at("alignment");
      spec.size = a.at("size");
      if (a.contains("landmark_indices")) spec.landmark_indices = a.at("landmark_indices").get<std::vector<int>>();
      for (const auto& p : a.at("template")) spec.template_points.emplace_back(p.at(0).get<double>(), p.at(1).get<double>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, "'" + models_json.string() + "': " + e.what());
  }
  return spec;
}

FaceAligner::FaceAligner(const ModelFiles& models) {
  AlignmentSpec spec = read_alignment(models.models_json, "face_recognition");
  size_ = spec.size;
  indices_ = std::move(spec.landmark_indices);
  template_ = std::move(spec.template_points);
  if (indices_.empty() || indices_.size() != template_.size()) {
    throw Error(ExitCode::kBadInput, "'" + models.models_json.string() + "' has no usable face_recognition "
                                         "alignment template; rebuild with `tools/prepare_models.sh --force`");
  }
}

AlignedFace FaceAligner::align(const cv::Mat& bgr, const Landmarks68& landmarks) const {
  std::vector<cv::Point2d> src;
  for (int i : indices_) src.emplace_back(landmarks[size_t(i)].x, landmarks[size_t(i)].y);
  AlignedFace out;
  out.image_to_chip = similarity_transform(src, template_);
  cv::warpAffine(bgr, out.chip, out.image_to_chip, cv::Size(size_, size_), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar::all(0));
  double sum = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    cv::Vec3d p(src[i].x, src[i].y, 1.0);
    cv::Vec2d q = out.image_to_chip * p;
    sum += std::pow(q[0] - template_[i].x, 2) + std::pow(q[1] - template_[i].y, 2);
  }
  out.residual_rms = std::sqrt(sum / double(src.size()));
  return out;
}

std::vector<cv::Point2d> five_points(const Landmarks68& landmarks) {
  auto mean_of = [&](size_t from, size_t to) {
    cv::Point2d sum(0, 0);
    for (size_t i = from; i < to; ++i) sum += cv::Point2d(landmarks[i].x, landmarks[i].y);
    return sum * (1.0 / double(to - from));
  };
  auto at = [&](size_t i) { return cv::Point2d(landmarks[i].x, landmarks[i].y); };
  return {mean_of(36, 42), mean_of(42, 48), at(30), at(48), at(54)};
}

cv::Mat five_point_crop(const cv::Mat& bgr, const Landmarks68& landmarks, const std::vector<cv::Point2d>& template5,
                        int size) {
  cv::Mat crop;
  cv::warpAffine(bgr, crop, similarity_transform(five_points(landmarks), template5), cv::Size(size, size),
                 cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return crop;
}

}  // namespace facecrowd::vision
