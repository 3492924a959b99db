// Numbers in operator-facing messages and reports.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace facecrowd {

// `v` with exactly `decimals` digits after the point ("0.412", "17.5", "233").
inline std::string fixed_decimals(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// The shortest decimal that reads back as exactly `v` ("0.36", "0.845", "0.005", "20", "1"): a float setting
// shown this way is given back unchanged, where fixed decimals round it ("0.85") and a double conversion shows
// the float's binary error ("0.36000001430511475").
inline std::string shortest_decimal(float v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : fixed_decimals(v, 6);
}

// The noun for a count of `n`: `singular` for exactly one, else `plural` (empty: `singular` + "s", for a noun
// that just takes an "s"; give it for "entry", "entries"). The one place a count's noun is chosen, so that
// no summary says "1 oplog slices".
template <typename Count>
std::string noun_for(Count n, std::string_view singular, std::string_view plural = {}) {
  if (n == 1) return std::string(singular);
  return plural.empty() ? std::string(singular) + "s" : std::string(plural);
}

// `n` and its noun: "1 oplog slice", "2 oplog slices", "0 oplog slices".
template <typename Count>
std::string counted(Count n, std::string_view singular, std::string_view plural = {}) {
  return std::to_string(n) + " " + noun_for(n, singular, plural);
}

}  // namespace facecrowd
