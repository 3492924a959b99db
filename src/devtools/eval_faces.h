// `facecrowd eval faces`: how well recognition works on folders of identities (one folder per person,
// its photos inside), measured with the real pipeline (vision/face_pipeline.h), the real gallery search
// (vision/gallery.h) and the real match decision (app/faces/match_policy.h). Nothing is written to the store.
//
// Figures (every probe photo is one query; its main face — by score and size, vision/face_choice.h — counts):
//  - rank-1 identification accuracy: the gallery's top match is the probe's identity (closed set: probes
//    of enrolled identities; a photo where no face is found counts as a miss);
//  - open-set identification rate: top match correct AND accepted by the match policy (at the threshold for
//    the probe's chip sharpness);
//  - verification: every (known probe, gallery person) pair is scored by the distance to the person's
//    nearest gallery embedding; genuine pairs are the probe's own identity, impostor pairs the others.
//    TAR at FAR f uses the threshold that accepts at most floor(f * impostor pairs) impostor pairs (accept:
//    distance < threshold). With N impostor pairs the smallest non-zero FAR is 1/N; when f * N < 1 the
//    point is reported with meaningful = false and the FAR actually achieved (0);
//    and FAR and FRR over the same pairs at the threshold in use (policy.max_distance, accept distance <=
//    threshold: devtools/pair_rates.h), with the pair counts;
//  - unknown rejection: probes of people NOT in the gallery (--unknown folders, identities the split
//    left with too few photos) that the match policy rejects; and the same leave-one-identity-out: each
//    enrolled identity in turn is removed from the gallery and its probe photos searched.
//
// split_identities(): one folder of identities split deterministically — in each identity folder, with
// photos sorted by name, the last K are probes and the rest gallery; a folder with K or fewer photos
// becomes an unknown identity (all its photos are unknown probes).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/faces/match_policy.h"
#include "devtools/pair_rates.h"
#include "vision/face_embedder.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct IdentityFolder {
  std::string identity;          // the folder's name
  std::vector<fs::path> images;  // sorted by file name
};

// The identity folders of `dir` (sorted), each with its images (.jpg .jpeg .png .bmp .webp .tif .tiff,
// any case). Error(kNotFound) when `dir` is missing, kBadInput when it holds no identity folder with images.
std::vector<IdentityFolder> list_identities(const fs::path& dir);

struct EvalSets {
  std::vector<IdentityFolder> gallery, probes, unknown;
};
// Error(kUsage) when k < 1.
EvalSets split_identities(const std::vector<IdentityFolder>& identities, int k);

// One photo after the pipeline: the main face's embedding, or none when no face was found.
struct LabelledFace {
  std::string identity;
  fs::path image;
  std::optional<vision::Embedding> embedding;
  int faces_found = 0;
  // The main face's chip sharpness: the match policy's threshold depends on it (unknown: judged as sharp).
  float sharpness = kUnknownSharpness;
};

struct FaceEvalInput {
  std::vector<LabelledFace> gallery, probes, unknown;
};

// Runs the pipeline over every image of `sets`; `progress(done, total)` after each when set.
// An unreadable image is Error(kBadInput) naming it.
FaceEvalInput embed_sets(vision::FacePipeline& pipeline, const EvalSets& sets,
                         const std::function<void(size_t, size_t)>& progress = {});

struct VerificationPoint {
  double target_far = 0;
  double achieved_far = 0;     // impostor pairs accepted / impostor pairs
  double tar = 0;              // genuine pairs accepted / genuine pairs
  float threshold = 0;         // accept distance < threshold
  bool meaningful = false;     // target_far * impostor_pairs >= 1
};

struct ProbeOutcome {
  std::string identity;        // the truth ("" never)
  fs::path image;
  bool enrolled = false;       // the identity is in the gallery (false: an unknown probe)
  bool face_found = false;
  std::string predicted;       // top match ("" when no face or empty gallery)
  float distance = 0, margin = 0;
  bool accepted = false;       // by the match policy
  bool leave_one_out = false;  // searched with its own identity removed from the gallery
};

struct FaceEvalReport {
  MatchPolicy policy;
  size_t gallery_identities = 0, gallery_images = 0, gallery_without_face = 0;
  size_t probes = 0, probes_without_face = 0;
  size_t rank1_correct = 0;
  double rank1_accuracy = 0;
  size_t open_set_correct = 0;        // correct and accepted
  double open_set_identification = 0;
  size_t genuine_pairs = 0, impostor_pairs = 0;
  std::vector<VerificationPoint> verification;  // at FAR 0.001 and 0.01
  RatePoint at_threshold;             // FAR/FRR of these pairs at policy.max_distance
  double equal_error_rate = 0;        // where FAR = FRR (nearest pair threshold)
  size_t unknown_probes = 0, unknown_rejected = 0;
  std::optional<double> unknown_rejection;      // none when there were no unknown probes
  size_t loo_probes = 0, loo_rejected = 0;
  std::optional<double> loo_unknown_rejection;  // leave-one-identity-out
  std::vector<ProbeOutcome> outcomes;           // every probe, unknown and leave-one-out search

  nlohmann::json to_json() const;
  std::string text() const;   // the human report
  std::string csv() const;    // one row per outcome
};

// The figures above from already-embedded sets.
FaceEvalReport evaluate_faces(const FaceEvalInput& input, const MatchPolicy& policy);

// TAR at `target_far` from genuine and impostor distances (see the header comment).
VerificationPoint verification_at(std::vector<float> genuine, std::vector<float> impostor, double target_far);

}  // namespace facecrowd
