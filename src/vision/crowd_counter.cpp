#include "vision/crowd_counter.h"

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace facecrowd::vision {
namespace {

constexpr int kInputMultiple = 16;

int round_up(int v, int multiple) { return (v + multiple - 1) / multiple * multiple; }

void check_options(const CrowdOptions& o) {
  if (o.tile_side < 64 || o.tile_side % kInputMultiple || o.context < 0 || o.context % kInputMultiple ||
      o.cell_floor < 0) {
    throw Error(ExitCode::kUsage, "crowd: tile side must be >= 64 and the context >= 0, both multiples of 16, and the "
                                      "cell floor >= 0 (got " + std::to_string(o.tile_side) + ", " +
                                      std::to_string(o.context) + ", " + std::to_string(o.cell_floor) + ")");
  }
}

}  // namespace

std::unique_ptr<CrowdCounter> CrowdCounter::open(const std::optional<std::filesystem::path>& models_dir,
                                                 CrowdOptions options) {
  return std::make_unique<CrowdCounter>(open_crowd_model_file(find_models_dir(models_dir)), options);
}

CrowdCounter::CrowdCounter(const CrowdModelFile& model, CrowdOptions options) : model_(model), options_(options) {
  check_options(options_);
  try {
    net_ = cv::dnn::readNetFromONNX(model_.model.string());
  } catch (const cv::Exception& e) {
    throw Error(ExitCode::kBadInput, "crowd model '" + model_.model.string() + "' cannot be loaded by OpenCV DNN (" +
                                         e.msg + "); rebuild it with `tools/prepare_models.sh --force`");
  }
}

cv::Mat CrowdCounter::run_network(const cv::Mat& bgr_tile) {
  // The same input as training (tools/crowd/crowd_net.py preprocess): RGB in [-1, 1], zero (mid-grey)
  // padding on the bottom and right up to multiples of 16.
  cv::Mat padded;
  cv::copyMakeBorder(bgr_tile, padded, 0, round_up(bgr_tile.rows, kInputMultiple) - bgr_tile.rows, 0,
                     round_up(bgr_tile.cols, kInputMultiple) - bgr_tile.cols, cv::BORDER_CONSTANT,
                     cv::Scalar::all(127.5));
  net_.setInput(cv::dnn::blobFromImage(padded, 1 / 127.5, padded.size(), cv::Scalar::all(127.5), /*swapRB=*/true,
                                       /*crop=*/false));
  cv::Mat out = net_.forward();  // 1x1x(H/8)x(W/8)
  return cv::Mat(out.size[2], out.size[3], CV_32F, out.ptr<float>()).clone();
}

DensityMap CrowdCounter::count(const cv::Mat& bgr, const std::function<void(int, int)>& progress) {
  if (bgr.empty() || bgr.type() != CV_8UC3) throw Error(ExitCode::kInternal, "crowd: expects a non-empty 8-bit BGR image");
  const int cell = kDensityCellPx;
  DensityMap map;
  map.cells = cv::Mat::zeros((bgr.rows + cell - 1) / cell, (bgr.cols + cell - 1) / cell, CV_32F);
  map.tiles = 0;
  const int side = options_.tile_side, context = options_.context;
  const int total = ((bgr.rows + side - 1) / side) * ((bgr.cols + side - 1) / side);
  for (int y0 = 0; y0 < bgr.rows; y0 += side) {
    for (int x0 = 0; x0 < bgr.cols; x0 += side) {
      const bool whole = bgr.rows <= side && bgr.cols <= side;
      // The tile with its context, clipped to the image; tile origins stay multiples of 16 so the cells
      // of every tile line up with the image's cell grid.
      cv::Rect core(x0, y0, std::min(side, bgr.cols - x0), std::min(side, bgr.rows - y0));
      cv::Rect seen = whole ? core
                            : cv::Rect(cv::Point(std::max(0, x0 - context), std::max(0, y0 - context)),
                                       cv::Point(std::min(bgr.cols, x0 + core.width + context),
                                                 std::min(bgr.rows, y0 + core.height + context)));
      cv::Mat cells = run_network(bgr(seen));
      ++map.tiles;
      if (progress) progress(map.tiles, total);
      cv::Rect core_cells((core.x - seen.x) / cell, (core.y - seen.y) / cell, (core.width + cell - 1) / cell,
                          (core.height + cell - 1) / cell);
      cells(core_cells).copyTo(map.cells(cv::Rect(core.x / cell, core.y / cell, core_cells.width, core_cells.height)));
    }
  }
  if (options_.cell_floor > 0) map.cells.setTo(0.0f, map.cells < options_.cell_floor);
  map.count = cv::sum(map.cells)[0];
  return map;
}

}  // namespace facecrowd::vision
