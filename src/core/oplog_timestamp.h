// The oplog position: MongoDB's Timestamp(secs, inc). Totally ordered; `inc` counts entries within a
// second. Written "secs:inc" on the command line and "secs-inc" in file names.
#pragma once

#include <cstdint>
#include <compare>
#include <optional>
#include <string>

namespace facecrowd {

struct OplogTimestamp {
  uint32_t secs = 0;
  uint32_t inc = 0;

  auto operator<=>(const OplogTimestamp&) const = default;
  bool is_null() const { return secs == 0 && inc == 0; }
  uint64_t packed() const { return (uint64_t{secs} << 32) | inc; }
  static OplogTimestamp from_packed(uint64_t v) { return {uint32_t(v >> 32), uint32_t(v)}; }

  std::string to_string() const;      // "1704240000:1"
  std::string to_file_part() const;   // "1704240000-1"

  // The next position after `last` at wall-clock second `now_secs`: never goes backwards.
  static OplogTimestamp next(OplogTimestamp last, uint32_t now_secs);
};

// Parses "secs:inc" or "secs-inc"; nullopt when malformed.
std::optional<OplogTimestamp> parse_oplog_timestamp(const std::string& text);

}  // namespace facecrowd
