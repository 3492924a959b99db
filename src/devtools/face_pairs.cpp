#include "devtools/face_pairs.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include "app/faces/enrollment.h"
#include "core/error.h"
#include "vision/face_choice.h"
#include "vision/gallery.h"

namespace facecrowd {
namespace {

std::string percent(double v, int decimals = 2) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v * 100 << "%";
  return s.str();
}

std::string label_of(const SplitFace& f) {
  std::string label = f.image.filename().string();
  if (f.box) {
    std::ostringstream s;
    s << label << "[" << int(f.box->x) << "," << int(f.box->y) << "," << int(f.box->width) << "," << int(f.box->height) << "]";
    label = s.str();
  }
  return label;
}

// The boxed face, found in a crop of twice the box's size around it (so a small face is upscaled for the
// detector like in a tile, and the neighbours of a group photo are mostly out of view).
std::optional<vision::Face> boxed_face(vision::FacePipeline& pipeline, const cv::Mat& bgr, const cv::Rect2f& box) {
  cv::Rect2f wide(box.x - box.width / 2, box.y - box.height / 2, box.width * 2, box.height * 2);
  cv::Rect crop = cv::Rect(wide) & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (crop.area() <= 0) return std::nullopt;
  cv::Mat part = bgr(crop).clone();
  cv::Rect2f local(box.x - float(crop.x), box.y - float(crop.y), box.width, box.height);
  auto faces = pipeline.analyse(part);
  auto at = vision::face_at(faces, local);
  if (!at) return std::nullopt;
  vision::Face face = faces[*at];
  for (auto& p : face.landmarks) p += cv::Point2f(float(crop.x), float(crop.y));  // back to the whole photo
  return face;
}

bool enrollable(const vision::Face& f) {
  const EnrollmentQuality gate;
  return f.quality.interocular_px >= gate.min_interocular_px && f.quality.blur_variance >= gate.min_blur_variance;
}

struct Ranked {
  std::string best, runner_up;
  float distance = 2.01f, runner_up_distance = 2.01f;
  // The softest of the best identity's faces its distance was taken over (its k nearest): recognition judges a
  // match by the softer of the probe and the enrolled face it matched (MatchPolicy::soft_enrolled_faces).
  float best_sharpness = kUnknownSharpness;
};

// Distance of `query` to each identity (mean of its k nearest faces), skipping face `self` and, when
// `without` is set, that whole identity; the best and the runner-up identity.
Ranked rank_identities(const std::vector<PairFace>& faces, size_t self, const std::string* without, int k) {
  std::map<std::string, std::vector<std::pair<float, size_t>>> per;  // identity -> (distance, face index)
  const auto& q = *faces[self].embedding;
  for (size_t j = 0; j < faces.size(); ++j) {
    if (j == self || !faces[j].embedding || (without && faces[j].identity == *without)) continue;
    per[faces[j].identity].emplace_back(vision::embedding_distance(q, *faces[j].embedding), j);
  }
  Ranked r;
  for (auto& [identity, d] : per) {
    size_t n = std::min(d.size(), size_t(std::max(1, k)));
    std::partial_sort(d.begin(), d.begin() + long(n), d.end());
    float mean = 0, softest = kUnknownSharpness;
    for (size_t i = 0; i < n; ++i) {
      mean += d[i].first;
      softest = std::min(softest, faces[d[i].second].blur_variance);
    }
    mean /= float(n);
    if (mean < r.distance) {
      r.runner_up = r.best, r.runner_up_distance = r.distance;
      r.best = identity, r.distance = mean, r.best_sharpness = softest;
    } else if (mean < r.runner_up_distance) {
      r.runner_up = identity, r.runner_up_distance = mean;
    }
  }
  return r;
}

// Recognition's search of face `probe` in a gallery of the enrollable faces that `in_gallery` admits (never
// the probe itself).
template <typename Admit>
std::optional<vision::GalleryMatch> search_enrollable(const std::vector<PairFace>& faces, size_t probe, Admit in_gallery) {
  vision::Gallery gallery(SIZE_MAX);  // exact search, as below kIndexedSearchFromSize
  for (size_t j = 0; j < faces.size(); ++j)
    if (j != probe && faces[j].embedding && faces[j].enrollable && in_gallery(j))
      gallery.add(faces[j].identity, std::to_string(j), faces[j].embedding->unit);
  return gallery.search(faces[probe].embedding->unit);
}

// The chip sharpness of the enrolled face a search matched (search_enrollable names each by its index).
float enrolled_sharpness(const std::vector<PairFace>& faces, const vision::GalleryMatch& m) {
  return faces[std::stoul(m.embedding_id)].blur_variance;
}

bool accepted(const Ranked& r, const MatchPolicy& p, float probe_sharpness) {
  if (r.best.empty()) return false;
  float margin = r.runner_up.empty() ? vision::kNoRunnerUp : r.runner_up_distance - r.distance;
  return r.distance <= threshold_for(p, probe_sharpness, r.best_sharpness) && margin >= p.min_margin;
}

// A pair's distance and the threshold the policy judges it by: that of its softer face (either face can be
// the probe; the softer one is the stricter case).
struct JudgedPair {
  float distance, threshold;
};

RatePoint rates_at_policy(float reported_threshold, const std::vector<JudgedPair>& genuine,
                          const std::vector<JudgedPair>& impostor) {
  RatePoint p;
  p.threshold = reported_threshold;
  p.genuine_pairs = genuine.size();
  p.impostor_pairs = impostor.size();
  for (const auto& g : genuine) p.genuine_rejected += g.distance > g.threshold;
  for (const auto& i : impostor) p.impostor_accepted += i.distance <= i.threshold;
  p.far = p.impostor_pairs ? double(p.impostor_accepted) / double(p.impostor_pairs) : 0.0;
  p.frr = p.genuine_pairs ? double(p.genuine_rejected) / double(p.genuine_pairs) : 0.0;
  return p;
}

}  // namespace

