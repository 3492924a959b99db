#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace facecrowd {

int RateLimiter::take(const std::string& key) {
  if (per_minute_ <= 0) return 0;
  const auto now = std::chrono::steady_clock::now();
  const double per_second = per_minute_ / 60.0;
  std::lock_guard lock(mutex_);
  if (now - last_sweep_ > std::chrono::minutes(10)) {
    std::erase_if(buckets_, [&](const auto& kv) { return now - kv.second.last > std::chrono::minutes(10); });
    last_sweep_ = now;
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{double(burst_), now});
  Bucket& b = it->second;
  if (!fresh) {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min<double>(burst_, b.tokens + elapsed * per_second);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, int(std::ceil((1 - b.tokens) / per_second)));
}

}  // namespace facecrowd
