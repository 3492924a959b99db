#include "devtools/eval_faces.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

#include "app/photo_input.h"
#include "core/error.h"
#include "vision/face_choice.h"
#include "vision/gallery.h"

namespace facecrowd {
namespace {

float distance(const vision::Embedding& a, const vision::Embedding& b) { return vision::embedding_distance(a, b); }

std::string percent(double v, int decimals = 1) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(decimals) << v * 100 << "%";
  return s.str();
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Equal error rate over all thresholds that are pair distances.
double equal_error_rate(const std::vector<float>& genuine, const std::vector<float>& impostor) {
  if (genuine.empty() || impostor.empty()) return 0;
  std::vector<float> thresholds(genuine);
  thresholds.insert(thresholds.end(), impostor.begin(), impostor.end());
  thresholds.push_back(2.01f);
  double best_gap = 2, eer = 0;
  for (float t : thresholds) {  // accept distance < t
    double far = double(std::count_if(impostor.begin(), impostor.end(), [&](float d) { return d < t; })) / double(impostor.size());
    double frr = double(std::count_if(genuine.begin(), genuine.end(), [&](float d) { return d >= t; })) / double(genuine.size());
    if (std::abs(far - frr) < best_gap) {
      best_gap = std::abs(far - frr);
      eer = (far + frr) / 2;
    }
  }
  return eer;
}

}  // namespace

std::vector<IdentityFolder> list_identities(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ExitCode::kNotFound, "identity folder '" + dir.string() + "' does not exist or is not a directory");
  std::vector<IdentityFolder> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory()) continue;
    IdentityFolder folder{entry.path().filename().string(), {}};
    for (const auto& f : fs::directory_iterator(entry.path()))
      if (f.is_regular_file() && has_image_extension(f.path())) folder.images.push_back(f.path());
    std::sort(folder.images.begin(), folder.images.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    if (!folder.images.empty()) out.push_back(std::move(folder));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.identity < b.identity; });
  if (out.empty())
    throw Error(ExitCode::kBadInput, "'" + dir.string() + "' holds no identity folder with images (expected " +
                                         dir.string() + "/<person>/<photo>.jpg)");
  return out;
}

EvalSets split_identities(const std::vector<IdentityFolder>& identities, int k) {
  if (k < 1) throw Error(ExitCode::kUsage, "--split " + std::to_string(k) + ": hold back at least 1 photo per identity");
  EvalSets sets;
  for (const auto& id : identities) {
    if (id.images.size() <= size_t(k)) {
      sets.unknown.push_back(id);
      continue;
    }
    auto cut = id.images.end() - k;
    sets.gallery.push_back({id.identity, {id.images.begin(), cut}});
    sets.probes.push_back({id.identity, {cut, id.images.end()}});
  }
  return sets;
}

FaceEvalInput embed_sets(vision::FacePipeline& pipeline, const EvalSets& sets,
                         const std::function<void(size_t, size_t)>& progress) {
  size_t total = 0, done = 0;
  for (const auto* group : {&sets.gallery, &sets.probes, &sets.unknown})
    for (const auto& id : *group) total += id.images.size();
  FaceEvalInput input;
  auto run = [&](const std::vector<IdentityFolder>& from, std::vector<LabelledFace>& to) {
    for (const auto& id : from)
      for (const auto& image : id.images) {
        auto faces = pipeline.analyse_file(image);
        LabelledFace face{id.identity, image, std::nullopt, int(faces.size())};
        if (auto main_face = vision::choose_face(faces)) {
          face.embedding = faces[*main_face].embedding;
          face.sharpness = faces[*main_face].quality.blur_variance;
        }
        to.push_back(std::move(face));
        if (progress) progress(++done, total);
      }
  };
  run(sets.gallery, input.gallery);
  run(sets.probes, input.probes);
  run(sets.unknown, input.unknown);
  return input;
}

VerificationPoint verification_at(std::vector<float> genuine, std::vector<float> impostor, double target_far) {
  VerificationPoint p;
  p.target_far = target_far;
  std::sort(impostor.begin(), impostor.end());
  const size_t n = impostor.size();
  p.meaningful = n > 0 && target_far * double(n) >= 1.0 - 1e-9;
  size_t allowed = size_t(std::floor(target_far * double(n) + 1e-9));
  p.threshold = allowed < n ? impostor[allowed] : 2.01f;  // accept distance < threshold
  if (n > 0)
    p.achieved_far = double(std::count_if(impostor.begin(), impostor.end(), [&](float d) { return d < p.threshold; })) / double(n);
  if (!genuine.empty())
    p.tar = double(std::count_if(genuine.begin(), genuine.end(), [&](float d) { return d < p.threshold; })) /
            double(genuine.size());
  return p;
}

