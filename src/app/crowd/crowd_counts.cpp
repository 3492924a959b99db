#include "app/crowd/crowd_counts.h"

#include <chrono>
#include <cmath>
#include <map>

#include "app/records/audit.h"
#include "app/photo_input.h"
#include "core/error.h"
#include "core/request_deadline.h"
#include "core/files.h"
#include "core/output_target.h"
#include "core/object_id.h"
#include "store/file_store.h"
#include "vision/density_rendering.h"

namespace facecrowd {
namespace {

double round1(double v) { return std::round(v * 10) / 10; }

std::string stem_of(const std::filesystem::path& p) { return p.stem().string(); }

}  // namespace

nlohmann::json CrowdResult::to_json() const {
  return {{"id", id},
          {"location", location},
          {"timestamp", format_iso8601(timestamp)},
          {"count", count},
          {"width", width},
          {"height", height},
          {"densityMap", {{"cellSize", vision::kDensityCellPx}, {"width", grid_width}, {"height", grid_height}}},
          {"tiles", tiles},
          {"seconds", std::round(seconds * 1000) / 1000},
          {"modelVersion", model_version},
          {"imageFileId", image_file_id},
          {"densityMapFileId", density_map_file_id},
          {"heatmapFileId", heatmap_file_id},
          {"auditId", audit_id}};
}

CrowdResult analyse_crowd(Database& db, vision::CrowdCounter& counter, const CrowdRequest& request,
                          const std::function<void(int, int)>& progress) {
  if (request.location.empty()) throw Error(ExitCode::kUsage, "crowd: --location must not be empty");
  if (request.heatmap_out) {
    require_output_extension(*request.heatmap_out, "--density-map", {".png"}, "PNG");
    require_output_target(*request.heatmap_out, "--density-map", {request.image}, true);
  }

  // 1. Everything is computed (and the operator's PNG written) before the write transaction.
  Photo photo = request.upload ? decode_photo(*request.upload, request.image, request.limits)
                               : read_photo(request.image, request.limits);
  auto started = std::chrono::steady_clock::now();
  vision::DensityMap map = counter.count(photo.bgr, progress);
  CrowdResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.location = request.location;
  r.timestamp = request.taken_at.value_or(now_millis());
  r.count = round1(map.count);
  r.width = photo.bgr.cols;
  r.height = photo.bgr.rows;
  r.grid_width = map.cells.cols;
  r.grid_height = map.cells.rows;
  r.tiles = map.tiles;
  r.model_version = counter.model_version();
  std::string heatmap_png = vision::encode_png(vision::render_heatmap(photo.bgr, map.cells));
  std::string raw_tiff = vision::encode_density_tiff(map.cells);
  if (request.heatmap_out) write_file_durably(*request.heatmap_out, heatmap_png);

  // 2. One write transaction.
  auto tx = db.write();
  const std::string stem = stem_of(request.image);
  r.image_file_id = put_file(tx, photo.bytes, request.image.filename().string(), photo.content_type,
                             FileKind::kCrowdImage);
  r.density_map_file_id = put_file(tx, raw_tiff, stem + ".density.tiff", "image/tiff", FileKind::kDensityMap);
  r.heatmap_file_id = put_file(tx, heatmap_png, stem + ".heatmap.png", "image/png", FileKind::kDensityMap);
  r.id = new_object_id();
  nlohmann::json doc = {{"_id", {{"$oid", r.id}}},
                        {"location", r.location},
                        {"timestamp", {{"$date", r.timestamp}}},
                        {"count", r.count},
                        {"modelVersion", r.model_version},
                        {"imageFileId", {{"$oid", r.image_file_id}}},
                        {"densityMapFileId", {{"$oid", r.density_map_file_id}}},
                        {"heatmapFileId", {{"$oid", r.heatmap_file_id}}},
                        {"width", r.width},
                        {"height", r.height},
                        {"cellSize", vision::kDensityCellPx},
                        {"archived", false}};
  tx.insert("crowdcounts", Document::from_json(doc, "crowd count"));
  r.audit_id = append_audit(tx, AuditEntry{.action = "crowd.analyze",
                                           .target = r.location,
                                           .actor = request.actor,
                                           .client_address = request.client_address,
                                           .details = {{"crowdCountId", r.id},
                                                       {"image", request.image.string()},
                                                       {"imageFileId", r.image_file_id},
                                                       {"count", r.count},
                                                       {"modelVersion", r.model_version}}});
  check_request_deadline("the commit");  // core/request_deadline.h: past it, nothing is stored
  tx.commit();
  return r;
}

namespace {

Query crowd_query(const CrowdQuery& query) {
  Query q;
  if (query.location) q.where.push_back({"location", "=", *query.location});
  if (query.from) q.where.push_back({"timestamp", ">=", int64_t(*query.from)});
  if (query.to) q.where.push_back({"timestamp", "<=", int64_t(*query.to)});
  q.order_by = "timestamp";
  q.limit = query.limit;
  return q;
}

}  // namespace

std::vector<nlohmann::json> list_crowdcounts(Database::ReadTransaction& tx, const CrowdQuery& query) {
  std::vector<nlohmann::json> out;
  tx.find("crowdcounts", crowd_query(query), [&](const Document& d) {
    out.push_back(d.to_json());
    return true;
  });
  return out;
}

std::vector<CrowdSummaryRow> summarise_crowdcounts(Database::ReadTransaction& tx, const CrowdQuery& query,
                                                   SummaryPeriod period) {
  const int64_t span = period == SummaryPeriod::kHour ? 3'600'000 : 86'400'000;
  struct Acc {
    int64_t n = 0;
    double sum = 0, min = 0, max = 0;
  };
  std::map<std::pair<std::string, UnixMillis>, Acc> buckets;
  CrowdQuery all = query;
  all.limit = -1;
  tx.find("crowdcounts", crowd_query(all), [&](const Document& d) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, d.get(), "count") || !BSON_ITER_HOLDS_NUMBER(&it)) return true;
    double count = bson_iter_as_double(&it);
    if (!bson_iter_init_find(&it, d.get(), "location") || !BSON_ITER_HOLDS_UTF8(&it)) return true;
    std::string location = bson_iter_utf8(&it, nullptr);
    if (!bson_iter_init_find(&it, d.get(), "timestamp") || !BSON_ITER_HOLDS_DATE_TIME(&it)) return true;
    UnixMillis t = bson_iter_date_time(&it);
    UnixMillis start = t - ((t % span) + span) % span;
    Acc& a = buckets[{location, start}];
    if (a.n == 0) a.min = a.max = count;
    a.min = std::min(a.min, count);
    a.max = std::max(a.max, count);
    a.sum += count;
    ++a.n;
    return true;
  });
  std::vector<CrowdSummaryRow> rows;
  for (const auto& [key, a] : buckets)
    rows.push_back({key.first, key.second, a.n, a.min, std::round(a.sum / double(a.n) * 10) / 10, a.max});
  if (query.limit >= 0 && int64_t(rows.size()) > query.limit) rows.resize(size_t(query.limit));
  return rows;
}

nlohmann::json to_json(const CrowdSummaryRow& row) {
  return {{"location", row.location}, {"periodStart", format_iso8601(row.period_start)}, {"images", row.images},
          {"min", row.min}, {"mean", row.mean}, {"max", row.max}};
}

}  // namespace facecrowd