std::vector<PairFace> embed_split_faces(vision::FacePipeline& pipeline, const std::vector<SplitFace>& faces,
                                        const std::function<void(size_t, size_t)>& progress) {
  std::vector<PairFace> out;
  std::map<std::string, cv::Mat> loaded;  // a group photo is decoded once for all its boxes
  size_t done = 0;
  for (const auto& f : faces) {
    PairFace p{f.identity, label_of(f), std::nullopt};
    auto it = loaded.find(f.image.string());
    if (it == loaded.end()) {
      if (loaded.size() > 8) loaded.clear();
      it = loaded.emplace(f.image.string(), vision::load_image(f.image, pipeline.options().image)).first;
    }
    const cv::Mat& bgr = it->second;
    std::optional<vision::Face> face;
    if (f.box) {
      face = boxed_face(pipeline, bgr, *f.box);
    } else {
      auto found = pipeline.analyse(bgr);
      if (auto i = vision::choose_face(found)) face = found[*i];
    }
    p.image = f.image;
    p.image_size = bgr.size();
    if (face) {
      p.embedding = face->embedding;
      p.enrollable = enrollable(*face);
      p.landmarks = face->landmarks;
      p.interocular_px = face->quality.interocular_px;
      p.blur_variance = face->quality.blur_variance;
      p.detection_score = face->detection_score;
      p.landmark_flip_error = face->quality.landmark_flip_error;
      if (pipeline.models().face_model == vision::FaceModel::kDlib) {  // dlib's ResNet reads only the chip
        vision::Face mirrored = *face;
        cv::flip(face->chip, mirrored.chip, 1);
        p.mirrored_embedding = pipeline.embed(bgr, mirrored);
      }
    }
    out.push_back(std::move(p));
    if (progress) progress(++done, faces.size());
  }
  return out;
}

IdentificationFigures identification_trials(const std::vector<PairFace>& faces, const MatchPolicy& policy) {
  IdentificationFigures r;
  std::map<std::string, std::vector<size_t>> enrollable_of;  // identity -> its enrollable faces
  for (size_t j = 0; j < faces.size(); ++j)
    if (faces[j].embedding && faces[j].enrollable) enrollable_of[faces[j].identity].push_back(j);
  for (const auto& [identity, js] : enrollable_of) r.gallery_faces += js.size();
  r.gallery_people = enrollable_of.size();
  for (size_t i = 0; i < faces.size(); ++i) {
    if (!faces[i].embedding) continue;
    const std::string& id = faces[i].identity;
    auto own = enrollable_of.find(id);
    size_t others_of_own = own == enrollable_of.end() ? 0 : own->second.size() - (faces[i].enrollable ? 1 : 0);
    if (others_of_own > 0) {
      ++r.genuine_searches;
      auto m = search_enrollable(faces, i, [](size_t) { return true; });
      bool right = m && m->person_id == id, recognised = m && is_recognised(*m, policy, faces[i].blur_variance, enrolled_sharpness(faces, *m));
      r.rank1_correct += right;
      r.identified += right && recognised;
      r.misidentified += !right && recognised;
      for (size_t only : own->second) {
        if (only == i) continue;
        ++r.one_photo_searches;
        auto one = search_enrollable(faces, i, [&](size_t j) { return faces[j].identity != id || j == only; });
        r.one_photo_identified +=
            one && one->person_id == id && is_recognised(*one, policy, faces[i].blur_variance, enrolled_sharpness(faces, *one));
      }
    }
    if (enrollable_of.size() - (own == enrollable_of.end() ? 0 : 1) > 0) {
      ++r.stranger_searches;
      auto m = search_enrollable(faces, i, [&](size_t j) { return faces[j].identity != id; });
      r.stranger_accepted += m && is_recognised(*m, policy, faces[i].blur_variance, enrolled_sharpness(faces, *m));
    }
  }
  return r;
}

