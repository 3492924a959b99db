// vision/: image loading (bad inputs, EXIF, grey, alpha, CMYK, megapixel limit), model files, and the face
// pipeline on the shared photos (data/faces). Tests that need the prepared models skip with a message when
// FACECROWD_SOURCE_DIR/models is absent (tools/prepare_models.sh builds it).
#include <gtest/gtest.h>
#include <turbojpeg.h>
#include <zlib.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <fstream>
#include <map>

#include "devtools/eval_detect.h"
#include "core/error.h"
#include "core/files.h"
#include "test_support.h"
#include "vision/face_pipeline.h"
#include "vision/image_header.h"
#include "vision/image_loader.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

using namespace facecrowd::vision;

fs::path models_dir() { return fs::path(FACECROWD_SOURCE_DIR) / "models"; }
bool models_present() { return fs::exists(models_dir() / "SHA256SUMS"); }

#define REQUIRE_MODELS()                                                                                      \
  if (!models_present())                                                                                     \
  GTEST_SKIP() << "face models absent in " << models_dir() << "; build them with tools/prepare_models.sh"
#define REQUIRE_FACES()                                                                                       \
  if (shared_data_dir().empty() || !fs::is_directory(shared_data_dir() / "faces"))                           \
  GTEST_SKIP() << "shared photos absent (../shared/data/faces)"

// One pipeline for the whole test binary: loading and verifying 48 MB of models takes a second.
FacePipeline& pipeline() {
  static std::unique_ptr<FacePipeline> p = FacePipeline::open(models_dir());
  return *p;
}

fs::path faces_dir() { return shared_data_dir() / "faces"; }

std::string encode(const cv::Mat& m, const std::string& ext, std::vector<int> params = {}) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf, params));
  return std::string(buf.begin(), buf.end());
}

// Expects `f` to throw facecrowd::Error with `code` and a message containing `must_contain`.
template <typename F>
void expect_error(F f, ExitCode code, const std::string& must_contain) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << must_contain << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(must_contain), std::string::npos) << e.what();
  }
}

// The largest face by box area, or nullptr.
const Face* largest(const std::vector<Face>& faces) {
  auto it = std::max_element(faces.begin(), faces.end(),
                             [](const Face& a, const Face& b) { return a.box.area() < b.box.area(); });
  return it == faces.end() ? nullptr : &*it;
}

// As check_models.py's end-to-end check: whole image first, tiles only when that finds nothing.
std::vector<Face> portrait_faces(const cv::Mat& img) {
  DetectorOptions whole;
  whole.min_face_px = 0;
  auto faces = pipeline().analyse(img, whole);
  if (faces.empty()) faces = pipeline().analyse(img);
  return faces;
}

// A JPEG with an EXIF APP1 segment carrying only the orientation tag, inserted after SOI.
std::string with_exif_orientation(const std::string& jpeg, int orientation) {
  std::string tiff = std::string("MM\0*\0\0\0\x08", 8) + std::string("\0\x01", 2) +   // IFD0 at 8, 1 entry
                     std::string("\x01\x12\0\x03\0\0\0\x01", 8) +                      // 0x0112 SHORT x1
                     std::string(1, '\0') + std::string(1, char(orientation)) + std::string(2, '\0') +
                     std::string(4, '\0');                                             // no next IFD
  std::string body = std::string("Exif\0\0", 6) + tiff;
  size_t len = body.size() + 2;
  std::string app1 = std::string("\xFF\xE1", 2) + char(len >> 8) + char(len & 0xFF) + body;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size()) return 1e9;
  cv::Mat d;
  cv::absdiff(a, b, d);
  cv::Scalar s = cv::mean(d);
  return (s[0] + s[1] + s[2]) / 3;
}

// ---------------------------------------------------------------------------------------------------------
// Headers and the loader: no models needed.

TEST(VisionImageHeader, ReadsDimensionsOfEveryFormatWithoutDecoding) {
  cv::Mat img(37, 91, CV_8UC3, cv::Scalar(10, 200, 30));
  for (const char* ext : {".jpg", ".png", ".bmp", ".webp", ".tiff", ".ppm"}) {
    auto h = read_image_header(encode(img, ext));
    ASSERT_TRUE(h.has_value()) << ext;
    EXPECT_EQ(h->width, 91) << ext;
    EXPECT_EQ(h->height, 37) << ext;
    EXPECT_EQ(h->orientation, 1) << ext;
  }
  EXPECT_FALSE(read_image_header("GIF89a....").has_value());
  EXPECT_FALSE(read_image_header(std::string("\xFF\xD8\xFF", 3)).has_value());
  auto jpeg = encode(img, ".jpg");
  EXPECT_TRUE(read_image_header(jpeg)->jpeg_complete);
  EXPECT_FALSE(read_image_header(jpeg.substr(0, jpeg.size() * 2 / 3))->jpeg_complete);
  EXPECT_EQ(read_image_header(with_exif_orientation(jpeg, 6))->orientation, 6);
}

