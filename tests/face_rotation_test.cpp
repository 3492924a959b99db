// Issue 12 on real photos: heads tilted 30-55 degrees, which the upright pass misses, are found by the
// default tilt passes (near-miss crops, vision/rotation_passes.h) at a fraction of the whole-photo tilt
// passes' detector work, and upright photos spend few crops on rejected detections; photos turned 90 degrees keep their faces; a plain backdrop gives no face. Skipped without the prepared models and ../shared/data/faces.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <random>
#include <tuple>

#include "face_test_support.h"
#include "vision/face_pipeline.h"
#include "vision/face_quality.h"
#include "vision/image_loader.h"
#include "vision/pass_costs.h"
#include "vision/rotation_passes.h"

namespace facecrowd {
namespace {

using namespace facecrowd::vision;

FacePipeline& shared_pipeline() {
  static std::unique_ptr<FacePipeline> p = FacePipeline::open(face_models_dir());
  return *p;
}

class RotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    pipeline().options().rotation = RotationOptions{};  // the defaults under test
  }
  FacePipeline& pipeline() { return shared_pipeline(); }
  std::vector<Face> without_rotation(const cv::Mat& bgr) {
    RotationOptions saved = pipeline().options().rotation;
    pipeline().options().rotation = RotationOptions{0, false};
    auto faces = pipeline().analyse(bgr);
    pipeline().options().rotation = saved;
    return faces;
  }
};

// Issue 12: with the default passes (then quarter turns only) a head tilted 45 degrees gave no face.
TEST_F(RotationTest, WithTheDefaultPassesAHeadTiltedFortyFiveDegreesIsFoundAndStillMatches) {
  cv::Mat upright = load_image(faces_dir() / "identities" / "obama" / "obama.jpg");
  auto reference = pipeline().analyse(upright);
  ASSERT_EQ(reference.size(), 1u);
  for (auto scope : {RotationOptions::TiltScope::kNearMisses, RotationOptions::TiltScope::kWholePhoto}) {
    pipeline().options().rotation.tilt_scope = scope;  // the default, then --rotation-passes all
    for (double degrees : {45.0, -45.0}) {
      cv::Matx23d m;
      cv::Mat tilted = rotate_whole(upright, degrees, m);
      auto faces = pipeline().analyse(tilted);
      ASSERT_EQ(faces.size(), 1u) << degrees;
      EXPECT_LT(embedding_distance(faces[0].embedding, reference[0].embedding), 0.2f) << degrees;
    }
  }
}

// Issue 12: in group photos tilted 30 and 45 degrees the default found 4 and 0 of 10 faces. And the
// near-miss crops run before the quarter turns: when the turns ran first (the upright pass found no face
// in two_people.jpg tilted -30 degrees), a turn found a garbled face (eyes reversed, distance 0.61 to
// either person) that hid one person's near miss.
TEST_F(RotationTest, WithTheDefaultPassesEveryFaceOfATiltedGroupPhotoIsFoundOnceAndStillMatches) {
  cv::Mat upright = load_image(faces_dir() / "groups" / "two_people.jpg");
  auto reference = pipeline().analyse(upright);
  ASSERT_EQ(reference.size(), 2u);
  for (double degrees : {30.0, -30.0, 45.0, -45.0}) {
    cv::Matx23d m;
    cv::Mat tilted = rotate_whole(upright, degrees, m);
    auto faces = pipeline().analyse(tilted);
    ASSERT_EQ(faces.size(), 2u) << degrees;
    for (const Face& r : reference) {
      float nearest = 2;
      for (const Face& f : faces) nearest = std::min(nearest, embedding_distance(f.embedding, r.embedding));
      EXPECT_LT(nearest, 0.25f) << degrees;
    }
  }
}

