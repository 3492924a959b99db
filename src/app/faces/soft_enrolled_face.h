// What an enrolled face's softness costs its person (issue 12, "soft enrolled faces"): recognition judges a
// match by the softer of the probe and the enrolled face it matched (app/faces/match_policy.h,
// soft_enrolled_faces), so a face enrolled from a soft photo (chip sharpness 20-40 with dlib's defaults) is
// matched only at that sharpness's stricter threshold. enroll tells the operator so (app/faces/enrollment.h);
// `profiles list` shows each profile's softest face.
// Contract:
//  - soft_enrolled_face(): the stricter threshold a face of this stored sharpness (quality.blur) will be held to,
//    or nullopt when it is held to the policy's own (sharp enough, no soft steps, soft_enrolled_faces off).
//  - soft_enrolled_face_warning(): the sentence enroll reports (result warnings, stderr): the photo, its
//    sharpness and the sharpness that counts as sharp, the two thresholds, what the person will see (some of their
//    faces unknown, reason enrolled-face-too-blurred) and the remedy (enrol a sharper photo of them).
//  - to_json(): {sharpness, threshold, sharpThreshold, sharpFrom, remedy}.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/faces/match_policy.h"

namespace facecrowd {

struct SoftEnrolledFace {
  float sharpness = 0;        // the face chip's, as stored with the embedding
  float threshold = 0;        // what a match with it must be at or below
  float sharp_threshold = 0;  // what a match with a sharp enrolled face must be at or below (policy.max_distance)
  float sharp_from = 0;       // the sharpness from which a face is held to sharp_threshold (the last soft step)
  std::string person;         // the person's name, for the remedy
  nlohmann::json to_json() const;
};

std::optional<SoftEnrolledFace> soft_enrolled_face(const MatchPolicy& policy, float sharpness,
                                                   const std::string& person);

std::string soft_enrolled_face_warning(const std::string& image, const SoftEnrolledFace& soft);

}  // namespace facecrowd
