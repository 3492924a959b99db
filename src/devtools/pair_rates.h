// FAR and FRR of a distance threshold over genuine (same person) and impostor (different people) pair
// distances, with the pair counts behind them; shared by both modes of `facecrowd eval faces`.
// Contract: a pair is accepted when distance <= threshold (app/faces/match_policy.h's distance rule);
//   FAR = impostor pairs accepted / impostor pairs,  FRR = genuine pairs rejected / genuine pairs;
//   a rate over no pairs is 0 (the counts say so).
#pragma once

#include <cstddef>
#include <vector>

namespace facecrowd {

struct RatePoint {
  float threshold = 0;
  size_t impostor_pairs = 0, genuine_pairs = 0;
  size_t impostor_accepted = 0, genuine_rejected = 0;
  double far = 0, frr = 0;
};

RatePoint rates_at(float threshold, const std::vector<float>& genuine, const std::vector<float>& impostor);

}  // namespace facecrowd