// The near-miss crops cost a few small passes where the whole-photo tilt passes run the detector over two
// grown copies of the photo, tiles included; and a photo whose faces are all found upright pays nothing.
TEST_F(RotationTest, NearMissCropsFindTheTiltedFacesWithFewerDetectorPassesThanWholePhotoTilts) {
  cv::Mat upright = load_image(faces_dir() / "groups" / "two_people.jpg");
  auto detector_passes = [&](const cv::Mat& bgr, RotationOptions::TiltScope scope, size_t& faces) {
    pipeline().options().rotation.tilt_scope = scope;
    PassCosts costs{};
    {
      PassCostRecording recording(costs);
      faces = pipeline().analyse(bgr).size();
    }
    return costs[size_t(PassKind::kDetectWhole)].passes + costs[size_t(PassKind::kDetectTile)].passes;
  };
  size_t faces = 0, whole_faces = 0;
  const int64_t upright_passes = detector_passes(upright, RotationOptions::TiltScope::kNearMisses, faces);
  EXPECT_EQ(faces, 2u);
  EXPECT_EQ(upright_passes, pipeline().detector().planned_passes(upright.size(), pipeline().options().detector))
      << "no tilt pass where the upright pass found every face";
  cv::Matx23d m;
  cv::Mat tilted = rotate_whole(upright, 40, m);
  const int64_t near = detector_passes(tilted, RotationOptions::TiltScope::kNearMisses, faces);
  const int64_t whole = detector_passes(tilted, RotationOptions::TiltScope::kWholePhoto, whole_faces);
  EXPECT_EQ(faces, 2u);
  EXPECT_EQ(whole_faces, 2u);
  const int64_t tilted_upright = pipeline().detector().planned_passes(tilted.size(), pipeline().options().detector);
  // One face is found upright; the other's near miss gets one crop, turned the way its eye line leans (it
  // took two before: +30, the wrong way, first).
  EXPECT_LE(near, tilted_upright + 1) << "crops: " << near - tilted_upright;
  EXPECT_GT(whole, 2 * tilted_upright) << "two grown canvases, each with its tiles";
}

// Issue 12: the near-miss crops cost 1.24x the detection CPU of quarter turns alone on upright group
// photos: every rejected detection (texture, parts of faces, scored 0.50-0.86) got two crops, 24 in these
// five photos. A rejected detection now gets a crop only when its points show a leaning eye line, or when
// they are unreadable and the detector scored it like a real tilted face (>= 0.75).
TEST_F(RotationTest, UprightGroupPhotosRunFewerCropPassesThanBeforeAndKeepEveryFace) {
  auto crop_passes = [&](const cv::Mat& bgr, size_t& faces) {
    PassCosts costs{};
    {
      PassCostRecording recording(costs);
      faces = pipeline().analyse(bgr).size();
    }
    return costs[size_t(PassKind::kRotationPass)].passes;
  };
  RotationOptions before;  // every near miss turned +30, then -30 degrees
  before.near_miss_readable_residual = 0;
  before.near_miss_unreadable_min_score = 0;
  before.near_miss_second_tilt_degrees = 0;
  int64_t now_total = 0, before_total = 0;
  for (const char* file : {"two_people.jpg", "obama_and_biden.jpg", "kit_with_rose.jpg", "obama3.jpg", "couple.jpg"}) {
    cv::Mat upright = load_image(faces_dir() / "groups" / file);
    size_t faces_now = 0, faces_before = 0;
    pipeline().options().rotation = RotationOptions{};
    const int64_t now = crop_passes(upright, faces_now);
    pipeline().options().rotation = before;
    const int64_t then = crop_passes(upright, faces_before);
    EXPECT_EQ(faces_now, faces_before) << file;
    EXPECT_LE(now, then) << file;
    now_total += now, before_total += then;
  }
  EXPECT_GE(before_total, 20) << "the rejects that cost the crops are still there";
  EXPECT_LE(now_total, 4) << "at most one near miss's turns in all five photos";
}

// Issue 12: two faces of the selection set (PASCAL testing.xml) at -45 degrees were missed: their own lean
// added to the photo's, and a 30-degree turn of their crops found only a neighbour. A second turn of 45
// degrees finds them. On the group photos the same shows at 55 degrees: the default found 0 of 2 faces in
// kit_with_rose.jpg turned 55 degrees and 0 of 1 in obama3.jpg turned -55.
TEST_F(RotationTest, HeadsLeaningFiftyFiveDegreesAreFoundByTheSecondTurnAndStillMatch) {
  for (auto [file, degrees, expected] :
       {std::tuple{"kit_with_rose.jpg", 55.0, size_t(2)}, std::tuple{"obama3.jpg", -55.0, size_t(1)}}) {
    cv::Mat upright = load_image(faces_dir() / "groups" / file);
    auto reference = pipeline().analyse(upright);
    ASSERT_EQ(reference.size(), expected) << file;
    cv::Matx23d m;
    cv::Mat tilted = rotate_whole(upright, degrees, m);
    auto faces = pipeline().analyse(tilted);
    ASSERT_EQ(faces.size(), expected) << file << " " << degrees;
    for (const Face& r : reference) {
      float nearest = 2;
      for (const Face& f : faces) nearest = std::min(nearest, embedding_distance(f.embedding, r.embedding));
      EXPECT_LT(nearest, 0.25f) << file << " " << degrees;
    }
  }
}

