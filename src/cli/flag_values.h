// Small conversions the commands share: time flags in, record fields out.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/display_text.h"
#include "core/error.h"
#include "core/utc_time.h"

namespace facecrowd {

// nullopt for an empty flag; Error(kUsage) naming the flag when `text` is not ISO 8601.
inline std::optional<UnixMillis> time_flag(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto t = parse_iso8601(text);
  if (!t) {
    throw Error(ExitCode::kUsage, flag + " '" + text + "' is not an ISO 8601 time (e.g. 2026-03-02 or 2026-03-02T08:00:00Z)");
  }
  return t;
}

// A field of a relaxed Extended JSON record as one word for a table: "-" when absent, dates and ids unwrapped,
// control characters escaped (a stored name with ESC or a newline must not rewrite the operator's table).
inline std::string field_text(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return "-";
  if (it->is_string()) return for_terminal(it->get<std::string>());
  if (it->is_object() && it->contains("$date"))
    return (*it)["$date"].is_string() ? (*it)["$date"].get<std::string>() : (*it)["$date"].dump();
  if (it->is_object() && it->contains("$oid")) return (*it)["$oid"].get<std::string>();
  return it->dump();
}

}  // namespace facecrowd