std::vector<float> default_curve_thresholds() {
  std::vector<float> t;
  for (int i = 20; i <= 100; ++i) t.push_back(float(i) / 100.0f);  // dlib lives at 0.3-0.4, faceres at 0.75-0.9
  return t;
}

PairEvalReport evaluate_pairs(const std::vector<PairFace>& faces, const MatchPolicy& policy,
                              const std::vector<float>& curve_thresholds, int k_nearest) {
  PairEvalReport r;
  r.policy = policy;
  r.k_nearest = k_nearest;
  r.faces = faces.size();
  std::map<std::string, size_t> per_identity;
  std::vector<float> genuine, impostor;
  std::vector<JudgedPair> judged_genuine, judged_impostor, enrollable_genuine, enrollable_impostor;
  std::vector<ScoredPair> impostors, genuines;
  for (size_t i = 0; i < faces.size(); ++i) {
    if (!faces[i].embedding) {
      ++r.faces_without_face;
      r.without_face.push_back(faces[i].identity + " " + faces[i].label);
      continue;
    }
    ++per_identity[faces[i].identity];
    for (size_t j = i + 1; j < faces.size(); ++j) {
      if (!faces[j].embedding) continue;
      float d = vision::embedding_distance(*faces[i].embedding, *faces[j].embedding);
      bool same = faces[i].identity == faces[j].identity;
      (same ? genuine : impostor).push_back(d);
      JudgedPair judged{d, threshold_for(policy, std::min(faces[i].blur_variance, faces[j].blur_variance))};
      (same ? judged_genuine : judged_impostor).push_back(judged);
      if (faces[i].enrollable || faces[j].enrollable)
        (same ? enrollable_genuine : enrollable_impostor).push_back(judged);
      (same ? genuines : impostors)
          .push_back({faces[i].identity + " " + faces[i].label, faces[j].identity + " " + faces[j].label, d});
    }
  }
  r.identities = per_identity.size();
  r.genuine_pairs = genuine.size();
  r.impostor_pairs = impostor.size();
  r.at_policy = rates_at_policy(policy.max_distance, judged_genuine, judged_impostor);
  r.at_policy_enrollable = rates_at_policy(policy.max_distance, enrollable_genuine, enrollable_impostor);
  r.at_one_threshold = rates_at(policy.max_distance, genuine, impostor);
  for (float t : curve_thresholds) r.curve.push_back(rates_at(t, genuine, impostor));
  std::sort(impostors.begin(), impostors.end(), [](const auto& a, const auto& b) { return a.distance < b.distance; });
  std::sort(genuines.begin(), genuines.end(), [](const auto& a, const auto& b) { return a.distance > b.distance; });
  impostors.resize(std::min<size_t>(5, impostors.size()));
  genuines.resize(std::min<size_t>(5, genuines.size()));
  r.closest_impostors = impostors;
  r.farthest_genuine = genuines;

  for (size_t i = 0; i < faces.size(); ++i) {
    if (!faces[i].embedding) continue;
    const std::string& id = faces[i].identity;
    if (per_identity[id] >= 2 && per_identity.size() >= 2) {
      ++r.genuine_searches;
      Ranked all = rank_identities(faces, i, nullptr, k_nearest);
      if (all.best == id) {
        ++r.rank1_correct;
        if (accepted(all, policy, faces[i].blur_variance)) ++r.identified;
      }
    }
    if (per_identity.size() >= 2) {
      ++r.stranger_searches;
      if (accepted(rank_identities(faces, i, &id, k_nearest), policy, faces[i].blur_variance)) ++r.stranger_accepted;
    }
  }
  r.identification = identification_trials(faces, policy);
  return r;
}

