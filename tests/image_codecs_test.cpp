// The image codecs module (vision/image_codecs.h): commands that touch no pixels do not load it or OpenCV's
// imgcodecs; commands that do load it from beside the binary and decode and encode exactly as imgcodecs
// does; a missing or foreign module is refused by name, with the remedy; serve loads it at start.
// The tests link imgcodecs themselves (tests/CMakeLists.txt), to compare the module with OpenCV called directly.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <atomic>
#include <fstream>
#include <thread>
#include <iterator>

#include "core/error.h"
#include "face_test_support.h"
#include "server_test_support.h"
#include "test_support.h"
#include "vision/image_codecs.h"

namespace facecrowd {
namespace {

const fs::path kModuleBesideBinary = fs::path(FACECROWD_BINARY).parent_path() / vision::kImageCodecsModuleName;

// The shared objects the dynamic loader loaded for one run of the binary (LD_DEBUG=files lists each,
// dlopen()ed ones included).
struct LoadedFiles {
  CommandResult run;
  bool mentions(const std::string& part) const { return run.err.find(part) != std::string::npos; }
};
LoadedFiles loaded_by(const std::string& args, const std::string& env) {
  return {run_facecrowd(args, "LD_DEBUG=files " + env)};
}

TEST(ImageCodecsLoading, CommandsThatTouchNoPixelsLoadNeitherTheCodecsModuleNorImgcodecs) {
  TempDir tmp;
  std::string env = "FACECROWD_DATA=" + q(tmp.path() / "data") + " FACECROWD_BACKUP_DIR=" + q(tmp.path() / "b");
  ASSERT_EQ(run_shell("(printf 'a-long-password-1\\n' | " + env + " " + FACECROWD_BINARY +
                      " users add ann --role admin --password-stdin)").exit_code, 0);
  for (const char* args : {"--version", "backup", "verify latest", "stats"}) {
    auto r = loaded_by(args, env);
    ASSERT_EQ(r.run.exit_code, 0) << args << "\n" << r.run.out;
    // The listing is real: the libraries the binary does need are in it.
    ASSERT_TRUE(r.mentions("libopencv_core.so")) << args << ": LD_DEBUG=files listed nothing";
    EXPECT_FALSE(r.mentions("libopencv_imgcodecs")) << args << " loaded OpenCV's imgcodecs";
    EXPECT_FALSE(r.mentions(vision::kImageCodecsModuleName)) << args << " loaded the image codecs module";
    EXPECT_FALSE(r.mentions("libgdal")) << args << " loaded GDAL (imgcodecs' dependency)";
  }
}

TEST(ImageCodecsLoading, ACommandThatDecodesAPhotoLoadsTheModuleFromBesideTheBinary) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  std::string env = "FACECROWD_DATA=" + q(tmp.path() / "data") + " FACECROWD_MODELS=" + q(face_models_dir());
  auto r = loaded_by("recognize --session s1 " + group("two_people.jpg"), env);
  ASSERT_EQ(r.run.exit_code, 0) << r.run.out;
  EXPECT_NE(r.run.out.find("2 unknown"), std::string::npos) << r.run.out;
  EXPECT_TRUE(r.mentions("file=" + kModuleBesideBinary.string() + " [0];  dynamically loaded by")) << "not dlopen()ed from "
                                                                                                 << kModuleBesideBinary;
  EXPECT_TRUE(r.mentions("libopencv_imgcodecs.so")) << "the module brings imgcodecs";
}

TEST(ImageCodecsLoading, ModelsCheckRoundTripsAnImageThroughTheModuleAndNamesIt) {
  if (!fs::exists(face_models_dir() / "SHA256SUMS")) GTEST_SKIP() << "face models not prepared (tools/prepare_models.sh)";
  auto r = run_facecrowd("--models " + q(face_models_dir()) + " models check --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["imageCodecsModule"], kModuleBesideBinary.string()) << r.out;
}

TEST(ImageCodecsLoading, AMissingModuleIsNotFoundNamingEveryFileLookedForAndHowToInstallIt) {
  TempDir tmp;
  std::vector<fs::path> candidates{tmp.path() / "bin" / vision::kImageCodecsModuleName,
                                   tmp.path() / "build" / vision::kImageCodecsModuleName};
  try {
    vision::open_image_codecs_module(candidates);
    FAIL() << "a module that is not there was loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kNotFound);
    std::string m = e.what();
    EXPECT_NE(m.find("'" + candidates[0].string() + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("'" + candidates[1].string() + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("beside"), std::string::npos) << m;
    EXPECT_NE(m.find("scripts/build.sh"), std::string::npos) << m;
  }
}

TEST(ImageCodecsLoading, AFileThatIsNotAFacecrowdModuleIsRefusedByNameAndNotSearchedPast) {
  TempDir tmp;
  fs::path garbage = tmp.path() / "garbage" / vision::kImageCodecsModuleName;
  fs::create_directories(garbage.parent_path());
  write_text(garbage, "not an ELF file");
  fs::path library = tmp.path() / "library" / vision::kImageCodecsModuleName;  // a real shared library, not ours
  fs::create_directories(library.parent_path());
  fs::copy_file("/lib/x86_64-linux-gnu/libz.so.1", library);
  struct Case {
    fs::path file;
    std::string reason;
  };
  for (const auto& c : {Case{garbage, "cannot be loaded"}, Case{library, "no function facecrowd_imgcodecs_abi_version"}}) {
    try {
      // The real module comes second: a broken first file is reported, not silently skipped.
      vision::open_image_codecs_module({c.file, kModuleBesideBinary});
      ADD_FAILURE() << c.file << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kNotFound);
      std::string m = e.what();
      EXPECT_NE(m.find("'" + c.file.string() + "'"), std::string::npos) << m;
      EXPECT_NE(m.find(c.reason), std::string::npos) << m;
    }
  }
  EXPECT_EQ(vision::open_image_codecs_module({tmp.path() / "none.so", kModuleBesideBinary}), kModuleBesideBinary);
}

// A hard link to the binary (a copy when links are refused) in `dir`: an installed binary, outside the build.
fs::path install_binary(const fs::path& dir) {
  fs::create_directories(dir);
  std::error_code ec;
  fs::create_hard_link(FACECROWD_BINARY, dir / "facecrowd", ec);
  if (ec) fs::copy_file(FACECROWD_BINARY, dir / "facecrowd");
  return dir / "facecrowd";
}

TEST(ImageCodecsLoading, ABinaryInstalledWithoutItsModuleStillBacksUpButRefusesPhotosNamingTheFileBesideIt) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  TempDir tmp;
  fs::path bin = install_binary(tmp.path() / "opt");
  std::string env = "FACECROWD_DATA=" + q(tmp.path() / "data") + " FACECROWD_BACKUP_DIR=" + q(tmp.path() / "b") +
                    " FACECROWD_MODELS=" + q(face_models_dir());
  auto run = [&](const fs::path& binary, const std::string& args) { return run_shell(env + " " + q(binary) + " " + args); };
  ASSERT_EQ(run_shell("(printf 'a-long-password-1\\n' | " + env + " " + q(bin) +
                      " users add ann --role admin --password-stdin)").exit_code, 0);
  EXPECT_EQ(run(bin, "backup").exit_code, 0) << "a command without pixels needs no module";

  auto refused = run(bin, "recognize --session s1 " + group("two_people.jpg"));
  EXPECT_EQ(refused.exit_code, int(ExitCode::kNotFound)) << refused.err;
  fs::path beside = bin.parent_path() / vision::kImageCodecsModuleName;
  EXPECT_NE(refused.err.find("'" + beside.string() + "'"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find(kModuleBesideBinary.string()), std::string::npos)
      << "an installed binary must not fall back to the build folder's module: " << refused.err;
  auto stats = run(bin, "stats --json");
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  for (const auto& c : nlohmann::json::parse(stats.out)["collections"])
    if (c["name"] == "attendances" || c["name"] == "fs.files")
      EXPECT_EQ(c["count"], 0) << "the refused photo left a record in " << c["name"];

  // Installed beside it, the module is found, also through a symlink on another directory (the Dockerfile's
  // /usr/local/bin/facecrowd -> /usr/local/lib/facecrowd/facecrowd).
  fs::create_hard_link(kModuleBesideBinary, beside);
  fs::create_directories(tmp.path() / "path");
  fs::create_symlink(bin, tmp.path() / "path" / "facecrowd");
  auto ok = run(tmp.path() / "path" / "facecrowd", "recognize --session s1 " + group("two_people.jpg"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("2 unknown"), std::string::npos) << ok.out;
}

TEST(ImageCodecsLoading, ThreadsThatDecodeAtOnceInAFreshProcessAllGetTheirImages) {
  // gtest_discover_tests runs each test in a process of its own: here the module is not loaded yet.
  cv::Mat bgr(16, 16, CV_8UC3, cv::Scalar(10, 200, 30));
  std::vector<uchar> png;
  ASSERT_TRUE(cv::imencode(".png", bgr, png));
  std::string bytes(png.begin(), png.end());
  std::vector<std::thread> threads;
  std::atomic<int> decoded{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      cv::Mat m = vision::imdecode(bytes, cv::IMREAD_COLOR);
      if (!m.empty() && cv::norm(m, bgr, cv::NORM_INF) == 0) ++decoded;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(decoded.load(), 8);
  EXPECT_EQ(vision::load_image_codecs(), kModuleBesideBinary) << "a test program under the build folder uses the build's module";
}

// ---- the module decodes and encodes what imgcodecs does

std::string bytes_of(const std::vector<uchar>& v) { return std::string(v.begin(), v.end()); }

void expect_same_image(const cv::Mat& a, const cv::Mat& b, const std::string& what) {
  ASSERT_EQ(a.empty(), b.empty()) << what;
  ASSERT_EQ(a.type(), b.type()) << what;  // an empty result keeps the type OpenCV gave it, as OpenCV's does
  ASSERT_EQ(a.size(), b.size()) << what;
  if (a.empty()) return;
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0) << what;
}

// Images of every supported format, depth and channel layout, written by OpenCV directly.
std::vector<std::pair<std::string, std::string>> samples() {
  cv::Mat bgr(37, 53, CV_8UC3), grey, bgra, bgr16, cells(9, 11, CV_32F);
  cv::randu(bgr, 0, 256);
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgra.forEach<cv::Vec4b>([](cv::Vec4b& p, const int* pos) { p[3] = uchar(pos[1] * 4); });
  bgr.convertTo(bgr16, CV_16UC3, 257.0);
  cv::randu(cells, 0.0f, 3.0f);
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& label, const std::string& ext, const cv::Mat& m, std::vector<int> params = {}) {
    std::vector<uchar> b;
    if (!cv::imencode(ext, m, b, params)) ADD_FAILURE() << "OpenCV cannot write " << label;
    out.push_back({label, bytes_of(b)});
  };
  add("JPEG colour", ".jpg", bgr, {cv::IMWRITE_JPEG_QUALITY, 85});
  add("JPEG grey", ".jpg", grey);
  add("PNG with alpha", ".png", bgra);
  add("PNG 16-bit", ".png", bgr16);
  add("PNG grey", ".png", grey);
  add("BMP", ".bmp", bgr);
  add("WebP with alpha", ".webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 101});
  add("TIFF 16-bit", ".tiff", bgr16);
  add("TIFF float", ".tiff", cells);
  add("PPM", ".ppm", bgr);
  add("PGM", ".pgm", grey);
  if (fs::path photo = faces_dir() / "groups" / "two_people.jpg"; !faces_dir().empty() && fs::exists(photo)) {
    std::ifstream in(photo, std::ios::binary);
    out.push_back({"a real photo", std::string(std::istreambuf_iterator<char>(in), {})});
  }
  out.push_back({"not an image", "neither JPEG nor PNG"});
  out.push_back({"a PNG cut short", out[2].second.substr(0, out[2].second.size() / 2)});
  return out;
}

TEST(ImageCodecsModule, DecodesEveryFormatDepthAndChannelLayoutExactlyAsImgcodecs) {
  for (const auto& [label, bytes] : samples()) {
    for (int flags : {int(cv::IMREAD_UNCHANGED), int(cv::IMREAD_COLOR), int(cv::IMREAD_GRAYSCALE)}) {
      cv::Mat expected = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8U, const_cast<char*>(bytes.data())), flags);
      cv::Mat got = vision::imdecode(bytes, flags);
      expect_same_image(got, expected, label + " with flags " + std::to_string(flags));
    }
  }
}

TEST(ImageCodecsModule, EncodesTheSameBytesAsImgcodecsAndFailsAsItDoes) {
  cv::Mat bgr(40, 30, CV_8UC3), cells(5, 7, CV_32F);
  cv::randu(bgr, 0, 256);
  cv::randu(cells, 0.0f, 2.0f);
  struct Case {
    std::string ext;
    cv::Mat image;
    std::vector<int> params;
  };
  for (const auto& c : {Case{".jpg", bgr, {cv::IMWRITE_JPEG_QUALITY, 90}}, Case{".png", bgr, {cv::IMWRITE_PNG_COMPRESSION, 6}},
                        Case{".tiff", cells, {}}, Case{".bmp", bgr, {}}, Case{".webp", bgr, {}}}) {
    std::vector<uchar> expected, got;
    ASSERT_TRUE(cv::imencode(c.ext, c.image, expected, c.params)) << c.ext;
    ASSERT_TRUE(vision::imencode(c.ext, c.image, got, c.params)) << c.ext;
    EXPECT_EQ(bytes_of(got), bytes_of(expected)) << c.ext;
  }
  // OpenCV's own exception, with its message, as the callers caught it before.
  std::string expected_error;
  try {
    std::vector<uchar> b;
    cv::imencode(".nosuchformat", bgr, b);
  } catch (const cv::Exception& e) {
    expected_error = e.err;
  }
  ASSERT_FALSE(expected_error.empty());
  try {
    std::vector<uchar> b;
    vision::imencode(".nosuchformat", bgr, b);
    FAIL() << "an unknown format was encoded";
  } catch (const cv::Exception& e) {
    EXPECT_EQ(e.err, expected_error);
  }
}

// ---- serve

TEST(ImageCodecsLoading, ServeLoadsTheModuleAtStartAndHealthNamesIt) {
  START_SERVER(server);
  // Before any request: the module is mapped into the server process.
  std::ifstream maps("/proc/" + std::to_string(server.pid()) + "/maps");
  std::string text((std::istreambuf_iterator<char>(maps)), {});
  EXPECT_NE(text.find(kModuleBesideBinary.string()), std::string::npos) << "not loaded at start";
  auto c = server.client();
  auto h = http(c, "GET", "/api/monitoring/health", server.user_token("admin", "admin"));
  nlohmann::json check;
  for (const auto& ch : h.json["checks"])
    if (ch["name"] == "image-codecs") check = ch;
  EXPECT_EQ(check["status"], "OK") << h.body;
  EXPECT_NE(check["message"].get<std::string>().find(kModuleBesideBinary.string()), std::string::npos) << check.dump();
}

}  // namespace
}  // namespace facecrowd