// The turns follow the eye line when the points can be read, and weak unreadable rejects get none.
TEST_F(RotationTest, ANearMissIsTurnedTheWayItsEyeLineLeansOrBothWaysOnlyWhenScoredLikeAFace) {
  cv::Mat upright = load_image(faces_dir() / "identities" / "obama" / "obama.jpg");
  auto reference = pipeline().analyse(upright);
  ASSERT_EQ(reference.size(), 1u);
  const RotationOptions o;
  NearMiss n{{reference[0].box, 0.9f}, reference[0].landmarks, reference[0].quality};
  ASSERT_LT(n.quality.landmark_residual, o.near_miss_readable_residual);
  // The photo turned 40 degrees counter-clockwise: the eye line leans the other way, so the crop is turned
  // clockwise (negative), 30 then 45 degrees.
  const cv::Point2f centre(float(upright.cols) / 2, float(upright.rows) / 2);
  cv::Matx23d turn(cv::getRotationMatrix2D(centre, 40, 1.0).ptr<double>());
  for (auto& p : n.landmarks) p = {float(turn(0, 0) * p.x + turn(0, 1) * p.y + turn(0, 2)), float(turn(1, 0) * p.x + turn(1, 1) * p.y + turn(1, 2))};
  EXPECT_NEAR(eye_line_degrees(n.landmarks), eye_line_degrees(reference[0].landmarks) - 40, 1.0);
  EXPECT_EQ(near_miss_turns(n, o), (std::vector<double>{-30, -45}));
  // Unreadable points: both ways when scored like a real tilted face, none when weak.
  n.quality.landmark_residual = 20;
  EXPECT_EQ(near_miss_turns(n, o), (std::vector<double>{30, -30, 45, -45}));
  n.detection.score = 0.6f;
  EXPECT_TRUE(near_miss_turns(n, o).empty());
}

// A photo turned without EXIF still gets its quarter turns when a near-miss crop finds nothing there.
TEST_F(RotationTest, AGroupPhotoTurnedNinetyDegreesWithoutExifKeepsAllItsFaces) {
  for (const char* file : {"two_people.jpg", "kit_with_rose.jpg"}) {
    cv::Matx23d m;
    cv::Mat turned = rotate_whole(load_image(faces_dir() / "groups" / file), 90, m);
    EXPECT_EQ(pipeline().analyse(turned).size(), 2u) << file;
  }
}

// Issue 12: in obama.jpg turned 90 degrees the upright pass found 4 false faces (the face lying on its side,
// a flag pin, two specks), so the turn passes never ran. The false faces are dropped now (landmark flip
// check, vision/false_face_filter.h), and the 270-degree turn finds the face.
TEST_F(RotationTest, APortraitTurnedNinetyDegreesWithoutExifIsFoundByTheTurnPassesAndStillMatches) {
  cv::Mat upright = load_image(faces_dir() / "identities" / "obama" / "obama.jpg");
  auto reference = pipeline().analyse(upright);
  ASSERT_EQ(reference.size(), 1u);
  for (double degrees : {90.0, 270.0}) {
    cv::Matx23d m;
    cv::Mat turned = rotate_whole(upright, degrees, m);
    EXPECT_TRUE(without_rotation(turned).empty()) << degrees << ": the upright pass finds no (false) face";
    auto faces = pipeline().analyse(turned);
    ASSERT_EQ(faces.size(), 1u) << degrees;
    EXPECT_LT(embedding_distance(faces[0].embedding, reference[0].embedding), 0.2f) << degrees;
    // The box is mapped back onto the turned photo: around the face's landmarks there.
    cv::Point2f nose = faces[0].landmarks[30];
    EXPECT_TRUE(faces[0].box.contains(nose)) << degrees << " " << faces[0].box << " " << nose;
  }
}

// Issue 12: BlazeFace found two faces (0.53, 0.55) on a plain blue backdrop.
TEST_F(RotationTest, APlainBackdropGivesNoFace) {
  cv::Mat backdrop(900, 1200, CV_8UC3);
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 6);
  for (int y = 0; y < backdrop.rows; ++y)
    for (int x = 0; x < backdrop.cols; ++x) {
      float shade = 30.0f * float(y) / float(backdrop.rows) + 20.0f * float(x) / float(backdrop.cols);
      backdrop.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(170 + shade + noise(rng)),
                                               cv::saturate_cast<uchar>(100 + shade / 2 + noise(rng)),
                                               cv::saturate_cast<uchar>(40 + noise(rng)));
    }
  cv::GaussianBlur(backdrop, backdrop, cv::Size(0, 0), 2.0);
  auto faces = pipeline().analyse(backdrop);
  for (const auto& f : faces) ADD_FAILURE() << "false face " << f.box << " score " << f.detection_score;
}

}  // namespace
}  // namespace facecrowd
