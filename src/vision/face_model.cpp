#include "vision/face_model.h"

#include <cstdlib>

#include "core/error.h"

namespace facecrowd::vision {

FaceModel parse_face_model(const std::string& name, const std::string& setting) {
  if (name == "dlib") return FaceModel::kDlib;
  if (name == "faceres") return FaceModel::kFaceres;
  throw Error(ExitCode::kUsage, setting + " '" + name + "' is not a face model: choose " + kFaceModelChoices);
}

const char* face_model_name(FaceModel model) { return model == FaceModel::kFaceres ? "faceres" : "dlib"; }

FaceModel resolve_face_model(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return parse_face_model(*flag);
  if (const char* env = std::getenv("FACECROWD_FACE_MODEL"); env && *env)
    return parse_face_model(env, "$FACECROWD_FACE_MODEL");
  return FaceModel::kDlib;
}

}  // namespace facecrowd::vision
