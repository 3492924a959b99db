// Test data: `n` pseudo-random bytes, the same for the same `seed` (file and object round trips, chunk and
// part boundaries; deterministic so that a failure reproduces).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace facecrowd {

inline std::string random_bytes(size_t n, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = char(rng());
  return s;
}

}  // namespace facecrowd
