#include "vision/pass_costs.h"

#include <ctime>

namespace facecrowd::vision {
namespace {
thread_local PassCosts* current = nullptr;

double seconds_of(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}
}  // namespace

const char* to_string(PassKind kind) {
  switch (kind) {
    case PassKind::kJpegCheck: return "jpeg integrity check";
    case PassKind::kDecode: return "decode";
    case PassKind::kDetectWhole: return "detector, whole image";
    case PassKind::kDetectTile: return "detector, tiles";
    case PassKind::kLandmarks: return "landmarks";
    case PassKind::kLandmarksMirrored: return "landmarks, mirrored";
    case PassKind::kAlign: return "align (chip)";
    case PassKind::kEmbedding: return "embedding";
    case PassKind::kRotationPass: return "rotation pass (inclusive)";
    case PassKind::kCount: break;
  }
  return "?";
}

double process_cpu_seconds() { return seconds_of(CLOCK_PROCESS_CPUTIME_ID); }
double wall_seconds() { return seconds_of(CLOCK_MONOTONIC); }

PassCostRecording::PassCostRecording(PassCosts& into) : previous_(current) { current = &into; }
PassCostRecording::~PassCostRecording() { current = previous_; }

PassTimer::PassTimer(PassKind kind) : into_(current), kind_(kind) {
  if (!into_) return;
  cpu0_ = process_cpu_seconds();
  wall0_ = wall_seconds();
}

PassTimer::~PassTimer() {
  if (!into_) return;
  PassCost& c = (*into_)[size_t(kind_)];
  c.passes += 1;
  c.cpu_ms += (process_cpu_seconds() - cpu0_) * 1e3;
  c.wall_ms += (wall_seconds() - wall0_) * 1e3;
}

}  // namespace facecrowd::vision