TEST(VisionImageLoader, BadInputsAreRefusedWithTheFileNamed) {
  TempDir tmp;
  auto write = [&](const std::string& name, const std::string& bytes) {
    fs::path p = tmp.path() / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  };
  fs::path empty = write("empty.jpg", "");
  expect_error([&] { load_image(empty); }, ExitCode::kBadInput, empty.string());
  expect_error([&] { load_image(empty); }, ExitCode::kBadInput, "empty file");

  fs::path text = write("notes.jpg", "these are not the pixels you are looking for\n");
  expect_error([&] { load_image(text); }, ExitCode::kBadInput, text.string());
  expect_error([&] { load_image(text); }, ExitCode::kBadInput, "not a supported image");

  cv::Mat img(240, 320, CV_8UC3);
  cv::randu(img, 0, 255);
  std::string jpeg = encode(img, ".jpg");
  fs::path truncated = write("truncated.jpg", jpeg.substr(0, jpeg.size() / 2));
  expect_error([&] { load_image(truncated); }, ExitCode::kBadInput, truncated.string());
  expect_error([&] { load_image(truncated); }, ExitCode::kBadInput, "truncated JPEG");

  std::string png = encode(img, ".png");
  fs::path truncated_png = write("truncated.png", png.substr(0, png.size() / 2));
  expect_error([&] { load_image(truncated_png); }, ExitCode::kBadInput, truncated_png.string());

  fs::path missing = tmp.path() / "missing.jpg";
  expect_error([&] { load_image(missing); }, ExitCode::kNotFound, missing.string());
}

TEST(VisionImageLoader, RefusesHugeImageFromItsHeaderBeforeDecoding) {
  TempDir tmp;
  fs::path p = tmp.path() / "huge.png";
  std::ofstream(p, std::ios::binary) << huge_png(30000, 30000);
  ASSERT_LT(fs::file_size(p), 2u << 20);  // ~110 KB on disk, 900 megapixels decoded
  auto h = read_image_header(read_file(p));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->width, 30000);
  expect_error([&] { load_image(p); }, ExitCode::kBadInput, p.string());
  expect_error([&] { load_image(p, ImageLimits{50}); }, ExitCode::kBadInput, "900.0 megapixels is above the limit of 50.0");
  // The limit is the caller's: a small image passes a small limit, and fails a tinier one.
  cv::Mat small(1000, 1000, CV_8UC3, cv::Scalar::all(128));
  EXPECT_EQ(decode_image(encode(small, ".png"), "small.png", ImageLimits{1.0}).size(), small.size());
  expect_error([&] { decode_image(encode(small, ".png"), "small.png", ImageLimits{0.5}); }, ExitCode::kBadInput,
               "small.png");
}

TEST(VisionImageLoader, ExifOrientationIsAppliedForAllEightValues) {
  // An asymmetric image: a wide gradient with a bright block at the top-left.
  cv::Mat upright(60, 100, CV_8UC3);
  for (int y = 0; y < upright.rows; ++y)
    for (int x = 0; x < upright.cols; ++x) upright.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 2), uchar(y * 4), 90);
  upright(cv::Rect(0, 0, 20, 10)).setTo(cv::Scalar(255, 255, 255));
  const int inverse[9] = {0, 1, 2, 3, 4, 5, 8, 7, 6};  // stored = inverse(display)
  for (int o = 1; o <= 8; ++o) {
    cv::Mat stored = upright.clone();
    apply_exif_orientation(stored, inverse[o]);
    std::string jpeg = with_exif_orientation(encode(stored, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 100}), o);
    cv::Mat shown = decode_image(jpeg, "o" + std::to_string(o) + ".jpg");
    EXPECT_LT(mean_abs_diff(shown, upright), 2.0) << "orientation " << o;
  }
  // Orientation 6 is "rotate 90 degrees clockwise to display": the stored top-left lands top-right.
  cv::Mat stored(20, 40, CV_8UC3, cv::Scalar::all(0));
  stored(cv::Rect(0, 0, 8, 8)).setTo(cv::Scalar::all(255));
  cv::Mat shown =
      decode_image(with_exif_orientation(encode(stored, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 100}), 6), "six.jpg");
  ASSERT_EQ(shown.size(), cv::Size(20, 40));
  EXPECT_GT(shown.at<cv::Vec3b>(2, 17)[0], 200);
  EXPECT_LT(shown.at<cv::Vec3b>(2, 2)[0], 50);
}

