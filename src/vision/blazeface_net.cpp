#include "vision/blazeface_net.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace facecrowd::vision {
namespace {

constexpr int kInputSide = 256;
constexpr int kValuesPerAnchor = 16;  // dx, dy, w, h, then 6 keypoints (x, y)

struct AnchorLayer {
  int cells;
  int anchors_per_cell;
};
constexpr AnchorLayer kLayers[] = {{16, 2}, {8, 6}};

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-std::clamp(x, -100.0f, 100.0f))); }

}  // namespace

BlazeFaceNet::BlazeFaceNet(const ModelFiles& models) : BlazeFaceNet(models, net_engine_from_env()) {}

BlazeFaceNet::~BlazeFaceNet() = default;

BlazeFaceNet::BlazeFaceNet(const ModelFiles& models, NetEngine engine) {
  net_ = cv::dnn::readNetFromONNX(models.blazeface.string());
  if (engine == NetEngine::kXnnpack) {
    xnnpack_ = std::make_unique<BlazeFaceXnnpack>(net_, models.blazeface.string());
    net_ = cv::dnn::Net();
  }
  for (const AnchorLayer& layer : kLayers) {
    for (int y = 0; y < layer.cells; ++y) {
      for (int x = 0; x < layer.cells; ++x) {
        for (int a = 0; a < layer.anchors_per_cell; ++a) {
          anchors_.emplace_back((x + 0.5f) / layer.cells, (y + 0.5f) / layer.cells);
        }
      }
    }
  }
}

std::vector<FaceDetection> BlazeFaceNet::pass(const cv::Mat& bgr, const PassOptions& o) {
  const float side = float(std::max(bgr.cols, bgr.rows));
  cv::Mat rgb, input;
  cv::cvtColor(top_left_square(bgr, kInputSide), rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(input, CV_32FC3, 1 / 127.5, -1.0);
  // Scores and boxes of the stride-16 layer (512 anchors), then of the stride-32 layer (384).
  const float* logits_of[2];
  const float* values_of[2];
  if (xnnpack_) {
    xnnpack_->forward(input.ptr<float>(), outputs_);
    logits_of[0] = outputs_.logits16.data(), logits_of[1] = outputs_.logits8.data();
    values_of[0] = outputs_.boxes16.data(), values_of[1] = outputs_.boxes8.data();
  } else {
    const int nhwc[] = {1, kInputSide, kInputSide, 3};
    net_.setInput(cv::Mat(4, nhwc, CV_32F, input.data));
    net_.forward(opencv_outs_, std::vector<cv::String>{"Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"});
    for (int layer = 0; layer < 2; ++layer) {
      logits_of[layer] = opencv_outs_[size_t(layer)].ptr<float>();
      values_of[layer] = opencv_outs_[size_t(layer) + 2].ptr<float>();
    }
  }
  std::vector<FaceDetection> candidates;
  size_t anchor = 0;
  for (int layer = 0; layer < 2; ++layer) {
    const float* logits = logits_of[layer];
    const float* values = values_of[layer];
    const size_t n = layer == 0 ? 512 : 384;
    for (size_t i = 0; i < n; ++i, ++anchor) {
      float score = sigmoid(logits[i]);
      if (score <= o.min_score) continue;
      const float* v = values + i * kValuesPerAnchor;
      float w = v[2] / kInputSide * kBoxToSsd.width_scale, h = v[3] / kInputSide * kBoxToSsd.height_scale;
      float cx = anchors_[anchor].x + v[0] / kInputSide + kBoxToSsd.centre_dx * v[2] / kInputSide;
      float cy = anchors_[anchor].y + v[1] / kInputSide + kBoxToSsd.centre_dy * v[3] / kInputSide;
      float x0 = std::max(0.0f, (cx - w / 2) * side), y0 = std::max(0.0f, (cy - h / 2) * side);
      float x1 = std::min(float(bgr.cols), (cx + w / 2) * side), y1 = std::min(float(bgr.rows), (cy + h / 2) * side);
      if (x1 <= x0 || y1 <= y0) continue;
      candidates.push_back({cv::Rect2f(x0, y0, x1 - x0, y1 - y0), score});
    }
  }
  return non_max_suppression(std::move(candidates), o.nms_iou, size_t(o.max_results));
}

}  // namespace facecrowd::vision
