// The detection-cost bench (issue 12) and where a recognized photo's CPU goes (issue 10): for each photo,
// how many passes of each kind the face pipeline runs (JPEG check, decode, detector whole-image and tile
// forwards, landmarks, mirrored landmarks, chip, embedding, rotation passes) and their CPU and wall time,
// against the whole read_photo() + analyse() of the same photo in the same run (the baseline the kinds
// should add up to). Variants (OpenCV thread counts, tile sizes) run interleaved, photo by photo and repeat
// by repeat, so they share the machine's load; the first is the baseline of the ratios. Figures are printed,
// never asserted.
// Usage (from the repository root; bench/detection_cost.sh wraps it):
//   facecrowd_detection_cost [--repeat N] [--rotation MODE]
//                            [--variant NAME:threads=T,rotation=MODE,near-miss-turns=chosen|both-30]... PHOTO...
// (MODE: a --rotation-passes mode: all, near-misses, turns, off)
#include <opencv2/core.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "app/photo_input.h"
#include "core/error.h"
#include "vision/face_pipeline.h"
#include "vision/pass_costs.h"
#include "vision/rotation_passes.h"

namespace {

using namespace facecrowd;
using namespace facecrowd::vision;

struct Variant {
  std::string name;
  int threads = -1;      // -1: OpenCV's default
  std::string rotation;  // --rotation-passes mode; empty: --rotation's
  // near-misses only: "chosen" (the default RotationOptions) or "both-30" (the default before issue 12's
  // cost cut: every near miss, whatever its points and score, turned +30 then -30 degrees)
  std::string near_miss_turns = "chosen";
};

Variant parse_variant(const std::string& text) {
  Variant v;
  auto colon = text.find(':');
  v.name = text.substr(0, colon);
  if (colon == std::string::npos) return v;
  std::string rest = text.substr(colon + 1);
  size_t at = 0;
  while (at < rest.size()) {
    size_t comma = rest.find(',', at);
    std::string kv = rest.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    auto eq = kv.find('=');
    if (eq == std::string::npos) throw std::runtime_error("variant '" + text + "': expected key=value");
    std::string key = kv.substr(0, eq);
    std::string value = kv.substr(eq + 1);
    if (key == "threads") v.threads = std::stoi(value);
    else if (key == "rotation") v.rotation = value;
    else if (key == "near-miss-turns" && (value == "chosen" || value == "both-30")) v.near_miss_turns = value;
    else throw std::runtime_error("variant '" + text + "': unknown key or value " + kv +
                                  " (threads=N, rotation=MODE, near-miss-turns=chosen|both-30)");
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return v;
}

struct Totals {
  PassCosts kinds{};
  double cpu_ms = 0, wall_ms = 0;
  size_t faces = 0;
  int runs = 0;
};

void print_table(const std::string& title, const Totals& t) {
  std::printf("\n%s: %zu faces, %d runs; whole photo %.1f CPU ms, %.1f wall ms per run\n", title.c_str(),
              t.runs ? t.faces / size_t(t.runs) : 0, t.runs, t.cpu_ms / t.runs, t.wall_ms / t.runs);
  std::printf("  %-27s %8s %11s %12s %7s %12s\n", "pass kind", "passes", "CPU ms/pass", "CPU ms/photo",
              "share", "wall ms/photo");
  double accounted = 0;
  for (size_t k = 0; k < t.kinds.size(); ++k) {
    const PassCost& c = t.kinds[k];
    if (c.passes == 0) continue;
    bool inclusive = PassKind(k) == PassKind::kRotationPass;
    if (!inclusive) accounted += c.cpu_ms;
    std::printf("  %-27s %8.1f %11.2f %12.1f %6.1f%% %12.1f\n", to_string(PassKind(k)), double(c.passes) / t.runs,
                c.cpu_ms / double(c.passes), c.cpu_ms / t.runs, 100 * c.cpu_ms / t.cpu_ms,
                c.wall_ms / t.runs);
  }
  std::printf("  %-27s %8s %11s %12.1f %6.1f%%\n", "other (NMS, filters, copies)", "", "",
              (t.cpu_ms - accounted) / t.runs, 100 * (t.cpu_ms - accounted) / t.cpu_ms);
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 3;
  std::string rotation = "near-misses";
  std::vector<Variant> variants;
  std::vector<std::string> photos;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--repeat") repeat = std::max(1, std::stoi(value()));
      else if (a == "--rotation") rotation = value();
      else if (a == "--variant") variants.push_back(parse_variant(value()));
      else if (a.rfind("--", 0) == 0) throw std::runtime_error("unknown option " + a);
      else photos.push_back(a);
    }
    if (photos.empty()) throw std::runtime_error("no photo given");
    if (variants.empty()) variants.push_back({"default"});
    auto pipeline = FacePipeline::open();
    apply_rotation_mode(rotation, pipeline->options().rotation);
    const DetectorOptions defaults = pipeline->options().detector;
    const int default_threads = cv::getNumThreads();
    pipeline->analyse(read_photo(photos.front()).bgr);  // loads every network once, outside the figures

    std::map<std::string, std::map<std::string, Totals>> by_variant;  // variant -> photo (and "all") -> totals
    for (int r = 0; r < repeat; ++r)
      for (const std::string& photo : photos)
        for (const Variant& v : variants) {
          DetectorOptions o = defaults;
          cv::setNumThreads(v.threads >= 0 ? v.threads : default_threads);
          RotationOptions& ro = pipeline->options().rotation;
          ro = RotationOptions{};
          apply_rotation_mode(v.rotation.empty() ? rotation : v.rotation, ro);
          if (v.near_miss_turns == "both-30") {
            ro.near_miss_readable_residual = 0;  // no point set counts as readable: both ways
            ro.near_miss_unreadable_min_score = 0;
            ro.near_miss_second_tilt_degrees = 0;
          }
          PassCosts costs{};
          double cpu0, wall0;
          size_t faces;
          {
            PassCostRecording recording(costs);
            cpu0 = process_cpu_seconds(), wall0 = wall_seconds();
            Photo p = read_photo(photo);
            faces = pipeline->analyse(p.bgr, o).size();
          }
          double cpu = (process_cpu_seconds() - cpu0) * 1e3, wall = (wall_seconds() - wall0) * 1e3;
          for (const std::string& key : {photo, std::string("all photos")}) {
            Totals& t = by_variant[v.name][key];
            for (size_t k = 0; k < costs.size(); ++k) {
              t.kinds[k].passes += costs[k].passes;
              t.kinds[k].cpu_ms += costs[k].cpu_ms;
              t.kinds[k].wall_ms += costs[k].wall_ms;
            }
            t.cpu_ms += cpu, t.wall_ms += wall, t.faces += faces, t.runs += 1;
          }
        }
    std::printf("load average at end: ");
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
      char buf[64] = {};
      if (std::fgets(buf, sizeof buf, f)) std::printf("%s", buf);
      std::fclose(f);
    }
    for (const Variant& v : variants)
      for (const auto& [photo, totals] : by_variant[v.name]) print_table(v.name + " | " + photo, totals);
    if (variants.size() > 1) {
      const Totals& base = by_variant[variants[0].name]["all photos"];
      std::printf("\nagainst %s (same run, per photo, all photos):\n", variants[0].name.c_str());
      for (const Variant& v : variants) {
        const Totals& t = by_variant[v.name]["all photos"];
        std::printf("  %-20s CPU %.1f ms (%.2fx), wall %.1f ms (%.2fx), faces %zu, detector passes %.1f (rotation %.1f)\n",
                    v.name.c_str(), t.cpu_ms / t.runs, t.cpu_ms / base.cpu_ms, t.wall_ms / t.runs,
                    t.wall_ms / base.wall_ms, t.faces / size_t(t.runs),
                    double(t.kinds[size_t(PassKind::kDetectWhole)].passes + t.kinds[size_t(PassKind::kDetectTile)].passes) / t.runs,
                    double(t.kinds[size_t(PassKind::kRotationPass)].passes) / t.runs);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "detection_cost: %s\n", e.what());
    return 2;
  }
  return 0;
}
