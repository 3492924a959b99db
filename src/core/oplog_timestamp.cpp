#include "core/oplog_timestamp.h"

#include <charconv>

namespace facecrowd {

std::string OplogTimestamp::to_string() const { return std::to_string(secs) + ":" + std::to_string(inc); }
std::string OplogTimestamp::to_file_part() const { return std::to_string(secs) + "-" + std::to_string(inc); }

OplogTimestamp OplogTimestamp::next(OplogTimestamp last, uint32_t now_secs) {
  if (now_secs > last.secs) return {now_secs, 1};
  return {last.secs, last.inc + 1};  // same second, or the clock went back: stay monotonic
}

std::optional<OplogTimestamp> parse_oplog_timestamp(const std::string& text) {
  auto sep = text.find_first_of(":-");
  if (sep == std::string::npos || sep == 0 || sep + 1 >= text.size()) return std::nullopt;
  OplogTimestamp ts;
  const char* b = text.data();
  auto r1 = std::from_chars(b, b + sep, ts.secs);
  auto r2 = std::from_chars(b + sep + 1, b + text.size(), ts.inc);
  if (r1.ec != std::errc() || r1.ptr != b + sep || r2.ec != std::errc() || r2.ptr != b + text.size())
    return std::nullopt;
  return ts;
}

}  // namespace facecrowd
