// UTC wall-clock time as milliseconds since the Unix epoch (BSON's date), with ISO 8601 and archive-name
// formats. Nothing here uses the local time zone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace facecrowd {

using UnixMillis = int64_t;

UnixMillis now_millis();

// "2024-01-03T01:00:00.000Z"
std::string format_iso8601(UnixMillis t);
// "20240103_010000" (archive names)
std::string format_compact(UnixMillis t);

// Accepts "2024-01-03", "2024-01-03T01:00", "2024-01-03T01:00:00", optional ".sss" fraction and an
// optional "Z" or "+hh:mm"/"-hh:mm" offset (no offset means UTC). nullopt when malformed.
std::optional<UnixMillis> parse_iso8601(const std::string& text);
// Parses "20240103_010000"; nullopt when malformed.
std::optional<UnixMillis> parse_compact(const std::string& text);

// Durations such as "60s", "15m", "25h", "30d", "12mo" (30-day months), "2y" (365 days); a bare number is
// seconds. nullopt when malformed.
std::optional<int64_t> parse_duration_seconds(const std::string& text);

}  // namespace facecrowd
