// The cost of `gallery reembed` (app/faces/gallery_reembed.h, issue 12) against its baseline, enrolling the
// same photos (app/faces/enrollment.h), in the same process with the same face pipeline. Each round: a fresh
// store; every identity's photos enrolled (timed: the baseline); every embedding relabelled as an older
// model's (untimed, what a model switch leaves); reembed_gallery (timed). Per embedded image: CPU seconds
// (process CPU, robust on a loaded machine) and wall seconds, and the ratio reembed / enroll. A migration
// of N stored images then takes about N x the reembed figure. Printed, never asserted.
//   build/bench/facecrowd_reembed_cost --models models --identities ../shared/data/faces/identities --rounds 3
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "app/faces/enrollment.h"
#include "app/faces/gallery_reembed.h"
#include "core/error.h"
#include "devtools/model_switch.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/schema.h"

namespace {

using namespace facecrowd;
namespace fs = std::filesystem;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Figures {
  double cpu = 0, wall = 0;
  int64_t images = 0;
};

}  // namespace

int main(int argc, char** argv) {
  fs::path models = "models", identities = "../shared/data/faces/identities";
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--models") models = argv[i + 1];
    else if (flag == "--identities") identities = argv[i + 1];
    else if (flag == "--rounds") rounds = std::stoi(argv[i + 1]);
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  try {
    auto pipeline = vision::FacePipeline::open(models);
    std::vector<std::pair<std::string, std::vector<fs::path>>> people;
    for (const auto& dir : fs::directory_iterator(identities)) {
      if (!dir.is_directory()) continue;
      std::vector<fs::path> photos;
      for (const auto& f : fs::directory_iterator(dir.path())) photos.push_back(f.path());
      std::sort(photos.begin(), photos.end());
      people.push_back({dir.path().filename().string(), photos});
    }
    std::sort(people.begin(), people.end());
    std::printf("round  enrolled  enroll CPU s/img  enroll wall s/img  reembedded  reembed CPU s/img  reembed wall s/img  CPU ratio  wall ratio\n");
    std::vector<double> cpu_ratios, wall_ratios, reembed_rates;
    for (int round = 1; round <= rounds; ++round) {
      fs::path dir = fs::temp_directory_path() / ("facecrowd-reembed-bench-" + std::to_string(std::random_device{}()));
      auto db = Database::open(DataDir::open(dir), std::string(kDefaultDatabase));
      Figures enroll_figures, reembed_figures;
      double c0 = cpu_seconds(), w0 = wall_seconds();
      for (const auto& [name, photos] : people) {
        EnrollRequest request;
        request.name = name;
        request.images = photos;
        request.skip_rejected = true;
        request.largest = true;
        request.force = true;
        try {
          enroll_figures.images += int64_t(enroll(*db, *pipeline, request).added.size());
        } catch (const Error&) {  // every photo of the person rejected: not part of either side
        }
      }
      enroll_figures.cpu = cpu_seconds() - c0;
      enroll_figures.wall = wall_seconds() - w0;
      relabel_embeddings_as(*db, "older-model-v0");
      c0 = cpu_seconds();
      w0 = wall_seconds();
      auto report = reembed_gallery(*db, *pipeline, Actor{"bench", "local"}, ReembedOptions{});
      reembed_figures.cpu = cpu_seconds() - c0;
      reembed_figures.wall = wall_seconds() - w0;
      reembed_figures.images = report.embedded;
      db.reset();
      fs::remove_all(dir);
      double ec = enroll_figures.cpu / double(enroll_figures.images), ew = enroll_figures.wall / double(enroll_figures.images);
      double rc = reembed_figures.cpu / double(reembed_figures.images), rw = reembed_figures.wall / double(reembed_figures.images);
      std::printf("%5d  %8lld  %16.3f  %17.3f  %10lld  %17.3f  %18.3f  %9.2f  %10.2f\n", round,
                  (long long)enroll_figures.images, ec, ew, (long long)reembed_figures.images, rc, rw, rc / ec, rw / ew);
      cpu_ratios.push_back(rc / ec);
      wall_ratios.push_back(rw / ew);
      reembed_rates.push_back(1.0 / rw);
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("median: reembed/enroll per image CPU %.2fx, wall %.2fx; reembed %.2f images/s (wall)\n", median(cpu_ratios),
                median(wall_ratios), median(reembed_rates));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 10;
  }
  return 0;
}
