// Bad input and hostile files get a clear refusal with a meaningful exit code, never exit 10, a hang or a
// clobbered file (issue 9, items 11, 16, 17 and 18):
//  - non-regular files (/dev/zero, a FIFO) given as an image are refused before any read;
//  - invalid UTF-8 in any argument and control characters in one-line identifiers: exit 3 naming the flag;
//  - a query with a number JSON cannot hold (1e400): exit 3; a huge refused query is not echoed whole;
//  - outputs never replace a device node or FIFO, nor the command's own input, and export needs --force
//    to replace an existing file (exit 5);
//  - an empty --until is refused, not read as "no point in time";
//  - a JPEG whose compressed data is corrupt is refused before it is stored;
//  - stored names with escape sequences or newlines are printed escaped in tables.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <thread>

#include "app/photo_input.h"
#include "core/display_text.h"
#include "core/error.h"
#include "face_test_support.h"
#include "restore_test_support.h"
#include "vision/image_loader.h"

namespace facecrowd {
namespace {

using restore_test::backup;
using restore_test::fill;

// A real JPEG of noise (`quality` 90), and the same with its entropy-coded data cut in the middle and an
// End Of Image marker appended: the header is intact and the file ends properly, only the data is damaged.
std::string noise_jpeg(int w, int h) {
  cv::Mat img(h, w, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<uchar> out;
  cv::imencode(".jpg", img, out, {cv::IMWRITE_JPEG_QUALITY, 90});
  return std::string(out.begin(), out.end());
}
std::string corrupt_jpeg_with_end_marker(const std::string& jpeg) {
  size_t sos = jpeg.find("\xff\xda");
  size_t cut = sos + (jpeg.size() - sos) / 2;
  return jpeg.substr(0, cut) + "\xff\xd9";
}

ExitCode code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::kOk;
}

TEST(CliBadInput, DevZeroGivenAsAnImageIsRefusedBeforeAnyRead) {
  try {
    read_photo("/dev/zero");
    FAIL() << "accepted /dev/zero";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("character device"), std::string::npos) << e.what();
  }
  EXPECT_EQ(code_of([] { vision::load_image("/dev/zero"); }), ExitCode::kBadInput);
}

TEST(CliBadInput, FifoGivenAsAnImageIsRefusedInsteadOfHanging) {
  TempDir tmp;
  fs::path fifo = tmp.path() / "photo.jpg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto result = std::async(std::launch::async, [&] { return code_of([&] { read_photo(fifo); }); });
  if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "read_photo blocks on a FIFO with no writer";
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // unblock it so the test can end
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(result.get(), ExitCode::kBadInput);
}

TEST(CliBadInput, ImageLargerThanTheLimitIsRefusedAfterReadingAtMostTheLimit) {
  TempDir tmp;
  fs::path big = tmp.path() / "big.jpg";
  write_text(big, "");
  fs::resize_file(big, kMaxPhotoBytes + 1);  // sparse: no disk used
  try {
    read_photo(big);
    FAIL() << "accepted a file above the limit";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("above the limit of " + std::to_string(kMaxPhotoBytes)), std::string::npos) << e.what();
  }
}

TEST(CliBadInput, InvalidUtf8InAnyTextFlagOrImageNameIsBadInputNamingTheFlag) {
  TempDir tmp;
  std::string data = "--data '" + (tmp.path() / "data").string() + "' ";
  const std::string bad = "\"$(printf 'Ann\\377Lee')\"";  // byte 0xff: never UTF-8
  struct Case {
    std::string args, flag;
  };
  std::vector<Case> cases = {
      {"enroll --name " + bad + " a.jpg", "--name"},
      {"enroll --name Ann --external-id " + bad + " a.jpg", "--external-id"},
      {"enroll --name Ann --meta k=" + bad + " a.jpg", "--meta"},
      {"enroll --name Ann --consent " + bad + " a.jpg", "--consent"},
      {"recognize a.jpg --session " + bad, "--session"},
      {"crowd a.jpg --location " + bad, "--location"},
      {"person delete 65f0c2aa00000000000000aa --reason " + bad, "--reason"},
      {"enroll --name=" + bad + " a.jpg", "--name"},
      {"enroll --name Ann " + bad + ".jpg", "argument 6"},
  };
  for (const auto& c : cases) {
    auto r = run_facecrowd(data + c.args);
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find("not valid UTF-8"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(tmp.path() / "data" / "face-recognition")) << "nothing is created";
  }
}

