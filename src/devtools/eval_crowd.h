// `facecrowd eval crowd DIR`: counting error on annotated crowd images, measured with the real counter
// (vision/crowd_counter.h). Nothing is written to the store.
//
// DIR is in the layout of ../shared/data/crowd's sets: DIR/images/NAME.jpg with DIR/points/NAME.json
// = {"image": "NAME.jpg", "count": N, "points": [[x, y], ...]} (the truth is `count`, else the number of
// points). An image without its points file is an error, not a skip: an evaluation that silently drops
// images reports the wrong figure.
//   MAE = mean |predicted - true|,  RMSE = sqrt(mean (predicted - true)^2),  bias = mean (predicted - true)
// and the same per density bucket of the true count: [0, 50), [50, 200), [200, 1000), [1000, inf), so an
// undercount of dense scenes is not averaged away by the sparse ones (summarise_crowd_rows()).
//
// read_validation_names(): the held-out images of one training set from the split file the training
// writes (tools/crowd/crowd_head.split.json: {"validation": ["B/IMG_12.jpg", ...]}), so the reported
// figures are on images the model never saw.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vision/crowd_counter.h"
#include "vision/image_loader.h"

namespace facecrowd {

struct CrowdTruth {
  std::filesystem::path image;
  double count = 0;
};

// Error(kNotFound) when DIR/images is missing, kBadInput naming the file for a missing or malformed points
// file or a folder without images. `only`: keep just these file names.
std::vector<CrowdTruth> list_crowd_truth(const std::filesystem::path& dir,
                                         const std::optional<std::set<std::string>>& only = std::nullopt);

// Error(kNotFound)/kBadInput naming the file; Error(kBadInput) when the set has no validation images.
std::set<std::string> read_validation_names(const std::filesystem::path& split_json, const std::string& set);

struct CrowdEvalRow {
  std::string image;
  double truth = 0, predicted = 0;
  int width = 0, height = 0;
  double seconds = 0;
};

// Images whose true count is in [min_count, max_count) (max_count < 0: no upper bound).
struct CrowdEvalBucket {
  std::string label;  // "0-50", "50-200", "200-1000", "over 1000"
  double min_count = 0, max_count = -1;
  size_t images = 0;
  double mae = 0, bias = 0;  // 0 when the bucket is empty
};

struct CrowdEvalReport {
  std::vector<CrowdEvalRow> rows;
  double mae = 0, rmse = 0, bias = 0, mean_truth = 0, mean_predicted = 0, seconds = 0;
  std::vector<CrowdEvalBucket> buckets;  // always the four buckets, in order, empty ones included
  nlohmann::json to_json() const;
  std::string text() const;
  std::string csv() const;  // image,true,predicted,error
};

// Fills mae, rmse, bias, mean_truth, mean_predicted, seconds and buckets from `report.rows`.
void summarise_crowd_rows(CrowdEvalReport& report);

CrowdEvalReport evaluate_crowd(vision::CrowdCounter& counter, const std::vector<CrowdTruth>& images,
                               const vision::ImageLimits& limits = {},
                               const std::function<void(size_t, size_t)>& progress = {});

}  // namespace facecrowd
