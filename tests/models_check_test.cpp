// `facecrowd models check` on the prepared models, a missing directory, an altered file, and a file whose
// checksum is listed but which OpenCV cannot run.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "core/error.h"
#include "core/sha256.h"
#include "face_test_support.h"
#include "test_support.h"

namespace facecrowd {
namespace {

// A copy of the models directory: links to the real files, except the ones the test replaces.
fs::path linked_copy(const fs::path& to) {
  fs::create_directories(to);
  for (const auto& f : fs::directory_iterator(face_models_dir())) {
    if (f.path().filename() == "SHA256SUMS") fs::copy_file(f.path(), to / "SHA256SUMS");
    else fs::create_symlink(f.path(), to / f.path().filename());
  }
  return to;
}

TEST(ModelsCheckCli, PreparedModelsPassAndBrokenOnesAreNamed) {
  if (!fs::exists(face_models_dir() / "SHA256SUMS")) GTEST_SKIP() << "face models not prepared (tools/prepare_models.sh)";
  auto ok = run_facecrowd("--models " + q(face_models_dir()) + " models check --json");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["embeddingModelVersion"].get<std::string>().rfind("face-api@1.7.15/face_recognition@", 0), 0u) << ok.out;
  EXPECT_EQ(j["files"].size(), 8u) << "7 files, and the opt-in faceres recogniser";

  TempDir tmp;
  auto missing = run_facecrowd("--models " + q(tmp.path() / "none") + " models check");
  EXPECT_EQ(missing.exit_code, int(ExitCode::kNotFound));
  EXPECT_NE(missing.err.find("tools/prepare_models.sh"), std::string::npos) << missing.err;

  // Altered bytes: the checksum catches it before anything is loaded.
  fs::path altered = linked_copy(tmp.path() / "altered");
  fs::remove(altered / "blazeface_back_256.onnx");
  write_text(altered / "blazeface_back_256.onnx", "not a model");
  auto bad = run_facecrowd("--models " + q(altered) + " models check");
  EXPECT_EQ(bad.exit_code, int(ExitCode::kBadInput));
  EXPECT_NE(bad.err.find("blazeface_back_256.onnx' has sha256"), std::string::npos) << bad.err;

  // Listed with its own checksum but not a network: OpenCV refuses it, and the message names the file.
  std::istringstream lines(read_text(altered / "SHA256SUMS"));
  std::string sums, line;
  while (std::getline(lines, line)) {
    if (line.ends_with("  blazeface_back_256.onnx"))
      line = *sha256_of_file(altered / "blazeface_back_256.onnx") + "  blazeface_back_256.onnx";
    sums += line + "\n";
  }
  fs::remove(altered / "SHA256SUMS");  // a copy, but remove first in case it is ever a link
  write_text(altered / "SHA256SUMS", sums);
  auto unrunnable = run_facecrowd("--models " + q(altered) + " models check");
  EXPECT_EQ(unrunnable.exit_code, int(ExitCode::kBadInput)) << unrunnable.err;
  EXPECT_NE(unrunnable.err.find("blazeface_back_256.onnx' does not run in OpenCV"), std::string::npos) << unrunnable.err;
}

}  // namespace
}  // namespace facecrowd
