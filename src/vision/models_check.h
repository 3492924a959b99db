// `facecrowd models check`: are the prepared models there, the ones that were prepared, and runnable?
// Contract: check_models(dir) verifies every model file against SHA256SUMS (vision/model_files.h: a missing
// file is Error(kNotFound), a wrong checksum Error(kBadInput), both naming the file and how to prepare the
// models), then loads every network in OpenCV DNN and runs it once on a synthetic input (both face
// detectors, landmarks and recogniser on a grey frame, the crowd model on a 64x64 one): a network OpenCV
// cannot load or run is Error(kBadInput) naming the file. Nothing is written.
// The opt-in faceres recogniser (vision/face_model.h) is checked the same way when the directory has it (in
// SHA256SUMS or on disk), its descriptor size (1024) included; a directory prepared before it existed passes,
// with faceres_model_version empty and a note saying how to add it.
// The image codecs module (vision/image_codecs.h) is checked too, as it is installed with the binary and every
// photo goes through it: missing or unloadable is Error(kNotFound) naming the file; one that cannot encode and
// decode a small JPEG and PNG is Error(kBadInput).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace facecrowd {

struct ModelFileStatus {
  std::string name;
  uint64_t bytes = 0;
};

struct ModelsCheckReport {
  std::filesystem::path dir;
  std::vector<ModelFileStatus> files;
  std::string embedding_model_version;  // stored with every embedding (dlib, the default)
  std::string faceres_model_version;    // the opt-in faceres model's; empty when not prepared here
  std::string crowd_model_version;      // stored with every crowd count
  std::filesystem::path image_codecs_module;  // the facecrowd-imgcodecs.so loaded
  nlohmann::json to_json() const;
  std::string text() const;
};

ModelsCheckReport check_models(const std::filesystem::path& dir);
// The image codecs part of check_models alone: loads the module, round-trips a small image as JPEG and PNG,
// returns the module's path.
std::filesystem::path check_image_codecs();

}  // namespace facecrowd