FaceEvalReport evaluate_faces(const FaceEvalInput& input, const MatchPolicy& policy) {
  FaceEvalReport r;
  r.policy = policy;
  vision::Gallery gallery;
  std::map<std::string, std::vector<const vision::Embedding*>> enrolled;  // identity -> embeddings
  std::map<std::string, float> enrolled_sharpness;  // gallery embedding id (its image) -> its chip sharpness
  for (const auto& g : input.gallery) {
    ++r.gallery_images;
    if (!g.embedding) {
      ++r.gallery_without_face;
      continue;
    }
    gallery.add(g.identity, g.image.string(), g.embedding->unit);
    enrolled_sharpness[g.image.string()] = g.sharpness;
    enrolled[g.identity].push_back(&*g.embedding);
  }
  r.gallery_identities = enrolled.size();

  auto search = [&](const vision::Gallery& from, const LabelledFace& face, bool is_enrolled, bool loo) {
    ProbeOutcome o{face.identity, face.image, is_enrolled, face.embedding.has_value()};
    o.leave_one_out = loo;
    if (face.embedding)
      if (auto m = from.search(face.embedding->unit)) {
        o.predicted = m->person_id;
        o.distance = m->distance;
        o.margin = m->margin;
        auto e = enrolled_sharpness.find(m->embedding_id);
        o.accepted = is_recognised(*m, policy, face.sharpness, e == enrolled_sharpness.end() ? kUnknownSharpness : e->second);
      }
    return o;
  };

  // Closed-set identification and verification pairs: probes of enrolled identities.
  std::vector<float> genuine, impostor;
  std::vector<const LabelledFace*> unknown;
  for (const auto& p : input.probes) {
    if (!enrolled.count(p.identity)) {  // a probe folder of someone not enrolled is an unknown probe
      unknown.push_back(&p);
      continue;
    }
    ++r.probes;
    auto o = search(gallery, p, true, false);
    if (!o.face_found) ++r.probes_without_face;
    if (o.predicted == p.identity) {
      ++r.rank1_correct;
      if (o.accepted) ++r.open_set_correct;
    }
    r.outcomes.push_back(o);
    if (!p.embedding) continue;
    for (const auto& [identity, embeddings] : enrolled) {
      float best = 2.01f;
      for (const auto* e : embeddings) best = std::min(best, distance(*p.embedding, *e));
      (identity == p.identity ? genuine : impostor).push_back(best);
    }
  }
  if (r.probes) {
    r.rank1_accuracy = double(r.rank1_correct) / double(r.probes);
    r.open_set_identification = double(r.open_set_correct) / double(r.probes);
  }
  r.genuine_pairs = genuine.size();
  r.impostor_pairs = impostor.size();
  for (double far : {0.001, 0.01}) r.verification.push_back(verification_at(genuine, impostor, far));
  r.at_threshold = rates_at(policy.max_distance, genuine, impostor);
  r.equal_error_rate = equal_error_rate(genuine, impostor);

  // Unknown people: a photo with a face that the policy accepts as anyone is a false accept.
  for (const auto& u : input.unknown) unknown.push_back(&u);
  for (const auto* u : unknown) {
    auto o = search(gallery, *u, false, false);
    if (o.face_found) {
      ++r.unknown_probes;
      if (!o.accepted) ++r.unknown_rejected;
    }
    r.outcomes.push_back(o);
  }
  if (r.unknown_probes) r.unknown_rejection = double(r.unknown_rejected) / double(r.unknown_probes);

  // Leave one identity out: every photo (gallery and probe) of that identity against the others.
  if (enrolled.size() >= 2) {
    for (const auto& [identity, embeddings] : enrolled) {
      gallery.remove_person(identity);
      for (const auto* set : {&input.gallery, &input.probes})
        for (const auto& face : *set) {
          if (face.identity != identity || !face.embedding) continue;
          auto o = search(gallery, face, false, true);
          ++r.loo_probes;
          if (!o.accepted) ++r.loo_rejected;
          r.outcomes.push_back(o);
        }
      for (const auto& g : input.gallery)
        if (g.identity == identity && g.embedding) gallery.add(g.identity, g.image.string(), g.embedding->unit);
    }
    if (r.loo_probes) r.loo_unknown_rejection = double(r.loo_rejected) / double(r.loo_probes);
  }
  return r;
}

