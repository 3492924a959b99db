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

// What it costs a person enrolled only from a soft photo (sharpness 20-40): the share of their searches by sharp
// photos of them that come back unknown (enrolled-face-too-blurred) and would be recognised by the probe alone.
// tools/measure_soft_enrolled_cost.py on the `calibration` people (no test asserts on them), 2026-11-30: enrolled
// from a copy scaled to 16-32 px between the eyes, 66 of 1,640 searches (4.0%; per person 0% to 14.5%); from a
// blurred copy, 18 of 840 (2.1%); the earlier trial on the tests' Obama photos, 4 of 39 (tools/calibrate_faces.md,
// "Softer side, the default"). enroll's warning and the --help texts quote it.
inline constexpr const char* kSoftEnrolledFaceLoss = "about 1 search in 25, up to 1 in 7 for some people";

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
