// Face pipeline latency: detection per 1920x1080 photo (one pass, and with the tiles that small faces need;
// BlazeFace against the SSD baseline), landmarks + chip + embedding per face, end to end per group photo.
// Run from the repository root (models in ./models or $FACECROWD_MODELS; photos in ../shared/data or
// $FACECROWD_SHARED_DATA):  /tmp/build/bench/facecrowd_bench --benchmark_filter=Vision
#include <benchmark/benchmark.h>

#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "vision/face_pipeline.h"

namespace {

using namespace facecrowd::vision;
namespace fs = std::filesystem;

fs::path photos_dir() {
  const char* env = std::getenv("FACECROWD_SHARED_DATA");
  return fs::path(env && *env ? env : "../shared/data") / "faces";
}

// Loaded once; nullptr (and a reason) when models or photos are missing.
FacePipeline* pipeline(std::string* why) {
  static std::unique_ptr<FacePipeline> p;
  static std::string error;
  if (!p && error.empty()) {
    try {
      p = FacePipeline::open();
      if (!fs::exists(photos_dir() / "groups" / "two_people.jpg")) error = "photos not found in " + photos_dir().string();
    } catch (const facecrowd::Error& e) {
      error = e.what();
    }
  }
  *why = error;
  return error.empty() ? p.get() : nullptr;
}

// A 1920x1080 frame: the two-people group photo scaled to 1080 px high, centred on grey.
cv::Mat frame_1080p() {
  cv::Mat photo = load_image(photos_dir() / "groups" / "two_people.jpg");
  double k = std::min(1920.0 / photo.cols, 1080.0 / photo.rows);
  cv::Mat scaled;
  cv::resize(photo, scaled, cv::Size(), k, k, cv::INTER_LINEAR);
  cv::Mat frame(1080, 1920, CV_8UC3, cv::Scalar::all(110));
  scaled.copyTo(frame(cv::Rect((1920 - scaled.cols) / 2, (1080 - scaled.rows) / 2, scaled.cols, scaled.rows)));
  return frame;
}

// Args: detector (0 BlazeFace, the default; 1 face-api's SSD, the baseline), smallest face in pixels
// (0: one pass over the whole frame; smaller faces need more tile passes).
void BM_VisionDetect1080p(benchmark::State& state) {
  std::string why;
  FacePipeline* p = pipeline(&why);
  if (!p) return state.SkipWithError(why.c_str());
  cv::Mat frame = frame_1080p();
  DetectorOptions o;
  o.model = state.range(0) == 0 ? DetectorModel::kBlazeFace : DetectorModel::kSsd;
  o.min_face_px = int(state.range(1));
  state.SetLabel(to_string(o.model));
  p->detector().detect_single_pass(frame, o);  // first run allocates
  size_t faces = 0;
  for (auto _ : state) faces = p->detector().detect(frame, o).size();
  state.counters["faces"] = double(faces);
  state.counters["passes"] = p->detector().planned_passes(frame.size(), o);
}
BENCHMARK(BM_VisionDetect1080p)
    ->ArgsProduct({{0, 1}, {0, 80, 40, 20}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);

void BM_VisionLandmarksAndEmbeddingPerFace(benchmark::State& state) {
  std::string why;
  FacePipeline* p = pipeline(&why);
  if (!p) return state.SkipWithError(why.c_str());
  cv::Mat photo = load_image(photos_dir() / "groups" / "two_people.jpg");
  DetectorOptions whole;
  whole.min_face_px = 0;
  auto dets = p->detector().detect(photo, whole);
  if (dets.empty()) return state.SkipWithError("no face detected");
  p->describe(photo, dets[0]);  // first run allocates
  for (auto _ : state) benchmark::DoNotOptimize(p->describe(photo, dets[0]).embedding.raw_norm);
}
BENCHMARK(BM_VisionLandmarksAndEmbeddingPerFace)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The embedding pass alone per face (the model's alignment + blob + forward), by model: 0 dlib (the default,
// the baseline), 1 faceres (opt-in, vision/face_model.h). Process CPU time, so OpenCV's threads count too.
// bench/face_models_cost.sh runs both interleaved and prints the ratio.
void BM_VisionEmbeddingPerFace(benchmark::State& state) {
  static std::unique_ptr<FacePipeline> by_model[2];
  const FaceModel model = state.range(0) == 1 ? FaceModel::kFaceres : FaceModel::kDlib;
  auto& p = by_model[state.range(0) == 1];
  try {
    if (!p) p = FacePipeline::open(std::nullopt, model);
  } catch (const facecrowd::Error& e) {
    return state.SkipWithError(e.what());
  }
  state.SetLabel(face_model_name(model));
  const fs::path file = photos_dir() / "groups" / "two_people.jpg";
  if (!fs::exists(file)) return state.SkipWithError(("missing " + file.string()).c_str());
  cv::Mat photo = load_image(file);
  DetectorOptions whole;
  whole.min_face_px = 0;
  auto dets = p->detector().detect(photo, whole);
  if (dets.empty()) return state.SkipWithError("no face detected");
  const Face face = p->describe(photo, dets[0]);  // first run allocates
  for (auto _ : state) benchmark::DoNotOptimize(p->embed(photo, face).raw_norm);
  state.counters["dimension"] = double(face.embedding.unit.size());
}
BENCHMARK(BM_VisionEmbeddingPerFace)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(2.0)->MeasureProcessCPUTime();

void BM_VisionEndToEndGroupPhoto(benchmark::State& state) {
  std::string why;
  FacePipeline* p = pipeline(&why);
  if (!p) return state.SkipWithError(why.c_str());
  // bald_guys.jpg (Debian's libdlib19.1 examples, 1986x1545) is the "group photo of about 10 faces".
  const fs::path files[] = {photos_dir() / "groups" / "two_people.jpg", photos_dir() / "groups" / "kit_with_rose.jpg",
                            photos_dir() / "groups" / "obama_and_biden.jpg",
                            "/usr/share/doc/libdlib19.1/examples/faces/bald_guys.jpg"};
  const fs::path& file = files[state.range(0)];
  if (!fs::exists(file)) return state.SkipWithError(("missing " + file.string()).c_str());
  state.SetLabel(file.filename().string());
  size_t faces = 0;
  for (auto _ : state) faces = p->analyse_file(file).size();  // decode + detect (default tiles) + describe
  state.counters["faces"] = double(faces);
  state.counters["passes"] = p->detector().planned_passes(load_image(file).size(), p->options().detector);
}
BENCHMARK(BM_VisionEndToEndGroupPhoto)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