nlohmann::json PairEvalReport::to_json() const {
  auto pairs = [](const std::vector<ScoredPair>& v) {
    auto a = nlohmann::json::array();
    for (const auto& p : v) a.push_back({{"a", p.a}, {"b", p.b}, {"distance", p.distance}});
    return a;
  };
  auto rate = [](size_t n, size_t of) { return of ? nlohmann::json(double(n) / double(of)) : nlohmann::json(nullptr); };
  auto rate_point = [](const RatePoint& p) {
    return nlohmann::json{{"threshold", p.threshold},
                          {"far", p.far},
                          {"frr", p.frr},
                          {"impostorAccepted", p.impostor_accepted},
                          {"genuineRejected", p.genuine_rejected}};
  };
  nlohmann::json policy_json = match_policy_json(policy);
  policy_json["kNearest"] = k_nearest;
  return {{"policy", policy_json},
          {"faces", faces},
          {"withoutFace", without_face},
          {"identities", identities},
          {"genuinePairs", genuine_pairs},
          {"impostorPairs", impostor_pairs},
          {"atThreshold", rate_point(at_policy)},
          {"atOneThresholdForAll", rate_point(at_one_threshold)},
          {"withAnEnrollableFace",
           {{"genuinePairs", at_policy_enrollable.genuine_pairs},
            {"impostorPairs", at_policy_enrollable.impostor_pairs},
            {"far", at_policy_enrollable.far},
            {"frr", at_policy_enrollable.frr},
            {"impostorAccepted", at_policy_enrollable.impostor_accepted},
            {"genuineRejected", at_policy_enrollable.genuine_rejected}}},
          {"leaveOneOut",
           {{"genuineSearches", genuine_searches},
            {"rank1Correct", rank1_correct},
            {"rank1", rate(rank1_correct, genuine_searches)},
            {"identified", identified},
            {"identificationRate", rate(identified, genuine_searches)},
            {"strangerSearches", stranger_searches},
            {"strangerAccepted", stranger_accepted},
            {"strangerFalseAcceptRate", rate(stranger_accepted, stranger_searches)}}},
          {"identification",
           {{"galleryFaces", identification.gallery_faces},
            {"galleryPeople", identification.gallery_people},
            {"genuineSearches", identification.genuine_searches},
            {"rank1Correct", identification.rank1_correct},
            {"identified", identification.identified},
            {"misidentified", identification.misidentified},
            {"onePhotoSearches", identification.one_photo_searches},
            {"onePhotoIdentified", identification.one_photo_identified},
            {"strangerSearches", identification.stranger_searches},
            {"strangerAccepted", identification.stranger_accepted},
            {"strangerFalseAcceptRate", rate(identification.stranger_accepted, identification.stranger_searches)}}},
          {"closestImpostors", pairs(closest_impostors)},
          {"farthestGenuine", pairs(farthest_genuine)}};
}

namespace {
std::string soft_text(const MatchPolicy& policy) {
  if (policy.soft_faces.empty()) return "the same for every face";
  std::ostringstream s;
  s << "blurred faces stricter: chip sharpness";
  for (const auto& step : policy.soft_faces)
    s << (&step == &policy.soft_faces.front() ? " < " : ", < ") << step.below_sharpness << ": "
      << std::min(step.max_distance, policy.max_distance);
  s << (policy.soft_enrolled_faces ? "; a search by the softer of the face and the enrolled face it matched"
                                   : "; a search by the face alone");
  return s.str();
}
}  // namespace

