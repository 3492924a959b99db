// Token buckets keyed by a string (a client address, a token's hash). Contract: each key may make
// `per_minute` requests a minute on average, and bursts of up to `burst`; take() answers 0 when the
// request may go ahead, else the seconds to wait (the HTTP 429's Retry-After). per_minute 0 turns the
// limiter off. Thread-safe; keys idle for 10 minutes are forgotten, so memory stays bounded by the clients
// seen recently.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace facecrowd {

class RateLimiter {
 public:
  RateLimiter(int per_minute, int burst) : per_minute_(per_minute), burst_(burst) {}
  int take(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  int per_minute_, burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::chrono::steady_clock::time_point last_sweep_;
};

}  // namespace facecrowd
