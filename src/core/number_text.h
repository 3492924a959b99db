// Numbers in operator-facing messages and reports.
#pragma once

#include <cstdio>
#include <string>

namespace facecrowd {

// `v` with exactly `decimals` digits after the point ("0.412", "17.5", "233").
inline std::string fixed_decimals(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace facecrowd
