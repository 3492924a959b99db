// JSON request bodies, bounded before they are parsed (DESIGN invariant 7). Contract: parse_json_body()
// throws HttpError 400 "bad_json" naming the position when the text is not JSON, and 400 "too_deep" when
// arrays/objects nest deeper than `max_depth` — measured by a scan of the bytes first, so a hostile body
// never reaches the recursive parser.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace facecrowd {

// The deepest nesting of [ and { outside strings (0 for a scalar).
int json_nesting_depth(std::string_view text);

nlohmann::json parse_json_body(std::string_view text, int max_depth);

}  // namespace facecrowd
