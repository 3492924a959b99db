// Where a face analysis spends its time, pass kind by pass kind (issue 10: CPU per recognized photo;
// issue 12: the detection-cost bench, bench/detection_cost.sh).
// Contract: while a PassCostRecording is alive on a thread, every stage the photo and face pipeline runs on
// that thread (the kinds below) adds one count, its process CPU time and its wall time to that recording.
// With no recording alive a stage costs one thread_local read. Process CPU (CLOCK_PROCESS_CPUTIME_ID)
// includes OpenCV's worker threads, so the CPU figures are exact only when nothing else runs in the process
// at the same time (the bench, one photo at a time); wall figures hold anywhere.
// A rotation pass is inclusive: its detector, landmark and embedding passes are counted in their own kinds too.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace facecrowd::vision {

enum class PassKind {
  kJpegCheck,          // decode_checked_jpeg: the JPEG decoded once, stopping at damage (its pixels kept)
  kDecode,             // decode_image: header checks, the decode unless done already, 8-bit BGR, EXIF
  kDetectWhole,        // one detector forward over the whole image
  kDetectTile,         // one detector forward over a tile
  kLandmarks,          // one 68-point forward (on the detector's box, then on the refined box)
  kLandmarksMirrored,  // the 68-point forward on the mirrored crop (false-face filter)
  kAlign,              // the similarity fit and the 150x150 chip
  kEmbedding,          // one recogniser forward
  kRotationPass,       // a whole rotated copy analysed (inclusive)
  kCount
};
const char* to_string(PassKind kind);

struct PassCost {
  int64_t passes = 0;
  double cpu_ms = 0, wall_ms = 0;
};
using PassCosts = std::array<PassCost, size_t(PassKind::kCount)>;

// Collects into `into` on this thread for its lifetime (nested recordings: the innermost collects).
class PassCostRecording {
 public:
  explicit PassCostRecording(PassCosts& into);
  ~PassCostRecording();
  PassCostRecording(const PassCostRecording&) = delete;
  PassCostRecording& operator=(const PassCostRecording&) = delete;

 private:
  PassCosts* previous_;
};

// Times one stage of `kind` into this thread's recording, if any.
class PassTimer {
 public:
  explicit PassTimer(PassKind kind);
  ~PassTimer();
  PassTimer(const PassTimer&) = delete;
  PassTimer& operator=(const PassTimer&) = delete;

 private:
  PassCosts* into_;
  PassKind kind_;
  double cpu0_ = 0, wall0_ = 0;
};

// Process CPU seconds and monotonic wall seconds now.
double process_cpu_seconds();
double wall_seconds();

}  // namespace facecrowd::vision
