#include "devtools/eval_crowd.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "app/photo_input.h"
#include "core/error.h"
#include "core/files.h"
#include "core/number_text.h"

namespace facecrowd {
namespace fs = std::filesystem;
namespace {

nlohmann::json parse_json_file(const fs::path& path, const std::string& what) {
  std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ExitCode::kBadInput, what + " '" + path.string() + "' is not JSON: " + e.what());
  }
}

double truth_of(const fs::path& points_file) {
  nlohmann::json j = parse_json_file(points_file, "points file");
  if (j.is_object() && j.contains("count") && j["count"].is_number() && j["count"].get<double>() >= 0)
    return j["count"].get<double>();
  if (j.is_object() && j.contains("points") && j["points"].is_array()) return double(j["points"].size());
  throw Error(ExitCode::kBadInput, "points file '" + points_file.string() +
                                       "' has neither a non-negative \"count\" nor a \"points\" array");
}

}  // namespace

std::vector<CrowdTruth> list_crowd_truth(const fs::path& dir, const std::optional<std::set<std::string>>& only) {
  std::error_code ec;
  if (!fs::is_directory(dir / "images", ec))
    throw Error(ExitCode::kNotFound, "eval crowd: '" + (dir / "images").string() +
                                         "' does not exist (DIR must hold images/ and points/, as ../shared/data/crowd's sets do)");
  std::vector<CrowdTruth> out;
  for (const auto& entry : fs::directory_iterator(dir / "images")) {
    if (!entry.is_regular_file() || !has_image_extension(entry.path())) continue;
    std::string name = entry.path().filename().string();
    if (only && !only->count(name)) continue;
    fs::path points = dir / "points" / (entry.path().stem().string() + ".json");
    if (!fs::exists(points, ec))
      throw Error(ExitCode::kBadInput, "eval crowd: image '" + entry.path().string() + "' has no points file '" +
                                           points.string() + "'");
    out.push_back({entry.path(), truth_of(points)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.image.filename() < b.image.filename(); });
  if (out.empty())
    throw Error(ExitCode::kBadInput, "eval crowd: no images to evaluate in '" + (dir / "images").string() + "'" +
                                         (only ? " among the " + std::to_string(only->size()) + " names selected" : ""));
  if (only && out.size() != only->size())
    throw Error(ExitCode::kBadInput, "eval crowd: " + std::to_string(only->size() - out.size()) + " of the " +
                                         std::to_string(only->size()) + " selected images are not in '" +
                                         (dir / "images").string() + "' (wrong folder for this --set?)");
  return out;
}

std::set<std::string> read_validation_names(const fs::path& split_json, const std::string& set) {
  std::error_code ec;
  if (!fs::exists(split_json, ec)) throw Error(ExitCode::kNotFound, "split file '" + split_json.string() + "': no such file");
  nlohmann::json j = parse_json_file(split_json, "split file");
  if (!j.is_object() || !j.contains("validation") || !j["validation"].is_array())
    throw Error(ExitCode::kBadInput, "split file '" + split_json.string() + "' has no \"validation\" array");
  std::set<std::string> names, sets;
  for (const auto& v : j["validation"]) {
    if (!v.is_string()) continue;
    std::string entry = v.get<std::string>();
    auto slash = entry.find('/');
    if (slash == std::string::npos) continue;
    sets.insert(entry.substr(0, slash));
    if (entry.substr(0, slash) == set) names.insert(entry.substr(slash + 1));
  }
  if (names.empty()) {
    std::string known;
    for (const auto& s : sets) known += (known.empty() ? "" : ", ") + s;
    throw Error(ExitCode::kBadInput, "split file '" + split_json.string() + "' has no validation images of set '" + set +
                                         "' (sets: " + known + ")");
  }
  return names;
}

void summarise_crowd_rows(CrowdEvalReport& report) {
  report.buckets = {{"0-50", 0, 50}, {"50-200", 50, 200}, {"200-1000", 200, 1000}, {"over 1000", 1000, -1}};
  double abs_sum = 0, sq_sum = 0, err_sum = 0;
  report.mean_truth = report.mean_predicted = report.seconds = 0;
  for (const auto& row : report.rows) {
    const double err = row.predicted - row.truth;
    abs_sum += std::abs(err);
    sq_sum += err * err;
    err_sum += err;
    report.mean_truth += row.truth;
    report.mean_predicted += row.predicted;
    report.seconds += row.seconds;
    for (auto& b : report.buckets) {
      if (row.truth < b.min_count || (b.max_count >= 0 && row.truth >= b.max_count)) continue;
      ++b.images;
      b.mae += std::abs(err);
      b.bias += err;
    }
  }
  for (auto& b : report.buckets) {
    if (b.images == 0) continue;
    b.mae /= double(b.images);
    b.bias /= double(b.images);
  }
  const double n = double(std::max<size_t>(1, report.rows.size()));
  report.mae = abs_sum / n;
  report.rmse = std::sqrt(sq_sum / n);
  report.bias = err_sum / n;
  report.mean_truth /= n;
  report.mean_predicted /= n;
}

CrowdEvalReport evaluate_crowd(vision::CrowdCounter& counter, const std::vector<CrowdTruth>& images,
                               const vision::ImageLimits& limits, const std::function<void(size_t, size_t)>& progress) {
  CrowdEvalReport report;
  for (size_t i = 0; i < images.size(); ++i) {
    cv::Mat bgr = vision::load_image(images[i].image, limits);
    auto started = std::chrono::steady_clock::now();
    vision::DensityMap map = counter.count(bgr);
    report.rows.push_back({images[i].image.filename().string(), images[i].count, map.count, bgr.cols, bgr.rows,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
    if (progress) progress(i + 1, images.size());
  }
  summarise_crowd_rows(report);
  return report;
}

nlohmann::json CrowdEvalReport::to_json() const {
  auto images = nlohmann::json::array();
  for (const auto& r : rows)
    images.push_back({{"image", r.image}, {"true", r.truth}, {"predicted", std::round(r.predicted * 100) / 100},
                      {"width", r.width}, {"height", r.height}, {"seconds", std::round(r.seconds * 1000) / 1000}});
  auto by_count = nlohmann::json::array();
  for (const auto& b : buckets) {
    nlohmann::json jb = {{"range", b.label}, {"minTrue", b.min_count}, {"images", b.images}};
    if (b.max_count >= 0) jb["maxTrueExclusive"] = b.max_count;
    if (b.images > 0) jb["mae"] = b.mae, jb["bias"] = b.bias;
    by_count.push_back(std::move(jb));
  }
  return {{"images", rows.size()}, {"mae", mae}, {"rmse", rmse}, {"bias", bias}, {"meanTrue", mean_truth},
          {"meanPredicted", mean_predicted}, {"secondsPerImage", rows.empty() ? 0 : seconds / double(rows.size())},
          {"byTrueCount", by_count}, {"perImage", images}};
}

namespace {
std::string signed_decimals(double v, int decimals) { return (v >= 0 ? "+" : "") + fixed_decimals(v, decimals); }
std::string padded(std::string s, size_t width) { return s.size() < width ? s + std::string(width - s.size(), ' ') : s + " "; }
}  // namespace

std::string CrowdEvalReport::text() const {
  std::string out = "images          " + std::to_string(rows.size()) + "\n" +
                    "MAE             " + fixed_decimals(mae, 2) + "\n" +
                    "RMSE            " + fixed_decimals(rmse, 2) + "\n" +
                    "bias            " + signed_decimals(bias, 2) + " (mean predicted - true)\n" +
                    "mean true       " + fixed_decimals(mean_truth, 1) + "\n" +
                    "mean predicted  " + fixed_decimals(mean_predicted, 1) + "\n" +
                    "time per image  " + fixed_decimals(rows.empty() ? 0 : seconds / double(rows.size()), 3) + " s\n" +
                    "by true count   images  MAE      bias\n";
  for (const auto& b : buckets)
    out += "  " + padded(b.label, 14) + padded(std::to_string(b.images), 8) +
           (b.images ? padded(fixed_decimals(b.mae, 2), 9) + signed_decimals(b.bias, 2) : std::string("-        -")) + "\n";
  return out;
}

std::string CrowdEvalReport::csv() const {
  std::string out = "image,true,predicted,error\n";
  for (const auto& r : rows)
    out += r.image + "," + fixed_decimals(r.truth, 0) + "," + fixed_decimals(r.predicted, 2) + "," + fixed_decimals(r.predicted - r.truth, 2) + "\n";
  return out;
}

}  // namespace facecrowd
