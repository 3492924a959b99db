// Crowd counts: analyse a crowd image and keep the history per location.
//
//   crowdcounts {_id, location, timestamp: date, count: double (0.1 heads), modelVersion,
//                imageFileId, densityMapFileId (raw map, float TIFF, one pixel per 8x8 cell),
//                heatmapFileId (PNG overlay), width, height, cellSize: 8, archived: bool}
//
// Contract of analyse_crowd() (`facecrowd crowd IMAGE --location L`):
//  - The image is read and counted (vision/crowd_counter.h) before anything is written; with
//    `heatmap_out` the heat-map PNG is written there first too, so a bad image or output path changes
//    nothing in the store.
//  - One write transaction: the image (fs.files kind crowd_image), the raw map and the heat map (kind
//    density_map), the record, and one "crowd.analyze" audit entry (target: the location).
//  - Error(kUsage) for an empty location; the image's errors are read_photo()'s (app/photo_input.h).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/utc_time.h"
#include "store/database.h"
#include "vision/crowd_counter.h"
#include "vision/image_loader.h"

namespace facecrowd {

struct CrowdRequest {
  std::filesystem::path image;
  std::string location;
  std::optional<UnixMillis> taken_at;               // the record's timestamp; default now
  std::optional<std::filesystem::path> heatmap_out;  // also write the heat-map PNG here
  vision::ImageLimits limits;
  std::optional<std::string> upload;   // the image's bytes (a server upload); `image` is then only its name
  std::optional<std::string> actor;    // audit actor; default: default_audit_actor()
  std::string client_address = "local";
};

struct CrowdResult {
  std::string id, location, model_version, image_file_id, density_map_file_id, heatmap_file_id, audit_id;
  UnixMillis timestamp = 0;
  double count = 0;  // as stored: rounded to 0.1
  int width = 0, height = 0, grid_width = 0, grid_height = 0, tiles = 0;
  double seconds = 0;  // counting time
  nlohmann::json to_json() const;
};

// `progress(done, total)` after each tile of a large image.
CrowdResult analyse_crowd(Database& db, vision::CrowdCounter& counter, const CrowdRequest& request,
                          const std::function<void(int, int)>& progress = {});

struct CrowdQuery {
  std::optional<std::string> location;
  std::optional<UnixMillis> from, to;  // timestamp >= from, <= to
  int64_t limit = -1;
};

// Matching records in (location, timestamp) order when a location is given, else timestamp order, as
// relaxed Extended JSON.
std::vector<nlohmann::json> list_crowdcounts(Database::ReadTransaction& tx, const CrowdQuery& query);

enum class SummaryPeriod { kHour, kDay };

struct CrowdSummaryRow {
  std::string location;
  UnixMillis period_start = 0;  // UTC hour or day
  int64_t images = 0;
  double min = 0, mean = 0, max = 0;
};

// One row per (location, UTC hour or day) that has records, in location then time order.
std::vector<CrowdSummaryRow> summarise_crowdcounts(Database::ReadTransaction& tx, const CrowdQuery& query,
                                                   SummaryPeriod period);
nlohmann::json to_json(const CrowdSummaryRow& row);

}  // namespace facecrowd
