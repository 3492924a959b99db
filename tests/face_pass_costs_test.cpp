// Issue 10 (CPU per recognized photo) and issue 12 (the detection-cost bench): the pass-cost recording
// counts a stage only on the thread of a live recording.
#include <gtest/gtest.h>

#include <thread>

#include "vision/pass_costs.h"

namespace facecrowd {
namespace {

using namespace facecrowd::vision;

int64_t passes(const PassCosts& c, PassKind k) { return c[size_t(k)].passes; }

TEST(FacePassCosts, WithoutARecordingNothingIsCountedAndARecordingCountsOnlyItsOwnThread) {
  PassCosts costs{};
  { PassTimer untimed(PassKind::kEmbedding); }
  {
    PassCostRecording recording(costs);
    { PassTimer timed(PassKind::kEmbedding); }
    std::thread([] { PassTimer other_thread(PassKind::kEmbedding); }).join();
  }
  { PassTimer after(PassKind::kEmbedding); }
  EXPECT_EQ(passes(costs, PassKind::kEmbedding), 1);
  EXPECT_GE(costs[size_t(PassKind::kEmbedding)].wall_ms, 0.0);
}

}  // namespace
}  // namespace facecrowd
