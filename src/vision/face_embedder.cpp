#include "vision/face_embedder.h"

#include <cmath>
#include <stdexcept>

#include "core/error.h"
#include "vision/faceres_embedder.h"

namespace facecrowd::vision {

DlibEmbedder::DlibEmbedder(const ModelFiles& models) : file_(models.recogniser) {
  net_ = cv::dnn::readNetFromONNX(models.recogniser.string());
}

Embedding DlibEmbedder::embed(const cv::Mat&, const Landmarks68&, const cv::Mat& dlib_chip) { return embed_chip(dlib_chip); }

Embedding DlibEmbedder::embed_chip(const cv::Mat& chip_bgr) {
  if (chip_bgr.cols != 150 || chip_bgr.rows != 150 || chip_bgr.type() != CV_8UC3) {
    throw Error(ExitCode::kInternal, "face embedder: expects a 150x150 BGR chip");
  }
  cv::Mat blob = cv::dnn::blobFromImage(chip_bgr, 1 / 256.0, cv::Size(150, 150),
                                        cv::Scalar(122.782, 117.001, 104.298), /*swapRB=*/true, /*crop=*/false);
  net_.setInput(blob);
  return unit_embedding(net_.forward("descriptor"), kDlibEmbeddingSize, file_);
}

std::unique_ptr<FaceEmbedder> make_face_embedder(const ModelFiles& models) {
  if (models.face_model == FaceModel::kFaceres) return std::make_unique<FaceresEmbedder>(models);
  return std::make_unique<DlibEmbedder>(models);
}

Embedding unit_embedding(const cv::Mat& output, int dimension, const std::filesystem::path& file) {
  if (int(output.total()) != dimension) {
    throw Error(ExitCode::kBadInput, "model file '" + file.string() + "' gives a descriptor of " +
                                         std::to_string(output.total()) + " numbers where its model has " +
                                         std::to_string(dimension) + " (not the prepared network); rebuild with "
                                         "`tools/prepare_models.sh --force`");
  }
  const float* p = output.ptr<float>();
  double sq = 0;
  for (int i = 0; i < dimension; ++i) sq += double(p[i]) * p[i];
  Embedding e;
  e.raw_norm = float(std::sqrt(sq));
  if (!(e.raw_norm > 0)) throw Error(ExitCode::kInternal, "face embedder: zero descriptor from '" + file.string() + "'");
  e.unit.resize(size_t(dimension));
  for (int i = 0; i < dimension; ++i) e.unit[size_t(i)] = p[i] / e.raw_norm;
  return e;
}

namespace {
void require_same_size(const Embedding& a, const Embedding& b) {
  if (a.unit.size() != b.unit.size())
    throw std::invalid_argument("embeddings of " + std::to_string(a.unit.size()) + " and " +
                                std::to_string(b.unit.size()) + " numbers come from different models");
}
}  // namespace

float embedding_distance(const Embedding& a, const Embedding& b) {
  require_same_size(a, b);
  double s = 0;
  for (size_t i = 0; i < a.unit.size(); ++i) s += std::pow(double(a.unit[i]) - b.unit[i], 2);
  return float(std::sqrt(s));
}

float raw_distance(const Embedding& a, const Embedding& b) {
  require_same_size(a, b);
  double s = 0;
  for (size_t i = 0; i < a.unit.size(); ++i) {
    s += std::pow(double(a.unit[i]) * a.raw_norm - double(b.unit[i]) * b.raw_norm, 2);
  }
  return float(std::sqrt(s));
}

}  // namespace facecrowd::vision