nlohmann::json FaceEvalReport::to_json() const {
  nlohmann::json ver = nlohmann::json::array();
  for (const auto& v : verification)
    ver.push_back({{"targetFar", v.target_far},
                   {"achievedFar", v.achieved_far},
                   {"tar", v.tar},
                   {"threshold", v.threshold},
                   {"meaningful", v.meaningful}});
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"policy", match_policy_json(policy)},
          {"gallery", {{"identities", gallery_identities}, {"images", gallery_images}, {"withoutFace", gallery_without_face}}},
          {"probes", {{"count", probes}, {"withoutFace", probes_without_face}}},
          {"rank1", {{"correct", rank1_correct}, {"accuracy", rank1_accuracy}}},
          {"openSetIdentification", {{"correctAndAccepted", open_set_correct}, {"rate", open_set_identification}}},
          {"verification",
           {{"genuinePairs", genuine_pairs},
            {"impostorPairs", impostor_pairs},
            {"smallestNonZeroFar", impostor_pairs ? 1.0 / double(impostor_pairs) : 0.0},
            {"equalErrorRate", equal_error_rate},
            {"atThreshold",
             {{"threshold", at_threshold.threshold},
              {"far", at_threshold.far},
              {"frr", at_threshold.frr},
              {"impostorAccepted", at_threshold.impostor_accepted},
              {"impostorPairs", at_threshold.impostor_pairs},
              {"genuineRejected", at_threshold.genuine_rejected},
              {"genuinePairs", at_threshold.genuine_pairs}}},
            {"points", ver}}},
          {"unknownRejection", {{"probes", unknown_probes}, {"rejected", unknown_rejected}, {"rate", opt(unknown_rejection)}}},
          {"leaveOneOutRejection", {{"probes", loo_probes}, {"rejected", loo_rejected}, {"rate", opt(loo_unknown_rejection)}}}};
}

std::string FaceEvalReport::text() const {
  std::ostringstream s;
  s << "gallery: " << gallery_identities << " identities, " << gallery_images << " photos"
    << (gallery_without_face ? " (" + std::to_string(gallery_without_face) + " without a face, not enrolled)" : "") << "\n"
    << "match policy: distance <= " << policy.max_distance << ", margin >= " << policy.min_margin
    << ", gallery isolation " << gallery_isolation_text(policy.gallery_isolation) << "\n"
    << "rank-1 identification: " << rank1_correct << "/" << probes << " = " << percent(rank1_accuracy)
    << (probes_without_face ? " (" + std::to_string(probes_without_face) + " probes without a face count as misses)" : "") << "\n"
    << "open-set identification (correct and accepted by the policy): " << open_set_correct << "/" << probes << " = "
    << percent(open_set_identification) << "\n"
    << "verification: " << genuine_pairs << " genuine, " << impostor_pairs << " impostor pairs; EER "
    << percent(equal_error_rate) << "\n"
    << "  at threshold " << at_threshold.threshold << " (in use): FAR " << percent(at_threshold.far, 2) << " ("
    << at_threshold.impostor_accepted << " of " << at_threshold.impostor_pairs << " impostor pairs accepted), FRR "
    << percent(at_threshold.frr, 2) << " (" << at_threshold.genuine_rejected << " of " << at_threshold.genuine_pairs
    << " genuine pairs rejected)";
  if (impostor_pairs && impostor_pairs < 1000)
    s << "; with " << impostor_pairs << " impostor pairs a FAR below " << percent(1.0 / double(impostor_pairs))
      << " cannot be resolved";
  s << "\n";
  for (const auto& v : verification) {
    s << "  TAR at FAR " << v.target_far * 100 << "%: " << percent(v.tar) << " (threshold " << std::setprecision(3)
      << v.threshold << ", achieved FAR " << percent(v.achieved_far) << ")";
    if (!v.meaningful)
      s << " — not meaningful: " << impostor_pairs << " impostor pairs, the smallest non-zero FAR is "
        << percent(impostor_pairs ? 1.0 / double(impostor_pairs) : 0) << "; this is TAR at FAR 0";
    s << "\n";
  }
  if (unknown_rejection)
    s << "unknown rejection: " << unknown_rejected << "/" << unknown_probes << " = " << percent(*unknown_rejection) << "\n";
  else
    s << "unknown rejection: no unknown probes (give --unknown DIR, or --split leaves folders with too few photos)\n";
  if (loo_unknown_rejection)
    s << "leave-one-identity-out rejection: " << loo_rejected << "/" << loo_probes << " = " << percent(*loo_unknown_rejection) << "\n";
  return s.str();
}

std::string FaceEvalReport::csv() const {
  std::ostringstream s;
  s << "kind,identity,image,face_found,predicted,distance,margin,accepted,correct\n";
  for (const auto& o : outcomes) {
    std::string kind = o.leave_one_out ? "leave_one_out" : o.enrolled ? "probe" : "unknown";
    bool correct = o.enrolled ? (o.predicted == o.identity && o.accepted) : !o.accepted;
    s << kind << "," << csv_field(o.identity) << "," << csv_field(o.image.string()) << "," << (o.face_found ? 1 : 0)
      << "," << csv_field(o.predicted) << "," << o.distance << "," << o.margin << "," << (o.accepted ? 1 : 0) << ","
      << (correct ? 1 : 0) << "\n";
  }
  return s.str();
}

}  // namespace facecrowd
