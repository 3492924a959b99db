#include "app/faces/match_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

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
    throw Error(ExitCode::kUsage, "match threshold " + shortest_decimal(policy.max_distance) +
                                      " is out of range: unit-vector distances lie in (0, 2]; the default is " +
                                      fixed_decimals(kDefaultMatchThreshold, 2) + " (dlib), " +
                                      fixed_decimals(kFaceresMatchThreshold, 2) + " (faceres)");
  float previous = 0;
  for (const auto& step : policy.soft_faces) {
    if (!(step.below_sharpness > previous) || !(step.max_distance > 0 && step.max_distance <= 2))
      throw Error(ExitCode::kUsage, "soft-face step " + soft_face_steps_text({step}) +
                                        " is out of range: sharpness limits ascend and are > 0, thresholds lie in "
                                        "(0, 2]; the default is " + soft_face_steps_text(default_soft_face_steps()));
    previous = step.below_sharpness;
  }
  if (!(policy.gallery_isolation >= 0 && policy.gallery_isolation <= 1))
    throw Error(ExitCode::kUsage, "gallery isolation " + shortest_decimal(policy.gallery_isolation) +
                                      " is out of range [0, 1] (0: off); the default is " +
                                      fixed_decimals(kDefaultGalleryIsolation, 2) + " (dlib), off (faceres)");
  if (!(policy.min_margin >= 0 && policy.min_margin <= 2))
    throw Error(ExitCode::kUsage, "match margin " + shortest_decimal(policy.min_margin) +
                                      " is out of range [0, 2]; the default is " + fixed_decimals(kDefaultMatchMargin, 2) +
                                      " (dlib), " + fixed_decimals(kFaceresMatchMargin, 2) + " (faceres)");
}

MatchPolicy default_match_policy(vision::FaceModel model) {
  // faceres: no soft steps (measured: tools/calibrate_faces.md, "Blurred probes").
  MatchPolicy policy;
  if (model == vision::FaceModel::kFaceres) {
    policy.max_distance = float(kFaceresMatchThreshold);
    policy.min_margin = float(kFaceresMatchMargin);
    policy.soft_faces.clear();
    policy.gallery_isolation = 0;  // chosen for dlib's distances only
  }
  return policy;
}

MatchPolicy resolve_match_policy(std::optional<float> threshold_flag, std::optional<float> margin_flag,
                                 vision::FaceModel model, const std::optional<std::string>& soft_faces_flag,
                                 const std::optional<std::string>& soft_enrolled_faces_flag,
                                 const std::optional<std::string>& gallery_isolation_flag) {
  MatchPolicy policy = default_match_policy(model);
  if (auto v = env_float("FACECROWD_MATCH_THRESHOLD")) policy.max_distance = *v;
  if (auto v = env_float("FACECROWD_MATCH_MARGIN")) policy.min_margin = *v;
  if (const char* text = std::getenv("FACECROWD_MATCH_SOFT_FACES"); text && *text)
    policy.soft_faces = parse_soft_face_steps(text, "$FACECROWD_MATCH_SOFT_FACES");
  if (const char* text = std::getenv("FACECROWD_MATCH_SOFT_ENROLLED_FACES"); text && *text)
    policy.soft_enrolled_faces = parse_on_off(text, "$FACECROWD_MATCH_SOFT_ENROLLED_FACES");
  if (const char* text = std::getenv("FACECROWD_MATCH_GALLERY_ISOLATION"); text && *text)
    policy.gallery_isolation = parse_gallery_isolation(text, "$FACECROWD_MATCH_GALLERY_ISOLATION");
  if (threshold_flag) policy.max_distance = *threshold_flag;
  if (margin_flag) policy.min_margin = *margin_flag;
  if (soft_faces_flag) policy.soft_faces = parse_soft_face_steps(*soft_faces_flag, "--soft-faces");
  if (soft_enrolled_faces_flag)
    policy.soft_enrolled_faces = parse_on_off(*soft_enrolled_faces_flag, "--soft-enrolled-faces");
  if (gallery_isolation_flag)
    policy.gallery_isolation = parse_gallery_isolation(*gallery_isolation_flag, "--gallery-isolation");
  validate_match_policy(policy);
  return policy;
}

float threshold_for(const MatchPolicy& policy, float probe_sharpness, float enrolled_sharpness) {
  const float sharpness = policy.soft_enrolled_faces ? std::min(probe_sharpness, enrolled_sharpness) : probe_sharpness;
  for (const auto& step : policy.soft_faces)
    if (sharpness < step.below_sharpness) return std::min(step.max_distance, policy.max_distance);
  return policy.max_distance;
}

MatchVerdict decide_match(const vision::GalleryMatch& match, const MatchPolicy& policy, float probe_sharpness,
                          float enrolled_sharpness) {
  if (match.distance > policy.max_distance) return MatchVerdict::kNoMatch;
  if (match.distance > threshold_for(policy, probe_sharpness)) return MatchVerdict::kTooBlurred;
  if (match.distance > threshold_for(policy, probe_sharpness, enrolled_sharpness))
    return MatchVerdict::kEnrolledTooBlurred;
  if (match.margin < policy.min_margin) return MatchVerdict::kAmbiguous;
  if (policy.gallery_isolation > 0 && match.distance > policy.gallery_isolation * match.isolation)
    return MatchVerdict::kCrowdedEnrolledFace;
  return MatchVerdict::kRecognised;
}