TEST(VisionImageLoader, GreyAlphaSixteenBitAndCmykBecomeBgr) {
  cv::Mat bgr(64, 96, CV_8UC3, cv::Scalar(40, 120, 200));
  // Grey PNG and JPEG -> three equal channels.
  cv::Mat grey(64, 96, CV_8UC1, cv::Scalar(77));
  for (const char* ext : {".png", ".jpg"}) {
    cv::Mat m = decode_image(encode(grey, ext), std::string("grey") + ext);
    ASSERT_EQ(m.type(), CV_8UC3) << ext;
    EXPECT_NEAR(cv::mean(m)[0], 77, 1.0);
    EXPECT_NEAR(cv::mean(m)[2], 77, 1.0);
  }
  // 16-bit PNG -> 8-bit.
  cv::Mat deep(8, 8, CV_16UC3, cv::Scalar(257 * 10, 257 * 20, 257 * 30));
  cv::Mat m16 = decode_image(encode(deep, ".png"), "deep.png");
  EXPECT_EQ(m16.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 20, 30));
  // RGBA PNG: opaque pixels keep their colour; transparent ones become white, whatever colour they hide.
  cv::Mat bgra(64, 96, CV_8UC4, cv::Scalar(40, 120, 200, 255));
  bgra(cv::Rect(0, 0, 10, 64)).setTo(cv::Scalar(0, 0, 0, 0));
  bgra(cv::Rect(10, 0, 10, 64)).setTo(cv::Scalar(0, 0, 0, 128));
  cv::Mat m4 = decode_image(encode(bgra, ".png"), "alpha.png");
  ASSERT_EQ(m4.type(), CV_8UC3);
  EXPECT_EQ(m4.at<cv::Vec3b>(5, 5), cv::Vec3b(255, 255, 255));
  EXPECT_NEAR(m4.at<cv::Vec3b>(5, 15)[0], 127, 2);
  EXPECT_EQ(m4.at<cv::Vec3b>(5, 50), cv::Vec3b(40, 120, 200));
  // CMYK JPEG (Adobe, as written by libjpeg-turbo): converted to the right colours.
  cv::Mat cmyk(64, 96, CV_8UC4);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 96; ++x) {
      cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
      // Adobe CMYK as stored in JPEG files is inverted: 255 means no ink.
      cmyk.at<cv::Vec4b>(y, x) = cv::Vec4b(p[2], p[1], p[0], 255);
    }
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg_buf = nullptr;
  unsigned long jpeg_size = 0;
  ASSERT_EQ(tjCompress2(tj, cmyk.data, 96, 0, 64, TJPF_CMYK, &jpeg_buf, &jpeg_size, TJSAMP_444, 95, 0), 0)
      << tjGetErrorStr2(tj);
  std::string cmyk_jpeg(reinterpret_cast<char*>(jpeg_buf), jpeg_size);
  tjFree(jpeg_buf);
  tjDestroy(tj);
  auto header = read_image_header(cmyk_jpeg);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->components, 4);
  cv::Mat from_cmyk = decode_image(cmyk_jpeg, "cmyk.jpg");
  ASSERT_EQ(from_cmyk.type(), CV_8UC3);
  EXPECT_LT(mean_abs_diff(from_cmyk, bgr), 6.0) << cv::mean(from_cmyk);
}

// ---------------------------------------------------------------------------------------------------------
// Model files.

