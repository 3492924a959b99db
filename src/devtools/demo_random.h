// A small, fast, seedable random generator (xoshiro256**, seeded by splitmix64) for demo data. Unlike the
// standard distributions, its output is the same on every platform and library, so `demo-data --seed N`
// produces the same documents everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace facecrowd {

class DemoRandom {
 public:
  explicit DemoRandom(uint64_t seed) {
    for (auto& s : state_) s = splitmix(seed);
  }
  // An independent stream for one part of the data ("attendances", "images"…), so changing one size
  // flag does not reshuffle the other collections.
  DemoRandom(uint64_t seed, std::string_view stream) : DemoRandom(seed ^ hash(stream)) {}

  uint64_t next() {
    uint64_t result = rotl(state_[1] * 5, 7) * 9;
    uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t below(int64_t n) { return n <= 0 ? 0 : int64_t(next() % uint64_t(n)); }  // [0, n)
  bool chance(double p) { return uniform() < p; }
  double normal() {  // Box-Muller
    double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1 + 1e-300)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  static uint64_t hash(std::string_view s) {  // FNV-1a
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) h = (h ^ uint8_t(c)) * 0x100000001b3ULL;
    return h;
  }
  uint64_t state_[4];
};

}  // namespace facecrowd