const char* verdict_name(MatchVerdict verdict) {
  switch (verdict) {
    case MatchVerdict::kRecognised: return "recognised";
    case MatchVerdict::kNoMatch: return "no-match";
    case MatchVerdict::kTooBlurred: return "too-blurred";
    case MatchVerdict::kEnrolledTooBlurred: return "enrolled-face-too-blurred";
    case MatchVerdict::kAmbiguous: return "ambiguous";
    case MatchVerdict::kCrowdedEnrolledFace: return "crowded-enrolled-face";
  }
  return "no-match";
}

std::vector<SoftFaceStep> parse_soft_face_steps(const std::string& text, const std::string& setting) {
  std::vector<SoftFaceStep> steps;
  if (text == "off") return steps;
  auto bad = [&](const std::string& why) {
    return Error(ExitCode::kUsage, setting + " '" + text + "': " + why +
                                       "; expected 'off' or SHARPNESS:THRESHOLD steps, sharpness ascending, e.g. '" +
                                       soft_face_steps_text(default_soft_face_steps()) + "' (the default)");
  };
  // Empty is refused rather than read as 'off': `--soft-faces "$UNSET"` must not quietly loosen the policy.
  if (text.empty()) throw bad("empty");
  if (text.back() == ',' || text.front() == ',' || text.find(",,") != std::string::npos) throw bad("an empty step");
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto colon = item.find(':');
    if (colon == std::string::npos) throw bad("'" + item + "' has no ':'");
    std::string s = item.substr(0, colon), t = item.substr(colon + 1);
    char* end = nullptr;
    float sharpness = std::strtof(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(sharpness)) throw bad("'" + s + "' is not a number");
    float threshold = std::strtof(t.c_str(), &end);
    if (t.empty() || *end != '\0' || !std::isfinite(threshold)) throw bad("'" + t + "' is not a number");
    if (!(sharpness > (steps.empty() ? 0.0f : steps.back().below_sharpness)))
      throw bad("sharpness limits must be > 0 and ascend");
    if (!(threshold > 0 && threshold <= 2)) throw bad("threshold " + t + " is outside (0, 2]");
    steps.push_back({sharpness, threshold});
  }
  if (steps.empty()) throw bad("no step");
  return steps;
}

float parse_gallery_isolation(const std::string& text, const std::string& setting) {
  if (text == "off") return 0;
  // Plain decimals only: strtof would also take " 0.5", "0x1" and "1e-1", which no one means here.
  const bool plain = !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos;
  char* end = nullptr;
  float factor = plain ? std::strtof(text.c_str(), &end) : 0;
  // Empty is refused rather than read as 'off', as for --soft-faces; 0 is refused so that off is said in words.
  if (!plain || *end != '\0' || !(factor > 0 && factor <= 1))
    throw Error(ExitCode::kUsage, setting + " '" + text + "' is not 'off' or a factor in (0, 1]; the default is " +
                                      fixed_decimals(kDefaultGalleryIsolation, 2) + " (dlib)");
  return factor;
}

std::string gallery_isolation_text(float factor) {
  // Two fixed decimals showed a factor of 0.005 as "0.00" and 0.845 as "0.84".
  return factor > 0 ? shortest_decimal(factor) : "off";
}

nlohmann::json match_policy_json(const MatchPolicy& policy) {
  // Through the shortest decimal: a float put into JSON directly is widened to double and shows its binary error.
  auto number = [](float v) { return nlohmann::json::parse(shortest_decimal(v)); };
  return {{"threshold", number(policy.max_distance)},
          {"minMargin", number(policy.min_margin)},
          {"softFaces", soft_face_steps_text(policy.soft_faces)},
          {"softEnrolledFaces", policy.soft_enrolled_faces},
          {"galleryIsolation", policy.gallery_isolation > 0 ? number(policy.gallery_isolation) : nlohmann::json("off")}};
}

std::string soft_face_steps_text(const std::vector<SoftFaceStep>& steps) {
  if (steps.empty()) return "off";
  std::string out;
  for (const auto& step : steps) {
    if (!out.empty()) out += ",";
    // Shortest decimals, so that the text gives the steps back: two fixed decimals showed 0.295 as "0.29" or "0.30".
    out += shortest_decimal(step.below_sharpness) + ":" + shortest_decimal(step.max_distance);
  }
  return out;
}

bool parse_on_off(const std::string& text, const std::string& setting) {
  if (text == "on") return true;
  if (text == "off") return false;
  // Empty is refused rather than read as either: an unset shell variable must not change the policy quietly.
  throw Error(ExitCode::kUsage, setting + " '" + text + "': expected 'on' (the default) or 'off'");
}

bool is_recognised(const vision::GalleryMatch& match, const MatchPolicy& policy, float probe_sharpness,
                   float enrolled_sharpness) {
  return decide_match(match, policy, probe_sharpness, enrolled_sharpness) == MatchVerdict::kRecognised;
}

double match_confidence(float distance, const MatchPolicy& policy, float probe_sharpness, float enrolled_sharpness) {
  double c = 1.0 - double(distance) / (2.0 * double(threshold_for(policy, probe_sharpness, enrolled_sharpness)));
  return std::clamp(c, 0.0, 1.0);
}

}  // namespace facecrowd
