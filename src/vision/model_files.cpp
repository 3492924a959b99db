#include "vision/model_files.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/sha256.h"

namespace facecrowd::vision {
namespace fs = std::filesystem;
namespace {

constexpr const char* kHowToPrepare = "; prepare them with `tools/prepare_models.sh --models-dir DIR` "
                                      "(or point --models / $FACECROWD_MODELS at a prepared directory)";
constexpr const char* kPackage = "face-api@1.7.15";
constexpr const char* kHsePackage = "human-models@3.0.4";

std::string file_sha256(const fs::path& path) {
  auto sha = sha256_of_file(path);
  if (!sha) throw Error(ExitCode::kNotFound, "model file '" + path.string() + "' cannot be read" + kHowToPrepare);
  return *sha;
}

// SHA256SUMS in `sha256sum` format: "<hex>  <name>" per line.
std::map<std::string, std::string> read_sums(const fs::path& sums) {
  std::ifstream in(sums);
  if (!in) throw Error(ExitCode::kNotFound, "models: '" + sums.string() + "' is missing" + kHowToPrepare);
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string hex, name;
    if (!(ls >> hex >> name)) continue;
    if (!name.empty() && name[0] == '*') name.erase(0, 1);
    out[name] = hex;
  }
  return out;
}

bool looks_prepared(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "SHA256SUMS", ec);
}

}  // namespace

fs::path find_models_dir(const std::optional<fs::path>& explicit_dir) {
  if (explicit_dir) return *explicit_dir;
  if (const char* env = std::getenv("FACECROWD_MODELS"); env && *env) return env;
  if (looks_prepared("models")) return fs::absolute("models");
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path p = exe.parent_path();
    for (int i = 0; i < 4 && !p.empty(); ++i, p = p.parent_path()) {
      if (looks_prepared(p / "models")) return p / "models";
      if (p == p.root_path()) break;
    }
  }
  return fs::absolute("models");  // absent: open_model_files says so, with the way to prepare it
}

namespace {

void require_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ExitCode::kNotFound, "models directory '" + dir.string() + "' does not exist" + kHowToPrepare);
  }
}

// Checks `f` against its SHA256SUMS line; returns its sha256.
std::string verified_sha256(const fs::path& dir, const std::map<std::string, std::string>& sums, const fs::path& f) {
  std::error_code ec;
  if (!fs::exists(f, ec)) throw Error(ExitCode::kNotFound, "model file '" + f.string() + "' is missing" + kHowToPrepare);
  auto want = sums.find(f.filename().string());
  if (want == sums.end()) {
    throw Error(ExitCode::kBadInput, "model file '" + f.string() + "' is not listed in '" +
                                         (dir / "SHA256SUMS").string() + "'" + kHowToPrepare);
  }
  std::string got = file_sha256(f);
  if (got != want->second) {
    throw Error(ExitCode::kBadInput, "model file '" + f.string() + "' has sha256 " + got + ", expected " +
                                         want->second + " (corrupt or from another build); rebuild with "
                                         "`tools/prepare_models.sh --force`");
  }
  return got;
}

}  // namespace

const char* recogniser_file_name(FaceModel model) {
  return model == FaceModel::kFaceres ? "face_recognition_hse.onnx" : "face_recognition.onnx";
}

ModelFiles open_model_files(const fs::path& dir, FaceModel face_model) {
  require_directory(dir);
  auto sums = read_sums(dir / "SHA256SUMS");
  ModelFiles m;
  m.dir = dir;
  m.detector = dir / "ssd_mobilenetv1.onnx";
  m.anchors = dir / "ssd_anchors.json";
  m.blazeface = dir / "blazeface_back_256.onnx";
  m.landmarks = dir / "face_landmark_68.onnx";
  m.face_model = face_model;
  m.recogniser = dir / recogniser_file_name(face_model);
  m.models_json = dir / "MODELS.json";
  std::string recogniser_sha;
  for (const fs::path& f : {m.detector, m.anchors, m.blazeface, m.landmarks, m.recogniser, m.models_json}) {
    std::string sha = verified_sha256(dir, sums, f);
    if (f == m.recogniser) recogniser_sha = sha;
  }
  m.embedding_model_version = face_model == FaceModel::kFaceres
                                  ? std::string(kHsePackage) + "/face_recognition_hse@" + recogniser_sha.substr(0, 12)
                                  : std::string(kPackage) + "/face_recognition@" + recogniser_sha.substr(0, 12);
  return m;
}

CrowdModelFile open_crowd_model_file(const fs::path& dir) {
  require_directory(dir);
  auto sums = read_sums(dir / "SHA256SUMS");
  CrowdModelFile m;
  m.model = dir / "crowd_density.onnx";
  m.model_version = "facecrowd-crowd/crowd_density@" + verified_sha256(dir, sums, m.model).substr(0, 12);
  return m;
}

}  // namespace facecrowd::vision