TEST(VisionModelFiles, MissingOrCorruptModelsSayHowToPrepareThem) {
  TempDir tmp;
  fs::path none = tmp.path() / "no-models";
  expect_error([&] { open_model_files(none); }, ExitCode::kNotFound, "tools/prepare_models.sh");
  expect_error([&] { open_model_files(none); }, ExitCode::kNotFound, none.string());
  fs::create_directories(none);
  expect_error([&] { open_model_files(none); }, ExitCode::kNotFound, "SHA256SUMS");
  if (!models_present()) GTEST_SKIP() << "face models absent in " << models_dir() << "; tools/prepare_models.sh";

  // A copy whose big files are links to the real ones and whose anchors file is altered.
  fs::path copy = tmp.path() / "models";
  fs::create_directories(copy);
  for (const char* f : {"SHA256SUMS", "MODELS.json", "ssd_anchors.json"}) fs::copy_file(models_dir() / f, copy / f);
  for (const char* f : {"ssd_mobilenetv1.onnx", "blazeface_back_256.onnx", "face_landmark_68.onnx"}) {
    fs::create_symlink(models_dir() / f, copy / f);
  }
  expect_error([&] { open_model_files(copy); }, ExitCode::kNotFound, (copy / "face_recognition.onnx").string());
  fs::create_symlink(models_dir() / "face_recognition.onnx", copy / "face_recognition.onnx");
  EXPECT_NO_THROW(open_model_files(copy));
  std::ofstream(copy / "ssd_anchors.json", std::ios::app) << " ";
  expect_error([&] { open_model_files(copy); }, ExitCode::kBadInput, (copy / "ssd_anchors.json").string());
  expect_error([&] { open_model_files(copy); }, ExitCode::kBadInput, "tools/prepare_models.sh --force");
}

TEST(VisionModelFiles, FindsTheDirectoryFromFlagThenEnvironment) {
  EXPECT_EQ(find_models_dir(fs::path("/x/models")), fs::path("/x/models"));
  setenv("FACECROWD_MODELS", "/y/models", 1);
  EXPECT_EQ(find_models_dir(), fs::path("/y/models"));
  unsetenv("FACECROWD_MODELS");
}

// ---------------------------------------------------------------------------------------------------------
// The pipeline on real photos.

// Both detectors, as recognition runs them (tiles, landmark check, box refined from the landmarks), on
// dlib's hand-boxed PASCAL photos: the training set in ../shared/data and the testing set Debian's
// libdlib19.1 ships. Measured: the SSD matches 18/18 and 25/25 at IoU 0.5; BlazeFace 17/18 and 25/25 (its
// 18th box overlaps by 0.45-0.5: dlib's boxes are square, ours brow-to-chin) and all at IoU 0.45.
TEST(VisionDetector, BothDetectorsFindTheBoxedPascalFaces) {
  REQUIRE_MODELS();
  REQUIRE_FACES();
  std::vector<fs::path> sets{faces_dir() / "detection" / "dlib_training" / "training.xml"};
  if (fs::path testing = "/usr/share/doc/libdlib19.1/examples/faces/testing.xml"; fs::exists(testing)) {
    sets.push_back(testing);
  }
  for (DetectorModel model : {DetectorModel::kBlazeFace, DetectorModel::kSsd}) {
    for (const fs::path& xml : sets) {
      facecrowd::DetectEvalOptions options;
      options.detector.model = model;
      options.iou = 0.45f;
      auto loose = facecrowd::evaluate_detection(pipeline(), xml, "", options);
      EXPECT_EQ(loose.true_positives, loose.boxes) << to_string(model) << " " << xml;
      EXPECT_EQ(loose.false_positives, 0u) << to_string(model) << " " << xml;
      options.iou = 0.5f;
      auto strict = facecrowd::evaluate_detection(pipeline(), xml, "", options);
      EXPECT_GE(strict.true_positives + 1, strict.boxes) << to_string(model) << " " << xml;
    }
  }
}

// dlib's johns/ (Debian libdlib19.1: 55 aligned 150x150 chips of 5 people) are cropped tight around the
// face. Measured: BlazeFace finds a face in all 55, the SSD in 16 (it wants context around a face).
TEST(VisionDetector, BlazeFaceFindsTightlyCroppedFaces) {
  REQUIRE_MODELS();
  fs::path johns = "/usr/share/doc/libdlib19.1/examples/johns";
  if (!fs::is_directory(johns)) GTEST_SKIP() << johns << " absent (Debian package libdlib19.1)";
  int chips = 0, found = 0;
  for (const auto& person : fs::directory_iterator(johns)) {
    for (const auto& chip : fs::directory_iterator(person.path())) {
      ++chips;
      found += pipeline().analyse(load_image(chip.path())).empty() ? 0 : 1;
    }
  }
  EXPECT_EQ(chips, 55);
  EXPECT_GE(found, 54);
}

TEST(VisionDetector, GroupPhotosWithTwoPeopleGiveTwoFaces) {
  REQUIRE_MODELS();
  REQUIRE_FACES();
  for (const char* name : {"two_people.jpg", "kit_with_rose.jpg"}) {
    cv::Mat img = load_image(faces_dir() / "groups" / name);
    auto faces = pipeline().analyse(img);
    EXPECT_EQ(faces.size(), 2u) << name;
    for (const Face& f : faces) EXPECT_GT(f.quality.landmark_confidence, 0.0f) << name;
  }
}

