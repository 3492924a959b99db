// Issue 10 (CPU per recognized photo) and issue 12 (the detection-cost bench): the pass-cost recording
// counts every network pass of an analysis; an analysis embeds only the faces it keeps and runs the
// mirrored landmark pass only where it can decide; a photo's JPEG is decoded once, with the same pixels
// OpenCV's decoder gives, and a damaged one is still refused. Photo tests skip without the prepared
// models and ../shared/data/faces.
#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <opencv2/imgcodecs.hpp>

#include <thread>

#include "app/photo_input.h"
#include "core/error.h"
#include "core/files.h"
#include "face_test_support.h"
#include "vision/face_pipeline.h"
#include "vision/image_loader.h"
#include "vision/jpeg_integrity.h"
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

// The pixels OpenCV's own decoder gives (what decode_image did before the check's pixels were reused).
cv::Mat opencv_decode(const std::string& bytes) {
  return cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8U, const_cast<char*>(bytes.data())), cv::IMREAD_COLOR);
}

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
  // The upright pass alone: the filter's rejects are near misses that the default tilt passes look at
  // (face_rotation_test.cpp counts those).
  pipeline().options().rotation.tilt_degrees = 0;
  PassCosts costs{};
  std::vector<Face> faces;
  {
    PassCostRecording recording(costs);
    faces = pipeline().analyse(photo.bgr);
  }
  pipeline().options().rotation = RotationOptions{};
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

TEST(FacePhotoDecode, AJpegIsDecodedOnceWithTheSamePixelsAsOpenCvsDecoder) {
  REQUIRE_MODELS_AND_FACES();
  // Baseline and progressive JPEGs (obama_and_biden.jpg is progressive), one with an EXIF orientation tag.
  for (const char* name : {"two_people.jpg", "obama_and_biden.jpg", "couple.jpg", "kit_with_rose.jpg"}) {
    std::string bytes = read_text(faces_dir() / "groups" / name);
    PassCosts costs{};
    Photo photo;
    {
      PassCostRecording recording(costs);
      photo = decode_photo(bytes, name);
    }
    EXPECT_EQ(passes(costs, PassKind::kJpegCheck), 1) << name;
    cv::Mat expected = opencv_decode(bytes);  // IMREAD_COLOR applies EXIF orientation as decode_image does
    ASSERT_EQ(photo.bgr.size(), expected.size()) << name;
    EXPECT_EQ(cv::norm(photo.bgr, expected, cv::NORM_INF), 0.0) << name << ": pixels differ from OpenCV's decoder";
  }
}

TEST(FacePhotoDecode, GreyAndCmykJpegsDecodeAsBeforeAndDamagedOnesAreStillRefused) {
  cv::Mat grey(48, 64, CV_8UC1);
  cv::randu(grey, 0, 255);
  std::vector<uchar> buf;
  ASSERT_TRUE(cv::imencode(".jpg", grey, buf));
  std::string grey_jpeg(buf.begin(), buf.end());
  Photo g = decode_photo(grey_jpeg, "grey.jpg");
  ASSERT_EQ(g.bgr.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(g.bgr, decode_image(grey_jpeg, "grey.jpg", {}, cv::Mat()), cv::NORM_INF), 0.0);
  EXPECT_EQ(decode_checked_jpeg(grey_jpeg).bgr.size(), grey.size());

  cv::Mat cmyk(32, 40, CV_8UC4, cv::Scalar(30, 90, 200, 255));
  tjhandle tj = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  ASSERT_EQ(tjCompress2(tj, cmyk.data, 40, 0, 32, TJPF_CMYK, &out, &size, TJSAMP_444, 95, 0), 0);
  std::string cmyk_jpeg(reinterpret_cast<char*>(out), size);
  tjFree(out);
  tjDestroy(tj);
  CheckedJpeg checked = decode_checked_jpeg(cmyk_jpeg);
  EXPECT_EQ(checked.problem, "");
  EXPECT_TRUE(checked.bgr.empty()) << "CMYK is left to OpenCV's decoder";
  Photo c = decode_photo(cmyk_jpeg, "cmyk.jpg");
  EXPECT_EQ(cv::norm(c.bgr, opencv_decode(cmyk_jpeg), cv::NORM_INF), 0.0);

  // Damage inside the entropy-coded data, with the end marker intact: refused, naming the file.
  cv::Mat noise(96, 128, CV_8UC3);
  cv::randu(noise, 0, 255);
  ASSERT_TRUE(cv::imencode(".jpg", noise, buf));
  std::string whole(buf.begin(), buf.end());
  size_t sos = whole.find("\xff\xda");
  ASSERT_NE(sos, std::string::npos);
  std::string damaged = whole.substr(0, sos + (whole.size() - sos) / 2) + "\xff\xd9";
  try {
    decode_photo(damaged, "damaged.jpg");
    ADD_FAILURE() << "a damaged JPEG was decoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("damaged.jpg"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace facecrowd
