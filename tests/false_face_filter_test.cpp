// Issue 12: false faces after the detector. keep_real_faces() rules on made-up faces (no models), and the
// landmark flip check on real photos: parts of a face, a flag pin and a face lying on its side are not
// faces, every face of the PASCAL photos and the group photos still is. Photo tests skip without the
// prepared models and ../shared/data/faces.
#include <gtest/gtest.h>

#include "face_test_support.h"
#include "vision/false_face_filter.h"
#include "vision/face_pipeline.h"
#include "vision/image_loader.h"
#include "vision/landmark_detector.h"

namespace facecrowd {
namespace {

using namespace facecrowd::vision;

Face made_up(cv::Rect2f box, float flip_error, float interocular = 40, float landmark_confidence = 0.8f) {
  Face f;
  f.box = box;
  f.quality.landmark_flip_error = flip_error;
  f.quality.interocular_px = interocular;
  f.quality.landmark_confidence = landmark_confidence;
  return f;
}

TEST(FaceFilter, AFaceWhoseMirroredLandmarksDisagreeIsDroppedAndTheOthersKeepTheirOrder) {
  std::vector<Face> faces = {made_up({0, 0, 100, 100}, 0.05f), made_up({300, 0, 100, 100}, 0.35f),
                             made_up({600, 0, 100, 100}, 0.15f)};
  auto kept = keep_real_faces(faces, PipelineOptions{});
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].box.x, 0);
  EXPECT_EQ(kept[1].box.x, 600);
  PipelineOptions off;
  off.max_landmark_flip_error = 0;
  EXPECT_EQ(keep_real_faces(faces, off).size(), 3u) << "0 turns the flip check off";
}

TEST(FaceFilter, ASpeckWithEyesTwoPixelsApartIsNotAFace) {
  auto kept = keep_real_faces({made_up({10, 10, 5, 7}, 0.05f, 2.6f), made_up({100, 10, 30, 40}, 0.05f, 10)}, {});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].box.x, 100);
}

TEST(FaceFilter, PartOfAFaceInsideALargerFaceIsDroppedWhicheverWasDetectedFirst) {
  Face whole = made_up({100, 100, 300, 400}, 0.04f), eye_region = made_up({150, 150, 120, 150}, 0.12f);
  for (bool part_first : {true, false}) {
    auto kept = keep_real_faces(part_first ? std::vector<Face>{eye_region, whole} : std::vector<Face>{whole, eye_region}, {});
    ASSERT_EQ(kept.size(), 1u) << part_first;
    EXPECT_EQ(kept[0].box.width, 300) << part_first;
  }
  // Two faces that merely touch (a child's head at an adult's cheek) both stay.
  EXPECT_EQ(keep_real_faces({whole, made_up({350, 300, 120, 150}, 0.05f)}, {}).size(), 2u);
}

TEST(FaceFilter, OfAFaceInsideAFalseLargerBoxTheBetterDrawnOneStays) {
  Face false_big = made_up({0, 0, 400, 500}, 0.18f), real_small = made_up({100, 100, 100, 120}, 0.04f);
  auto kept = keep_real_faces({false_big, real_small}, {});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].box.width, 100);
}

TEST(FaceFilter, MirroredLandmarkIndicesPairLeftWithRightAndKeepTheAxis) {
  for (int i = 0; i < 68; ++i) EXPECT_EQ(mirrored_landmark(mirrored_landmark(i)), i) << i;
  EXPECT_EQ(mirrored_landmark(0), 16);   // jaw ends
  EXPECT_EQ(mirrored_landmark(36), 45);  // outer eye corners
  EXPECT_EQ(mirrored_landmark(39), 42);  // inner eye corners
  EXPECT_EQ(mirrored_landmark(48), 54);  // mouth corners
  EXPECT_EQ(mirrored_landmark(30), 30);  // nose tip
  EXPECT_EQ(mirrored_landmark(57), 57);  // lower lip centre
}

FacePipeline& shared_pipeline() {
  static std::unique_ptr<FacePipeline> p = FacePipeline::open(face_models_dir());
  return *p;
}

class FaceFilterOnPhotos : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
    pipeline().options() = PipelineOptions{};  // the defaults under test
  }
  FacePipeline& pipeline() { return shared_pipeline(); }
};

// Issue 12: the eye region of a portrait was a second face (BlazeFace 0.75); so were a chin, a cheek and a
// patterned suit in others (2-4 faces each before). Each of these portraits has one face.
TEST_F(FaceFilterOnPhotos, PortraitsWhereAnEyeRegionChinOrSuitWasASecondFaceHaveExactlyOneFace) {
  for (const char* photo : {"df00/img11.jpg", "df00/img1.jpg", "df00/img7.jpg", "df12/img39.jpg", "rose_leslie/img2.jpg"}) {
    auto faces = pipeline().analyse(load_image(faces_dir() / "identities" / photo));
    EXPECT_EQ(faces.size(), 1u) << photo;
  }
}

TEST_F(FaceFilterOnPhotos, EveryFaceOfTheGroupPhotosIsStillFound) {
  for (auto [file, n] : std::vector<std::pair<std::string, size_t>>{
           {"two_people.jpg", 2}, {"obama_and_biden.jpg", 3}, {"kit_with_rose.jpg", 2}, {"couple.jpg", 2}, {"obama3.jpg", 1}})
    EXPECT_EQ(pipeline().analyse(load_image(faces_dir() / "groups" / file)).size(), n) << file;
}

TEST_F(FaceFilterOnPhotos, RealFacesDrawTheSameLandmarksOnTheirMirrorImage) {
  for (const char* file : {"two_people.jpg", "kit_with_rose.jpg"})
    for (const Face& f : pipeline().analyse(load_image(faces_dir() / "groups" / file))) {
      EXPECT_LT(f.quality.landmark_flip_error, 0.1f) << file << " " << f.box;
      EXPECT_GT(f.quality.landmark_flip_error, 0.0f) << "computed";
    }
}

}  // namespace
}  // namespace facecrowd
