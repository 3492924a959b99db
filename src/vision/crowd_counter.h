// Head counts and density maps for crowd images (the model: tools/crowd/, trained on ShanghaiTech A/B and
// street_india; see tools/crowd/TRAINING.md).
// Contract:
//  - CrowdCounter::open() locates and verifies crowd_density.onnx (model_files.h: Error(kNotFound) when
//    missing, kBadInput on a checksum mismatch; both say how to prepare it) and loads it.
//  - count(bgr) takes any 8-bit BGR image and returns a density map with one cell per 8x8 pixels
//    (ceil(h/8) x ceil(w/8), CV_32F, values 0 or >= cell_floor) whose sum is the estimated head count.
//  - Size policy: the image is never downscaled (small heads are a few pixels wide in dense scenes). An
//    image that fits in one tile (tile_side) runs in one pass; a larger one is split into tile_side x
//    tile_side cores, each run with `context` pixels of its neighbours around it (which the network sees
//    but whose cells are discarded), so memory is bounded by one tile whatever the image size and the
//    seams see the same context as the middle. Sides are padded with mid-grey to multiples of 16 (what
//    training saw). The caller bounds the pixel count (ImageLimits) before decoding.
//  - Not thread-safe (cv::dnn::Net): one counter per thread.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "vision/model_files.h"

namespace facecrowd::vision {

inline constexpr int kDensityCellPx = 8;

// Cells below this density (heads per 8x8 cell) count as empty. The trained model leaves about 4e-4 on
// every cell of a blank frame (per-cell MSE does not notice it), which is 5 "people" on a black 1024x768
// image and 50 on a 4K one. Chosen on the training images only: tools/crowd/calibrate_floor.py.
inline constexpr float kDefaultCellFloor = 0.003f;

struct CrowdOptions {
  int tile_side = 1024;  // pixels, multiple of 16
  int context = 64;      // pixels of neighbouring image seen around each tile, multiple of 16
  float cell_floor = kDefaultCellFloor;
};

struct DensityMap {
  cv::Mat cells;  // CV_32F, ceil(h/8) x ceil(w/8): expected heads per 8x8-pixel cell
  double count = 0;
  int tiles = 1;  // network passes it took
};

class CrowdCounter {
 public:
  // `models_dir` as for find_models_dir(): explicit, else $FACECROWD_MODELS, ./models, beside the binary.
  static std::unique_ptr<CrowdCounter> open(const std::optional<std::filesystem::path>& models_dir = std::nullopt,
                                            CrowdOptions options = {});
  CrowdCounter(const CrowdModelFile& model, CrowdOptions options);

  // `progress(done, total)` is called after each tile (large images take seconds).
  DensityMap count(const cv::Mat& bgr, const std::function<void(int, int)>& progress = {});
  const std::string& model_version() const { return model_.model_version; }
  const CrowdOptions& options() const { return options_; }

 private:
  cv::Mat run_network(const cv::Mat& bgr_tile);  // density cells of one tile (padded to multiples of 16)

  CrowdModelFile model_;
  CrowdOptions options_;
  cv::dnn::Net net_;
};

}  // namespace facecrowd::vision
