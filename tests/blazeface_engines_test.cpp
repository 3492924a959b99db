// Issue 10: BlazeFace's passes run on XNNPACK (vision/blazeface_xnnpack.h) instead of OpenCV DNN. The two
// engines add floats in different orders, so they may differ in the last bits, never in what is found: on
// real photos of several face sizes (the group photos, PASCAL photos, crowd photos) whole-photo detection
// with its tile passes finds the same faces with the same boxes and scores with either engine.
// Skipped without the prepared models and ../shared/data.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/error.h"
#include "face_test_support.h"
#include "vision/blazeface_net.h"
#include "vision/face_detector.h"
#include "vision/image_loader.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

using namespace facecrowd::vision;

// Sets FACECROWD_BLAZEFACE_ENGINE for the scope, then puts back what was there.
class EngineVariable {
 public:
  explicit EngineVariable(const char* value) {
    if (const char* v = std::getenv(kName)) saved_ = v, had_ = true;
    if (value) setenv(kName, value, 1); else unsetenv(kName);
  }
  ~EngineVariable() {
    if (had_) setenv(kName, saved_.c_str(), 1); else unsetenv(kName);
  }

 private:
  static constexpr const char* kName = "FACECROWD_BLAZEFACE_ENGINE";
  std::string saved_;
  bool had_ = false;
};

std::vector<fs::path> photos_of_several_face_sizes() {
  std::vector<fs::path> photos;
  for (const char* g : {"two_people.jpg", "couple.jpg", "kit_with_rose.jpg", "obama3.jpg", "obama_and_biden.jpg"}) {
    photos.push_back(faces_dir() / "groups" / g);
  }
  for (const auto& e : fs::directory_iterator(faces_dir() / "detection" / "dlib_training")) {
    if (e.path().extension() == ".jpg") photos.push_back(e.path());
  }
  const fs::path crowd = shared_data_dir() / "crowd";
  for (const fs::path& p : {crowd / "shanghaitech/part_B/train/images/IMG_1.jpg",
                            crowd / "shanghaitech/part_B/train/images/IMG_10.jpg",
                            crowd / "street_india/train/images/IMG_1.jpg",
                            crowd / "street_india/train/images/IMG_10.jpg"}) {
    if (fs::exists(p)) photos.push_back(p);
  }
  return photos;
}

class BlazeFaceEngines : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(BlazeFaceEngines, WholePhotoDetectionFindsTheSameFacesWithEitherEngine) {
  auto models = open_model_files(face_models_dir());
  FaceDetector on_opencv(models), on_xnnpack(models);
  size_t faces = 0, photos = 0;
  for (const fs::path& photo : photos_of_several_face_sizes()) {
    cv::Mat bgr = load_image(photo);
    std::vector<FaceDetection> reference, found;
    {
      EngineVariable engine("opencv");  // read when the detector loads its net, on first use
      reference = on_opencv.detect(bgr);
    }
    {
      EngineVariable engine("xnnpack");
      found = on_xnnpack.detect(bgr);
    }
    ++photos;
    faces += reference.size();
    ASSERT_EQ(found.size(), reference.size()) << photo;
    for (const FaceDetection& r : reference) {
      const FaceDetection* best = nullptr;
      float best_iou = 0;
      for (const FaceDetection& f : found) {
        float iou = intersection_over_union(r.box, f.box);
        if (iou > best_iou) best_iou = iou, best = &f;
      }
      ASSERT_NE(best, nullptr) << photo << " " << r.box;
      EXPECT_NEAR(best->box.x, r.box.x, 0.05) << photo;
      EXPECT_NEAR(best->box.y, r.box.y, 0.05) << photo;
      EXPECT_NEAR(best->box.width, r.box.width, 0.05) << photo;
      EXPECT_NEAR(best->box.height, r.box.height, 0.05) << photo;
      EXPECT_NEAR(best->score, r.score, 1e-4) << photo;
    }
  }
  EXPECT_GE(photos, 9u);
  EXPECT_GE(faces, 20u) << "the photos should hold faces to compare";
}

TEST_F(BlazeFaceEngines, TheEngineIsXnnpackUnlessOpenCvIsAskedFor) {
  auto models = open_model_files(face_models_dir());
  {
    EngineVariable unset(nullptr);
    EXPECT_EQ(BlazeFaceNet(models).engine(), BlazeFaceEngine::kXnnpack);
  }
  {
    EngineVariable engine("opencv");
    EXPECT_EQ(BlazeFaceNet(models).engine(), BlazeFaceEngine::kOpenCv);
  }
}

TEST_F(BlazeFaceEngines, AnUnknownEngineIsAUsageErrorNamingTheVariableAndTheChoices) {
  EngineVariable engine("gpu");
  try {
    BlazeFaceNet net(open_model_files(face_models_dir()));
    FAIL() << "an unknown engine was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("FACECROWD_BLAZEFACE_ENGINE='gpu'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("xnnpack"), std::string::npos) << e.what();
  }
}

// Another graph than MediaPipe's back-256 BlazeFace is refused with an error naming the file, not run.
TEST_F(BlazeFaceEngines, AGraphOfAnotherShapeIsRefusedNamingTheModelFile) {
  const fs::path other = face_models_dir() / "face_landmark_68.onnx";
  cv::dnn::Net net = cv::dnn::readNetFromONNX(other.string());
  try {
    BlazeFaceXnnpack engine(net, other.string());
    FAIL() << "the landmark net was taken for BlazeFace";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInternal);
    EXPECT_NE(std::string(e.what()).find(other.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace facecrowd