TEST(VisionDetector, ImageWithoutFaceGivesNoFace) {
  REQUIRE_MODELS();
  cv::Mat img(600, 800, CV_8UC3);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x / 4), uchar(y / 3), 128);
  cv::rectangle(img, cv::Rect(100, 100, 200, 120), cv::Scalar(0, 0, 255), cv::FILLED);
  cv::circle(img, cv::Point(600, 400), 80, cv::Scalar(20, 200, 20), cv::FILLED);
  EXPECT_TRUE(pipeline().analyse(img).empty());
}

TEST(VisionPipeline, SamePersonIsCloserThanDifferentPeople) {
  REQUIRE_MODELS();
  REQUIRE_FACES();
  std::vector<std::string> labels, missed;
  std::vector<Embedding> embeddings;
  for (const auto& person : fs::directory_iterator(faces_dir() / "identities")) {
    for (const auto& photo : fs::directory_iterator(person.path())) {
      auto faces = portrait_faces(load_image(photo.path()));
      const Face* f = largest(faces);
      if (!f) {
        missed.push_back(photo.path().string());
        continue;
      }
      EXPECT_NEAR(cv::norm(cv::Mat(1, int(f->embedding.unit.size()), CV_32F, const_cast<float*>(f->embedding.unit.data()))), 1.0,
                  1e-5);
      EXPECT_EQ(f->chip.size(), cv::Size(150, 150));
      EXPECT_GT(f->quality.landmark_confidence, 0.0f) << photo.path();
      embeddings.push_back(f->embedding);
      labels.push_back(person.path().filename().string());
    }
  }
  EXPECT_TRUE(missed.empty()) << "no face in " << ::testing::PrintToString(missed);
  ASSERT_GE(embeddings.size(), 30u);
  float same_max = 0, diff_min = 10, raw_same_max = 0, raw_diff_min = 10;
  for (size_t i = 0; i < embeddings.size(); ++i)
    for (size_t j = i + 1; j < embeddings.size(); ++j) {
      float d = embedding_distance(embeddings[i], embeddings[j]), r = raw_distance(embeddings[i], embeddings[j]);
      if (labels[i] == labels[j]) {
        same_max = std::max(same_max, d), raw_same_max = std::max(raw_same_max, r);
      } else {
        diff_min = std::min(diff_min, d), raw_diff_min = std::min(raw_diff_min, r);
      }
    }
  std::cout << "identities: " << embeddings.size() << " faces; unit embeddings: same max " << same_max
            << ", different min " << diff_min << "; raw (dlib scale): same max " << raw_same_max
            << ", different min " << raw_diff_min << "\n";
  EXPECT_LT(same_max, diff_min);
  EXPECT_LT(raw_same_max, 0.6f);   // check_models.py: 0.508
  EXPECT_GT(raw_diff_min, 0.6f);   // check_models.py: 0.636
}

TEST(VisionPipeline, ExifRotatedCopyGivesTheSameEmbedding) {
  REQUIRE_MODELS();
  REQUIRE_FACES();
  cv::Mat upright = load_image(faces_dir() / "identities" / "obama" / "obama.jpg");
  std::string upright_jpeg = encode(upright, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
  cv::Mat stored;
  cv::rotate(upright, stored, cv::ROTATE_90_COUNTERCLOCKWISE);  // what a camera held sideways writes
  std::string rotated_jpeg = with_exif_orientation(encode(stored, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95}), 6);
  const Face* a = nullptr;
  const Face* b = nullptr;
  auto fa = portrait_faces(decode_image(upright_jpeg, "upright.jpg"));
  auto fb = portrait_faces(decode_image(rotated_jpeg, "rotated.jpg"));
  a = largest(fa), b = largest(fb);
  ASSERT_TRUE(a && b);
  EXPECT_LT(embedding_distance(a->embedding, b->embedding), 0.05f);
  // Without the orientation tag the upright pass finds no face in the sideways pixels (issue 12: it found
  // 4 false ones, and the turn passes never ran); the turn passes find the same face.
  cv::Mat sideways = decode_image(encode(stored, ".jpg"), "sideways.jpg");
  EXPECT_TRUE(pipeline().analyse_upright(sideways, pipeline().options().detector).empty());
  auto fc = pipeline().analyse(sideways);
  ASSERT_EQ(fc.size(), 1u);
  EXPECT_LT(embedding_distance(a->embedding, fc[0].embedding), 0.1f);
}

