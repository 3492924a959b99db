#include "vision/ssd_face_net.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.h"

namespace facecrowd::vision {
namespace {

constexpr int kInputSide = 512;

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

SsdFaceNet::SsdFaceNet(const ModelFiles& models) {
  net_ = cv::dnn::readNetFromONNX(models.detector.string());
  std::ifstream in(models.anchors);
  nlohmann::json j;
  try {
    in >> j;
    for (const auto& a : j.at("anchors")) anchors_.emplace_back(a.at(0), a.at(1), a.at(2), a.at(3));
    const auto& sf = j.at("scale_factors");
    scale_y_ = sf.at("y"), scale_x_ = sf.at("x"), scale_h_ = sf.at("h"), scale_w_ = sf.at("w");
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, "anchors '" + models.anchors.string() + "': " + e.what() +
                                         "; rebuild with `tools/prepare_models.sh --force`");
  }
  if (anchors_.size() != 5118) {
    throw Error(ExitCode::kBadInput, "anchors '" + models.anchors.string() + "': " + std::to_string(anchors_.size()) +
                                         " anchors, the detector has 5118");
  }
}

std::vector<FaceDetection> SsdFaceNet::pass(const cv::Mat& bgr, const PassOptions& o) {
  const int side = std::max(bgr.cols, bgr.rows);
  cv::Mat blob = cv::dnn::blobFromImage(top_left_square(bgr, kInputSide), 1 / 127.5, cv::Size(kInputSide, kInputSide),
                                        cv::Scalar(127.5, 127.5, 127.5), /*swapRB=*/true, /*crop=*/false);
  net_.setInput(blob);
  std::vector<cv::Mat> outs;
  net_.forward(outs, std::vector<cv::String>{"box_encodings", "class_logits"});
  const float* enc = outs[0].ptr<float>();
  const float* logits = outs[1].ptr<float>();

  std::vector<FaceDetection> candidates;
  for (size_t i = 0; i < anchors_.size(); ++i) {
    float score = sigmoid(logits[i * 3 + 1]);
    if (score <= o.min_score) continue;
    const cv::Vec4f& a = anchors_[i];
    float ha = a[2] - a[0], wa = a[3] - a[1];
    float yca = a[0] + ha / 2, xca = a[1] + wa / 2;
    const float* t = enc + i * 4;
    float yc = t[0] / scale_y_ * ha + yca, xc = t[1] / scale_x_ * wa + xca;
    float h = std::exp(t[2] / scale_h_) * ha, w = std::exp(t[3] / scale_w_) * wa;
    // Clip to the square (face-api), then to the image, in pixels.
    float y0 = std::max(0.0f, yc - h / 2) * side, x0 = std::max(0.0f, xc - w / 2) * side;
    float y1 = std::min(1.0f, yc + h / 2) * side, x1 = std::min(1.0f, xc + w / 2) * side;
    x1 = std::min(x1, float(bgr.cols));
    y1 = std::min(y1, float(bgr.rows));
    if (x1 <= x0 || y1 <= y0) continue;
    candidates.push_back({cv::Rect2f(x0, y0, x1 - x0, y1 - y0), score});
  }
  return non_max_suppression(std::move(candidates), o.nms_iou, size_t(o.max_results));
}

}  // namespace facecrowd::vision
