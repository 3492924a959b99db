#include "vision/face_detector.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.h"

namespace facecrowd::vision {
namespace {

constexpr int kInputSide = 512;

struct TileLevel {
  int side = 0;
  std::vector<cv::Point> origins;
};

// Tile origins along one axis: every `step` from 0, plus one flush with the far edge (deduplicated).
std::vector<int> axis_origins(int length, int side, int step) {
  std::vector<int> v;
  for (int p = 0; p < std::max(1, length - side); p += step) v.push_back(p);
  int last = std::max(0, length - side);
  if (v.empty() || v.back() != last) v.push_back(last);
  return v;
}

std::vector<TileLevel> plan_tiles(cv::Size image, const DetectorOptions& o) {
  std::vector<TileLevel> levels;
  if (o.min_face_px <= 0) return levels;
  int shorter = std::min(image.width, image.height);
  int side = std::max(image.width, image.height);
  double smallest_found = kPassSmallestFaceFraction * side;  // by the previous level
  int passes = 0;
  while (smallest_found > o.min_face_px) {
    int next = std::max(kMinTileSide, std::min(side / 2, shorter));
    if (next >= side || next > shorter) break;  // cannot shrink further (or the image is too small to tile)
    side = next;
    TileLevel level{side, {}};
    int step = std::max(1, side * 3 / 4);
    for (int y : axis_origins(image.height, side, step)) {
      for (int x : axis_origins(image.width, side, step)) level.origins.emplace_back(x, y);
    }
    passes += int(level.origins.size());
    if (passes > o.max_tile_passes) break;
    levels.push_back(std::move(level));
    smallest_found = kPassSmallestFaceFraction * side;
  }
  return levels;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

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

FaceDetector::FaceDetector(const ModelFiles& models) {
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

std::vector<FaceDetection> FaceDetector::detect_single_pass(const cv::Mat& bgr, const DetectorOptions& o) {
  // The image at the top-left of a black square of side S, resized to 512x512. Resizing the image first
  // and padding afterwards gives the same pixels without allocating an S x S square.
  const int side = std::max(bgr.cols, bgr.rows);
  const double scale = double(kInputSide) / side;
  cv::Mat canvas(kInputSide, kInputSide, CV_8UC3, cv::Scalar::all(0));
  cv::Size scaled(std::clamp(int(std::lround(bgr.cols * scale)), 1, kInputSide),
                  std::clamp(int(std::lround(bgr.rows * scale)), 1, kInputSide));
  cv::Mat resized;
  cv::resize(bgr, resized, scaled, 0, 0, cv::INTER_LINEAR);
  resized.copyTo(canvas(cv::Rect(0, 0, scaled.width, scaled.height)));
  cv::Mat blob = cv::dnn::blobFromImage(canvas, 1 / 127.5, cv::Size(kInputSide, kInputSide),
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

int FaceDetector::planned_passes(cv::Size image, const DetectorOptions& options) {
  int n = 1;
  for (const auto& level : plan_tiles(image, options)) n += int(level.origins.size());
  return n;
}

std::vector<FaceDetection> FaceDetector::detect(const cv::Mat& bgr, const DetectorOptions& o) {
  std::vector<FaceDetection> all = detect_single_pass(bgr, o);
  auto levels = plan_tiles(bgr.size(), o);
  if (levels.empty()) return all;
  const int W = bgr.cols, H = bgr.rows;
  for (const auto& level : levels) {
    for (const cv::Point& origin : level.origins) {
      cv::Rect tile(origin.x, origin.y, std::min(level.side, W - origin.x), std::min(level.side, H - origin.y));
      for (FaceDetection d : detect_single_pass(bgr(tile), o)) {
        const cv::Rect2f& b = d.box;
        // A face cut by a tile edge that lies inside the image is seen whole by a neighbouring tile.
        bool cut = (b.x < 2 && tile.x > 0) || (b.y < 2 && tile.y > 0) ||
                   (b.x + b.width > tile.width - 2 && tile.x + tile.width < W) ||
                   (b.y + b.height > tile.height - 2 && tile.y + tile.height < H);
        if (cut) continue;
        d.box.x += float(tile.x);
        d.box.y += float(tile.y);
        all.push_back(d);
      }
    }
  }
  return non_max_suppression(std::move(all), o.merge_iou, 1000);
}

}  // namespace facecrowd::vision
