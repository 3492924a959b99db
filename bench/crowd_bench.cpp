// Crowd counting latency and memory per image size, against OpenCV's HOG people detector (the classic
// CPU people counter) on the same images. Run each benchmark in its own process so `peak_rss_MB` is that
// benchmark's own peak: bench/crowd_bench.sh does, and prints the table with ratios.
//   /tmp/build/bench/facecrowd_bench --benchmark_filter='Crowd.*/0$'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "vision/crowd_counter.h"
#include "vision/image_loader.h"

namespace {

using namespace facecrowd::vision;
namespace fs = std::filesystem;

fs::path crowd_image() {
  const char* env = std::getenv("FACECROWD_SHARED_DATA");
  return fs::path(env && *env ? env : "../shared/data") / "crowd" / "shanghaitech" / "part_B" / "train" / "images" /
         "IMG_1.jpg";
}

// Arg 0: the 1024x768 street scene as it is; arg 1: the same scene resized to 3840x2160 (4K).
cv::Mat test_image(int64_t which, std::string* why) {
  try {
    cv::Mat scene = load_image(crowd_image());
    if (which == 0) return scene;
    cv::Mat big;
    cv::resize(scene, big, cv::Size(3840, 2160), 0, 0, cv::INTER_LINEAR);
    return big;
  } catch (const facecrowd::Error& e) {
    *why = e.what();
    return {};
  }
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

void BM_CrowdCount(benchmark::State& state) {
  std::string why;
  cv::Mat image = test_image(state.range(0), &why);
  if (image.empty()) return state.SkipWithError(why.c_str());
  std::unique_ptr<CrowdCounter> counter;
  try {
    counter = CrowdCounter::open();
  } catch (const facecrowd::Error& e) {
    return state.SkipWithError(e.what());
  }
  DensityMap map;
  for (auto _ : state) map = counter->count(image);
  state.SetLabel(std::to_string(image.cols) + "x" + std::to_string(image.rows));
  state.counters["count"] = map.count;
  state.counters["tiles"] = map.tiles;
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_CrowdCount)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// Baseline: HOG + linear SVM pedestrian detector over an image pyramid (OpenCV's default people detector).
void BM_CrowdBaselineHogPeople(benchmark::State& state) {
  std::string why;
  cv::Mat image = test_image(state.range(0), &why);
  if (image.empty()) return state.SkipWithError(why.c_str());
  cv::HOGDescriptor hog;
  hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  std::vector<cv::Rect> people;
  for (auto _ : state) hog.detectMultiScale(image, people);
  state.SetLabel(std::to_string(image.cols) + "x" + std::to_string(image.rows));
  state.counters["count"] = double(people.size());
  state.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_CrowdBaselineHogPeople)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(3.0);

}  // namespace