std::string PairEvalReport::text() const {
  std::ostringstream s;
  s << "faces: " << faces << " (" << identities << " identities)";
  if (faces_without_face) s << ", " << faces_without_face << " without a face (in no pair)";
  s << "\nmatch policy: distance <= " << policy.max_distance << " (" << soft_text(policy) << "), margin >= "
    << policy.min_margin;
  if (k_nearest > 1) s << ", distance to a person = mean of their " << k_nearest << " nearest";
  s << "\npairs: " << genuine_pairs << " genuine, " << impostor_pairs << " impostor\n"
    << "at the policy (a pair judged by its softer face): FAR " << percent(at_policy.far) << " ("
    << at_policy.impostor_accepted << " of " << impostor_pairs << " impostor pairs accepted), FRR "
    << percent(at_policy.frr) << " (" << at_policy.genuine_rejected << " of " << genuine_pairs
    << " genuine pairs rejected)\n";
  if (!policy.soft_faces.empty())
    s << "  one threshold " << at_one_threshold.threshold << " for all faces: FAR " << percent(at_one_threshold.far) << " ("
      << at_one_threshold.impostor_accepted << " of " << impostor_pairs << "), FRR " << percent(at_one_threshold.frr)
      << " (" << at_one_threshold.genuine_rejected << " of " << genuine_pairs << ")\n";
  s << "  pairs with an enrollable face (eyes >= 16 px apart, sharpness >= 20) on at least one side: FAR "
    << percent(at_policy_enrollable.far) << " (" << at_policy_enrollable.impostor_accepted << " of "
    << at_policy_enrollable.impostor_pairs << " impostor pairs), FRR " << percent(at_policy_enrollable.frr) << " ("
    << at_policy_enrollable.genuine_rejected << " of " << at_policy_enrollable.genuine_pairs << " genuine pairs)\n";
  if (impostor_pairs && impostor_pairs < 1000)
    s << "  (with " << impostor_pairs << " impostor pairs a FAR below " << percent(1.0 / double(impostor_pairs))
      << " cannot be resolved)\n";
  s << "leave-one-out search (judged as recognition judges, " << soft_text(policy) << "): rank-1 " << rank1_correct << "/" << genuine_searches << ", identified (right and accepted) "
    << identified << "/" << genuine_searches << "; strangers accepted " << stranger_accepted << "/" << stranger_searches
    << "\n";
  const auto& id = identification;
  s << "identification as recognition decides (gallery: the " << id.gallery_faces << " enrollable faces of "
    << id.gallery_people << " identities; nearest face, distance <= " << policy.max_distance << " ("
    << soft_text(policy) << ") and margin >= " << policy.min_margin << ", gallery isolation "
    << gallery_isolation_text(policy.gallery_isolation) << "): rank-1 " << id.rank1_correct << "/" << id.genuine_searches << ", identified "
    << id.identified << "/" << id.genuine_searches << ", misidentified " << id.misidentified << "/"
    << id.genuine_searches << "; enrolled with one photo: identified " << id.one_photo_identified << "/"
    << id.one_photo_searches << "; strangers accepted " << id.stranger_accepted << "/" << id.stranger_searches;
  if (id.stranger_searches) s << " (" << percent(double(id.stranger_accepted) / double(id.stranger_searches)) << ")";
  s << "\n";
  s << "closest impostor pairs:\n";
  for (const auto& p : closest_impostors) s << "  " << std::setprecision(3) << p.distance << "  " << p.a << "  vs  " << p.b << "\n";
  s << "farthest genuine pairs:\n";
  for (const auto& p : farthest_genuine) s << "  " << std::setprecision(3) << p.distance << "  " << p.a << "  vs  " << p.b << "\n";
  for (const auto& w : without_face) s << "no face: " << w << "\n";
  return s.str();
}

std::string PairEvalReport::curve_csv() const {
  std::ostringstream s;
  s << "threshold,far,frr,impostor_accepted,impostor_pairs,genuine_rejected,genuine_pairs\n";
  for (const auto& p : curve)
    s << std::fixed << std::setprecision(2) << p.threshold << std::setprecision(6) << "," << p.far << "," << p.frr << ","
      << p.impostor_accepted << "," << impostor_pairs << "," << p.genuine_rejected << "," << genuine_pairs << "\n";
  return s.str();
}

nlohmann::json pair_faces_json(const std::vector<PairFace>& faces) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : faces) {
    nlohmann::json points = nullptr, embedding = nullptr;
    if (f.landmarks) {
      points = nlohmann::json::array();
      for (const auto& p : *f.landmarks) points.push_back({p.x, p.y});
    }
    if (f.embedding) embedding = f.embedding->unit;
    nlohmann::json mirrored = nullptr;
    if (f.mirrored_embedding) mirrored = f.mirrored_embedding->unit;
    list.push_back({{"identity", f.identity},
                    {"label", f.label},
                    {"image", f.image.string()},
                    {"imageSize", {f.image_size.width, f.image_size.height}},
                    {"enrollable", f.enrollable},
                    {"eyes", f.interocular_px},
                    {"sharpness", f.blur_variance},
                    {"score", f.detection_score},
                    {"flipError", f.landmark_flip_error},
                    {"landmarks", points},
                    {"embedding", embedding},
                    {"embeddingMirrored", mirrored}});
  }
  return {{"faces", list}};
}

}  // namespace facecrowd
