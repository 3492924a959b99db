#include "app/faces/soft_enrolled_face.h"

#include <cmath>

#include "core/number_text.h"

namespace facecrowd {

std::optional<SoftEnrolledFace> soft_enrolled_face(const MatchPolicy& policy, float sharpness, const std::string& person) {
  if (!policy.soft_enrolled_faces || policy.soft_faces.empty()) return std::nullopt;
  // The probe as sharp as can be: what the enrolled face alone costs.
  const float threshold = threshold_for(policy, kUnknownSharpness, sharpness);
  if (threshold >= policy.max_distance) return std::nullopt;
  return SoftEnrolledFace{sharpness, threshold, policy.max_distance, policy.soft_faces.back().below_sharpness, person};
}

std::string soft_enrolled_face_warning(const std::string& image, const SoftEnrolledFace& soft) {
  const std::string who = soft.person.empty() ? "this person" : soft.person;
  return image + ": the face is soft (sharpness " + fixed_decimals(soft.sharpness, 1) + "; " +
         fixed_decimals(soft.sharp_from, 0) + " or more counts as sharp). Enrolled, but a face matched to this photo " +
         "must be closer to count as " + who + " (distance " + fixed_decimals(soft.threshold, 3) + " instead of " +
         fixed_decimals(soft.sharp_threshold, 3) + "), so some photos of " + who +
         " may come back unknown (\"enrolled-face-too-blurred\"; " + kSoftEnrolledFaceLoss +
         ", when this is their only photo). " +
         "Remedy: enrol a sharper photo of " + who;
}

nlohmann::json SoftEnrolledFace::to_json() const {
  auto rounded = [](float v, double scale) { return std::round(double(v) * scale) / scale; };  // no float noise
  return {{"sharpness", rounded(sharpness, 10)},
          {"threshold", rounded(threshold, 1000)},
          {"sharpThreshold", rounded(sharp_threshold, 1000)},
          {"sharpFrom", rounded(sharp_from, 10)},
          {"remedy", "enrol a sharper photo of " + (person.empty() ? std::string("this person") : person)}};
}

}  // namespace facecrowd
