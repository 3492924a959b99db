#include "devtools/pair_rates.h"

#include <algorithm>

namespace facecrowd {

RatePoint rates_at(float threshold, const std::vector<float>& genuine, const std::vector<float>& impostor) {
  RatePoint p;
  p.threshold = threshold;
  p.impostor_pairs = impostor.size();
  p.genuine_pairs = genuine.size();
  p.impostor_accepted = size_t(std::count_if(impostor.begin(), impostor.end(), [&](float d) { return d <= threshold; }));
  p.genuine_rejected = size_t(std::count_if(genuine.begin(), genuine.end(), [&](float d) { return d > threshold; }));
  p.far = impostor.empty() ? 0 : double(p.impostor_accepted) / double(impostor.size());
  p.frr = genuine.empty() ? 0 : double(p.genuine_rejected) / double(genuine.size());
  return p;
}

}  // namespace facecrowd
