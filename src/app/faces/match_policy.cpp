#include "app/faces/match_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/number_text.h"

namespace facecrowd {

namespace {
std::optional<float> env_float(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  float value = std::strtof(text, &end);
  if (*end != '\0' || !std::isfinite(value))
    throw Error(ExitCode::kUsage, std::string("$") + name + " '" + text + "' is not a number");
  return value;
}
}  // namespace

void validate_match_policy(const MatchPolicy& policy) {
  if (!(policy.max_distance > 0 && policy.max_distance <= 2))
    throw Error(ExitCode::kUsage, "match threshold " + std::to_string(policy.max_distance) +
                                      " is out of range: unit-vector distances lie in (0, 2]; the default is " +
                                      fixed_decimals(kDefaultMatchThreshold, 2) + " (dlib), " +
                                      fixed_decimals(kFaceresMatchThreshold, 2) + " (faceres)");
  if (!(policy.min_margin >= 0 && policy.min_margin <= 2))
    throw Error(ExitCode::kUsage, "match margin " + std::to_string(policy.min_margin) +
                                      " is out of range [0, 2]; the default is " + fixed_decimals(kDefaultMatchMargin, 2) +
                                      " (dlib), " + fixed_decimals(kFaceresMatchMargin, 2) + " (faceres)");
}

MatchPolicy default_match_policy(vision::FaceModel model) {
  if (model == vision::FaceModel::kFaceres) return {float(kFaceresMatchThreshold), float(kFaceresMatchMargin)};
  return {};
}

MatchPolicy resolve_match_policy(std::optional<float> threshold_flag, std::optional<float> margin_flag,
                                 vision::FaceModel model) {
  MatchPolicy policy = default_match_policy(model);
  if (auto v = env_float("FACECROWD_MATCH_THRESHOLD")) policy.max_distance = *v;
  if (auto v = env_float("FACECROWD_MATCH_MARGIN")) policy.min_margin = *v;
  if (threshold_flag) policy.max_distance = *threshold_flag;
  if (margin_flag) policy.min_margin = *margin_flag;
  validate_match_policy(policy);
  return policy;
}

bool is_recognised(const vision::GalleryMatch& match, const MatchPolicy& policy) {
  return match.distance <= policy.max_distance && match.margin >= policy.min_margin;
}

double match_confidence(float distance, const MatchPolicy& policy) {
  double c = 1.0 - double(distance) / (2.0 * double(policy.max_distance));
  return std::clamp(c, 0.0, 1.0);
}

}  // namespace facecrowd