TEST(VisionPipeline, GreyAndAlphaPhotosStillMatchTheirPerson) {
  REQUIRE_MODELS();
  REQUIRE_FACES();
  cv::Mat colour = load_image(faces_dir() / "identities" / "biden" / "biden.jpg");
  cv::Mat grey;
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  cv::Mat bgra;
  cv::cvtColor(colour, bgra, cv::COLOR_BGR2BGRA);
  bgra(cv::Rect(0, 0, bgra.cols, bgra.rows / 10)).setTo(cv::Scalar(0, 0, 0, 0));  // transparent top strip
  auto f0 = portrait_faces(colour);
  auto f1 = portrait_faces(decode_image(encode(grey, ".jpg"), "grey.jpg"));
  auto f2 = portrait_faces(decode_image(encode(bgra, ".png"), "alpha.png"));
  auto f3 = portrait_faces(load_image(faces_dir() / "identities" / "biden" / "biden2.jpg"));
  ASSERT_TRUE(largest(f0) && largest(f1) && largest(f2) && largest(f3));
  // Grey loses colour, which the recogniser uses a little; it must still be the same person.
  EXPECT_LT(raw_distance(largest(f1)->embedding, largest(f0)->embedding), 0.4f);
  EXPECT_LT(raw_distance(largest(f2)->embedding, largest(f0)->embedding), 0.2f);
  EXPECT_LT(raw_distance(largest(f1)->embedding, largest(f3)->embedding), 0.6f);
}

TEST(VisionQuality, BlurAndSmallSizeLowerTheScore) {
  REQUIRE_MODELS();
  REQUIRE_FACES();
  cv::Mat sharp = load_image(faces_dir() / "identities" / "obama" / "obama.jpg");
  auto fs_ = portrait_faces(sharp);
  const Face* s = largest(fs_);
  ASSERT_TRUE(s);
  EXPECT_GT(s->quality.score, 0.5f);
  EXPECT_TRUE(s->quality.landmarks_plausible);
  cv::Mat blurred;
  cv::GaussianBlur(sharp, blurred, cv::Size(0, 0), sharp.cols / 250.0);
  auto fb = portrait_faces(blurred);
  const Face* b = largest(fb);
  ASSERT_TRUE(b);
  EXPECT_LT(b->quality.blur_variance, s->quality.blur_variance / 3);
  EXPECT_LT(b->quality.score, s->quality.score);
  cv::Mat tiny;
  double k = 40.0 / s->box.width;  // the face about 40 px wide
  cv::resize(sharp, tiny, cv::Size(), k, k, cv::INTER_AREA);
  auto ft = pipeline().analyse(tiny);
  const Face* t = largest(ft);
  ASSERT_TRUE(t);
  EXPECT_LT(t->quality.interocular_px, 20.0f);
  EXPECT_LT(t->quality.size_score, 1.0f);
}

// The box refined from the landmarks makes the crop, and so the embedding, nearly independent of the
// detector. Measured on these group photos (one whole-image pass each): box IoU 0.80-0.96 and embedding
// distance 0.04-0.08 between the two detectors' faces (same-person photos are 0.04-0.30 apart; match <= 0.39).
TEST(VisionPipeline, BothDetectorsGiveTheSameFacesAndEmbeddings) {
  REQUIRE_MODELS();
  REQUIRE_FACES();
  for (const char* name : {"two_people.jpg", "kit_with_rose.jpg", "obama3.jpg", "couple.jpg"}) {
    cv::Mat img = load_image(faces_dir() / "groups" / name);
    DetectorOptions blazeface, ssd;
    blazeface.min_face_px = ssd.min_face_px = 0;
    ssd.model = DetectorModel::kSsd;
    auto a = pipeline().analyse(img, blazeface);
    auto b = pipeline().analyse(img, ssd);
    ASSERT_EQ(a.size(), b.size()) << name;
    for (const Face& fa : a) {
      const Face* twin = nullptr;
      float best = 0;
      for (const Face& fb : b) {
        if (float v = intersection_over_union(fa.box, fb.box); v > best) best = v, twin = &fb;
      }
      ASSERT_NE(twin, nullptr) << name;
      EXPECT_GE(best, 0.7f) << name;
      EXPECT_LE(embedding_distance(fa.embedding, twin->embedding), 0.12f) << name;
    }
  }
}

}  // namespace
}  // namespace facecrowd
