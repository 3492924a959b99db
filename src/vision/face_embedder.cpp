#include "vision/face_embedder.h"

#include <cmath>

#include "core/error.h"

namespace facecrowd::vision {

FaceEmbedder::FaceEmbedder(const ModelFiles& models) {
  net_ = cv::dnn::readNetFromONNX(models.recogniser.string());
}

Embedding FaceEmbedder::embed(const cv::Mat& chip_bgr) {
  if (chip_bgr.cols != 150 || chip_bgr.rows != 150 || chip_bgr.type() != CV_8UC3) {
    throw Error(ExitCode::kInternal, "face embedder: expects a 150x150 BGR chip");
  }
  cv::Mat blob = cv::dnn::blobFromImage(chip_bgr, 1 / 256.0, cv::Size(150, 150),
                                        cv::Scalar(122.782, 117.001, 104.298), /*swapRB=*/true, /*crop=*/false);
  net_.setInput(blob);
  cv::Mat out = net_.forward("descriptor");
  const float* p = out.ptr<float>();
  double sq = 0;
  for (int i = 0; i < kEmbeddingSize; ++i) sq += double(p[i]) * p[i];
  Embedding e;
  e.raw_norm = float(std::sqrt(sq));
  if (e.raw_norm <= 0) throw Error(ExitCode::kInternal, "face embedder: zero descriptor");
  for (int i = 0; i < kEmbeddingSize; ++i) e.unit[size_t(i)] = p[i] / e.raw_norm;
  return e;
}

float embedding_distance(const Embedding& a, const Embedding& b) {
  double s = 0;
  for (int i = 0; i < kEmbeddingSize; ++i) s += std::pow(double(a.unit[size_t(i)]) - b.unit[size_t(i)], 2);
  return float(std::sqrt(s));
}

float raw_distance(const Embedding& a, const Embedding& b) {
  double s = 0;
  for (int i = 0; i < kEmbeddingSize; ++i) {
    s += std::pow(double(a.unit[size_t(i)]) * a.raw_norm - double(b.unit[size_t(i)]) * b.raw_norm, 2);
  }
  return float(std::sqrt(s));
}

}  // namespace facecrowd::vision
