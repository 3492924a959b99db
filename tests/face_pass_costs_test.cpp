// Issue 10 (CPU per recognized photo) and issue 12 (the detection-cost bench): the pass-cost recording
// counts every network pass of an analysis; an analysis embeds only the faces it keeps and runs the
// mirrored landmark pass only where it can decide. Photo tests skip without the prepared models and
// ../shared/data/faces.
#include <gtest/gtest.h>

#include <thread>

#include "app/photo_input.h"
#include "face_test_support.h"
#include "vision/face_pipeline.h"
#include "vision/pass_costs.h"

namespace facecrowd {
namespace {

using namespace facecrowd::vision;

#define REQUIRE_MODELS_AND_FACES() \
  if (std::string why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why

FacePipeline& pipeline() {
  static std::unique_ptr<FacePipeline> p = FacePipeline::open(face_models_dir());
  return *p;
}

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

TEST(FacePassCosts, AnAnalysisCountsItsDetectorPassesAsPlannedAndEmbedsOnlyTheFacesItKeeps) {
  REQUIRE_MODELS_AND_FACES();
  // couple.jpg: the detector also finds parts of the two faces (and texture), which the false-face
  // filter drops; before, each of those was embedded too.
  Photo photo = read_photo(faces_dir() / "groups" / "couple.jpg");
  PassCosts costs{};
  std::vector<Face> faces;
  {
    PassCostRecording recording(costs);
    faces = pipeline().analyse(photo.bgr);
  }
  ASSERT_EQ(faces.size(), 2u);
  EXPECT_EQ(passes(costs, PassKind::kDetectWhole), 1);
  EXPECT_EQ(passes(costs, PassKind::kDetectTile) + 1, pipeline().detector().planned_passes(photo.bgr.size(), pipeline().options().detector));
  const int64_t detections = passes(costs, PassKind::kAlign);
  EXPECT_GT(detections, int64_t(faces.size())) << "the photo no longer has detections the filter drops";
  EXPECT_EQ(passes(costs, PassKind::kLandmarks), 2 * detections) << "detector box, then the refined box";
  EXPECT_EQ(passes(costs, PassKind::kEmbedding), int64_t(faces.size()));
  EXPECT_LE(passes(costs, PassKind::kLandmarksMirrored), detections);
  EXPECT_GE(passes(costs, PassKind::kLandmarksMirrored), int64_t(faces.size()));
  EXPECT_EQ(passes(costs, PassKind::kRotationPass), 0) << "faces were found upright";
  for (const Face& f : faces) {
    EXPECT_NEAR(cv::norm(cv::Mat(f.embedding.unit)), 1.0, 1e-4);
    EXPECT_GT(f.quality.landmark_flip_error, 0.0f);
  }
}

TEST(FacePassCosts, AKeptFaceIsDescribedExactlyAsDescribeDoesIt) {
  REQUIRE_MODELS_AND_FACES();
  cv::Mat bgr = read_photo(faces_dir() / "groups" / "two_people.jpg").bgr;
  std::vector<Face> faces = pipeline().analyse(bgr);
  ASSERT_EQ(faces.size(), 2u);
  int compared = 0;
  for (const Face& f : faces) {
    // describe() on the refined box refines again; compare on the detector's own output instead.
    for (const FaceDetection& d : pipeline().detector().detect(bgr, pipeline().options().detector)) {
      Face described = pipeline().describe(bgr, d);
      if (described.box != f.box) continue;
      ++compared;
      EXPECT_EQ(described.embedding.unit, f.embedding.unit);
      EXPECT_EQ(described.quality.landmark_flip_error, f.quality.landmark_flip_error);
    }
  }
  EXPECT_EQ(compared, 2);
}

}  // namespace
}  // namespace facecrowd
