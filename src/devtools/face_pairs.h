// The impostor-pair evaluation (`facecrowd eval faces --pairs SPLIT.json --set NAME`): every pair of faces
// of one set of a face split (devtools/face_split.h) is a genuine pair (same identity) or an impostor pair
// (different identities), and every face is searched leave-one-out against all the others.
// Contract:
//  - embed_split_faces() runs the production pipeline on each face: a photo's face is the one
//    choose_face() (vision/face_choice.h) picks; a boxed face is found in a crop around its box (twice the
//    box's size) and is the detected face nearest the box's centre, inside the box. No face: no embedding
//    (reported; such faces take part in no pair).
//  - evaluate_pairs(): at the policy (accept distance <= threshold_for(policy, the softer face's chip
//    sharpness): a blurred face is judged by its stricter threshold, app/faces/match_policy.h)
//      FAR = impostor pairs accepted / impostor pairs,  FRR = genuine pairs rejected / genuine pairs,
//    with the pair counts, over all pairs and over the pairs with an enrollable face on at least one side; the same for each threshold of `curve_thresholds` (the FAR/FRR curve). Then the
//    open-set figures with the full decision (app/faces/match_policy.h: distance, margin, k nearest; the
//    threshold by the softer of the probe and the matched person's faces the distance was taken over, as
//    recognition judges by the softer of the probe and the enrolled face it matched: soft_enrolled_faces):
//      rank-1: each face whose identity has other faces, searched among all other faces: top person right;
//      identified: right and accepted;
//      stranger false accepts: each face searched with its whole identity left out: accepted as anyone.
//    The closest impostor pairs and farthest genuine pairs are listed for diagnosis.
//  - identification as recognition decides (IdentificationFigures): the gallery holds only the enrollable
//    faces (enroll refuses the others), searched with vision::Gallery (nearest face, runner-up person) and
//    decided by is_recognised (threshold AND margin); strangers are every face with its identity left out.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "devtools/face_split.h"
#include "devtools/pair_rates.h"
#include "app/faces/match_policy.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct PairFace {
  std::string identity;
  std::string label;  // the image (and box) it came from
  std::optional<vision::Embedding> embedding;
  // enroll would accept it (app/faces/enrollment.h's default EnrollmentQuality: eye distance, sharpness).
  bool enrollable = false;
  // Where the face is: the image file, its 68 landmarks in pixels of the whole upright image (none without
  // a face) and that image's size; for measuring other embedding models on the very same faces.
  std::filesystem::path image;
  std::optional<vision::Landmarks68> landmarks;
  cv::Size image_size;
  // The face's quality as recognition sees it (vision/face_quality.h): eye distance in pixels of the original
  // image, chip sharpness (variance of the Laplacian; unknown: judged as sharp), detector score.
  float interocular_px = 0, blur_variance = kUnknownSharpness, detection_score = 0;
  // How far the landmark net's points on the mirrored face lie from its points (vision/face_quality.h;
  // turned heads and false faces score high), and dlib's embedding of the mirrored chip (none for faceres,
  // which aligns its own crop): for measuring decision rules (tools/measure_probe_rules.py).
  float landmark_flip_error = 0;
  std::optional<vision::Embedding> mirrored_embedding;
};

std::vector<PairFace> embed_split_faces(vision::FacePipeline& pipeline, const std::vector<SplitFace>& faces,
                                        const std::function<void(size_t, size_t)>& progress = {});

// The faces as JSON (`eval faces --pairs ... --faces-out FILE`): {"faces": [{identity, label, image,
// imageSize [w, h], enrollable, eyes, sharpness, score, flipError, landmarks [[x, y] x 68] | null,
// embedding [128 floats] | null, embeddingMirrored [128 floats] | null}]}: what
// tools/measure_face_models.py reads to embed the same faces with candidate models.
nlohmann::json pair_faces_json(const std::vector<PairFace>& faces);

struct ScoredPair {
  std::string a, b;
  float distance = 0;
};

// Open-set identification with recognition's own search and decision (issue 12: the margin acts on searches,
// not on pairs, so pair FAR/FRR cannot show it). The gallery is every enrollable face of the set.
struct IdentificationFigures {
  size_t gallery_faces = 0, gallery_people = 0;
  // Each face whose identity has another enrollable face, searched among all enrollable faces but itself:
  // top person right (rank-1), right and recognised (identified), someone else recognised (misidentified).
  size_t genuine_searches = 0, rank1_correct = 0, identified = 0, misidentified = 0;
  // The same probe with its person enrolled by one photo only (each other enrollable photo in turn).
  size_t one_photo_searches = 0, one_photo_identified = 0;
  // Each face searched with its whole identity left out of the gallery: recognised as anyone = false accept.
  size_t stranger_searches = 0, stranger_accepted = 0;
};

// `faces` searched as IdentificationFigures says, decided by `policy`.
IdentificationFigures identification_trials(const std::vector<PairFace>& faces, const MatchPolicy& policy);

struct PairEvalReport {
  MatchPolicy policy;
  int k_nearest = 1;
  size_t faces = 0, faces_without_face = 0, identities = 0;
  size_t genuine_pairs = 0, impostor_pairs = 0;
  // At the policy: a pair is accepted when its distance <= threshold_for(policy, the softer face's sharpness).
  RatePoint at_policy;
  RatePoint at_one_threshold;          // every pair at policy.max_distance (the policy without soft steps)
  // The same over the pairs with an enrollable face on at least one side: a stranger (any face) against a
  // face that could be in the gallery, as recognition compares them (enroll refuses the others).
  RatePoint at_policy_enrollable;
  std::vector<RatePoint> curve;
  size_t genuine_searches = 0, rank1_correct = 0, identified = 0;
  size_t stranger_searches = 0, stranger_accepted = 0;
  IdentificationFigures identification;
  std::vector<ScoredPair> closest_impostors, farthest_genuine;  // 5 each
  std::vector<std::string> without_face;

  nlohmann::json to_json() const;
  std::string text() const;
  std::string curve_csv() const;
};

// Thresholds 0.20, 0.21, ..., 1.00 (unit-vector distances: both models, dlib and faceres).
std::vector<float> default_curve_thresholds();

// `k_nearest`: the distance to an identity in the leave-one-out searches is the mean of its k nearest faces
// (fewer when it has fewer); 1 is the nearest face, as vision::Gallery searches.
PairEvalReport evaluate_pairs(const std::vector<PairFace>& faces, const MatchPolicy& policy,
                              const std::vector<float>& curve_thresholds = default_curve_thresholds(),
                              int k_nearest = 1);

}  // namespace facecrowd