TEST(CliBadInput, ControlCharactersInANameAreRefusedAtInput) {
  TempDir tmp;
  std::string data = "--data '" + (tmp.path() / "data").string() + "' ";
  for (std::string value : {"\"$(printf 'Ann\\033[31mLee')\"", "\"$(printf 'Ann\\nLee')\""}) {
    auto r = run_facecrowd(data + "enroll --name " + value + " a.jpg");
    EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
    EXPECT_NE(r.err.find("--name"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("control character"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\033'), std::string::npos) << "the refusal itself prints the value escaped";
  }
}

TEST(CliBadInput, QueryWithANumberOutOfRangeIsBadInput) {
  TempDir tmp;
  fill(tmp.path() / "data", 2);
  auto r = run_facecrowd("--data '" + (tmp.path() / "data").string() +
                         "' export --collection attendances --query '{\"confidence\":1e400}' --out '" +
                         (tmp.path() / "x.jsonl").string() + "'");
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err;
  EXPECT_NE(r.err.find("--query"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "x.jsonl"));
}

TEST(CliBadInput, RefusedHugeQueryIsNotEchoedWhole) {
  TempDir tmp;
  fill(tmp.path() / "data", 2);
  std::string query = "{\"session\": \"" + std::string(120 * 1024, 'q') + "\"}";
  write_text(tmp.path() / "q.json", query);
  auto r = run_facecrowd("--data '" + (tmp.path() / "data").string() + "' export --collection attendances --query \"$(cat '" +
                         (tmp.path() / "q.json").string() + "')\" --out '" + (tmp.path() / "x.jsonl").string() + "'");
  EXPECT_EQ(r.exit_code, int(ExitCode::kBadInput)) << r.err.substr(0, 500);
  EXPECT_LT(r.err.size(), 1000u) << "the 120 KB query is shortened in the message";
  EXPECT_NE(r.err.find("bytes in all"), std::string::npos) << r.err.substr(0, 500);
}

TEST(CliBadInput, ExportRefusesToReplaceAnExistingFileWithoutForce) {
  TempDir tmp;
  fill(tmp.path() / "data", 3);
  fs::path out = tmp.path() / "users.jsonl";
  write_text(out, "precious\n");
  std::string cmd = "--data '" + (tmp.path() / "data").string() + "' export --collection users --out '" + out.string() + "'";
  auto r = run_facecrowd(cmd);
  EXPECT_EQ(r.exit_code, int(ExitCode::kConflict)) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(out), "precious\n");
  auto forced = run_facecrowd(cmd + " --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(read_text(out).find("user0"), std::string::npos);
}

TEST(CliBadInput, ExportNeverReplacesAFifoOrADeviceNodeEvenWithForce) {
  TempDir tmp;
  fill(tmp.path() / "data", 3);
  std::vector<fs::path> nodes = {tmp.path() / "pipe.jsonl"};
  ASSERT_EQ(::mkfifo(nodes[0].c_str(), 0600), 0);
  if (::mknod((tmp.path() / "null.jsonl").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0)  // a /dev/null (root)
    nodes.push_back(tmp.path() / "null.jsonl");
  for (const auto& node : nodes) {
    auto r = run_facecrowd("--data '" + (tmp.path() / "data").string() + "' export --collection users --force --out '" +
                           node.string() + "'");
    EXPECT_EQ(r.exit_code, int(ExitCode::kConflict)) << node << ": " << r.err;
    struct stat st {};
    ASSERT_EQ(::lstat(node.c_str(), &st), 0);
    EXPECT_FALSE(S_ISREG(st.st_mode)) << node << " was replaced by a regular file";
  }
}

TEST(CliBadInput, RecognizeRefusesToAnnotateOverItsOwnInputPhoto) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  FaceWorld world;
  fs::path photo = world.dir.path() / "class.jpg";
  fs::copy_file(faces_dir() / "groups" / "two_people.jpg", photo);
  std::string before = read_text(photo);
  for (std::string out : {photo.string(), (world.dir.path() / "." / "class.jpg").string()}) {
    auto r = world.cli("recognize " + q(photo) + " --session s --annotate " + q(out));
    EXPECT_EQ(r.exit_code, int(ExitCode::kConflict)) << r.err;
    EXPECT_NE(r.err.find("--annotate"), std::string::npos) << r.err;
  }
  EXPECT_EQ(read_text(photo), before);
  EXPECT_EQ(world.count("attendances"), 0u);
}

TEST(CliBadInput, CrowdRefusesToWriteTheDensityMapOverItsInputImage) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  FaceWorld world;
  fs::path image = world.dir.path() / "gate.png";
  cv::Mat img(96, 128, CV_8UC3, cv::Scalar(40, 80, 120));
  ASSERT_TRUE(cv::imwrite(image.string(), img));
  std::string before = read_text(image);
  auto r = world.cli("crowd " + q(image) + " --location gate --density-map " + q(image));
  EXPECT_EQ(r.exit_code, int(ExitCode::kConflict)) << r.err;
  EXPECT_NE(r.err.find("--density-map"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(image), before);
}

TEST(CliBadInput, EmptyUntilIsAUsageErrorNotAFullRestore) {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  fill(data, 3);
  backup(data, tmp.path() / "backup");
  auto r = run_facecrowd("--data '" + data.string() + "' --backup-dir '" + (tmp.path() / "backup").string() +
                         "' restore latest --db other --until ''");
  EXPECT_EQ(r.exit_code, int(ExitCode::kUsage)) << r.out << r.err;
  EXPECT_NE(r.err.find("--until is empty"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(data / "other"));
}

// A --backup-dir that is a regular file used to read "cannot create folder ...: File exists", which does not
// say which is wrong: it says the path is a file, not a folder, naming it (exit 6), and leaves the file alone.
TEST(CliBadInput, ABackupDirThatIsAFileIsNamedAsAFileNotAFolder) {
  TempDir tmp;
  fs::path data = tmp.path() / "data", file = tmp.path() / "backup";
  fill(data, 3);
  write_text(file, "not a folder");
  for (const std::string& cmd : {std::string("backup"), std::string("oplog ship")}) {
    auto r = run_facecrowd("--data '" + data.string() + "' --backup-dir '" + file.string() + "' " + cmd);
    EXPECT_EQ(r.exit_code, int(ExitCode::kIo)) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find("'" + file.string() + "' is a file, not a folder"), std::string::npos) << cmd << "\n" << r.err;
    EXPECT_EQ(r.err.find("File exists"), std::string::npos) << cmd << "\n" << r.err;
  }
  EXPECT_EQ(read_text(file), "not a folder");
}

TEST(CliBadInput, JpegWithCorruptDataIsRefusedBeforeItIsStored) {
  TempDir tmp;
  std::string good = noise_jpeg(320, 240);
  write_text(tmp.path() / "good.jpg", good);
  write_text(tmp.path() / "corrupt.jpg", corrupt_jpeg_with_end_marker(good));
  EXPECT_NO_THROW(read_photo(tmp.path() / "good.jpg"));
  try {
    read_photo(tmp.path() / "corrupt.jpg");
    FAIL() << "a JPEG with corrupt data was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("corrupt JPEG data"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("corrupt.jpg"), std::string::npos) << e.what();
  }
}

TEST(CliBadInput, EveryJpegOfTheSharedFacePhotosPassesTheCorruptionCheck) {
  if (auto why = face_skip_reason(); !why.empty()) GTEST_SKIP() << why;
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(faces_dir())) {
    if (!e.is_regular_file() || !has_image_extension(e.path())) continue;
    auto ext = e.path().extension().string();
    if (ext != ".jpg" && ext != ".jpeg" && ext != ".JPG") continue;
    EXPECT_NO_THROW(read_photo(e.path())) << e.path();
    if (++checked >= 400) break;
  }
  EXPECT_GT(checked, 0);
}

TEST(CliBadInput, NamesWithEscapeSequencesOrNewlinesArePrintedEscapedInTables) {
  TempDir tmp;
  fs::path data = tmp.path() / "data";
  {
    // As a restore of an old backup could bring them: straight into the store.
    auto db = Database::open(DataDir::open(data), "face-recognition");
    auto w = db->write();
    w.insert("faceprofiles", Document::from_json({{"name", "Eve\x1b[2J\nInjected row"}, {"externalId", "E\x1b]0;t\x07"}}));
    w.insert("attendances", Document::from_json({{"personName", "Eve\x1b[31m\nx"}, {"session", "s\x1b[1m"},
                                                 {"timestamp", {{"$date", 1704240000000}}}, {"confidence", 0.9}}));
    w.commit();
  }
  auto profiles = run_facecrowd("--data '" + data.string() + "' profiles list");
  ASSERT_EQ(profiles.exit_code, 0) << profiles.err;
  EXPECT_EQ(profiles.out.find('\x1b'), std::string::npos) << profiles.out;
  EXPECT_NE(profiles.out.find("Eve\\x1b[2J\\nInjected row"), std::string::npos) << profiles.out;
  auto attendance = run_facecrowd("--data '" + data.string() + "' attendance list --session \"$(printf 's\\033[1m')\"");
  EXPECT_EQ(attendance.exit_code, int(ExitCode::kBadInput)) << "a control character in --session is refused";
  auto all = run_facecrowd("--data '" + data.string() + "' attendance list --from 2020-01-01");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out.find('\x1b'), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("Eve\\x1b[31m\\nx"), std::string::npos) << all.out;
}

TEST(DisplayText, EscapesControlCharactersAndInvalidBytesAndShortensLongText) {
  EXPECT_EQ(for_terminal("a\x1b[31mb\nc\td"), "a\\x1b[31mb\\nc\\td");
  EXPECT_EQ(for_terminal("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(for_terminal("x\xff"), "x\\xff");
  EXPECT_EQ(for_terminal("\xc2\x9b"), "\\u009b");  // C1 CSI
  EXPECT_FALSE(invalid_utf8_offset("Zoë Ng"));
  EXPECT_EQ(invalid_utf8_offset("ab\xc0\xaf"), 2u);     // overlong '/'
  EXPECT_EQ(invalid_utf8_offset("\xed\xa0\x80"), 0u);   // a surrogate
  EXPECT_TRUE(has_control_character("a\nb"));
  EXPECT_FALSE(has_control_character("Zoë"));
  auto s = shortened(std::string(5000, 'x'), 100);
  EXPECT_LT(s.size(), 140u);
  EXPECT_NE(s.find("5000 bytes in all"), std::string::npos);
}

}  // namespace
}  // namespace facecrowd

namespace facecrowd {
namespace {

// The command list shows each command's first sentence. It was cut at the first '.', ':' or line break,
// so it read "Fill an empty database ... for trying facecrowd out, tests and" and "The prepared face and
// crowd models (made by tools/prepare_models", and each command's own --help began with that fragment.
TEST(CliHelp, TheCommandListGivesEachCommandsFirstSentenceWholeOnOneLine) {
  auto r = run_facecrowd("--help");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("for trying facecrowd out, tests and benchmarks\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("The prepared face and crowd models (made by tools/prepare_models.sh)\n"), std::string::npos) << r.out;
  auto own = run_facecrowd("demo-data --help");
  EXPECT_EQ(own.out.rfind("Fill an empty database with a realistic synthetic deployment, for trying facecrowd out, tests and benchmarks\n", 0), 0u)
      << own.out;
}

}  // namespace
}  // namespace facecrowd
