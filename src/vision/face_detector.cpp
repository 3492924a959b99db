#include "vision/face_detector.h"

#include <algorithm>

#include "core/error.h"
#include "vision/blazeface_net.h"
#include "vision/pass_costs.h"
#include "vision/ssd_face_net.h"

namespace facecrowd::vision {
namespace {

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

std::vector<TileLevel> plan_tiles(cv::Size image, const DetectorOptions& o, double smallest_face_fraction) {
  std::vector<TileLevel> levels;
  if (o.min_face_px <= 0) return levels;
  int shorter = std::min(image.width, image.height);
  int side = std::max(image.width, image.height);
  double smallest_found = smallest_face_fraction * side;  // by the previous level
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
    smallest_found = smallest_face_fraction * side;
  }
  return levels;
}

PassOptions pass_options(const DetectorOptions& o) { return {o.min_score, o.nms_iou, o.max_results}; }

}  // namespace

std::string to_string(DetectorModel model) { return model == DetectorModel::kSsd ? "ssd" : "blazeface"; }

DetectorModel parse_detector_model(const std::string& name) {
  if (name == "blazeface") return DetectorModel::kBlazeFace;
  if (name == "ssd") return DetectorModel::kSsd;
  throw Error(ExitCode::kUsage, "detector '" + name + "' is not known: use blazeface (default) or ssd");
}

FaceDetector::FaceDetector(const ModelFiles& models) : models_(models) {}
FaceDetector::~FaceDetector() = default;

FaceDetectorNet& FaceDetector::net(DetectorModel model) {
  std::unique_ptr<FaceDetectorNet>& slot = model == DetectorModel::kSsd ? ssd_ : blazeface_;
  if (!slot) {
    if (model == DetectorModel::kSsd) {
      slot = std::make_unique<SsdFaceNet>(models_);
    } else {
      slot = std::make_unique<BlazeFaceNet>(models_);
    }
  }
  return *slot;
}

std::vector<FaceDetection> FaceDetector::detect_single_pass(const cv::Mat& bgr, const DetectorOptions& o) {
  FaceDetectorNet& detector = net(o.model);
  PassTimer timer(PassKind::kDetectWhole);
  return detector.pass(bgr, pass_options(o));
}

int FaceDetector::planned_passes(cv::Size image, const DetectorOptions& options) {
  int n = 1;
  for (const auto& level : plan_tiles(image, options, net(options.model).smallest_face_fraction())) {
    n += int(level.origins.size());
  }
  return n;
}

std::vector<FaceDetection> FaceDetector::detect(const cv::Mat& bgr, const DetectorOptions& o) {
  FaceDetectorNet& detector = net(o.model);
  std::vector<FaceDetection> all;
  {
    PassTimer timer(PassKind::kDetectWhole);
    all = detector.pass(bgr, pass_options(o));
  }
  auto levels = plan_tiles(bgr.size(), o, detector.smallest_face_fraction());
  if (levels.empty()) return all;
  const int W = bgr.cols, H = bgr.rows;
  for (const auto& level : levels) {
    for (const cv::Point& origin : level.origins) {
      cv::Rect tile(origin.x, origin.y, std::min(level.side, W - origin.x), std::min(level.side, H - origin.y));
      std::vector<FaceDetection> found;
      {
        PassTimer timer(PassKind::kDetectTile);
        found = detector.pass(bgr(tile), pass_options(o));
      }
      for (FaceDetection d : found) {
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
